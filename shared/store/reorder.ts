// Restores label order after external labels are attached, with at most one "prefix block" held.
//
// Prometheus streams remote-read series sorted by their stored labels, then merges the external labels
// in. That merge can break the order: with external labels {cluster, replica}, the stored series
// `up{instance="a"}` sorts before `up{instance="a", job="x"}` (a prefix sorts first), but after the merge
// `{…instance="a", replica="r"}` sorts after `{…instance="a", job="x", replica="r"}` because "job" <
// "replica". Worked through, this only happens when one stored label set is a strict prefix of a later
// one, and in sorted order every set extending a prefix follows it contiguously. So: hold a series while
// the following ones extend it, sort that block by the final labels, emit it. Anything else passes with a
// lag of one series; a block only grows as large as the run of series that extend its first one.

import { compareLabels, labelsEqual, type Labels } from "../labels/labels.ts";

interface Pending<T> { key: Labels; out: Labels; item: T }

function isStrictPrefix(a: Labels, b: Labels): boolean {
  if (a.length >= b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.value !== b[i]!.value) return false;
  return true;
}

export class PrefixReorderer<T> {
  private pending: Pending<T>[] = [];
  private last: Pending<T> | null = null;
  private lastEmitted: Labels | null = null;
  /** Series emitted below their predecessor (only possible when stored labels clash with external ones). */
  outOfOrder = 0;

  /**
   * @param merge called when a series arrives again with the same final labels right after itself
   *   (Prometheus splits a series with many chunks over several frames).
   */
  constructor(private readonly merge: (into: T, from: T) => void) {}

  /**
   * key: the labels the source sorted by (stored labels); out: the labels that will be sent.
   * Returns the items that are now safe to send, in order.
   */
  push(key: Labels, out: Labels, item: T): T[] {
    const last = this.last;
    if (last && labelsEqual(last.out, out)) { this.merge(last.item, item); return []; }
    const p: Pending<T> = { key, out, item };
    this.last = p;
    if (this.pending.length > 0 && isStrictPrefix(this.pending[0]!.key, key)) { this.pending.push(p); return []; }
    const ready = this.drain();
    this.pending.push(p);
    return ready;
  }

  /** Everything still held, in order. Call at the end of the stream. */
  flush(): T[] {
    this.last = null;
    return this.drain();
  }

  private drain(): T[] {
    const ps = this.pending;
    if (ps.length === 0) return [];
    this.pending = [];
    if (ps.length > 1) ps.sort((a, b) => compareLabels(a.out, b.out));
    const out: T[] = new Array(ps.length);
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      if (this.lastEmitted && compareLabels(this.lastEmitted, p.out) >= 0) this.outOfOrder++;
      this.lastEmitted = p.out;
      out[i] = p.item;
    }
    return out;
  }
}
