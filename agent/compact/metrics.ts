// The compactor's metrics (named as Thanos names them) and its paced runtime GC, shared by
// `bun run agent compact` (main.ts) and the bucket tools that run a compactor (agent/tools/bucket/).

import type { CompactorMetrics } from "../../shared/compact/metrics.ts";
import type { Registry } from "../metrics.ts";

/** The compactor's metrics in a registry, named as Thanos names them. */
export function compactorMetrics(reg: Registry, deleteDelayMs: number, consistencyDelayMs: number): CompactorMetrics {
  reg.gauge("thanos_delete_delay_seconds", "Configured delete delay in seconds.").set(deleteDelayMs / 1000);
  reg.gauge("thanos_consistency_delay_seconds", "Configured consistency delay in seconds.").set(consistencyDelayMs / 1000);
  const marked = reg.counter("thanos_compact_blocks_marked_total", "Total number of blocks marked in compactor.", ["marker", "reason"]);
  marked.inc({ marker: "no-compact-mark.json", reason: "block-index-out-of-order-chunk" }, 0);
  marked.inc({ marker: "no-compact-mark.json", reason: "index-size-exceeding" }, 0);
  marked.inc({ marker: "deletion-mark.json", reason: "" }, 0);
  const halted = reg.gauge("thanos_compact_halted", "Set to 1 if the compactor halted due to an unexpected error.");
  halted.set(0);
  return {
    halted,
    retries: reg.counter("thanos_compact_retries_total", "Total number of retries after retriable compactor error."),
    iterations: reg.counter("thanos_compact_iterations_total", "Total number of iterations that were executed successfully."),
    cleanupLoops: reg.counter("thanos_compact_block_cleanup_loops_total", "Total number of concurrent cleanup loops of partially uploaded blocks and marked blocks that were executed successfully."),
    partialUploadDeleteAttempts: reg.counter("thanos_compact_aborted_partial_uploads_deletion_attempts_total", "Total number of started deletions of blocks that are assumed aborted and only partially uploaded."),
    blocksCleaned: reg.counter("thanos_compact_blocks_cleaned_total", "Total number of blocks deleted in compactor."),
    blockCleanupFailures: reg.counter("thanos_compact_block_cleanup_failures_total", "Failures encountered while deleting blocks in compactor."),
    blocksMarked: marked,
    garbageCollectedBlocks: reg.counter("thanos_compact_garbage_collected_blocks_total", "Total number of blocks marked for deletion by compactor."),
    garbageCollections: reg.counter("thanos_compact_garbage_collection_total", "Total number of garbage collection operations."),
    garbageCollectionFailures: reg.counter("thanos_compact_garbage_collection_failures_total", "Total number of failed garbage collection operations."),
    garbageCollectionDuration: reg.histogram("thanos_compact_garbage_collection_duration_seconds", "Time it took to perform garbage collection iteration.", [], [0.01, 0.1, 0.3, 0.6, 1, 3, 6, 9, 20, 30, 60, 90, 120, 240, 360, 720]),
    groupCompactions: reg.counter("thanos_compact_group_compactions_total", "Total number of group compaction attempts that resulted in a new block.", ["resolution"]),
    groupCompactionRunsStarted: reg.counter("thanos_compact_group_compaction_runs_started_total", "Total number of group compaction attempts.", ["resolution"]),
    groupCompactionRunsCompleted: reg.counter("thanos_compact_group_compaction_runs_completed_total", "Total number of group completed compaction runs. This also includes compactor group runs that resulted with no compaction.", ["resolution"]),
    groupCompactionFailures: reg.counter("thanos_compact_group_compactions_failures_total", "Total number of failed group compactions.", ["resolution"]),
    groupVerticalCompactions: reg.counter("thanos_compact_group_vertical_compactions_total", "Total number of group compaction attempts that resulted in a new block based on overlapping blocks.", ["resolution"]),
    downsamples: reg.counter("thanos_compact_downsample_total", "Total number of downsampling attempts.", ["resolution"]),
    downsampleFailures: reg.counter("thanos_compact_downsample_failures_total", "Total number of failed downsampling attempts.", ["resolution"]),
    downsampleDuration: reg.histogram("thanos_compact_downsample_duration_seconds", "Duration of downsample runs", ["resolution"], [60, 300, 900, 1800, 3600, 7200, 14400]),
    todoCompactions: reg.gauge("thanos_compact_todo_compactions", "number of compactions to be done"),
    todoCompactionBlocks: reg.gauge("thanos_compact_todo_compaction_blocks", "number of blocks planned to be compacted"),
    todoDownsampleBlocks: reg.gauge("thanos_compact_todo_downsample_blocks", "number of blocks to be downsampled"),
    todoDeletionBlocks: reg.gauge("thanos_compact_todo_deletion_blocks", "number of blocks that have crossed their retention period"),
    metaSynced: reg.gauge("thanos_blocks_meta_synced", "Number of block metadata synced", ["state"]),
    metaSyncs: reg.counter("thanos_blocks_meta_syncs_total", "Total blocks metadata synchronization attempts"),
    metaSyncFailures: reg.counter("thanos_blocks_meta_sync_failures_total", "Total blocks metadata synchronization failures"),
  };
}

/**
 * A paced full GC of the runtime (Bun.gc(true), or Node's gc with --expose-gc). Compactions call it often
 * (every 1024 series, every MiB downloaded, between phases); it collects only when the RSS grew by
 * `stepBytes` since the last collection. JavaScriptCore grows its heap with the allocation rate, so
 * without this a compaction's garbage (a few objects per series) made the RSS grow with the series
 * count; collecting on every call instead cost as much CPU as the compaction.
 */
export function runtimeGc(stepBytes = 16 << 20): (() => void) | undefined {
  const bun = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun;
  const g = (globalThis as { gc?: () => void }).gc;
  const full = bun ? () => bun.gc(true) : typeof g === "function" ? () => g() : null;
  if (!full) return undefined;
  const rss = () => process.memoryUsage.rss();
  let last = rss();
  return () => {
    if (rss() < last + stepBytes) return;
    full();
    last = rss();
  };
}
