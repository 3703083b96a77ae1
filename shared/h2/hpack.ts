// HPACK (RFC 7541), what an HTTP/2 server of ours needs: a full decoder (static and dynamic tables,
// Huffman strings, table size updates) for the header blocks clients send, and a small encoder for the
// blocks we send (indexed from the static table where name and value match, literals without indexing
// otherwise, never Huffman). The encoder never adds to the client's dynamic table, so it keeps no state.
//
// Header names and values are read byte for byte (latin1): sizes count octets as the RFC does, and a
// value's bytes come back unchanged. gRPC metadata is ASCII; binary metadata ("-bin") is base64.

import { HUFFMAN_CODES, HUFFMAN_LENGTHS, STATIC_TABLE } from "./tables.ts";

export class HpackError extends Error {
  constructor(message: string) {
    super(`HPACK: ${message}`);
    this.name = "HpackError";
  }
}

// The Huffman decoding tree, flat: node i has children tree[2i] (bit 0) and tree[2i+1] (bit 1); a child
// >= 0 is a node, -1 - s is symbol s (256: EOS), and 0 under the root is "no such code".
const tree = (() => {
  const t = new Int32Array(2 * 512);
  let nodes = 1;
  for (let sym = 0; sym <= 256; sym++) {
    const code = sym === 256 ? 0x3fffffff : HUFFMAN_CODES[sym]!;
    const len = sym === 256 ? 30 : HUFFMAN_LENGTHS[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const slot = 2 * node + ((code >>> i) & 1);
      if (i === 0) { t[slot] = -1 - sym; break; }
      if (t[slot] === 0) t[slot] = nodes++;
      node = t[slot]!;
    }
  }
  return t;
})();

/** Decodes a Huffman-coded string (RFC 7541 §5.2) to latin1. */
export function huffmanDecode(b: Uint8Array, start: number, end: number): string {
  let out = "";
  let node = 0, depth = 0, ones = true; // bits since the last symbol: how many, and all 1s?
  for (let i = start; i < end; i++) {
    const byte = b[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const v = (byte >>> bit) & 1;
      const next = tree[2 * node + v]!;
      depth++;
      ones = ones && v === 1;
      if (next < 0) {
        const sym = -1 - next;
        if (sym === 256) throw new HpackError("EOS symbol inside a Huffman-coded string");
        out += String.fromCharCode(sym);
        node = 0; depth = 0; ones = true;
      } else if (next === 0) {
        throw new HpackError("invalid Huffman code");
      } else {
        node = next;
      }
    }
  }
  if (depth > 7 || !ones) throw new HpackError("invalid Huffman padding");
  return out;
}

export type HeaderField = [name: string, value: string];

const ENTRY_OVERHEAD = 32;

export class HpackDecoder {
  /** Dynamic table, newest first. */
  private table: HeaderField[] = [];
  private size = 0;
  /** Current maximum size (the encoder's choice, by table size updates, up to `limit`). */
  private max: number;
  private pos = 0;
  private buf: Uint8Array = new Uint8Array(0);

  /** `limit`: the SETTINGS_HEADER_TABLE_SIZE we advertise (RFC default 4096). */
  constructor(private readonly limit = 4096) {
    this.max = limit;
  }

  /**
   * Decodes one complete header block. Throws HpackError on anything malformed (a connection error:
   * the table state is then unknown) or when the decoded list exceeds `maxListSize` octets (RFC 9113
   * §6.5.2 sizing); in that case the block has still been read to its end, so the table stays in step.
   */
  decode(block: Uint8Array, maxListSize = Number.POSITIVE_INFINITY): HeaderField[] {
    this.buf = block;
    this.pos = 0;
    const out: HeaderField[] = [];
    let listSize = 0, tooLarge = false, fieldSeen = false;
    while (this.pos < block.length) {
      const b = block[this.pos]!;
      let field: HeaderField;
      if (b & 0x80) {
        field = this.entry(this.int(7));
      } else if ((b & 0xc0) === 0x40) {
        field = this.literal(6);
        this.add(field);
      } else if ((b & 0xe0) === 0x20) {
        if (fieldSeen) throw new HpackError("dynamic table size update after a header field");
        const n = this.int(5);
        if (n > this.limit) throw new HpackError(`dynamic table size update to ${n}, above the limit ${this.limit}`);
        this.max = n;
        this.evict(0);
        continue;
      } else {
        field = this.literal(4); // without indexing (0000) or never indexed (0001)
      }
      fieldSeen = true;
      listSize += field[0].length + field[1].length + ENTRY_OVERHEAD;
      if (listSize > maxListSize) tooLarge = true;
      if (!tooLarge) out.push(field);
    }
    this.buf = new Uint8Array(0);
    if (tooLarge) throw new HeaderListTooLarge(listSize, maxListSize);
    return out;
  }

  private int(prefix: number): number {
    const b = this.buf;
    if (this.pos >= b.length) throw new HpackError("truncated integer");
    const mask = (1 << prefix) - 1;
    let v = b[this.pos++]! & mask;
    if (v < mask) return v;
    let shift = 0;
    for (;;) {
      if (this.pos >= b.length) throw new HpackError("truncated integer");
      const c = b[this.pos++]!;
      v += (c & 0x7f) * 2 ** shift;
      shift += 7;
      if (v > 0x7fffffff) throw new HpackError("integer overflow");
      if ((c & 0x80) === 0) return v;
    }
  }

  private str(): string {
    const b = this.buf;
    if (this.pos >= b.length) throw new HpackError("truncated string");
    const huff = (b[this.pos]! & 0x80) !== 0;
    const len = this.int(7);
    const end = this.pos + len;
    if (end > b.length) throw new HpackError(`string of ${len} octets runs past the block's end`);
    let s: string;
    if (huff) s = huffmanDecode(b, this.pos, end);
    else s = latin1(b, this.pos, end);
    this.pos = end;
    return s;
  }

  private literal(prefix: number): HeaderField {
    const idx = this.int(prefix);
    const name = idx === 0 ? this.str() : this.entry(idx)[0];
    return [name, this.str()];
  }

  private entry(idx: number): HeaderField {
    if (idx === 0) throw new HpackError("index 0");
    if (idx < STATIC_TABLE.length) return STATIC_TABLE[idx] as HeaderField;
    const d = this.table[idx - STATIC_TABLE.length];
    if (d === undefined) throw new HpackError(`index ${idx} beyond the dynamic table (${this.table.length} entries)`);
    return d;
  }

  private add(f: HeaderField): void {
    const size = f[0].length + f[1].length + ENTRY_OVERHEAD;
    if (size > this.max) { this.table.length = 0; this.size = 0; return; }
    this.evict(size);
    this.table.unshift(f);
    this.size += size;
  }

  private evict(room: number): void {
    while (this.size + room > this.max && this.table.length > 0) {
      const f = this.table.pop()!;
      this.size -= f[0].length + f[1].length + ENTRY_OVERHEAD;
    }
  }
}

/** The decoded header list exceeded the advertised limit; the table was kept in step. */
export class HeaderListTooLarge extends HpackError {
  constructor(readonly size: number, readonly limit: number) {
    super(`header list of ${size} octets exceeds the limit of ${limit}`);
  }
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
  return s;
}

// Encoder. Exact static matches by "name\0value"; names by name.
const staticExact = new Map<string, number>();
const staticName = new Map<string, number>();
for (let i = STATIC_TABLE.length - 1; i >= 1; i--) {
  const [n, v] = STATIC_TABLE[i]!;
  staticExact.set(`${n}\0${v}`, i);
  staticName.set(n, i);
}

function pushInt(out: number[], first: number, prefix: number, v: number): void {
  const mask = (1 << prefix) - 1;
  if (v < mask) { out.push(first | v); return; }
  out.push(first | mask);
  v -= mask;
  while (v >= 128) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
}

function pushStr(out: number[], s: string): void {
  const bytes = utf8.encode(s);
  pushInt(out, 0, 7, bytes.length);
  for (const c of bytes) out.push(c);
}

const utf8 = new TextEncoder();

/** Encodes a header list (names lowercase). Stateless: no entry is added to the peer's table. */
export function encodeHeaders(fields: Iterable<HeaderField>): Uint8Array {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const exact = staticExact.get(`${name}\0${value}`);
    if (exact !== undefined) { pushInt(out, 0x80, 7, exact); continue; }
    const n = staticName.get(name);
    if (n !== undefined) pushInt(out, 0x00, 4, n);
    else { out.push(0x00); pushStr(out, name); }
    pushStr(out, value);
  }
  return Uint8Array.from(out);
}
