// The XOR chunk decoder's fast path in WebAssembly, assembled from its opcodes at load time.
//
// Why: decoding is the largest single cost of a querier answer over many series (an HA pair over
// 10 000 series x 2 h decodes ~5 M samples per query); the JavaScript decoder (decodeCore in xor.ts)
// runs at ~11 ns per sample on Bun, this one at a fraction of that (`bun bench/xor.ts`).
//
// What it does and does not do:
// - It decodes well-formed chunks whose timestamps stay within +-2^53 ms: every chunk a scraper or
//   the downsampler writes (64-bit deltas-of-delta included: gaps, 5m/1h windows). Anything else (a
//   corrupt or truncated stream, a value window over 64 bits, a 10-byte varint, unsafe timestamps) makes it
//   return -1, and the caller decodes the chunk with the JavaScript decoder, which then produces the
//   exact error with its byte and bit offset. So its answer is the JavaScript decoder's answer or
//   nothing.
// - Where WebAssembly cannot be compiled (workerd) or on a big-endian host, it is absent (null).
//
// Memory (2 pages): the chunk bytes are copied to IN (zero padded), converted to big-endian 64-bit
// words at WORDS (so a read of 64 bits at any bit position is two loads and three shifts), and the
// samples are written to OUT_T (timestamps as f64) and OUT_V (value bits as i64, little endian, i.e.
// a Float64Array's layout on the host).
//
// Format (Prometheus tsdb/chunkenc/xor.go): u16 sample count; t0 as a zigzag varint; v0 as 64 bits;
// t1 - t0 as a uvarint; v1 as an XOR; then per sample a delta-of-delta ('0' | '10'+14 bits |
// '110'+17 | '1110'+20 | '1111'+64) and an XOR value ('0' same | '10' reuse the window | '11' +
// 5 bits leading zeros + 6 bits significant bits (0 = 64), then the significant bits).

import {
  BLOCK, BR, BR_IF, CONST, CONST64, ELSE, END, F64_CONVERT_I64_S as F64_FROM_I64, F64_STORE, GET, I32, I32_ADD, I32_AND, I32_EQ,
  I32_GE_U, I32_GT_U, I32_LOAD8U, I32_SHL, I32_SHR_U, I32_WRAP_I64 as WRAP, I64, I64_ADD, I64_AND, I64_EQZ,
  I64_EXTEND_I32_U as EXTEND_U, I64_GE_S, I64_GT_S, I64_GT_U, I64_LOAD, I64_LT_S, I64_OR, I64_ROTL, I64_SHL, I64_SHR_U, I64_STORE,
  I64_SUB, I64_XOR, IF, instantiate, LOOP, moduleOf, RETURN, SET, TEE, VOID,
} from "../encoding/wasm.ts";

/** Largest chunk (bytes) and sample count this path takes; larger ones go to the JavaScript decoder. */
export const WASM_MAX_BYTES = 16384;
export const WASM_MAX_SAMPLES = 2048;

const IN = 0;
const WORDS = WASM_MAX_BYTES + 64;
const OUT_T = WORDS + WASM_MAX_BYTES + 64;
const OUT_V = OUT_T + 8 * WASM_MAX_SAMPLES;
const PAGES = Math.ceil((OUT_V + 8 * WASM_MAX_SAMPLES) / 65536);
/** Zero bytes after the chunk: the word conversion and the look-ahead reads run past its end. */
export const PAD_WORDS = 4;

const MAX_SAFE = 2n ** 53n - 1n;

function xorModule(): Uint8Array {
  // Params: 0 len (chunk bytes), 1 n (samples). i32 locals: 2 p (byte), 3 pos (bit), 4 i, 5 addr, 6 total (bits), 7 k.
  // i64 locals: 8 u, 9 sh, 10 c, 11 t, 12 td, 13 vv, 14 x, 15 L, 16 T, 17 mask, 18 d, 19 o, 20 m.
  const LEN = 0, N = 1, P = 2, POS = 3, I = 4, ADDR = 5, TOTAL = 6, K = 7;
  const U = 8, SH = 9, C = 10, T = 11, TD = 12, VV = 13, X = 14, L = 15, TT = 16, MASK = 17, D = 18, O = 19, M = 20;
  const fail = [...CONST(-1), RETURN];

  /** The 64 bits at bit `pos` of the chunk (big-endian), on the stack. */
  const read64 = [
    ...GET(POS), ...CONST(3), I32_SHR_U, ...CONST(-8), I32_AND, ...SET(ADDR),
    ...GET(ADDR), ...I64_LOAD(WORDS),
    ...GET(POS), EXTEND_U, ...CONST64(63), I64_AND, ...TEE(O), I64_SHL,
    ...GET(ADDR), ...I64_LOAD(WORDS + 8), ...CONST64(1), I64_SHR_U,
    ...CONST64(63), ...GET(O), I64_SUB, I64_SHR_U,
    I64_OR,
  ];
  /** -1 unless |local| <= 2^53 - 1. */
  const unsafe = (l: number) => [...GET(l), ...CONST64(MAX_SAFE), I64_ADD, ...CONST64(2n * MAX_SAFE), I64_GT_U, IF, VOID, ...fail, END];
  /** A LEB128 varint at byte p into U (p advanced); -1 if truncated or longer than 9 bytes. */
  const varint = [
    ...CONST64(0), ...SET(U), ...CONST64(0), ...SET(SH),
    BLOCK, VOID, LOOP, VOID,
    ...GET(P), ...GET(LEN), I32_GE_U, IF, VOID, ...fail, END,
    ...GET(P), ...I32_LOAD8U(IN), EXTEND_U, ...SET(C),
    ...GET(P), ...CONST(1), I32_ADD, ...SET(P),
    ...GET(U), ...GET(C), ...CONST64(0x7f), I64_AND, ...GET(SH), I64_SHL, I64_OR, ...SET(U),
    ...GET(C), ...CONST64(0x80), I64_LT_S, BR_IF, 1,
    ...GET(SH), ...CONST64(7), I64_ADD, ...TEE(SH), ...CONST64(63), I64_GE_S, IF, VOID, ...fail, END,
    BR, 0,
    END, END,
  ];
  /** Store t (as f64) and vv (bits) at sample i. */
  const store = [
    ...GET(I), ...CONST(3), I32_SHL, ...TEE(ADDR), ...GET(T), F64_FROM_I64, ...F64_STORE(OUT_T),
    ...GET(ADDR), ...GET(VV), ...I64_STORE(OUT_V),
  ];
  const bswapStep = (mask: bigint, s: number) => [
    ...GET(X), ...CONST64(mask), I64_AND, ...CONST64(s), I64_SHL,
    ...GET(X), ...CONST64(s), I64_SHR_U, ...CONST64(mask), I64_AND, I64_OR, ...SET(X),
  ];
  /** The signed `bits`-bit field ending `advance` bits from the top of x, into D (Prometheus' sign rule). */
  const field = (bits: number, advance: number) => [
    ...GET(X), ...CONST64(64 - advance), I64_SHR_U, ...CONST64((1n << BigInt(bits)) - 1n), I64_AND, ...TEE(D),
    ...CONST64(1n << BigInt(bits - 1)), I64_GT_S, IF, VOID, ...GET(D), ...CONST64(1n << BigInt(bits)), I64_SUB, ...SET(D), END,
    ...GET(POS), ...CONST(advance), I32_ADD, ...SET(POS),
  ];

  const body = [
    // Words: W[k] = big-endian 64 bits at byte 8k, for k < len/8 + PAD_WORDS.
    ...CONST(0), ...SET(K),
    BLOCK, VOID, LOOP, VOID,
    ...GET(K), ...GET(LEN), ...CONST(3), I32_SHR_U, ...CONST(PAD_WORDS), I32_ADD, I32_GE_U, BR_IF, 1,
    ...GET(K), ...CONST(3), I32_SHL, ...TEE(ADDR), ...I64_LOAD(IN), ...SET(X),
    ...bswapStep(0x00ff00ff00ff00ffn, 8), ...bswapStep(0x0000ffff0000ffffn, 16),
    ...GET(ADDR), ...GET(X), ...CONST64(32), I64_ROTL, ...I64_STORE(WORDS),
    ...GET(K), ...CONST(1), I32_ADD, ...SET(K), BR, 0,
    END, END,
    // t0 (zigzag varint), v0 (64 bits).
    ...CONST(2), ...SET(P),
    ...varint,
    ...GET(U), ...CONST64(1), I64_SHR_U, ...CONST64(0), ...GET(U), ...CONST64(1), I64_AND, I64_SUB, I64_XOR, ...SET(T),
    ...unsafe(T),
    ...GET(P), ...CONST(8), I32_ADD, ...GET(LEN), I32_GT_U, IF, VOID, ...fail, END,
    ...GET(P), ...CONST(3), I32_SHL, ...SET(POS), ...read64, ...SET(VV),
    ...GET(P), ...CONST(8), I32_ADD, ...SET(P),
    ...CONST(0), ...SET(I), ...store,
    ...GET(N), ...CONST(1), I32_EQ, IF, VOID, ...CONST(1), RETURN, END,
    // t1 - t0 (uvarint, as int64).
    ...varint,
    ...GET(U), ...SET(TD), ...unsafe(TD),
    ...GET(T), ...GET(TD), I64_ADD, ...SET(T), ...unsafe(T),
    ...GET(P), ...CONST(3), I32_SHL, ...SET(POS),
    ...GET(LEN), ...CONST(3), I32_SHL, ...SET(TOTAL),
    ...CONST64(0), ...SET(L), ...CONST64(0), ...SET(TT), ...CONST64(-1), ...SET(MASK),
    ...CONST(1), ...SET(I),
    LOOP, VOID,
    // The value of sample i.
    ...read64, ...TEE(X), ...CONST64(0), I64_GE_S,
    IF, VOID,
    ...GET(POS), ...CONST(1), I32_ADD, ...SET(POS),
    ELSE,
    ...GET(X), ...CONST64(1), I64_SHL, ...CONST64(0), I64_LT_S,
    IF, VOID,
    // '11': a new window.
    ...GET(X), ...CONST64(57), I64_SHR_U, ...CONST64(31), I64_AND, ...SET(L),
    ...GET(X), ...CONST64(51), I64_SHR_U, ...CONST64(63), I64_AND, ...TEE(M), I64_EQZ, IF, VOID, ...CONST64(64), ...SET(M), END,
    ...GET(L), ...GET(M), I64_ADD, ...CONST64(64), I64_GT_S, IF, VOID, ...fail, END,
    ...CONST64(64), ...GET(L), I64_SUB, ...GET(M), I64_SUB, ...SET(TT),
    ...CONST64(-1), ...GET(TT), I64_SHL, ...SET(MASK),
    ...GET(POS), ...CONST(13), I32_ADD, ...SET(POS),
    ELSE,
    ...GET(POS), ...CONST(2), I32_ADD, ...SET(POS),
    END,
    ...GET(VV), ...read64, ...GET(L), I64_SHR_U, ...GET(MASK), I64_AND, I64_XOR, ...SET(VV),
    ...GET(POS), ...CONST64(64), ...GET(L), I64_SUB, ...GET(TT), I64_SUB, WRAP, I32_ADD, ...SET(POS),
    END,
    ...GET(POS), ...GET(TOTAL), I32_GT_U, IF, VOID, ...fail, END,
    ...store,
    ...GET(I), ...CONST(1), I32_ADD, ...TEE(I), ...GET(N), I32_EQ, IF, VOID, ...GET(N), RETURN, END,
    // The delta-of-delta of sample i.
    ...read64, ...TEE(X), ...CONST64(0), I64_GE_S,
    IF, VOID,
    ...GET(POS), ...CONST(1), I32_ADD, ...SET(POS),
    ELSE,
    ...GET(X), ...CONST64(1), I64_SHL, ...CONST64(0), I64_GE_S,
    IF, VOID, ...field(14, 16), ...GET(TD), ...GET(D), I64_ADD, ...SET(TD),
    ELSE,
    ...GET(X), ...CONST64(2), I64_SHL, ...CONST64(0), I64_GE_S,
    IF, VOID, ...field(17, 20), ...GET(TD), ...GET(D), I64_ADD, ...SET(TD),
    ELSE,
    ...GET(X), ...CONST64(3), I64_SHL, ...CONST64(0), I64_GE_S,
    IF, VOID, ...field(20, 24), ...GET(TD), ...GET(D), I64_ADD, ...SET(TD),
    ELSE,
    // '1111': a 64-bit delta-of-delta (a gap, or a downsampled chunk's capped last window); added with
    // int64 wrap-around as Go adds it, then checked like every delta.
    ...GET(POS), ...CONST(4), I32_ADD, ...SET(POS),
    ...read64, ...SET(D),
    ...GET(POS), ...CONST(64), I32_ADD, ...SET(POS),
    ...GET(TD), ...GET(D), I64_ADD, ...SET(TD),
    END, END, END,
    END,
    ...unsafe(TD),
    ...GET(T), ...GET(TD), I64_ADD, ...SET(T), ...unsafe(T),
    BR, 0,
    END,
    ...CONST(-1), // not reached
    END,
  ];
  return moduleOf("decode", 2, [[6, I32], [13, I64]], body, PAGES);
}

export interface XorWasm {
  /**
   * Decode `data` (n samples) into ts[off..off+n) and bits[2*off..2*(off+n)): n, or -1 when this path
   * does not take the chunk (the caller then uses the JavaScript decoder). The caller checks sizes.
   */
  decodeAt(data: Uint8Array, n: number, ts: Float64Array, bits: Uint32Array, off: number): number;
}

function load(): XorWasm | null {
  // The output is copied out as host-order Float64/Uint32 arrays: WebAssembly memory is little endian.
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) return null;
  const exports = instantiate(xorModule());
  if (exports === null) return null;
  const decode = exports.decode as (len: number, n: number) => number;
  const buf = (exports.mem as { buffer: ArrayBuffer }).buffer;
  const heap = new Uint8Array(buf);
  const outT = new Float64Array(buf, OUT_T, WASM_MAX_SAMPLES);
  const outV = new Uint32Array(buf, OUT_V, 2 * WASM_MAX_SAMPLES);
  // Views of the first n outputs, made once per n (a view per call cost as much as copying).
  const viewsT: Float64Array[] = [], viewsV: Uint32Array[] = [];
  return {
    decodeAt(data, n, ts, bits, off) {
      const len = data.length;
      if (len > WASM_MAX_BYTES || n > WASM_MAX_SAMPLES || n < 1) return -1;
      heap.set(data, IN);
      heap.fill(0, IN + len, IN + ((len >>> 3) + PAD_WORDS + 1) * 8);
      if (decode(len, n) !== n) return -1;
      ts.set(viewsT[n] ??= outT.subarray(0, n), off);
      bits.set(viewsV[n] ??= outV.subarray(0, 2 * n), 2 * off);
      return n;
    },
  };
}

/** The WebAssembly decoder, or null where it cannot run. */
export const xorWasm: XorWasm | null = load();
