// Appendable in-memory storage for test data, with the append rules of the Prometheus 2.42 TSDB head
// that Prometheus' test harness (teststorage: a real TSDB, 24 h blocks) applies to `load` commands:
// - one load is one transaction: checked against what earlier loads committed, then applied;
// - a sample older than the series' newest one is "out of order"; one at the same time with other
//   value bits is a "duplicate sample for timestamp" (the same bits are accepted and dropped);
// - a sample more than 12 h (half the 24 h chunk range) before the newest sample in the storage is
//   "out of bounds";
// - empty label values are dropped, an empty or repeated-name label set is rejected.
// Queries read a MemoryQuerier snapshot, where staleness markers travel as a flag beside the value.

import { compareLabels, labelsString, type Labels } from "../labels/labels.ts";
import { CodedError } from "../encoding/errors.ts";
import { MemoryQuerier, type MemorySeries } from "../storage/memory.ts";
import type { Querier } from "../storage/types.ts";
import type { SeriesSamples } from "./series.ts";

/** Half of teststorage's 24 h chunk range: how far behind the newest sample an append may go. */
const MIN_VALID_WINDOW = 12 * 3600_000;

export interface AppendSeries {
  labels: Labels;
  samples: SeriesSamples;
}

export class TestStorage {
  private readonly byKey = new Map<string, MemorySeries>();
  /** Newest sample time in the storage (the head's maxt); -Infinity while empty. */
  private maxt = -Infinity;
  private snapshot: MemoryQuerier | null = null;

  /**
   * Append series as one transaction (a `load` command): either every sample is valid and all are
   * added, or nothing is and the error says which series and sample broke which rule.
   */
  append(batch: readonly AppendSeries[]): void {
    let minValid: number;
    if (this.maxt === -Infinity) {
      // The head starts at the first sample appended (Go picks a random series first; the earliest
      // sample is the choice that never rejects what another order would accept).
      let first = Infinity;
      for (const s of batch) if (s.samples.ts.length > 0) first = Math.min(first, s.samples.ts[0]!);
      minValid = first - MIN_VALID_WINDOW;
    } else {
      minValid = this.maxt - MIN_VALID_WINDOW;
    }
    const planned: { s: MemorySeries; created: boolean; samples: SeriesSamples }[] = [];
    const pending = new Map<string, MemorySeries>();
    for (const { labels, samples } of batch) {
      if (samples.ts.length === 0) continue; // Prometheus appends nothing, so no series exists
      const ls = labels.filter((l) => l.value !== "");
      if (ls.length === 0) throw new CodedError("bad_data", `append series ${labelsString(labels)}: invalid sample: empty labelset`);
      for (let i = 1; i < ls.length; i++) {
        if (ls[i]!.name === ls[i - 1]!.name) throw new CodedError("bad_data", `append series ${labelsString(labels)}: invalid sample: label name "${ls[i]!.name}" is not unique`);
      }
      const key = seriesKey(ls);
      let s = this.byKey.get(key) ?? pending.get(key);
      const created = s === undefined;
      if (s === undefined) {
        s = { labels: ls, ts: [], vs: [], stale: [] };
        pending.set(key, s);
      }
      const n = s.ts.length;
      const lastT = n > 0 ? s.ts[n - 1]! : -Infinity;
      for (let i = 0; i < samples.ts.length; i++) {
        const t = samples.ts[i]!;
        const where = () => `append sample ${labelsString(ls)} at ${t} ms`;
        if (t < minValid) throw new CodedError("bad_data", `${where()}: out of bounds (more than 12h before the newest sample at ${this.maxt === -Infinity ? minValid + MIN_VALID_WINDOW : this.maxt} ms)`);
        if (n === 0 || t > lastT) continue;
        if (t === lastT) {
          if (!sameBits(s.vs[n - 1]!, s.stale![n - 1] === true, samples.vs[i]!, samples.stale[i]!)) {
            throw new CodedError("bad_data", `${where()}: duplicate sample for timestamp`);
          }
          continue;
        }
        throw new CodedError("bad_data", `${where()}: out of order sample`);
      }
      planned.push({ s, created, samples });
    }
    // Commit: in order, dropping samples not after the series' newest (repeats at the same time).
    for (const { s, samples } of planned) {
      const stale = s.stale!;
      for (let i = 0; i < samples.ts.length; i++) {
        const t = samples.ts[i]!;
        const n = s.ts.length;
        if (n > 0 && t <= s.ts[n - 1]!) continue;
        s.ts.push(t);
        s.vs.push(samples.vs[i]!);
        stale.push(samples.stale[i]!);
        if (t > this.maxt) this.maxt = t;
      }
    }
    for (const [k, s] of pending) if (s.ts.length > 0) this.byKey.set(k, s);
    this.snapshot = null;
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
