// Persisted index headers: the byte ranges IndexReader.open reads (TOC, header + symbols, postings offset
// table) saved as one object, so a cold process or isolate opens a block with one cache read instead of a
// HEAD and three ranged GETs. Where it is kept is the HeaderCache's business: a directory next to the
// agent (--data-dir), the Workers Cache API, memory.
//
// Layout (big-endian):  magic "TIH1" | index size be64 | range count be32 |
//                       (offset be64 | length be32 | bytes)* | crc32c be32 over everything before it
// A header that fails its CRC or does not match the index size is ignored (and rebuilt), never trusted.

import { Decbuf, Encbuf } from "../encoding/bytes.ts";
import { crc32c } from "../encoding/crc32c.ts";
import { CodedError } from "../encoding/errors.ts";
import type { ByteSource } from "../tsdb/source.ts";

export interface HeaderCache {
  get(ulid: string): Promise<Uint8Array | null>;
  put(ulid: string, bytes: Uint8Array): Promise<void>;
}

const MAGIC = 0x54494831; // "TIH1"

export interface HeaderRange { offset: number; data: Uint8Array }

export function encodeHeader(size: number, ranges: readonly HeaderRange[]): Uint8Array {
  const e = new Encbuf(64 + ranges.reduce((n, r) => n + r.data.length + 12, 0));
  e.be32(MAGIC);
  e.be64(size);
  e.be32(ranges.length);
  for (const r of ranges) { e.be64(r.offset); e.be32(r.data.length); e.bytes(r.data); }
  const b = e.get();
  e.be32(crc32c(b, 0, b.length));
  return e.get().slice();
}

export function decodeHeader(b: Uint8Array, what: string): { size: number; ranges: HeaderRange[] } {
  if (b.length < 20) throw new CodedError("corrupt", `${what}: ${b.length} bytes is too short for an index header`);
  const d = new Decbuf(b, what, 0);
  const want = crc32c(b, 0, b.length - 4);
  const got = new DataView(b.buffer, b.byteOffset + b.length - 4, 4).getUint32(0);
  if (want !== got) d.fail(`crc mismatch (stored ${got.toString(16)}, computed ${want.toString(16)})`, b.length - 4);
  if (d.be32() !== MAGIC) d.fail("bad magic (want TIH1)", 0);
  const size = d.be64();
  const n = d.be32();
  const ranges: HeaderRange[] = [];
  for (let i = 0; i < n; i++) {
    const offset = d.be64();
    const len = d.be32();
    ranges.push({ offset, data: d.bytes(len) });
  }
  return { size, ranges };
}

/** Records the reads made through it (while an IndexReader opens). */
export class RecordingSource implements ByteSource {
  readonly ranges: HeaderRange[] = [];
  sizeSeen = -1;
  private recording = true;
  constructor(private readonly inner: ByteSource) {}
  get name(): string { return this.inner.name; }
  async size(): Promise<number> { return (this.sizeSeen = await this.inner.size()); }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const b = await this.inner.read(offset, length);
    if (this.recording) this.ranges.push({ offset, data: b });
    return b;
  }
  /** The reader stays on this source for queries: stop keeping what it reads. */
  stop(): void { this.recording = false; }
}

/** Serves the size and any read inside a saved range from the header; everything else from `inner`. */
export class PrefilledSource implements ByteSource {
  constructor(private readonly inner: ByteSource, private readonly sizeKnown: number, private readonly ranges: readonly HeaderRange[]) {}
  get name(): string { return this.inner.name; }
  async size(): Promise<number> { return this.sizeKnown; }
  read(offset: number, length: number): Promise<Uint8Array> {
    for (const r of this.ranges) {
      if (offset >= r.offset && offset + length <= r.offset + r.data.length) return Promise.resolve(r.data.subarray(offset - r.offset, offset - r.offset + length));
    }
    return this.inner.read(offset, length);
  }
}

/** A HeaderCache in memory (tests; an isolate's lifetime). */
export class MemoryHeaderCache implements HeaderCache {
  readonly m = new Map<string, Uint8Array>();
  gets = 0;
  async get(ulid: string): Promise<Uint8Array | null> { this.gets++; return this.m.get(ulid) ?? null; }
  async put(ulid: string, b: Uint8Array): Promise<void> { this.m.set(ulid, b); }
}
