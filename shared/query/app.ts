// The querier as one hono app, the same on Bun, Deno, Node and Workers:
// - the Prometheus HTTP API (shared/api) over the fan-out, with Thanos' parameters per request: dedup,
//   partial_response, replicaLabels[], max_source_resolution, storeMatch[];
// - /api/v1/stores: each store's health, last error, label sets and time range (Thanos' shape);
// - the fan-out itself served as a StoreAPI (Connect + gRPC-Web), so queriers stack;
// - optional bearer token on /api/* and the StoreAPI.

import { Hono } from "hono";
import { ERROR_TABLE } from "../encoding/errors.ts";
import { Engine, type EngineOptions } from "../promql/engine.ts";
import { bearerMatches } from "../rpc/auth.ts";
import type { DedupAlgorithm } from "../dedup/dedup.ts";
import type { Querier } from "../storage/types.ts";
import type { ProxyStore, StoreStatus } from "./proxy.ts";
import { dynamicLookbackDelta, FanoutQuerier, maxSourceResolution } from "./querier.ts";
import { createQueryApi, type BuildInfo, type Compressor, type QueryEngine, type RequestContext } from "../api/query-api.ts";
import { errorJson, labelsJson, stringsJson } from "../api/json.ts";
import { matcherSetsParam, parseBool, parseDurationNs, type Params } from "../api/params.ts";
import { mountStoreApi } from "../rpc/server.ts";
import { mountUi } from "../ui/app.ts";
import { admitted, offloaded } from "./admission.ts";
import type { Gate } from "./gate.ts";
import { rulesApi } from "../api/rules-api.ts";

export interface QuerierAppOptions {
  proxy: ProxyStore;
  engine?: QueryEngine;
  /** Used when no engine is given. */
  engineOptions?: EngineOptions;
  /** --query.replica-label (replicaLabels[] overrides per request). */
  replicaLabels?: string[];
  /** --deduplication.func; default penalty. */
  dedupFunc?: DedupAlgorithm;
  /** dedup when the request does not say; default true. */
  dedupDefault?: boolean;
  /** partial_response when the request does not say; default true (Thanos' --query.partial-response). */
  partialResponseDefault?: boolean;
  /** partial_response of /api/v1/rules and /api/v1/alerts when the request does not say (Thanos' --rule.partial-response); default true. */
  rulePartialResponseDefault?: boolean;
  /** max_source_resolution when absent (ms); "auto" per request picks step/5. Default 0 (raw). */
  maxSourceResolutionDefault?: number;
  /**
   * Thanos' --query.dynamic-lookback-delta (default true): a request allowed downsampled data looks
   * back as far as its resolution (1h data: 1h) unless it sets lookback_delta.
   */
  dynamicLookbackDelta?: boolean;
  /** Bearer token required on /api/* and the StoreAPI; none = open. */
  token?: string;
  /** Serve the fan-out as a StoreAPI (default true). */
  storeApi?: boolean;
  buildInfo?: Partial<BuildInfo>;
  now?: () => number;
  /** Serve the query page (shared/ui) at `/` (default true). */
  ui?: boolean;
  /** Answer compression (see QueryApiOptions.compress): default the web CompressionStream, null off. */
  compress?: Compressor | null;
  /** /-/ready answers 503 while this returns false (the agent's querier: until its workers warmed up). */
  ready?: () => boolean;
  /**
   * Admission of /api/v1/query and /api/v1/query_range (--query.max-concurrent, --query.max-queued):
   * in arrival order, a bounded queue; none = every query runs at once.
   */
  gate?: Gate;
  /** --query.max-concurrent-select: most selects one query has in flight; 0 = all at once. */
  maxConcurrentSelect?: number;
  /**
   * Run queries and series calls elsewhere (a worker pool, shared/query/pool.ts) once admitted; the
   * worker runs this same app without a gate or offload.
   */
  offload?: (req: Request) => Promise<Response>;
  /**
   * What PromQL reads instead of the fan-out (which then serves only the StoreAPI and /api/v1/stores):
   * `agent query` over local blocks alone reads them directly. Per-request fan-out parameters (dedup,
   * storeMatch[], partial_response, max_source_resolution) do not apply to it.
   */
  querier?: (ctx: RequestContext) => Querier | Promise<Querier>;
}

function stepMsOf(p: Params): number {
  const s = p.get("step");
  if (s === "") return 0;
  try {
    return parseDurationNs(s) / 1e6;
  } catch {
    return 0; // the API rejects a bad step itself, with Prometheus' message
  }
}

function unauthorized(): Response {
  const s = ERROR_TABLE.unauthenticated;
  return new Response(errorJson(s.errorType, "missing or wrong bearer token"), {
    status: s.http,
    headers: { "Content-Type": "application/json", "WWW-Authenticate": 'Bearer realm="thanots"' },
  });
}

function rfc3339(ms: number | null): string {
  return ms === null ? "null" : JSON.stringify(new Date(ms).toISOString());
}

/** Go-style int64 ms for JSON; open bounds as Thanos prints them (math.MinInt64 / MaxInt64). */
function ms64(v: number): string {
  if (v === Number.NEGATIVE_INFINITY || v <= -9223372036854775808) return "-9223372036854775808";
  if (v === Number.POSITIVE_INFINITY || v >= 9223372036854775807) return "9223372036854775807";
  return String(Math.trunc(v));
}

/** /api/v1/stores data: stores grouped by component type, Thanos' field names (plus `healthy`). */
export function storesJson(st: StoreStatus[]): string {
  const groups = new Map<string, string[]>();
  for (const s of st) {
    const key = s.componentType || "unknown";
    const row = `{"name":${stringsJson([s.name]).slice(1, -1)},"healthy":${s.healthy},"lastCheck":${rfc3339(s.lastCheck)},` +
      `"lastError":${s.lastError === null ? "null" : stringsJson([s.lastError]).slice(1, -1)},` +
      `"labelSets":[${s.labelSets.map(labelsJson).join(",")}],"minTime":${ms64(s.minTime)},"maxTime":${ms64(s.maxTime)}}`;
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(row);
  }
  return `{${[...groups].map(([k, rows]) => `${stringsJson([k]).slice(1, -1)}:[${rows.join(",")}]`).join(",")}}`;
}

export function createQuerierApp(o: QuerierAppOptions): Hono {
  const app = new Hono();
  const engine = o.engine ?? new Engine(o.engineOptions);
  const token = o.token !== undefined && o.token !== "" ? o.token : undefined;

  if (token !== undefined) {
    // Checked before anything reads the request, the same answer whatever is wrong with the token, so
    // an unauthenticated caller learns nothing about which series or stores exist.
    app.use("/api/*", async (c, next) => {
      if (!bearerMatches(c.req.header("authorization"), token)) return unauthorized();
      await next();
    });
  }
  if (o.storeApi !== false) mountStoreApi(app, { store: o.proxy, info: o.proxy, rules: o.proxy }, { token });

  // The request path under load (shared/query/admission.ts): after the token check, before the API.
  if (o.gate || o.offload) {
    const admission = admitted({ gate: o.gate, queueTimeoutMs: o.engineOptions?.timeoutMs ?? 120_000, offload: o.offload });
    app.use("/api/v1/query", admission);
    app.use("/api/v1/query_range", admission);
    if (o.offload) app.use("/api/v1/series", offloaded(o.offload));
  }

  app.get("/api/v1/stores", async () => {
    const st = await o.proxy.status();
    return new Response(`{"status":"success","data":${storesJson(st)}}`, { headers: { "Content-Type": "application/json" } });
  });

  // Rules and alerts of every ruler the fan-out knows (shared/api/rules-api.ts).
  app.route("/", rulesApi({
    fanout: (req, f) => o.proxy.fanoutRules(req, f),
    replicaLabels: o.replicaLabels,
    dedupDefault: o.dedupDefault,
    partialResponseDefault: o.rulePartialResponseDefault,
  }));

  if (o.ui !== false) mountUi(app);

  const maxRes = (p: Params): number => maxSourceResolution(p.get("max_source_resolution"), stepMsOf(p), o.maxSourceResolutionDefault ?? 0, (s) => {
    const ns = parseDurationNs(s);
    return ns / 1e6;
  });
  const lookback = o.engineOptions?.lookbackDelta ?? 5 * 60_000;
  const lookbackDelta = o.dynamicLookbackDelta === false ? undefined : (ctx: RequestContext): number | undefined => {
    let r: number;
    try { r = maxRes(ctx.params); } catch { return undefined; } // the querier reports the bad parameter
    const ld = dynamicLookbackDelta(lookback, r);
    return ld === lookback ? undefined : ld;
  };
  const querier = o.querier ?? ((ctx: RequestContext) => {
    const p = ctx.params;
    const replicaLabels = p.has("replicaLabels[]") ? p.all("replicaLabels[]").filter((l) => l !== "") : (o.replicaLabels ?? []);
    return new FanoutQuerier(o.proxy, {
      dedup: parseBool(p, "dedup", o.dedupDefault ?? true),
      replicaLabels,
      dedupFunc: o.dedupFunc ?? "penalty",
      partialResponse: parseBool(p, "partial_response", o.partialResponseDefault ?? true),
      maxResolutionMs: maxRes(p),
      storeMatchers: matcherSetsParam(p, "storeMatch[]"),
      signal: ctx.request.signal,
      maxConcurrentSelect: o.maxConcurrentSelect,
    });
  });

  app.route("/", createQueryApi({ engine, querier, lookbackDelta, buildInfo: o.buildInfo, now: o.now, compress: o.compress, ready: o.ready }));
  return app;
}
