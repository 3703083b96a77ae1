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
import { drainInto, isArraySeries, SampleBuffer, setStale, staleAt, type ArraySeries, type SampleArrays } from "../tsdb/querier.ts";

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
      // Each replica decodes into a scratch buffer of this nesting level, then one merge pass.
      const level = scratchDepth++;
      try {
        const bufs = (scratch[level] ??= []);
        for (let i = 0; i < replicas.length; i++) {
          const b = (bufs[i] ??= new SampleBuffer(1024));
          const r = replicas[i]!;
          if (isArraySeries(r)) r.samplesInto(b);
          else { const e = drainInto(r.iterator(), b); if (e) throw e; }
        }
        penaltyMerge(bufs, replicas.length, counter, out);
      } finally {
        scratchDepth--;
      }
    },
  };
  return series;
}

/** Per-replica decode buffers, one set per nesting level of samplesInto (reused across series). */
const scratch: SampleBuffer[][] = [];
let scratchDepth = 0;

/**
 * PenaltyIterator's output, computed over whole decoded replicas into `out` in one pass: the same
 * decisions sample for sample (the iterator's seek on a decoded series is "first sample at or after"),
 * without a virtual call per sample and replica.
 */
export function penaltyMerge(reps: readonly SampleArrays[], k: number, counter: boolean, out: SampleBuffer): void {
  let cap = 0;
  for (let i = 0; i < k; i++) cap += reps[i]!.n;
  out.n = 0;
  out.reserve(cap);
  const pos = new Int32Array(k);
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
      const half = (interval || INITIAL_INTERVAL) / 2;
      for (let i = 0; i < k; i++) {
        const a = reps[i]!;
        let p = pos[i]!;
        if (p >= a.n) continue;
        const target = i === cur ? lastT + 1 : lastT + half;
        const ts = a.ts;
        while (p < a.n && ts[p]! < target) p++;
        pos[i] = p;
      }
    }
    let pick = -1;
    const c = cur;
    if (c >= 0 && pos[c]! < reps[c]!.n) {
      const t = reps[c]!.ts[pos[c]!]!;
      if (interval === 0 || t - lastT <= 2 * interval) pick = c;
    }
    if (pick < 0) {
      let best = Number.POSITIVE_INFINITY;
      if (c >= 0 && pos[c]! < reps[c]!.n) { best = reps[c]!.ts[pos[c]!]!; pick = c; }
      for (let i = 0; i < k; i++) {
        if (i === c || pos[i]! >= reps[i]!.n) continue;
        const t = reps[i]!.ts[pos[i]!]!;
        if (t < best) { best = t; pick = i; }
      }
    }
    if (pick < 0) break;

    const a = reps[pick]!;
    const p = pos[pick]!;
    const t = a.ts[p]!;
    let v = a.vs[p]!;
    const stale = v !== v && staleAt(a, p);
    if (pick !== cur && cur >= 0 && counter && !stale && !lastStale) {
      if (v + offset[pick]! < lastV) offset[pick] = lastV - v;
    }
    if (!stale) v += offset[pick]!;

    if (pick === cur && lastT !== Number.NEGATIVE_INFINITY) {
      const d = t - lastT;
      if (interval === 0 || d <= 2 * interval || !otherEarlier(reps, pos, k, pick, t)) interval = d;
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
    // is applied once at its end, which lands them where per-sample advancing would have.
    if (interval === 0) continue;
    const ca = reps[cur]!, cts = ca.ts, cvs = ca.vs, cn = ca.n, off = offset[cur]!;
    let cp = pos[cur]!;
    let maxOther = Number.NEGATIVE_INFINITY;
    for (;;) {
      const tgt = lastT + interval / 2;
      if (tgt > maxOther) maxOther = tgt;
      const next = lastT + 1;
      while (cp < cn && cts[cp]! < next) cp++;
      if (cp >= cn) break;
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
      ots[n] = t2;
      if (st2) setStale(obits, n);
      else ovs[n] = v2;
      n++;
    }
    pos[cur] = cp;
    for (let i = 0; i < k; i++) {
      if (i === cur) continue;
      const oa = reps[i]!, ots2 = oa.ts;
      let op = pos[i]!;
      while (op < oa.n && ots2[op]! < maxOther) op++;
      pos[i] = op;
    }
  }
  out.n = n;
}

function otherEarlier(reps: readonly SampleArrays[], pos: Int32Array, k: number, pick: number, t: number): boolean {
  for (let i = 0; i < k; i++) if (i !== pick && pos[i]! < reps[i]!.n && reps[i]!.ts[pos[i]!]! < t) return true;
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
