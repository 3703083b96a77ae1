// A few helpers to assemble small WebAssembly modules from their opcodes at load time (WebAssembly core
// spec, binary format): no toolchain, no binary blobs in the repository. Used by the CRC-32C
// (shared/encoding/crc32c.ts) and XOR chunk (shared/chunkenc/xorwasm.ts) fast paths.

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

/** Signed LEB128 of a 64-bit value (i64.const immediates). */
export function sleb64(v: bigint): number[] {
  const out: number[] = [];
  let n = BigInt.asIntN(64, v);
  for (;;) {
    const b = Number(n & 0x7fn);
    n >>= 7n;
    if ((n === 0n && !(b & 0x40)) || (n === -1n && b & 0x40)) return [...out, b];
    out.push(b | 0x80);
  }
}

export const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
export const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
export const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// Types and control.
export const I32 = 0x7f, I64 = 0x7e, FUNC = 0x60, VOID = 0x40;
export const BLOCK = 0x02, LOOP = 0x03, IF = 0x04, ELSE = 0x05, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, RETURN = 0x0f;
// Locals and constants.
export const GET = (i: number) => [0x20, ...uleb(i)], SET = (i: number) => [0x21, ...uleb(i)], TEE = (i: number) => [0x22, ...uleb(i)];
export const CONST = (v: number) => [0x41, ...sleb(v)];
export const CONST64 = (v: bigint | number) => [0x42, ...sleb64(BigInt(v))];
// Memory (offset immediate; alignment hints: natural).
export const I32_LOAD = (offset: number) => [0x28, 2, ...uleb(offset)];
export const I64_LOAD = (offset: number) => [0x29, 3, ...uleb(offset)];
export const I32_LOAD8U = (offset: number) => [0x2d, 0, ...uleb(offset)];
export const I64_LOAD8U = (offset: number) => [0x31, 0, ...uleb(offset)];
export const I64_LOAD32U = (offset: number) => [0x35, 2, ...uleb(offset)];
export const I64_STORE = (offset: number) => [0x37, 3, ...uleb(offset)];
export const F64_STORE = (offset: number) => [0x39, 3, ...uleb(offset)];
// i32 and i64 arithmetic and comparisons; conversions.
export const I32_EQ = 0x46, I32_GT_U = 0x4b, I32_LE_U = 0x4d, I32_GE_U = 0x4f;
export const I32_ADD = 0x6a, I32_SUB = 0x6b, I32_AND = 0x71, I32_XOR = 0x73, I32_SHL = 0x74, I32_SHR_U = 0x76;
export const I64_EQZ = 0x50, I64_LT_S = 0x53, I64_GT_S = 0x55, I64_GT_U = 0x56, I64_GE_S = 0x59;
export const I64_ADD = 0x7c, I64_SUB = 0x7d, I64_MUL = 0x7e, I64_AND = 0x83, I64_OR = 0x84, I64_XOR = 0x85, I64_SHL = 0x86, I64_SHR_U = 0x88, I64_ROTL = 0x89;
export const I32_WRAP_I64 = 0xa7, I64_EXTEND_I32_U = 0xad, F64_CONVERT_I64_S = 0xb9;

/**
 * One module: a single function of `params` (all i32) returning one i32, with `locals` ([count, type]
 * groups), exported as `fn`, and its memory (`pages` of 64 KiB) exported as `mem`.
 */
export function moduleOf(fn: string, params: number, locals: [number, number][], body: number[], pages: number): Uint8Array {
  const code = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...body];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vec([[FUNC, ...vec(Array.from({ length: params }, () => [I32])), ...vec([[I32]])]])),
    ...section(3, vec([[0]])), // function 0 has type 0
    ...section(5, vec([[0, ...uleb(pages)]])), // memory: min `pages`, no max
    ...section(7, vec([[...name(fn), 0, 0], [...name("mem"), 2, 0]])), // exports
    ...section(10, vec([[...uleb(code.length), ...code]])),
  ]);
}

interface WasmGlobal {
  WebAssembly?: {
    Module: new (bytes: Uint8Array) => object;
    Instance: new (m: object, imports: object) => { exports: Record<string, unknown> };
  };
}

/** The module's exports, or null where WebAssembly cannot be compiled from bytes (workerd forbids it). */
export function instantiate(bytes: Uint8Array): Record<string, unknown> | null {
  const wa = (globalThis as WasmGlobal).WebAssembly;
  if (!wa) return null;
  try {
    return new wa.Instance(new wa.Module(bytes), {}).exports;
  } catch {
    return null; // e.g. workerd: "Wasm code generation disallowed by embedder"
  }
}
