// A deliberately naive, independent model of Prometheus' Go XOR writer, used as the oracle for byte
// layout in unit tests: Go's bstream (a byte slice plus `count` free bits in the last byte, writeByte
// appending a fresh byte) and xorAppender.Append, transcribed operation by operation with BigInt and
// no shortcuts. It shares no code with shared/chunkenc/xor.ts. The real Prometheus 2.42 check lives in
// test/integration/chunkenc-prometheus.test.ts.

const M64 = (1n << 64n) - 1n;

class GoBstream {
  stream: number[] = [0, 0]; // 2-byte sample-count header, as NewXORChunk makes it
  count = 0;

  writeBit(bit: boolean): void {
    if (this.count === 0) { this.stream.push(0); this.count = 8; }
    const i = this.stream.length - 1;
    if (bit) this.stream[i]! |= 1 << (this.count - 1);
    this.count--;
  }

  writeByte(byt: number): void {
    if (this.count === 0) { this.stream.push(0); this.count = 8; }
    const i = this.stream.length - 1;
    this.stream[i]! |= (byt >> (8 - this.count)) & 0xff;
    this.stream.push((byt << this.count) & 0xff);
  }

  writeBits(u: bigint, nbits: number): void {
    u = (u << BigInt(64 - nbits)) & M64;
    while (nbits >= 8) {
      this.writeByte(Number(u >> 56n));
      u = (u << 8n) & M64;
      nbits -= 8;
    }
    while (nbits > 0) {
      this.writeBit(u >> 63n === 1n);
      u = (u << 1n) & M64;
      nbits--;
    }
  }
}

function putUvarint(x: bigint): number[] {
  const out: number[] = [];
  while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
  out.push(Number(x));
  return out;
}

const putVarint = (x: bigint): number[] => putUvarint(x < 0n ? ((-x) << 1n) - 1n : x << 1n);

function clz64(x: bigint): number { let n = 0; for (let b = 63n; b >= 0n && ((x >> b) & 1n) === 0n; b--) n++; return n; }
function ctz64(x: bigint): number { let n = 0; for (let b = 0n; b < 64n && ((x >> b) & 1n) === 0n; b++) n++; return n; }
const bitRange = (x: bigint, nbits: number): boolean => -((1n << BigInt(nbits - 1)) - 1n) <= x && x <= 1n << BigInt(nbits - 1);
const u64 = (x: bigint): bigint => x & M64;

/**
 * Values are given as raw 64-bit patterns (bigint) so NaN payloads are exact. `reopenAt`: sample
 * indices before which the writer is re-created with XORChunk.Appender(), which takes t, v, tDelta and
 * the leading/trailing window from an iterator run to the end (the iterator's window starts at 0/0 and
 * changes only on a '11' control), and sets leading to 0xff only for an empty chunk.
 */
export function goXorChunk(samples: { t: number; bits: bigint }[], reopenAt: number[] = []): Uint8Array {
  let itLeading = 0, itTrailing = 0; // what xorIterator would hold after reading everything so far
  const b = new GoBstream();
  let t = 0n, v = 0n, tDelta = 0n, leading = 0xff, trailing = 0;
  const writeVDelta = (val: bigint): void => {
    const d = val ^ v;
    if (d === 0n) { b.writeBit(false); return; }
    b.writeBit(true);
    let l = clz64(d);
    const tr = ctz64(d);
    if (l >= 32) l = 31;
    if (leading !== 0xff && l >= leading && tr >= trailing) {
      b.writeBit(false);
      b.writeBits(d >> BigInt(trailing), 64 - leading - trailing);
    } else {
      leading = l; trailing = tr;
      itLeading = l; itTrailing = tr;
      b.writeBit(true);
      b.writeBits(BigInt(l), 5);
      const sig = 64 - l - tr;
      b.writeBits(BigInt(sig), 6); // 64 is written as 0: writeBits keeps the low 6 bits
      b.writeBits(d >> BigInt(tr), sig);
    }
  };
  samples.forEach((s, num) => {
    if (reopenAt.includes(num)) {
      leading = itLeading; trailing = itTrailing;
      if (num === 0) leading = 0xff;
    }
    const st = BigInt(s.t);
    let td = 0n;
    if (num === 0) {
      for (const x of putVarint(st)) b.writeByte(x);
      b.writeBits(s.bits, 64);
    } else if (num === 1) {
      td = u64(st - t);
      for (const x of putUvarint(td)) b.writeByte(x);
      writeVDelta(s.bits);
    } else {
      td = u64(st - t);
      let dod = u64(td - tDelta);
      if (dod >= 1n << 63n) dod -= 1n << 64n; // int64(...)
      if (dod === 0n) b.writeBit(false);
      else if (bitRange(dod, 14)) { b.writeBits(0b10n, 2); b.writeBits(u64(dod), 14); }
      else if (bitRange(dod, 17)) { b.writeBits(0b110n, 3); b.writeBits(u64(dod), 17); }
      else if (bitRange(dod, 20)) { b.writeBits(0b1110n, 4); b.writeBits(u64(dod), 20); }
      else { b.writeBits(0b1111n, 4); b.writeBits(u64(dod), 64); }
      writeVDelta(s.bits);
    }
    t = st; v = s.bits; tDelta = td;
    const n = num + 1;
    b.stream[0] = n >> 8; b.stream[1] = n & 0xff;
  });
  // writeBits(u, n) with n < 64 keeps only n bits: the BigInt model masks to 64 bits after the shift,
  // which drops the high bits exactly as Go's uint64 shift does.
  return Uint8Array.from(b.stream);
}

/** float64 bits of a JS number as a bigint. */
export function bitsOf(v: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  return dv.getBigUint64(0);
}

export const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
