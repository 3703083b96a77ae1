// The querier's settings as one object, whatever they come from: `agent query` flags
// (agent/query/main.ts), Deno flags (edge/querier/flags.ts), Worker vars and the environment
// (edge/querier/env.ts). Each source parses into QuerierSettings with its own names in its errors;
// buildQuerier turns the settings into the fan-out and the app options, the same for every runtime.

import { CodedError } from "../encoding/errors.ts";
import type { DedupAlgorithm } from "../dedup/dedup.ts";
import { ProxyStore } from "./proxy.ts";
import type { StoreEndpoint } from "./store.ts";
import type { FetchFn } from "../rpc/client.ts";
import type { QuerierAppOptions } from "./app.ts";
import { remoteStore } from "./remote.ts";
import { Gate } from "./gate.ts";

export interface QuerierSettings {
  /** StoreAPI base URLs spoken to over Connect or gRPC-Web (fetch), e.g. http://sidecar-a:10902. */
  endpoints: string[];
  /** Bearer token per endpoint URL (each key must be one of `endpoints`). */
  endpointTokens: Record<string, string>;
  protocol: "connect" | "grpc-web";
  /** --query.replica-label. */
  replicaLabels: string[];
  dedupFunc: DedupAlgorithm;
  /** partial_response when a request does not say (--query.partial-response). */
  partialResponse: boolean;
  /** partial_response of /api/v1/rules and /api/v1/alerts when a request does not say (--rule.partial-response); default true. */
  rulePartialResponse?: boolean;
  /** Bearer token required by /api/* and the StoreAPI; none = open. */
  queryToken?: string;
  /** Deadline of one store's call (ms); 0 = none. */
  storeTimeoutMs: number;
  /** How long a store's Info is trusted (ms); default 30 s. */
  infoTtlMs?: number;
  /** Most series one store may send for one request; 0 = no limit. */
  maxSeriesPerStore?: number;
  /** Most samples one request may gather from all stores; 0 = no limit. */
  maxStoreSamples?: number;
  /** Engine: --query.lookback-delta, --query.timeout, --query.max-samples (ms, ms, count). */
  lookbackDeltaMs?: number;
  queryTimeoutMs?: number;
  maxSamples?: number;
  /** --query.max-concurrent: queries run at once, the rest wait in arrival order (Thanos' default 20; 0 = no limit). */
  maxConcurrent?: number;
  /** --query.max-queued: queries that may wait; one more is refused with "too many queries" (503). */
  maxQueued?: number;
  /** --query.max-concurrent-select: selects one query has in flight (Thanos' default 4; 0 = no limit). */
  maxConcurrentSelect?: number;
}

/** Thanos' defaults for the admission flags, and ours for the queue it does not bound. */
export const MAX_CONCURRENT_DEFAULT = 20;
export const MAX_CONCURRENT_SELECT_DEFAULT = 4;
export const MAX_QUEUED_DEFAULT = 256;

/** The query gate for these settings (shared/query/gate.ts). */
export function queryGate(s: Pick<QuerierSettings, "maxConcurrent" | "maxQueued">): Gate {
  return new Gate({
    maxConcurrent: s.maxConcurrent ?? MAX_CONCURRENT_DEFAULT, maxQueued: s.maxQueued ?? MAX_QUEUED_DEFAULT, what: "queries",
    flags: { concurrent: "query.max-concurrent", queued: "query.max-queued" },
  });
}

/** The defaults every source starts from (Thanos' where it has the setting). */
export function defaultQuerierSettings(): QuerierSettings {
  return { endpoints: [], endpointTokens: {}, protocol: "connect", replicaLabels: [], dedupFunc: "penalty", partialResponse: true, storeTimeoutMs: 0 };
}

/** A comma, space or newline separated list. */
export function splitList(v: string | undefined): string[] {
  return (v ?? "").split(/[\s,]+/).map((s) => s.trim()).filter((s) => s !== "");
}

/** JSON {"<endpoint URL>": "<token>"}; `what` names the source in errors (a file, a variable). */
export function parseTokens(v: string | undefined, what: string): Record<string, string> {
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

export function parseDedupFunc(v: string, what: string): DedupAlgorithm {
  if (v === "penalty" || v === "chain") return v;
  throw new CodedError("bad_data", `${what}: ${JSON.stringify(v)}: want penalty or chain`);
}

export function parseProtocol(v: string, what: string): "connect" | "grpc-web" {
  if (v === "connect" || v === "grpc-web") return v;
  throw new CodedError("bad_data", `${what}: ${JSON.stringify(v)}: want connect or grpc-web`);
}

/** Every endpoint a token is given for must be one of the endpoints (a typo would send no token). */
export function checkEndpointTokens(s: QuerierSettings, tokensName: string, endpointsName: string): void {
  for (const u of Object.keys(s.endpointTokens)) {
    if (!s.endpoints.includes(u)) throw new CodedError("bad_data", `${tokensName} names ${JSON.stringify(u)}, which is not one of ${endpointsName}`);
  }
}

export interface BuiltQuerier {
  endpoints: StoreEndpoint[];
  proxy: ProxyStore;
  app: Omit<QuerierAppOptions, "proxy">;
}

/**
 * The fan-out over the settings' endpoints (plus `extraStores`: local blocks, a bucket, gRPC peers,
 * first) and the querier app's options. `fetch` overrides the global one (tests, service bindings).
 */
export function buildQuerier(s: QuerierSettings, opts: { fetch?: FetchFn; extraStores?: StoreEndpoint[] } = {}): BuiltQuerier {
  checkEndpointTokens(s, "the endpoint tokens", "the endpoints");
  const endpoints = [
    ...(opts.extraStores ?? []),
    ...s.endpoints.map((u) => remoteStore(u, { token: s.endpointTokens[u], protocol: s.protocol, fetch: opts.fetch })),
  ];
  const proxy = new ProxyStore(endpoints, {
    storeTimeoutMs: s.storeTimeoutMs, infoTtlMs: s.infoTtlMs, maxSeriesPerStore: s.maxSeriesPerStore, maxSamples: s.maxStoreSamples,
  });
  return {
    endpoints,
    proxy,
    app: {
      replicaLabels: s.replicaLabels,
      dedupFunc: s.dedupFunc,
      partialResponseDefault: s.partialResponse,
      rulePartialResponseDefault: s.rulePartialResponse ?? true,
      token: s.queryToken || undefined,
      engineOptions: { lookbackDelta: s.lookbackDeltaMs, timeoutMs: s.queryTimeoutMs, maxSamples: s.maxSamples },
      gate: queryGate(s),
      maxConcurrentSelect: s.maxConcurrentSelect ?? MAX_CONCURRENT_SELECT_DEFAULT,
    },
  };
}
