// `tools bucket retention`: the compactor's retention step alone: blocks whose maxTime is older than
// --retention.resolution-raw|5m|1h get a deletion mark. Thanos' filters for it: label sharding,
// consistency delay, deduplication, deletion marks after --delete-delay/2. No compactor may run on the
// bucket meanwhile (Thanos logs the same warning).

import { consistencyDelayFilter, deduplicateFilter, ignoreDeletionMarkFilter, labelShardFilter } from "../../../shared/block/fetcher.ts";
import { goDuration } from "../../../shared/encoding/gotext.ts";
import type { FlagSpec } from "../../flags.ts";
import { done, SELECTOR_FLAGS, SYNC_FLAGS, selectorRelabel, setupTool, toolCompactor } from "./common.ts";
import { parseDurationMs } from "../../flags.ts";

const specs: FlagSpec[] = [
  ...SYNC_FLAGS,
  ...SELECTOR_FLAGS,
  { name: "retention.resolution-raw", help: "How long to retain raw samples in bucket. Setting this to 0d will retain samples of this resolution forever", default: "0d" },
  { name: "retention.resolution-5m", help: "How long to retain samples of resolution 1 (5 minutes) in bucket. Setting this to 0d will retain samples of this resolution forever", default: "0d" },
  { name: "retention.resolution-1h", help: "How long to retain samples of resolution 2 (1 hour) in bucket. Setting this to 0d will retain samples of this resolution forever", default: "0d" },
];

export async function run(argv: string[]): Promise<number> {
  const t = await setupTool("retention", "Retention applies retention policies on the given bucket. Please make sure no compactor is running on the same bucket at the same time.", specs, argv);
  if (!t) return 0;
  const { f, log } = t;
  const retention = {
    raw: parseDurationMs("retention.resolution-raw", f.get("retention.resolution-raw")!),
    fiveMin: parseDurationMs("retention.resolution-5m", f.get("retention.resolution-5m")!),
    oneHour: parseDurationMs("retention.resolution-1h", f.get("retention.resolution-1h")!),
  };
  for (const [k, v] of [["raw samples", retention.raw], ["5 min aggregated samples", retention.fiveMin], ["1 hour aggregated samples", retention.oneHour]] as const) {
    if (v !== 0) log("info", `retention policy of ${k} is enabled`, { duration: goDuration(v) });
  }
  const deleteDelayMs = parseDurationMs("delete-delay", f.get("delete-delay")!);
  const consistencyDelayMs = parseDurationMs("consistency-delay", f.get("consistency-delay")!);
  const relabel = await selectorRelabel(f);
  const c = toolCompactor(t, { deleteDelayMs, consistencyDelayMs, relabel, retention, blockMetaFetchConcurrency: Number(f.get("block-sync-concurrency")) || 20 }, [
    labelShardFilter(relabel), consistencyDelayFilter(consistencyDelayMs), deduplicateFilter(), ignoreDeletionMarkFilter(deleteDelayMs / 2),
  ]);
  log("info", "syncing blocks metadata");
  await c.syncMetas();
  log("info", "synced blocks done");
  log("warn", "GLOBAL COMPACTOR SHOULD __NOT__ BE RUNNING ON THE SAME BUCKET");
  await c.applyRetention();
  await c.refreshBucketIndex();
  return done(t);
}
