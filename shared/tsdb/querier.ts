// BlocksQuerier: the Querier (shared/storage/types.ts) over a set of blocks. Series come out sorted by
// labels and merged across blocks; samples are trimmed to the asked range, with tombstones applied.
// selectStream() reads in batches of series so a dump of a large block stays bounded in memory.

import { Encoding } from "../chunkenc/chunk.ts";
import { decodeXorInto, isStaleBits, xorNumSamples } from "../chunkenc/xor.ts";
import { unsupportedEncoding } from "../chunkenc/chunk.ts";
import { CodedError } from "../encoding/errors.ts";
import { compareLabels, compareStrings, type Labels } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import type { Querier, SampleIterator, SelectHints, SelectResult, StorageSeries } from "../storage/types.ts";
import type { Block } from "./block.ts";
import type { ChunkData } from "./chunks.ts";
import { expandPostings } from "./postings.ts";
import { isDeleted, type Interval } from "./tombstones.ts";

/** One chunk of a selected series, with the deleted intervals of the block it came from. */
export interface SeriesChunk {
  minTime: number;
  maxTime: number;
  encoding: number;
  data: Uint8Array;
  deleted?: readonly Interval[];
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
}

// Scratch arrays for decoding one chunk (sync use only).
let scratchT = new Float64Array(256);
let scratchV = new Float64Array(256);
let scratchBits = new Uint32Array(scratchV.buffer);
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LE ? 1 : 0, LO = 1 - HI;

/**
 * Decodes every chunk of a series up front into typed arrays (values kept as raw bits so staleness
 * survives), trimmed to [mint, maxt] and minus deleted intervals. Overlapping chunks (blocks that overlap
 * in time) are merged by timestamp, the first chunk's sample winning a tie.
 */
export class ChunksIterator implements SampleIterator {
  private ts: Float64Array;
  private vs: Float64Array;
  private bits: Uint32Array;
  private n = 0;
  private i = -1;
  private e: Error | null = null;

  constructor(chunks: readonly SeriesChunk[], mint: number, maxt: number) {
    let cap = 0;
    for (const c of chunks) cap += c.data.length >= 2 ? xorNumSamplesSafe(c.data) : 0;
    this.ts = new Float64Array(Math.max(cap, 1));
    this.vs = new Float64Array(Math.max(cap, 1));
    this.bits = new Uint32Array(this.vs.buffer);
    let sorted = true;
    try {
      for (const c of chunks) {
        if (c.encoding !== Encoding.XOR) throw unsupportedEncoding(c.encoding, c.what);
        const k = xorNumSamples(c.data, c.what);
        if (scratchT.length < k) {
          scratchT = new Float64Array(k * 2);
          scratchV = new Float64Array(k * 2);
          scratchBits = new Uint32Array(scratchV.buffer);
        }
        const got = decodeXorInto(c.data, scratchT, scratchV, c.what);
        for (let j = 0; j < got; j++) {
          const t = scratchT[j]!;
          if (t < mint || t > maxt) continue;
          if (c.deleted && isDeleted(c.deleted, t)) continue;
          if (this.n > 0 && t <= this.ts[this.n - 1]!) sorted = false;
          this.ts[this.n] = t;
          this.bits[2 * this.n] = scratchBits[2 * j]!;
          this.bits[2 * this.n + 1] = scratchBits[2 * j + 1]!;
          this.n++;
        }
      }
    } catch (e) {
      this.e = e as Error;
      this.n = 0;
    }
    if (!sorted) this.sortDedup();
  }

  private sortDedup(): void {
    const idx = Array.from({ length: this.n }, (_, i) => i);
    idx.sort((a, b) => this.ts[a]! - this.ts[b]! || a - b); // stable: earlier chunk wins a tie
    const ts = new Float64Array(this.n), vs = new Float64Array(this.n), bits = new Uint32Array(vs.buffer);
    let m = 0;
    for (const i of idx) {
      if (m > 0 && ts[m - 1] === this.ts[i]) continue;
      ts[m] = this.ts[i]!;
      bits[2 * m] = this.bits[2 * i]!;
      bits[2 * m + 1] = this.bits[2 * i + 1]!;
      m++;
    }
    this.ts = ts; this.vs = vs; this.bits = bits; this.n = m;
  }

  next(): boolean { return ++this.i < this.n; }
  seek(t: number): boolean {
    if (this.i < 0) this.i = 0;
    while (this.i < this.n && this.ts[this.i]! < t) this.i++;
    return this.i < this.n;
  }
  at(): number { return this.ts[this.i]!; }
  value(): number { return this.vs[this.i]!; }
  isStale(): boolean { return isStaleBits(this.bits[2 * this.i + HI]!, this.bits[2 * this.i + LO]!); }
  /** Raw bits of the current value: [hi, lo]. */
  valueBits(): [number, number] { return [this.bits[2 * this.i + HI]!, this.bits[2 * this.i + LO]!]; }
  err(): Error | null { return this.e; }
  /** Number of samples after trimming. */
  get length(): number { return this.n; }
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
      const metas = s.chunks.filter((c) => c.maxTime >= mint && c.minTime <= maxt && !(deleted && coversAllSafe(deleted, c.minTime, c.maxTime)));
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

function coversAllSafe(ivs: readonly Interval[], mint: number, maxt: number): boolean {
  for (const iv of ivs) if (mint >= iv.minTime && maxt <= iv.maxTime) return true;
  return false;
}

/** Pulls series one at a time out of a block's batches. */
class Cursor {
  private buf: BlockBatchSeries[] = [];
  private i = 0;
  cur: BlockBatchSeries | null = null;
  constructor(private readonly gen: AsyncGenerator<BlockBatchSeries[]>) {}
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
    const cursors = this.overlapping(mint, maxt).map((b) => new Cursor(blockSeries(b, mint, maxt, matchers, this.opts.batchSize ?? 1024, withChunks)));
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
