// Command-line flags of the Deno querier, parsed over the settings from the environment (flags win).
// The flag names are `agent query`'s (Thanos'); errors name the flag. Runtime-free.
import { CodedError } from "../../shared/encoding/errors.ts";
import { parseDuration } from "../../shared/promql/parser.ts";
import { checkEndpointTokens, parseDedupFunc, parseProtocol, type QuerierSettings } from "../../shared/query/config.ts";

export const FLAG_NAMES = [
  "endpoint", "endpoint.protocol", "query.replica-label", "deduplication.func", "store.response-timeout", "store.info-ttl",
  "query.lookback-delta", "query.timeout", "query.max-samples", "query.partial-response", "rule.partial-response", "http-address",
  "query.max-concurrent", "query.max-queued", "query.max-concurrent-select",
];
const REPEATABLE = new Set(["endpoint", "query.replica-label"]);

function fail(msg: string): never {
  throw new CodedError("bad_data", `querier: ${msg}`);
}

function duration(flag: string, v: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    fail(`--${flag}: ${(e as Error).message}`);
  }
}

function count(flag: string, v: string): number {
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 0)) fail(`--${flag}: ${JSON.stringify(v)} is not a non-negative integer`);
  return n;
}

/** `--name value` / `--name=value` flags over `base` (a copy is returned), and the listen address. */
export function settingsWithFlags(base: QuerierSettings, argv: readonly string[], httpAddress = "0.0.0.0:10902"): { settings: QuerierSettings; httpAddress: string } {
  const s: QuerierSettings = { ...base, endpoints: [...base.endpoints], replicaLabels: [...base.replicaLabels] };
  const seen = new Set<string>();
  const list = FLAG_NAMES.map((f) => "--" + f).join(", ");
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith("--")) fail(`unexpected argument ${JSON.stringify(a)} (flags: ${list})`);
    let name = a.slice(2), value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
    if (name === "no-query.partial-response") { s.partialResponse = false; continue; }
    if (name === "no-rule.partial-response") { s.rulePartialResponse = false; continue; }
    if (!FLAG_NAMES.includes(name)) fail(`unknown flag --${name} (flags: ${list})`);
    if (name === "query.partial-response" && value === undefined) { s.partialResponse = true; continue; }
    if (name === "rule.partial-response" && value === undefined) { s.rulePartialResponse = true; continue; }
    if (value === undefined) {
      if (i + 1 >= argv.length) fail(`flag --${name} needs a value`);
      value = argv[++i]!;
    }
    const first = !seen.has(name);
    if (!first && !REPEATABLE.has(name)) fail(`flag --${name} given more than once`);
    seen.add(name);
    switch (name) {
      // Repeatable flags replace what the environment said, then add up.
      case "endpoint": s.endpoints = first ? [value] : [...s.endpoints, value]; break;
      case "query.replica-label": s.replicaLabels = first ? [value] : [...s.replicaLabels, value]; break;
      case "endpoint.protocol": s.protocol = parseProtocol(value, "--endpoint.protocol"); break;
      case "deduplication.func": s.dedupFunc = parseDedupFunc(value, "--deduplication.func"); break;
      case "store.response-timeout": s.storeTimeoutMs = duration(name, value); break;
      case "store.info-ttl": s.infoTtlMs = duration(name, value); break;
      case "query.lookback-delta": s.lookbackDeltaMs = duration(name, value); break;
      case "query.timeout": s.queryTimeoutMs = duration(name, value); break;
      case "query.max-samples": {
        const n = Number(value);
        if (!(Number.isInteger(n) && n > 0)) fail(`--query.max-samples: ${JSON.stringify(value)} is not a positive integer`);
        s.maxSamples = n;
        break;
      }
      case "query.partial-response":
        if (value !== "true" && value !== "false") fail(`--query.partial-response: ${JSON.stringify(value)}: want true or false`);
        s.partialResponse = value === "true";
        break;
      case "rule.partial-response":
        if (value !== "true" && value !== "false") fail(`--rule.partial-response: ${JSON.stringify(value)}: want true or false`);
        s.rulePartialResponse = value === "true";
        break;
      case "http-address": httpAddress = value; break;
      case "query.max-concurrent": s.maxConcurrent = count(name, value); break;
      case "query.max-queued": s.maxQueued = count(name, value); break;
      case "query.max-concurrent-select": s.maxConcurrentSelect = count(name, value); break;
    }
  }
  checkEndpointTokens(s, "STORE_TOKENS", seen.has("endpoint") ? "the --endpoint flags" : "STORE_ENDPOINTS");
  return { settings: s, httpAddress };
}

/** host:port (port 0 = any free one). */
export function parseHostPort(v: string): { hostname: string; port: number } {
  const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new CodedError("bad_data", `querier: listen address ${JSON.stringify(v)} is not host:port`);
  return { hostname: m[1]!.replace(/^\[|\]$/g, "") || "0.0.0.0", port: Number(m[2]) };
}
