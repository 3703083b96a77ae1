// WAL records as Prometheus 2.42 writes them (tsdb/record/record.go), so Prometheus and promtool read
// our write-ahead log and we read theirs. A record is one byte of type, then:
//
//   Series (1):   { be64 ref, uvarint n, n x (uvarintStr name, uvarintStr value) } ...
//   Samples (2):  be64 baseRef, be64 baseTime (int64), then per sample
//                 { varint ref - baseRef, varint t - baseTime, be64 value bits } ...
//                 (an empty record is just the type byte)
//   Tombstones (3), Exemplars (4), MmapMarkers (5), Metadata (6), HistogramSamples (7),
//   FloatHistogramSamples (8): recognised, not produced; readers skip what they do not use.
//
// Values travel as raw float64 bits (hi/lo uint32): the staleness marker 0x7ff0000000000002 is a NaN
// payload that does not survive a JS number stored in an array (see TOOLCHAIN).

import { CodedError } from "../../encoding/errors.ts";
import { Encbuf } from "../../encoding/bytes.ts";
import type { Label, Labels } from "../../labels/labels.ts";

export const RecordType = {
  Series: 1,
  Samples: 2,
  Tombstones: 3,
  Exemplars: 4,
  MmapMarkers: 5,
  Metadata: 6,
  HistogramSamples: 7,
  FloatHistogramSamples: 8,
} as const;

const NAMES: Record<number, string> = {
  1: "series", 2: "samples", 3: "tombstones", 4: "exemplars", 5: "mmapmarkers", 6: "metadata",
  7: "histogram_samples", 8: "float_histogram_samples",
};

/** The record's type (Prometheus' Decoder.Type); 255 (unknown) for an empty or unknown record. */
export function recordType(rec: Uint8Array): number {
  if (rec.length < 1) return 255;
  const t = rec[0]!;
  return t >= 1 && t <= 8 ? t : 255;
}

export function recordTypeName(t: number): string { return NAMES[t] ?? "unknown"; }

export interface RefSeries { ref: number; labels: Labels }

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8enc = new TextEncoder();
const TWO32 = 4294967296;

// ---- encoding ----

/** A Series record (a copy). */
export function encodeSeries(series: readonly RefSeries[], buf = new Encbuf(256)): Uint8Array {
  return encodeSeriesInto(series, buf).slice();
}

/** A Series record written into `buf` (reset first); the view is valid until buf is written again. */
export function encodeSeriesInto(series: readonly RefSeries[], buf: Encbuf): Uint8Array {
  buf.reset();
  buf.byte(RecordType.Series);
  for (const s of series) {
    buf.be64(s.ref);
    buf.uvarint(s.labels.length);
    for (const l of s.labels) {
      putStr(buf, l.name);
      putStr(buf, l.value);
    }
  }
  return buf.get();
}

function putStr(buf: Encbuf, s: string): void {
  // ASCII (nearly every label) without TextEncoder's per-call cost.
  let ascii = true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) { ascii = false; break; }
  if (!ascii) { buf.uvarintStr(s); return; }
  buf.uvarint(s.length);
  const n = s.length;
  if (buf.len + n > buf.b.length) buf.bytes(utf8enc.encode(s));
  else { const b = buf.b; let p = buf.len; for (let i = 0; i < n; i++) b[p++] = s.charCodeAt(i); buf.len = p; }
}

/**
 * Samples of one commit, as parallel columns (refs, ms timestamps, value bits). Growable and reused:
 * `n` counts the filled rows.
 */
export class SampleColumns {
  refs: Float64Array;
  ts: Float64Array;
  hi: Uint32Array;
  lo: Uint32Array;
  n = 0;
  constructor(cap = 64) {
    this.refs = new Float64Array(cap);
    this.ts = new Float64Array(cap);
    this.hi = new Uint32Array(cap);
    this.lo = new Uint32Array(cap);
  }
  push(ref: number, t: number, hi: number, lo: number): void {
    if (this.n === this.refs.length) this.grow(this.n * 2);
    const i = this.n++;
    this.refs[i] = ref; this.ts[i] = t; this.hi[i] = hi; this.lo[i] = lo;
  }
  private grow(cap: number): void {
    const r = new Float64Array(cap), t = new Float64Array(cap), h = new Uint32Array(cap), l = new Uint32Array(cap);
    r.set(this.refs.subarray(0, this.n)); t.set(this.ts.subarray(0, this.n));
    h.set(this.hi.subarray(0, this.n)); l.set(this.lo.subarray(0, this.n));
    this.refs = r; this.ts = t; this.hi = h; this.lo = l;
  }
  reset(): void { this.n = 0; }
}

/** A Samples record of rows [from, to) of `s` (default all), as a copy. */
export function encodeSamples(s: SampleColumns, buf = new Encbuf(256), from = 0, to = s.n): Uint8Array {
  return encodeSamplesInto(s, buf, from, to).slice();
}

/**
 * A Samples record written into `buf` (reset first); the view is valid until buf is written again. The
 * hot path of every commit: varints and words are written straight into the bytes.
 */
export function encodeSamplesInto(s: SampleColumns, buf: Encbuf, from = 0, to = s.n): Uint8Array {
  buf.reset();
  buf.byte(RecordType.Samples);
  if (to <= from) return buf.get();
  const baseRef = s.refs[from]!, baseT = s.ts[from]!;
  buf.be64(baseRef);
  buf.be64(baseT); // two's complement for negative times (Encbuf.be64 wraps the words)
  // Room for the worst case: two 10-byte varints and 8 value bytes per sample (grows only the first times).
  const need = (to - from) * 28, at = buf.len;
  if (at + need > buf.b.length) { buf.bytes(new Uint8Array(need)); buf.len = at; }
  const b = buf.b;
  let p = buf.len;
  const refs = s.refs, ts = s.ts, his = s.hi, los = s.lo;
  for (let i = from; i < to; i++) {
    p = putVarint(b, p, refs[i]! - baseRef);
    p = putVarint(b, p, ts[i]! - baseT);
    const hi = his[i]!, lo = los[i]!;
    b[p] = hi >>> 24; b[p + 1] = hi >>> 16; b[p + 2] = hi >>> 8; b[p + 3] = hi;
    b[p + 4] = lo >>> 24; b[p + 5] = lo >>> 16; b[p + 6] = lo >>> 8; b[p + 7] = lo;
    p += 8;
  }
  buf.len = p;
  return buf.get();
}

/** Go's binary.PutVarint (zigzag + LEB128) of a safe integer into b at p; returns the new position. */
function putVarint(b: Uint8Array, p: number, v: number): number {
  if (v >= -64 && v < 64) { b[p] = v >= 0 ? v << 1 : (-v << 1) - 1; return p + 1; }
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  if (u < 0x80000000) {
    while (u >= 0x80) { b[p++] = (u & 0x7f) | 0x80; u >>>= 7; }
    b[p++] = u;
    return p;
  }
  while (u >= 0x80) { b[p++] = (u % 128) | 0x80; u = Math.floor(u / 128); }
  b[p++] = u;
  return p;
}

// ---- decoding ----

/** A cursor over one record; errors name the record and the offset in it. */
class Cur {
  pos = 1;
  readonly view: DataView;
  constructor(readonly b: Uint8Array, readonly what: string) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  fail(msg: string): never { throw new CodedError("corrupt", `${this.what}: ${msg} at offset ${this.pos}`); }
  get left(): number { return this.b.length - this.pos; }
  be64u(): number {
    if (this.pos + 8 > this.b.length) this.fail("truncated be64");
    const hi = this.view.getUint32(this.pos), lo = this.view.getUint32(this.pos + 4);
    if (hi > 0x1fffff) this.fail("be64 value exceeds 2^53");
    this.pos += 8;
    return hi * TWO32 + lo;
  }
  be64s(): number {
    if (this.pos + 8 > this.b.length) this.fail("truncated be64");
    const hi = this.view.getInt32(this.pos), lo = this.view.getUint32(this.pos + 4);
    if (hi > 0x1fffff || hi < -0x200000) this.fail("be64 value outside ±2^53");
    this.pos += 8;
    return hi * TWO32 + lo;
  }
  uvarint(): number {
    const b = this.b;
    let x = 0, mul = 1, i = this.pos;
    for (let n = 0; ; n++) {
      if (i >= b.length) this.fail("truncated uvarint");
      const c = b[i++]!;
      x += (c & 0x7f) * mul;
      if (c < 0x80) break;
      mul *= 128;
      if (n >= 9) this.fail("uvarint overflows 64 bits");
    }
    if (x > Number.MAX_SAFE_INTEGER) this.fail("uvarint exceeds 2^53");
    this.pos = i;
    return x;
  }
  varint(): number {
    const b = this.b;
    const i = this.pos;
    // One-byte fast path: most deltas in a samples record are small.
    if (i < b.length && b[i]! < 0x80) { this.pos = i + 1; const u = b[i]!; return (u & 1) === 0 ? u >>> 1 : -((u + 1) >>> 1); }
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  str(): string {
    const n = this.uvarint();
    if (this.pos + n > this.b.length) this.fail(`string of ${n} bytes runs past the end`);
    const s = this.pos, e = s + n;
    this.pos = e;
    const b = this.b;
    if (n <= 32) {
      let out = "";
      for (let i = s; i < e; i++) {
        const c = b[i]!;
        if (c >= 0x80) return this.utf8(s, e);
        out += String.fromCharCode(c);
      }
      return out;
    }
    return this.utf8(s, e);
  }
  private utf8(s: number, e: number): string {
    try { return utf8.decode(this.b.subarray(s, e)); } catch { this.pos = s; this.fail("invalid UTF-8 string"); }
  }
}

/** Series of a Series record. Label order is checked (Prometheus' builder sorts them; so do we). */
export function decodeSeries(rec: Uint8Array, what = "series record"): RefSeries[] {
  const c = new Cur(rec, what);
  if (rec[0] !== RecordType.Series) c.fail(`record type ${rec[0]} is not series`);
  const out: RefSeries[] = [];
  while (c.left > 0) {
    const ref = c.be64u();
    const n = c.uvarint();
    if (n > c.left) c.fail(`${n} labels cannot fit in ${c.left} bytes`);
    const ls: Label[] = new Array(n);
    let sorted = true;
    for (let i = 0; i < n; i++) {
      const name = c.str(), value = c.str();
      ls[i] = { name, value };
      if (i > 0 && !(ls[i - 1]!.name < name)) sorted = false;
    }
    if (!sorted) ls.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    out.push({ ref, labels: ls });
  }
  return out;
}

/** Append the samples of a Samples record to `out` (refs, times, value bits). */
export function decodeSamples(rec: Uint8Array, out: SampleColumns, what = "samples record"): void {
  const c = new Cur(rec, what);
  if (rec[0] !== RecordType.Samples) c.fail(`record type ${rec[0]} is not samples`);
  if (c.left === 0) return;
  const baseRef = c.be64u();
  const baseT = c.be64s();
  const view = c.view;
  while (c.left > 0) {
    const ref = baseRef + c.varint();
    const t = baseT + c.varint();
    if (c.pos + 8 > rec.length) c.fail(`truncated value after ${out.n} samples`);
    const hi = view.getUint32(c.pos), lo = view.getUint32(c.pos + 4);
    c.pos += 8;
    out.push(ref, t, hi, lo);
  }
}

/** Series refs named by a Metadata record (kept or dropped with their series by checkpoints). */
export function metadataRefs(rec: Uint8Array, what = "metadata record"): number[] {
  const c = new Cur(rec, what);
  const refs: number[] = [];
  while (c.left > 0) {
    refs.push(c.uvarint());
    if (c.left < 1) c.fail("truncated metadata type");
    c.pos++;
    const fields = c.uvarint();
    for (let i = 0; i < fields; i++) { c.str(); c.str(); }
  }
  return refs;
}
