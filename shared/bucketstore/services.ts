// A BucketStore as StoreApiServices (shared/rpc/store.ts) whose every call first syncs lazily (at most
// once per syncTtlMs, from the bucket index when there is one): what a fetch-style host with no
// background timers needs (a Worker, the querier's in-process bucket store). An isolate that wakes up
// cold discovers the blocks on its first request, and later ones reuse what it opened.

import type { CallContext, StoreApiServices } from "../rpc/store.ts";
import type { LabelNamesRequest, LabelValuesRequest, SeriesRequest } from "../gen/thanos/storepb/rpc_pb.ts";
import type { BucketStore } from "./store.ts";

/** A BucketStore as StoreApiServices as it is (a host that syncs on its own: the agent's store gateway, the warm-ups). */
export function bucketStoreServices(store: BucketStore): StoreApiServices {
  return {
    store: {
      series: (req, ctx) => store.series(req, ctx),
      seriesEnveloped: (req, ctx, opts) => store.seriesEnveloped(req, ctx, opts),
      labelNames: (req, ctx) => store.labelNames(req, ctx),
      labelValues: (req, ctx) => store.labelValues(req, ctx),
    },
    info: { info: () => store.info() },
  };
}

export function lazyBucketStoreServices(store: BucketStore): StoreApiServices {
  return {
    store: {
      async *series(req: SeriesRequest, ctx: CallContext) {
        await store.ensureSynced();
        yield* store.series(req, ctx);
      },
      async *seriesEnveloped(req: SeriesRequest, ctx: CallContext, opts: { reuse: boolean }) {
        await store.ensureSynced();
        yield* store.seriesEnveloped(req, ctx, opts);
      },
      async labelNames(req: LabelNamesRequest, ctx: CallContext) {
        await store.ensureSynced();
        return store.labelNames(req, ctx);
      },
      async labelValues(req: LabelValuesRequest, ctx: CallContext) {
        await store.ensureSynced();
        return store.labelValues(req, ctx);
      },
    },
    info: {
      async info() {
        await store.ensureSynced();
        return store.info();
      },
    },
  };
}
