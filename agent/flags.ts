// Thanos/kingpin-style flags: --name=value or --name value, repeatable flags, --flag / --no-flag for
// booleans. Unknown flags are an error naming the flag and the component.
import { readFile } from "node:fs/promises";
import { PROGRAM } from "./program.ts";

export interface FlagSpec {
  name: string;
  help: string;
  default?: string;
  repeatable?: boolean;
  boolean?: boolean;
  required?: boolean;
  /** A one-letter short form ("w" for -w), as kingpin's Short(). */
  short?: string;
  /** Accepted but left out of --help (Thanos' hidden flags). */
  hidden?: boolean;
}

export interface ParsedFlags {
  get(name: string): string | undefined;
  all(name: string): string[];
  bool(name: string): boolean;
  positionals: string[];
}

export class FlagError extends Error {
  readonly code = "bad_data";
}

export function parseFlags(component: string, specs: FlagSpec[], argv: string[]): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") { positionals.push(...argv.slice(i + 1)); break; }
    let name: string, value: string | undefined;
    if (/^-[a-zA-Z](=.*)?$/.test(a)) {
      const sp = specs.find((x) => x.short === a[1]);
      if (!sp) throw new FlagError(`${component}: unknown short flag ${a.slice(0, 2)} (see --help)`);
      name = sp.name + a.slice(2);
    } else if (!a.startsWith("--")) { positionals.push(a); continue; }
    else name = a.slice(2);
    const eq = name.indexOf("=");
    if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
    let spec = byName.get(name);
    if (!spec && name.startsWith("no-") && byName.get(name.slice(3))?.boolean) {
      spec = byName.get(name.slice(3))!;
      name = spec.name;
      value = "false";
    }
    if (!spec) throw new FlagError(`${component}: unknown flag --${name} (see ${PROGRAM} ${component} --help)`);
    if (spec.boolean) value ??= "true";
    else if (value === undefined) {
      if (i + 1 >= argv.length) throw new FlagError(`${component}: flag --${name} needs a value`);
      value = argv[++i]!;
    }
    const list = values.get(name) ?? [];
    if (list.length > 0 && !spec.repeatable) throw new FlagError(`${component}: flag --${name} given more than once`);
    list.push(value);
    values.set(name, list);
  }
  for (const s of specs) {
    if (s.required && !values.has(s.name)) throw new FlagError(`${component}: required flag --${s.name} not given`);
  }
  return {
    get: (n) => values.get(n)?.at(-1) ?? byName.get(n)?.default,
    all: (n) => values.get(n) ?? (byName.get(n)?.default !== undefined ? [byName.get(n)!.default!] : []),
    bool: (n) => (values.get(n)?.at(-1) ?? byName.get(n)?.default ?? "false") === "true",
    positionals,
  };
}

export function flagsHelp(specs: FlagSpec[]): string {
  return specs
    .filter((s) => !s.hidden)
    .map((s) => {
      const lhs = `  ${s.short ? `-${s.short}, ` : ""}--${s.name}${s.boolean ? "" : "=VALUE"}`;
      const extra = [s.default !== undefined ? `default ${JSON.stringify(s.default)}` : "", s.repeatable ? "repeatable" : "", s.required ? "required" : ""]
        .filter(Boolean).join(", ");
      return `${lhs.padEnd(44)} ${s.help}${extra ? ` (${extra})` : ""}`;
    })
    .join("\n");
}

/** Parse "host:port" (Thanos --grpc-address / --http-address). */
export function parseAddress(flag: string, v: string): { hostname: string; port: number } {
  const i = v.lastIndexOf(":");
  const port = Number(v.slice(i + 1));
  if (i < 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new FlagError(`--${flag}: ${JSON.stringify(v)} is not host:port`);
  }
  const host = v.slice(0, i).replace(/^\[|\]$/g, "");
  return { hostname: host === "" ? "0.0.0.0" : host, port };
}

/** Thanos' extflag.PathOrContent: the content of `--<name>-file`, or `--<name>` itself, or "" (both: an error). */
export async function pathOrContent(f: ParsedFlags, name: string): Promise<{ text: string; what: string }> {
  const file = f.get(`${name}-file`), text = f.get(name);
  if (file && text) throw new FlagError(`both --${name}-file and --${name} are set`);
  if (file) {
    try {
      return { text: await readFile(file, "utf8"), what: file };
    } catch (e) {
      throw new FlagError(`--${name}-file: read ${file}: ${(e as Error).message}`);
    }
  }
  return { text: text ?? "", what: `--${name}` };
}


/**
 * The bearer token a server requires, from `--<flag>` (a file) or else the environment variable `env`;
 * undefined when neither is set (no auth). Every component reads its token file through this one
 * function, so they agree: the file's content trimmed, and an unreadable, empty or whitespace-only file
 * is a startup error naming the flag and the file (an empty token would otherwise mean "no auth", the
 * opposite of what the operator asked for). An empty environment variable counts as unset.
 */
export async function bearerToken(flag: string, file: string | undefined, env: string): Promise<string | undefined> {
  if (file === undefined || file === "") {
    const v = process.env[env]?.trim();
    return v ? v : undefined;
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new FlagError(`--${flag}: read ${file}: ${(e as Error).message}`);
  }
  const token = text.trim();
  if (token === "") throw new FlagError(`--${flag}: ${file} is empty (a bearer token file must hold the token)`);
  return token;
}
/**
 * Every flag with its value as a string (booleans "true"/"false"), as Thanos' /api/v1/status/flags
 * serves them; `hide` flags (secrets such as an inline objstore config) are shown as "<hidden>".
 */
export function flagsMap(specs: FlagSpec[], f: ParsedFlags, hide: readonly string[] = ["objstore.config", "objstore-backup.config"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    if (s.name === "help") continue;
    const v = s.boolean ? String(f.bool(s.name)) : s.repeatable ? f.all(s.name).join(",") : f.get(s.name) ?? "";
    out[s.name] = hide.includes(s.name) && v !== "" ? "<hidden>" : v;
  }
  return out;
}

/** Go/Prometheus durations: 1y2w3d4h5m6s7ms, optionally negative; returns ms. */
export function parseDurationMs(flag: string, s: string): number {
  const m = /^(-)?((?:\d+(?:y|w|d|h|ms|m|s))+)$/.exec(s);
  if (!m) throw new FlagError(`--${flag}: ${JSON.stringify(s)} is not a duration such as 30s, 5m or 2h45m`);
  const unit: Record<string, number> = { y: 365 * 86400e3, w: 7 * 86400e3, d: 86400e3, h: 3600e3, m: 60e3, s: 1e3, ms: 1 };
  let total = 0;
  for (const p of m[2]!.matchAll(/(\d+)(y|w|d|h|ms|m|s)/g)) total += Number(p[1]) * unit[p[2]!]!;
  return m[1] ? -total : total;
}

/** Thanos' --min-time: RFC3339, or a duration relative to now (negative = in the past). */
export function parseTimeOrDuration(flag: string, s: string, now = Date.now()): number {
  if (/^-?\d/.test(s) && !/^\d{4}-/.test(s)) return now + parseDurationMs(flag, s);
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) throw new FlagError(`--${flag}: ${JSON.stringify(s)} is neither an RFC3339 time nor a duration like -2d`);
  // Date.UTC maps years 0-99 to 1900-1999; set the year explicitly so Thanos' default year 0 works.
  const d = new Date(Date.UTC(2000, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  d.setUTCFullYear(Number(m[1]));
  let t = d.getTime() + (m[7] ? Math.round(Number(m[7]) * 1000) : 0);
  if (m[8] !== "Z") {
    const sign = m[8]![0] === "-" ? -1 : 1;
    const [hh, mm] = m[8]!.slice(1).split(":").map(Number);
    t -= sign * (hh! * 60 + mm!) * 60e3;
  }
  return t;
}

/** Sizes as Thanos writes them: 250MB, 64KiB, 1GiB (decimal and binary units). */
export function parseBytes(flag: string, s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i.exec(s.trim());
  if (!m) throw new FlagError(`--${flag}: ${JSON.stringify(s)} is not a size such as 250MB`);
  const unit = (m[2] ?? "B").toLowerCase();
  const mul: Record<string, number> = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1 << 20, gb: 1e9, gib: 1 << 30 };
  return Math.floor(Number(m[1]) * mul[unit]!);
}

export function nonNegInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new FlagError(`--${flag}: ${JSON.stringify(v)} is not a non-negative integer`);
  return n;
}
