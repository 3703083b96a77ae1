// Prometheus XOR ("Gorilla") chunks: appender, batch decoder and a seekable iterator.
//
// Layout (prometheus tsdb/chunkenc/xor.go + bstream.go; bits are written MSB first):
//   u16 be     number of samples
//   sample 0:  varint(t) (zigzag, Go binary.PutVarint), then the 64 raw bits of the value
//   sample 1:  uvarint(t1 - t0) (Go uint64 of the difference, so a negative delta takes 10 bytes),
//              then the value as below
//   sample n:  delta-of-delta dod = (t_n - t_n-1) - (t_n-1 - t_n-2):
//                '0'                    dod == 0
//                '10'   + 14 bits       -8191 ..   8192
//                '110'  + 17 bits      -65535 ..  65536
//                '1110' + 20 bits     -524287 .. 524288
//                '1111' + 64 bits       anything else
//              (n-bit two's complement, with the asymmetric range: the decoder maps x > 2^(n-1) to
//              x - 2^n, so -2^(n-1) is never written in n bits)
//   value:     x = bits(v) ^ bits(previous v)
//                '0'                        x == 0
//                '10' + significant bits    the previous leading/trailing window still covers x
//                '11' + 5 bits leading zeros (clamped to 31) + 6 bits significant-bit count
//                     (64 written as 0) + significant bits
//   The first sample's window is always new: the appender starts with "no window".
//
// Byte length: up to Prometheus 2.54 the Go writer (bstream.writeByte) appended a fresh byte after
// every whole byte it wrote, so a stream that ends on a byte boundary right after a whole-byte write (a
// 1-sample chunk, or a last value with 8/16/.../64 significant bits) carries one trailing 0x00; from 3.0
// on it does not. The bits are the same either way and both decode alike. XorAppender writes 2.42's
// layout by default (the Prometheus we test against); { goPad: false } writes 3.x's.
//
// Speed: decoding reads the stream as big-endian 32-bit words from a reused Int32Array and keeps the
// 64-bit value as two int32 halves (no BigInt, no allocation per sample). Values leave the decoder as
// raw bits through a Uint32Array alias of the output Float64Array, because JS engines canonicalize NaN
// payloads of numbers: the staleness marker 0x7ff0000000000002 would otherwise become a plain NaN.

import { xorWasm } from "./xorwasm.ts";
import { CodedError } from "../encoding/errors.ts";
import type { SampleIterator } from "../storage/types.ts";

/** High/low 32 bits of Prometheus' staleness marker (value.StaleNaN). */
export const STALE_HI = 0x7ff00000;
export const STALE_LO = 0x00000002;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Index of the high/low word of a float64 inside a Uint32Array alias (native byte order).
f64[0] = 1; // 0x3ff00000_00000000
const HI = u32[1] === 0x3ff00000 ? 1 : 0;
const LO = 1 - HI;

/**
 * The staleness NaN as a number. Only use it to *write* (append, compare bits right away): stored in an
 * array or object it may lose its payload (see TOOLCHAIN: Bun canonicalizes to 0x7ff8000000000000).
 */
export const STALE_NAN: number = (() => { u32[HI] = STALE_HI; u32[LO] = STALE_LO; return f64[0]!; })();

export function isStaleBits(hi: number, lo: number): boolean {
  return (hi >>> 0) === STALE_HI && (lo >>> 0) === STALE_LO;
}

/** Raw bits of a number, for tests and callers that carry bits: [hi, lo]. */
export function floatBits(v: number): [number, number] {
  f64[0] = v;
  return [u32[HI]!, u32[LO]!];
}

/** The number with the given raw bits (the payload of a NaN may not survive being stored). */
export function bitsFloat(hi: number, lo: number): number {
  u32[HI] = hi; u32[LO] = lo;
  return f64[0]!;
}

/** Number of samples a chunk declares (the u16 header). */
export function xorNumSamples(data: Uint8Array, what = "XOR chunk"): number {
  if (data.length < 2) throw new CodedError("corrupt", `${what}: chunk of ${data.length} bytes has no 2-byte sample count at offset 0`);
  return (data[0]! << 8) | data[1]!;
}

const MAX_SAMPLES = 0xffff;
const TWO32 = 4294967296;

// ---------------------------------------------------------------------------------------------
// Appender

export interface XorAppenderOptions {
  /** Keep the trailing 0x00 Prometheus <= 2.54 leaves after a byte-aligned whole-byte write (default true; false: 3.x layout). */
  goPad?: boolean;
  /**
   * Bytes the buffer starts with (default 256: a full 120-sample chunk rarely regrows). The head of a
   * TSDB keeps one open appender per series, most holding a few samples (a ruler's ALERTS series), so
   * it starts small: 64 bytes cut its heap by ~200 bytes per series.
   */
  initialBytes?: number;
}

export class XorAppender {
  private buf: Uint8Array;
  private blen = 2; // bytes flushed, including the 2-byte header
  private acc = 0; // pending bits, right-aligned
  private nacc = 0; // number of pending bits (< 32)
  private n = 0;
  private t = 0;
  private tDelta = 0;
  private vh = 0;
  private vl = 0;
  private leading = 0xff; // 0xff: no window yet
  private trailing = 0;
  private byteOp = false; // did the last write end with a whole-byte write (Go writeByte)?
  private readonly goPad: boolean;

  constructor(opts: XorAppenderOptions = {}) {
    this.buf = new Uint8Array(Math.max(16, opts.initialBytes ?? 256));
    this.goPad = opts.goPad ?? true;
  }

  /**
   * An appender that continues an existing chunk like Go's XORChunk.Appender() on an in-memory chunk:
   * the bits already written are kept as they are, and the writer state (last timestamp, delta, value,
   * leading/trailing window) is what a reader holds after the last sample. Note the window: a reader
   * starts with 0/0, not "none", so when no window was written yet (one sample, or only unchanged
   * values) the next changed value reuses a 64-bit window ('10' + 64 bits) instead of opening one, and
   * a window reused that way stays 0/0. Appending then gives the bytes Go would write.
   */
  static fromChunk(data: Uint8Array, what = "XOR chunk", opts?: XorAppenderOptions): XorAppender {
    const n = xorNumSamples(data, what);
    const a = new XorAppender(opts);
    if (n === 0) return a;
    const ts = new Float64Array(n), vs = new Float64Array(n);
    const bits = new Uint32Array(vs.buffer);
    decodeCore(data, n, ts, bits, what);
    const pos = endPos;
    // Whole 32-bit words go to the buffer, the rest (< 32 bits) to the accumulator.
    const full = pos >>> 5, rest = pos & 31;
    if (a.buf.length < 2 + full * 4 + 4) a.buf = new Uint8Array(2 + full * 4 + 256);
    a.buf.set(data.subarray(2, 2 + full * 4), 2);
    a.blen = 2 + full * 4;
    let acc = 0;
    for (let k = 0; k < 4; k++) {
      const j = 2 + full * 4 + k;
      acc = (acc << 8) | (j < data.length ? data[j]! : 0);
    }
    a.acc = rest === 0 ? 0 : acc >>> (32 - rest);
    a.nacc = rest;
    a.n = n;
    a.t = ts[n - 1]!;
    a.tDelta = endTDelta;
    a.vh = bits[2 * (n - 1) + HI]! | 0;
    a.vl = bits[2 * (n - 1) + LO]! | 0;
    a.leading = endL;
    a.trailing = endT;
    a.byteOp = endSig !== 0 && (endSig & 7) === 0;
    return a;
  }

  reset(): void {
    this.blen = 2; this.acc = 0; this.nacc = 0; this.n = 0;
    this.t = 0; this.tDelta = 0; this.vh = 0; this.vl = 0;
    this.leading = 0xff; this.trailing = 0; this.byteOp = false;
  }

  numSamples(): number { return this.n; }

  /** Timestamp (ms) of the last appended sample (undefined before the first). */
  lastT(): number | undefined { return this.n === 0 ? undefined : this.t; }

  append(t: number, v: number): void {
    f64[0] = v;
    this.appendBits(t, u32[HI]!, u32[LO]!);
  }

  /** Append Prometheus' staleness marker (bits 0x7ff0000000000002) without going through a number. */
  appendStale(t: number): void { this.appendBits(t, STALE_HI, STALE_LO); }

  /** Append a value given as raw float64 bits (hi, lo: uint32 or int32 patterns). */
  appendBits(t: number, hi: number, lo: number): void {
    if (!Number.isSafeInteger(t)) {
      throw new CodedError("bad_data", `XOR appender: timestamp ${t} at sample ${this.n} is not an integer within ±2^53 ms`);
    }
    const n = this.n;
    if (n >= MAX_SAMPLES) throw new CodedError("resource_exhausted", `XOR appender: a chunk holds at most ${MAX_SAMPLES} samples`);
    hi |= 0; lo |= 0;
    if (n === 0) {
      this.putVarint(t);
      this.put(hi, 32);
      this.put(lo, 32);
      this.leading = 0xff;
      this.byteOp = true;
      this.tDelta = 0;
    } else if (n === 1) {
      const d = t - this.t;
      if (!Number.isSafeInteger(d)) throw new CodedError("bad_data", `XOR appender: timestamp delta ${t} - ${this.t} exceeds 2^53`);
      this.putUvarint64(d);
      this.tDelta = d;
      this.putValue(hi, lo);
    } else {
      const d = t - this.t;
      if (!Number.isSafeInteger(d)) throw new CodedError("bad_data", `XOR appender: timestamp delta ${t} - ${this.t} exceeds 2^53`);
      const dod = d - this.tDelta;
      if (dod === 0) this.put(0, 1);
      else if (dod >= -8191 && dod <= 8192) { this.put(0b10, 2); this.put(dod & 0x3fff, 14); }
      else if (dod >= -65535 && dod <= 65536) { this.put(0b110, 3); this.put(dod & 0x1ffff, 17); }
      else if (dod >= -524287 && dod <= 524288) { this.put(0b1110, 4); this.put(dod & 0xfffff, 20); }
      else {
        // |dod| may reach 2^54 (two safe deltas of opposite sign), past exact doubles: subtract the
        // deltas as 32-bit halves with a borrow instead, like Go's int64 arithmetic.
        this.put(0b1111, 4);
        const dh = Math.floor(d / TWO32), th = Math.floor(this.tDelta / TWO32);
        let lo = (d - dh * TWO32) - (this.tDelta - th * TWO32), hi = dh - th;
        if (lo < 0) { lo += TWO32; hi -= 1; }
        this.put(hi | 0, 32);
        this.put(lo | 0, 32);
      }
      this.tDelta = d;
      this.putValue(hi, lo);
    }
    this.t = t;
    this.vh = hi; this.vl = lo;
    this.n = n + 1;
  }

  private putValue(hi: number, lo: number): void {
    const xh = hi ^ this.vh, xl = lo ^ this.vl;
    if ((xh | xl) === 0) { this.put(0, 1); this.byteOp = false; return; }
    let leading = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
    const trailing = xl !== 0 ? 31 - Math.clz32(xl & -xl) : 32 + 31 - Math.clz32(xh & -xh);
    if (leading >= 32) leading = 31; // the 5-bit field; Go clamps the same way
    let T: number, sig: number;
    if (this.leading !== 0xff && leading >= this.leading && trailing >= this.trailing) {
      this.put(0b10, 2);
      T = this.trailing;
      sig = 64 - this.leading - T;
    } else {
      this.leading = leading; this.trailing = trailing;
      T = trailing;
      sig = 64 - leading - trailing;
      // 0b11, 5 bits leading, 6 bits sig (64 wraps to 0): 13 bits in one write.
      this.put((0b11 << 11) | (leading << 6) | (sig & 63), 13);
    }
    // x >>> T as hi:lo
    let sh: number, sl: number;
    if (T === 0) { sh = xh; sl = xl; }
    else if (T < 32) { sl = (xl >>> T) | (xh << (32 - T)); sh = xh >>> T; }
    else { sl = xh >>> (T - 32); sh = 0; }
    if (sig > 32) { this.put(sh, sig - 32); this.put(sl, 32); }
    else this.put(sl, sig);
    this.byteOp = (sig & 7) === 0;
  }

  /** Write the low `nb` bits of v (1 <= nb <= 32), MSB first. */
  private put(v: number, nb: number): void {
    const free = 32 - this.nacc;
    if (nb < free) {
      this.acc = (this.acc << nb) | (v & ((1 << nb) - 1));
      this.nacc += nb;
      return;
    }
    const rem = nb - free;
    // acc is 0 whenever nacc is 0, so acc << 32 (== acc << 0 in JS) is harmless.
    const word = free === 32 ? v : (this.acc << free) | ((v >>> rem) & ((1 << free) - 1));
    let b = this.buf;
    const o = this.blen;
    if (o + 4 > b.length) {
      const nb2 = new Uint8Array(b.length * 2);
      nb2.set(b.subarray(0, o));
      this.buf = b = nb2;
    }
    b[o] = word >>> 24; b[o + 1] = word >>> 16; b[o + 2] = word >>> 8; b[o + 3] = word;
    this.blen = o + 4;
    this.acc = rem === 0 ? 0 : v & ((1 << rem) - 1);
    this.nacc = rem;
  }

  private putByte(x: number): void { this.put(x, 8); }

  // Go binary.PutVarint: zigzag then LEB128. For k = t >= 0 ? t : -t-1, zigzag(t) = 2k + sign, so the
  // first byte carries k's low 6 bits and every later group is a group of floor(k / 64): exact for any
  // safe integer without 64-bit arithmetic.
  private putVarint(t: number): void {
    const neg = t < 0;
    const k = neg ? -t - 1 : t;
    let rest = Math.floor(k / 64);
    let first = ((k % 64) << 1) | (neg ? 1 : 0);
    if (rest > 0) first |= 0x80;
    this.putByte(first);
    while (rest > 0) {
      const g = rest % 128;
      rest = Math.floor(rest / 128);
      this.putByte(rest > 0 ? g | 0x80 : g);
    }
  }

  // Go binary.PutUvarint(uint64(d)): a negative d is its 64-bit two's complement (10 bytes).
  private putUvarint64(d: number): void {
    let hi = Math.floor(d / TWO32) | 0;
    let lo = (d - Math.floor(d / TWO32) * TWO32) | 0;
    for (;;) {
      const g = lo & 0x7f;
      lo = (lo >>> 7) | (hi << 25);
      hi = hi >>> 7;
      if ((hi | lo) === 0) { this.putByte(g); return; }
      this.putByte(g | 0x80);
    }
  }

  /** Length bytes() would return now (for cutting chunks by size without copying). */
  byteLength(): number {
    return this.blen + ((this.nacc + 7) >>> 3) + this.padBytes();
  }

  private padBytes(): number {
    return this.goPad && this.byteOp && (this.nacc & 7) === 0 && this.n > 0 ? 1 : 0;
  }

  /** The finished chunk (a copy): u16 sample count + bit stream, laid out exactly as Go's bstream. */
  bytes(): Uint8Array {
    const nacc = this.nacc;
    const tail = (nacc + 7) >>> 3;
    const out = new Uint8Array(this.blen + tail + this.padBytes());
    out.set(this.buf.subarray(0, this.blen));
    if (nacc > 0) {
      const w = this.acc << (32 - nacc);
      for (let i = 0; i < tail; i++) out[this.blen + i] = w >>> (24 - 8 * i);
    }
    out[0] = this.n >>> 8; out[1] = this.n & 0xff;
    return out;
  }
}

/** Encode whole arrays into one chunk (values as numbers; use XorAppender.appendBits for exact NaN payloads). */
export function encodeXor(ts: ArrayLike<number>, vs: ArrayLike<number>, opts?: XorAppenderOptions): Uint8Array {
  const a = new XorAppender(opts);
  for (let i = 0; i < ts.length; i++) a.append(ts[i]!, vs[i]!);
  return a.bytes();
}

// ---------------------------------------------------------------------------------------------
// Decoder

// Reused word buffer; PAD zero words after the data let a sample's reads (at most 68 + 77 bits, plus a
// 64-bit look-ahead) run past the end without bounds checks: the position is checked once per sample.
const PAD = 10;
let words: Int32Array = new Int32Array(64);

function loadWords(data: Uint8Array, from: number): Int32Array {
  const nb = data.length - from;
  const nw = (nb + 3) >>> 2;
  if (words.length < nw + PAD) words = new Int32Array(Math.max(nw + PAD, words.length * 2));
  const w = words;
  const full = nb >>> 2;
  let j = from;
  for (let i = 0; i < full; i++, j += 4) {
    w[i] = (data[j]! << 24) | (data[j + 1]! << 16) | (data[j + 2]! << 8) | data[j + 3]!;
  }
  if (full < nw) {
    let x = 0;
    for (let k = 0; k < 4; k++) x = (x << 8) | (j + k < data.length ? data[j + k]! : 0);
    w[full] = x;
  }
  w.fill(0, nw, nw + PAD);
  return w;
}

/** Samples decoded before the last decode error (read by XorIterator to keep the good prefix). */
let decodedBeforeError = 0;
// Reader state after the last successful decodeCore (for XorAppender.fromChunk): bit position after
// the last sample (relative to byte 2), value window, last timestamp delta, and the significant-bit
// count of the last value write (0: unchanged).
let endPos = 0, endL = 0, endT = 0, endTDelta = 0, endSig = 0;

function fail(what: string, msg: string, byteOffset: number, sample: number, bitOffset?: number): never {
  decodedBeforeError = sample;
  const where = bitOffset === undefined ? `byte offset ${byteOffset}` : `byte offset ${byteOffset} (bit ${bitOffset})`;
  throw new CodedError("corrupt", `${what}: ${msg} at ${where}, sample ${sample}`);
}

// Go binary.ReadVarint over the first bytes of the stream (byte aligned). Returns the new offset;
// the value goes to varT.
let varT = 0;
function readVarint(data: Uint8Array, p: number, what: string): number {
  const start = p;
  if (p >= data.length) fail(what, "truncated first timestamp (varint)", p, 0);
  const b0 = data[p++]!;
  const neg = (b0 & 1) === 1;
  let k = (b0 & 0x7f) >>> 1;
  if (b0 & 0x80) {
    let rest = 0, mul = 1;
    for (let i = 1; ; i++) {
      if (p >= data.length) fail(what, "truncated first timestamp (varint)", p, 0);
      const c = data[p++]!;
      if (i === 9 && c > 1) fail(what, "first timestamp varint overflows 64 bits", start, 0);
      rest += (c & 0x7f) * mul;
      if ((c & 0x80) === 0) break;
      if (i === 9) fail(what, "first timestamp varint overflows 64 bits", start, 0);
      mul *= 128;
    }
    k += rest * 64;
  }
  varT = neg ? -k - 1 : k;
  if (!Number.isSafeInteger(varT)) fail(what, "first timestamp exceeds 2^53 ms", start, 0);
  return p;
}

// Go binary.ReadUvarint then int64(): a value >= 2^63 is a negative delta.
let varD = 0;
function readUvarint64(data: Uint8Array, p: number, what: string): number {
  const start = p;
  let hi = 0, lo = 0;
  for (let i = 0; ; i++) {
    if (p >= data.length) fail(what, "truncated second timestamp delta (uvarint)", p, 1);
    const c = data[p++]!;
    if (i === 9 && c > 1) fail(what, "timestamp delta uvarint overflows 64 bits", start, 1);
    const g = c & 0x7f;
    if (i < 4) lo |= g << (7 * i);
    else if (i === 4) { lo |= g << 28; hi |= g >>> 4; }
    else hi |= g << (7 * i - 32);
    if ((c & 0x80) === 0) break;
    if (i === 9) fail(what, "timestamp delta uvarint overflows 64 bits", start, 1);
  }
  const d = (hi | 0) * TWO32 + (lo >>> 0);
  if (!Number.isSafeInteger(d)) fail(what, "timestamp delta exceeds 2^53 ms", start, 1);
  varD = d;
  return p;
}

/**
 * Decode a whole XOR chunk into typed arrays. Returns the sample count. Values are written as raw bits
 * through a Uint32Array alias of `vals`, so NaN payloads (the staleness marker) are bit-exact; read them
 * back with `new Uint32Array(vals.buffer, vals.byteOffset)` if the bits matter.
 * Throws CodedError "corrupt" naming `what`, the byte/bit offset and the sample on bad input.
 */
export function decodeXorInto(data: Uint8Array, ts: Float64Array, vals: Float64Array, what = "XOR chunk"): number {
  const n = xorNumSamples(data, what);
  if (ts.length < n || vals.length < n) {
    throw new CodedError("internal", `${what}: output arrays hold ${Math.min(ts.length, vals.length)} samples, chunk has ${n}`);
  }
  return decodeFast(data, n, ts, valsAlias(vals), what, 0);
}

/**
 * Decode a whole chunk into ts[off..] and the raw value bits into bits[2*off..] (bits: a Uint32Array
 * alias of a Float64Array, native byte order, so NaN payloads such as the staleness marker survive).
 * Returns the number of samples.
 */
export function decodeXorAt(data: Uint8Array, ts: Float64Array, bits: Uint32Array, off: number, what = "XOR chunk"): number {
  return decodeFast(data, samplesFitting(data, ts, bits, off, what), ts, bits, what, off);
}

/** decodeXorAt with the JavaScript decoder only (what the WebAssembly path is checked and measured against). */
export function decodeXorAtJs(data: Uint8Array, ts: Float64Array, bits: Uint32Array, off: number, what = "XOR chunk"): number {
  return decodeCore(data, samplesFitting(data, ts, bits, off, what), ts, bits, what, off);
}

/** The chunk's sample count, once checked to fit in ts[off..] and bits[2*off..]. */
function samplesFitting(data: Uint8Array, ts: Float64Array, bits: Uint32Array, off: number, what: string): number {
  const n = xorNumSamples(data, what);
  if (ts.length < off + n || bits.length < 2 * (off + n)) {
    throw new CodedError("internal", `${what}: output arrays hold ${Math.min(ts.length, bits.length >>> 1) - off} samples past offset ${off}, chunk has ${n}`);
  }
  return n;
}

/** Which decoder decodeXorAt/decodeXorInto/XorIterator use for chunks of 8 samples or more. */
export const xorDecoderImpl: "wasm" | "js" = xorWasm ? "wasm" : "js";

/** Below this many samples the JavaScript loop is as fast as copying in and out of WebAssembly. */
const WASM_MIN_SAMPLES = 8;

/**
 * decodeCore's answer, from the WebAssembly decoder when it takes the chunk (shared/chunkenc/xorwasm.ts:
 * well-formed chunks only; anything it declines, corrupt input included, is decoded here in JavaScript,
 * which names the error).
 */
function decodeFast(data: Uint8Array, n: number, ts: Float64Array, out: Uint32Array, what: string, off: number): number {
  if (xorWasm !== null && n >= WASM_MIN_SAMPLES) {
    const got = xorWasm.decodeAt(data, n, ts, out, off);
    if (got === n) return n;
  }
  return decodeCore(data, n, ts, out, what, off);
}

let aliasFor: Float64Array | null = null;
let alias: Uint32Array = new Uint32Array(0);
function valsAlias(vals: Float64Array): Uint32Array {
  if (aliasFor !== vals) {
    alias = new Uint32Array(vals.buffer, vals.byteOffset, vals.length * 2);
    aliasFor = vals;
  }
  return alias;
}

function decodeCore(data: Uint8Array, n: number, ts: Float64Array, out: Uint32Array, what: string, off = 0): number {
  decodedBeforeError = 0;
  if (n === 0) return 0;
  let p = readVarint(data, 2, what);
  let t = varT;
  if (p + 8 > data.length) fail(what, "truncated first value (64 bits)", p, 0);
  let vh = (data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!;
  let vl = (data[p + 4]! << 24) | (data[p + 5]! << 16) | (data[p + 6]! << 8) | data[p + 7]!;
  p += 8;
  ts[off] = t; out[2 * off + HI] = vh; out[2 * off + LO] = vl;
  if (n === 1) {
    endPos = (p - 2) * 8; endL = 0; endT = 0; endTDelta = 0; endSig = 64;
    return 1;
  }

  p = readUvarint64(data, p, what);
  let tDelta = varD;
  t += tDelta;
  if (!Number.isSafeInteger(t)) fail(what, "timestamp exceeds 2^53 ms", p, 1);
  // With |t0| <= 2^52 and |delta| <= 2^30, 65535 samples of at most 20-bit dods stay below 2^53; past
  // that (or after a 64-bit dod) every timestamp is checked.
  let check = Math.abs(t) > 2 ** 52 || Math.abs(tDelta) > 2 ** 30;

  const W = loadWords(data, 2);
  const totalBits = (data.length - 2) * 8;
  let pos = (p - 2) * 8;
  let L = 0, T = 0, mH = -1, mL = -1; // Go's iterator starts with a 0/0 window
  let sig = 0;
  let i = 1;
  for (;;) {
    // value of sample i
    let w = pos >>> 5, o = pos & 31;
    let x = o === 0 ? W[w]! : (W[w]! << o) | (W[w + 1]! >>> (32 - o));
    if (x >= 0) {
      pos += 1; // '0': unchanged
      sig = 0;
    } else {
      if ((x & 0x40000000) !== 0) {
        L = (x >>> 25) & 31;
        let m = (x >>> 19) & 63;
        if (m === 0) m = 64;
        if (L + m > 64) fail(what, `value window of ${L} leading zeros + ${m} significant bits exceeds 64`, 2 + (pos >>> 3), i, pos & 7);
        T = 64 - L - m;
        mL = T >= 32 ? 0 : -1 << T;
        mH = T <= 32 ? -1 : -1 << (T - 32);
        pos += 13;
      } else {
        pos += 2;
      }
      w = pos >>> 5; o = pos & 31;
      let h: number, l: number;
      if (o === 0) { h = W[w]!; l = W[w + 1]!; }
      else {
        const a = W[w]!, b = W[w + 1]!, c = W[w + 2]!;
        h = (a << o) | (b >>> (32 - o));
        l = (b << o) | (c >>> (32 - o));
      }
      if (L !== 0) { l = (l >>> L) | (h << (32 - L)); h = h >>> L; }
      vh ^= h & mH;
      vl ^= l & mL;
      sig = 64 - L - T;
      pos += sig;
    }
    if (pos > totalBits) fail(what, `truncated value: needs ${pos - totalBits} bits past the end`, data.length, i);
    out[2 * (off + i) + HI] = vh;
    out[2 * (off + i) + LO] = vl;
    ts[off + i] = t;
    if (++i === n) {
      endPos = pos; endL = L; endT = T; endTDelta = tDelta; endSig = sig;
      return n;
    }

    // delta-of-delta of sample i
    w = pos >>> 5; o = pos & 31;
    x = o === 0 ? W[w]! : (W[w]! << o) | (W[w + 1]! >>> (32 - o));
    if (x >= 0) {
      pos += 1;
    } else if ((x & 0x40000000) === 0) {
      let d = (x >>> 16) & 0x3fff;
      if (d > 8192) d -= 16384;
      tDelta += d; pos += 16;
    } else if ((x & 0x20000000) === 0) {
      let d = (x >>> 12) & 0x1ffff;
      if (d > 65536) d -= 131072;
      tDelta += d; pos += 20;
    } else if ((x & 0x10000000) === 0) {
      let d = (x >>> 8) & 0xfffff;
      if (d > 524288) d -= 1048576;
      tDelta += d; pos += 24;
    } else {
      const at = pos;
      pos += 4;
      w = pos >>> 5; o = pos & 31;
      const a = W[w]!, b = W[w + 1]!, c = W[w + 2]!;
      const h = o === 0 ? a : (a << o) | (b >>> (32 - o));
      const l = o === 0 ? b : (b << o) | (c >>> (32 - o));
      pos += 64;
      // tDelta + dod as 32-bit halves: dod alone may exceed 2^53 while the new delta does not.
      const th = Math.floor(tDelta / TWO32);
      let lo = tDelta - th * TWO32 + (l >>> 0), hi = th + h;
      if (lo >= TWO32) { lo -= TWO32; hi += 1; }
      tDelta = hi * TWO32 + lo;
      if (!(hi >= -0x200000 && hi < 0x200000) || !Number.isSafeInteger(tDelta)) {
        fail(what, "timestamp delta exceeds 2^53 ms", 2 + (at >>> 3), i, at & 7);
      }
      check = true;
    }
    t += tDelta;
    if (check && !Number.isSafeInteger(t)) fail(what, "timestamp exceeds 2^53 ms", 2 + (pos >>> 3), i);
  }
}

// ---------------------------------------------------------------------------------------------
// Iterator

/**
 * SampleIterator over one XOR chunk. reset() decodes the chunk in one batch into reused typed arrays
 * (fast, and a 120-sample chunk is small); on corrupt input it yields the samples before the damage,
 * then next() returns false and err() holds the CodedError.
 */
export class XorIterator implements SampleIterator {
  private ts: Float64Array = new Float64Array(128);
  private vs: Float64Array = new Float64Array(128);
  private bits: Uint32Array = new Uint32Array(this.vs.buffer);
  private n = 0;
  private i = -1;
  private e: Error | null = null;
  private readonly what: string;

  constructor(data?: Uint8Array, what = "XOR chunk") {
    this.what = what;
    if (data) this.reset(data);
  }

  reset(data: Uint8Array, what = this.what): void {
    this.i = -1;
    this.e = null;
    this.n = 0;
    let n: number;
    try {
      n = xorNumSamples(data, what);
    } catch (e) {
      this.e = e as Error;
      return;
    }
    if (this.ts.length < n) {
      const cap = Math.max(n, this.ts.length * 2);
      this.ts = new Float64Array(cap);
      this.vs = new Float64Array(cap);
      this.bits = new Uint32Array(this.vs.buffer);
    }
    try {
      this.n = decodeFast(data, n, this.ts, this.bits, what, 0);
    } catch (e) {
      this.n = decodedBeforeError;
      this.e = e as Error;
    }
  }

  next(): boolean {
    if (this.i + 1 >= this.n) { this.i = this.n; return false; }
    this.i++;
    return true;
  }

  seek(t: number): boolean {
    if (this.i >= this.n) return false;
    if (this.i >= 0 && this.ts[this.i]! >= t) return true;
    const ts = this.ts;
    let i = this.i < 0 ? 0 : this.i;
    while (i < this.n && ts[i]! < t) i++;
    this.i = i;
    return i < this.n;
  }

  at(): number { return this.ts[this.i]!; }
  value(): number { return this.vs[this.i]!; }
  /** Raw high/low 32 bits of the current value (bit-exact, unlike value() for NaN payloads). */
  valueHi(): number { return this.bits[2 * this.i + HI]!; }
  valueLo(): number { return this.bits[2 * this.i + LO]!; }
  isStale(): boolean { return this.bits[2 * this.i + HI] === STALE_HI && this.bits[2 * this.i + LO] === STALE_LO; }
  err(): Error | null { return this.i >= this.n ? this.e : null; }
  /** Samples in the chunk (decoded so far; fewer than declared when corrupt). */
  count(): number { return this.n; }
}
