// The query pool on this runtime: worker threads (node:worker_threads, which Bun and Node both have)
// each running agent/query/worker.ts, driven by shared/query/pool.ts. The main thread keeps HTTP,
// admission, discovery, /api/v1/stores, the fan-out's own StoreAPI and metrics; it sends each worker
// the store targets discovery resolved, and replaces a worker that dies (its requests fail with an
// internal error naming it).
import { Worker } from "node:worker_threads";
import type { DesiredStore } from "../../shared/discovery/endpointset.ts";
import { type FromWorker, QueryPool } from "../../shared/query/pool.ts";
import type { QueryConfig } from "./server.ts";

export interface RunningPool {
  fetch(req: Request): Promise<Response>;
  setEndpoints(desired: DesiredStore[]): void;
  stats(): ReturnType<QueryPool["stats"]>;
  /** Every worker has set up and warmed up once (the querier's /-/ready waits for it). */
  ready(): boolean;
  close(): Promise<void>;
}

/** What a worker is started with (structured-cloned: no functions, no logger). */
export interface WorkerInit {
  index: number;
  cfg: Omit<QueryConfig, "log">;
  logLevel: string;
}

const RESPAWN_DELAY_MS = 1000;

function spawn(init: WorkerInit): Worker {
  const bun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
  if (bun) {
    // In the single binary (package.json "build": bun build --compile agent/main.ts agent/query/worker.ts)
    // a worker entry is named by its path from the entry points' common folder, agent/.
    const entry = import.meta.url.includes("$bunfs") ? "./query/worker.ts" : new URL("./worker.ts", import.meta.url);
    return new Worker(entry, { workerData: init });
  }
  // Node runs TypeScript through tsx: a small ES module registers its loader in the worker first.
  return new Worker(new URL("./worker-boot.mjs", import.meta.url), { workerData: { ...init, entry: new URL("./worker.ts", import.meta.url).href } });
}

export function startQueryPool(cfg: QueryConfig, n: number): RunningPool {
  const { log, ...plain } = cfg;
  const logLevel = cfg.logLevel ?? "info";
  let closing = false;
  let desired: DesiredStore[] | null = null;
  const workers: Worker[] = [];
  const warmed = new Set<number>();
  const pool = new QueryPool(Array.from({ length: n }, () => ({ post: () => {} })));

  const start = (i: number): void => {
    const w = spawn({ index: i, cfg: plain, logLevel });
    workers[i] = w;
    pool.replace(i, { post: (m, transfer) => w.postMessage(m, transfer ?? []) });
    if (desired) w.postMessage({ t: "endpoints", desired });
    w.on("message", (m: FromWorker) => { if (m.t === "warmed") warmed.add(i); else pool.receive(i, m); });
    let failedOnce = false;
    const fail = (e: unknown) => {
      if (closing || failedOnce) return;
      failedOnce = true;
      log.error("query worker failed; replacing it", { worker: i, err: e instanceof Error ? e.message : String(e) });
      pool.failed(i, e);
      void w.terminate();
      setTimeout(() => { if (!closing) start(i); }, RESPAWN_DELAY_MS);
    };
    w.on("error", fail);
    w.on("exit", (code) => fail(new Error(`exited with code ${code}`)));
  };
  for (let i = 0; i < n; i++) start(i);

  return {
    fetch: (req) => pool.fetch(req),
    setEndpoints: (d) => { desired = d; pool.broadcast({ t: "endpoints", desired: d }); },
    stats: () => pool.stats(),
    ready: () => warmed.size >= n,
    close: async () => {
      closing = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
