// Series from stores as StorageSeries for the engine: chunks stay compressed until an iterator is asked
// for, then decode through shared/chunkenc (XOR) into the block reader's ChunksIterator, which trims to
// the selected range and merges overlapping chunks (first one wins a timestamp tie).
//
// Downsampled chunks (AggrChunk without `raw`) are read exactly as Thanos' querier reads them
// (pkg/query/iter.go chunkSeries.Iterator): the selector's function picks the aggregate (aggrsForFunc);
// per chunk, that aggregate (or the raw chunk, for data a finer block filled in); chunks chained with
// later chunks skipping what an earlier one already covered. rate/irate/increase/resets read the counter
// aggregate through the counter-resets iterator (shared/chunkenc/aggr.ts), raw chunks included, so a
// reset between chunks is seen and resets() counts none, as in Thanos. Anything else reads sum/count per
// chunk: the windows' averages. count_over_time then counts downsampled points, not raw samples.
// Series made only of raw chunks keep Prometheus' semantics unless the request allows downsampled data
// (max_source_resolution > 0): then counters go through the counter-resets iterator as in Thanos.

import { AggrType, CounterResetsIterator } from "../chunkenc/aggr.ts";
import { chunkIterator } from "../chunkenc/chunk.ts";
import { CodedError } from "../encoding/errors.ts";
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
  if (f === "increase" || f === "rate" || f === "irate" || f === "resets" || f === "xincrease" || f === "xrate") return [AggrType.Counter];
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
    /** Read counters as Thanos does even when every chunk is raw (max_source_resolution > 0). */
    private readonly thanosCounters = false,
  ) {}

  iterator(): SampleIterator {
    if (this.readsAggregates()) return this.thanosIterator(`chunk of ${labelsString(this.labels)} from ${this.from}`);
    const it = this.rawIterator(`chunk from ${this.from}`);
    // ChunksIterator decodes in its constructor, so a corrupt chunk is known here; only then is the
    // series named (building the label string for every series showed in profiles).
    const e = it.err();
    if (e) return this.rawIterator(`chunk of ${labelsString(this.labels)} from ${this.from}`);
    return it;
  }

  /** The raw chunks (null when read Thanos' way): the dedup merge decodes them as it needs them. */
  chunkList(): { chunks: SeriesChunk[]; mint: number; maxt: number } | null {
    if (this.readsAggregates()) return null;
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

  /** Some chunk is downsampled, or counters must be read as Thanos reads them. */
  private readsAggregates(): boolean {
    if (this.down === undefined) {
      let d = false;
      for (const c of this.chunks) if (!c.raw) { d = true; break; }
      if (!d && this.thanosCounters) { const a = aggrsForFunc(this.func); d = a.length === 1 && a[0] === AggrType.Counter; }
      this.down = d;
    }
    return this.down;
  }
  private down: boolean | undefined;

  private rawIterator(what: string): SampleIterator {
    return new ChunksIterator(this.chunks.map((c) => seriesChunk(c, c.raw!, what)), this.mint, this.maxt);
  }

  /** Thanos' chunkSeries.Iterator (pkg/query/iter.go). */
  private thanosIterator(what: string): SampleIterator {
    const want = aggrsForFunc(this.func);
    const its: SampleIterator[] = [];
    if (want.length === 1) {
      const t = want[0]!;
      for (const c of this.chunks) its.push(chunkIt(c, pick(c, t) ?? c.raw, what));
      const it = t === AggrType.Counter ? new CounterResetsIterator(its) : new ChunkSeriesIterator(its);
      return new BoundedIterator(it, this.mint, this.maxt);
    }
    for (const c of this.chunks) {
      its.push(c.raw ? chunkIt(c, c.raw, what) : new AverageIterator(chunkIt(c, c.count, what), chunkIt(c, c.sum, what)));
    }
    return new BoundedIterator(new ChunkSeriesIterator(its), this.mint, this.maxt);
  }
}

/** An iterator over one chunk (or sub-chunk); an error iterator when it is missing or unreadable. */
function chunkIt(c: StoreChunk, x: ChunkData | undefined, what: string): SampleIterator {
  if (!x) return new ErrIterator(new CodedError("corrupt", `${what} [${c.minTime}, ${c.maxTime}]: no valid chunk found (the aggregate the query needs is missing)`));
  const sc = seriesChunk(c, x, what);
  try {
    return chunkIterator(sc.encoding, sc.data, what);
  } catch (e) {
    return new ErrIterator(e as Error);
  }
}

class ErrIterator implements SampleIterator {
  constructor(private readonly e: Error) {}
  next(): boolean { return false; }
  seek(): boolean { return false; }
  at(): number { return 0; }
  value(): number { return 0; }
  isStale(): boolean { return false; }
  err(): Error | null { return this.e; }
}

/**
 * Chunks in order (Thanos' chunkSeriesIterator, exactly): a chunk's samples pass as they are; moving to
 * the next chunk seeks past the last sample read from the previous one, so overlapping chunks are not
 * read twice. Quirk kept: a chunk skipped whole while seeking lowers that mark to its own last sample.
 */
export class ChunkSeriesIterator implements SampleIterator {
  private i = 0;
  /** Go's AtT(): the current chunk's last sample read; -Infinity (MinInt64) before its first. */
  private t = -Infinity;
  private e: Error | null = null;
  constructor(private readonly its: readonly SampleIterator[]) {}

  next(): boolean {
    for (;;) {
      if (this.i >= this.its.length) return false;
      const lastT = this.t;
      const it = this.its[this.i]!;
      if (it.next()) { this.t = it.at(); return true; }
      const e = it.err();
      if (e) { this.e = e; return false; }
      if (this.i >= this.its.length - 1) return false;
      this.i++;
      this.t = -Infinity;
      // Seek(lastT + 1) in the next chunk.
      while (this.t < lastT + 1) if (!this.next()) return false;
      return true;
    }
  }

  seek(ts: number): boolean {
    while (this.t < ts) if (!this.next()) return false;
    return true;
  }

  at(): number { return this.t; }
  value(): number { return this.its[this.i]!.value(); }
  isStale(): boolean { return this.its[this.i]!.isStale(); }
  err(): Error | null { return this.e; }
}

/** Samples within [mint, maxt] only (Thanos' boundedSeriesIterator). */
export class BoundedIterator implements SampleIterator {
  constructor(private readonly it: SampleIterator, private readonly mint: number, private readonly maxt: number) {}
  next(): boolean {
    if (!this.it.next()) return false;
    if (this.it.at() < this.mint) return this.seek(this.mint);
    return this.it.at() <= this.maxt;
  }
  seek(ts: number): boolean {
    if (ts > this.maxt) return false;
    if (!this.it.seek(Math.max(ts, this.mint))) return false;
    return this.it.at() <= this.maxt;
  }
  at(): number { return this.it.at(); }
  value(): number { return this.it.value(); }
  isStale(): boolean { return this.it.isStale(); }
  err(): Error | null { return this.it.err(); }
}

/**
 * sum/count per downsampled point (Thanos' AverageChunkIterator): the two aggregates of one chunk step
 * together; a chunk whose count and sum disagree in length or timestamps is an error, not a guess.
 */
export class AverageIterator implements SampleIterator {
  private t = 0;
  private v = 0;
  private started = false;
  private e: Error | null = null;
  constructor(private readonly count: SampleIterator, private readonly sum: SampleIterator) {}

  next(): boolean {
    if (this.e) return false;
    const c = this.count.next(), s = this.sum.next();
    if (c !== s) return this.fail("sum and count iterator not aligned");
    if (!c) return false;
    const tc = this.count.at();
    if (tc !== this.sum.at()) return this.fail("sum and count timestamps not aligned");
    this.t = tc;
    this.started = true;
    this.v = this.sum.value() / this.count.value();
    return true;
  }

  private fail(msg: string): boolean {
    this.e = new CodedError("corrupt", `downsampled chunk: ${msg}`);
    return false;
  }

  seek(ts: number): boolean {
    if (this.started && this.t >= ts) return true;
    while (this.next()) if (this.t >= ts) return true;
    return false;
  }

  at(): number { return this.t; }
  value(): number { return this.v; }
  isStale(): boolean { return false; }
  err(): Error | null { return this.count.err() ?? this.sum.err() ?? this.e; }
}
