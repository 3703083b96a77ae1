// The store gateway's bucket store (edge/store) embedded in the querier as one more store: no network
// hop, the blocks of a bucket (R2 binding in a Worker, S3, a filesystem bucket on the agent) read
// in-process and merged with the remote stores like any other StoreAPI answer.
import type { Bucket } from "../../shared/objstore/bucket.ts";
import type { BucketStoreOptions } from "../../shared/bucketstore/store.ts";
import { endpointFromServices, type StoreEndpoint } from "../../shared/query/store.ts";
import { createEdgeStore } from "../store/index.ts";

export function bucketStoreEndpoint(bucket: Bucket, opts: Omit<BucketStoreOptions, "bucket"> = {}, name = `bucket ${bucket.name}`): StoreEndpoint {
  const s = createEdgeStore(bucket, opts).services;
  return endpointFromServices(name, { store: s.store!, info: s.info! });
}
