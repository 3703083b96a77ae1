// Command-line flags of the edge entries (Deno), mapped onto the env names of config.ts so flags and
// environment configure the same thing. Flags win over the environment. Runtime-free.
import { CodedError } from "../../shared/encoding/errors.ts";
import type { Env } from "../../shared/query/config.ts";

const FLAGS: Record<string, { env: string; repeatable?: boolean }> = {
  "endpoint": { env: "STORE_ENDPOINTS", repeatable: true },
  "endpoint.protocol": { env: "STORE_PROTOCOL" },
  "query.replica-label": { env: "REPLICA_LABELS", repeatable: true },
  "deduplication.func": { env: "DEDUP_FUNC" },
  "store.response-timeout": { env: "STORE_TIMEOUT" },
  "store.info-ttl": { env: "INFO_TTL" },
  "query.lookback-delta": { env: "LOOKBACK_DELTA" },
  "query.timeout": { env: "QUERY_TIMEOUT" },
  "query.max-samples": { env: "MAX_SAMPLES" },
  "query.partial-response": { env: "PARTIAL_RESPONSE" },
  "http-address": { env: "HTTP_ADDRESS" },
};

export const FLAG_NAMES = Object.keys(FLAGS);

/** `--name value` / `--name=value` flags over a copy of `env`. */
export function envWithFlags(env: Env, argv: readonly string[]): Env {
  const out: Env = { ...env };
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) throw new CodedError("bad_data", `querier: unexpected argument ${JSON.stringify(a)} (flags: ${FLAG_NAMES.map((f) => "--" + f).join(", ")})`);
    let name = a.slice(2), value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
    if (name === "no-query.partial-response") { out.PARTIAL_RESPONSE = "false"; continue; }
    const spec = FLAGS[name];
    if (!spec) throw new CodedError("bad_data", `querier: unknown flag --${name} (flags: ${FLAG_NAMES.map((f) => "--" + f).join(", ")})`);
    if (value === undefined) {
      if (name === "query.partial-response") { out.PARTIAL_RESPONSE = "true"; continue; }
      if (i + 1 >= argv.length) throw new CodedError("bad_data", `querier: flag --${name} needs a value`);
      value = argv[++i]!;
    }
    if (spec.repeatable && seen.has(name)) out[spec.env] = `${out[spec.env]},${value}`;
    else if (seen.has(name)) throw new CodedError("bad_data", `querier: flag --${name} given more than once`);
    else out[spec.env] = value;
    seen.add(name);
  }
  return out;
}

/** host:port (port 0 = any free one). */
export function parseHostPort(v: string): { hostname: string; port: number } {
  const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new CodedError("bad_data", `querier: listen address ${JSON.stringify(v)} is not host:port`);
  return { hostname: m[1]!.replace(/^\[|\]$/g, "") || "0.0.0.0", port: Number(m[2]) };
}
