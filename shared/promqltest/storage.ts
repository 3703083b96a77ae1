// Appendable in-memory storage for test data, with the append rules of the Prometheus 2.42 TSDB head
// that Prometheus' test harness (teststorage: a real TSDB, 24 h blocks) applies to `load` commands:
// - one load is one transaction: checked against what earlier loads committed, then applied;
// - a sample older than the series' newest one is "out of order"; one at the same time with other
//   value bits is a "duplicate sample for timestamp" (the same bits are accepted and dropped);
// - a sample more than 12 h (half the 24 h chunk range) before the newest sample in the storage is
//   "out of bounds";
// - empty label values are dropped, an empty or repeated-name label set is rejected.
// Queries read a MemoryQuerier snapshot, where staleness markers travel as a flag beside the value.
// TestStorage is also an Appendable (shared/storage/appender.ts), so rule evaluation in rule unit
// tests can write into the same storage the input series were loaded into.

import { compareLabels, labelsString, type Labels } from "../labels/labels.ts";
import { CodedError } from "../encoding/errors.ts";
import { MemoryQuerier, type MemorySeries } from "../storage/memory.ts";
import type { Querier } from "../storage/types.ts";
import type { Appendable, Appender } from "../storage/appender.ts";
import type { SeriesSamples } from "./series.ts";

/** Half of teststorage's 24 h chunk range: how far behind the newest sample an append may go. */
const MIN_VALID_WINDOW = 12 * 3600_000;

export interface AppendSeries {
  labels: Labels;
  samples: SeriesSamples;
}

export class TestStorage implements Appendable {
  private readonly byKey = new Map<string, MemorySeries>();
  /** Newest sample time in the storage (the head's maxt); -Infinity while empty. */
  private maxt = -Infinity;
  private snapshot: MemoryQuerier | null = null;

  /**
   * Append series as one transaction (a `load` command): either every sample is valid and all are
   * added, or nothing is and the error says which series and sample broke which rule.
   */
  append(batch: readonly AppendSeries[]): void {
    // The head starts at the first sample appended. Go appends a load's series in random (map)
    // order; starting at the earliest sample never rejects what another order would accept.
    let first = Infinity;
    for (const s of batch) if (s.samples.ts.length > 0) first = Math.min(first, s.samples.ts[0]!);
    const tx = new Transaction(this, first);
    for (const { labels, samples } of batch) {
      for (let i = 0; i < samples.ts.length; i++) tx.append(labels, samples.ts[i]!, samples.vs[i]!, samples.stale[i]!);
    }
    tx.apply();
  }

  /**
   * The write seam (shared/storage/appender.ts): samples are checked at append() against what is
   * committed, and become visible together at commit().
   */
  appender(): Appender {
    let tx: Transaction | null = null;
    return {
      append: (labels, t, v, stale = false) => {
        tx ??= new Transaction(this, t);
        tx.append(labels, t, v, stale);
      },
      commit: async () => {
        tx?.apply();
        tx = null;
      },
      rollback: () => { tx = null; },
    };
  }

  /** A Querier over everything appended so far (valid until the next append). */
  querier(): Querier {
    this.snapshot ??= new MemoryQuerier([...this.byKey.values()]);
    return this.snapshot;
  }

  /** The stored series, sorted by labels (for inspection and tests). */
  series(): MemorySeries[] {
    return [...this.byKey.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  }

  clear(): void {
    this.byKey.clear();
    this.maxt = -Infinity;
    this.snapshot = null;
  }

  /** @internal Transaction access. */
  committed(key: string): MemorySeries | undefined { return this.byKey.get(key); }
  /** @internal */
  newestTime(): number { return this.maxt; }
  /** @internal Apply checked samples: in order, dropping those not after the series' newest. */
  commitSamples(pending: Map<string, { labels: Labels; ts: number[]; vs: number[]; stale: boolean[] }>): void {
    for (const [key, p] of pending) {
      let s = this.byKey.get(key);
      for (let i = 0; i < p.ts.length; i++) {
        const t = p.ts[i]!;
        if (s === undefined) {
          s = { labels: p.labels, ts: [], vs: [], stale: [] };
          this.byKey.set(key, s);
        }
        const n = s.ts.length;
        if (n > 0 && t <= s.ts[n - 1]!) continue;
        s.ts.push(t);
        s.vs.push(p.vs[i]!);
        s.stale!.push(p.stale[i]!);
        if (t > this.maxt) this.maxt = t;
      }
    }
    this.snapshot = null;
  }
}

/** One append transaction: every sample is checked against the committed state when appended. */
class Transaction {
  private readonly minValid: number;
  private readonly pending = new Map<string, { labels: Labels; ts: number[]; vs: number[]; stale: boolean[] }>();

  constructor(private readonly st: TestStorage, firstT: number) {
    const maxt = st.newestTime();
    this.minValid = (maxt === -Infinity ? firstT : maxt) - MIN_VALID_WINDOW;
  }

  append(labels: Labels, t: number, v: number, stale: boolean): void {
    const ls = labels.filter((l) => l.value !== "");
    if (ls.length === 0) throw new CodedError("bad_data", `append series ${labelsString(labels)}: invalid sample: empty labelset`);
    for (let i = 1; i < ls.length; i++) {
      if (ls[i]!.name === ls[i - 1]!.name) throw new CodedError("bad_data", `append series ${labelsString(labels)}: invalid sample: label name "${ls[i]!.name}" is not unique`);
    }
    const key = seriesKey(ls);
    const where = `append sample ${labelsString(ls)} at ${t} ms`;
    if (t < this.minValid) throw new CodedError("bad_data", `${where}: out of bounds (the storage accepts samples from ${this.minValid} ms, 12h before its newest)`);
    const s = this.st.committed(key);
    const n = s ? s.ts.length : 0;
    if (s && n > 0) {
      const lastT = s.ts[n - 1]!;
      if (t < lastT) throw new CodedError("bad_data", `${where}: out of order sample (the series' newest is at ${lastT} ms)`);
      if (t === lastT && !sameBits(s.vs[n - 1]!, s.stale![n - 1] === true, v, stale)) {
        throw new CodedError("bad_data", `${where}: duplicate sample for timestamp (the series has another value at ${lastT} ms)`);
      }
    }
    let p = this.pending.get(key);
    if (!p) {
      p = { labels: ls, ts: [], vs: [], stale: [] };
      this.pending.set(key, p);
    }
    p.ts.push(t);
    p.vs.push(stale ? NaN : v);
    p.stale.push(stale);
  }

  apply(): void {
    this.st.commitSamples(this.pending);
    this.pending.clear();
  }
}

function seriesKey(ls: Labels): string {
  let k = "";
  for (const l of ls) k += l.name + "\u0000" + l.value + "\u0000";
  return k;
}

/** Go compares the float bits: NaN == NaN here, stale != plain NaN, 0 != -0. */
function sameBits(a: number, aStale: boolean, b: number, bStale: boolean): boolean {
  if (aStale || bStale) return aStale === bStale;
  if (a !== a || b !== b) return a !== a && b !== b;
  return Object.is(a, b);
}

/**
 * Loads a `load` command's samples into a TestStorage bit by bit, as time advances (Prometheus'
 * promql.LazyLoader, used by `promtool test rules`): appendTill(t) appends every not yet appended
 * sample at or before t, as one transaction.
 */
export class LazyLoader {
  readonly storage = new TestStorage();
  private readonly pending: { labels: Labels; samples: SeriesSamples; next: number }[];

  constructor(series: readonly AppendSeries[]) {
    this.pending = series.map((s) => ({ labels: s.labels, samples: s.samples, next: 0 }));
  }

  appendTill(tMs: number): void {
    const batch: AppendSeries[] = [];
    for (const p of this.pending) {
      const { ts, vs, stale } = p.samples;
      let end = p.next;
      while (end < ts.length && ts[end]! <= tMs) end++;
      if (end === p.next) continue;
      batch.push({ labels: p.labels, samples: { ts: ts.slice(p.next, end), vs: vs.slice(p.next, end), stale: stale.slice(p.next, end) } });
      p.next = end;
    }
    if (batch.length > 0) this.storage.append(batch);
  }

  querier(): Querier {
    return this.storage.querier();
  }
}
