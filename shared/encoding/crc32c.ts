// CRC-32C (Castagnoli), as used by the Prometheus TSDB index, chunk segments and the remote-read
// chunked stream. Slicing-by-8 tables built once at module load.

const POLY = 0x82f63b78; // reversed Castagnoli polynomial
const T = new Uint32Array(256 * 8);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[i] = c >>> 0;
}
for (let i = 0; i < 256; i++) {
  for (let s = 1; s < 8; s++) {
    const prev = T[(s - 1) * 256 + i]!;
    T[s * 256 + i] = (prev >>> 8) ^ T[prev & 0xff]!;
  }
}

/** Continue a CRC over b[start,end); pass the previous result as `crc` (0 to begin). */
export function crc32c(b: Uint8Array, start = 0, end = b.length, crc = 0): number {
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
