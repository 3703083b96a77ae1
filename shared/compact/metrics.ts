// The compactor's metrics, named as Thanos names them, behind two tiny interfaces so the core needs no
// registry: agent/metrics.ts' Counter and Gauge fit them as they are.

export type Labels = Record<string, string>;
export interface CounterLike { inc(labels?: Labels, by?: number): void }
export interface GaugeLike { set(v: number, labels?: Labels): void }
export interface ObserverLike { observe(v: number, labels?: Labels): void }

export interface CompactorMetrics {
  /** thanos_compact_halted */
  halted: GaugeLike;
  /** thanos_compact_retries_total */
  retries: CounterLike;
  /** thanos_compact_iterations_total */
  iterations: CounterLike;
  /** thanos_compact_block_cleanup_loops_total */
  cleanupLoops: CounterLike;
  /** thanos_compact_aborted_partial_uploads_deletion_attempts_total */
  partialUploadDeleteAttempts: CounterLike;
  /** thanos_compact_blocks_cleaned_total */
  blocksCleaned: CounterLike;
  /** thanos_compact_block_cleanup_failures_total */
  blockCleanupFailures: CounterLike;
  /** thanos_compact_blocks_marked_total{marker,reason} */
  blocksMarked: CounterLike;
  /** thanos_compact_garbage_collected_blocks_total */
  garbageCollectedBlocks: CounterLike;
  /** thanos_compact_garbage_collection_total / _failures_total / _duration_seconds */
  garbageCollections: CounterLike;
  garbageCollectionFailures: CounterLike;
  garbageCollectionDuration: ObserverLike;
  /** thanos_compact_group_compactions_total{resolution} and friends */
  groupCompactions: CounterLike;
  groupCompactionRunsStarted: CounterLike;
  groupCompactionRunsCompleted: CounterLike;
  groupCompactionFailures: CounterLike;
  groupVerticalCompactions: CounterLike;
  /** thanos_compact_downsample_total{resolution}, _failures_total, _duration_seconds */
  downsamples: CounterLike;
  downsampleFailures: CounterLike;
  downsampleDuration: ObserverLike;
  /** thanos_compact_todo_compactions, _compaction_blocks, _downsample_blocks, _deletion_blocks */
  todoCompactions: GaugeLike;
  todoCompactionBlocks: GaugeLike;
  todoDownsampleBlocks: GaugeLike;
  todoDeletionBlocks: GaugeLike;
  /** thanos_blocks_meta_synced{state}, thanos_blocks_meta_syncs_total, _sync_failures_total */
  metaSynced: GaugeLike;
  metaSyncs: CounterLike;
  metaSyncFailures: CounterLike;
}

const nop = { inc() {}, set() {}, observe() {} };

/** Metrics that go nowhere (tests, tools). */
export function noopMetrics(): CompactorMetrics {
  return new Proxy({} as CompactorMetrics, { get: () => nop });
}
