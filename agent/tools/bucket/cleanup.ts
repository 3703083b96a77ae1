// `tools bucket cleanup`: what the compactor's cleaner does, once: aborted partial uploads (block folders
// without meta.json whose newest object is older than 48h) and blocks marked for deletion longer ago
// than --delete-delay are deleted. Thanos' filters for it: label sharding, consistency delay, deletion
// marks after --delete-delay/2, deduplication. The steps are the compactor's (shared/compact/).

import { consistencyDelayFilter, deduplicateFilter, ignoreDeletionMarkFilter, labelShardFilter } from "../../../shared/block/fetcher.ts";
import type { FlagSpec } from "../../flags.ts";
import { done, SELECTOR_FLAGS, SYNC_FLAGS, selectorRelabel, setupTool, toolCompactor } from "./common.ts";
import { parseDurationMs } from "../../flags.ts";

const specs: FlagSpec[] = [
  ...SYNC_FLAGS,
  ...SELECTOR_FLAGS,
];

export async function run(argv: string[]): Promise<number> {
  const t = await setupTool("cleanup", "Cleans up all blocks marked for deletion.", specs, argv);
  if (!t) return 0;
  const { f } = t;
  const deleteDelayMs = parseDurationMs("delete-delay", f.get("delete-delay")!);
  const consistencyDelayMs = parseDurationMs("consistency-delay", f.get("consistency-delay")!);
  const relabel = await selectorRelabel(f);
  const c = toolCompactor(t, { deleteDelayMs, consistencyDelayMs, relabel, blockMetaFetchConcurrency: Number(f.get("block-sync-concurrency")) || 20 }, [
    labelShardFilter(relabel), consistencyDelayFilter(consistencyDelayMs), ignoreDeletionMarkFilter(deleteDelayMs / 2), deduplicateFilter(),
  ]);
  t.log("info", "syncing blocks metadata");
  await c.syncMetas();
  t.log("info", "synced blocks done");
  await c.cleanPartial();
  await c.deleteMarked();
  await c.refreshBucketIndex();
  t.log("info", "cleanup done");
  return done(t);
}
