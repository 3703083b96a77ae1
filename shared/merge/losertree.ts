// A loser tree: the k-way merge behind every "many sorted streams, one sorted stream" in the project
// (series from stores or blocks, postings lists, chunks of one series). As in Thanos' pkg/losertree,
// each advance costs one comparison per tree level (log2 k) against the stored losers, where a binary
// heap needs two per level.
//
// The tree holds only the current head of each source; the caller owns the sources. That keeps it
// synchronous while sources may be async (a store's stream refilled between advances):
//
//   const t = new LoserTree(heads, less);        // heads[i]: first item of source i, undefined if empty
//   for (let w = t.winner(); w >= 0; w = t.winner()) {
//     use(t.head(w));
//     t.replace(w, nextOf(w));                    // undefined when source w is exhausted
//   }
//
// Ties go to the lower source index, so a merge is stable and deterministic.

export class LoserTree<T> {
  private readonly n: number;
  /** Leaf heads; `undefined` = exhausted (sorts after everything). */
  private readonly heads: (T | undefined)[];
  /** tree[0]: the winning leaf; tree[1..n-1]: the losing leaf of each match. */
  private readonly tree: Int32Array;

  constructor(heads: readonly (T | undefined)[], private readonly less: (a: T, b: T) => boolean) {
    this.n = heads.length;
    this.heads = [...heads];
    this.tree = new Int32Array(Math.max(this.n, 1));
    if (this.n > 0) this.tree[0] = this.build(1);
  }

  /** Does leaf a come before leaf b? (x < y, or equal and a < b: one `less` call unless a tie must be told apart.) */
  private beats(a: number, b: number): boolean {
    const x = this.heads[a], y = this.heads[b];
    if (y === undefined) return x !== undefined || a < b;
    if (x === undefined) return false;
    return this.less(x, y) || (a < b && !this.less(y, x));
  }

  /** Winner of the subtree at `node`; leaves are nodes n..2n-1, internal nodes 1..n-1. */
  private build(node: number): number {
    if (node >= this.n) return node - this.n;
    const a = this.build(2 * node), b = this.build(2 * node + 1);
    if (this.beats(a, b)) { this.tree[node] = b; return a; }
    this.tree[node] = a;
    return b;
  }

  /** The source whose head is smallest, or -1 when every source is exhausted. */
  winner(): number {
    if (this.n === 0) return -1;
    const w = this.tree[0]!;
    return this.heads[w] === undefined ? -1 : w;
  }

  /** Current head of source i (undefined when exhausted). */
  head(i: number): T | undefined {
    return this.heads[i];
  }

  /** Give the winning source `i` its next head (undefined: exhausted) and settle the tree. */
  replace(i: number, v: T | undefined): void {
    const tree = this.tree, heads = this.heads, less = this.less;
    if (i !== tree[0]) throw new Error(`loser tree: replace(${i}) but the winner is ${tree[0]}`);
    heads[i] = v;
    let w = i;
    // beats(l, w) inlined: this loop is the per-item cost of every merge.
    for (let node = (i + this.n) >> 1; node >= 1; node >>= 1) {
      const l = tree[node]!;
      const x = heads[l], y = heads[w];
      const lWins = y === undefined ? x !== undefined || l < w : x !== undefined && (less(x, y) || (l < w && !less(y, x)));
      if (lWins) { tree[node] = w; w = l; }
    }
    tree[0] = w;
  }
}

/** Merge sorted iterables into one sorted sequence (duplicates kept, ties by source order). */
export function* mergeSorted<T>(sources: readonly Iterable<T>[], less: (a: T, b: T) => boolean): Generator<T> {
  const its = sources.map((s) => s[Symbol.iterator]());
  const first = (it: Iterator<T>): T | undefined => { const r = it.next(); return r.done ? undefined : r.value; };
  const t = new LoserTree(its.map(first), less);
  for (let w = t.winner(); w >= 0; w = t.winner()) {
    yield t.head(w)!;
    t.replace(w, first(its[w]!));
  }
}
