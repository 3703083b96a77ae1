// A BucketStore as StoreApiServices (shared/rpc/store.ts) whose every call first syncs lazily (at most
// once per syncTtlMs, from the bucket index when there is one): what a fetch-style host with no
// background timers needs (a Worker, the querier's in-process bucket store). An isolate that wakes up
// cold discovers the blocks on its first request, and later ones reuse what it opened.

import type { CallContext, StoreApiServices } from "../rpc/store.ts";
import type { LabelNamesRequest, LabelValuesRequest, SeriesRequest } from "../gen/thanos/storepb/rpc_pb.ts";
import type { BucketStore } from "./store.ts";

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
