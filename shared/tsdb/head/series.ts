// One series of the head: closed XOR chunks plus the open one being appended to, cut at Prometheus
// 2.42's rules (tsdb/head_append.go appendPreprocessor):
//   - a chunk never crosses a multiple of the chunk range (the block duration): the first sample of a
//     chunk sets nextAt = the next multiple, and a sample at or past nextAt starts a new chunk;
//   - at 30 samples (a quarter of the 120 wanted) nextAt is re-estimated so the rest of the range splits
//     into chunks of ~120 samples at the rate seen so far (computeChunkEndTime);
//   - a chunk holding 240 samples is cut regardless (the rate went up).
// So blocks cut at multiples of the chunk range take whole chunks, never a piece of one.

import { XorAppender } from "../../chunkenc/xor.ts";
import type { Labels } from "../../labels/labels.ts";

export const SAMPLES_PER_CHUNK = 120;
/** Small first buffers: most head series of a ruler hold a few samples (see XorAppenderOptions). */
const APPENDER_OPTS = { initialBytes: 64 };

/** Go's int64 division truncates toward zero. */
function goDiv(a: number, b: number): number { return Math.trunc(a / b); }

/** Prometheus rangeForTimestamp: the end of the chunk range holding t. */
export function rangeForTimestamp(t: number, width: number): number {
  return goDiv(t, width) * width + width;
}

/** Prometheus computeChunkEndTime: spread the rest of [start, max) over equal chunks at this rate. */
export function computeChunkEndTime(start: number, cur: number, max: number): number {
  const n = goDiv(max - start, (cur - start + 1) * 4);
  if (n <= 1) return max;
  return start + goDiv(max - start, n);
}

/** A closed chunk: immutable bytes, so readers share it without copying. */
export interface HeadChunk {
  minTime: number;
  /** Inclusive. */
  maxTime: number;
  data: Uint8Array;
}

export const enum AppendResult { Ok, OutOfOrder, Duplicate }

export class MemSeries {
  chunks: HeadChunk[] = [];
  /** The open chunk (null before the first sample, and after truncation removed it). */
  app: XorAppender | null = null;
  headMin = 0;
  headMax = -Infinity;
  nextAt = -Infinity;
  /** Last sample: time and raw value bits (for duplicate detection); maxTime -Infinity when empty. */
  maxTime = -Infinity;
  lastHi = 0;
  lastLo = 0;
  /** Open appenders holding samples for this series (it must not be garbage-collected meanwhile). */
  pending = 0;
  /** The appender whose last pending sample index is in pendIdx (0: none): saves a map lookup per sample. */
  pendOwner = 0;
  pendIdx = 0;
  /** Written to the WAL by a commit (a Series record precedes its first samples). */
  logged = false;
  /** Removed from the head by garbage collection (a cached reference must look it up again). */
  deleted = false;

  constructor(readonly ref: number, readonly labels: Labels, readonly key: number) {}

  /** Time of the first sample held (Infinity when empty). */
  minTime(): number {
    if (this.chunks.length) return this.chunks[0]!.minTime;
    return this.app ? this.headMin : Infinity;
  }

  isEmpty(): boolean { return this.chunks.length === 0 && this.app === null; }

  /**
   * Append one sample (value as raw bits). OutOfOrder: t before the newest sample; Duplicate: the same
   * time (same value: ignored; another value: the caller decides). Nothing is appended in either case.
   */
  append(t: number, hi: number, lo: number, chunkRange: number): AppendResult {
    if (t <= this.maxTime) {
      if (t < this.maxTime) return AppendResult.OutOfOrder;
      return AppendResult.Duplicate;
    }
    let app = this.app;
    if (app === null) {
      app = this.cut(t, chunkRange);
    } else {
      const n = app.numSamples();
      if (n === SAMPLES_PER_CHUNK / 4) this.nextAt = computeChunkEndTime(this.headMin, this.headMax, this.nextAt);
      if (t >= this.nextAt || n >= SAMPLES_PER_CHUNK * 2) app = this.cut(t, chunkRange);
    }
    app.appendBits(t, hi, lo);
    this.headMax = t;
    this.maxTime = t;
    this.lastHi = hi >>> 0;
    this.lastLo = lo >>> 0;
    return AppendResult.Ok;
  }

  /** Close the open chunk (if any) and start a new one at t. */
  private cut(t: number, chunkRange: number): XorAppender {
    let app = this.app;
    if (app !== null && app.numSamples() > 0) {
      this.chunks.push({ minTime: this.headMin, maxTime: this.headMax, data: app.bytes() });
      app.reset();
    }
    if (app === null) app = this.app = new XorAppender(APPENDER_OPTS);
    this.headMin = t;
    this.headMax = -Infinity;
    this.nextAt = rangeForTimestamp(t, chunkRange);
    return app;
  }

  /**
   * The chunks overlapping [mint, maxt] (inclusive), the open one as a copy of its bytes so far. The
   * caller gets immutable data: later appends and truncations do not change it.
   */
  chunksIn(mint: number, maxt: number): HeadChunk[] {
    const out: HeadChunk[] = [];
    const cs = this.chunks;
    // Chunks are in time order: skip the old ones quickly.
    let i = 0;
    if (cs.length > 8) {
      let lo = 0, hi = cs.length;
      while (lo < hi) { const m = (lo + hi) >>> 1; if (cs[m]!.maxTime < mint) lo = m + 1; else hi = m; }
      i = lo;
    }
    for (; i < cs.length; i++) {
      const c = cs[i]!;
      if (c.minTime > maxt) return out;
      if (c.maxTime >= mint) out.push(c);
    }
    const app = this.app;
    if (app !== null && app.numSamples() > 0 && this.headMax >= mint && this.headMin <= maxt) {
      out.push({ minTime: this.headMin, maxTime: this.headMax, data: app.bytes() });
    }
    return out;
  }

  /** Drop chunks wholly before mint; returns how many were dropped. */
  truncateBefore(mint: number): number {
    let k = 0;
    while (k < this.chunks.length && this.chunks[k]!.maxTime < mint) k++;
    if (k > 0) this.chunks = this.chunks.slice(k);
    let dropped = k;
    if (this.app !== null && this.app.numSamples() > 0 && this.headMax < mint) {
      this.app = null;
      dropped++;
    }
    if (this.isEmpty()) {
      // Nothing left: the next sample starts afresh (the head's min valid time guards the order).
      this.maxTime = -Infinity;
      this.nextAt = -Infinity;
    }
    return dropped;
  }

  numChunks(): number { return this.chunks.length + (this.app !== null && this.app.numSamples() > 0 ? 1 : 0); }
}

