// logfmt logger, one line per event: `ts=… level=info component=sidecar msg="…" key=value`.
// Same shape as go-kit/log lines from Go Thanos, so the same grep/Loki queries work on both.
//
//   const log = newLogger({ level: "info" }).with({ component: "sidecar" });
//   log.info("uploaded block", { block: ulid, bytes: n });

export type Level = "debug" | "info" | "warn" | "error";

const RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type LogValue = string | number | boolean | bigint | null | undefined | Error | Date | object;

export interface Logger {
  debug(msg: string, kv?: Record<string, LogValue>): void;
  info(msg: string, kv?: Record<string, LogValue>): void;
  warn(msg: string, kv?: Record<string, LogValue>): void;
  error(msg: string, kv?: Record<string, LogValue>): void;
  /** A child logger that adds these key/values to every line. */
  with(kv: Record<string, LogValue>): Logger;
  enabled(level: Level): boolean;
}

export interface LoggerOptions {
  level?: Level;
  /** Where lines go (without the trailing newline); stderr by default. */
  write?: (line: string) => void;
  /** Clock, for tests. */
  now?: () => Date;
}

export function parseLevel(s: string): Level {
  if (s === "debug" || s === "info" || s === "warn" || s === "error") return s;
  throw Object.assign(new Error(`log level ${JSON.stringify(s)} is not one of debug, info, warn, error`), { code: "bad_data" });
}

/** logfmt value: bare when it has no space, quote, '=' or control char; Go-quoted otherwise. */
export function logfmtValue(v: LogValue): string {
  let s: string;
  if (v === null || v === undefined) s = "null";
  else if (v instanceof Error) s = v.message;
  else if (v instanceof Date) s = v.toISOString();
  else if (typeof v === "object") {
    try { s = JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)); } catch { s = String(v); }
  } else s = String(v);
  if (s !== "" && !/[\s"=\\\x00-\x1f\x7f]/.test(s)) return s;
  return JSON.stringify(s);
}

function keyOk(k: string): string {
  // A key with a space or '=' would make the line unparseable; keep it readable instead.
  return /^[^\s="]+$/.test(k) ? k : k.replace(/[\s="]/g, "_") || "_";
}

class LogfmtLogger implements Logger {
  constructor(
    private readonly min: number,
    private readonly prefix: string,
    private readonly write: (line: string) => void,
    private readonly now: () => Date,
  ) {}

  enabled(level: Level): boolean { return RANK[level] >= this.min; }

  private log(level: Level, msg: string, kv?: Record<string, LogValue>): void {
    if (RANK[level] < this.min) return;
    let line = `ts=${this.now().toISOString()} level=${level}${this.prefix} msg=${logfmtValue(msg)}`;
    if (kv) for (const k in kv) line += ` ${keyOk(k)}=${logfmtValue(kv[k])}`;
    try { this.write(line); } catch { /* a closed stderr must not take the process down */ }
  }

  debug(msg: string, kv?: Record<string, LogValue>): void { this.log("debug", msg, kv); }
  info(msg: string, kv?: Record<string, LogValue>): void { this.log("info", msg, kv); }
  warn(msg: string, kv?: Record<string, LogValue>): void { this.log("warn", msg, kv); }
  error(msg: string, kv?: Record<string, LogValue>): void { this.log("error", msg, kv); }

  with(kv: Record<string, LogValue>): Logger {
    let p = this.prefix;
    for (const k in kv) p += ` ${keyOk(k)}=${logfmtValue(kv[k])}`;
    return new LogfmtLogger(this.min, p, this.write, this.now);
  }
}

export function newLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => { process.stderr.write(line + "\n"); });
  return new LogfmtLogger(RANK[opts.level ?? "info"], "", write, opts.now ?? (() => new Date()));
}

/** Discards everything (tests, libraries called without a logger). */
export const nopLogger: Logger = newLogger({ level: "error", write: () => {} }).with({});
