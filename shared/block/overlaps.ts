// Prometheus' tsdb.OverlappingBlocks and Overlaps.String (tsdb/db.go, what Thanos' compactor and
// `tools bucket verify` report): over blocks sorted by minTime, the groups of blocks whose ranges
// overlap, each with the range all of them share.

import { goDuration } from "../encoding/gotext.ts";

export interface Span { ulid: string; minTime: number; maxTime: number }

export interface Overlap<T extends Span> {
  /** The critical range: the latest start and the earliest end of the group (Min starts at 0, as in Prometheus). */
  min: number;
  max: number;
  blocks: T[];
}

/** Groups of overlapping blocks; `sorted` must be sorted by minTime. Empty when nothing overlaps. */
export function overlappingBlocks<T extends Span>(sorted: readonly T[]): Overlap<T>[] {
  if (sorted.length <= 1) return [];
  const groups: T[][] = [];
  let pending: T[] = [sorted[0]!];
  let continuous = true;
  for (const b of sorted.slice(1)) {
    const still: T[] = [];
    for (const p of pending) {
      if (b.minTime >= p.maxTime) { continuous = false; continue; }
      still.push(p);
    }
    pending = [...still, b];
    if (still.length === 0) continue;
    if (continuous && groups.length > 0) { groups[groups.length - 1]!.push(b); continue; }
    groups.push([...still, b]);
    continuous = true;
  }
  return groups.map((blocks) => {
    let min = 0, max = Number.MAX_SAFE_INTEGER;
    for (const b of blocks) { if (max > b.maxTime) max = b.maxTime; if (min < b.minTime) min = b.minTime; }
    return { min, max, blocks };
  });
}

/** A range of whole seconds as Prometheus prints it: time.Duration((max-min)/1000) * time.Second. */
function secRange(min: number, max: number): string {
  return goDuration(Math.trunc((max - min) / 1000) * 1000);
}

/** "<ulid: …, mint: …, maxt: …, range: …>" */
export function spanString(m: Span): string {
  return `<ulid: ${m.ulid}, mint: ${m.minTime}, maxt: ${m.maxTime}, range: ${secRange(m.minTime, m.maxTime)}>`;
}

/** Overlaps.String(): one line per group (Go prints its map in random order; here in time order). */
export function overlapsString(o: readonly Overlap<Span>[]): string {
  return o.map((g) => `[mint: ${g.min}, maxt: ${g.max}, range: ${secRange(g.min, g.max)}, blocks: ${g.blocks.length}]: ${g.blocks.map(spanString).join(", ")}`).join("\n");
}
