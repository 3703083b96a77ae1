// SeriesResponse bytes for raw chunks without protobuf-es reflection (which cost about as much as the
// whole warm read path for a broad query). Emitted as SeriesResponse field 1 in an unknown field, which
// protobuf-es writes verbatim; receivers decode an ordinary SeriesResponse.
//
//   Series    { repeated Label labels = 1; repeated AggrChunk chunks = 2; }
//   Label     { string name = 1; string value = 2; }
//   AggrChunk { int64 min_time = 1; int64 max_time = 2; Chunk raw = 3; … }
//   Chunk     { Encoding type = 1; bytes data = 2; optional uint64 hash = 3; }   (XOR = 0)
//
// proto3 skips zero scalars and empty strings (as Go and protobuf-es do); `hash` has explicit presence,
// so it is always written. The hash is carried as hi/lo uint32 so no BigInt is made per chunk.

import { xxhash64Into } from "../encoding/xxhash64.ts";
import type { Labels } from "../labels/labels.ts";
import { toStorepbEncoding } from "../chunkenc/chunk.ts";

const utf8 = new TextEncoder();
const h = new Uint32Array(2);

export interface RawOutChunk { minTime: number; maxTime: number; /** Prometheus numbering (XOR = 1). */ encoding: number; data: Uint8Array }

function vlen(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) { v = Math.floor(v / 128); n++; }
  return n;
}
function vlen64(hi: number, lo: number): number {
  let n = 1;
  while (hi !== 0 || lo >= 128) { lo = ((lo >>> 7) | (hi << 25)) >>> 0; hi >>>= 7; n++; }
  return n;
}

class W {
  p = 0;
  constructor(readonly b: Uint8Array) {}
  v(x: number): void {
    const b = this.b;
    if (x < 0) {
      // int64 two's complement: only negative timestamps get here.
      let y = BigInt.asUintN(64, BigInt(x));
      for (let i = 0; i < 9; i++) { b[this.p++] = Number(y & 0x7fn) | 0x80; y >>= 7n; }
      b[this.p++] = Number(y);
      return;
    }
    while (x >= 128) { b[this.p++] = (x % 128) | 0x80; x = Math.floor(x / 128); }
    b[this.p++] = x;
  }
  v64(hi: number, lo: number): void {
    while (hi !== 0 || lo >= 128) { this.b[this.p++] = (lo & 0x7f) | 0x80; lo = ((lo >>> 7) | (hi << 25)) >>> 0; hi >>>= 7; }
    this.b[this.p++] = lo;
  }
  raw(x: Uint8Array): void { this.b.set(x, this.p); this.p += x.length; }
}

/** uvarint(len) | Series, for SeriesResponse field 1 (tag added by the caller's unknown field). */
export function encodeRawSeries(labels: Labels, chunks: readonly RawOutChunk[]): Uint8Array {
  const ls: Uint8Array[] = [];
  let size = 0;
  for (const l of labels) {
    const n = utf8.encode(l.name), v = utf8.encode(l.value);
    ls.push(n, v);
    const inner = (n.length ? 1 + vlen(n.length) + n.length : 0) + (v.length ? 1 + vlen(v.length) + v.length : 0);
    size += 1 + vlen(inner) + inner;
  }
  const meta: number[] = []; // per chunk: hi, lo, chunkLen, aggrLen
  for (const c of chunks) {
    xxhash64Into(c.data, h);
    const type = toStorepbEncoding(c.encoding);
    const chunk = (type ? 1 + vlen(type) : 0) + (c.data.length ? 1 + vlen(c.data.length) + c.data.length : 0) + 1 + vlen64(h[0]!, h[1]!);
    const aggr = (c.minTime ? 1 + vlen(c.minTime) : 0) + (c.maxTime ? 1 + vlen(c.maxTime) : 0) + 1 + vlen(chunk) + chunk;
    meta.push(h[0]!, h[1]!, chunk, aggr);
    size += 1 + vlen(aggr) + aggr;
  }
  const w = new W(new Uint8Array(vlen(size) + size));
  w.v(size);
  for (let i = 0; i < ls.length; i += 2) {
    const n = ls[i]!, v = ls[i + 1]!;
    w.b[w.p++] = 0x0a; // labels = 1
    w.v((n.length ? 1 + vlen(n.length) + n.length : 0) + (v.length ? 1 + vlen(v.length) + v.length : 0));
    if (n.length) { w.b[w.p++] = 0x0a; w.v(n.length); w.raw(n); }
    if (v.length) { w.b[w.p++] = 0x12; w.v(v.length); w.raw(v); }
  }
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    const hi = meta[4 * i]!, lo = meta[4 * i + 1]!, chunk = meta[4 * i + 2]!, aggr = meta[4 * i + 3]!;
    w.b[w.p++] = 0x12; w.v(aggr); // chunks = 2
    if (c.minTime) { w.b[w.p++] = 0x08; w.v(c.minTime); }
    if (c.maxTime) { w.b[w.p++] = 0x10; w.v(c.maxTime); }
    w.b[w.p++] = 0x1a; w.v(chunk); // raw = 3
    const type = toStorepbEncoding(c.encoding);
    if (type) { w.b[w.p++] = 0x08; w.v(type); }
    if (c.data.length) { w.b[w.p++] = 0x12; w.v(c.data.length); w.raw(c.data); }
    w.b[w.p++] = 0x18; w.v64(hi, lo);
  }
  return w.b;
}
