// MemoryStorage: an Appendable and a Querier over the same in-memory series, with the append rules of
// Prometheus' head (what `promtool test rules` evaluates against: teststorage, a real head). Used by
// `tools rules test`, the rules engine's tests, and anything that wants to write then read samples
// without a TSDB. Not for production volumes: one JS array pair per series, no compression.
//
// Append rules (storage/interface.go sentinels, with their exact texts, so a rule's last error reads
// as Prometheus' does): a sample older than the series' newest is refused with "out of order sample";
// the same timestamp with different value bits with "duplicate sample for timestamp"; the same bits
// again is accepted and ignored. Both are CodedError "bad_data" (the Appender contract). Samples
// become visible at commit(), in append order.

import { CodedError } from "../encoding/errors.ts";
import { compareLabels, type Labels } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import type { Appendable, Appender } from "./appender.ts";
import type { Querier, SampleIterator, SelectHints, SelectResult, StorageSeries } from "./types.ts";

export const ERR_OUT_OF_ORDER = "out of order sample";
export const ERR_DUPLICATE = "duplicate sample for timestamp";

interface Stored {
  labels: Labels;
  ts: number[];
  vs: number[];
  stale: boolean[];
}

function key(ls: Labels): string {
  let s = "";
  for (const l of ls) s += l.name + "\xff" + l.value + "\xff";
  return s;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
function sameBits(a: number, b: number): boolean {
  if (a === b) return a !== 0 || Object.is(a, b);
  if (a !== a && b !== b) {
    f64[0] = a; const a0 = u32[0], a1 = u32[1];
    f64[0] = b;
    return a0 === u32[0] && a1 === u32[1];
  }
  return false;
}

class Iter implements SampleIterator {
  private i = -1;
  constructor(private readonly s: Stored, private readonly n: number) {}
  next(): boolean {
    if (this.i < this.n) this.i++;
    return this.i < this.n;
  }
  seek(t: number): boolean {
    if (this.i < 0) this.i = 0;
    while (this.i < this.n && this.s.ts[this.i]! < t) this.i++;
    return this.i < this.n;
  }
  at(): number { return this.s.ts[this.i]!; }
  value(): number { return this.s.vs[this.i]!; }
  isStale(): boolean { return this.s.stale[this.i]!; }
  err(): Error | null { return null; }
}

export class MemoryStorage implements Appendable, Querier {
  private readonly series = new Map<string, Stored>();
  private sorted: Stored[] | null = null;

  appender(): Appender {
    const pending: { labels: Labels; t: number; v: number; stale: boolean }[] = [];
    // Newest pending timestamp and value per series, so ordering is checked across one appender too.
    const last = new Map<string, { t: number; v: number; stale: boolean }>();
    return {
      append: (labels, t, v, stale = false) => {
        const k = key(labels);
        const s = this.series.get(k);
        let prev = last.get(k);
        if (prev === undefined && s !== undefined && s.ts.length > 0) {
          const i = s.ts.length - 1;
          prev = { t: s.ts[i]!, v: s.vs[i]!, stale: s.stale[i]! };
        }
        if (prev !== undefined) {
          if (t < prev.t) throw new CodedError("bad_data", ERR_OUT_OF_ORDER);
          if (t === prev.t) {
            if (prev.stale === stale && (stale || sameBits(prev.v, v))) return;
            throw new CodedError("bad_data", ERR_DUPLICATE);
          }
        }
        last.set(k, { t, v, stale });
        pending.push({ labels, t, v, stale });
      },
      commit: async () => {
        for (const p of pending) this.add(p.labels, p.t, p.v, p.stale);
        pending.length = 0;
        last.clear();
      },
      rollback: () => {
        pending.length = 0;
        last.clear();
      },
    };
  }

  private add(labels: Labels, t: number, v: number, stale: boolean): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (s === undefined) {
      s = { labels, ts: [], vs: [], stale: [] };
      this.series.set(k, s);
      this.sorted = null;
    }
    const n = s.ts.length;
    if (n > 0 && t <= s.ts[n - 1]!) return; // checked at append(); a duplicate is dropped
    s.ts.push(t);
    s.vs.push(stale ? NaN : v);
    s.stale.push(stale);
  }

  private all(): Stored[] {
    if (this.sorted === null) this.sorted = [...this.series.values()].sort((a, b) => compareLabels(a.labels, b.labels));
    return this.sorted;
  }

  private matching(matchers: Matcher[]): Stored[] {
    return this.all().filter((s) => matchers.every((m) => {
      let v = "";
      for (const l of s.labels) if (l.name === m.name) { v = l.value; break; }
      return m.matches(v);
    }));
  }

  async select(hints: SelectHints, matchers: Matcher[]): Promise<SelectResult> {
    const series: StorageSeries[] = [];
    for (const s of this.matching(matchers)) {
      // Snapshot the length: samples committed while a query runs stay invisible to it.
      const n = s.ts.length;
      let any = false;
      for (let i = 0; i < n; i++) if (s.ts[i]! >= hints.start && s.ts[i]! <= hints.end) { any = true; break; }
      if (!any) continue;
      series.push({ labels: s.labels, iterator: () => new Iter(s, n) });
    }
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

  /** Every series with its samples (tests, dumps). */
  dump(): { labels: Labels; ts: number[]; vs: number[]; stale: boolean[] }[] {
    return this.all().map((s) => ({ labels: s.labels, ts: [...s.ts], vs: [...s.vs], stale: [...s.stale] }));
  }
}
