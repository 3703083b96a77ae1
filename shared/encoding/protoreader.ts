// A protobuf wire cursor for the hand-written decoders of the hot messages (shared/query/wire.ts for
// SeriesResponse, shared/store/wire.ts for remote-read frames): varints as numbers, length-delimited
// fields as offsets into the buffer (no views or tuples allocated), unknown fields skipped. Errors are
// CodedError "corrupt" naming what was read and the byte offset.

import { CodedError } from "./errors.ts";

/** One cursor per message; nested messages are read with the same cursor up to their own end. */
export class ProtoReader {
  pos: number;
  /** `at`: how errors name the position ("offset N" or, for the SeriesResponse decoder, "byte N"). */
  constructor(readonly b: Uint8Array, start: number, public end: number, readonly what: string, readonly at: "offset" | "byte" = "offset") {
    this.pos = start;
  }

  fail(msg: string): never {
    throw new CodedError("corrupt", `${this.what}: ${msg} at ${this.at} ${this.pos}`);
  }

  /** Varint as a number; exact below 2^53 (times in ms, lengths), negatives via the 10-byte form. */
  varint(): number {
    const b = this.b;
    const start = this.pos;
    let x = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail("truncated varint");
      const c = b[this.pos++]!;
      if (c < 0x80) {
        if (i < 7) return x + c * mul; // up to 7 bytes = 49 bits: exact as a double
        return this.wide(start, i);
      }
      x += (c & 0x7f) * mul;
      mul *= 128;
    }
    return this.fail("varint longer than 10 bytes");
  }

  /** An 8- to 10-byte varint: possibly beyond double precision; 10 bytes means a negative int64. */
  private wide(start: number, last: number): number {
    let v = 0n;
    for (let i = last; i >= 0; i--) v = (v << 7n) | BigInt(this.b[start + i]! & 0x7f);
    if (v >= 1n << 64n) this.fail("varint overflows 64 bits");
    return Number(BigInt.asIntN(64, v));
  }

  /** Length-delimited field: returns the start of its bytes; they end at the new `pos` (no tuple allocated). */
  bytes(): number {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.end) this.fail(`length ${n} runs past the end (${this.end - this.pos} bytes left)`);
    const s = this.pos;
    this.pos += n;
    return s;
  }

  skip(wire: number): void {
    switch (wire) {
      case 0: this.varint(); return;
      case 1: this.pos += 8; break;
      case 2: this.bytes(); return;
      case 5: this.pos += 4; break;
      default: this.fail(`unsupported wire type ${wire}`);
    }
    if (this.pos > this.end) this.fail("truncated fixed-width field");
  }
}
