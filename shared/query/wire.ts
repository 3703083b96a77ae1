// Direct decoder for thanos.SeriesResponse (the hot message of the fan-out), bypassing protobuf-es
// message objects: labels become plain {name, value} pairs, chunk bytes stay views into the received
// buffer, times stay numbers. In a profile of the querier over 10 000 series, protobuf-es decoding plus
// the GC of its objects was the largest single cost after the network.
//
// Field numbers (proto/thanos/storepb/{rpc,types}.proto, labelpb/types.proto):
//   SeriesResponse { Series series = 1; string warning = 2; Any hints = 3; SeriesBatch batch = 4 }
//   SeriesBatch { repeated Series series = 1 }
//   Series { repeated Label labels = 1; repeated AggrChunk chunks = 2 }
//   Label { string name = 1; string value = 2 }
//   AggrChunk { int64 min_time = 1; int64 max_time = 2; Chunk raw = 3, count = 4, sum = 5, min = 6, max = 7, counter = 8 }
//   Chunk { Encoding type = 1; bytes data = 2; optional uint64 hash = 3 }

import { CodedError } from "../encoding/errors.ts";
import type { Label } from "../labels/labels.ts";
import type { WireAggrChunk, WireChunk } from "./proxy.ts";

export type DecodedSeriesResponse =
  | { kind: "series"; labels: Label[]; chunks: WireAggrChunk[] }
  | { kind: "batch"; series: { labels: Label[]; chunks: WireAggrChunk[] }[] }
  | { kind: "warning"; warning: string }
  | { kind: "hints" };

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  pos: number;
  constructor(readonly b: Uint8Array, start: number, readonly end: number, readonly what: string) {
    this.pos = start;
  }

  fail(msg: string): never {
    throw new CodedError("corrupt", `${this.what}: ${msg} at byte ${this.pos}`);
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

  /** Length-delimited field: returns [start, end) of its bytes. */
  bytes(): [number, number] {
    const n = this.varint();
    if (n < 0 || this.pos + n > this.end) this.fail(`length ${n} runs past the end (${this.end - this.pos} bytes left)`);
    const s = this.pos;
    this.pos += n;
    return [s, this.pos];
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

function str(b: Uint8Array, s: number, e: number): string {
  // Short ASCII (nearly every label name and value) without TextDecoder's per-call cost.
  if (e - s <= 32) {
    let out = "";
    for (let i = s; i < e; i++) {
      const c = b[i]!;
      if (c >= 0x80) return utf8.decode(b.subarray(s, e));
      out += String.fromCharCode(c);
    }
    return out;
  }
  return utf8.decode(b.subarray(s, e));
}

function chunk(b: Uint8Array, s: number, e: number, what: string): WireChunk {
  const r = new Reader(b, s, e, what);
  let type = 0, data: Uint8Array = b.subarray(0, 0);
  while (r.pos < e) {
    const tag = r.varint();
    const f = Math.floor(tag / 8), w = tag & 7;
    if (f === 1 && w === 0) type = r.varint();
    else if (f === 2 && w === 2) { const [ds, de] = r.bytes(); data = b.subarray(ds, de); }
    else r.skip(w);
  }
  return { type, data };
}

function aggrChunk(b: Uint8Array, s: number, e: number, what: string): WireAggrChunk {
  const r = new Reader(b, s, e, what);
  const out: { minTime: number; maxTime: number; raw?: WireChunk; count?: WireChunk; sum?: WireChunk; min?: WireChunk; max?: WireChunk; counter?: WireChunk } = { minTime: 0, maxTime: 0 };
  while (r.pos < e) {
    const tag = r.varint();
    const f = Math.floor(tag / 8), w = tag & 7;
    if (w === 0 && f === 1) out.minTime = r.varint();
    else if (w === 0 && f === 2) out.maxTime = r.varint();
    else if (w === 2 && f >= 3 && f <= 8) {
      const [cs, ce] = r.bytes();
      const c = chunk(b, cs, ce, what);
      switch (f) {
        case 3: out.raw = c; break;
        case 4: out.count = c; break;
        case 5: out.sum = c; break;
        case 6: out.min = c; break;
        case 7: out.max = c; break;
        default: out.counter = c;
      }
    } else r.skip(w);
  }
  return out as unknown as WireAggrChunk;
}

function series(b: Uint8Array, s: number, e: number, what: string): { labels: Label[]; chunks: WireAggrChunk[] } {
  const r = new Reader(b, s, e, what);
  const labels: Label[] = [];
  const chunks: WireAggrChunk[] = [];
  while (r.pos < e) {
    const tag = r.varint();
    const f = Math.floor(tag / 8), w = tag & 7;
    if (w === 2 && f === 1) {
      const [ls, le] = r.bytes();
      const lr = new Reader(b, ls, le, what);
      let name = "", value = "";
      while (lr.pos < le) {
        const t = lr.varint();
        if (t === 10) { const [a, z] = lr.bytes(); name = str(b, a, z); }
        else if (t === 18) { const [a, z] = lr.bytes(); value = str(b, a, z); }
        else lr.skip(t & 7);
      }
      labels.push({ name, value });
    } else if (w === 2 && f === 2) {
      const [cs, ce] = r.bytes();
      chunks.push(aggrChunk(b, cs, ce, what));
    } else r.skip(w);
  }
  return { labels, chunks };
}

/** Decode one SeriesResponse message occupying b[start, end). */
export function decodeSeriesResponse(b: Uint8Array, start = 0, end = b.length, what = "SeriesResponse"): DecodedSeriesResponse {
  const r = new Reader(b, start, end, what);
  let out: DecodedSeriesResponse = { kind: "hints" };
  while (r.pos < end) {
    const tag = r.varint();
    const f = Math.floor(tag / 8), w = tag & 7;
    if (w !== 2) { r.skip(w); continue; }
    const [s, e] = r.bytes();
    if (f === 1) out = { kind: "series", ...series(b, s, e, what) };
    else if (f === 2) out = { kind: "warning", warning: str(b, s, e) };
    else if (f === 4) {
      const br = new Reader(b, s, e, what);
      const list: { labels: Label[]; chunks: WireAggrChunk[] }[] = [];
      while (br.pos < e) {
        const t = br.varint();
        if (t === 10) { const [ss, se] = br.bytes(); list.push(series(b, ss, se, what)); } else br.skip(t & 7);
      }
      out = { kind: "batch", series: list };
    } else out = { kind: "hints" };
  }
  return out;
}
