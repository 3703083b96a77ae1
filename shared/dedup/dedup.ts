// HA deduplication: series that differ only in replica labels become one series.
//
// "penalty" (Thanos' default) stays on one replica and switches only when that replica has a gap; "chain"
// merges all samples by timestamp (for replicas with exactly aligned samples, e.g. from a receiver).
//
// Where this differs from Thanos' pkg/dedup on purpose:
// - The gap threshold comes from an estimate of the scrape interval, not from the last delta. In Thanos the
//   penalty is 2x the last delta, so right after a gap the penalty is 2x the gap and a second switch skips
//   real samples of the other replica (thanos-io/thanos#981). Here a delta that looks like a gap never
//   becomes the interval estimate.
// - When we do switch, we take the other replica's first sample at least half an interval after the last
//   one emitted, instead of 2x the delta: the output keeps the scrape frequency without a hole.
// - Counter continuity does not depend only on the query's function hint. When the hint is rate/increase/
//   irate/resets, or the metric name says counter (_total, _count, _bucket), a switch that would make the
//   value go down is adjusted (so rate() never sees a fake reset: thanos-io/thanos#2890); a real reset seen
//   by the replica we stay on is left alone.

import { METRIC_NAME, compareLabels, getLabel, type Labels } from "../labels/labels.ts";
import type { SampleIterator, StorageSeries } from "../storage/types.ts";
import { drainInto, isArraySeries, isChunkedSeries, SampleBuffer, setStale, staleAt, type ArraySeries, type SampleArrays, type SeriesChunk } from "../tsdb/querier.ts";
import { decodeXorAt } from "../chunkenc/xor.ts";
import { Encoding } from "../chunkenc/chunk.ts";
import { CodedError } from "../encoding/errors.ts";

export type DedupAlgorithm = "penalty" | "chain";

/** Thanos: with no interval known yet, assume samples are at least this far apart (ms). */
const INITIAL_INTERVAL = 5000;

const COUNTER_FUNCS = new Set(["rate", "increase", "irate", "resets"]);

export function looksLikeCounter(labels: Labels, func: string | undefined): boolean {
  if (func !== undefined && COUNTER_FUNCS.has(func)) return true;
  const name = getLabel(labels, METRIC_NAME);
  return name.endsWith("_total") || name.endsWith("_count") || name.endsWith("_bucket");
}

export interface DedupOptions {
  algorithm?: DedupAlgorithm;
  /** The select hint's function (rate, increase, ...), for counter handling. */
  func?: string;
}

/**
 * Deduplicate series by dropping the replica labels. Input need not be sorted by the stripped labels;
 * output is sorted by them, one series per distinct stripped label set.
 */
export function dedupSeries(series: StorageSeries[], replicaLabels: ReadonlySet<string>, opts: DedupOptions = {}): StorageSeries[] {
  if (replicaLabels.size === 0) return series;
  const stripped = series.map((s, i) => ({ labels: s.labels.filter((l) => !replicaLabels.has(l.name)), s, i }));
  // Stable: replicas of one series keep the input order (sorted by full labels: replica "a" before "b").
  stripped.sort((x, y) => compareLabels(x.labels, y.labels) || x.i - y.i);
  const out: StorageSeries[] = [];
  for (let i = 0; i < stripped.length; ) {
    let j = i + 1;
    while (j < stripped.length && compareLabels(stripped[j]!.labels, stripped[i]!.labels) === 0) j++;
    const labels = stripped[i]!.labels;
    const group = stripped.slice(i, j).map((x) => x.s);
    out.push(group.length === 1 ? single(labels, group[0]!) : mergedSeries(labels, group, opts));
    i = j;
  }
  return out;
}

function single(labels: Labels, s: StorageSeries): StorageSeries {
  if (isArraySeries(s)) return { labels, iterator: () => s.iterator(), samplesInto: (out: SampleBuffer) => s.samplesInto(out) } as ArraySeries;
  return { labels, iterator: () => s.iterator() };
}

function mergedSeries(labels: Labels, replicas: StorageSeries[], opts: DedupOptions): StorageSeries {
  if (opts.algorithm === "chain") {
    return { labels, iterator: () => new ChainIterator(replicas.map((r) => r.iterator())) };
  }
  const counter = looksLikeCounter(labels, opts.func);
  const iterator = () => new PenaltyIterator(replicas.map((r) => r.iterator()), counter);
  const series: ArraySeries = {
    labels,
    iterator,
    samplesInto(out: SampleBuffer): void {
      // Each replica goes into a scratch buffer of this nesting level, then one merge pass. Replicas
      // that hand out their chunks are decoded lazily, chunk by chunk, as the merge reaches them.
      const level = scratchDepth++;
      try {
        const reps = (scratch[level] ??= []);
        const k = replicas.length;
        let lazy = false;
        for (let i = 0; i < k; i++) {
          const rep = (reps[i] ??= new Replica());
          const r = replicas[i]!;
          const list = isChunkedSeries(r) ? r.chunkList() : null;
          if (list && rep.resetLazy(list.chunks, list.mint, list.maxt)) lazy = true;
          else fullInto(r, rep);
        }
        if (lazy) {
          try {
            mergeReplicas(reps, k, counter, out);
            return;
          } catch {
            // A chunk did not match its time range or order, or was corrupt: decode everything (which
            // also names the series in a decode error).
            for (let i = 0; i < k; i++) fullInto(replicas[i]!, reps[i]!);
          }
        }
        mergeReplicas(reps, k, counter, out);
      } finally {
        scratchDepth--;
      }
    },
  };
  return series;
}

function fullInto(r: StorageSeries, rep: Replica): void {
  if (isArraySeries(r)) r.samplesInto(rep.b);
  else { const e = drainInto(r.iterator(), rep.b); if (e) throw e; }
  rep.resetFull();
}

/** Per-replica buffers, one set per nesting level of samplesInto (reused across series). */
const scratch: Replica[][] = [];
let scratchDepth = 0;

/**
 * One replica in a penalty merge: samples decoded so far (b, in time order), the position `pos`, a
 * pending seek target `tgt` (the merge moves replicas it is not reading only when it needs them: the
 * position is always "first sample at or after the largest target so far", as with iterator seeks),
 * and, when decoded lazily, the chunks not decoded yet. A chunk whose whole time range lies before the
 * target is skipped without decoding: while one replica has no gaps, the others' middle chunks are
 * never decoded. Relies on the chunks' min/max times (checked on every chunk that is decoded).
 */
class Replica {
  readonly b = new SampleBuffer(1024);
  pos = 0;
  tgt = Number.NEGATIVE_INFINITY;
  private chunks: readonly SeriesChunk[] = [];
  private next = 0;
  private mint = 0;
  private maxt = 0;

  resetFull(): void {
    this.pos = 0; this.tgt = Number.NEGATIVE_INFINITY;
    this.chunks = []; this.next = 0;
  }

  /** Lazy decoding of `chunks` trimmed to [mint, maxt]; false if their time ranges overlap or are out of order. */
  resetLazy(chunks: readonly SeriesChunk[], mint: number, maxt: number): boolean {
    let cap = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (c.encoding !== Encoding.XOR || c.data.length < 2 || c.deleted || !(c.minTime <= c.maxTime)) return false;
      if (i > 0 && !(chunks[i - 1]!.maxTime < c.minTime)) return false;
      cap += (c.data[0]! << 8) | c.data[1]!;
    }
    this.b.n = 0;
    this.b.reserve(cap);
    this.pos = 0; this.tgt = Number.NEGATIVE_INFINITY;
    this.chunks = chunks; this.next = 0; this.mint = mint; this.maxt = maxt;
    return true;
  }

  /**
   * Apply the pending target within what is decoded; then the sample time there (exact), or a lower
   * bound of it from the next chunk that may hold it (not decoded), or +Infinity when none is left.
   */
  lb(): number {
    const b = this.b, ts = b.ts, n = b.n, tgt = this.tgt;
    let p = this.pos;
    while (p < n && ts[p]! < tgt) p++;
    this.pos = p;
    if (p < n) return ts[p]!;
    const cs = this.chunks;
    while (this.next < cs.length) {
      const c = cs[this.next]!;
      if (c.maxTime < tgt || c.maxTime < this.mint || c.minTime > this.maxt) { this.next++; continue; }
      return Math.max(c.minTime, tgt, this.mint);
    }
    return Number.POSITIVE_INFINITY;
  }

  /** The exact time of the sample at the position (decoding as needed); +Infinity when none is left. */
  at(): number {
    for (;;) {
      const x = this.lb();
      if (this.pos < this.b.n || x === Number.POSITIVE_INFINITY) return x;
      this.decodeNext();
    }
  }

  /** Append the next chunk's samples in [mint, maxt]; throws if they break its time range or the order. */
  private decodeNext(): void {
    const c = this.chunks[this.next++]!;
    const b = this.b;
    const start = b.n;
    b.reserve(start + ((c.data[0]! << 8) | c.data[1]!));
    const ts = b.ts, bits = b.bits;
    const got = decodeXorAt(c.data, ts, bits, start, c.what);
    let last = start > 0 ? ts[start - 1]! : Number.NEGATIVE_INFINITY;
    let m = start;
    for (let j = start; j < start + got; j++) {
      const t = ts[j]!;
      if (t < c.minTime || t > c.maxTime || t <= last) throw new CodedError("internal", `${c.what}: samples outside the chunk's time range or order`);
      last = t;
      if (t < this.mint || t > this.maxt) continue;
      if (m !== j) { ts[m] = t; bits[2 * m] = bits[2 * j]!; bits[2 * m + 1] = bits[2 * j + 1]!; }
      m++;
    }
    b.n = m;
  }
}

/**
 * PenaltyIterator's output, computed over whole decoded replicas into `out` in one pass: the same
 * decisions sample for sample (the iterator's seek on a decoded series is "first sample at or after"),
 * without a virtual call per sample and replica.
 */
export function penaltyMerge(reps: readonly SampleArrays[], k: number, counter: boolean, out: SampleBuffer): void {
  const rs: Replica[] = [];
  for (let i = 0; i < k; i++) {
    const r = new Replica();
    const a = reps[i]!;
    r.b.reserve(a.n);
    r.b.ts.set(a.ts.subarray(0, a.n));
    r.b.bits.set(a.bits.subarray(0, 2 * a.n));
    r.b.n = a.n;
    rs.push(r);
  }
  mergeReplicas(rs, k, counter, out);
}

/** penaltyMerge over replicas given as chunks, decoded lazily (for tests: the chunk skipping path). */
export function penaltyMergeChunks(reps: readonly { chunks: SeriesChunk[]; mint: number; maxt: number }[], counter: boolean, out: SampleBuffer): void {
  const rs = reps.map((x) => {
    const r = new Replica();
    if (!r.resetLazy(x.chunks, x.mint, x.maxt)) throw new Error("chunks overlap");
    return r;
  });
  mergeReplicas(rs, rs.length, counter, out);
}

function mergeReplicas(reps: readonly Replica[], k: number, counter: boolean, out: SampleBuffer): void {
  let cap = 0;
  for (let i = 0; i < k; i++) cap += reps[i]!.b.ts.length;
  out.n = 0;
  out.reserve(cap);
  const offset = new Float64Array(k);
  let cur = -1;
  let lastT = Number.NEGATIVE_INFINITY;
  let lastV = 0;
  let lastStale = false;
  let interval = 0;
  let n = 0;
  const ots = out.ts, ovs = out.vs, obits = out.bits;
  for (let first = true; ; first = false) {
    if (!first) {
      // Move every replica past what was emitted; the others also past half an interval (pending
      // targets: applied when a replica is looked at).
      const half = (interval || INITIAL_INTERVAL) / 2;
      for (let i = 0; i < k; i++) {
        const r = reps[i]!;
        const target = i === cur ? lastT + 1 : lastT + half;
        if (target > r.tgt) r.tgt = target;
      }
    }
    let pick = -1;
    const c = cur;
    if (c >= 0) {
      const t = reps[c]!.at();
      if (t !== Number.POSITIVE_INFINITY && (interval === 0 || t - lastT <= 2 * interval)) pick = c;
    }
    if (pick < 0) {
      let best = Number.POSITIVE_INFINITY;
      if (c >= 0) { const t = reps[c]!.at(); if (t !== Number.POSITIVE_INFINITY) { best = t; pick = c; } }
      for (let i = 0; i < k; i++) {
        if (i === c) continue;
        const r = reps[i]!;
        if (r.lb() >= best) continue; // cannot be earlier: not decoded
        const t = r.at();
        if (t < best) { best = t; pick = i; }
      }
    }
    if (pick < 0) break;

    const r = reps[pick]!, a = r.b;
    const p = r.pos;
    const t = a.ts[p]!;
    let v = a.vs[p]!;
    const stale = v !== v && staleAt(a, p);
    if (pick !== cur && cur >= 0 && counter && !stale && !lastStale) {
      if (v + offset[pick]! < lastV) offset[pick] = lastV - v;
    }
    if (!stale) v += offset[pick]!;

    if (pick === cur && lastT !== Number.NEGATIVE_INFINITY) {
      const d = t - lastT;
      if (interval === 0 || d <= 2 * interval || !otherEarlier(reps, k, pick, t)) interval = d;
    }
    cur = pick;
    lastT = t;
    lastV = v;
    lastStale = stale;
    ots[n] = t;
    if (stale) setStale(obits, n);
    else ovs[n] = v;
    n++;

    // Staying on `cur` while its next sample comes within twice the interval (no gap) needs nothing of
    // the other replicas: emit that run in a tight loop. The others' positions only ever move forward
    // to "first sample at or after lastT + half an interval"; the largest of those targets over the run
    // becomes their pending target, which lands them where per-sample advancing would have.
    if (interval === 0) continue;
    const ca = r.b, off = offset[cur]!;
    let cts = ca.ts, cvs = ca.vs, cn = ca.n;
    let cp = r.pos;
    let maxOther = Number.NEGATIVE_INFINITY;
    for (;;) {
      const tgt = lastT + interval / 2;
      if (tgt > maxOther) maxOther = tgt;
      const next = lastT + 1;
      while (cp < cn && cts[cp]! < next) cp++;
      if (cp >= cn) {
        // End of what is decoded: the next chunk, if any.
        r.pos = cp;
        if (next > r.tgt) r.tgt = next;
        if (r.at() === Number.POSITIVE_INFINITY) break;
        cts = ca.ts; cvs = ca.vs; cn = ca.n; cp = r.pos;
        continue;
      }
      const t2 = cts[cp]!;
      const d = t2 - lastT;
      if (d > 2 * interval) break;
      let v2 = cvs[cp]!;
      const st2 = v2 !== v2 && staleAt(ca, cp);
      if (!st2) v2 += off;
      interval = d;
      lastT = t2;
      lastV = v2;
      lastStale = st2;
      if (n === ots.length) throw new CodedError("internal", "penalty merge: more samples than the replicas hold");
      ots[n] = t2;
      if (st2) setStale(obits, n);
      else ovs[n] = v2;
      n++;
    }
    r.pos = cp;
    for (let i = 0; i < k; i++) {
      if (i === cur) continue;
      const o = reps[i]!;
      if (maxOther > o.tgt) o.tgt = maxOther;
    }
  }
  out.n = n;
}

function otherEarlier(reps: readonly Replica[], k: number, pick: number, t: number): boolean {
  for (let i = 0; i < k; i++) {
    if (i === pick) continue;
    const r = reps[i]!;
    if (r.lb() < t && r.at() < t) return true;
  }
  return false;
}

/**
 * Stays on one replica; switches when the current one has a gap (its next sample is more than 2 scrape
 * intervals after the last emitted sample) and another replica has a sample before it.
 */
export class PenaltyIterator implements SampleIterator {
  private readonly its: SampleIterator[];
  /** Whether its[i] is positioned on a sample (not exhausted). */
  private readonly live: boolean[];
  /** Value offset per replica, for counter continuity across switches. */
  private readonly offset: number[];
  private cur = -1;
  private lastT = Number.NEGATIVE_INFINITY;
  private lastV = 0;
  private lastStale = false;
  private interval = 0; // 0 = unknown
  private started = false;
  private error: Error | null = null;

  constructor(its: SampleIterator[], private readonly counter: boolean) {
    this.its = its;
    this.live = its.map(() => false);
    this.offset = its.map(() => 0);
  }

  next(): boolean {
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.its.length; i++) this.live[i] = this.advance(i, Number.NEGATIVE_INFINITY);
    } else {
      // Move every replica past what was emitted; the others also past half an interval, so a switch
      // never emits two samples closer than that.
      const half = (this.interval || INITIAL_INTERVAL) / 2;
      for (let i = 0; i < this.its.length; i++) {
        if (!this.live[i]) continue;
        this.live[i] = this.advance(i, i === this.cur ? this.lastT + 1 : this.lastT + half);
      }
    }
    if (this.error) return false;

    let pick = -1;
    const c = this.cur;
    if (c >= 0 && this.live[c]) {
      const t = this.its[c]!.at();
      // With no interval known yet (second sample), stay: the first delta defines the interval.
      if (this.interval === 0 || t - this.lastT <= 2 * this.interval) pick = c;
    }
    if (pick < 0) {
      // Current replica exhausted or in a gap: earliest sample of any replica (current wins ties).
      let best = Number.POSITIVE_INFINITY;
      if (c >= 0 && this.live[c]) { best = this.its[c]!.at(); pick = c; }
      for (let i = 0; i < this.its.length; i++) {
        if (!this.live[i] || i === c) continue;
        const t = this.its[i]!.at();
        if (t < best) { best = t; pick = i; }
      }
    }
    if (pick < 0) return false;

    const it = this.its[pick]!;
    const t = it.at();
    let v = it.value();
    const stale = it.isStale();
    if (pick !== this.cur && this.cur >= 0 && this.counter && !stale && !this.lastStale) {
      // Switching replicas on a counter: never let the switch itself look like a reset.
      if (v + this.offset[pick]! < this.lastV) this.offset[pick] = this.lastV - v;
    }
    if (!stale) v += this.offset[pick]!;

    if (pick === this.cur && this.lastT !== Number.NEGATIVE_INFINITY) {
      const d = t - this.lastT;
      // A delta over twice the estimate is a gap, not a new interval, unless no replica had anything
      // earlier (then the scrape interval itself changed).
      if (this.interval === 0 || d <= 2 * this.interval || !this.otherEarlier(pick, t)) this.interval = d;
    }
    this.cur = pick;
    this.lastT = t;
    this.lastV = v;
    this.lastStale = stale;
    return true;
  }

  private otherEarlier(pick: number, t: number): boolean {
    for (let i = 0; i < this.its.length; i++) if (i !== pick && this.live[i] && this.its[i]!.at() < t) return true;
    return false;
  }

  /** Position replica i on its first sample with t >= ts (staying put if already there). */
  private advance(i: number, ts: number): boolean {
    const it = this.its[i]!;
    const ok = ts === Number.NEGATIVE_INFINITY ? it.next() : it.seek(ts);
    if (!ok) {
      const e = it.err();
      if (e) this.error = e;
    }
    return ok;
  }

  seek(ts: number): boolean {
    // Walk with next() rather than seeking the replicas, so gaps are seen exactly as in next().
    if (this.cur >= 0 && this.lastT >= ts) return true;
    while (this.next()) if (this.lastT >= ts) return true;
    return false;
  }

  at(): number { return this.lastT; }
  value(): number { return this.lastV; }
  isStale(): boolean { return this.lastStale; }
  err(): Error | null { return this.error; }
}

/** All samples of all replicas by timestamp; on equal timestamps the first replica's sample wins. */
export class ChainIterator implements SampleIterator {
  private readonly live: boolean[];
  private cur = -1;
  private started = false;
  private error: Error | null = null;

  constructor(private readonly its: SampleIterator[]) {
    this.live = its.map(() => false);
  }

  next(): boolean {
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.its.length; i++) this.live[i] = this.step(i, () => this.its[i]!.next());
    } else if (this.cur >= 0) {
      const t = this.its[this.cur]!.at();
      for (let i = 0; i < this.its.length; i++) {
        if (this.live[i] && this.its[i]!.at() <= t) this.live[i] = this.step(i, () => this.its[i]!.seek(t + 1));
      }
    }
    return this.pick();
  }

  seek(ts: number): boolean {
    if (!this.started) {
      this.started = true;
      for (let i = 0; i < this.its.length; i++) this.live[i] = this.step(i, () => this.its[i]!.seek(ts));
      return this.pick();
    }
    if (this.cur >= 0 && this.its[this.cur]!.at() >= ts) return true;
    for (let i = 0; i < this.its.length; i++) if (this.live[i]) this.live[i] = this.step(i, () => this.its[i]!.seek(ts));
    return this.pick();
  }

  private step(i: number, f: () => boolean): boolean {
    const ok = f();
    if (!ok && this.its[i]!.err()) this.error = this.its[i]!.err();
    return ok;
  }

  private pick(): boolean {
    this.cur = -1;
    if (this.error) return false;
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.its.length; i++) {
      if (this.live[i] && this.its[i]!.at() < best) { best = this.its[i]!.at(); this.cur = i; }
    }
    return this.cur >= 0;
  }

  at(): number { return this.its[this.cur]!.at(); }
  value(): number { return this.its[this.cur]!.value(); }
  isStale(): boolean { return this.its[this.cur]!.isStale(); }
  err(): Error | null { return this.error; }
}
