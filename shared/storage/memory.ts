// In-memory Querier over plain arrays: test data for the engine and for anything that consumes a
// Querier. Series are sorted and deduplicated by label set once; hints are ignored (every sample of a
// matching series is returned; the engine applies its own time windows).

import type { Labels } from "../labels/labels.ts";
import { compareLabels, labelsEqual } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import { CodedError } from "../encoding/errors.ts";
import type { Querier, SampleIterator, SelectHints, SelectResult, StorageSeries } from "./types.ts";

export interface MemorySeries {
  labels: Labels;
  /** Millisecond timestamps, strictly increasing. */
  ts: number[];
  vs: number[];
  /** stale[i] marks sample i as a staleness marker (its value is ignored). */
  stale?: boolean[];
}

class ArrayIterator implements SampleIterator {
  private i = -1;
  constructor(private readonly s: MemorySeries) {}
  next(): boolean {
    if (this.i < this.s.ts.length) this.i++;
    return this.i < this.s.ts.length;
  }
  seek(ts: number): boolean {
    if (this.i < 0) this.i = 0;
    const t = this.s.ts;
    if (this.i < t.length && t[this.i]! >= ts) return true;
    // Binary search forward from the current position.
    let lo = this.i, hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t[mid]! < ts) lo = mid + 1;
      else hi = mid;
    }
    this.i = lo;
    return lo < t.length;
  }
  at(): number { return this.s.ts[this.i]!; }
  value(): number { return this.s.vs[this.i]!; }
  isStale(): boolean { return this.s.stale?.[this.i] === true; }
  err(): Error | null { return null; }
}

export class MemoryQuerier implements Querier {
  private readonly series: MemorySeries[];

  constructor(series: MemorySeries[]) {
    for (const s of series) {
      if (s.ts.length !== s.vs.length) {
        throw new CodedError("bad_data", `memory series ${JSON.stringify(s.labels)}: ${s.ts.length} timestamps but ${s.vs.length} values`);
      }
      for (let i = 1; i < s.ts.length; i++) {
        if (!(s.ts[i]! > s.ts[i - 1]!)) {
          throw new CodedError("bad_data", `memory series ${JSON.stringify(s.labels)}: timestamp ${s.ts[i]} at index ${i} is not after ${s.ts[i - 1]}`);
        }
      }
    }
    this.series = [...series].sort((a, b) => compareLabels(a.labels, b.labels));
    for (let i = 1; i < this.series.length; i++) {
      if (labelsEqual(this.series[i]!.labels, this.series[i - 1]!.labels)) {
        throw new CodedError("bad_data", `memory series: duplicate label set ${JSON.stringify(this.series[i]!.labels)}`);
      }
    }
  }

  private matching(matchers: Matcher[]): MemorySeries[] {
    return this.series.filter((s) => matchers.every((m) => {
      let v = "";
      for (const l of s.labels) if (l.name === m.name) { v = l.value; break; }
      return m.matches(v);
    }));
  }

  async select(_hints: SelectHints, matchers: Matcher[]): Promise<SelectResult> {
    const series: StorageSeries[] = this.matching(matchers).map((s) => ({ labels: s.labels, iterator: () => new ArrayIterator(s) }));
    return { series, warnings: [] };
  }

  async labelNames(_mint: number, _maxt: number, matchers: Matcher[]): Promise<{ names: string[]; warnings: string[] }> {
    const names = new Set<string>();
    for (const s of this.matching(matchers)) for (const l of s.labels) names.add(l.name);
    return { names: [...names].sort(), warnings: [] };
  }

  async labelValues(name: string, _mint: number, _maxt: number, matchers: Matcher[]): Promise<{ values: string[]; warnings: string[] }> {
    const values = new Set<string>();
    for (const s of this.matching(matchers)) for (const l of s.labels) if (l.name === name) values.add(l.value);
    return { values: [...values].sort(), warnings: [] };
  }
}
