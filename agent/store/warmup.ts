// The store gateway's warm-up before it takes queries (--store.warmup-calls; why: shared/bucketstore/warmup.ts).
// Two rounds against the synthetic blocks: the store's calls in process, then the same calls through a
// gRPC server of our own stack on a loopback port, so the server's per-call code (our HTTP/2 server and
// client, agent/grpc/h2conn.ts, and the fast paths) is warm as well. Measured behind a Thanos querier, 50 blocks:
// with the in-process round alone the first queries after start took 3-5 ms; with both, 2 ms from the
// third query on, as Thanos' store.
import { warmUpStore, type WarmUpTarget } from "../../shared/bucketstore/warmup.ts";
import { bucketStoreServices } from "../../shared/bucketstore/services.ts";
import { createGrpcClients } from "../grpc/client.ts";
import { startGrpcServer } from "../grpc/server.ts";

export interface WarmUpReport {
  calls: number;
  ms: number;
  /** Set when the warm-up failed (only the first queries are slower for it). */
  error?: string;
}

/** About `calls` calls in all, half in process and half over gRPC, within `budgetMs`. Never throws. */
export async function warmUp(calls: number, budgetMs = 5000): Promise<WarmUpReport> {
  const t0 = performance.now();
  let done = 0;
  try {
    const w = await warmUpStore();
    done += await w.run(w.direct, Math.ceil(calls / 2), budgetMs / 2);
    const server = await startGrpcServer(bucketStoreServices(w.store), { host: "127.0.0.1", port: 0 });
    const client = createGrpcClients(server.address);
    try {
      const target: WarmUpTarget = {
        series: async (r) => { for await (const _ of client.store.series(r)) { /* read and dropped */ } },
        labelNames: (r) => client.store.labelNames(r),
        labelValues: (r) => client.store.labelValues(r),
      };
      done += await w.run(target, Math.floor(calls / 2), Math.max(0, budgetMs - (performance.now() - t0)));
    } finally {
      client.close();
      await server.close();
    }
    return { calls: done, ms: performance.now() - t0 };
  } catch (e) {
    return { calls: done, ms: performance.now() - t0, error: (e as Error).message };
  }
}
