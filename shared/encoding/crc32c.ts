// CRC-32C (Castagnoli), as used by the Prometheus TSDB index, chunk segments and the remote-read
// chunked stream.
//
// Two implementations with one answer:
// - a WebAssembly slicing-by-16 loop, assembled below from its opcodes and compiled once at module
//   load. It is about twice as fast as the JavaScript one on Bun, Node and Deno (`bun bench/crc32c.ts`),
//   and the sidecar checks every byte Prometheus streams to it (34 MB for 10k series x 2 h), so this is
//   its largest single cost;
// - plain JavaScript slicing-by-8, used where the embedder forbids compiling WebAssembly from bytes
//   (Cloudflare workerd) and for short inputs, where copying into the module's memory costs more than
//   it saves.

import {
  BLOCK, BR, BR_IF, CONST, CONST64, END, GET, I32, I32_ADD as ADD, I32_AND as AND, I32_GE_U as GE_U, I32_LOAD, I32_LOAD8U,
  I32_SHL as SHL, I32_SHR_U as SHR_U, I32_WRAP_I64 as WRAP, I32_XOR as XOR, I64, I64_LOAD, I64_SHR_U, instantiate, LOOP, moduleOf,
  SET, TEE, VOID,
} from "./wasm.ts";

const POLY = 0x82f63b78; // reversed Castagnoli polynomial

/** Slicing tables: table k maps a byte to its CRC contribution k bytes before the end of a block. */
function tables(n: number, into: Uint32Array): Uint32Array {
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    into[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < n; s++) {
      const prev = into[(s - 1) * 256 + i]!;
      into[s * 256 + i] = (prev >>> 8) ^ into[prev & 0xff]!;
    }
  }
  return into;
}

const T = tables(8, new Uint32Array(256 * 8));

/** Continue a CRC over b[start,end) in JavaScript (slicing-by-8); `crc` is the previous result (0 to begin). */
export function crc32cJs(b: Uint8Array, start = 0, end = b.length, crc = 0): number {
  let c = ~crc >>> 0;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    c ^= b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
    c =
      T[7 * 256 + (c & 0xff)]! ^ T[6 * 256 + ((c >>> 8) & 0xff)]! ^
      T[5 * 256 + ((c >>> 16) & 0xff)]! ^ T[4 * 256 + (c >>> 24)]! ^
      T[3 * 256 + b[i + 4]!]! ^ T[2 * 256 + b[i + 5]!]! ^
      T[256 + b[i + 6]!]! ^ T[b[i + 7]!]!;
  }
  for (; i < end; i++) c = T[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- WebAssembly: crc(ptr, len, crc) -> crc over memory[ptr, ptr+len) ----
//
// Memory (2 pages, 128 KiB): 16 tables of 256 u32 at 0 (16 KiB), then the scratch area the input is
// copied into. The loop takes 16 bytes per turn as two little-endian i64 loads split into four u32
// words; the first word is xored with the running CRC, and each of the 16 bytes indexes its own table
// (byte j of the block uses table 15 - j). The lookups of words 2-4 do not depend on the running CRC,
// so the CPU overlaps them with the previous turn (slicing-by-8 waits on the CRC every 8 bytes).

const SLICES = 16;
const TABLE_BYTES = SLICES * 1024;
// 1 MiB of scratch: a range read of chunks is copied in whole, window by window (Crc32cRanges).
const PAGES = 17;
const SCRATCH = PAGES * 65536 - TABLE_BYTES;
/** Below this many bytes the JavaScript loop is as fast as copying in and calling out (measured: 96-128). */
const WASM_MIN_BYTES = 128;

const I64_SHR_U_32 = [...CONST64(32), I64_SHR_U];

function crcModule(): Uint8Array {
  // Locals: 0 ptr, 1 len, 2 crc (params); 3 end; 4..7 the block's four words; 8 an i64.
  const PTR = 0, LEN = 1, CRC = 2, END_ = 3, WORD = 4, X = 8;
  /** table[k][(word >>> shift) & 0xff] */
  const lookup = (k: number, word: number, shift: number) => [
    ...GET(word), ...(shift === 24 ? [...CONST(24), SHR_U] : [...(shift ? [...CONST(shift), SHR_U] : []), ...CONST(255), AND]),
    ...CONST(2), SHL, ...I32_LOAD(k * 1024),
  ];
  const turn: number[] = [...GET(PTR), ...GET(END_), GE_U, BR_IF, 1];
  for (let q = 0; q < 2; q++) {
    turn.push(...GET(PTR), ...I64_LOAD(8 * q), ...TEE(X), WRAP, ...SET(WORD + 2 * q));
    turn.push(...GET(X), ...I64_SHR_U_32, WRAP, ...SET(WORD + 2 * q + 1));
  }
  turn.push(...GET(WORD), ...GET(CRC), XOR, ...SET(WORD));
  // Last word first: its lookups do not wait for the CRC.
  for (let w = 3, first = true; w >= 0; w--) {
    for (let j = 0; j < 4; j++, first = false) turn.push(...lookup(SLICES - 1 - (4 * w + j), WORD + w, 8 * j), ...(first ? [] : [XOR]));
  }
  turn.push(...SET(CRC), ...GET(PTR), ...CONST(SLICES), ADD, ...SET(PTR), BR, 0);
  const tail = [
    ...GET(PTR), ...GET(END_), GE_U, BR_IF, 1,
    ...GET(CRC), ...GET(PTR), ...I32_LOAD8U(0), XOR, ...CONST(255), AND, ...CONST(2), SHL, ...I32_LOAD(0),
    ...GET(CRC), ...CONST(8), SHR_U, XOR, ...SET(CRC),
    ...GET(PTR), ...CONST(1), ADD, ...SET(PTR), BR, 0,
  ];
  const body = [
    ...GET(CRC), ...CONST(-1), XOR, ...SET(CRC),
    ...GET(PTR), ...GET(LEN), ...CONST(-SLICES), AND, ADD, ...SET(END_),
    BLOCK, VOID, LOOP, VOID, ...turn, END, END,
    ...GET(END_), ...GET(LEN), ...CONST(SLICES - 1), AND, ADD, ...SET(END_),
    BLOCK, VOID, LOOP, VOID, ...tail, END, END,
    ...GET(CRC), ...CONST(-1), XOR, END,
  ];
  return moduleOf("crc", 3, [[5, I32], [1, I64]], body, PAGES);
}

interface Wasm {
  run: (ptr: number, len: number, crc: number) => number;
  heap: Uint8Array;
  /** Who last copied bytes into the scratch (a Crc32cRanges, or null for crc32c), so others reload. */
  owner: object | null;
}

function loadWasm(): Wasm | null {
  const exports = instantiate(crcModule());
  if (exports === null) return null;
  const heap = new Uint8Array((exports.mem as { buffer: ArrayBuffer }).buffer);
  tables(SLICES, new Uint32Array(heap.buffer, 0, 256 * SLICES));
  return { run: exports.crc as Wasm["run"], heap, owner: null };
}

const wasm = loadWasm();

function crc32cWasm(w: Wasm, b: Uint8Array, start: number, end: number, crc: number): number {
  let c = crc;
  w.owner = null;
  for (let s = start; s < end;) {
    const n = Math.min(SCRATCH, end - s);
    w.heap.set(n === b.length ? b : b.subarray(s, s + n), TABLE_BYTES);
    c = w.run(TABLE_BYTES, n, c) >>> 0;
    s += n;
  }
  return c;
}

/**
 * CRCs of many ranges of one buffer, as a chunk reader needs for the chunks of one range read. With
 * WebAssembly the buffer is copied into the module's memory once, a window of up to 1 MiB at a time,
 * and each range is summed where it lies; copying each short range in on its own cost more than the
 * sum itself (a downsampled Series call checks ~40,000 chunks of ~600 bytes). Ranges are best asked
 * in ascending order. Without WebAssembly, the JavaScript loop.
 */
export class Crc32cRanges {
  private from = 0;
  private to = 0;
  constructor(private readonly b: Uint8Array) {}

  /** crc32c(b, start, end). */
  crc(start: number, end: number): number {
    const w = wasm;
    if (w === null || end - start < RANGES_WASM_MIN) return crc32cJs(this.b, start, end);
    if (w.owner !== this || start < this.from || end > this.to) {
      if (end - start > SCRATCH) return crc32cWasm(w, this.b, start, end, 0);
      this.from = start;
      this.to = Math.min(this.b.length, start + SCRATCH);
      w.heap.set(this.b.subarray(this.from, this.to), TABLE_BYTES);
      w.owner = this;
    }
    return w.run(TABLE_BYTES + start - this.from, end - start, 0) >>> 0;
  }
}
/** Below this many bytes a range is summed in JavaScript even when its bytes are in the module already. */
const RANGES_WASM_MIN = 64;

/** Which implementation `crc32c` uses for long inputs here: "wasm", or "js" where WebAssembly cannot be compiled. */
export const crc32cImpl: "wasm" | "js" = wasm ? "wasm" : "js";

/** Continue a CRC over b[start,end); pass the previous result as `crc` (0 to begin). */
export function crc32c(b: Uint8Array, start = 0, end = b.length, crc = 0): number {
  return wasm !== null && end - start >= WASM_MIN_BYTES ? crc32cWasm(wasm, b, start, end, crc) : crc32cJs(b, start, end, crc);
}
