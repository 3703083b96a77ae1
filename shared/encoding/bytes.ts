// One bounds-checked byte cursor for every decoder, and a growable encoder.
// Decoding errors are thrown as CodedError("corrupt") naming what was being read (the cursor's `what`,
// e.g. "index of block 01H…") and the absolute offset, so a corrupt object is reported, never misread.
//
// Varints are the protobuf/Go encoding (LEB128, zigzag for signed). Values are JS numbers: every varint
// in the formats we read (lengths, offsets, ms timestamps, deltas) fits in 2^53; a varint that does not
// is an error, not a silently rounded number.

import { CodedError } from "./errors.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true });
const utf8enc = new TextEncoder();

export class Decbuf {
  readonly b: Uint8Array;
  readonly view: DataView;
  /** Current position, relative to b. */
  pos: number;
  /** Absolute offset of b[0] in the underlying object, for error messages. */
  readonly base: number;
  readonly what: string;

  constructor(b: Uint8Array, what: string, base = 0) {
    this.b = b;
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = 0;
    this.base = base;
    this.what = what;
  }

  get len(): number { return this.b.length - this.pos; }

  fail(msg: string, at = this.pos): never {
    throw new CodedError("corrupt", `${this.what}: ${msg} at offset ${this.base + at}`);
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.b.length) {
      this.fail(`truncated reading ${what}: need ${n} bytes, have ${this.b.length - this.pos}`);
    }
  }

  skip(n: number): void { this.need(n, "skip"); this.pos += n; }

  byte(): number { this.need(1, "byte"); return this.b[this.pos++]!; }

  be32(): number { this.need(4, "be32"); const v = this.view.getUint32(this.pos); this.pos += 4; return v; }

  /** Big-endian uint64 as a number; throws past 2^53. */
  be64(): number {
    this.need(8, "be64");
    const hi = this.view.getUint32(this.pos), lo = this.view.getUint32(this.pos + 4);
    if (hi > 0x1fffff) this.fail("be64 value exceeds 2^53");
    this.pos += 8;
    return hi * 0x100000000 + lo;
  }

  /** Big-endian uint64 as a bigint (raw bit patterns). */
  be64big(): bigint { this.need(8, "be64"); const v = this.view.getBigUint64(this.pos); this.pos += 8; return v; }

  uvarint(): number {
    const b = this.b;
    let x = 0, mul = 1, i = this.pos;
    for (let n = 0; ; n++) {
      if (i >= b.length) this.fail("truncated uvarint", this.pos);
      const c = b[i++]!;
      x += (c & 0x7f) * mul;
      if ((c & 0x80) === 0) break;
      mul *= 128;
      if (n >= 9) this.fail("uvarint overflows 64 bits", this.pos);
    }
    if (x > Number.MAX_SAFE_INTEGER) this.fail("uvarint exceeds 2^53", this.pos);
    this.pos = i;
    return x;
  }

  /** Zigzag-encoded signed varint. */
  varint(): number {
    const u = this.uvarint();
    // zigzag without 32-bit ops: even -> u/2, odd -> -(u+1)/2
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /** A slice view (no copy). */
  bytes(n: number): Uint8Array {
    this.need(n, "bytes");
    const s = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  uvarintBytes(): Uint8Array { return this.bytes(this.uvarint()); }

  /** UTF-8 string of n bytes; invalid UTF-8 is corruption. */
  str(n: number): string {
    const at = this.pos;
    const s = this.bytes(n);
    try { return utf8.decode(s); } catch { this.fail("invalid UTF-8 string", at); }
  }

  uvarintStr(): string { return this.str(this.uvarint()); }
}

export class Encbuf {
  b: Uint8Array;
  view: DataView;
  len = 0;

  constructor(cap = 256) {
    this.b = new Uint8Array(cap);
    this.view = new DataView(this.b.buffer);
  }

  private grow(n: number): void {
    if (this.len + n <= this.b.length) return;
    let cap = this.b.length * 2;
    while (cap < this.len + n) cap *= 2;
    const nb = new Uint8Array(cap);
    nb.set(this.b.subarray(0, this.len));
    this.b = nb;
    this.view = new DataView(nb.buffer);
  }

  reset(): void { this.len = 0; }

  /** A view of the written bytes (valid until the next write). */
  get(): Uint8Array { return this.b.subarray(0, this.len); }

  byte(v: number): void { this.grow(1); this.b[this.len++] = v; }

  be32(v: number): void { this.grow(4); this.view.setUint32(this.len, v >>> 0); this.len += 4; }

  be64(v: number): void {
    this.grow(8);
    this.view.setUint32(this.len, Math.floor(v / 0x100000000));
    this.view.setUint32(this.len + 4, v >>> 0);
    this.len += 8;
  }

  be64big(v: bigint): void { this.grow(8); this.view.setBigUint64(this.len, v); this.len += 8; }

  uvarint(v: number): void {
    this.grow(10);
    while (v >= 0x80) {
      this.b[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.b[this.len++] = v;
  }

  varint(v: number): void { this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1); }

  bytes(src: Uint8Array): void { this.grow(src.length); this.b.set(src, this.len); this.len += src.length; }

  uvarintBytes(src: Uint8Array): void { this.uvarint(src.length); this.bytes(src); }

  str(s: string): void { this.bytes(utf8enc.encode(s)); }

  uvarintStr(s: string): void { this.uvarintBytes(utf8enc.encode(s)); }

  /** Pad with zero bytes to a multiple of `align`. */
  pad(align: number): void { while (this.len % align !== 0) this.byte(0); }
}

/** The parts joined; a single part is returned as is (no copy). `total` when the caller already summed it. */
export function concatBytes(parts: Uint8Array[], total?: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = total ?? 0;
  if (total === undefined) for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export const utf8Encode = (s: string): Uint8Array => utf8enc.encode(s);
