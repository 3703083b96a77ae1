// Which blocks are due for downsampling (Thanos cmd/thanos/downsample.go downsampleBucket), and the
// backlog estimates behind thanos_compact_todo_* (pkg/compact/compact.go *ProgressCalculator): pure
// functions over metas, shared by the compactor, its progress loop and the bucket tools.

import type { BlockMeta } from "../tsdb/meta.ts";
import { newUlid } from "../tsdb/ulid.ts";
import { compactBlockMetas } from "./blocks.ts";
import { groupBlocks, type Group } from "./group.ts";
import { planCompaction } from "./planner.ts";
import { blocksPastRetention, type Retention } from "./clean.ts";
import { DOWNSAMPLE_RANGE_1H, DOWNSAMPLE_RANGE_5M, RES_1H, RES_5M, RES_RAW } from "./downsample.ts";

export interface DownsampleJob { meta: BlockMeta; resolution: number }

/**
 * Blocks to downsample, in ULID order: a raw block of at least 40h whose sources are not all covered by
 * 5m blocks yet goes to 5m; a 5m block of at least 10 days not covered by 1h blocks goes to 1h. The
 * trigger is the block's range, not its age. Blocks in `noDownsample` are skipped.
 */
export function downsampleJobs(metas: Iterable<BlockMeta>, noDownsample: ReadonlySet<string> | ReadonlyMap<string, unknown> = new Set()): DownsampleJob[] {
  const all = [...metas].filter((m) => !noDownsample.has(m.ulid));
  const sources5m = new Set<string>(), sources1h = new Set<string>();
  for (const m of all) {
    const r = m.thanos?.downsample?.resolution ?? 0;
    if (r === RES_5M) for (const s of m.compaction.sources) sources5m.add(s);
    else if (r === RES_1H) for (const s of m.compaction.sources) sources1h.add(s);
    else if (r !== RES_RAW) throw new Error(`block ${m.ulid}: unexpected downsampling resolution ${r}`);
  }
  const out: DownsampleJob[] = [];
  for (const m of all.sort((a, b) => (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0))) {
    const r = m.thanos?.downsample?.resolution ?? 0;
    const range = m.maxTime - m.minTime;
    if (r === RES_RAW) {
      if (!m.compaction.sources.some((s) => !sources5m.has(s))) continue;
      if (range < DOWNSAMPLE_RANGE_5M) continue;
      out.push({ meta: m, resolution: RES_5M });
    } else if (r === RES_5M) {
      if (!m.compaction.sources.some((s) => !sources1h.has(s))) continue;
      if (range < DOWNSAMPLE_RANGE_1H) continue;
      out.push({ meta: m, resolution: RES_1H });
    }
  }
  return out;
}

/**
 * Thanos' CompactionProgressCalculator: plan each group again and again with the bare planner, replacing
 * the planned blocks by their would-be result, until nothing is left to plan.
 */
export function compactionBacklog(groups: Group[], ranges: readonly number[], noCompact: ReadonlyMap<string, unknown>): { compactions: number; blocks: number } {
  let compactions = 0, blocks = 0;
  let todo = groups.map((g) => ({ ...g, metas: [...g.metas] }));
  while (todo.length > 0) {
    const next: typeof todo = [];
    for (const g of todo) {
      if (g.metas.length === 1) continue;
      const plan = planCompaction(ranges, noCompact, g.metas);
      if (plan.length === 0) continue;
      compactions++;
      blocks += plan.length;
      const ids = new Set(plan.map((m) => m.ulid));
      g.metas = g.metas.filter((m) => !ids.has(m.ulid));
      if (g.metas.length === 0) continue;
      const ulid = newUlid();
      const c = compactBlockMetas(ulid, plan);
      g.metas.push({ ulid, minTime: c.minTime, maxTime: c.maxTime, version: 1, stats: { numSamples: 0, numSeries: 0, numChunks: 0 }, compaction: c.compaction, thanos: { labels: {}, downsample: { resolution: g.resolution }, source: "compactor" } });
      g.metas.sort((a, b) => a.minTime - b.minTime);
      next.push(g);
    }
    todo = next;
  }
  return { compactions, blocks };
}

/** Thanos' DownsampleProgressCalculator (no-downsample marks are not considered, as in Thanos). */
export function downsampleBacklog(metas: Iterable<BlockMeta>): number {
  return downsampleJobs(metas).length;
}

/** Thanos' RetentionProgressCalculator. */
export function retentionBacklog(metas: Iterable<BlockMeta>, r: Retention, now: number): number {
  return blocksPastRetention(metas, r, now).length;
}

export { groupBlocks };
