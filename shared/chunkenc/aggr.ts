// Thanos downsampled AggrChunk (thanos pkg/compact/downsample/aggr.go): one chunk holding the five
// aggregates of a downsampled series over the same time range, stored in block chunk files under
// encoding 0xff (Encoding.Aggr).
//
// Layout, for each aggregate in the fixed order count, sum, min, max, counter:
//   uvarint(len(data))                 0 marks an absent aggregate (nothing follows)
//   byte encoding, data[len]           the sub-chunk (XOR in practice)
// The length counts the data only, not the encoding byte before it.

import { Decbuf } from "../encoding/bytes.ts";
import { CodedError } from "../encoding/errors.ts";
import type { SampleIterator } from "../storage/types.ts";
import { Encoding, encodingName, unsupportedEncoding } from "./chunk.ts";
import { XorIterator } from "./xor.ts";

export const AggrType = { Count: 0, Sum: 1, Min: 2, Max: 3, Counter: 4 } as const;
export type AggrType = (typeof AggrType)[keyof typeof AggrType];
export const AGGR_NAMES = ["count", "sum", "min", "max", "counter"] as const;

export interface SubChunk {
  encoding: number;
  data: Uint8Array;
}

/** An entry: a sub-chunk, raw XOR chunk bytes (encoding XOR implied), or null/undefined for absent. */
export type AggrInput = SubChunk | Uint8Array | null | undefined;

/** Encode up to five aggregates (index = AggrType); missing trailing entries are absent. */
export function encodeAggrChunk(chks: readonly AggrInput[]): Uint8Array {
  if (chks.length > 5) throw new CodedError("bad_data", `aggregate chunk: ${chks.length} aggregates given, at most 5 (count, sum, min, max, counter)`);
  const subs: (SubChunk | null)[] = [];
  let size = 0;
  for (let i = 0; i < 5; i++) {
    const c = chks[i];
    if (c == null) { subs.push(null); size++; continue; }
    const sub: SubChunk = c instanceof Uint8Array ? { encoding: Encoding.XOR, data: c } : c;
    if (sub.data.length === 0) {
      // A zero length means "absent" on the wire, so an empty sub-chunk cannot be represented.
      throw new CodedError("bad_data", `aggregate chunk: ${AGGR_NAMES[i]} sub-chunk is empty`);
    }
    if (!(sub.encoding >= 0 && sub.encoding <= 0xfe)) {
      throw new CodedError("bad_data", `aggregate chunk: ${AGGR_NAMES[i]} sub-chunk has encoding ${sub.encoding}, not a byte below 0xff`);
    }
    subs.push(sub);
    size += uvarintLen(sub.data.length) + 1 + sub.data.length;
  }
  // Sized up front: one allocation, no growth (the downsampler encodes one of these per output chunk).
  const out = new Uint8Array(size);
  let p = 0;
  for (const sub of subs) {
    if (sub === null) { out[p++] = 0; continue; }
    let n = sub.data.length;
    while (n >= 128) { out[p++] = (n % 128) | 0x80; n = Math.floor(n / 128); }
    out[p++] = n;
    out[p++] = sub.encoding;
    out.set(sub.data, p);
    p += sub.data.length;
  }
  return out;
}

function uvarintLen(n: number): number {
  let k = 1;
  while (n >= 128) { n = Math.floor(n / 128); k++; }
  return k;
}

/** Decode all five entries (null = absent). Sub-chunk data are views into `b`, not copies. */
export function decodeAggrChunk(b: Uint8Array, what = "aggregate chunk"): (SubChunk | null)[] {
  const d = new Decbuf(b, what);
  const out: (SubChunk | null)[] = [];
  for (let i = 0; i < 5; i++) {
    const at = d.pos;
    if (d.len === 0) d.fail(`truncated: ${AGGR_NAMES[i]} aggregate missing`, at);
    const len = d.uvarint();
    if (len === 0) { out.push(null); continue; }
    if (len + 1 > d.len) d.fail(`truncated ${AGGR_NAMES[i]} aggregate: length ${len} + 1 encoding byte, ${d.len} bytes left`, at);
    const encoding = d.byte();
    if (encoding === Encoding.Aggr) d.fail(`${AGGR_NAMES[i]} aggregate nests another aggregate chunk`, d.pos - 1);
    out.push({ encoding, data: d.bytes(len) });
  }
  if (d.len !== 0) d.fail(`${d.len} unexpected bytes after the 5 aggregates`);
  return out;
}

/**
 * Where the five aggregates of `b` lie, without allocating (the store gateway's Series path reads tens
 * of thousands of these per call; a Decbuf and five views each cost more than the rest of the work on
 * them). For aggregate a: spans[3a] is the offset of its data (past the encoding byte), spans[3a+1] the
 * end of it, spans[3a+2] its encoding; spans[3a] is -1 when it is absent. Checks and errors are
 * decodeAggrChunk's: anything it would reject is handed to it, and it throws.
 */
export function aggrSpans(b: Uint8Array, spans: Int32Array, what = "aggregate chunk"): void {
  const n = b.length;
  let p = 0;
  for (let i = 0; i < 5; i++) {
    let len = 0, mul = 1, ok = false;
    for (let k = 0; k < 5 && p < n; k++) {
      const c = b[p++]!;
      len += (c & 0x7f) * mul;
      mul *= 128;
      if (c < 0x80) { ok = true; break; }
    }
    const j = 3 * i;
    if (ok && len === 0) { spans[j] = -1; spans[j + 1] = spans[j + 2] = 0; continue; }
    if (!ok || len + 1 > n - p || b[p] === Encoding.Aggr) return spansOf(b, spans, what);
    spans[j + 2] = b[p++]!;
    spans[j] = p;
    p += len;
    spans[j + 1] = p;
  }
  if (p !== n) spansOf(b, spans, what);
}

/** aggrSpans' slow path: decodeAggrChunk's verdict (it throws on what aggrSpans cannot read). */
function spansOf(b: Uint8Array, spans: Int32Array, what: string): void {
  const subs = decodeAggrChunk(b, what);
  for (let i = 0; i < 5; i++) {
    const s = subs[i]!;
    if (s === null) { spans[3 * i] = -1; spans[3 * i + 1] = spans[3 * i + 2] = 0; continue; }
    spans[3 * i] = s.data.byteOffset - b.byteOffset;
    spans[3 * i + 1] = spans[3 * i] + s.data.length;
    spans[3 * i + 2] = s.encoding;
  }
}

/** One aggregate's sub-chunk, or null when absent. */
export function aggrChunkGet(b: Uint8Array, type: AggrType, what = "aggregate chunk"): SubChunk | null {
  if (!(type >= 0 && type <= 4)) throw new CodedError("bad_data", `${what}: no aggregate type ${type}`);
  return decodeAggrChunk(b, what)[type]!;
}

/** Iterator over one aggregate (XOR sub-chunks only), or null when the aggregate is absent. */
export function aggrIterator(b: Uint8Array, type: AggrType, what = "aggregate chunk"): SampleIterator | null {
  const sub = aggrChunkGet(b, type, what);
  if (sub === null) return null;
  const w = `${what}, ${AGGR_NAMES[type]} aggregate`;
  if (sub.encoding !== Encoding.XOR) throw unsupportedEncoding(sub.encoding, w);
  return new XorIterator(sub.data, w);
}

/** Samples in the chunk as Thanos counts them: those of the count aggregate (0 if it is absent or unreadable; the rest of the chunk is not looked at). */
export function aggrNumSamples(b: Uint8Array): number {
  // The count aggregate comes first: uvarint length, encoding byte, then its XOR data (a uint16 count).
  let len = 0, mul = 1, p = 0;
  for (;;) {
    if (p >= b.length || p >= 5) return 0;
    const c = b[p++]!;
    len += (c & 0x7f) * mul;
    mul *= 128;
    if (c < 0x80) break;
  }
  if (len < 2 || p + 1 + len > b.length || b[p] !== Encoding.XOR) return 0;
  return (b[p + 1]! << 8) | b[p + 2]!;
}

export { encodingName };

/**
 * Thanos' ApplyCounterResetsSeriesIterator (pkg/compact/downsample): one monotone counter over a
 * sequence of chunk iterators (counter aggregates, or raw chunks), read by the 5m -> 1h downsampler and
 * by the querier for rate/irate/increase/resets. Semantics kept exactly, quirks included:
 * - the first sample sets the total; later, for t > lastT, total += v - lastV, or total += v when v
 *   went down (a reset);
 * - a sample with t == lastT only sets lastV: the duplicated-timestamp last sample of a counter
 *   aggregate carries the true last raw value, so a reset between two chunks is seen;
 * - NaN values (stale markers included) and samples going back in time are skipped;
 * - moving to the next chunk seeks past lastT sample by sample, so overlaps are dropped and no reset is
 *   missed. The output hides resets: PromQL's resets() over it counts none (Thanos issue #3644).
 */
export class CounterResetsIterator implements SampleIterator {
  private i = 0;
  private total = 0;
  private lastT = 0;
  /** The last raw value seen (what the downsampler stores as the chunk's final sample). */
  lastV = 0;
  private totalV = 0;
  private valid = false;

  constructor(private readonly its: readonly SampleIterator[]) {}

  next(): boolean {
    for (;;) {
      if (this.i >= this.its.length) return (this.valid = false);
      const it = this.its[this.i]!;
      if (!it.next()) {
        // Go: i++, then Seek(lastT + 1), which calls Next until a sample lies past lastT.
        if (it.err()) return (this.valid = false);
        this.i++;
        const x = this.lastT + 1;
        for (;;) {
          if (!this.next()) return false;
          if (this.lastT >= x) return true;
        }
      }
      const t = it.at(), v = it.value();
      if (v !== v) continue; // NaN, stale markers included
      if (this.total === 0) {
        this.total++;
        this.lastT = t; this.lastV = v; this.totalV = v;
        return (this.valid = true);
      }
      if (t > this.lastT) {
        this.totalV += v >= this.lastV ? v - this.lastV : v;
        this.lastT = t; this.lastV = v;
        this.total++;
        return (this.valid = true);
      }
      if (t === this.lastT) this.lastV = v;
    }
  }

  seek(ts: number): boolean {
    // Go iterates with Next instead of seeking the chunks, so no reset is skipped.
    if (this.valid && this.lastT >= ts) return true;
    for (;;) {
      if (!this.next()) return false;
      if (this.lastT >= ts) return true;
    }
  }

  at(): number { return this.lastT; }
  value(): number { return this.totalV; }
  isStale(): boolean { return false; }
  err(): Error | null { return this.i < this.its.length ? this.its[this.i]!.err() : null; }
}
