// Downsampling as Thanos does it (pkg/compact/downsample/downsample.go at v0.41.0), so the blocks we
// write are byte-identical to Thanos' and each side's store gateway and querier read the other's:
// raw -> 5m from raw XOR chunks, 5m -> 1h from AggrChunks (shared/chunkenc/aggr.ts).
//
// Per series, in index order, one series in memory at a time:
// - Raw input: every chunk is expanded; stale markers and samples going back in time within a chunk are
//   dropped (the time check restarts at 0 for each chunk, so negative timestamps go too). The samples are
//   cut into batches: targetChunkCount assumes a 1-minute raw interval and grows the chunk count until
//   at most 140 output samples fall to a chunk on average; batchSize = len/numChunks + 1, and a batch is
//   extended to the end of the window holding its last sample. NaNs are dropped from each batch (after
//   batching: they still count for the sizing). Each batch becomes one AggrChunk.
// - Windows: a sample at t belongs to the window ending at t - t%r + r - 1 (its timestamp); the last
//   window of a batch is stamped min(window end, the batch's last sample) so batches never overlap.
// - Per window: count, sum, min, max, and a counter that runs across the whole batch: the first sample
//   sets it, then it adds v - last, or v after a reset (v < last). The counter aggregate also holds the
//   batch's first raw sample first and, last, the batch's last raw value at the last window's timestamp
//   again (N+2 samples): ApplyCounterResets reads those to see resets between chunks.
// - 5m -> 1h: output batches are whole input AggrChunks (len(chunks)/numChunks of them), so the first
//   and last raw counter values stay true. count/sum are summed per window, min/max kept; the counter is
//   rebuilt from the input counters through CounterResetsIterator (first sample, one cumulative value
//   per window, the last raw value at a repeated timestamp).
// - Sub-chunks are XOR chunks as Prometheus 3.x (Thanos v0.41's) writes them: no trailing pad byte.
// - Output: a new block; meta is the source's with a new ULID, thanos.downsample.resolution set, source
//   "compactor", stats numSamples (windows, from each chunk's count aggregate)/numSeries/numChunks
//   recounted, compaction and time range unchanged, and thanos.index_stats as the compactor records
//   them. The index lists every symbol of the source index, like Thanos' streamed block writer, in
//   Prometheus 3.x's layout (no label-index sections).
//
// Native histograms are not read here (shared/chunkenc has no histogram codec): a block holding them is
// refused with an error naming the block and series, never silently shortened.

import { AggrType, CounterResetsIterator, decodeAggrChunk, encodeAggrChunk } from "../chunkenc/aggr.ts";
import { Encoding, encodingName } from "../chunkenc/chunk.ts";
import { decodeXorAt, isStaleBits, XorAppender, XorIterator, xorNumSamples } from "../chunkenc/xor.ts";
import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import { labelsString, type Labels } from "../labels/labels.ts";
import type { SampleIterator } from "../storage/types.ts";
import type { Block } from "../tsdb/block.ts";
import type { BlockMeta, BlockStats, Compaction, ThanosMeta } from "../tsdb/meta.ts";
import { BlockWriter, type BlockSink, type WriterChunk } from "../tsdb/writer.ts";

export const RES_RAW = 0;
export const RES_5M = 300_000;
export const RES_1H = 3_600_000;
/** Raw blocks spanning at least this (maxTime - minTime) are downsampled to 5m. */
export const DOWNSAMPLE_RANGE_5M = 40 * 3600_000;
/** 5m blocks spanning at least this are downsampled to 1h. */
export const DOWNSAMPLE_RANGE_1H = 10 * 86_400_000;

/** Series read per index/chunk batch: bounds memory by the batch, not by the block. */
const SERIES_BATCH = 64;
/** XOR sub-chunks without the trailing pad byte Prometheus <= 2.54 wrote (Thanos v0.41 uses 3.x). */
const XOR_OPTS = { goPad: false } as const;

/** Growable sample arrays, reused from series to series. */
class Samples {
  t = new Float64Array(1024);
  v = new Float64Array(1024);
  n = 0;
  push(t: number, v: number): void {
    if (this.n === this.t.length) {
      const t2 = new Float64Array(this.n * 2), v2 = new Float64Array(this.n * 2);
      t2.set(this.t); v2.set(this.v);
      this.t = t2; this.v = v2;
    }
    this.t[this.n] = t;
    this.v[this.n++] = v;
  }
}

/** Window end (inclusive) of the window `t` falls into: Go's t - t%r + r - 1 (truncating %). */
export function currentWindow(t: number, r: number): number {
  return t - (t % r) + r - 1;
}

/** Thanos' targetChunkCount: chunks to cut so each holds at most 140 output samples on average. */
export function targetChunkCount(mint: number, maxt: number, inRes: number, outRes: number, count: number): number {
  const maxSamples = Math.trunc((maxt - mint) / outRes); // int64 division, then float64
  let full = count / ((maxt - mint) / inRes);
  if (full > 1) full = 1;
  const exp = goInt(maxSamples * full) + 1;
  let x = 1;
  while (Math.trunc(exp / x) > 140) x++;
  return x;
}

/** Go's int(float64) on amd64: truncation; NaN and out-of-range give math.MinInt64. */
function goInt(f: number): number {
  if (!(Math.abs(f) < 2 ** 63)) return -(2 ** 63);
  return Math.trunc(f);
}

/** Thanos' floatAggregator: one window's stats plus a counter running across the batch. */
class Aggregator {
  total = 0;
  count = 0;
  sum = 0;
  min = 0;
  max = 0;
  counter = 0;
  last = 0;
  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.min = Number.MAX_VALUE;
    this.max = -Number.MAX_VALUE;
  }
  add(v: number): void {
    if (this.total > 0) this.counter += v < this.last ? v : v - this.last;
    else this.counter = v;
    this.last = v;
    this.sum += v;
    this.count++;
    this.total++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
}

/**
 * Thanos' downsampleBatch over t[lo..hi): calls add(windowT) each time a window is complete; returns
 * the last window's timestamp (capped at the last sample's, so batches never overlap).
 */
function downsampleBatch(t: Float64Array, v: Float64Array, lo: number, hi: number, r: number, a: Aggregator, add: (wt: number) => void): number {
  let nextT = -1;
  const lastT = t[hi - 1]!;
  for (let i = lo; i < hi; i++) {
    const ti = t[i]!;
    if (ti > nextT) {
      if (nextT !== -1) add(nextT);
      a.reset();
      nextT = Math.min(currentWindow(ti, r), lastT);
    }
    a.add(v[i]!);
  }
  if (a.total > 0) add(nextT);
  return nextT;
}

/** One downsampled chunk: an AggrChunk (encoding 0xff) and its time range. */
export interface OutChunk { minTime: number; maxTime: number; data: Uint8Array }

// Scratch appenders and iterators, reused from chunk to chunk: a chunk is encoded or decoded by
// synchronous code from start to end, so concurrent downsampleBlock calls never share one mid-use.
const APPS = [0, 1, 2, 3, 4].map(() => new XorAppender(XOR_OPTS));
const ITS: XorIterator[] = [];

/** The scratch appender for aggregate `at`, emptied. */
function appender(at: number): XorAppender {
  const a = APPS[at]!;
  a.reset();
  return a;
}

/** Aggregate appenders of one output chunk; null = the aggregate is absent. */
class Builder {
  mint = Infinity;
  maxt = -Infinity;
  readonly apps: (XorAppender | null)[];
  constructor(all: boolean) {
    this.apps = [0, 1, 2, 3, 4].map((i) => (all ? appender(i) : null));
  }
  span(t: number): void {
    if (t < this.mint) this.mint = t;
    if (t > this.maxt) this.maxt = t;
  }
  encode(): OutChunk {
    return { minTime: this.mint, maxTime: this.maxt, data: encodeAggrChunk(this.apps.map((a) => (a ? a.bytes() : null))) };
  }
}

/** One raw batch (NaNs already dropped) to one AggrChunk: Thanos' downsampleFloatBatch. */
function downsampleFloatBatch(t: Float64Array, v: Float64Array, n: number, r: number): OutChunk {
  const b = new Builder(true);
  const [count, sum, min, max, counter] = b.apps as XorAppender[];
  counter!.append(t[0]!, v[0]!); // first raw value, see CounterResetsIterator
  const a = new Aggregator();
  const lastT = downsampleBatch(t, v, 0, n, r, a, (wt) => {
    b.span(wt);
    sum!.append(wt, a.sum);
    min!.append(wt, a.min);
    max!.append(wt, a.max);
    count!.append(wt, a.count);
    counter!.append(wt, a.counter);
  });
  counter!.append(lastT, v[n - 1]!); // last raw value at the repeated timestamp
  return b.encode();
}

/** Thanos' DownsampleRaw: cleaned raw samples of one series to AggrChunks. */
function downsampleRaw(s: Samples, r: number, scratch: Samples, chunksWanted?: number): OutChunk[] {
  const len = s.n;
  if (len === 0) return [];
  const t = s.t, v = s.v;
  const numChunks = chunksWanted ?? targetChunkCount(t[0]!, t[len - 1]!, 60_000, r, len);
  const batchSize = Math.trunc(len / numChunks) + 1;
  const out: OutChunk[] = [];
  let lo = 0;
  while (lo < len) {
    let j = lo + Math.min(batchSize, len - lo);
    const curW = currentWindow(t[j - 1]!, r);
    // A batch may end inside a window: take the rest of that window too.
    while (j < len && t[j]! <= curW) j++;
    scratch.n = 0;
    for (let i = lo; i < j; i++) if (v[i] === v[i]) scratch.push(t[i]!, v[i]!);
    lo = j;
    if (scratch.n === 0) continue;
    out.push(downsampleFloatBatch(scratch.t, scratch.v, scratch.n, r));
  }
  return out;
}

/** Thanos' genericAggregate: count/sum/min/max of the next resolution from the same aggregate. */
function genericAggregate(at: AggrType, subs: (Uint8Array | null)[], b: Builder, r: number, buf: Samples, dec: Decoder, pick: (a: Aggregator) => number): [number, number] {
  let mint = Infinity, maxt = -Infinity;
  buf.n = 0;
  for (const d of subs) if (d) dec.expand(d, buf);
  if (buf.n === 0) return [0, 0];
  const app = (b.apps[at] = appender(at));
  const a = new Aggregator();
  downsampleBatch(buf.t, buf.v, 0, buf.n, r, a, (wt) => {
    if (wt < mint) mint = wt;
    if (wt > maxt) maxt = wt;
    app.append(wt, pick(a));
  });
  return [mint, maxt];
}

/** One batch of whole AggrChunks to one AggrChunk of the coarser resolution: downsampleFloatAggrBatch. */
function downsampleAggrBatch(chunks: (Uint8Array | null)[][], r: number, buf: Samples, dec: Decoder): OutChunk {
  const b = new Builder(false);
  let mint = Infinity, maxt = -Infinity;
  const sub = (at: AggrType) => chunks.map((c) => c[at]!);
  const picks: [AggrType, (a: Aggregator) => number][] = [
    [AggrType.Count, (a) => a.sum], // counts add up
    [AggrType.Sum, (a) => a.sum],
    [AggrType.Min, (a) => a.min],
    [AggrType.Max, (a) => a.max],
  ];
  for (const [at, pick] of picks) {
    // An aggregate absent from every chunk reports [0, 0] and so pulls the range to 0 (as in Thanos).
    const [lo, hi] = genericAggregate(at, sub(at), b, r, buf, dec, pick);
    if (lo < mint) mint = lo;
    if (hi > maxt) maxt = hi;
  }
  const its: SampleIterator[] = [];
  for (const c of chunks) {
    if (!c[AggrType.Counter]) continue;
    let it = ITS[its.length];
    if (!it) ITS.push((it = new XorIterator()));
    it.reset(c[AggrType.Counter]!, "counter aggregate");
    its.push(it);
  }
  const it = new CounterResetsIterator(its);
  buf.n = 0;
  let lastT = 0;
  while (it.next()) {
    const t = it.at();
    if (t >= lastT) { buf.push(t, it.value()); lastT = t; }
  }
  const e = it.err();
  if (e) throw e;
  if (buf.n > 0) {
    const app = (b.apps[AggrType.Counter] = appender(AggrType.Counter));
    app.append(buf.t[0]!, buf.v[0]!);
    const a = new Aggregator();
    const last = downsampleBatch(buf.t, buf.v, 0, buf.n, r, a, (wt) => {
      if (wt < mint) mint = wt;
      if (wt > maxt) maxt = wt;
      app.append(wt, a.counter);
    });
    app.append(last, it.lastV);
  }
  b.mint = mint;
  b.maxt = maxt;
  if (mint === Infinity || maxt === -Infinity) {
    throw new CodedError("corrupt", `invalid range for downsampled aggregate chunk: mint=${mint} maxt=${maxt}`);
  }
  return b.encode();
}

/** Decodes XOR chunks into reused arrays, dropping what Thanos' expandXorChunkIterator drops. */
class Decoder {
  private ts = new Float64Array(256);
  private vs = new Float64Array(256);
  private bits = new Uint32Array(this.vs.buffer);

  /** Append the chunk's samples to `out`, minus stale markers and samples before the previous one (from t = 0). */
  expand(data: Uint8Array, out: Samples): void {
    const n = xorNumSamples(data);
    if (this.ts.length < n) {
      this.ts = new Float64Array(n);
      this.vs = new Float64Array(n);
      this.bits = new Uint32Array(this.vs.buffer);
    }
    const got = decodeXorAt(data, this.ts, this.bits, 0);
    const ts = this.ts, vs = this.vs, bits = this.bits;
    const hi = HI_WORD, lo = 1 - HI_WORD;
    let lastT = 0;
    for (let i = 0; i < got; i++) {
      if (isStaleBits(bits[2 * i + hi]!, bits[2 * i + lo]!)) continue;
      const t = ts[i]!;
      if (t >= lastT) { out.push(t, vs[i]!); lastT = t; }
    }
  }
}

const HI_WORD = (() => { const f = new Float64Array([1]); return new Uint32Array(f.buffer)[1] === 0x3ff00000 ? 1 : 0; })();

/** One series' chunks as read from the source block. */
interface InSeries { labels: Labels; chunks: { minTime: number; maxTime: number; encoding: number; data: Uint8Array }[] }

/** Downsample one series to `r`: the chunks to write (empty: the series has no samples left). */
function downsampleSeries(s: InSeries, srcRes: number, r: number, st: { all: Samples; scratch: Samples; dec: Decoder }): OutChunk[] {
  const { all, scratch, dec } = st;
  all.n = 0;
  for (let i = 1; i < s.chunks.length; i++) {
    if (s.chunks[i - 1]!.maxTime >= s.chunks[i]!.minTime) {
      throw new CodedError("corrupt", `overlapping chunks (one ends at ${s.chunks[i - 1]!.maxTime}, the next starts at ${s.chunks[i]!.minTime}); chunks must be ordered by time and not overlap`);
    }
  }
  const histogram = (e: number) => e === Encoding.Histogram || e === Encoding.FloatHistogram;
  if (srcRes === 0) {
    for (const c of s.chunks) {
      if (histogram(c.encoding)) throw new CodedError("bad_data", "native histogram chunks cannot be downsampled here yet");
      if (c.encoding !== Encoding.XOR) throw new CodedError("corrupt", `unexpected chunk encoding ${encodingName(c.encoding)} (${c.encoding}) in a raw block`);
      dec.expand(c.data, all);
    }
    return downsampleRaw(all, r, scratch);
  }
  // A downsampled block: AggrChunks, plus raw XOR chunks a broken writer may have left (Thanos turns
  // those into 5m AggrChunks first and skips empty ones, thanos#5272).
  const aggr: { minTime: number; maxTime: number; subs: (Uint8Array | null)[]; samples: number }[] = [];
  for (const c of s.chunks) {
    if (c.encoding === Encoding.Aggr) {
      const subs = aggrSubs(c.data);
      aggr.push({ minTime: c.minTime, maxTime: c.maxTime, subs, samples: aggrCount(subs) });
      continue;
    }
    // Every Prometheus chunk starts with its u16 sample count.
    if (c.data.length >= 2 && c.data[0] === 0 && c.data[1] === 0) continue;
    if (histogram(c.encoding)) throw new CodedError("bad_data", "native histogram chunks cannot be downsampled here yet");
    if (c.encoding !== Encoding.XOR) throw new CodedError("corrupt", `unexpected chunk encoding ${encodingName(c.encoding)} (${c.encoding}) in a downsampled block`);
    dec.expand(c.data, all);
    for (const f of downsampleRaw(all, RES_5M, scratch)) {
      const subs = aggrSubs(f.data);
      aggr.push({ minTime: f.minTime, maxTime: f.maxTime, subs, samples: aggrCount(subs) });
    }
    all.n = 0;
  }
  if (aggr.length === 0) return [];
  const mint = aggr[0]!.minTime, maxt = aggr[aggr.length - 1]!.maxTime;
  let numSamples = 0;
  for (const c of aggr) numSamples += c.samples;
  const numChunks = targetChunkCount(mint, maxt, srcRes, r, numSamples);
  // Whole input chunks per output chunk keep each chunk's first and last raw counter values true.
  const batchSize = Math.trunc(aggr.length / numChunks);
  if (batchSize === 0) {
    // Thanos loops forever here; say what happened instead.
    throw new CodedError("corrupt", `${aggr.length} aggregate chunks hold ${numSamples} samples over [${mint}, ${maxt}], more than ${numChunks} output chunks can take whole`);
  }
  const out: OutChunk[] = [];
  for (let i = 0; i < aggr.length; i += batchSize) {
    out.push(downsampleAggrBatch(aggr.slice(i, i + batchSize).map((c) => c.subs), r, scratch, dec));
  }
  return out;
}

/**
 * Raw samples (already cleaned: no stale markers, time not going back) to AggrChunks at `resolution`,
 * as the raw -> 5m pass does per series; `numChunks` overrides the chunk sizing (Thanos' tests force it).
 */
export function downsampleSamples(ts: ArrayLike<number>, vs: ArrayLike<number>, resolution: number, numChunks?: number): OutChunk[] {
  const s = new Samples();
  for (let i = 0; i < ts.length; i++) s.push(ts[i]!, vs[i]!);
  return downsampleRaw(s, resolution, new Samples(), numChunks);
}

/** AggrChunks (bytes) to `numChunks` AggrChunks at `resolution`, whole input chunks per output chunk. */
export function downsampleAggrChunks(chunks: readonly Uint8Array[], resolution: number, numChunks: number): OutChunk[] {
  const subs = chunks.map((c) => aggrSubs(c));
  const batchSize = Math.trunc(subs.length / numChunks);
  if (batchSize === 0) throw new CodedError("bad_data", `${subs.length} aggregate chunks cannot fill ${numChunks} output chunks`);
  const out: OutChunk[] = [];
  const buf = new Samples(), dec = new Decoder();
  for (let i = 0; i < subs.length; i += batchSize) out.push(downsampleAggrBatch(subs.slice(i, i + batchSize), resolution, buf, dec));
  return out;
}

/** The five sub-chunks of an AggrChunk (null = absent); only XOR sub-chunks are read. */
function aggrSubs(data: Uint8Array): (Uint8Array | null)[] {
  const subs = decodeAggrChunk(data, "aggregate chunk");
  const out: (Uint8Array | null)[] = [];
  for (let at = 0; at < 5; at++) {
    const sub = subs[at]!;
    if (sub && sub.encoding !== Encoding.XOR) {
      const hist = sub.encoding === Encoding.Histogram || sub.encoding === Encoding.FloatHistogram;
      throw new CodedError(hist ? "bad_data" : "corrupt", `aggregate ${at} has encoding ${encodingName(sub.encoding)}${hist ? ": native histogram aggregates cannot be downsampled here yet" : ""}`);
    }
    out.push(sub ? sub.data : null);
  }
  return out;
}

/** Thanos' AggrChunk.NumSamples: the count aggregate's samples (0 when absent). */
function aggrCount(subs: (Uint8Array | null)[]): number {
  const c = subs[AggrType.Count];
  return c && c.length >= 2 ? xorNumSamples(c) : 0;
}

/**
 * Downsample block `src` to `resolution` (RES_5M from raw, RES_1H from 5m) into `sink`, as Thanos'
 * compactor does. Returns the new block's meta, or null (the sink aborted, nothing committed) when no
 * series has a sample left to write. Errors name the block and series and abort the sink.
 */
export async function downsampleBlock(src: Block, resolution: number, sink: BlockSink, opts: { ulid?: string } = {}): Promise<BlockMeta | null> {
  const srcRes = src.meta.thanos?.downsample?.resolution ?? 0;
  if (!(resolution > 0) || srcRes >= resolution) {
    throw new CodedError("bad_data", `downsample ${src.what} to resolution ${resolution}: target resolution not lower than the block's own (${srcRes})`);
  }
  const m = src.meta;
  const compaction: Compaction = { level: m.compaction.level, sources: [...m.compaction.sources] };
  for (const k of ["parents", "failed", "deletable", "hints"] as const) {
    if (m.compaction[k] !== undefined) (compaction as unknown as Record<string, unknown>)[k] = clone(m.compaction[k]);
  }
  const t = m.thanos;
  const thanos: ThanosMeta = {
    labels: { ...(t?.labels ?? {}) },
    downsample: { resolution },
    source: "compactor",
  };
  for (const k of ["version", "index_stats", "extensions", "rewrites"]) if (t?.[k] !== undefined) thanos[k] = clone(t[k]);
  const extraStats: Partial<BlockStats> = {};
  for (const k of ["numTombstones", "numFloatSamples", "numHistogramSamples"] as const) if (m.stats[k] !== undefined) extraStats[k] = m.stats[k];

  const w = new BlockWriter(sink, {
    ulid: opts.ulid, minTime: m.minTime, maxTime: m.maxTime, compaction, thanos, extraStats,
    indexStats: true, labelIndices: false,
  });
  let started = false;
  let series = 0;
  const st = { all: new Samples(), scratch: new Samples(), dec: new Decoder() };
  try {
    const postings = await src.index.allPostings();
    const refs: number[] = [];
    let more = postings.next();
    while (more) {
      refs.length = 0;
      while (more && refs.length < SERIES_BATCH) { refs.push(postings.at()); more = postings.next(); }
      const entries = await src.index.series(refs);
      const chunkRefs: number[] = [];
      for (const e of entries) for (const c of e.chunks) chunkRefs.push(c.ref);
      const datas = chunkRefs.length ? await src.chunks.chunks(chunkRefs) : [];
      let k = 0;
      for (const e of entries) {
        const chunks = e.chunks.map((c) => { const d = datas[k++]!; return { minTime: c.minTime, maxTime: c.maxTime, encoding: d.encoding, data: d.data }; });
        let out: OutChunk[];
        try {
          out = downsampleSeries({ labels: e.labels, chunks }, srcRes, resolution, st);
        } catch (err) {
          // Named here, once: building the series' label string for every chunk read showed in profiles.
          throw new CodedError(errorCode(err) ?? "corrupt", `downsample ${src.what} to resolution ${resolution}: series ${labelsString(e.labels)}: ${errorMessage(err)}`, { cause: err });
        }
        if (out.length === 0) continue;
        if (!started) {
          // Every symbol of the source index, as Thanos' streamed writer copies them.
          await w.startSorted(src.index.symbols());
          started = true;
        }
        const wc: WriterChunk[] = out.map((c) => ({ minTime: c.minTime, maxTime: c.maxTime, encoding: Encoding.Aggr, data: c.data }));
        await w.addSeries(e.labels, wc);
        series++;
      }
    }
  } catch (e) {
    await sink.abort().catch(() => {});
    const msg = errorMessage(e);
    throw new CodedError(errorCode(e) ?? "internal", msg.startsWith("downsample ") ? msg : `downsample ${src.what} to resolution ${resolution}: ${msg}`, { cause: e });
  }
  if (series === 0) {
    await sink.abort();
    return null;
  }
  return await w.finish();
}

/** A deep copy of a JSON value from meta.json. */
function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
