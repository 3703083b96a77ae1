// Postings: sorted series references (in index v2, a series' byte offset / 16) and the set algebra
// over them, pull-style like Prometheus' tsdb/index/postings.go: next()/seek(v)/at(). Lists come
// straight out of range reads as big-endian uint32 runs, so no copy is made per list.

import { LoserTree } from "../merge/losertree.ts";

export interface Postings {
  /** Advance; false when exhausted. */
  next(): boolean;
  /** Advance to the first ref >= v (may stay on the current one); false when none. */
  seek(v: number): boolean;
  at(): number;
}

class EmptyPostings implements Postings {
  next(): boolean { return false; }
  seek(): boolean { return false; }
  at(): number { return 0; }
}
const EMPTY = new EmptyPostings();
export function emptyPostings(): Postings { return EMPTY; }
export function isEmptyPostings(p: Postings): boolean { return p === EMPTY; }

/** Over a sorted array of refs. */
export class ListPostings implements Postings {
  private i = -1;
  constructor(private readonly list: ArrayLike<number>) {}
  next(): boolean { return ++this.i < this.list.length; }
  at(): number { return this.list[this.i]!; }
  seek(v: number): boolean {
    if (this.i < 0) this.i = 0;
    const l = this.list;
    if (this.i >= l.length) return false;
    if (l[this.i]! >= v) return true;
    // Binary search the rest: seeks in intersections jump far.
    let lo = this.i + 1, hi = l.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (l[m]! < v) lo = m + 1; else hi = m;
    }
    this.i = lo;
    return lo < l.length;
  }
}

/** Over `n` big-endian uint32 refs starting at b[off] (the body of an on-disk postings list). */
export class BigEndianPostings implements Postings {
  private i = -1;
  private cur = 0;
  private readonly view: DataView;
  constructor(b: Uint8Array, private readonly off: number, private readonly n: number) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private get(i: number): number { return this.view.getUint32(this.off + i * 4); }
  get length(): number { return this.n; }
  copyInto(dst: Uint32Array, at: number): void { for (let i = 0; i < this.n; i++) dst[at + i] = this.get(i); }
  next(): boolean {
    if (++this.i >= this.n) return false;
    this.cur = this.get(this.i);
    return true;
  }
  at(): number { return this.cur; }
  seek(v: number): boolean {
    if (this.i < 0) this.i = 0;
    if (this.i >= this.n) return false;
    if (this.get(this.i) >= v) { this.cur = this.get(this.i); return true; }
    let lo = this.i + 1, hi = this.n;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.get(m) < v) lo = m + 1; else hi = m;
    }
    this.i = lo;
    if (lo >= this.n) return false;
    this.cur = this.get(lo);
    return true;
  }
}

class IntersectPostings implements Postings {
  private cur = 0;
  constructor(private readonly its: Postings[]) {}
  at(): number { return this.cur; }
  private doNext(): boolean {
    // Leapfrog: seek everybody to the largest current value until they agree.
    for (;;) {
      let moved = false;
      for (const p of this.its) {
        if (!p.seek(this.cur)) return false;
        if (p.at() > this.cur) { this.cur = p.at(); moved = true; }
      }
      if (!moved) return true;
    }
  }
  next(): boolean {
    if (!this.its[0]!.next()) return false;
    this.cur = this.its[0]!.at();
    return this.doNext();
  }
  seek(v: number): boolean {
    if (v > this.cur) this.cur = v;
    return this.doNext();
  }
}

export function intersect(its: Postings[]): Postings {
  if (its.length === 0 || its.some(isEmptyPostings)) return EMPTY;
  if (its.length === 1) return its[0]!;
  return new IntersectPostings(its);
}

const lt = (a: number, b: number): boolean => a < b;

/** Union without duplicates: a loser tree over the lists' heads (shared/merge/losertree.ts). */
class MergedPostings implements Postings {
  private tree: LoserTree<number> | null = null;
  private cur = -1;
  private done = false;
  constructor(private readonly its: Postings[]) {}
  at(): number { return this.cur; }
  /** The smallest head as the current value; false (and done) when every list is exhausted. */
  private settle(t: LoserTree<number>): boolean {
    const w = t.winner();
    if (w < 0) { this.done = true; return false; }
    this.cur = t.head(w)!;
    return true;
  }
  next(): boolean {
    if (this.done) return false;
    let t = this.tree;
    if (t === null) {
      t = this.tree = new LoserTree(this.its.map((p) => (p.next() ? p.at() : undefined)), lt);
    } else {
      // Advance every head equal to the current value (dedup).
      for (let w = t.winner(); w >= 0 && t.head(w) === this.cur; w = t.winner()) {
        const p = this.its[w]!;
        t.replace(w, p.next() ? p.at() : undefined);
      }
    }
    return this.settle(t);
  }
  seek(v: number): boolean {
    if (this.done) return false;
    let t = this.tree;
    if (t !== null && this.cur >= v) return true;
    if (t === null) {
      t = this.tree = new LoserTree(this.its.map((p) => (p.seek(v) ? p.at() : undefined)), lt);
    } else {
      // Only heads below v move: O(k log n) for k moved heads, not a pass over every list.
      for (let w = t.winner(); w >= 0 && t.head(w)! < v; w = t.winner()) {
        const p = this.its[w]!;
        t.replace(w, p.seek(v) ? p.at() : undefined);
      }
    }
    return this.settle(t);
  }
}

export function merge(its: Postings[]): Postings {
  const live = its.filter((p) => !isEmptyPostings(p));
  if (live.length === 0) return EMPTY;
  if (live.length === 1) return live[0]!;
  return new MergedPostings(live);
}

/** Refs of `full` not in `drop`. */
class WithoutPostings implements Postings {
  private dropOk = true;
  private dropStarted = false;
  constructor(private readonly full: Postings, private readonly drop: Postings) {}
  at(): number { return this.full.at(); }
  private skip(): boolean {
    for (;;) {
      const v = this.full.at();
      if (this.dropOk) {
        if (!this.dropStarted) { this.dropStarted = true; this.dropOk = this.drop.seek(v); }
        else if (this.drop.at() < v) this.dropOk = this.drop.seek(v);
      }
      if (!this.dropOk || this.drop.at() !== v) return true;
      if (!this.full.next()) return false;
    }
  }
  next(): boolean { return this.full.next() && this.skip(); }
  seek(v: number): boolean { return this.full.seek(v) && this.skip(); }
}

export function without(full: Postings, drop: Postings): Postings {
  if (isEmptyPostings(full)) return EMPTY;
  if (isEmptyPostings(drop)) return full;
  return new WithoutPostings(full, drop);
}

export function expandPostings(p: Postings): number[] {
  const out: number[] = [];
  while (p.next()) out.push(p.at());
  return out;
}
