// Store gateway core (runtime-free). See store.ts for the read path, shared/block/ for block discovery
// and the bucket index, cache.ts for the range caches.
export { BucketStore, type BucketStoreOptions, type LoadedBlock, type SyncResult, type LogFn, matchersFromPb, mergeOverlappingChunks } from "./store.ts";
export {
  BUCKET_INDEX_FILE, type BucketIndex, parseBucketIndex, readBucketIndex, rebuildBucketIndex, updateBucketIndex, type UpdateBucketIndexOptions,
} from "../block/bucketindex.ts";
export { discoverBlocks, filterBlocks } from "../block/fetcher.ts";
export { listBucketBlocks } from "../block/listing.ts";
export type { DeletionMark } from "../block/markers.ts";
export { ByteLru, CachingBucket, type BucketStats, diffStats, requestCount } from "./cache.ts";
export { type HeaderCache, MemoryHeaderCache, encodeHeader, decodeHeader } from "./header.ts";
