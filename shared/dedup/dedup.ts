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
    out.push(group.length === 1 ? { labels, iterator: () => group[0]!.iterator() } : mergedSeries(labels, group, opts));
    i = j;
  }
  return out;
}

function mergedSeries(labels: Labels, replicas: StorageSeries[], opts: DedupOptions): StorageSeries {
  if (opts.algorithm === "chain") {
    return { labels, iterator: () => new ChainIterator(replicas.map((r) => r.iterator())) };
  }
  const counter = looksLikeCounter(labels, opts.func);
  return { labels, iterator: () => new PenaltyIterator(replicas.map((r) => r.iterator()), counter) };
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
