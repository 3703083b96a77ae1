// Compaction groups: blocks of one stream (same external labels, replica labels already removed by the
// fetcher) and one resolution, which may be compacted together (Thanos' DefaultGrouper, Group).

import { externalLabels, groupKey, resolution } from "../block/fetcher.ts";
import type { Label } from "../labels/labels.ts";
import type { BlockMeta } from "../tsdb/meta.ts";

export interface Group {
  /** "<resolution>@<labels hash>" (Thanos' GroupKey); also the name of its working directory. */
  key: string;
  labels: Label[];
  resolution: number;
  /** Sorted by minTime (then ULID, so equal start times order the same on every run). */
  metas: BlockMeta[];
  /** meta.thanos.extensions keys every block of the group has (Thanos' logical AND), or undefined. */
  extensions?: Record<string, unknown>;
}

export function byMinTime(a: BlockMeta, b: BlockMeta): number {
  return a.minTime - b.minTime || (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0);
}

/** Groups of the given blocks, sorted by key. */
export function groupBlocks(metas: Iterable<BlockMeta>): Group[] {
  const groups = new Map<string, Group>();
  for (const m of metas) {
    const key = groupKey(m);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, labels: externalLabels(m), resolution: resolution(m), metas: [] }));
    g.metas.push(m);
  }
  const out = [...groups.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const g of out) {
    g.metas.sort(byMinTime);
    let combined: Record<string, unknown> | undefined;
    for (const m of g.metas) {
      const ext = m.thanos?.extensions;
      if (typeof ext !== "object" || ext === null || Array.isArray(ext)) continue;
      if (!combined) { combined = { ...(ext as Record<string, unknown>) }; continue; }
      for (const k of Object.keys(combined)) if (!(k in (ext as object))) delete combined[k];
    }
    if (combined) g.extensions = combined;
  }
  return out;
}

/** Labels as a name -> value record (meta.json's thanos.labels). */
export function labelsRecord(ls: readonly Label[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of ls) o[l.name] = l.value;
  return o;
}
