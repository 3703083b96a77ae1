// XXH64 (Yann Collet's xxHash, 64-bit variant), seed 0 unless given.
// Used for Prometheus labels.Hash (cespare/xxhash Sum64) and Thanos Chunk.hash.
//
// No BigInt: every 64-bit quantity is a (hi, lo) pair of 32-bit words in local variables, and every
// 64-bit op is written out inline (helper calls sharing module-level result registers ran 3-7x
// slower, worst on JSC). Words are kept as int32 (`| 0`), which both engines hold in registers;
// uint32 (`>>> 0`) values above 2^31 become doubles and cost another 1.5x. Multiplying by a prime:
// the low 32x32 product needs all 64 bits, so the low words are split into 16-bit limbs (each
// partial product < 2^32, exact in a double); the cross terms only contribute their low 32 bits,
// which Math.imul gives. `x & 0xffff` and `x | 0` stay exact on integers up to 2^53 because ToInt32
// reduces modulo 2^32. Carries compare the unsigned views of the low words.

// Primes as hi word, lo word, and the lo word's 16-bit halves.
const P1H = 0x9e3779b1 | 0, P1L = 0x85ebca87 | 0, P1L0 = 0xca87, P1L1 = 0x85eb;
const P2H = 0xc2b2ae3d | 0, P2L = 0x27d4eb4f | 0, P2L0 = 0xeb4f, P2L1 = 0x27d4;
const P3H = 0x165667b1 | 0, P3L = 0x9e3779f9 | 0, P3L0 = 0x79f9, P3L1 = 0x9e37;
const P4H = 0x85ebca77 | 0, P4L = 0xc2b2ae63 | 0;
const P5H = 0x27d4eb2f | 0, P5L = 0x165667c5 | 0, P5L0 = 0x67c5, P5L1 = 0x1656;

function le32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/**
 * XXH64 of b[start, end) into out[0] = high 32 bits, out[1] = low 32 bits: the allocation-free form
 * for hot paths. xxhash64() wraps it into a bigint.
 */
export function xxhash64Into(b: Uint8Array, out: Uint32Array, seed: number | bigint = 0, start = 0, end = b.length): void {
  let sh: number, sl: number;
  if (typeof seed === "bigint") {
    const s = BigInt.asUintN(64, seed);
    sh = Number(s >> 32n);
    sl = Number(s & 0xffffffffn);
  } else {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`xxhash64: seed ${seed} is not a non-negative safe integer`);
    sh = Math.floor(seed / 4294967296) >>> 0;
    sl = seed >>> 0;
  }
  if (start < 0 || end > b.length || start > end) throw new RangeError(`xxhash64: range [${start}, ${end}) outside a buffer of ${b.length} bytes`);
  const len = end - start;
  let i = start;

  let a0 = 0, a1 = 0, m1 = 0, m2 = 0, rl = 0, t = 0, th = 0, tl = 0;
  let hh: number, hl: number;
  if (len >= 32) {
    let v1h = sh, v1l = sl;
    rl = (v1l >>> 0) + (P1L >>> 0); v1h = (v1h + P1H + (rl > 0xffffffff ? 1 : 0)) | 0; v1l = rl | 0;
    rl = (v1l >>> 0) + (P2L >>> 0); v1h = (v1h + P2H + (rl > 0xffffffff ? 1 : 0)) | 0; v1l = rl | 0;
    let v2h = sh, v2l = sl;
    rl = (v2l >>> 0) + (P2L >>> 0); v2h = (v2h + P2H + (rl > 0xffffffff ? 1 : 0)) | 0; v2l = rl | 0;
    let v3h = sh, v3l = sl;
    // seed - P1 = seed + (2^64 - P1); P1's low word is non-zero, so 2^64 - P1 = (~P1H, -P1L).
    let v4h = sh, v4l = sl;
    rl = (v4l >>> 0) + (-P1L >>> 0); v4h = (v4h + ~P1H + (rl > 0xffffffff ? 1 : 0)) | 0; v4l = rl | 0;
    const limit = end - 32;
    while (i <= limit) {
      let lh = le32(b, i + 4), ll = le32(b, i);
      a0 = ll & 0xffff; a1 = ll >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
      rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
      th = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(lh, P2L) + Math.imul(ll, P2H)) | 0;
      tl = rl | 0;
      rl = (v1l >>> 0) + (tl >>> 0); v1h = (v1h + th + (rl > 0xffffffff ? 1 : 0)) | 0; v1l = rl | 0;
      t = v1h; v1h = (v1h << 31) | (v1l >>> 1); v1l = (v1l << 31) | (t >>> 1);
      a0 = v1l & 0xffff; a1 = v1l >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
      rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
      v1h = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(v1h, P1L) + Math.imul(v1l, P1H)) | 0;
      v1l = rl | 0;
      lh = le32(b, i + 12); ll = le32(b, i + 8);
      a0 = ll & 0xffff; a1 = ll >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
      rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
      th = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(lh, P2L) + Math.imul(ll, P2H)) | 0;
      tl = rl | 0;
      rl = (v2l >>> 0) + (tl >>> 0); v2h = (v2h + th + (rl > 0xffffffff ? 1 : 0)) | 0; v2l = rl | 0;
      t = v2h; v2h = (v2h << 31) | (v2l >>> 1); v2l = (v2l << 31) | (t >>> 1);
      a0 = v2l & 0xffff; a1 = v2l >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
      rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
      v2h = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(v2h, P1L) + Math.imul(v2l, P1H)) | 0;
      v2l = rl | 0;
      lh = le32(b, i + 20); ll = le32(b, i + 16);
      a0 = ll & 0xffff; a1 = ll >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
      rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
      th = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(lh, P2L) + Math.imul(ll, P2H)) | 0;
      tl = rl | 0;
      rl = (v3l >>> 0) + (tl >>> 0); v3h = (v3h + th + (rl > 0xffffffff ? 1 : 0)) | 0; v3l = rl | 0;
      t = v3h; v3h = (v3h << 31) | (v3l >>> 1); v3l = (v3l << 31) | (t >>> 1);
      a0 = v3l & 0xffff; a1 = v3l >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
      rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
      v3h = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(v3h, P1L) + Math.imul(v3l, P1H)) | 0;
      v3l = rl | 0;
      lh = le32(b, i + 28); ll = le32(b, i + 24);
      a0 = ll & 0xffff; a1 = ll >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
      rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
      th = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(lh, P2L) + Math.imul(ll, P2H)) | 0;
      tl = rl | 0;
      rl = (v4l >>> 0) + (tl >>> 0); v4h = (v4h + th + (rl > 0xffffffff ? 1 : 0)) | 0; v4l = rl | 0;
      t = v4h; v4h = (v4h << 31) | (v4l >>> 1); v4l = (v4l << 31) | (t >>> 1);
      a0 = v4l & 0xffff; a1 = v4l >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
      rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
      v4h = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(v4h, P1L) + Math.imul(v4l, P1H)) | 0;
      v4l = rl | 0;
      i += 32;
    }
    // h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)
    hh = v1h; hl = v1l;
    t = hh; hh = (hh << 1) | (hl >>> 31); hl = (hl << 1) | (t >>> 31);
    th = v2h; tl = v2l;
    t = th; th = (th << 7) | (tl >>> 25); tl = (tl << 7) | (t >>> 25);
    rl = (hl >>> 0) + (tl >>> 0); hh = (hh + th + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
    th = v3h; tl = v3l;
    t = th; th = (th << 12) | (tl >>> 20); tl = (tl << 12) | (t >>> 20);
    rl = (hl >>> 0) + (tl >>> 0); hh = (hh + th + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
    th = v4h; tl = v4l;
    t = th; th = (th << 18) | (tl >>> 14); tl = (tl << 18) | (t >>> 14);
    rl = (hl >>> 0) + (tl >>> 0); hh = (hh + th + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
    a0 = v1l & 0xffff; a1 = v1l >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
    rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(v1h, P2L) + Math.imul(v1l, P2H)) | 0;
    tl = rl | 0;
    t = th; th = (th << 31) | (tl >>> 1); tl = (tl << 31) | (t >>> 1);
    a0 = tl & 0xffff; a1 = tl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(th, P1L) + Math.imul(tl, P1H)) | 0;
    tl = rl | 0;
    hh ^= th; hl ^= tl;
    a0 = hl & 0xffff; a1 = hl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    hh = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(hh, P1L) + Math.imul(hl, P1H)) | 0;
    hl = rl | 0;
    rl = (hl >>> 0) + (P4L >>> 0); hh = (hh + P4H + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
    a0 = v2l & 0xffff; a1 = v2l >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
    rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(v2h, P2L) + Math.imul(v2l, P2H)) | 0;
    tl = rl | 0;
    t = th; th = (th << 31) | (tl >>> 1); tl = (tl << 31) | (t >>> 1);
    a0 = tl & 0xffff; a1 = tl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(th, P1L) + Math.imul(tl, P1H)) | 0;
    tl = rl | 0;
    hh ^= th; hl ^= tl;
    a0 = hl & 0xffff; a1 = hl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    hh = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(hh, P1L) + Math.imul(hl, P1H)) | 0;
    hl = rl | 0;
    rl = (hl >>> 0) + (P4L >>> 0); hh = (hh + P4H + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
    a0 = v3l & 0xffff; a1 = v3l >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
    rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(v3h, P2L) + Math.imul(v3l, P2H)) | 0;
    tl = rl | 0;
    t = th; th = (th << 31) | (tl >>> 1); tl = (tl << 31) | (t >>> 1);
    a0 = tl & 0xffff; a1 = tl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(th, P1L) + Math.imul(tl, P1H)) | 0;
    tl = rl | 0;
    hh ^= th; hl ^= tl;
    a0 = hl & 0xffff; a1 = hl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    hh = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(hh, P1L) + Math.imul(hl, P1H)) | 0;
    hl = rl | 0;
    rl = (hl >>> 0) + (P4L >>> 0); hh = (hh + P4H + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
    a0 = v4l & 0xffff; a1 = v4l >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
    rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(v4h, P2L) + Math.imul(v4l, P2H)) | 0;
    tl = rl | 0;
    t = th; th = (th << 31) | (tl >>> 1); tl = (tl << 31) | (t >>> 1);
    a0 = tl & 0xffff; a1 = tl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(th, P1L) + Math.imul(tl, P1H)) | 0;
    tl = rl | 0;
    hh ^= th; hl ^= tl;
    a0 = hl & 0xffff; a1 = hl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    hh = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(hh, P1L) + Math.imul(hl, P1H)) | 0;
    hl = rl | 0;
    rl = (hl >>> 0) + (P4L >>> 0); hh = (hh + P4H + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
  } else {
    hh = sh; hl = sl;
    rl = (hl >>> 0) + (P5L >>> 0); hh = (hh + P5H + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
  }
  // h += len
  rl = (hl >>> 0) + ((len | 0) >>> 0); hh = (hh + (Math.floor(len / 4294967296) | 0) + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
  while (i + 8 <= end) {
    // h = rotl(h ^ round(0, lane), 27) * P1 + P4
    const lh = le32(b, i + 4), ll = le32(b, i);
    a0 = ll & 0xffff; a1 = ll >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
    rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(lh, P2L) + Math.imul(ll, P2H)) | 0;
    tl = rl | 0;
    t = th; th = (th << 31) | (tl >>> 1); tl = (tl << 31) | (t >>> 1);
    a0 = tl & 0xffff; a1 = tl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(th, P1L) + Math.imul(tl, P1H)) | 0;
    tl = rl | 0;
    hh ^= th; hl ^= tl;
    t = hh; hh = (hh << 27) | (hl >>> 5); hl = (hl << 27) | (t >>> 5);
    a0 = hl & 0xffff; a1 = hl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    hh = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(hh, P1L) + Math.imul(hl, P1H)) | 0;
    hl = rl | 0;
    rl = (hl >>> 0) + (P4L >>> 0); hh = (hh + P4H + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
    i += 8;
  }
  if (i + 4 <= end) {
    // h = rotl(h ^ (u32 * P1), 23) * P2 + P3
    const w = le32(b, i);
    a0 = w & 0xffff; a1 = w >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(0, P1L) + Math.imul(w, P1H)) | 0;
    tl = rl | 0;
    hh ^= th; hl ^= tl;
    t = hh; hh = (hh << 23) | (hl >>> 9); hl = (hl << 23) | (t >>> 9);
    a0 = hl & 0xffff; a1 = hl >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
    rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    hh = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(hh, P2L) + Math.imul(hl, P2H)) | 0;
    hl = rl | 0;
    rl = (hl >>> 0) + (P3L >>> 0); hh = (hh + P3H + (rl > 0xffffffff ? 1 : 0)) | 0; hl = rl | 0;
    i += 4;
  }
  while (i < end) {
    // h = rotl(h ^ (byte * P5), 11) * P1
    const c = b[i]!;
    a0 = c & 0xffff; a1 = c >>> 16; m1 = a1 * P5L0; m2 = a0 * P5L1;
    rl = a0 * P5L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    th = (a1 * P5L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(0, P5L) + Math.imul(c, P5H)) | 0;
    tl = rl | 0;
    hh ^= th; hl ^= tl;
    t = hh; hh = (hh << 11) | (hl >>> 21); hl = (hl << 11) | (t >>> 21);
    a0 = hl & 0xffff; a1 = hl >>> 16; m1 = a1 * P1L0; m2 = a0 * P1L1;
    rl = a0 * P1L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
    hh = (a1 * P1L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(hh, P1L) + Math.imul(hl, P1H)) | 0;
    hl = rl | 0;
    i++;
  }
  // avalanche: h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32
  hl ^= hh >>> 1;
  a0 = hl & 0xffff; a1 = hl >>> 16; m1 = a1 * P2L0; m2 = a0 * P2L1;
  rl = a0 * P2L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
  hh = (a1 * P2L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(hh, P2L) + Math.imul(hl, P2H)) | 0;
  hl = rl | 0;
  hl ^= (hl >>> 29) | (hh << 3); hh ^= hh >>> 29;
  a0 = hl & 0xffff; a1 = hl >>> 16; m1 = a1 * P3L0; m2 = a0 * P3L1;
  rl = a0 * P3L0 + ((m1 & 0xffff) + (m2 & 0xffff)) * 65536;
  hh = (a1 * P3L1 + (m1 >>> 16) + (m2 >>> 16) + ((rl / 4294967296) | 0) + Math.imul(hh, P3L) + Math.imul(hl, P3H)) | 0;
  hl = rl | 0;
  hl ^= hh;
  out[0] = hh; out[1] = hl;
}

const scratch = new Uint32Array(2);

/** XXH64 of b (or b[start, end)) as an unsigned 64-bit bigint. */
export function xxhash64(b: Uint8Array, seed: number | bigint = 0, start = 0, end = b.length): bigint {
  xxhash64Into(b, scratch, seed, start, end);
  return (BigInt(scratch[0]!) << 32n) | BigInt(scratch[1]!);
}
