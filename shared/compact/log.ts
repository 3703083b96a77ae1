// The core's logging seam: one function; agent/log.ts' logfmt logger plugs in (as for the store gateway).
export type LogFn = (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export const nopLog: LogFn = () => {};
