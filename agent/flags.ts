// Thanos/kingpin-style flags: --name=value or --name value, repeatable flags, --flag / --no-flag for
// booleans. Unknown flags are an error naming the flag and the component.
import { PROGRAM } from "./program.ts";

export interface FlagSpec {
  name: string;
  help: string;
  default?: string;
  repeatable?: boolean;
  boolean?: boolean;
  required?: boolean;
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
    if (!a.startsWith("--")) { positionals.push(a); continue; }
    let name = a.slice(2), value: string | undefined;
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
    .map((s) => {
      const lhs = `  --${s.name}${s.boolean ? "" : "=VALUE"}`;
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
