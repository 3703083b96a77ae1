// The head's inverted index (Prometheus' MemPostings): label name -> value -> sorted series refs, and
// the list of every ref. Refs are handed out in increasing order, so adding a series appends; WAL replay
// may add out of order and inserts in place. Lists are replaced, never shrunk in place, on deletion, so a
// reader iterating an old list is never disturbed.
//
// It answers the three questions postingsForMatchers (shared/tsdb/block.ts) asks of a block's index, so
// matchers select head series exactly as they select block series.

import { compareStrings, type Labels } from "../../labels/labels.ts";
import { emptyPostings, ListPostings, merge, type Postings } from "../postings.ts";

function insertSorted(list: number[], ref: number): void {
  const n = list.length;
  if (n === 0 || list[n - 1]! < ref) { list.push(ref); return; }
  let lo = 0, hi = n;
  while (lo < hi) { const m = (lo + hi) >>> 1; if (list[m]! < ref) lo = m + 1; else hi = m; }
  if (list[lo] === ref) return;
  list.splice(lo, 0, ref);
}

export class MemPostings {
  private readonly m = new Map<string, Map<string, number[]>>();
  private all: number[] = [];

  add(ref: number, labels: Labels): void {
    insertSorted(this.all, ref);
    for (const l of labels) {
      let vs = this.m.get(l.name);
      if (!vs) this.m.set(l.name, (vs = new Map()));
      let list = vs.get(l.value);
      if (!list) vs.set(l.value, (list = []));
      insertSorted(list, ref);
    }
  }

  /** Remove series (each with its labels); every touched list is rebuilt once. */
  delete(series: readonly { ref: number; labels: Labels }[]): void {
    if (series.length === 0) return;
    const gone = new Set<number>();
    const touched = new Map<string, Set<string>>();
    for (const s of series) {
      gone.add(s.ref);
      for (const l of s.labels) {
        let t = touched.get(l.name);
        if (!t) touched.set(l.name, (t = new Set()));
        t.add(l.value);
      }
    }
    this.all = this.all.filter((r) => !gone.has(r));
    for (const [name, values] of touched) {
      const vs = this.m.get(name);
      if (!vs) continue;
      for (const v of values) {
        const list = vs.get(v);
        if (!list) continue;
        const kept = list.filter((r) => !gone.has(r));
        if (kept.length) vs.set(v, kept); else vs.delete(v);
      }
      if (vs.size === 0) this.m.delete(name);
    }
  }

  // --- what postingsForMatchers needs (the IndexReader subset) ---

  async postings(name: string, values: string[]): Promise<Postings> {
    const vs = this.m.get(name);
    if (!vs) return emptyPostings();
    const ps: Postings[] = [];
    for (const v of values) {
      const l = vs.get(v);
      if (l && l.length) ps.push(new ListPostings(l));
    }
    return merge(ps);
  }

  /** Values of a label, sorted. */
  labelValues(name: string): string[] {
    const vs = this.m.get(name);
    return vs ? [...vs.keys()].sort(compareStrings) : [];
  }

  async allPostings(): Promise<Postings> { return this.all.length ? new ListPostings(this.all) : emptyPostings(); }

  /** Label names, sorted. */
  labelNames(): string[] { return [...this.m.keys()].sort(compareStrings); }

  /** Refs of a label pair (tests). */
  list(name: string, value: string): readonly number[] { return this.m.get(name)?.get(value) ?? []; }

  get numSeries(): number { return this.all.length; }
}
