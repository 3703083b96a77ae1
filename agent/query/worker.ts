// A query worker thread (agent/query/pool.ts starts one per --query.workers): the querier app with its
// own fan-out and store clients, answering the requests the main thread admitted (shared/query/pool.ts
// serveRequests). Stores come from the main thread's discovery as targets ("endpoints" messages) and
// are made here with the same factory; the fixed stores (--tsdb.path, --objstore.config-file) are
// opened here too. No gate and no offload: admission happened on the main thread.
import { parentPort, workerData } from "node:worker_threads";
import { DiscoveredStores, type DesiredStore } from "../../shared/discovery/endpointset.ts";
import { createQuerierApp } from "../../shared/query/app.ts";
import { serveRequests } from "../../shared/query/pool.ts";
import { newLogger, parseLevel } from "../log.ts";
import type { WorkerInit } from "./pool.ts";
import { appOptions, fanoutCore } from "./server.ts";
import { logWarmUp, warmUpQuerier } from "./warmup.ts";

const init = workerData as WorkerInit;
const log = newLogger({ level: parseLevel(init.logLevel) }).with({ component: "query", worker: String(init.index) });
const port = parentPort!;
const cfg = { ...init.cfg, log };
const core = await fanoutCore(cfg, log);
const { c, extra, factory } = core;
let desired: DesiredStore[] = [];
const stores = new DiscoveredStores({ desired: () => desired }, factory, (eps) => c.proxy.setEndpoints(eps), extra);
stores.sync();
const app = createQuerierApp({ ...appOptions(cfg, core), gate: undefined, storeApi: false, ui: false });
// Requests (and endpoint updates) wait in the port until the listener below is attached.
if ((cfg.warmupQueries ?? 0) > 0) logWarmUp(log, await warmUpQuerier(cfg, log, cfg.warmupQueries!));
port.postMessage({ t: "warmed" }); // the querier reports ready once every worker has said so
port.on("message", serveRequests(app.fetch, (m, transfer) => port.postMessage(m, transfer), (m) => {
  const x = m as { t?: string; desired?: DesiredStore[] };
  if (x.t === "endpoints" && x.desired) { desired = x.desired; stores.sync(); }
}));
