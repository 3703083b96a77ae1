// The querier's warm-up before it takes queries (--query.warmup-queries): each thread that evaluates
// queries (every worker, or the main thread without workers) answers a round of PromQL, series, label
// and value requests of its own before its first real one.
//
// Why: as in the store (shared/bucketstore/warmup.ts), JavaScriptCore runs new code unoptimised until
// it has run it many times, and each worker thread has its own. Measured on the promql bench bucket
// (our querier over our store): a small instant query (100 series) took 67 ms first, 7-15 ms over the
// next twenty and settled at 3-4 ms only after ~100 queries; Thanos' querier answers it in 4 ms from
// the first.
//
// What it runs: a querier app of its own (the same code: HTTP API, PromQL engine, fan-out, gRPC client,
// deduplication, JSON) over one store, the store warm-up's synthetic blocks (four blocks in memory, raw
// and 5m) served by a gRPC server of our stack on a loopback port. Nothing of the real querier is used
// or changed: not its stores, not its caches, not its gate.
import { WARMUP_SPAN, warmUpStore } from "../../shared/bucketstore/warmup.ts";
import { bucketStoreServices } from "../../shared/bucketstore/services.ts";
import { createQuerierApp } from "../../shared/query/app.ts";
import { startGrpcServer } from "../grpc/server.ts";
import type { Logger } from "../log.ts";
import { appOptions, fanoutCore, type QueryConfig } from "./server.ts";

export interface QuerierWarmUpReport {
  queries: number;
  ms: number;
  /** Requests answered other than 200 with data (none expected: each asks for data the blocks hold). */
  failed: number;
  error?: string;
}

const H = 3_600_000;
const T0 = WARMUP_SPAN.start;

/** The requests of one round: path and query string, as a client sends them. */
function round(): string[] {
  const at = (T0 + 4 * H) / 1000, from = (T0 + 3 * H) / 1000, to = (T0 + 4 * H) / 1000;
  // Small selections (40 of the 400 series, or fewer): the code paths matter here, not the volume.
  const exprs = [
    'warmup_metric{instance="i7"}',
    'sum(rate(warmup_metric{job="j1"}[5m]))',
    'sum by (zone) (rate(warmup_metric{job="j1"}[5m]))',
    'count(warmup_metric{job="j2"})',
    'topk(3, rate(warmup_metric{job="j3"}[5m]))',
    'quantile(0.9, rate(warmup_metric{job="j4"}[5m]))',
    'max_over_time(warmup_metric{job="j5"}[30m])',
    'histogram_quantile(0.9, sum by (le) (label_replace(rate(warmup_metric{job="j4"}[10m]), "le", "$1", "zone", "z(.*)")))',
    'warmup_metric{job="j3"} - on(instance) warmup_metric{job="j3"} offset 1h',
    'count_values("v", warmup_metric{job="j5"} % 10)',
    'avg_over_time(rate(warmup_metric{job="j2"}[5m])[30m:1m])',
    'sum by (instance) (increase(warmup_metric{job="j6"}[1h]))',
    'sum by (instance) (warmup_metric{job="j2"}) / on(instance) group_left count by (instance) (warmup_metric{job="j2"})',
  ];
  const q = (p: Record<string, string>) => new URLSearchParams(p).toString();
  const out: string[] = [];
  for (const e of exprs) {
    out.push(`/api/v1/query?${q({ query: e, time: String(at) })}`);
    out.push(`/api/v1/query_range?${q({ query: e, start: String(from), end: String(to), step: "60" })}`);
  }
  out.push(`/api/v1/query_range?${q({ query: 'sum by (job) (rate(warmup_metric{zone="z1"}[1h]))', start: String(T0 / 1000 + 3600), end: String(T0 / 1000 + 5 * 3600), step: "900", max_source_resolution: "5m" })}`);
  out.push(`/api/v1/series?${q({ "match[]": 'warmup_metric{job="j3"}', start: String(from), end: String(to) })}`);
  out.push(`/api/v1/labels?${q({ start: String(from), end: String(to) })}`);
  out.push(`/api/v1/label/instance/values?${q({ start: String(from), end: String(to) })}`);
  return out;
}

/** The warm-up's outcome in the log. */
export function logWarmUp(log: Logger, r: QuerierWarmUpReport): void {
  if (r.error) log.warn("warm-up failed; the first queries will be slower", { err: r.error, queries: String(r.queries) });
  else log.info("warmed up", { queries: String(r.queries), ms: r.ms.toFixed(0), ...(r.failed ? { failed: String(r.failed) } : {}) });
}

/** About `queries` requests, within `budgetMs`. Never throws: a failed warm-up only slows the first queries. */
export async function warmUpQuerier(cfg: QueryConfig, log: Logger, queries: number, budgetMs = 5000): Promise<QuerierWarmUpReport> {
  const t0 = performance.now();
  let done = 0, failed = 0;
  try {
    const w = await warmUpStore();
    const server = await startGrpcServer(bucketStoreServices(w.store), { host: "127.0.0.1", port: 0 });
    // The real querier's settings for evaluation (lookback, limits, dedup, partial response), none of its
    // data sources, tokens or TLS: one plaintext gRPC store.
    const own: QueryConfig = {
      ...cfg, endpoints: [], strict: [], groups: [], strictGroups: [], sdFiles: [], tsdbPath: undefined, objstoreConfigFile: undefined,
      storeTokens: {}, httpToken: undefined, grpcClientTls: null, grpcCompression: "none", replicaLabels: ["warmup"], log,
    };
    const core = await fanoutCore(own, log);
    const made = core.factory({ name: server.address, transport: "grpc", target: server.address, source: server.address });
    try {
      core.c.proxy.setEndpoints([made.endpoint]);
      const app = createQuerierApp({ ...appOptions(own, core), gate: undefined, storeApi: false, ui: false });
      const paths = round();
      while (done < queries && performance.now() - t0 < budgetMs) {
        for (const p of paths) {
          const r = await app.fetch(new Request(`http://warmup${p}`));
          const body = await r.text();
          if (r.status !== 200 || /"(result|data)":\[\]/.test(body)) failed++;
          done++;
        }
      }
    } finally {
      made.close();
      await server.close();
      await core.closeLocal();
    }
    return { queries: done, ms: performance.now() - t0, failed };
  } catch (e) {
    return { queries: done, ms: performance.now() - t0, failed, error: (e as Error).message };
  }
}
