// Label strings decoded from protobuf bytes, interned in a direct-mapped table keyed by the bytes.
//
// Why: a Series stream repeats the same few label names and values thousands of times. Building a new
// JS string for each (char by char, or a TextDecoder call) was the largest single cost of decoding in
// CPU profiles of the querier (~28%) and the sidecar (~8%); it also left every label a distinct string,
// so label comparisons in the merge could never take the identical-string shortcut. A hit costs a hash
// and a byte compare over the (short) input and allocates nothing.
//
// Direct-mapped: a colliding string simply replaces the slot's previous one (no chains, bounded
// memory: at most `size` entries of at most MAX_LEN bytes each).

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Longer strings are decoded without caching (rare in labels, and costly to hash and compare). */
const MAX_LEN = 64;

/** UTF-8 bytes b[s,e) as a string; short ASCII without TextDecoder's per-call cost. */
export function decodeString(b: Uint8Array, s: number, e: number): string {
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

export class StringInterner {
  private readonly keys: (Uint8Array | undefined)[];
  private readonly vals: string[];
  private readonly shift: number;

  /** `bits`: log2 of the slot count (default 2^15 = 32768 slots, enough for 10k unique values plus names). */
  constructor(bits = 15) {
    if (!(bits >= 4 && bits <= 20)) throw new RangeError(`StringInterner: bits ${bits} outside 4..20`);
    this.keys = new Array(1 << bits).fill(undefined);
    this.vals = new Array(1 << bits).fill("");
    this.shift = 32 - bits;
  }

  /** The UTF-8 string in b[s, e). Invalid UTF-8 throws (TextDecoder fatal), as the uncached path does. */
  get(b: Uint8Array, s: number, e: number): string {
    const n = e - s;
    if (n === 0) return "";
    if (n > MAX_LEN) return utf8.decode(b.subarray(s, e));
    // FNV-1a over the bytes; the top bits pick the slot.
    let h = 0x811c9dc5 ^ n;
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    const slot = Math.imul(h, 0x9e3779b1) >>> this.shift;
    const k = this.keys[slot];
    if (k !== undefined && k.length === n) {
      let i = 0;
      while (i < n && k[i] === b[s + i]) i++;
      if (i === n) return this.vals[slot]!;
    }
    const v = decodeString(b, s, e);
    this.keys[slot] = b.slice(s, e);
    this.vals[slot] = v;
    return v;
  }
}
