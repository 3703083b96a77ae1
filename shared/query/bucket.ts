// The store gateway's bucket store (shared/bucketstore) embedded in the querier as one more store: no
// network hop, the blocks of a bucket (R2 binding in a Worker, S3, a filesystem bucket on the agent)
// read in-process, synced lazily, and merged with the remote stores like any other StoreAPI answer.
import type { Bucket } from "../objstore/bucket.ts";
import { BucketStore, type BucketStoreOptions } from "../bucketstore/store.ts";
import { lazyBucketStoreServices } from "../bucketstore/services.ts";
import { endpointFromServices, type StoreEndpoint } from "./store.ts";

export function bucketStoreEndpoint(bucket: Bucket, opts: Omit<BucketStoreOptions, "bucket"> = {}, name = `bucket ${bucket.name}`): StoreEndpoint {
  const s = lazyBucketStoreServices(new BucketStore({ syncTtlMs: 60_000, ...opts, bucket }));
  return endpointFromServices(name, { store: s.store!, info: s.info! });
}
