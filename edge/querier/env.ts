// The querier's settings from a flat string map: a Worker's vars and secrets, or Deno's environment.
// Errors name the variable.
//
//   STORE_ENDPOINTS   comma/space/newline separated StoreAPI URLs (Connect/gRPC-Web), e.g. http://sidecar-a:10902
//   STORE_TOKENS      JSON object URL -> bearer token sent to that store (a secret)
//   STORE_PROTOCOL    connect (default) or grpc-web
//   REPLICA_LABELS    comma separated (--query.replica-label)
//   DEDUP_FUNC        penalty (default) or chain
//   QUERY_TOKEN       bearer token required by /api/* and the StoreAPI (a secret); empty = open
//   STORE_TIMEOUT     per-store call deadline, e.g. 30s (default none)
//   INFO_TTL          how long a store's Info is trusted, e.g. 30s
//   PARTIAL_RESPONSE  true (default) or false: the partial_response default
//   RULE_PARTIAL_RESPONSE  true (default) or false: the same for /api/v1/rules and /api/v1/alerts
//   LOOKBACK_DELTA, QUERY_TIMEOUT, MAX_SAMPLES   engine settings
//   MAX_CONCURRENT, MAX_QUEUED, MAX_CONCURRENT_SELECT   admission (--query.max-concurrent, --query.max-queued,
//                     --query.max-concurrent-select; per isolate on Workers)

import { CodedError } from "../../shared/encoding/errors.ts";
import { parseDuration } from "../../shared/promql/parser.ts";
import {
  defaultQuerierSettings, parseDedupFunc, parseProtocol, parseTokens, type QuerierSettings, splitList,
} from "../../shared/query/config.ts";

export type Env = Record<string, string | undefined>;

function set(env: Env, key: string): string | undefined {
  const v = env[key];
  return v === undefined || v === "" ? undefined : v;
}

function duration(env: Env, key: string): number | undefined {
  const v = set(env, key);
  if (v === undefined) return undefined;
  try {
    return parseDuration(v);
  } catch (e) {
    throw new CodedError("bad_data", `${key}: ${(e as Error).message}`);
  }
}

function count(env: Env, key: string): number | undefined {
  const v = set(env, key);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= 0)) throw new CodedError("bad_data", `${key} ${JSON.stringify(v)} is not a non-negative integer`);
  return n;
}

function bool(env: Env, key: string): boolean | undefined {
  const v = set(env, key);
  if (v === undefined) return undefined;
  if (v !== "true" && v !== "false") throw new CodedError("bad_data", `${key} ${JSON.stringify(v)}: want true or false`);
  return v === "true";
}

export function settingsFromEnv(env: Env): QuerierSettings {
  const s = defaultQuerierSettings();
  s.endpoints = splitList(env.STORE_ENDPOINTS);
  // Checked against the endpoints once flags (Deno) had their say: checkEndpointTokens.
  s.endpointTokens = parseTokens(env.STORE_TOKENS, "STORE_TOKENS");
  const protocol = set(env, "STORE_PROTOCOL");
  if (protocol !== undefined) s.protocol = parseProtocol(protocol, "STORE_PROTOCOL");
  s.replicaLabels = splitList(env.REPLICA_LABELS);
  const dedup = set(env, "DEDUP_FUNC");
  if (dedup !== undefined) s.dedupFunc = parseDedupFunc(dedup, "DEDUP_FUNC");
  s.partialResponse = bool(env, "PARTIAL_RESPONSE") ?? true;
  s.rulePartialResponse = bool(env, "RULE_PARTIAL_RESPONSE") ?? true;
  s.queryToken = set(env, "QUERY_TOKEN");
  s.storeTimeoutMs = duration(env, "STORE_TIMEOUT") ?? 0;
  s.infoTtlMs = duration(env, "INFO_TTL");
  s.lookbackDeltaMs = duration(env, "LOOKBACK_DELTA");
  s.queryTimeoutMs = duration(env, "QUERY_TIMEOUT");
  const max = set(env, "MAX_SAMPLES");
  if (max !== undefined) {
    const n = Number(max);
    if (!(Number.isInteger(n) && n > 0)) throw new CodedError("bad_data", `MAX_SAMPLES ${JSON.stringify(max)} is not a positive integer`);
    s.maxSamples = n;
  }
  s.maxConcurrent = count(env, "MAX_CONCURRENT");
  s.maxQueued = count(env, "MAX_QUEUED");
  s.maxConcurrentSelect = count(env, "MAX_CONCURRENT_SELECT");
  return s;
}
