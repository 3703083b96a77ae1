// XXH64 (seed 0) in WebAssembly, assembled from its opcodes at load time (shared/encoding/wasm.ts).
//
// Why: the store gateway sends every chunk with its xxhash64 (Thanos' querier drops identical chunks of
// a series by it), and the JavaScript XXH64 (xxhash64.ts), which has to emulate 64-bit multiplies with
// 16-bit limbs, was a fifth of a broad Series call's CPU in profiles. WebAssembly has i64.mul and
// i64.rotl. The answer is the JavaScript function's (checked against it and Go's cespare/xxhash by
// test/unit/encoding/xxhash64.test.ts); where WebAssembly cannot be compiled (workerd) or on a
// big-endian host, xxhash64Into does the work.
//
// Memory (4 pages): the 64-bit result at 0, the input from IN.

import {
  BLOCK, BR, BR_IF, CONST, CONST64, ELSE, END, GET, I32, I32_ADD, I32_GE_U, I32_GT_U, I32_LE_U, I32_SUB, I64, I64_ADD,
  I64_EXTEND_I32_U, I64_LOAD, I64_LOAD32U, I64_LOAD8U, I64_MUL, I64_ROTL, I64_SHR_U, I64_STORE, I64_XOR, IF, instantiate,
  LOOP, moduleOf, SET, VOID,
} from "./wasm.ts";
import { xxhash64Into } from "./xxhash64.ts";

const P1 = 11400714785074694791n, P2 = 14029467366897019727n, P3 = 1609587929392839161n;
const P4 = 9650029242287828579n, P5 = 2870177450012600261n;
const IN = 8;
const PAGES = 4;
/** Largest input hashed here; longer ones go to the JavaScript function. */
export const XXH_WASM_MAX = PAGES * 65536 - IN;

function xxhModule(): Uint8Array {
  const LEN = 0, P = 1, END32 = 2, V1 = 3, V2 = 4, V3 = 5, V4 = 6, H = 7;
  const c = (v: bigint) => CONST64(v);
  /** round(acc, input at p + off): rotl(acc + input * P2, 31) * P1, into acc. */
  const round = (acc: number, off: number) => [...GET(acc), ...GET(P), ...I64_LOAD(IN + off), ...c(P2), I64_MUL, I64_ADD, ...c(31n), I64_ROTL, ...c(P1), I64_MUL, ...SET(acc)];
  /** h = (h ^ round(0, v)) * P1 + P4 */
  const merge = (v: number) => [...GET(H), ...GET(v), ...c(P2), I64_MUL, ...c(31n), I64_ROTL, ...c(P1), I64_MUL, I64_XOR, ...c(P1), I64_MUL, ...c(P4), I64_ADD, ...SET(H)];
  const body = [
    ...GET(LEN), ...CONST(32), I32_GE_U, IF, VOID,
    ...c(P1 + P2), ...SET(V1), ...c(P2), ...SET(V2), ...c(0n), ...SET(V3), ...c(-P1), ...SET(V4),
    ...GET(LEN), ...CONST(32), I32_SUB, ...SET(END32),
    LOOP, VOID,
    ...round(V1, 0), ...round(V2, 8), ...round(V3, 16), ...round(V4, 24),
    ...GET(P), ...CONST(32), I32_ADD, ...SET(P),
    ...GET(P), ...GET(END32), I32_LE_U, BR_IF, 0,
    END,
    ...GET(V1), ...c(1n), I64_ROTL, ...GET(V2), ...c(7n), I64_ROTL, I64_ADD, ...GET(V3), ...c(12n), I64_ROTL, I64_ADD, ...GET(V4), ...c(18n), I64_ROTL, I64_ADD, ...SET(H),
    ...merge(V1), ...merge(V2), ...merge(V3), ...merge(V4),
    ELSE,
    ...c(P5), ...SET(H),
    END,
    ...GET(H), ...GET(LEN), I64_EXTEND_I32_U, I64_ADD, ...SET(H),
    // 8-byte lanes: h = rotl(h ^ round(0, k), 27) * P1 + P4
    BLOCK, VOID, LOOP, VOID,
    ...GET(P), ...CONST(8), I32_ADD, ...GET(LEN), I32_GT_U, BR_IF, 1,
    ...GET(H), ...GET(P), ...I64_LOAD(IN), ...c(P2), I64_MUL, ...c(31n), I64_ROTL, ...c(P1), I64_MUL, I64_XOR,
    ...c(27n), I64_ROTL, ...c(P1), I64_MUL, ...c(P4), I64_ADD, ...SET(H),
    ...GET(P), ...CONST(8), I32_ADD, ...SET(P),
    BR, 0,
    END, END,
    // A 4-byte lane: h = rotl(h ^ k * P1, 23) * P2 + P3
    ...GET(P), ...CONST(4), I32_ADD, ...GET(LEN), I32_LE_U, IF, VOID,
    ...GET(H), ...GET(P), ...I64_LOAD32U(IN), ...c(P1), I64_MUL, I64_XOR, ...c(23n), I64_ROTL, ...c(P2), I64_MUL, ...c(P3), I64_ADD, ...SET(H),
    ...GET(P), ...CONST(4), I32_ADD, ...SET(P),
    END,
    // Bytes: h = rotl(h ^ b * P5, 11) * P1
    BLOCK, VOID, LOOP, VOID,
    ...GET(P), ...GET(LEN), I32_GE_U, BR_IF, 1,
    ...GET(H), ...GET(P), ...I64_LOAD8U(IN), ...c(P5), I64_MUL, I64_XOR, ...c(11n), I64_ROTL, ...c(P1), I64_MUL, ...SET(H),
    ...GET(P), ...CONST(1), I32_ADD, ...SET(P),
    BR, 0,
    END, END,
    // Avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32
    ...GET(H), ...GET(H), ...c(33n), I64_SHR_U, I64_XOR, ...c(P2), I64_MUL, ...SET(H),
    ...GET(H), ...GET(H), ...c(29n), I64_SHR_U, I64_XOR, ...c(P3), I64_MUL, ...SET(H),
    ...CONST(0), ...GET(H), ...GET(H), ...c(32n), I64_SHR_U, I64_XOR, ...I64_STORE(0),
    ...CONST(0),
    END,
  ];
  return moduleOf("hash", 1, [[2, I32], [5, I64]], body, PAGES);
}

function load(): ((b: Uint8Array, out: Uint32Array) => void) | null {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) return null; // the result is read as host-order words
  const ex = instantiate(xxhModule());
  if (ex === null) return null;
  const hash = ex.hash as (len: number) => number;
  const buf = (ex.mem as { buffer: ArrayBuffer }).buffer;
  const heap = new Uint8Array(buf);
  const res = new Uint32Array(buf, 0, 2);
  return (b, out) => {
    if (b.length > XXH_WASM_MAX) { xxhash64Into(b, out); return; }
    heap.set(b, IN);
    hash(b.length);
    out[0] = res[1]!;
    out[1] = res[0]!;
  };
}

const wasm = load();

/**
 * XXH64 with seed 0 of all of b into out[0] = high 32 bits, out[1] = low 32 bits (xxhash64Into's
 * form), in WebAssembly where it runs.
 */
export const xxhash64Fast: (b: Uint8Array, out: Uint32Array) => void = wasm ?? ((b, out) => xxhash64Into(b, out));

/** Whether xxhash64Fast runs in WebAssembly here. */
export const xxhash64Wasm = wasm !== null;
