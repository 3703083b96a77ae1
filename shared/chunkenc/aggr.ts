// Thanos downsampled AggrChunk (thanos pkg/compact/downsample/aggr.go): one chunk holding the five
// aggregates of a downsampled series over the same time range, stored in block chunk files under
// encoding 0xff (Encoding.Aggr).
//
// Layout, for each aggregate in the fixed order count, sum, min, max, counter:
//   uvarint(len(data))                 0 marks an absent aggregate (nothing follows)
//   byte encoding, data[len]           the sub-chunk (XOR in practice)
// The length counts the data only, not the encoding byte before it.

import { Decbuf, Encbuf } from "../encoding/bytes.ts";
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
  const e = new Encbuf(256);
  for (let i = 0; i < 5; i++) {
    const c = chks[i];
    if (c == null) { e.uvarint(0); continue; }
    const sub: SubChunk = c instanceof Uint8Array ? { encoding: Encoding.XOR, data: c } : c;
    if (sub.data.length === 0) {
      // A zero length means "absent" on the wire, so an empty sub-chunk cannot be represented.
      throw new CodedError("bad_data", `aggregate chunk: ${AGGR_NAMES[i]} sub-chunk is empty`);
    }
    if (!(sub.encoding >= 0 && sub.encoding <= 0xfe)) {
      throw new CodedError("bad_data", `aggregate chunk: ${AGGR_NAMES[i]} sub-chunk has encoding ${sub.encoding}, not a byte below 0xff`);
    }
    e.uvarint(sub.data.length);
    e.byte(sub.encoding);
    e.bytes(sub.data);
  }
  return e.get().slice();
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

/** Samples in the chunk as Thanos counts them: those of the count aggregate (0 if absent or corrupt). */
export function aggrNumSamples(b: Uint8Array): number {
  try {
    const c = aggrChunkGet(b, AggrType.Count);
    if (c === null || c.encoding !== Encoding.XOR || c.data.length < 2) return 0;
    return (c.data[0]! << 8) | c.data[1]!;
  } catch {
    return 0;
  }
}

export { encodingName };
