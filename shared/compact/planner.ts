// The compaction planner: which blocks of one group to compact next. Thanos' tsdbBasedPlanner
// (pkg/compact/planner.go, itself Prometheus' LeveledCompactor.plan without the filesystem), plus its two
// wrappers: the total index size guard and, with vertical compaction, the downsampled-block guard.
//
// Given the group's blocks sorted by minTime:
//   1. blocks with a no-compact mark are left out;
//   2. if any blocks overlap, all blocks of the first overlapping run are the plan (vertical compaction);
//   3. otherwise the newest block (highest minTime) is set aside, and for each range of ranges[1:] the
//      blocks are split into windows aligned to that range; the first window with >= 2 blocks, none of
//      them failed, that spans the whole range or ends before the newest block starts, is the plan —
//      split at no-compact marked blocks into gapless runs (the first run of >= 2 wins);
//   4. otherwise one block of at least ranges[len/2] with more than 5% tombstones per series.
//
// Thanos' levels are 1h, 2h, 8h, 2d, 14d; ranges[1:] makes sidecar 2h blocks go 2h -> 8h -> 2d -> 14d.

import type { BlockMeta } from "../tsdb/meta.ts";

/** Thanos' compaction levels (cmd/thanos/compact.go compactionSet), in ms. */
export const COMPACTION_LEVELS = [1, 2, 8, 48, 336].map((h) => h * 3600e3);

/** The levels up to --debug.max-compaction-level (default 4 = all of them). */
export function compactionRanges(maxLevel = COMPACTION_LEVELS.length - 1): number[] {
  if (!Number.isInteger(maxLevel) || maxLevel < 0 || maxLevel >= COMPACTION_LEVELS.length) {
    throw new Error(`level ${maxLevel} is bigger then default set of ${COMPACTION_LEVELS.length}`);
  }
  return COMPACTION_LEVELS.slice(0, maxLevel + 1);
}

/**
 * All blocks of the first run of overlapping blocks, in input order (Prometheus selectOverlappingMetas).
 * Input sorted by minTime.
 */
export function selectOverlappingMetas(metasByMinTime: readonly BlockMeta[]): BlockMeta[] {
  if (metasByMinTime.length < 2) return [];
  const out: BlockMeta[] = [];
  let globalMaxt = metasByMinTime[0]!.maxTime;
  for (let i = 1; i < metasByMinTime.length; i++) {
    const m = metasByMinTime[i]!;
    if (m.minTime < globalMaxt) {
      if (out.length === 0) out.push(metasByMinTime[i - 1]!);
      out.push(m);
    } else if (out.length > 0) {
      break;
    }
    if (m.maxTime > globalMaxt) globalMaxt = m.maxTime;
  }
  return out;
}

/**
 * Blocks grouped into windows [t0, t0+tr) aligned to tr; blocks that do not fit a window whole are
 * skipped (Prometheus splitByRange).
 */
export function splitByRange(metasByMinTime: readonly BlockMeta[], tr: number): BlockMeta[][] {
  const out: BlockMeta[][] = [];
  for (let i = 0; i < metasByMinTime.length;) {
    const m = metasByMinTime[i]!;
    // Go's integer division truncates toward zero; for negative times Prometheus shifts first.
    const t0 = m.minTime >= 0 ? tr * Math.trunc(m.minTime / tr) : tr * Math.trunc((m.minTime - tr + 1) / tr);
    if (m.maxTime > t0 + tr) { i++; continue; }
    const group: BlockMeta[] = [];
    for (; i < metasByMinTime.length; i++) {
      if (metasByMinTime[i]!.maxTime > t0 + tr) break;
      group.push(metasByMinTime[i]!);
    }
    if (group.length > 0) out.push(group);
  }
  return out;
}

/** Thanos' selectMetas: the blocks to compact into one at the next level, or none. */
export function selectMetas(ranges: readonly number[], noCompact: ReadonlyMap<string, unknown>, metasByMinTime: readonly BlockMeta[]): BlockMeta[] {
  if (ranges.length < 2 || metasByMinTime.length < 1) return [];
  const highTime = metasByMinTime[metasByMinTime.length - 1]!.minTime;
  for (const iv of ranges.slice(1)) {
    const parts = splitByRange(metasByMinTime, iv);
    outer: for (const p of parts) {
      for (const m of p) if (m.compaction.failed) continue outer;
      if (p.length < 2) continue;
      const mint = p[0]!.minTime;
      const maxt = p[p.length - 1]!.maxTime;
      // The window must span the full range (gaps allowed) or end before the most recent block: a block of
      // the same size might still arrive and fit it.
      if (maxt - mint !== iv && maxt > highTime) continue;
      // No-compact marked blocks split the window into gapless runs.
      let lastExcluded = 0;
      for (let i = 0; i < p.length; i++) {
        if (!noCompact.has(p[i]!.ulid)) continue;
        if (i - lastExcluded > 1) return p.slice(lastExcluded, i);
        lastExcluded = i + 1;
      }
      if (p.length - lastExcluded > 1) return p.slice(lastExcluded);
    }
  }
  return [];
}

/** The bare planner over a group's blocks sorted by minTime (Thanos tsdbBasedPlanner.plan). */
export function planCompaction(ranges: readonly number[], noCompact: ReadonlyMap<string, unknown>, metasByMinTime: readonly BlockMeta[]): BlockMeta[] {
  if (metasByMinTime.length === 0) return [];
  let notExcluded = metasByMinTime.filter((m) => !noCompact.has(m.ulid));
  const overlapping = selectOverlappingMetas(notExcluded);
  if (overlapping.length > 0) return overlapping;
  // Leave out the most recent block (highest minTime): it may have just been uploaded, and this gives a
  // window of one block's size for maintenance.
  if (!noCompact.has(metasByMinTime[metasByMinTime.length - 1]!.ulid)) notExcluded = notExcluded.slice(0, -1);
  const res = selectMetas(ranges, noCompact, metasByMinTime.slice(0, -1));
  if (res.length > 0) return res;
  // Compact a single large enough block with more than 5% tombstones.
  for (let i = notExcluded.length - 1; i >= 0; i--) {
    const m = notExcluded[i]!;
    if (m.maxTime - m.minTime < ranges[Math.floor(ranges.length / 2)]!) break;
    if ((m.stats.numTombstones ?? 0) / (m.stats.numSeries + 1) > 0.05) return [m];
  }
  return [];
}

export interface Planner {
  /** Blocks of one group (sorted by minTime) to compact into one, or [] for nothing to do. */
  plan(metasByMinTime: readonly BlockMeta[]): Promise<BlockMeta[]>;
}

/** What the planner wrappers need from the outside: putting a no-compact mark, finding an index size. */
export interface PlannerHooks {
  /** Put a no-compact mark on a block (the caller updates its metrics and bucket index). */
  markNoCompact(id: string, reason: string, details: string): Promise<void>;
  /** Size of a block's index in the bucket, when meta.thanos.files does not say. */
  indexSize(id: string): Promise<number>;
}

/**
 * The planner Thanos' compactor uses: the bare planner over the current no-compact marks, wrapped by the
 * total index size guard (--compact.block-max-index-size) and, with vertical compaction, by the guard that
 * keeps downsampled blocks out of vertical compactions.
 */
export function newPlanner(o: {
  ranges: readonly number[];
  noCompactMarks: () => ReadonlyMap<string, unknown>;
  maxIndexBytes: number;
  verticalCompaction: boolean;
  hooks: PlannerHooks;
}): Planner {
  const sizeGuard = (extra: ReadonlyMap<string, unknown>, metas: readonly BlockMeta[]) =>
    planWithIndexSizeLimit(o.ranges, new Map([...o.noCompactMarks(), ...extra]), metas, o.maxIndexBytes, o.hooks);
  if (!o.verticalCompaction) return { plan: (metas) => sizeGuard(new Map(), metas) };
  return {
    async plan(metas) {
      // Thanos' verticalCompactionDownsampleFilter: a vertical compaction cannot merge downsampled
      // aggregates (an average of averages), so downsampled blocks in such a plan get a no-compact mark
      // (thanos#6775) and the group is planned again without them.
      const extra = new Map<string, unknown>();
      for (;;) {
        const plan = await sizeGuard(extra, metas);
        if (selectOverlappingMetas(plan).length === 0) return plan;
        let marked = false;
        for (const m of plan) {
          if ((m.thanos?.downsample?.resolution ?? 0) === 0) continue;
          await o.hooks.markNoCompact(m.ulid, "downsample-vertical-compaction", "verticalCompactionDownsampleFilter: Downsampled block, see https://github.com/thanos-io/thanos/issues/6775");
          extra.set(m.ulid, true);
          marked = true;
        }
        if (!marked) return plan;
      }
    },
  };
}

/** Index size of a block: from meta.thanos.files, else asked of the bucket. */
async function indexSizeOf(m: BlockMeta, hooks: PlannerHooks): Promise<number> {
  let size = -1;
  for (const f of m.thanos?.files ?? []) if (f.rel_path === "index") size = f.size_bytes ?? 0;
  if (size <= 0) size = await hooks.indexSize(m.ulid);
  return size;
}

/**
 * Thanos' largeTotalIndexSizeFilter: sum the inputs' index sizes along the plan; once the sum reaches 85%
 * of the limit, mark the largest input so far no-compact ("index-size-exceeding") and plan again.
 */
export async function planWithIndexSizeLimit(
  ranges: readonly number[], noCompact: ReadonlyMap<string, unknown>, metas: readonly BlockMeta[], maxIndexBytes: number, hooks: PlannerHooks,
): Promise<BlockMeta[]> {
  const marked = new Map(noCompact);
  plan: for (;;) {
    const plan = planCompaction(ranges, marked, metas);
    let total = 0, maxSize = -Infinity, biggest = 0;
    for (let i = 0; i < plan.length; i++) {
      const size = await indexSizeOf(plan[i]!, hooks);
      if (maxSize < size) { maxSize = size; biggest = i; }
      total += size;
      if (total >= maxIndexBytes * 0.85) {
        const id = plan[biggest]!.ulid;
        await hooks.markNoCompact(id, "index-size-exceeding", `largeTotalIndexSizeFilter: Total compacted block's index size could exceed: ${maxIndexBytes} with this block. See https://github.com/thanos-io/thanos/issues/1424`);
        marked.set(id, true);
        continue plan;
      }
    }
    return plan;
  }
}
