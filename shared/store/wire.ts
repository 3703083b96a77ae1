// Hand-written protobuf for the Series hot path, without reflection or per-field objects:
// - decode Prometheus' ChunkedReadResponse (remote read frames) into labels + chunk views;
// - encode a Thanos SeriesResponse{series} straight to bytes, chunk data copied once.
// protobuf-es' reflective fromBinary/create/toBinary cost several times the network read per series;
// these two functions are what lets a sidecar forward chunks at close to remote-read speed.
//
// Field numbers (prometheus/prompb, thanos storepb):
//   ChunkedReadResponse { repeated ChunkedSeries chunked_series = 1; int64 query_index = 2; }
//   ChunkedSeries       { repeated Label labels = 1; repeated Chunk chunks = 2; }
//   prompb.Chunk        { int64 min_time_ms = 1; int64 max_time_ms = 2; Encoding type = 3; bytes data = 4; }  (XOR = 1)
//   Label               { string name = 1; string value = 2; }
//   SeriesResponse      { oneof result { Series series = 1; string warning = 2; … } }
//   Series              { repeated Label labels = 1; repeated AggrChunk chunks = 2; }
//   AggrChunk           { int64 min_time = 1; int64 max_time = 2; Chunk raw = 3; … }
//   storepb.Chunk       { Encoding type = 1; bytes data = 2; optional uint64 hash = 3; }                  (XOR = 0)

import { CodedError } from "../encoding/errors.ts";
import type { Label, Labels } from "../labels/labels.ts";
import { StringInterner } from "./intern.ts";

export interface RawChunk {
  minTime: number;
  maxTime: number;
  /** Prometheus' encoding numbering (XOR = 1); Thanos' is one less. */
  type: number;
  /** A view into the frame: not copied. */
  data: Uint8Array;
}

export interface RawSeries { labels: Label[]; chunks: RawChunk[] }

const utf8enc = new TextEncoder();

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array, readonly what: string) {}
  fail(msg: string): never { throw new CodedError("corrupt", `${this.what}: ${msg} at offset ${this.pos}`); }
  varint(): number {
    const b = this.b;
    let x = 0, mul = 1;
    // Seven bytes carry 49 bits, exact in a double; longer varints (>= 2^49, or negative int64 as ten
    // two's-complement bytes) continue in BigInt. Millisecond timestamps need six.
    for (let i = 0; i < 7; i++) {
      if (this.pos >= b.length) this.fail("truncated varint");
      const c = b[this.pos++]!;
      x += (c & 0x7f) * mul;
      if ((c & 0x80) === 0) return x;
      mul *= 128;
    }
    let big = BigInt(x), shift = 49n;
    for (;;) {
      if (this.pos >= b.length) this.fail("truncated varint");
      if (shift > 63n) this.fail("varint longer than 10 bytes");
      const c = b[this.pos++]!;
      big |= BigInt(c & 0x7f) << shift;
      shift += 7n;
      if ((c & 0x80) === 0) break;
    }
    return Number(BigInt.asIntN(64, big));
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.b.length) this.fail(`length ${n} runs past the end (${this.b.length - this.pos} bytes left)`);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  skip(wire: number): void {
    switch (wire) {
      case 0: this.varint(); return;
      case 1: this.pos += 8; break;
      case 2: this.bytes(); return;
      case 5: this.pos += 4; break;
      default: this.fail(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.b.length) this.fail("truncated fixed-size field");
  }
}

const EMPTY = new Uint8Array(0);

/** Label names and values repeat across series: interned (see intern.ts). */
const labelStrings = new StringInterner();

/** Length of the length-delimited field at r.pos; returns its end offset, checked against `limit`. */
function lenEnd(r: Reader, limit: number): number {
  const n = r.varint();
  const end = r.pos + n;
  if (end > limit) r.fail(`length ${n} runs past the end of its message (${limit - r.pos} bytes left)`);
  return end;
}

function skipTo(r: Reader, wire: number, limit: number): void {
  r.skip(wire);
  if (r.pos > limit) r.fail("field runs past the end of its message");
}

function decodeLabel(r: Reader, end: number): Label {
  let name = "", value = "";
  while (r.pos < end) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (w === 2 && (f === 1 || f === 2)) {
      const e = lenEnd(r, end);
      const v = labelStrings.get(r.b, r.pos, e);
      r.pos = e;
      if (f === 1) name = v; else value = v;
    } else skipTo(r, w, end);
  }
  return { name, value };
}

function decodeChunk(r: Reader, end: number): RawChunk {
  const c: RawChunk = { minTime: 0, maxTime: 0, type: 0, data: EMPTY };
  while (r.pos < end) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (f === 1 && w === 0) c.minTime = r.varint();
    else if (f === 2 && w === 0) c.maxTime = r.varint();
    else if (f === 3 && w === 0) c.type = r.varint();
    else if (f === 4 && w === 2) { const e = lenEnd(r, end); c.data = r.b.subarray(r.pos, e); r.pos = e; }
    else skipTo(r, w, end);
  }
  return c;
}

function decodeChunkedSeries(r: Reader, end: number): RawSeries {
  const s: RawSeries = { labels: [], chunks: [] };
  while (r.pos < end) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (f === 1 && w === 2) { const e = lenEnd(r, end); s.labels.push(decodeLabel(r, e)); }
    else if (f === 2 && w === 2) { const e = lenEnd(r, end); s.chunks.push(decodeChunk(r, e)); }
    else skipTo(r, w, end);
  }
  return s;
}

/** One remote-read frame. Chunk data stays a view into `b`. */
export function decodeChunkedReadResponse(b: Uint8Array, what = "ChunkedReadResponse"): { series: RawSeries[]; queryIndex: number } {
  const r = new Reader(b, what);
  const out: RawSeries[] = [];
  let queryIndex = 0;
  while (r.pos < b.length) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (f === 1 && w === 2) { const e = lenEnd(r, b.length); out.push(decodeChunkedSeries(r, e)); }
    else if (f === 2 && w === 0) queryIndex = r.varint();
    else r.skip(w);
  }
  return { series: out, queryIndex };
}

// ---- encoding ----

function varintLen(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) { v = Math.floor(v / 128); n++; }
  return n;
}

class Writer {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  varint(v: number): void {
    const b = this.b;
    if (v < 0) {
      let x = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 9; i++) { b[this.pos++] = Number(x & 0x7fn) | 0x80; x >>= 7n; }
      b[this.pos++] = Number(x);
      return;
    }
    while (v >= 128) { b[this.pos++] = (v % 128) | 0x80; v = Math.floor(v / 128); }
    b[this.pos++] = v;
  }
  bytes(x: Uint8Array | string): void {
    this.varint(x.length);
    if (typeof x === "string") { for (let i = 0; i < x.length; i++) this.b[this.pos++] = x.charCodeAt(i); return; }
    this.b.set(x, this.pos);
    this.pos += x.length;
  }
}

// proto3: empty strings/bytes and zero numbers are not written (as protobuf-es and Go do), so our bytes
// equal the reference encoders' byte for byte.
function bytesLen(n: number): number { return n === 0 ? 0 : 1 + varintLen(n) + n; }
function labelLen(n: Uint8Array | string, v: Uint8Array | string): number { return bytesLen(n.length) + bytesLen(v.length); }

/** ASCII strings stay strings (written char by char, length = byte length); others become UTF-8 bytes. */
function asciiOrBytes(s: string): Uint8Array | string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return utf8enc.encode(s);
  return s;
}

export interface OutChunk { minTime: number; maxTime: number; /** Thanos numbering (XOR = 0). */ type: number; data: Uint8Array }

/**
 * Thanos `Series` as the length-prefixed value of SeriesResponse field 1 (what protobuf-es keeps as an
 * unknown field's `data`): uvarint(len) | Series bytes.
 */
export function encodeSeriesField(labels: Labels, chunks: readonly OutChunk[]): Uint8Array {
  const names: (Uint8Array | string)[] = [], values: (Uint8Array | string)[] = [];
  let size = 0;
  for (const l of labels) {
    const n = asciiOrBytes(l.name), v = asciiOrBytes(l.value);
    names.push(n); values.push(v);
    size += 1 + varintLen(labelLen(n, v)) + labelLen(n, v);
  }
  const rawLens: number[] = [], aggrLens: number[] = [];
  for (const c of chunks) {
    const raw = (c.type !== 0 ? 1 + varintLen(c.type) : 0) + bytesLen(c.data.length);
    const aggr = (c.minTime !== 0 ? 1 + varintLen(c.minTime) : 0) + (c.maxTime !== 0 ? 1 + varintLen(c.maxTime) : 0) + 1 + varintLen(raw) + raw;
    rawLens.push(raw); aggrLens.push(aggr);
    size += 1 + varintLen(aggr) + aggr;
  }
  const out = new Uint8Array(varintLen(size) + size);
  const w = new Writer(out);
  w.varint(size);
  for (let i = 0; i < labels.length; i++) {
    const n = names[i]!, v = values[i]!;
    w.b[w.pos++] = 0x0a; // field 1, length-delimited
    w.varint(labelLen(n, v));
    if (n.length) { w.b[w.pos++] = 0x0a; w.bytes(n); }
    if (v.length) { w.b[w.pos++] = 0x12; w.bytes(v); }
  }
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    w.b[w.pos++] = 0x12; // Series.chunks = 2
    w.varint(aggrLens[i]!);
    if (c.minTime !== 0) { w.b[w.pos++] = 0x08; w.varint(c.minTime); }
    if (c.maxTime !== 0) { w.b[w.pos++] = 0x10; w.varint(c.maxTime); }
    w.b[w.pos++] = 0x1a; // AggrChunk.raw = 3
    w.varint(rawLens[i]!);
    if (c.type !== 0) { w.b[w.pos++] = 0x08; w.varint(c.type); }
    if (c.data.length) { w.b[w.pos++] = 0x12; w.bytes(c.data); }
  }
  if (w.pos !== out.length) throw new CodedError("internal", `encode Series: wrote ${w.pos} bytes, sized ${out.length}`);
  return out;
}

// ---- SAMPLES answers (the remote-read fallback) ----
//   ReadResponse { repeated QueryResult results = 1; }   QueryResult { repeated TimeSeries timeseries = 1; }
//   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; … }
//   Sample       { double value = 1; int64 timestamp = 2; }

export interface RawSampleSeries {
  labels: Label[];
  ts: number[];
  /** Value bits as (hi, lo) uint32 pairs: the staleness NaN's payload must not pass through a number. */
  bits: Uint32Array;
}

function decodeTimeSeries(r: Reader, end: number): RawSampleSeries {
  const labels: Label[] = [];
  const ts: number[] = [];
  const hi: number[] = [], lo: number[] = [];
  const v = new DataView(r.b.buffer, r.b.byteOffset, r.b.byteLength);
  while (r.pos < end) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (f === 1 && w === 2) { const e = lenEnd(r, end); labels.push(decodeLabel(r, e)); }
    else if (f === 2 && w === 2) {
      const e = lenEnd(r, end);
      let t = 0, h = 0, l = 0;
      while (r.pos < e) {
        const tg = r.varint();
        const ff = tg >>> 3, ww = tg & 7;
        if (ff === 1 && ww === 1) {
          if (r.pos + 8 > e) r.fail("truncated double");
          l = v.getUint32(r.pos, true); h = v.getUint32(r.pos + 4, true); // little-endian fixed64
          r.pos += 8;
        } else if (ff === 2 && ww === 0) t = r.varint();
        else skipTo(r, ww, e);
      }
      ts.push(t); hi.push(h); lo.push(l);
    } else skipTo(r, w, end);
  }
  const bits = new Uint32Array(ts.length * 2);
  for (let i = 0; i < ts.length; i++) { bits[2 * i] = hi[i]!; bits[2 * i + 1] = lo[i]!; }
  return { labels, ts, bits };
}

/** Every series of the first query result of a (decompressed) SAMPLES ReadResponse. */
export function decodeReadResponseSamples(b: Uint8Array, what = "ReadResponse"): RawSampleSeries[] {
  const r = new Reader(b, what);
  const out: RawSampleSeries[] = [];
  let results = 0;
  while (r.pos < b.length) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (f === 1 && w === 2) {
      const e = lenEnd(r, b.length);
      if (results++ > 0) { r.pos = e; continue; } // one query per request: later results are not ours
      while (r.pos < e) {
        const tg = r.varint();
        const ff = tg >>> 3, ww = tg & 7;
        if (ff === 1 && ww === 2) { const e2 = lenEnd(r, e); out.push(decodeTimeSeries(r, e2)); }
        else skipTo(r, ww, e);
      }
    } else r.skip(w);
  }
  return out;
}
