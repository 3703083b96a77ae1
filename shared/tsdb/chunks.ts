// Chunk segment files (tsdb/docs/format/chunks.md): chunks/000001, 000002, …
//
//   magic 0x85BD40DD (4) | version 1 (1) | padding (3)
//   chunk: uvarint len | encoding (1) | data (len) | crc32c over encoding+data (4)
//
// A chunk ref is (segment index << 32) | byte offset, segment index 0 being file 000001. Refs exceed
// 2^32, so they are carried as numbers (segment * 2^32 + offset), never through `<<`.

import { Decbuf, Encbuf } from "../encoding/bytes.ts";
import { crc32c, Crc32cRanges } from "../encoding/crc32c.ts";
import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import { hex } from "./index.ts";
import type { ByteSource } from "./source.ts";

export const CHUNKS_MAGIC = 0x85bd40dd;
export const SEGMENT_HEADER = 8;
/** Prometheus' default segment size; a segment is cut before a chunk would cross it. */
export const DEFAULT_SEGMENT_SIZE = 512 * 1024 * 1024;
const TWO32 = 0x100000000;

export type { ChunkData } from "../chunkenc/chunk.ts";
import type { ChunkData } from "../chunkenc/chunk.ts";

export const chunkRef = (segment: number, offset: number): number => segment * TWO32 + offset;
export const refSegment = (ref: number): number => Math.floor(ref / TWO32);
export const refOffset = (ref: number): number => ref % TWO32;
export const segmentName = (seq: number): string => `chunks/${String(seq + 1).padStart(6, "0")}`;

interface Segment { src: ByteSource; size: number }

export class ChunkReader {
  private segs = new Map<number, Promise<Segment>>();

  /** `segment(i)` opens file number i+1 (chunks/000001 for i = 0). */
  constructor(private readonly segment: (index: number) => ByteSource, readonly what: string) {}

  private open(i: number): Promise<Segment> {
    let p = this.segs.get(i);
    if (!p) {
      p = (async () => {
        const where = `${this.what} ${segmentName(i)}`;
        const src = this.segment(i);
        let size: number, head: Uint8Array;
        try {
          size = await src.size();
          if (size < SEGMENT_HEADER) throw new CodedError("corrupt", `${where}: segment of ${size} bytes is shorter than its ${SEGMENT_HEADER}-byte header`);
          head = await src.read(0, SEGMENT_HEADER);
        } catch (e) {
          throw new CodedError(errorCode(e) ?? "unavailable", `${where}: reading segment header at offset 0: ${errorMessage(e)}`, { cause: e });
        }
        const d = new Decbuf(head, where, 0);
        const m = d.be32();
        if (m !== CHUNKS_MAGIC) d.fail(`bad magic ${hex(m)} (want ${hex(CHUNKS_MAGIC)})`, 0);
        const v = d.byte();
        if (v !== 1) d.fail(`unsupported chunks format version ${v} (want 1)`, 4);
        return { src, size };
      })();
      p.catch(() => this.segs.delete(i));
      this.segs.set(i, p);
    }
    return p;
  }

  /**
   * Decode the chunk at b[p] (b[p] is at file offset `at`); null when b is too short for it. Hot (once per
   * chunk read), so no cursor object: the length varint is read inline.
   */
  private decode(b: Uint8Array, p: number, at: number, seg: Segment, where: string, crcs?: Crc32cRanges): ChunkData | null {
    let len = 0, mul = 1, q = p, ok = false;
    for (let k = 0; k < 10 && q < b.length; k++) {
      const c = b[q++]!;
      len += (c & 0x7f) * mul;
      mul *= 128;
      if (c < 0x80) { ok = true; break; }
    }
    if (!ok) {
      if (q - p >= 10 || at + (b.length - p) >= seg.size) throw new CodedError("corrupt", `${where}: bad chunk length varint at offset ${at}`);
      return null;
    }
    const hdr = q - p;
    if (q + 1 + len + 4 > b.length) {
      if (at + hdr + 1 + len + 4 > seg.size) throw new CodedError("corrupt", `${where}: chunk of ${len} bytes runs past the segment end (${seg.size}) at offset ${at}`);
      return null;
    }
    const encoding = b[q]!;
    const crcAt = q + 1 + len;
    const got = ((b[crcAt]! << 24) | (b[crcAt + 1]! << 16) | (b[crcAt + 2]! << 8) | b[crcAt + 3]!) >>> 0;
    const want = crcs ? crcs.crc(q, crcAt) : crc32c(b, q, crcAt);
    if (got !== want) throw new CodedError("corrupt", `${where}: chunk crc mismatch (stored ${hex(got)}, computed ${hex(want)}) at offset ${at + (crcAt - p)}`);
    return { encoding, data: b.subarray(q + 1, crcAt) };
  }

  /** Read chunks by ref (same order as refs), coalescing refs close together into one range read. */
  async chunks(refs: ArrayLike<number>, estimate = 512, maxGap = 16 * 1024): Promise<ChunkData[]> {
    const out: ChunkData[] = new Array(refs.length);
    const bySeg = new Map<number, number[]>();
    for (let i = 0; i < refs.length; i++) {
      const s = refSegment(refs[i]!);
      let l = bySeg.get(s);
      if (!l) bySeg.set(s, (l = []));
      l.push(i);
    }
    await Promise.all([...bySeg].map(async ([si, idx]) => {
      const seg = await this.open(si);
      const where = `${this.what} ${segmentName(si)}`;
      idx.sort((a, b) => refs[a]! - refs[b]!);
      const groups: { start: number; end: number; members: number[] }[] = [];
      for (const i of idx) {
        const off = refOffset(refs[i]!);
        if (off < SEGMENT_HEADER || off >= seg.size) throw new CodedError("corrupt", `${where}: chunk ref ${refs[i]} points at offset ${off}, outside the segment (size ${seg.size})`);
        const g = groups[groups.length - 1];
        if (g && off - g.end <= maxGap && off + estimate - g.start <= 8 << 20) {
          g.end = Math.min(Math.max(g.end, off + estimate), seg.size);
          g.members.push(i);
        } else {
          groups.push({ start: off, end: Math.min(off + estimate, seg.size), members: [i] });
        }
      }
      await Promise.all(groups.map(async (g) => {
        const b = await this.readRange(seg, g.start, g.end - g.start, where);
        const crcs = g.members.length > 1 ? new Crc32cRanges(b) : undefined;
        for (const i of g.members) {
          const off = refOffset(refs[i]!);
          let c = this.decode(b, off - g.start, off, seg, where, crcs);
          if (c === null) {
            // Longer than the estimate: the header says how long, read exactly that.
            const hd = new Decbuf(await this.readRange(seg, off, Math.min(10, seg.size - off), where), where, off);
            const len = hd.uvarint();
            c = this.decode(await this.readRange(seg, off, hd.pos + 1 + len + 4, where), 0, off, seg, where);
            c ??= hd.fail("chunk truncated", 0);
          }
          out[i] = c;
        }
      }));
    }));
    return out;
  }

  private async readRange(seg: Segment, off: number, len: number, where: string): Promise<Uint8Array> {
    try {
      return await seg.src.read(off, len);
    } catch (e) {
      throw new CodedError(errorCode(e) ?? "unavailable", `${where}: reading ${len} bytes at offset ${off}: ${errorMessage(e)}`, { cause: e });
    }
  }
}

/** Appends chunks to segment files through `out(file, bytes)`, cutting a new segment at `segmentSize`. */
export class ChunkWriter {
  private seq = -1;
  private size = 0;
  private buf = new Encbuf(1 << 16);
  readonly files: string[] = [];
  /** Final size of each segment in `files`. */
  readonly segmentSizes: number[] = [];
  bytesWritten = 0;

  constructor(private readonly out: (file: string, b: Uint8Array) => Promise<void>, private readonly segmentSize = DEFAULT_SEGMENT_SIZE) {}

  private async flush(): Promise<void> {
    if (this.buf.len === 0) return;
    const b = this.buf.get().slice();
    this.buf.reset();
    await this.out(segmentName(this.seq), b);
  }

  /** Returns the chunk's ref. */
  async write(encoding: number, data: Uint8Array): Promise<number> {
    let lenSize = 1;
    for (let v = data.length; v >= 0x80; v = Math.floor(v / 128)) lenSize++;
    const n = lenSize + 1 + data.length + 4;
    if (this.seq < 0 || (this.size + n > this.segmentSize && this.size > SEGMENT_HEADER)) {
      await this.flush();
      this.seq++;
      this.files.push(segmentName(this.seq));
      this.segmentSizes.push(0);
      this.buf.be32(CHUNKS_MAGIC);
      this.buf.byte(1);
      this.buf.byte(0); this.buf.byte(0); this.buf.byte(0);
      this.size = SEGMENT_HEADER;
      this.bytesWritten += SEGMENT_HEADER;
    }
    if (this.size + n > TWO32) throw new CodedError("resource_exhausted", `chunk of ${data.length} bytes does not fit a segment (offsets are 32-bit)`);
    const ref = chunkRef(this.seq, this.size);
    this.buf.uvarint(data.length);
    const start = this.buf.len;
    this.buf.byte(encoding);
    this.buf.bytes(data);
    this.buf.be32(crc32c(this.buf.b, start, this.buf.len));
    this.size += n;
    this.segmentSizes[this.seq] = this.size;
    this.bytesWritten += n;
    if (this.buf.len >= 1 << 20) await this.flush();
    return ref;
  }

  async finish(): Promise<void> { await this.flush(); }
}
