// XXH64 (Yann Collet's xxHash, 64-bit variant), seed 0 unless given.
// Used for Prometheus labels.Hash (cespare/xxhash Sum64) and Thanos Chunk.hash.
//
// No BigInt in the loop: every 64-bit quantity is a (hi, lo) pair of uint32 held in locals, and the
// result of each 64-bit op lands in the module-level RH/RL pair (no allocation per lane). BigInt
// arithmetic is 10-50x slower and allocates; `<<` on numbers only works below bit 31.

// Primes as (hi, lo).
const P1H = 0x9e3779b1, P1L = 0x85ebca87;
const P2H = 0xc2b2ae3d, P2L = 0x27d4eb4f;
const P3H = 0x165667b1, P3L = 0x9e3779f9;
const P4H = 0x85ebca77, P4L = 0xc2b2ae63;
const P5H = 0x27d4eb2f, P5L = 0x165667c5;

let RH = 0, RL = 0; // result register of the helpers below

/** (ah,al) * (bh,bl) mod 2^64. The low 32x32 product needs all 64 bits, so it is split in 16-bit limbs. */
function mul(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const mid = a0 * b1 + a1 * b0; // < 2^33, exact in a double
  const low = a0 * b0 + (mid % 0x10000) * 0x10000; // < 2^33
  RL = low >>> 0;
  RH = (a1 * b1 + Math.floor(mid / 0x10000) + Math.floor(low / 0x100000000) + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

function add(ah: number, al: number, bh: number, bl: number): void {
  const lo = al + bl;
  RL = lo >>> 0;
  RH = (ah + bh + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

function rotl(h: number, l: number, n: number): void {
  if (n === 32) { RH = l; RL = h; return; }
  if (n > 32) { const t = h; h = l; l = t; n -= 32; }
  RH = ((h << n) | (l >>> (32 - n))) >>> 0;
  RL = ((l << n) | (h >>> (32 - n))) >>> 0;
}

/** round(acc, lane) = rotl(acc + lane * P2, 31) * P1 */
function round(acch: number, accl: number, lh: number, ll: number): void {
  mul(lh, ll, P2H, P2L);
  add(acch, accl, RH, RL);
  rotl(RH, RL, 31);
  mul(RH, RL, P1H, P1L);
}

function u32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/**
 * XXH64 of b[start, end) into out[0] = high 32 bits, out[1] = low 32 bits. The allocation-free form
 * for hot paths; xxhash64() wraps it into a bigint.
 */
export function xxhash64Into(b: Uint8Array, out: Uint32Array, seed: number | bigint = 0, start = 0, end = b.length): void {
  let sh: number, sl: number;
  if (typeof seed === "bigint") {
    const s = BigInt.asUintN(64, seed);
    sh = Number(s >> 32n); sl = Number(s & 0xffffffffn);
  } else {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`xxhash64: seed ${seed} is not a non-negative safe integer`);
    sh = Math.floor(seed / 0x100000000) >>> 0; sl = seed >>> 0;
  }
  const len = end - start;
  let i = start;
  let hh: number, hl: number;
  if (len >= 32) {
    add(sh, sl, P1H, P1L); add(RH, RL, P2H, P2L);
    let v1h = RH, v1l = RL;
    add(sh, sl, P2H, P2L);
    let v2h = RH, v2l = RL;
    let v3h = sh, v3l = sl;
    // seed - P1 = seed + (2^64 - P1); P1's low word is non-zero, so no borrow into ~P1H + 1
    add(sh, sl, ~P1H >>> 0, -P1L >>> 0);
    let v4h = RH, v4l = RL;
    const limit = end - 32;
    while (i <= limit) {
      round(v1h, v1l, u32(b, i + 4), u32(b, i)); v1h = RH; v1l = RL;
      round(v2h, v2l, u32(b, i + 12), u32(b, i + 8)); v2h = RH; v2l = RL;
      round(v3h, v3l, u32(b, i + 20), u32(b, i + 16)); v3h = RH; v3l = RL;
      round(v4h, v4l, u32(b, i + 28), u32(b, i + 24)); v4h = RH; v4l = RL;
      i += 32;
    }
    rotl(v1h, v1l, 1); hh = RH; hl = RL;
    rotl(v2h, v2l, 7); add(hh, hl, RH, RL); hh = RH; hl = RL;
    rotl(v3h, v3l, 12); add(hh, hl, RH, RL); hh = RH; hl = RL;
    rotl(v4h, v4l, 18); add(hh, hl, RH, RL); hh = RH; hl = RL;
    // mergeRound(h, v) = (h ^ round(0, v)) * P1 + P4
    const vs = [v1h, v1l, v2h, v2l, v3h, v3l, v4h, v4l];
    for (let k = 0; k < 8; k += 2) {
      round(0, 0, vs[k]!, vs[k + 1]!);
      mul((hh ^ RH) >>> 0, (hl ^ RL) >>> 0, P1H, P1L);
      add(RH, RL, P4H, P4L); hh = RH; hl = RL;
    }
  } else {
    add(sh, sl, P5H, P5L); hh = RH; hl = RL;
  }
  // h += len (len < 2^53; its high word is floor(len / 2^32))
  add(hh, hl, Math.floor(len / 0x100000000) >>> 0, len >>> 0); hh = RH; hl = RL;
  while (i + 8 <= end) {
    round(0, 0, u32(b, i + 4), u32(b, i));
    rotl((hh ^ RH) >>> 0, (hl ^ RL) >>> 0, 27);
    mul(RH, RL, P1H, P1L);
    add(RH, RL, P4H, P4L); hh = RH; hl = RL;
    i += 8;
  }
  if (i + 4 <= end) {
    mul(0, u32(b, i), P1H, P1L);
    rotl((hh ^ RH) >>> 0, (hl ^ RL) >>> 0, 23);
    mul(RH, RL, P2H, P2L);
    add(RH, RL, P3H, P3L); hh = RH; hl = RL;
    i += 4;
  }
  while (i < end) {
    mul(0, b[i]!, P5H, P5L);
    rotl((hh ^ RH) >>> 0, (hl ^ RL) >>> 0, 11);
    mul(RH, RL, P1H, P1L); hh = RH; hl = RL;
    i++;
  }
  // avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32
  hl = (hl ^ (hh >>> 1)) >>> 0;
  mul(hh, hl, P2H, P2L); hh = RH; hl = RL;
  hl = (hl ^ ((hl >>> 29) | (hh << 3))) >>> 0; hh = (hh ^ (hh >>> 29)) >>> 0;
  mul(hh, hl, P3H, P3L); hh = RH; hl = RL;
  hl = (hl ^ hh) >>> 0;
  out[0] = hh; out[1] = hl;
}

const scratch = new Uint32Array(2);

/** XXH64 of b (or b[start, end)) as an unsigned 64-bit bigint. */
export function xxhash64(b: Uint8Array, seed: number | bigint = 0, start = 0, end = b.length): bigint {
  xxhash64Into(b, scratch, seed, start, end);
  return (BigInt(scratch[0]!) << 32n) | BigInt(scratch[1]!);
}
