// The logging seam of the block and compaction code: one function; agent/log.ts' logfmt logger plugs in.
export type LogFn = (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export const nopLog: LogFn = () => {};
