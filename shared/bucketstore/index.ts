// Store gateway core (runtime-free). See store.ts for the read path, discovery.ts for block discovery
// and the bucket index, cache.ts for the range caches.
export { BucketStore, type BucketStoreOptions, type LoadedBlock, type SyncResult, type LogFn, matchersFromPb, mergeOverlappingChunks } from "./store.ts";
export {
  BUCKET_INDEX_FILE, type BucketIndex, type DeletionMark, discoverBlocks, filterBlocks, listBucketBlocks, parseBucketIndex,
  readBucketIndex, rebuildBucketIndex, updateBucketIndex, type UpdateBucketIndexOptions,
} from "./discovery.ts";
export { ByteLru, CachingBucket, type BucketStats, diffStats, requestCount } from "./cache.ts";
export { type HeaderCache, MemoryHeaderCache, encodeHeader, decodeHeader } from "./header.ts";
