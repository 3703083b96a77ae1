// Tombstones file (tsdb/docs/format/tombstones.md): deleted time ranges per series.
//
//   magic 0x0130BA30 (4) | version 1 (1) | (uvarint series ref, varint mint, varint maxt)* | crc32c (4)
//
// The CRC covers the entries only. Intervals are inclusive at both ends.

import { Decbuf, Encbuf } from "../encoding/bytes.ts";
import { crc32c } from "../encoding/crc32c.ts";
import { hex } from "./index.ts";

export const TOMBSTONES_MAGIC = 0x0130ba30;

export interface Interval { minTime: number; maxTime: number }
export type Tombstones = Map<number, Interval[]>;

export function parseTombstones(b: Uint8Array, what: string): Tombstones {
  const d = new Decbuf(b, what, 0);
  const out: Tombstones = new Map();
  if (b.length < 9) d.fail(`tombstones file of ${b.length} bytes is shorter than its 9-byte frame`, 0);
  const m = d.be32();
  if (m !== TOMBSTONES_MAGIC) d.fail(`bad magic ${hex(m)} (want ${hex(TOMBSTONES_MAGIC)})`, 0);
  const v = d.byte();
  if (v !== 1) d.fail(`unsupported tombstones version ${v} (want 1)`, 4);
  const got = new DataView(b.buffer, b.byteOffset + b.length - 4, 4).getUint32(0);
  const want = crc32c(b, 5, b.length - 4);
  if (got !== want) d.fail(`crc mismatch (stored ${hex(got)}, computed ${hex(want)})`, b.length - 4);
  const e = new Decbuf(b.subarray(5, b.length - 4), what, 5);
  while (e.len > 0) {
    const ref = e.uvarint();
    const iv = { minTime: e.varint(), maxTime: e.varint() };
    addInterval(out, ref, iv);
  }
  return out;
}

/** Add an interval, merging overlapping/adjacent ones (Prometheus Intervals.Add). */
export function addInterval(t: Tombstones, ref: number, iv: Interval): void {
  const list = t.get(ref) ?? [];
  list.push({ ...iv });
  list.sort((a, b) => a.minTime - b.minTime);
  const merged: Interval[] = [];
  for (const x of list) {
    const last = merged[merged.length - 1];
    if (last && x.minTime <= last.maxTime + 1) last.maxTime = Math.max(last.maxTime, x.maxTime);
    else merged.push({ ...x });
  }
  t.set(ref, merged);
}

export function encodeTombstones(t: Tombstones): Uint8Array {
  const e = new Encbuf(64);
  e.be32(TOMBSTONES_MAGIC);
  e.byte(1);
  for (const ref of [...t.keys()].sort((a, b) => a - b)) {
    for (const iv of t.get(ref)!) { e.uvarint(ref); e.varint(iv.minTime); e.varint(iv.maxTime); }
  }
  e.be32(crc32c(e.b, 5, e.len));
  return e.get().slice();
}

export function isDeleted(ivs: readonly Interval[] | undefined, t: number): boolean {
  if (!ivs) return false;
  for (const iv of ivs) if (t >= iv.minTime && t <= iv.maxTime) return true;
  return false;
}

/** True when [mint, maxt] lies entirely inside one interval. */
export function coversAll(ivs: readonly Interval[] | undefined, mint: number, maxt: number): boolean {
  if (!ivs) return false;
  for (const iv of ivs) if (mint >= iv.minTime && maxt <= iv.maxTime) return true;
  return false;
}
