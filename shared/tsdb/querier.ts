// BlocksQuerier: the Querier (shared/storage/types.ts) over a set of blocks. Series come out sorted by
// labels and merged across blocks; samples are trimmed to the asked range, with tombstones applied.
// selectStream() reads in batches of series so a dump of a large block stays bounded in memory.

import { type Chunk, Encoding } from "../chunkenc/chunk.ts";
import { decodeXorAt, isStaleBits, STALE_HI, STALE_LO, XorAppender } from "../chunkenc/xor.ts";
import { unsupportedEncoding } from "../chunkenc/chunk.ts";
import { CodedError } from "../encoding/errors.ts";
import { compareLabels, compareStrings, type Labels } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import type { Querier, SampleIterator, SelectHints, SelectResult, StorageSeries } from "../storage/types.ts";
import type { Block } from "./block.ts";
import type { ChunkData } from "./chunks.ts";
import { expandPostings } from "./postings.ts";
import { coversAll, isDeleted, type Interval } from "./tombstones.ts";

/** One chunk of a selected series, with the deleted intervals of the block it came from. */
export interface SeriesChunk extends Chunk {
  deleted?: readonly Interval[];
  /** Where it came from, for errors. */
  what: string;
}

export class BlockSeries implements StorageSeries {
  constructor(
    readonly labels: Labels,
    readonly chunks: SeriesChunk[],
    readonly mint: number,
    readonly maxt: number,
  ) {}
  iterator(): SampleIterator { return new ChunksIterator(this.chunks, this.mint, this.maxt); }
  samplesInto(out: SampleBuffer): void { decodeChunksInto(this.chunks, this.mint, this.maxt, out); }
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LE ? 1 : 0, LO = 1 - HI;

/**
 * A series' decoded samples in time order: ts[i], vs[i] for i < n. `bits` aliases `vs` (native byte
 * order) so a value's raw bits survive, and the staleness marker (a NaN payload) with them: test it with
 * `staleAt`. Borrowed: readers must not write to the arrays.
 */
export interface SampleArrays {
  readonly ts: Float64Array;
  readonly vs: Float64Array;
  readonly bits: Uint32Array;
  readonly n: number;
}

/** Whether sample i of `a` is a staleness marker. */
export function staleAt(a: SampleArrays, i: number): boolean {
  const v = a.vs[i]!;
  return v !== v && isStaleBits(a.bits[2 * i + HI]!, a.bits[2 * i + LO]!);
}

/** Write the staleness marker's bits as sample i's value. */
export function setStale(bits: Uint32Array, i: number): void {
  bits[2 * i + HI] = STALE_HI;
  bits[2 * i + LO] = STALE_LO;
}

/**
 * Growable sample arrays, reused from series to series by readers that take one series at a time (the
 * PromQL engine): allocating typed arrays per series was a large share of a whole-metric query's CPU.
 * The value arrays share one explicit ArrayBuffer (asking a typed array for `.buffer` is slow in Bun).
 */
export class SampleBuffer implements SampleArrays {
  ts: Float64Array;
  vs: Float64Array;
  bits: Uint32Array;
  n = 0;
  constructor(cap = 256) {
    cap = Math.max(cap, 1);
    this.ts = new Float64Array(cap);
    const buf = new ArrayBuffer(cap * 8);
    this.vs = new Float64Array(buf);
    this.bits = new Uint32Array(buf);
  }
  /** Room for `cap` samples; keeps the first n. */
  reserve(cap: number): void {
    if (this.ts.length >= cap) return;
    const c = Math.max(cap, this.ts.length * 2);
    const ts = new Float64Array(c);
    const buf = new ArrayBuffer(c * 8);
    const vs = new Float64Array(buf), bits = new Uint32Array(buf);
    if (this.n > 0) {
      ts.set(this.ts.subarray(0, this.n));
      bits.set(this.bits.subarray(0, 2 * this.n));
    }
    this.ts = ts; this.vs = vs; this.bits = bits;
  }
  /** Append one sample; a stale one gets the staleness marker's bits (a stored NaN may lose them). */
  push(t: number, v: number, stale: boolean): void {
    if (this.n === this.ts.length) this.reserve(this.n + 1);
    const i = this.n++;
    this.ts[i] = t;
    if (stale) setStale(this.bits, i);
    else this.vs[i] = v;
  }
}

/** Read a whole iterator into `out` (the generic path for iterators that have no arrays). */
export function drainInto(it: SampleIterator, out: SampleBuffer): Error | null {
  out.n = 0;
  while (it.next()) out.push(it.at(), it.value(), it.isStale());
  return it.err();
}

/**
 * Decode every chunk of a series into `out` (reused; out.n = samples kept), trimmed to [mint, maxt] and
 * minus deleted intervals. Overlapping chunks (blocks that overlap in time) are merged by timestamp, the
 * first chunk's sample winning a tie. Throws on a corrupt or unsupported chunk.
 */
export function decodeChunksInto(chunks: readonly SeriesChunk[], mint: number, maxt: number, out: SampleBuffer): void {
  let cap = 0;
  for (const c of chunks) cap += c.data.length >= 2 ? xorNumSamplesSafe(c.data) : 0;
  out.n = 0;
  out.reserve(cap);
  const ts = out.ts, bits = out.bits;
  let sorted = true;
  let n = 0;
  let last = Number.NEGATIVE_INFINITY;
  for (const c of chunks) {
    if (c.encoding !== Encoding.XOR) throw unsupportedEncoding(c.encoding, c.what);
    // Decoded in place after what is kept so far, then compacted over trimmed/deleted samples.
    const got = decodeXorAt(c.data, ts, bits, n, c.what);
    const end = n + got;
    const del = c.deleted;
    let m = n;
    for (let j = n; j < end; j++) {
      const t = ts[j]!;
      if (t < mint || t > maxt) continue;
      if (del && isDeleted(del, t)) continue;
      if (t <= last) sorted = false;
      last = t;
      if (m !== j) {
        ts[m] = t;
        bits[2 * m] = bits[2 * j]!;
        bits[2 * m + 1] = bits[2 * j + 1]!;
      }
      m++;
    }
    n = m;
  }
  out.n = n;
  if (!sorted) sortDedup(out);
}

/**
 * A chunk with its block's deleted intervals applied, for readers that forward chunks rather than
 * decode them (local blocks as a store of the fan-out, shared/query/blocks.ts): unchanged when no
 * interval touches it, else re-encoded without the deleted samples, as Prometheus' own querier does;
 * null when none remain. So a query over --tsdb.path answers the same through the fan-out as through
 * BlocksQuerier. Value bits are kept exactly (staleness markers included). Only XOR chunks: an
 * AggrChunk comes from a downsampled block, which carries no tombstones.
 */
export function withoutDeleted(c: SeriesChunk): SeriesChunk | null {
  const del = c.deleted;
  if (!del || !del.some((iv) => iv.maxTime >= c.minTime && iv.minTime <= c.maxTime) || c.encoding !== Encoding.XOR) return c;
  const n = xorNumSamplesSafe(c.data);
  const ts = new Float64Array(n), bits = new Uint32Array(2 * n);
  const got = decodeXorAt(c.data, ts, bits, 0, c.what);
  const app = new XorAppender();
  let first = NaN, last = NaN;
  for (let j = 0; j < got; j++) {
    const t = ts[j]!;
    if (isDeleted(del, t)) continue;
    if (first !== first) first = t;
    last = t;
    app.appendBits(t, bits[2 * j + HI]!, bits[2 * j + LO]!);
  }
  if (first !== first) return null;
  return { minTime: first, maxTime: last, encoding: Encoding.XOR, data: app.bytes(), what: c.what };
}

function sortDedup(b: SampleBuffer): void {
  const n = b.n;
  const idx = Array.from({ length: n }, (_, i) => i);
  idx.sort((x, y) => b.ts[x]! - b.ts[y]! || x - y); // stable: earlier chunk wins a tie
  const ts = new Float64Array(n), bits = new Uint32Array(2 * n);
  let m = 0;
  for (const i of idx) {
    if (m > 0 && ts[m - 1] === b.ts[i]) continue;
    ts[m] = b.ts[i]!;
    bits[2 * m] = b.bits[2 * i]!;
    bits[2 * m + 1] = b.bits[2 * i + 1]!;
    m++;
  }
  b.ts.set(ts.subarray(0, m));
  b.bits.set(bits.subarray(0, 2 * m));
  b.n = m;
}

/** A SampleIterator over SampleArrays (positions only; the arrays are not copied). */
export class ArrayIterator implements SampleIterator {
  protected i = -1;
  constructor(protected a: SampleArrays, protected e: Error | null = null) {}
  next(): boolean { return ++this.i < this.a.n; }
  seek(t: number): boolean {
    if (this.i < 0) this.i = 0;
    const ts = this.a.ts, n = this.a.n;
    if (this.i < n && ts[this.i]! < t) {
      let lo = this.i + 1, hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (ts[mid]! < t) lo = mid + 1;
        else hi = mid;
      }
      this.i = lo;
    }
    return this.i < n;
  }
  at(): number { return this.a.ts[this.i]!; }
  value(): number { return this.a.vs[this.i]!; }
  isStale(): boolean { return isStaleBits(this.a.bits[2 * this.i + HI]!, this.a.bits[2 * this.i + LO]!); }
  /** Raw bits of the current value: [hi, lo]. */
  valueBits(): [number, number] { return [this.a.bits[2 * this.i + HI]!, this.a.bits[2 * this.i + LO]!]; }
  err(): Error | null { return this.e; }
  /** Number of samples after trimming. */
  get length(): number { return this.a.n; }
}

/**
 * Decodes every chunk of a series up front (see decodeChunksInto); on a corrupt chunk it yields nothing
 * and err() holds the error.
 */
export class ChunksIterator extends ArrayIterator {
  constructor(chunks: readonly SeriesChunk[], mint: number, maxt: number) {
    let cap = 0;
    for (const c of chunks) cap += c.data.length >= 2 ? xorNumSamplesSafe(c.data) : 0;
    const b = new SampleBuffer(cap);
    let e: Error | null = null;
    try {
      decodeChunksInto(chunks, mint, maxt, b);
    } catch (err) {
      e = err as Error;
      b.n = 0;
    }
    super(b, e);
  }
}

/**
 * A series that can write all its samples into a caller's reused buffer at once, instead of handing
 * out an iterator (the PromQL engine's fast path; see shared/dedup for the merged replicas).
 */
export interface ArraySeries extends StorageSeries {
  /** All samples into `out` (out.n set); throws what the iterator's err() would report. */
  samplesInto(out: SampleBuffer): void;
}

/** A series that can hand out its raw chunks (for decoding only the chunks a reader needs). */
export interface ChunkedSeries extends StorageSeries {
  /** Its chunks, trimmed to [mint, maxt] when decoded; null when not plain raw chunks. */
  chunkList(): { chunks: SeriesChunk[]; mint: number; maxt: number } | null;
}

export function isChunkedSeries(s: StorageSeries): s is ChunkedSeries {
  return typeof (s as Partial<ChunkedSeries>).chunkList === "function";
}

export function isArraySeries(s: StorageSeries): s is ArraySeries {
  return typeof (s as Partial<ArraySeries>).samplesInto === "function";
}

function xorNumSamplesSafe(b: Uint8Array): number { return (b[0]! << 8) | b[1]!; }

interface BlockBatchSeries { labels: Labels; chunks: SeriesChunk[] }

/** Series of one block matching `ms` with chunks overlapping [mint, maxt], in label order, in batches. */
export async function* blockSeries(b: Block, mint: number, maxt: number, ms: readonly Matcher[], batch = 1024, withChunks = true): AsyncGenerator<BlockBatchSeries[]> {
  const refs = expandPostings(await b.postingsForMatchers(ms));
  for (let i = 0; i < refs.length; i += batch) {
    const entries = await b.index.series(refs.slice(i, i + batch));
    const keep: { labels: Labels; metas: { minTime: number; maxTime: number; ref: number }[]; deleted?: Interval[] }[] = [];
    const chunkRefs: number[] = [];
    for (const s of entries) {
      const deleted = b.tombstones.get(s.ref);
      const metas = s.chunks.filter((c) => c.maxTime >= mint && c.minTime <= maxt && !coversAll(deleted, c.minTime, c.maxTime));
      if (metas.length === 0) continue;
      keep.push({ labels: s.labels, metas, deleted });
      if (withChunks) for (const c of metas) chunkRefs.push(c.ref);
    }
    const datas: ChunkData[] = withChunks ? await b.chunks.chunks(chunkRefs) : [];
    let k = 0;
    yield keep.map((s) => ({
      labels: s.labels,
      chunks: s.metas.map((c) => {
        const d = withChunks ? datas[k++]! : { encoding: Encoding.XOR, data: new Uint8Array(0) };
        return { minTime: c.minTime, maxTime: c.maxTime, encoding: d.encoding, data: d.data, deleted: s.deleted, what: `${b.what} chunk ${c.ref}` };
      }),
    }));
  }
}


/** Pulls items one at a time out of a generator of batches (a block's series, a store's answer). */
export class BatchCursor<T> {
  private buf: T[] = [];
  private i = 0;
  cur: T | null = null;
  constructor(private readonly gen: AsyncGenerator<T[]>) {}
  async advance(): Promise<boolean> {
    while (this.i >= this.buf.length) {
      const r = await this.gen.next();
      if (r.done) { this.cur = null; return false; }
      this.buf = r.value;
      this.i = 0;
    }
    this.cur = this.buf[this.i++]!;
    return true;
  }
  async close(): Promise<void> { await this.gen.return(undefined); }
}

export interface BlocksQuerierOptions {
  /** Series read per batch per block. */
  batchSize?: number;
  /** Refuse selects returning more series than this (0: no limit). */
  maxSeries?: number;
}

export class BlocksQuerier implements Querier {
  constructor(readonly blocks: readonly Block[], private readonly opts: BlocksQuerierOptions = {}) {}

  private overlapping(mint: number, maxt: number): Block[] {
    return this.blocks.filter((b) => b.meta.minTime <= maxt && mint < b.meta.maxTime);
  }

  /** Series in label order, merged across blocks; chunks read in batches as the caller pulls. */
  async *selectStream(hints: SelectHints, matchers: readonly Matcher[], withChunks = true): AsyncGenerator<BlockSeries> {
    const { start: mint, end: maxt } = hints;
    const cursors = this.overlapping(mint, maxt).map((b) => new BatchCursor(blockSeries(b, mint, maxt, matchers, this.opts.batchSize ?? 1024, withChunks)));
    await Promise.all(cursors.map((c) => c.advance()));
    let live = cursors.filter((c) => c.cur !== null);
    while (live.length > 0) {
      hints.signal?.throwIfAborted();
      let min = live[0]!.cur!.labels;
      for (const c of live) if (compareLabels(c.cur!.labels, min) < 0) min = c.cur!.labels;
      const chunks: SeriesChunk[] = [];
      const same = live.filter((c) => compareLabels(c.cur!.labels, min) === 0);
      for (const c of same) chunks.push(...c.cur!.chunks);
      if (same.length > 1) chunks.sort((a, b) => a.minTime - b.minTime);
      yield new BlockSeries(min, chunks, mint, maxt);
      await Promise.all(same.map((c) => c.advance()));
      live = live.filter((c) => c.cur !== null);
    }
  }

  async select(hints: SelectHints, matchers: Matcher[]): Promise<SelectResult> {
    const series: StorageSeries[] = [];
    const max = this.opts.maxSeries ?? 0;
    for await (const s of this.selectStream(hints, matchers)) {
      series.push(s);
      if (max > 0 && series.length > max) throw new CodedError("resource_exhausted", `select ${matchers.map((m) => m.name + m.type + JSON.stringify(m.value)).join(", ")}: more than ${max} series`);
    }
    return { series, warnings: [] };
  }

  async labelNames(mint: number, maxt: number, matchers: Matcher[]): Promise<{ names: string[]; warnings: string[] }> {
    const set = new Set<string>();
    for (const b of this.overlapping(mint, maxt)) {
      if (matchers.length === 0) { for (const n of b.index.labelNames()) set.add(n); continue; }
      for await (const batch of blockSeries(b, -Infinity, Infinity, matchers, 1024, false)) for (const s of batch) for (const l of s.labels) set.add(l.name);
    }
    return { names: [...set].sort(compareStrings), warnings: [] };
  }

  async labelValues(name: string, mint: number, maxt: number, matchers: Matcher[]): Promise<{ values: string[]; warnings: string[] }> {
    const set = new Set<string>();
    for (const b of this.overlapping(mint, maxt)) {
      if (matchers.length === 0) { for (const v of b.index.labelValues(name)) set.add(v); continue; }
      for await (const batch of blockSeries(b, -Infinity, Infinity, matchers, 1024, false)) {
        for (const s of batch) for (const l of s.labels) if (l.name === name) set.add(l.value);
      }
    }
    return { values: [...set].sort(compareStrings), warnings: [] };
  }
}
