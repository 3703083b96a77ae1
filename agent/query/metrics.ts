// The querier's /metrics (Prometheus text format): HTTP requests by handler and code, their latency, and
// each store's health as the fan-out last saw it. Wraps the app's fetch so every runtime-independent
// route (API, StoreAPI, UI) is counted without the edge app knowing about metrics.
import { CONTENT_TYPE, Registry } from "../metrics.ts";
import type { StoreStatus } from "../../shared/query/proxy.ts";
import type { Gate } from "../../shared/query/gate.ts";
import type { PoolStats } from "../../shared/query/pool.ts";

/** What else the querier reports: its admission gate (Thanos' gate metrics) and query workers. */
export interface QueryMetricsSources {
  gate?: Gate;
  pool?: { stats(): PoolStats };
}

type FetchFn = (r: Request) => Response | Promise<Response>;

/** A bounded label value for the request path, so a scan of random URLs cannot explode cardinality. */
export function handlerOf(path: string): string {
  if (path.startsWith("/api/v1/label/") && path.endsWith("/values")) return "/api/v1/label/:name/values";
  if (path.startsWith("/api/v1/")) return KNOWN_API.has(path) ? path : "/api/v1/other";
  if (path.startsWith("/thanos.")) return path; // StoreAPI methods: a fixed set of service paths
  if (path === "/" || path === "/graph" || path === "/stores" || path.startsWith("/static/")) return "/ui";
  if (path === "/-/healthy" || path === "/-/ready" || path === "/metrics") return path;
  return "other";
}

const KNOWN_API = new Set([
  "/api/v1/query", "/api/v1/query_range", "/api/v1/series", "/api/v1/labels", "/api/v1/stores",
  "/api/v1/status/buildinfo", "/api/v1/metadata", "/api/v1/query_exemplars",
]);

export function withMetrics(fetchFn: FetchFn, status?: () => Promise<StoreStatus[]>, sources: QueryMetricsSources = {}): FetchFn {
  const reg = new Registry();
  const requests = reg.counter("http_requests_total", "HTTP requests by handler, method and status code.", ["handler", "method", "code"]);
  const duration = reg.histogram("http_request_duration_seconds", "HTTP request latency until the response head.", ["handler"],
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]);
  const healthy = reg.gauge("thanots_query_store_healthy", "1 if the store answered Info at the last check.", ["store"]);
  const lastCheck = reg.gauge("thanots_query_store_last_check_timestamp_seconds", "When the store's Info was last checked.", ["store"]);
  const start = reg.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.");
  const rss = reg.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  start.set(Math.floor(Date.now() / 1000));
  // Thanos' query gate (pkg/gate with the "thanos_query_concurrent_" prefix), plus the queue it lacks.
  const gate = sources.gate;
  const gateMax = gate ? reg.gauge("thanos_query_concurrent_gate_queries_max", "Maximum number of concurrent queries.") : null;
  const gateInFlight = gate ? reg.gauge("thanos_query_concurrent_gate_queries_in_flight", "Number of queries that are currently in flight.") : null;
  const gateTotal = gate ? reg.counter("thanos_query_concurrent_gate_queries_total", "Total number of queries.") : null;
  const gateQueued = gate ? reg.gauge("thanots_query_concurrent_gate_queries_queued", "Queries waiting for a slot now.") : null;
  const gateRefused = gate ? reg.counter("thanots_query_concurrent_gate_queries_refused_total", "Queries refused because the queue was full.") : null;
  if (gate) {
    const wait = reg.histogram("thanos_query_concurrent_gate_queries_duration_seconds", "How many seconds it took for queries to wait at the gate.", [],
      [0.01, 0.1, 0.3, 0.6, 1, 3, 6, 9, 20, 30, 60, 90, 120, 240, 360, 720]);
    gate.onWait = (ms) => wait.observe(ms / 1000);
  }
  const workerInFlight = sources.pool ? reg.gauge("thanots_query_worker_requests_in_flight", "Requests running on each query worker.", ["worker"]) : null;
  const workerServed = sources.pool ? reg.counter("thanots_query_worker_requests_total", "Requests each query worker answered.", ["worker"]) : null;
  // Counters follow the gate's and pool's own counts (read at scrape time).
  const bump = (c: { inc(lv?: Record<string, string>, by?: number): void; get(lv?: Record<string, string>): number }, v: number, lv?: Record<string, string>) => {
    const d = v - c.get(lv);
    if (d > 0) c.inc(lv, d);
  };
  const proc = (globalThis as { process?: { memoryUsage?: { rss?: () => number } } }).process;

  return async (req: Request) => {
    const path = new URL(req.url).pathname;
    if (path === "/metrics" && req.method === "GET") {
      if (status) {
        for (const s of await status()) {
          healthy.set(s.healthy ? 1 : 0, { store: s.name });
          if (s.lastCheck !== null) lastCheck.set(s.lastCheck / 1000, { store: s.name });
        }
      }
      const r = proc?.memoryUsage?.rss;
      if (r) rss.set(r());
      if (gate) {
        const g = gate.stats();
        gateMax!.set(g.maxConcurrent);
        gateInFlight!.set(g.inFlight);
        bump(gateTotal!, g.total);
        gateQueued!.set(g.queued);
        bump(gateRefused!, g.refused);
      }
      if (sources.pool) {
        const p = sources.pool.stats();
        p.inFlight.forEach((n, i) => workerInFlight!.set(n, { worker: String(i) }));
        p.served.forEach((n, i) => bump(workerServed!, n, { worker: String(i) }));
      }
      requests.inc({ handler: "/metrics", method: "GET", code: "200" });
      return new Response(reg.render(), { status: 200, headers: { "Content-Type": CONTENT_TYPE } });
    }
    const handler = handlerOf(path);
    const done = duration.startTimer({ handler });
    let code = "500";
    try {
      const res = await fetchFn(req);
      code = String(res.status);
      return res;
    } finally {
      done();
      requests.inc({ handler, method: req.method, code });
    }
  };
}
