// The querier's configuration from a flat string map: Worker vars/secrets, Deno's environment, or
// flags turned into the same names. One parser, so every runtime reads the same settings the same way.
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
//   LOOKBACK_DELTA, QUERY_TIMEOUT, MAX_SAMPLES   engine settings

import { CodedError } from "../encoding/errors.ts";
import type { DedupAlgorithm } from "../dedup/dedup.ts";
import { parseDuration } from "../promql/parser.ts";
import { ProxyStore, type ProxyOptions } from "./proxy.ts";
import type { StoreEndpoint } from "./store.ts";
import type { FetchFn } from "../rpc/client.ts";
import type { QuerierAppOptions } from "./app.ts";
import { remoteStore } from "./remote.ts";

export type Env = Record<string, string | undefined>;

export function splitList(v: string | undefined): string[] {
  return (v ?? "").split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== "");
}

export function parseTokens(v: string | undefined, what = "STORE_TOKENS"): Record<string, string> {
  if (v === undefined || v.trim() === "") return {};
  let o: unknown;
  try {
    o = JSON.parse(v);
  } catch (e) {
    throw new CodedError("bad_data", `${what}: not JSON (want {"<endpoint URL>": "<token>"}): ${(e as Error).message}`);
  }
  if (typeof o !== "object" || o === null || Array.isArray(o) || Object.values(o).some((t) => typeof t !== "string")) {
    throw new CodedError("bad_data", `${what}: want a JSON object of endpoint URL -> token string`);
  }
  return o as Record<string, string>;
}

function duration(env: Env, key: string): number | undefined {
  const v = env[key];
  if (v === undefined || v === "") return undefined;
  try {
    return parseDuration(v);
  } catch (e) {
    throw new CodedError("bad_data", `${key}: ${(e as Error).message}`);
  }
}

function dedupFunc(v: string | undefined): DedupAlgorithm {
  if (v === undefined || v === "" || v === "penalty") return "penalty";
  if (v === "chain") return "chain";
  throw new CodedError("bad_data", `deduplication func ${JSON.stringify(v)}: want penalty or chain`);
}

export interface EnvConfig {
  endpoints: StoreEndpoint[];
  proxy: ProxyStore;
  app: Omit<QuerierAppOptions, "proxy">;
}

/** Build the stores and app options from an env map; `fetch` overrides the global one (tests, bindings). */
export function configFromEnv(env: Env, opts: { fetch?: FetchFn; extraStores?: StoreEndpoint[]; proxyOptions?: ProxyOptions } = {}): EnvConfig {
  const tokens = parseTokens(env.STORE_TOKENS);
  const protocol = env.STORE_PROTOCOL === "grpc-web" ? "grpc-web" : env.STORE_PROTOCOL === undefined || env.STORE_PROTOCOL === "" || env.STORE_PROTOCOL === "connect" ? "connect" : (() => { throw new CodedError("bad_data", `STORE_PROTOCOL ${JSON.stringify(env.STORE_PROTOCOL)}: want connect or grpc-web`); })();
  const urls = splitList(env.STORE_ENDPOINTS);
  for (const u of Object.keys(tokens)) {
    if (!urls.includes(u)) throw new CodedError("bad_data", `STORE_TOKENS names ${JSON.stringify(u)}, which is not one of STORE_ENDPOINTS`);
  }
  const endpoints = [
    ...(opts.extraStores ?? []),
    ...urls.map((u) => remoteStore(u, { token: tokens[u], protocol, fetch: opts.fetch })),
  ];
  const storeTimeoutMs = duration(env, "STORE_TIMEOUT") ?? 0;
  const proxy = new ProxyStore(endpoints, { storeTimeoutMs, infoTtlMs: duration(env, "INFO_TTL"), ...opts.proxyOptions });
  const maxSamples = env.MAX_SAMPLES ? Number(env.MAX_SAMPLES) : undefined;
  if (maxSamples !== undefined && !(Number.isInteger(maxSamples) && maxSamples > 0)) throw new CodedError("bad_data", `MAX_SAMPLES ${JSON.stringify(env.MAX_SAMPLES)} is not a positive integer`);
  const pr = env.PARTIAL_RESPONSE;
  if (pr !== undefined && pr !== "" && pr !== "true" && pr !== "false") throw new CodedError("bad_data", `PARTIAL_RESPONSE ${JSON.stringify(pr)}: want true or false`);
  return {
    endpoints,
    proxy,
    app: {
      replicaLabels: splitList(env.REPLICA_LABELS),
      dedupFunc: dedupFunc(env.DEDUP_FUNC),
      partialResponseDefault: pr !== "false",
      token: env.QUERY_TOKEN || undefined,
      engineOptions: { lookbackDelta: duration(env, "LOOKBACK_DELTA"), timeoutMs: duration(env, "QUERY_TIMEOUT"), maxSamples },
    },
  };
}
