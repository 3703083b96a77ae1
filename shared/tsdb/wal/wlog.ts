// The write-ahead log's segment format, as Prometheus 2.42 writes it (tsdb/wlog/wlog.go, reader.go):
// pure framing over bytes; files are the agent's (agent/tsdb/wal/).
//
// A segment (file 00000000, 00000001, ...; at most 128 MiB) is a sequence of 32 KiB pages. A page holds
// record fragments, each a 7-byte header and its data:
//
//   byte  type: bits 0-2 = 1 full, 2 first, 3 middle, 4 last (0: the rest of the page is zero);
//               bit 3 = the record is snappy-compressed (flag on every fragment of it)
//   be16  length of the fragment's data (at most 32 KiB - 7)
//   be32  CRC-32C (Castagnoli) of the fragment's data
//
// A record larger than what is left in a page is split into first/middle.../last fragments; a page with
// fewer than 7 bytes left is padded with zeros; records never cross segments. Completed segments are
// padded to a whole page (the active one ends where the last write ended).
//
// Reading follows Prometheus' reader: zero padding must be zero up to the page end, a fragment's CRC and
// length must hold, the fragment types must form full | first middle* last, and a segment must not end
// inside a record ("last record is torn"). A problem is a WalCorruption naming the segment and the offset
// of the fragment where the damaged record starts; every record that ended before it is good.

import { CodedError } from "../../encoding/errors.ts";
import { crc32c } from "../../encoding/crc32c.ts";
import { snappyDecode, snappyEncode } from "../../remote/snappy.ts";

export const PAGE_SIZE = 32 * 1024;
export const RECORD_HEADER_SIZE = 7;
export const DEFAULT_SEGMENT_SIZE = 128 * 1024 * 1024;

const REC_PAGE_TERM = 0, REC_FULL = 1, REC_FIRST = 2, REC_MIDDLE = 3, REC_LAST = 4;
const SNAPPY = 1 << 3, TYPE_MASK = SNAPPY - 1;
/** Largest record we accept when decompressing (Prometheus has none; this bounds memory). */
const MAX_RECORD = 512 * 1024 * 1024;

export function segmentName(i: number): string { return String(i).padStart(8, "0"); }

/** Output of PageWriter.write: bytes for the current segment, or "rotate" (start segment n+1). */
export type WalWrite = Uint8Array | "rotate";

export interface PageWriterState { donePages: number; alloc: number }

/**
 * Frames records into pages as wlog.WL.log does, byte for byte. Holds only the position in the active
 * segment (pages done, bytes used in the current page): a page is never rewritten, so its bytes need
 * not be kept; zero padding is emitted when a page closes. Output goes to one reused buffer: the byte
 * parts a call returns are views, valid until the next call.
 */
export class PageWriter {
  donePages = 0;
  alloc = 0;
  private readonly pagesPerSegment: number;
  private buf = new Uint8Array(64 * 1024);
  private len = 0;
  private segStart = 0;

  constructor(readonly segmentSize = DEFAULT_SEGMENT_SIZE, readonly compress = false) {
    if (segmentSize % PAGE_SIZE !== 0 || segmentSize < PAGE_SIZE) {
      throw new CodedError("bad_data", `WAL segment size ${segmentSize} is not a positive multiple of the ${PAGE_SIZE}-byte page`);
    }
    this.pagesPerSegment = segmentSize / PAGE_SIZE;
  }

  state(): PageWriterState { return { donePages: this.donePages, alloc: this.alloc }; }
  restore(s: PageWriterState): void { this.donePages = s.donePages; this.alloc = s.alloc; }

  /** Position in the active segment after what was written so far (its file size). */
  get offset(): number { return this.donePages * PAGE_SIZE + this.alloc; }

  /** Continue a segment of `size` bytes (a page-aligned size: at a page boundary). */
  resumeAt(size: number): void {
    this.donePages = Math.floor(size / PAGE_SIZE);
    this.alloc = size % PAGE_SIZE;
  }

  private full(): boolean { return PAGE_SIZE - this.alloc < RECORD_HEADER_SIZE; }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const nb = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
  }

  private begin(): void { this.len = 0; this.segStart = 0; }

  private end(out: WalWrite[]): WalWrite[] {
    if (this.len > this.segStart) out.push(this.buf.subarray(this.segStart, this.len));
    return out;
  }

  private pad(): void {
    if (this.alloc === 0) return;
    const n = PAGE_SIZE - this.alloc;
    this.room(n);
    this.buf.fill(0, this.len, this.len + n);
    this.len += n;
    this.alloc = 0;
    this.donePages++;
  }

  private rot(out: WalWrite[]): void {
    this.pad();
    if (this.len > this.segStart) out.push(this.buf.subarray(this.segStart, this.len));
    out.push("rotate");
    this.segStart = this.len;
    this.donePages = 0;
    this.alloc = 0;
  }

  /** Zeros to the end of the current page, if it holds anything (Prometheus' flushPage(true)). */
  padPage(out: WalWrite[]): void { this.begin(); this.pad(); this.end(out); }

  /** Start a new segment: pad the current page, then "rotate". */
  rotate(out: WalWrite[]): void { this.begin(); this.rot(out); this.end(out); }

  /** Frame `records` (in order) into `out`. */
  write(records: readonly Uint8Array[], out: WalWrite[] = []): WalWrite[] {
    this.begin();
    for (const r of records) this.writeOne(r, out);
    return this.end(out);
  }

  private writeOne(rec: Uint8Array, out: WalWrite[]): void {
    if (this.full()) this.pad();
    let compressed = false;
    if (this.compress && rec.length > 0) {
      const c = snappyEncode(rec);
      if (c.length < rec.length) { rec = c; compressed = true; }
    }
    // Does it fit in what is left of this segment? Else start the next one (records never cross).
    let left = PAGE_SIZE - this.alloc - RECORD_HEADER_SIZE;
    left += (PAGE_SIZE - RECORD_HEADER_SIZE) * (this.pagesPerSegment - this.donePages - 1);
    if (rec.length > left) this.rot(out);

    let off = 0;
    for (let i = 0; i === 0 || off < rec.length; i++) {
      const l = Math.min(rec.length - off, PAGE_SIZE - this.alloc - RECORD_HEADER_SIZE);
      const part = rec.subarray(off, off + l);
      const last = off + l === rec.length;
      let typ = i === 0 ? (last ? REC_FULL : REC_FIRST) : (last ? REC_LAST : REC_MIDDLE);
      if (compressed) typ |= SNAPPY;
      this.room(RECORD_HEADER_SIZE + l);
      const b = this.buf, p = this.len;
      const crc = crc32c(part);
      b[p] = typ;
      b[p + 1] = l >>> 8; b[p + 2] = l & 0xff;
      b[p + 3] = crc >>> 24; b[p + 4] = (crc >>> 16) & 0xff; b[p + 5] = (crc >>> 8) & 0xff; b[p + 6] = crc & 0xff;
      b.set(part, p + RECORD_HEADER_SIZE);
      this.len = p + RECORD_HEADER_SIZE + l;
      this.alloc += RECORD_HEADER_SIZE + l;
      if (this.full()) this.pad();
      off += l;
    }
  }
}

/**
 * The byte parts of a write list joined between rotations: one write per segment. (PageWriter already
 * emits one part per segment; other producers may not.)
 */
export function groupWrites(ws: readonly WalWrite[]): (Uint8Array | "rotate")[] {
  const out: (Uint8Array | "rotate")[] = [];
  let parts: Uint8Array[] = [];
  let n = 0;
  const flush = () => {
    if (parts.length === 0) return;
    if (parts.length === 1) out.push(parts[0]!);
    else {
      const b = new Uint8Array(n);
      let o = 0;
      for (const p of parts) { b.set(p, o); o += p.length; }
      out.push(b);
    }
    parts = []; n = 0;
  };
  for (const w of ws) {
    if (w === "rotate") { flush(); out.push("rotate"); continue; }
    parts.push(w); n += w.length;
  }
  flush();
  return out;
}

// ---- reading ----

/** Damage found while reading a segment: every record that ended before `offset` is good. */
export class WalCorruption extends CodedError {
  constructor(
    readonly segment: number,
    /** Where the damaged record's first fragment starts (= where the last good record ended, or the damaged padding). */
    readonly offset: number,
    readonly reason: string,
    readonly segmentName: string,
  ) {
    super("corrupt", `corruption in segment ${segmentName} at ${offset}: ${reason}`);
  }
}

/** Synchronous random access to one segment file (or bytes in memory). */
export interface SegmentSource {
  readonly size: number;
  /** Exactly `length` bytes at `offset` (within size). */
  read(offset: number, length: number): Uint8Array;
}

export function memorySegment(b: Uint8Array): SegmentSource {
  return { size: b.length, read: (o, l) => b.subarray(o, o + l) };
}

const WINDOW_PAGES = 32;

/**
 * Records of one segment in order. Reads page-aligned windows of 1 MiB from the source; a record
 * spanning pages is assembled into a buffer of its own.
 *
 *   const r = new SegmentReader(src, 3, "wal/00000003");
 *   while (r.next()) use(r.record());   // r.end(): offset just past the record
 *   if (r.err()) ... r.err().offset      // the good prefix ends there
 */
export class SegmentReader {
  private win: Uint8Array = new Uint8Array(0);
  private winStart = 0;
  private pos = 0;
  private rec: Uint8Array = new Uint8Array(0);
  private e: WalCorruption | null = null;
  private recEnd = 0;
  private asm: Uint8Array = new Uint8Array(0);
  /** Records read. */
  count = 0;

  constructor(private readonly src: SegmentSource, readonly segment: number, readonly name: string) {}

  /** The current record; valid until the next call to next(). */
  record(): Uint8Array { return this.rec; }
  /** Offset just past the current record (the good prefix after a failure ends at the last one). */
  end(): number { return this.recEnd; }
  err(): WalCorruption | null { return this.e; }

  private bytesAt(off: number, len: number): Uint8Array {
    if (off < this.winStart || off + len > this.winStart + this.win.length) {
      const start = off - (off % PAGE_SIZE);
      const n = Math.min(WINDOW_PAGES * PAGE_SIZE, this.src.size - start);
      this.win = this.src.read(start, n);
      this.winStart = start;
    }
    const s = off - this.winStart;
    return this.win.subarray(s, s + len);
  }

  private fail(at: number, reason: string): false {
    this.e = new WalCorruption(this.segment, at, reason, this.name);
    this.rec = new Uint8Array(0);
    return false;
  }

  next(): boolean {
    if (this.e) return false;
    const size = this.src.size;
    let recStart = -1;
    let compressed = false;
    let asmLen = 0;
    let i = 0; // fragments of this record so far
    for (;;) {
      if (this.pos >= size) {
        if (i > 0) return this.fail(recStart, "last record is torn");
        return false;
      }
      const pageEnd = this.pos - (this.pos % PAGE_SIZE) + PAGE_SIZE;
      const at = this.pos;
      const typByte = this.bytesAt(at, 1)[0]!;
      const typ = typByte & TYPE_MASK;
      if (typ === REC_PAGE_TERM) {
        // The rest of the page must be zero (a segment may end early: the rest counts as zeros).
        const end = Math.min(pageEnd, size);
        const z = this.bytesAt(at, end - at);
        for (let k = 0; k < z.length; k++) {
          if (z[k] !== 0) return this.fail(i > 0 ? recStart : at, `unexpected non-zero byte in padded page at ${at + k}`);
        }
        this.pos = pageEnd;
        continue;
      }
      if (at + RECORD_HEADER_SIZE > Math.min(pageEnd, size)) {
        return this.fail(i > 0 ? recStart : at, at + RECORD_HEADER_SIZE > size ? "last record is torn (segment ends inside a fragment header)" : "fragment header crosses a page boundary");
      }
      const h = this.bytesAt(at, RECORD_HEADER_SIZE);
      const len = (h[1]! << 8) | h[2]!;
      const crc = ((h[3]! << 24) | (h[4]! << 16) | (h[5]! << 8) | h[6]!) >>> 0;
      if (len > PAGE_SIZE - RECORD_HEADER_SIZE) return this.fail(i > 0 ? recStart : at, `invalid record size ${len}`);
      const dataAt = at + RECORD_HEADER_SIZE;
      if (dataAt + len > size) return this.fail(i > 0 ? recStart : at, `last record is torn (fragment of ${len} bytes, ${size - dataAt} left in the segment)`);
      if (dataAt + len > pageEnd) return this.fail(i > 0 ? recStart : at, `fragment of ${len} bytes crosses a page boundary`);
      const data = this.bytesAt(dataAt, len);
      const got = crc32c(data);
      if (got !== crc) return this.fail(i > 0 ? recStart : at, `unexpected checksum ${got.toString(16)}, expected ${crc.toString(16)}`);
      // full | first middle* last
      if (i === 0) {
        if (typ !== REC_FULL && typ !== REC_FIRST) return this.fail(at, `unexpected ${typName(typ)} fragment at the start of a record`);
        recStart = at;
        compressed = (typByte & SNAPPY) !== 0;
      } else if (typ !== REC_MIDDLE && typ !== REC_LAST) {
        return this.fail(recStart, `unexpected ${typName(typ)} fragment inside a record`);
      }
      this.pos = dataAt + len;
      if (typ === REC_FULL) {
        return this.done(data, compressed, recStart);
      }
      if (asmLen + len > this.asm.length) {
        const nb = new Uint8Array(Math.max(2 * this.asm.length, asmLen + len, 64 * 1024));
        nb.set(this.asm.subarray(0, asmLen));
        this.asm = nb;
      }
      this.asm.set(data, asmLen);
      asmLen += len;
      i++;
      if (typ === REC_LAST) return this.done(this.asm.subarray(0, asmLen), compressed, recStart);
    }
  }

  private done(data: Uint8Array, compressed: boolean, recStart: number): boolean {
    if (compressed) {
      try {
        data = snappyDecode(data, MAX_RECORD, `${this.name} record at ${recStart}`);
      } catch (e) {
        return this.fail(recStart, `snappy: ${(e as Error).message}`);
      }
    }
    this.rec = data;
    this.recEnd = this.pos;
    this.count++;
    return true;
  }
}

function typName(t: number): string {
  return ["zero", "full", "first", "middle", "last"][t] ?? `<invalid ${t}>`;
}
