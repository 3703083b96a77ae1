// Thanos/kingpin-style flags: --name=value or --name value, repeatable flags, --flag / --no-flag for
// booleans. Unknown flags are an error naming the flag and the component.
import { readFile } from "node:fs/promises";

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
    if (!spec) throw new FlagError(`${component}: unknown flag --${name} (see --help)`);
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
