// A direct decoder for the SAMPLES remote-read answer (prometheus.ReadResponse) into typed arrays.
// Why not protobuf-es: it makes an object and a bigint per sample (about 1-2 M samples/s here), and
// a sample value that passes through a JS number loses a NaN payload, so Prometheus' staleness marker
// (0x7ff0000000000002) would turn into a plain NaN. Here values are copied as raw 64-bit patterns
// into a Float64Array through a Uint32Array alias (read bits back with floatBitsAt).
//
// Wire layout read (field numbers from prompb):
//   ReadResponse { 1: repeated QueryResult }  QueryResult { 1: repeated TimeSeries }
//   TimeSeries { 1: repeated Label {1: name, 2: value}, 2: repeated Sample {1: double value, 2: int64 timestamp},
//                3: exemplars, 4: histograms (skipped) }
import { CodedError } from "../encoding/errors.ts";
import type { Label } from "../labels/labels.ts";
import { snappyDecode } from "./snappy.ts";

/** Limit for a whole SAMPLES answer once decompressed. */
export const DEFAULT_MAX_SAMPLES_RESPONSE_BYTES = 512 << 20;

export interface RawSeries {
  /** As sent (Prometheus sends them sorted by name). */
  labels: Label[];
  /** Timestamps in ms. */
  ts: Float64Array;
  /** Values with exact bits; see floatBitsAt. */
  vals: Float64Array;
}

export interface RawQueryResult {
  series: RawSeries[];
}

/** The raw [hi, lo] 32-bit words of vals[i], without going through a JS number. */
export function floatBitsAt(vals: Float64Array, i: number): [number, number] {
  const u = new Uint32Array(vals.buffer, vals.byteOffset + i * 8, 2);
  return [u[1]!, u[0]!];
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  readonly b: Uint8Array;
  readonly view: DataView;
  pos = 0;
  constructor(b: Uint8Array, readonly what: string) {
    this.b = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  fail(msg: string, at = this.pos): never {
    throw new CodedError("corrupt", `${this.what}: ${msg} at offset ${at}`);
  }
  /** A varint below 2^53 (tags, lengths). */
  uvarint(): number {
    let v = 0;
    const start = this.pos;
    for (let i = 0; ; i++) {
      if (this.pos >= this.b.length) this.fail("truncated varint", start);
      const c = this.b[this.pos++]!;
      if (i === 7 && c > 0x0f) this.fail("varint exceeds 2^53", start);
      v += (c & 0x7f) * 2 ** (7 * i);
      if (c < 0x80) return v;
    }
  }
  /** An int64 varint (two's complement, up to 10 bytes) as a number; exact below 2^53. */
  int64(): number {
    let lo = 0, hi = 0, shift = 0;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.b.length) this.fail("truncated int64 varint", start);
      const c = this.b[this.pos++]!;
      if (shift < 28) lo |= (c & 0x7f) << shift;
      else if (shift === 28) { lo |= (c & 0x0f) << 28; hi |= (c & 0x7f) >>> 4; }
      else hi |= (c & 0x7f) << (shift - 32);
      shift += 7;
      if (c < 0x80) return (hi | 0) * 4294967296 + (lo >>> 0);
    }
    this.fail("int64 varint longer than 10 bytes", start);
  }
  /** End offset of a length-delimited field starting at pos. */
  len(): number {
    const n = this.uvarint();
    if (n > this.b.length - this.pos) this.fail(`field length ${n} runs past the end (${this.b.length - this.pos} bytes left)`);
    return this.pos + n;
  }
  skip(wire: number, tagAt: number): void {
    switch (wire) {
      case 0: this.int64(); return;
      case 1: if (this.pos + 8 > this.b.length) this.fail("truncated fixed64"); this.pos += 8; return;
      case 2: this.pos = this.len(); return;
      case 5: if (this.pos + 4 > this.b.length) this.fail("truncated fixed32"); this.pos += 4; return;
      default: this.fail(`unsupported wire type ${wire}`, tagAt);
    }
  }
  str(end: number): string {
    try {
      return utf8.decode(this.b.subarray(this.pos, end));
    } catch {
      return this.fail("invalid UTF-8 in label");
    } finally {
      this.pos = end;
    }
  }
}

/** Decode an already decompressed ReadResponse. */
export function decodeRawReadResponse(raw: Uint8Array, what = "remote read response"): RawQueryResult[] {
  const r = new Reader(raw, what);
  const out: RawQueryResult[] = [];
  while (r.pos < raw.length) {
    const at = r.pos, tag = r.uvarint();
    if (tag === 0x0a) {
      const end = r.len();
      out.push({ series: queryResult(r, end) });
    } else r.skip(tag & 7, at);
  }
  return out;
}

/** Snappy-decompress and decode a SAMPLES answer body. */
export function decodeSamplesResponse(body: Uint8Array, maxBytes = DEFAULT_MAX_SAMPLES_RESPONSE_BYTES, what = "remote read response"): RawQueryResult[] {
  return decodeRawReadResponse(snappyDecode(body, maxBytes, what), what);
}

function queryResult(r: Reader, end: number): RawSeries[] {
  const series: RawSeries[] = [];
  while (r.pos < end) {
    const at = r.pos, tag = r.uvarint();
    if (tag === 0x0a) {
      const e = r.len();
      series.push(timeSeries(r, e));
    } else r.skip(tag & 7, at);
    if (r.pos > end) r.fail("field runs past the end of its QueryResult");
  }
  return series;
}

function timeSeries(r: Reader, end: number): RawSeries {
  // First pass: count samples so the arrays are allocated once.
  const start = r.pos;
  let n = 0;
  while (r.pos < end) {
    const at = r.pos, tag = r.uvarint();
    if (tag === 0x12) n++;
    r.skip(tag & 7, at);
  }
  if (r.pos !== end) r.fail("field runs past the end of its TimeSeries");
  r.pos = start;
  const labels: Label[] = [];
  const ts = new Float64Array(n), vals = new Float64Array(n);
  const u32 = new Uint32Array(vals.buffer);
  let i = 0;
  while (r.pos < end) {
    const at = r.pos, tag = r.uvarint();
    if (tag === 0x0a) { // Label
      const e = r.len();
      let name = "", value = "";
      while (r.pos < e) {
        const lat = r.pos, lt = r.uvarint();
        if (lt === 0x0a) name = r.str(r.len());
        else if (lt === 0x12) value = r.str(r.len());
        else r.skip(lt & 7, lat);
      }
      labels.push({ name, value });
    } else if (tag === 0x12) { // Sample
      const e = r.len();
      let t = 0, lo = 0, hi = 0;
      while (r.pos < e) {
        const sat = r.pos, st = r.uvarint();
        if (st === 0x09) { // double value: little-endian 8 bytes, copied as two words
          if (r.pos + 8 > e) r.fail("truncated sample value");
          lo = r.view.getUint32(r.pos, true); hi = r.view.getUint32(r.pos + 4, true);
          r.pos += 8;
        } else if (st === 0x10) t = r.int64();
        else r.skip(st & 7, sat);
      }
      if (r.pos !== e) r.fail("field runs past the end of its Sample");
      ts[i] = t;
      // Float64Array element i is u32[2i] (low word) and u32[2i+1] (high word) on little-endian
      // hosts, which is every runtime we target.
      u32[2 * i] = lo; u32[2 * i + 1] = hi;
      i++;
    } else r.skip(tag & 7, at);
  }
  return { labels, ts, vals };
}
