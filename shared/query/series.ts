// Series from stores as StorageSeries for the engine: chunks stay compressed until an iterator is asked
// for, then decode through shared/chunkenc (XOR) into the block reader's ChunksIterator, which trims to
// the selected range and merges overlapping chunks (first one wins a timestamp tie).
//
// Downsampled chunks (AggrChunk without `raw`) are read as Thanos' querier reads them: the selector's
// function picks the aggregate (min/max/count/sum _over_time and their aggregations -> that aggregate;
// rate/increase/irate/resets -> counter; anything else -> sum/count, i.e. the window's average).
// Limits, as in Thanos: count_over_time counts downsampled points, not raw samples; the counter
// aggregate is read as stored, without Thanos' cross-chunk counter-reset re-application (rate() sees a
// chunk boundary that goes down as a reset, as it would on raw data).

import { AggrType } from "../chunkenc/aggr.ts";
import { ChainIterator } from "../dedup/dedup.ts";
import { labelsString, type Labels } from "../labels/labels.ts";
import type { SampleIterator, StorageSeries } from "../storage/types.ts";
import { ChunksIterator, decodeChunksInto, drainInto, type SampleBuffer, type SeriesChunk } from "../tsdb/querier.ts";
import type { ChunkData, StoreChunk } from "../chunkenc/chunk.ts";

/** Thanos' aggrsFromFunc: which aggregates a selector under this function reads. */
export function aggrsForFunc(func: string | undefined): AggrType[] {
  const f = func ?? "";
  if (f === "min" || f.startsWith("min_")) return [AggrType.Min];
  if (f === "max" || f.startsWith("max_")) return [AggrType.Max];
  if (f === "count" || f.startsWith("count_")) return [AggrType.Count];
  // "sum" itself falls through: it wants the samples (averages), not the window sums.
  if (f.startsWith("sum_")) return [AggrType.Sum];
  if (f === "increase" || f === "rate" || f === "irate" || f === "resets") return [AggrType.Counter];
  return [AggrType.Count, AggrType.Sum];
}

function pick(c: StoreChunk, t: AggrType): ChunkData | undefined {
  switch (t) {
    case AggrType.Count: return c.count;
    case AggrType.Sum: return c.sum;
    case AggrType.Min: return c.min;
    case AggrType.Max: return c.max;
    default: return c.counter;
  }
}

function seriesChunk(c: StoreChunk, x: ChunkData, what: string): SeriesChunk {
  return { minTime: c.minTime, maxTime: c.maxTime, encoding: x.encoding, data: x.data, what };
}

export class StoreSeries implements StorageSeries {
  constructor(
    readonly labels: Labels,
    private readonly chunks: readonly StoreChunk[],
    private readonly mint: number,
    private readonly maxt: number,
    private readonly func: string | undefined,
    private readonly from: string,
  ) {}

  iterator(): SampleIterator {
    const it = this.build(`chunk from ${this.from}`);
    // ChunksIterator decodes in its constructor, so a corrupt chunk is known here; only then is the
    // series named (building the label string for every series showed in profiles).
    const e = it.err();
    if (e) return this.build(`chunk of ${labelsString(this.labels)} from ${this.from}`);
    return it;
  }

  /** The raw chunks (null when some are downsampled): the dedup merge decodes them as it needs them. */
  chunkList(): { chunks: SeriesChunk[]; mint: number; maxt: number } | null {
    for (const c of this.chunks) if (!c.raw) return null;
    const what = `chunk from ${this.from}`;
    return { chunks: this.chunks.map((c) => seriesChunk(c, c.raw!, what)), mint: this.mint, maxt: this.maxt };
  }

  /** All samples into `out` (the engine's reused buffer): raw chunks decode straight into it. */
  samplesInto(out: SampleBuffer): void {
    const raw = this.chunkList();
    if (raw) {
      try {
        decodeChunksInto(raw.chunks, raw.mint, raw.maxt, out);
        return;
      } catch {
        // Fall through: the iterator names the series in its error.
      }
    }
    const e = drainInto(this.iterator(), out);
    if (e) throw e;
  }

  private build(what: string): SampleIterator {
    const raw: SeriesChunk[] = [];
    let aggr: StoreChunk[] | null = null;
    for (const c of this.chunks) {
      if (c.raw) raw.push(seriesChunk(c, c.raw, what));
      else (aggr ??= []).push(c);
    }
    if (aggr === null) return new ChunksIterator(raw, this.mint, this.maxt);
    const want = aggrsForFunc(this.func);
    let down: SampleIterator;
    if (want.length === 1) {
      const t = want[0]!;
      for (const c of aggr) { const x = pick(c, t); if (x) raw.push(seriesChunk(c, x, what)); }
      return new ChunksIterator(raw, this.mint, this.maxt);
    } else {
      const sums: SeriesChunk[] = [], counts: SeriesChunk[] = [];
      for (const c of aggr) {
        if (c.sum && c.count) { sums.push(seriesChunk(c, c.sum, what)); counts.push(seriesChunk(c, c.count, what)); }
      }
      down = new AverageIterator(new ChunksIterator(sums, this.mint, this.maxt), new ChunksIterator(counts, this.mint, this.maxt));
    }
    return raw.length === 0 ? down : new ChainIterator([new ChunksIterator(raw, this.mint, this.maxt), down]);
  }
}

/** sum/count per downsampled point (Thanos' averageChunkIterator); points missing either are skipped. */
export class AverageIterator implements SampleIterator {
  private t = 0;
  private v = 0;
  private e: Error | null = null;
  constructor(private readonly sum: SampleIterator, private readonly count: SampleIterator) {}

  next(): boolean {
    if (!this.sum.next()) return this.end();
    return this.align();
  }

  private align(): boolean {
    for (;;) {
      const ts = this.sum.at();
      if (!this.count.seek(ts)) return this.end();
      const tc = this.count.at();
      if (tc === ts) {
        this.t = ts;
        this.v = this.sum.value() / this.count.value();
        return true;
      }
      if (!this.sum.seek(tc)) return this.end();
    }
  }

  private end(): boolean {
    this.e = this.sum.err() ?? this.count.err();
    return false;
  }

  seek(ts: number): boolean {
    if (this.t >= ts && this.t !== 0) return true;
    if (!this.sum.seek(ts)) return this.end();
    return this.align();
  }

  at(): number { return this.t; }
  value(): number { return this.v; }
  isStale(): boolean { return false; }
  err(): Error | null { return this.e; }
}
