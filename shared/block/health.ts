// Index health: Thanos' GatherIndexHealthStats (pkg/block/index.go), run by the compactor on every input
// block before compacting (critical problems halt, out-of-order chunks stop the group) and on its output
// (any problem halts; the sizes go into meta.json's thanos.index_stats). The index is read sequentially,
// one series at a time, so memory does not grow with the number of series.

import { CodedError } from "../encoding/errors.ts";
import { type IndexReader, type SeriesRefsEntry, compareLabelRefs } from "../tsdb/index.ts";
import { refOffset, refSegment } from "../tsdb/chunks.ts";

export interface HealthStats {
  totalSeries: number;
  outOfOrderSeries: number;
  outOfOrderChunks: number;
  duplicatedChunks: number;
  outsideChunks: number;
  completeOutsideChunks: number;
  issue347OutsideChunks: number;
  outOfOrderLabels: number;
  totalChunks: number;
  /** Approximations from refs, exactly as Thanos computes them (they go into thanos.index_stats). */
  seriesMaxSize: number;
  chunkMaxSize: number;
}

/** Thanos' per-series health checks, fed one series at a time (by a scan, or by a compaction's reads). */
export class HealthAccumulator {
  readonly stats: HealthStats = {
    totalSeries: 0, outOfOrderSeries: 0, outOfOrderChunks: 0, duplicatedChunks: 0, outsideChunks: 0,
    completeOutsideChunks: 0, issue347OutsideChunks: 0, outOfOrderLabels: 0, totalChunks: 0,
    seriesMaxSize: -Infinity, chunkMaxSize: -Infinity,
  };
  private prevRef = 0;
  private prev: Uint32Array | null = null;

  constructor(private readonly what: string, private readonly minTime: number, private readonly maxTime: number) {}

  /** Structural problems (series out of order, empty label sets or chunk lists) throw (`healthCheck: true`). */
  add(e: SeriesRefsEntry): void {
    try {
      this.check(e);
    } catch (err) {
      throw Object.assign(err as Error, { healthCheck: true });
    }
  }

  private check(e: SeriesRefsEntry): void {
    const s = this.stats, { minTime, maxTime } = this;
    if (this.prevRef !== 0) s.seriesMaxSize = Math.max(s.seriesMaxSize, (e.ref - this.prevRef) * 16);
    this.prevRef = e.ref;
    s.totalSeries++;
    if (e.labels.length === 0) throw new CodedError("corrupt", `${this.what}: empty label set detected for series ${e.ref}`);
    if (this.prev !== null && compareLabelRefs(this.prev, e.labels) >= 0) throw new CodedError("corrupt", `${this.what}: series ${e.ref} out of order (its labels sort before or equal the previous series')`);
    this.prev = e.labels;
    for (let i = 2; i < e.labels.length; i += 2) if (e.labels[i]! < e.labels[i - 2]!) s.outOfOrderLabels++;
    const chks = e.chunks;
    if (chks.length === 0) throw new CodedError("corrupt", `${this.what}: empty chunks for series ${e.ref}`);
    let ooo = 0;
    for (let i = 0; i < chks.length; i++) {
      const c = chks[i]!;
      s.totalChunks++;
      // Thanos' approximation skips the last two chunks of a series (`i < len(chks)-2`).
      if (i < chks.length - 2) {
        const n = chks[i + 1]!;
        if (refSegment(c.ref) === refSegment(n.ref)) s.chunkMaxSize = Math.max(s.chunkMaxSize, refOffset(n.ref) - refOffset(c.ref));
      }
      if (c.minTime < minTime || c.maxTime > maxTime) {
        s.outsideChunks++;
        if (c.minTime > maxTime || c.maxTime < minTime) s.completeOutsideChunks++;
        else if (c.minTime === maxTime) s.issue347OutsideChunks++;
      }
      if (i === 0) continue;
      const p = chks[i - 1]!;
      if (c.minTime > p.maxTime) continue;
      if (c.minTime === p.minTime && c.maxTime === p.maxTime) { s.duplicatedChunks++; continue; }
      ooo++;
    }
    if (ooo > 0) { s.outOfOrderSeries++; s.outOfOrderChunks += ooo; }
  }
}

/** Scan an index sequentially; structural problems (series out of order, empty label sets or chunk lists) throw. */
export async function indexHealthStats(ix: IndexReader, minTime: number, maxTime: number, collect?: () => void): Promise<HealthStats> {
  const acc = new HealthAccumulator(ix.what, minTime, maxTime);
  const sc = ix.seriesScanner();
  const batch: SeriesRefsEntry[] = [];
  for (let n = 0; ; n++) {
    batch.length = 0;
    if ((await sc.nextEntries(1024, batch)) === 0) break;
    for (const e of batch) acc.add(e);
    collect?.();
  }
  return acc.stats;
}

/** Thanos HealthStats.CriticalErr: chunks outside the block's range (other than issue 347's). */
export function criticalError(s: HealthStats): string | null {
  const msgs: string[] = [];
  const n = s.outsideChunks - (s.completeOutsideChunks + s.issue347OutsideChunks);
  if (n > 0) msgs.push(`found ${n} chunks non-completely outside the block time range`);
  if (s.completeOutsideChunks > 0) msgs.push(`found ${s.completeOutsideChunks} chunks completely outside the block time range`);
  return msgs.length ? msgs.join(", ") : null;
}

export function outOfOrderChunksError(s: HealthStats): string | null {
  if (s.outOfOrderChunks === 0) return null;
  return `${s.outOfOrderSeries}/${s.totalSeries} series have an average of ${(s.outOfOrderChunks / s.outOfOrderSeries).toFixed(3)} out-of-order chunks: ` +
    `${(s.duplicatedChunks / s.outOfOrderChunks).toFixed(3)} of these are exact duplicates (in terms of data and time range)`;
}

export function issue347Error(s: HealthStats): string | null {
  return s.issue347OutsideChunks > 0 ? `found ${s.issue347OutsideChunks} chunks outside the block time range introduced by https://github.com/prometheus/tsdb/issues/347` : null;
}

export function outOfOrderLabelsError(s: HealthStats): string | null {
  return s.outOfOrderLabels > 0 ? `index contains ${s.outOfOrderLabels} postings with out of order labels` : null;
}

/** Thanos HealthStats.AnyErr. */
export function anyHealthError(s: HealthStats): string | null {
  const msgs = [criticalError(s), issue347Error(s), outOfOrderLabelsError(s), outOfOrderChunksError(s)].filter((m): m is string => m !== null);
  return msgs.length ? msgs.join(", ") : null;
}

/** thanos.index_stats as Thanos sets it (only positive values). */
export function indexStatsOf(s: HealthStats): { series_max_size?: number; chunk_max_size?: number } {
  const o: { series_max_size?: number; chunk_max_size?: number } = {};
  if (s.seriesMaxSize > 0) o.series_max_size = s.seriesMaxSize;
  if (s.chunkMaxSize > 0) o.chunk_max_size = s.chunkMaxSize;
  return o;
}
