// Merging one series' chunks from several blocks, as the Thanos compactor does:
//
// - "compact" (default): Prometheus' storage.NewCompactingChunkSeriesMerger(ChainedSeriesMerge). Chunks
//   that overlap nothing pass through untouched (same bytes); overlapping ones are decoded, merged by
//   timestamp (one sample per timestamp kept) and re-encoded, cut every 120 samples
//   (seriesToChunkEncoder). Exact duplicates (same range, same bytes) are dropped without decoding.
// - "penalty" (--deduplication.func=penalty): Thanos' dedup.NewChunkSeriesMerger (pkg/dedup/chunk_iter.go):
//   the same walk, but overlapping chunks are merged by the penalty algorithm of pkg/dedup/iter.go (stay on
//   one replica; the other must lead by twice the last sample gap before it is used), without the
//   counter adjustment the querier adds (a no-op in the compactor).
//
// The walk follows Prometheus' compactChunkIterator step by step, including Go's container/heap order,
// so ties resolve as in Thanos: the first chunk out of the heap is merged with every chunk overlapping
// it; only the first re-encoded chunk is emitted, the rest go back into the heap and may overlap again.

import { Encoding } from "../chunkenc/chunk.ts";
import { decodeXorAt, XorAppender, xorNumSamples } from "../chunkenc/xor.ts";
import { CodedError } from "../encoding/errors.ts";

export interface MChunk {
  minTime: number;
  /** Inclusive. */
  maxTime: number;
  encoding: number;
  data: Uint8Array;
}

export type MergeMode = "compact" | "penalty";

/** Samples per chunk when re-encoding merged samples (Prometheus seriesToChunkEncoderSplit). */
export const CHUNK_SPLIT = 120;

// ---------------------------------------------------------------------------------------------
// Go's container/heap, so equal keys come out in the order Go's would.

class GoHeap<T> {
  readonly h: T[] = [];
  constructor(private readonly less: (a: T, b: T) => boolean) {}
  get length(): number { return this.h.length; }
  peek(): T { return this.h[0]!; }
  push(x: T): void {
    const h = this.h;
    h.push(x);
    let j = h.length - 1;
    for (;;) {
      const i = Math.trunc((j - 1) / 2);
      if (i === j || !this.less(h[j]!, h[i]!)) break;
      [h[i], h[j]] = [h[j]!, h[i]!];
      j = i;
    }
  }
  pop(): T {
    const h = this.h;
    const n = h.length - 1;
    [h[0], h[n]] = [h[n]!, h[0]!];
    let i = 0;
    for (;;) {
      const j1 = 2 * i + 1;
      if (j1 >= n) break;
      let j = j1;
      const j2 = j1 + 1;
      if (j2 < n && this.less(h[j2]!, h[j1]!)) j = j2;
      if (!this.less(h[j]!, h[i]!)) break;
      [h[i], h[j]] = [h[j]!, h[i]!];
      i = j;
    }
    return h.pop()!;
  }
}

// ---------------------------------------------------------------------------------------------
// Sample iterators (floats only; values carried as raw bits so staleness markers survive).

interface SampleIt {
  /** Advance; false when exhausted. */
  next(): boolean;
  /** Advance until atT() >= t (starting the iterator if needed); false when exhausted. Go Seek. */
  seek(t: number): boolean;
  atT(): number;
  /** High and low 32 bits of the current value. */
  hi(): number;
  lo(): number;
}

/** Decode buffers reused across merges (a merge decodes every overlapping chunk). */
interface DecodeBuf { ts: Float64Array; bits: Uint32Array }
const freeBufs: DecodeBuf[] = [];
let inUse: DecodeBuf[] = [];

function takeBuf(n: number): DecodeBuf {
  for (let i = freeBufs.length - 1; i >= 0; i--) {
    if (freeBufs[i]!.ts.length >= n) { const b = freeBufs.splice(i, 1)[0]!; inUse.push(b); return b; }
  }
  const cap = Math.max(n, 128);
  const b = { ts: new Float64Array(cap), bits: new Uint32Array(2 * cap) };
  inUse.push(b);
  return b;
}

/** Return every buffer taken since the last release (the merge that used them is done). */
function releaseBufs(): void {
  for (const b of inUse) if (freeBufs.length < 64) freeBufs.push(b);
  inUse = [];
}

/** A decoded XOR chunk with Go xorIterator semantics. */
class ChunkSamples implements SampleIt {
  private readonly ts: Float64Array;
  private readonly bits: Uint32Array;
  private readonly n: number;
  private i = -1;
  private static readonly HI = (() => { const f = new Float64Array([1]); return new Uint32Array(f.buffer)[1] === 0x3ff00000 ? 1 : 0; })();

  constructor(c: MChunk, what: string) {
    if (c.encoding !== Encoding.XOR) throw unsupported(c.encoding, what);
    const n = xorNumSamples(c.data, what);
    const buf = takeBuf(n);
    this.ts = buf.ts;
    this.bits = buf.bits;
    this.n = decodeXorAt(c.data, this.ts, this.bits, 0, what);
  }
  next(): boolean {
    if (this.i >= this.n) return false;
    this.i++;
    return this.i < this.n;
  }
  seek(t: number): boolean {
    if (this.i >= this.n) return false;
    while (this.i < 0 || t > this.ts[this.i]!) if (!this.next()) return false;
    return true;
  }
  atT(): number { return this.ts[Math.min(this.i, this.n - 1)]!; }
  hi(): number { return this.bits[2 * Math.min(this.i, this.n - 1) + ChunkSamples.HI]!; }
  lo(): number { return this.bits[2 * Math.min(this.i, this.n - 1) + 1 - ChunkSamples.HI]!; }
}

function unsupported(encoding: number, what: string): CodedError {
  const kind = encoding === Encoding.Aggr ? "downsampled (aggregate)" : encoding === Encoding.Histogram || encoding === Encoding.FloatHistogram ? "native histogram" : `encoding ${encoding}`;
  return new CodedError("corrupt", `${what}: overlapping ${kind} chunks cannot be merged (only float XOR chunks are)`);
}

/** Prometheus chainSampleIterator: samples of several iterators in timestamp order, one per timestamp. */
class ChainSamples implements SampleIt {
  private h: GoHeap<SampleIt> | null = null;
  private curr: SampleIt | null = null;
  private lastT = -Infinity;

  constructor(private readonly its: SampleIt[]) {}

  next(): boolean {
    if (this.h === null) {
      this.h = new GoHeap((a, b) => a.atT() < b.atT());
      this.curr = this.its[0]!;
      for (const it of this.its.slice(1)) if (it.next()) this.h.push(it);
    }
    if (this.curr === null) return false;
    const h = this.h;
    let currT: number;
    for (;;) {
      if (!this.curr.next()) {
        if (h.length === 0) { this.curr = null; return false; }
      } else {
        currT = this.curr.atT();
        if (currT === this.lastT) continue; // a sample at the same timestamp: dropped
        if (h.length === 0) break;
        if (currT < h.peek().atT()) break;
        h.push(this.curr);
      }
      this.curr = h.pop();
      currT = this.curr.atT();
      this.curr.seek(currT);
      if (currT !== this.lastT) break;
    }
    this.lastT = currT!;
    return true;
  }
  seek(t: number): boolean {
    // Not used on a chain (the compactor only iterates it); Go's default: Next until >= t.
    if (this.curr !== null && this.h !== null && this.curr.atT() >= t) return true;
    while (this.next()) if (this.curr!.atT() >= t) return true;
    return false;
  }
  atT(): number { return this.curr!.atT(); }
  hi(): number { return this.curr!.hi(); }
  lo(): number { return this.curr!.lo(); }
}

/**
 * Thanos' dedupSeriesIterator (pkg/dedup/iter.go) over two replicas: take the sample with the smaller
 * timestamp, and penalize the other replica by twice the gap since the last sample (5 s before a gap is
 * known), so it is only switched to across a real gap.
 */
class DedupSamples implements SampleIt {
  private lastT = -Infinity;
  private penA = 0;
  private penB = 0;
  private useA = true;
  private aval: boolean;
  private bval: boolean;
  private last: SampleIt;

  constructor(private readonly a: SampleIt, private readonly b: SampleIt) {
    this.last = a;
    this.aval = a.next();
    this.bval = b.next();
  }

  next(): boolean {
    if (this.aval) this.aval = this.a.seek(this.lastT + 1 + this.penA);
    if (this.bval) this.bval = this.b.seek(this.lastT + 1 + this.penB);
    if (!this.aval) {
      this.useA = false;
      if (this.bval) { this.lastT = this.b.atT(); this.last = this.b; this.penB = 0; }
      return this.bval;
    }
    if (!this.bval) {
      this.useA = true;
      this.lastT = this.a.atT(); this.last = this.a; this.penA = 0;
      return this.aval;
    }
    const ta = this.a.atT(), tb = this.b.atT();
    this.useA = ta <= tb;
    const INITIAL_PENALTY = 5000;
    if (this.useA) {
      this.penB = this.lastT !== -Infinity ? 2 * (ta - this.lastT) : INITIAL_PENALTY;
      this.penA = 0;
      this.lastT = ta;
      this.last = this.a;
      return this.aval;
    }
    this.penA = this.lastT !== -Infinity ? 2 * (tb - this.lastT) : INITIAL_PENALTY;
    this.penB = 0;
    this.lastT = tb;
    this.last = this.b;
    return this.bval;
  }
  /** Go: walks with next, never the replicas' own seek, so no gap is missed. */
  seek(t: number): boolean {
    for (;;) {
      const ts = this.atT();
      if (ts >= t) return this.useA ? this.a.seek(ts) : this.b.seek(ts);
      if (!this.next()) return false;
    }
  }
  atT(): number { return this.useA ? this.a.atT() : this.b.atT(); }
  hi(): number { return this.last.hi(); }
  lo(): number { return this.last.lo(); }
}

// Thanos v0.41 links Prometheus 3.x, whose XOR writer does not add 2.x's trailing pad byte.
const appender = new XorAppender({ goPad: false });

/** Prometheus seriesToChunkEncoder for floats: a new XOR chunk every 120 samples. */
function encodeSamples(it: SampleIt): MChunk[] {
  const out: MChunk[] = [];
  const app = appender;
  let mint = 0, maxt = 0, n = 0;
  const cut = () => { if (n > 0) out.push({ minTime: mint, maxTime: maxt, encoding: Encoding.XOR, data: app.bytes() }); };
  app.reset();
  try {
    while (it.next()) {
      const t = it.atT();
      if (n >= CHUNK_SPLIT) {
        cut();
        app.reset();
        n = 0;
      }
      if (n === 0) mint = t;
      app.appendBits(t, it.hi(), it.lo());
      maxt = t;
      n++;
    }
    cut();
  } finally {
    releaseBufs();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Chunk-level walk (compactChunkIterator / dedupChunksIterator)

interface ChunkIt { next(): boolean; at(): MChunk }

class ListChunks implements ChunkIt {
  private i = -1;
  constructor(private readonly l: readonly MChunk[]) {}
  next(): boolean { return ++this.i < this.l.length; }
  at(): MChunk { return this.l[this.i]!; }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Merge one series' chunk lists (each in time order, one list per block, in block order) into one list
 * of non-overlapping chunks.
 */
export function mergeChunks(lists: readonly (readonly MChunk[])[], mode: MergeMode, what = "series"): MChunk[] {
  const nonEmpty = lists.filter((l) => l.length > 0);
  if (nonEmpty.length === 0) return [];
  // A series from a single block passes through as it is (Prometheus' merge set only calls the merge
  // function for a series found in several blocks).
  if (nonEmpty.length === 1) return [...nonEmpty[0]!];
  const h = new GoHeap<ChunkIt>((x, y) => {
    const a = x.at(), b = y.at();
    return a.minTime === b.minTime ? a.maxTime < b.maxTime : a.minTime < b.minTime;
  });
  for (const l of nonEmpty) { const it = new ListChunks(l); if (it.next()) h.push(it); }
  const out: MChunk[] = [];
  while (h.length > 0) {
    let it = h.pop();
    let curr = it.at();
    if (it.next()) h.push(it);
    const overlapping: MChunk[] = [];
    let oMaxTime = curr.maxTime;
    let prev = curr;
    while (h.length > 0) {
      const next = h.peek().at();
      if (next.minTime > oMaxTime) break;
      // Exact duplicates (same range, same bytes) are dropped without decoding.
      if (next.minTime !== prev.minTime || next.maxTime !== prev.maxTime || !sameBytes(next.data, prev.data)) {
        overlapping.push(next);
        if (next.maxTime > oMaxTime) oMaxTime = next.maxTime;
        prev = next;
      }
      const p = h.pop();
      if (p.next()) h.push(p);
    }
    if (overlapping.length > 0) {
      const merged = encodeSamples(mode === "penalty" ? penaltySamples(curr, overlapping, what) : chainSamples(curr, overlapping, what));
      if (merged.length === 0) throw new CodedError("internal", `${what}: merging ${overlapping.length + 1} overlapping chunks gave no samples`);
      it = new ListChunks(merged);
      it.next();
      curr = it.at();
      if (it.next()) h.push(it);
    }
    out.push(curr);
  }
  return out;
}

/** Prometheus: ChainedSeriesMerge(overlapping..., curr). */
function chainSamples(curr: MChunk, overlapping: MChunk[], what: string): SampleIt {
  return new ChainSamples([...overlapping, curr].map((c) => new ChunkSamples(c, what)));
}

/** Thanos: the base chunk deduplicated against each overlapping chunk in turn. */
function penaltySamples(curr: MChunk, overlapping: MChunk[], what: string): SampleIt {
  if (curr.encoding !== Encoding.XOR) throw unsupported(curr.encoding, what);
  let it: SampleIt = new ChunkSamples(curr, what);
  for (const c of overlapping) {
    // Thanos' overlappingMerger only keeps chunks of the base chunk's kind here.
    if (c.encoding !== Encoding.XOR) throw unsupported(c.encoding, what);
    it = new DedupSamples(it, new ChunkSamples(c, what));
  }
  return it;
}

/** All samples of chunks, for tests and re-encoding: [t, hi, lo] triples in order. */
export function chunkSamples(chunks: readonly MChunk[], what = "chunk"): { ts: number[]; hi: number[]; lo: number[] } {
  const ts: number[] = [], hi: number[] = [], lo: number[] = [];
  try {
    for (const c of chunks) {
      const s = new ChunkSamples(c, what);
      while (s.next()) { ts.push(s.atT()); hi.push(s.hi()); lo.push(s.lo()); }
    }
  } finally {
    releaseBufs();
  }
  return { ts, hi, lo };
}

/**
 * Drop the samples of a chunk inside deleted intervals (tombstones, or outside the block's range): the
 * rest is re-encoded into one chunk (Prometheus populateWithDelChunkSeriesIterator), or null when
 * nothing is left. A chunk untouched by the intervals is returned as is.
 */
export function applyDeletions(c: MChunk, intervals: readonly { minTime: number; maxTime: number }[], what: string): MChunk | null {
  const touched = intervals.some((iv) => iv.minTime <= c.maxTime && c.minTime <= iv.maxTime);
  if (!touched) return c;
  if (intervals.some((iv) => iv.minTime <= c.minTime && c.maxTime <= iv.maxTime)) return null;
  if (c.encoding !== Encoding.XOR) throw new CodedError("corrupt", `${what}: deleting samples from a chunk of encoding ${c.encoding} is not supported (only float XOR chunks)`);
  const app = new XorAppender({ goPad: false });
  let mint = 0, maxt = 0, n = 0;
  try {
    const s = new ChunkSamples(c, what);
    while (s.next()) {
      const t = s.atT();
      if (intervals.some((iv) => iv.minTime <= t && t <= iv.maxTime)) continue;
      if (n === 0) mint = t;
      app.appendBits(t, s.hi(), s.lo());
      maxt = t;
      n++;
    }
  } finally {
    releaseBufs();
  }
  return n === 0 ? null : { minTime: mint, maxTime: maxt, encoding: Encoding.XOR, data: app.bytes() };
}
