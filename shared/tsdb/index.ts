// Prometheus TSDB index, format v2 (tsdb/docs/format/index.md): reader over a ByteSource with range
// reads, and a streaming writer.
//
//   magic 0xBAAAD700 (4) | version 2 (1)
//   symbols:      len be32 | count be32 | (uvarint len, bytes)* | crc32c        (crc over count..symbols)
//   series:       each padded to 16 bytes; ref = offset / 16
//                 uvarint len | labels: count, (name sym, value sym)* | chunks: count, metas | crc32c
//   label index:  each padded to 4: len be32 | 1 be32 | count be32 | value sym be32* | crc32c
//   postings:     each padded to 4: len be32 | count be32 | series ref be32* | crc32c
//   label offset table:    len be32 | count be32 | (1, name, offset)* | crc32c
//   postings offset table: len be32 | count be32 | (2, name, value, offset)* | crc32c, sorted by (name, value)
//   TOC (last 52 bytes):   six be64 section offsets | crc32c
//
// Symbol refs in v2 are positions in the sorted symbol table. Strings sort bytewise (Go order).
// Opening reads three ranges: the TOC, header+symbols, the postings offset table. Series and postings
// lists are fetched on demand; a postings list's extent is known without reading its length first,
// because lists are written in postings-offset-table order (the next entry's offset ends this one).

import { Decbuf, Encbuf, utf8Encode } from "../encoding/bytes.ts";
import { crc32c } from "../encoding/crc32c.ts";
import { CodedError } from "../encoding/errors.ts";
import { compareLabels, compareStrings, type Label, type Labels } from "../labels/labels.ts";
import { BigEndianPostings, emptyPostings, ListPostings, merge, type Postings } from "./postings.ts";
import type { ByteSource } from "./source.ts";

export const INDEX_MAGIC = 0xbaaad700;
export const TOC_LEN = 52;

export interface ChunkMeta {
  /** segment index (0 = chunks/000001) * 2^32 + byte offset in that segment. */
  ref: number;
  minTime: number;
  /** Inclusive. */
  maxTime: number;
}

export interface SeriesEntry {
  ref: number;
  labels: Labels;
  chunks: ChunkMeta[];
}

export interface Toc {
  symbols: number;
  series: number;
  labelIndices: number;
  labelIndicesTable: number;
  postings: number;
  postingsTable: number;
}

const SYMBOL_FACTOR = 32; // every 32nd symbol offset and postings-table entry is kept, like Prometheus
/** Slots of an index's decoded-symbol cache at most (12 bytes each, filled as symbols are used). */
const SYMBOL_CACHE_MAX = 16384;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function cmpBytes(a: Uint8Array, ao: number, al: number, b: Uint8Array): number {
  const n = Math.min(al, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[ao + i]! - b[i]!;
    if (d !== 0) return d;
  }
  return al - b.length;
}

/** Read several ranges, coalescing neighbours closer than maxGap into one read. */
export async function readRanges(src: ByteSource, ranges: { start: number; end: number }[], maxGap = 16 * 1024): Promise<Uint8Array[]> {
  const order = ranges.map((_, i) => i).sort((a, b) => ranges[a]!.start - ranges[b]!.start);
  const out: Uint8Array[] = new Array(ranges.length);
  let i = 0;
  const jobs: Promise<void>[] = [];
  while (i < order.length) {
    let j = i;
    const start = ranges[order[i]!]!.start;
    let end = ranges[order[i]!]!.end;
    while (j + 1 < order.length && ranges[order[j + 1]!]!.start - end <= maxGap) {
      j++;
      end = Math.max(end, ranges[order[j]!]!.end);
    }
    const members = order.slice(i, j + 1);
    jobs.push(src.read(start, end - start).then((b) => {
      for (const k of members) out[k] = b.subarray(ranges[k]!.start - start, ranges[k]!.end - start);
    }));
    i = j + 1;
  }
  await Promise.all(jobs);
  return out;
}

export class IndexReader {
  private symKeysArr: Int32Array | null = null;
  private symVals: (string | undefined)[] = [];
  private symMask = 0;
  /** Per label name: positions (in `pot`) of its first entry, every 32nd, and its last, plus count. */
  private names = new Map<string, { samples: Uint32Array; count: number }>();
  private nameList: string[] = [];

  private constructor(
    readonly src: ByteSource,
    readonly what: string,
    readonly size: number,
    readonly toc: Toc,
    /** Symbols section body (after len and count, before the CRC). */
    private readonly syms: Uint8Array,
    private readonly symBase: number,
    readonly symbolCount: number,
    private readonly symOffsets: Uint32Array,
    /** Postings offset table body (entries only). */
    private readonly pot: Uint8Array,
    private readonly potBase: number,
    private readonly potCount: number,
    /** End of the postings section: where the last postings list ends. */
    private readonly postingsEnd: number,
    private readonly seriesEnd: number,
  ) {}

  /**
   * Open an index: TOC, symbols and (unless `postingsTable: false`) the postings offset table. Without the
   * table the reader serves only sequential reads (series scans, symbols), as a compaction needs: the table
   * grows with the distinct label pairs, and compaction reads every series anyway.
   */
  static async open(src: ByteSource, what: string, opts: { postingsTable?: boolean } = {}): Promise<IndexReader> {
    const size = await src.size();
    if (size < 5 + TOC_LEN) throw new CodedError("corrupt", `${what}: index of ${size} bytes is too short (need at least ${5 + TOC_LEN})`);
    const tocBytes = await src.read(size - TOC_LEN, TOC_LEN);
    const td = new Decbuf(tocBytes, `${what} TOC`, size - TOC_LEN);
    const want = crc32c(tocBytes, 0, 48);
    const got = new DataView(tocBytes.buffer, tocBytes.byteOffset + 48, 4).getUint32(0);
    if (want !== got) td.fail(`crc mismatch (stored ${hex(got)}, computed ${hex(want)})`, 48);
    const toc: Toc = {
      symbols: td.be64(), series: td.be64(), labelIndices: td.be64(),
      labelIndicesTable: td.be64(), postings: td.be64(), postingsTable: td.be64(),
    };
    const limit = size - TOC_LEN;
    for (const [k, v] of Object.entries(toc)) {
      if (v > limit) throw new CodedError("corrupt", `${what} TOC: ${k} offset ${v} is past the end of the index (${limit})`);
    }
    if (toc.symbols !== 5 || toc.series < toc.symbols) throw new CodedError("corrupt", `${what} TOC: symbols at ${toc.symbols}, series at ${toc.series}: not a v2 layout`);

    // Header and symbols in one read: the series section starts right after the symbols.
    const head = await src.read(0, toc.series);
    const hd = new Decbuf(head, what, 0);
    const magic = hd.be32();
    if (magic !== INDEX_MAGIC) hd.fail(`bad magic ${hex(magic)} (want ${hex(INDEX_MAGIC)})`, 0);
    const version = hd.byte();
    if (version !== 2) hd.fail(`unsupported index version ${version} (want 2)`, 4);
    const { body: symBody, at: symAt } = section(head, toc.symbols, 0, `${what} symbol table`);
    const sd = new Decbuf(symBody, `${what} symbol table`, symAt);
    const symbolCount = sd.be32();
    const offsets = new Uint32Array(Math.ceil(symbolCount / SYMBOL_FACTOR));
    for (let i = 0; i < symbolCount; i++) {
      if (i % SYMBOL_FACTOR === 0) offsets[i / SYMBOL_FACTOR] = sd.pos;
      sd.skip(sd.uvarint());
    }
    if (sd.len !== 0) sd.fail(`${sd.len} bytes after ${symbolCount} symbols`);

    const postingsEnd = toc.labelIndicesTable > toc.postings ? toc.labelIndicesTable : toc.postingsTable;
    const seriesEnd = Math.min(...[toc.labelIndices, toc.postings, toc.labelIndicesTable, toc.postingsTable, limit].filter((v) => v > toc.series));
    if (opts.postingsTable === false) {
      const r = new IndexReader(src, what, size, toc, symBody, symAt, symbolCount, offsets, new Uint8Array(0), 0, 0, postingsEnd, seriesEnd);
      r.sequentialOnly = true;
      return r;
    }
    // Postings offset table: to the TOC.
    const potBytes = await src.read(toc.postingsTable, limit - toc.postingsTable);
    const { body: potBody, at: potAt } = section(potBytes, 0, toc.postingsTable, `${what} postings offset table`);
    const pd = new Decbuf(potBody, `${what} postings offset table`, potAt);
    const potCount = pd.be32();
    const entries = potBody.subarray(4);
    const r = new IndexReader(src, what, size, toc, symBody, symAt, symbolCount, offsets, entries, potAt + 4, potCount, postingsEnd, seriesEnd);
    r.indexPostingsTable();
    return r;
  }

  /** Opened without the postings offset table: postings and label values are not available. */
  private sequentialOnly = false;

  private needTable(op: string): void {
    if (this.sequentialOnly) throw new CodedError("internal", `${this.what}: ${op} needs the postings offset table, and the index was opened for sequential reads only`);
  }

  private indexPostingsTable(): void {
    const d = new Decbuf(this.pot, `${this.what} postings offset table`, this.potBase);
    let curName: string | null = null;
    let curNameBytes: Uint8Array | null = null;
    let samples: number[] = [];
    let count = 0;
    let lastPos = 0;
    let prevOff = -1;
    const flush = () => {
      if (curName === null) return;
      if ((count - 1) % SYMBOL_FACTOR !== 0) samples.push(lastPos);
      this.names.set(curName, { samples: Uint32Array.from(samples), count });
      this.nameList.push(curName);
    };
    for (let i = 0; i < this.potCount; i++) {
      const pos = d.pos;
      const n = d.uvarint();
      if (n !== 2) d.fail(`entry ${i} has ${n} keys (want 2)`, pos);
      const nl = d.uvarint();
      const nameStart = d.pos;
      d.skip(nl);
      d.skip(d.uvarint());
      const off = d.uvarint();
      if (off < prevOff || off < this.toc.postings || off >= this.postingsEnd) d.fail(`entry ${i} postings offset ${off} outside the postings section [${this.toc.postings}, ${this.postingsEnd}) or not ascending`, pos);
      prevOff = off;
      const same = curNameBytes !== null && nl === curNameBytes.length && cmpBytes(this.pot, nameStart, nl, curNameBytes) === 0;
      if (!same) {
        flush();
        curNameBytes = this.pot.subarray(nameStart, nameStart + nl);
        curName = this.decode(curNameBytes, nameStart);
        samples = [];
        count = 0;
      }
      if (count % SYMBOL_FACTOR === 0) samples.push(pos);
      count++;
      lastPos = pos;
    }
    flush();
    if (d.len !== 0) d.fail(`${d.len} bytes after ${this.potCount} entries`);
  }

  private decode(b: Uint8Array, at: number): string {
    try { return utf8.decode(b); } catch { throw new CodedError("corrupt", `${this.what}: invalid UTF-8 at offset ${at}`); }
  }

  /** Bytes held in memory after open (benchmarks). */
  heldBytes(): number {
    let n = this.syms.length + this.symOffsets.byteLength + this.pot.length + (this.symKeysArr ? 3 * this.symKeysArr.byteLength : 0);
    for (const [k, v] of this.names) n += k.length + v.samples.byteLength + 16;
    return n;
  }

  symbol(ref: number): string {
    // A direct-mapped cache: one slot per ref modulo its size (a power of two). For blocks with fewer
    // symbols than slots every symbol keeps its slot; for bigger ones the frequent names and values
    // survive. A Map cleared at 8192 entries thrashed on every broad query over 10k series.
    const keys = this.symKeys;
    const slot = ref & this.symMask;
    if (keys[slot] === ref) return this.symVals[slot]!;
    if (!(ref >= 0 && ref < this.symbolCount)) throw new CodedError("corrupt", `${this.what}: symbol ref ${ref} out of range (${this.symbolCount} symbols)`);
    // Every symbol's length was bounds-checked at open, so this walk needs no checks of its own.
    const b = this.syms;
    let p = this.symOffsets[Math.floor(ref / SYMBOL_FACTOR)]!;
    let len = 0;
    for (let i = ref % SYMBOL_FACTOR; ; i--) {
      len = 0;
      for (let mul = 1; ; mul *= 128) {
        const c = b[p++]!;
        len += (c & 0x7f) * mul;
        if (c < 0x80) break;
      }
      if (i === 0) break;
      p += len;
    }
    const s = this.decode(b.subarray(p, p + len), this.symBase + p);
    keys[slot] = ref;
    this.symVals[slot] = s;
    return s;
  }

  private get symKeys(): Int32Array {
    if (this.symKeysArr === null) {
      let n = 64;
      while (n < this.symbolCount && n < SYMBOL_CACHE_MAX) n *= 2;
      this.symKeysArr = new Int32Array(n).fill(-1);
      this.symVals = new Array<string | undefined>(n);
      this.symMask = n - 1;
    }
    return this.symKeysArr;
  }

  *symbols(): IterableIterator<string> {
    const d = new Decbuf(this.syms, `${this.what} symbol table`, this.symBase);
    d.pos = 4;
    for (let i = 0; i < this.symbolCount; i++) yield d.uvarintStr();
  }

  /** Label names with postings, sorted (excluding the all-postings key ""). */
  labelNames(): string[] { this.needTable("labelNames"); return this.nameList.filter((n) => n !== ""); }

  // The table was decoded with full checks once at open; later walks use this unchecked cursor.
  private p = 0;
  private rd(): number {
    const b = this.pot;
    let x = 0, mul = 1;
    for (;;) {
      const c = b[this.p++]!;
      x += (c & 0x7f) * mul;
      if (c < 0x80) return x;
      mul *= 128;
    }
  }
  /** Parse the entry at this.p: sets vStart/vLen, returns its postings offset; this.p moves to the next. */
  private vStart = 0;
  private vLen = 0;
  private entry(): number {
    this.rd();
    const nl = this.rd(); // not `this.p += this.rd()`: that reads this.p before rd() advances it
    this.p += nl;
    this.vLen = this.rd();
    this.vStart = this.p;
    this.p += this.vLen;
    return this.rd();
  }
  /** Postings offset of the entry at `pos`, or the end of the postings section past the last entry. */
  private offsetAt(pos: number): number {
    if (pos >= this.pot.length) return this.postingsEnd;
    const save = this.p;
    this.p = pos;
    const off = this.entry();
    this.p = save;
    return off;
  }

  labelValues(name: string): string[] {
    this.needTable("labelValues");
    const info = this.names.get(name);
    if (!info) return [];
    const out: string[] = new Array(info.count);
    const last = info.samples[info.samples.length - 1]!;
    this.p = info.samples[0]!;
    let k = 0;
    while (this.p <= last) {
      this.entry();
      out[k++] = this.decode(this.pot.subarray(this.vStart, this.vStart + this.vLen), this.potBase + this.vStart);
    }
    return out;
  }

  /** Byte ranges of the postings lists of name=value for each value (missing values are skipped). */
  postingsRanges(name: string, values: string[]): { start: number; end: number }[] {
    this.needTable("postings");
    const info = this.names.get(name);
    if (!info || values.length === 0) return [];
    const vs = values.map(utf8Encode).sort((a, b) => cmpBytes(a, 0, a.length, b));
    const out: { start: number; end: number }[] = [];
    const last = info.samples[info.samples.length - 1]!;
    if (vs.length * 8 > info.count) {
      // Many values (a broad regex): one merge-walk over the name's entries beats a search per value.
      this.p = info.samples[0]!;
      let vi = 0;
      while (this.p <= last && vi < vs.length) {
        const off = this.entry();
        let c = 1;
        while (vi < vs.length && (c = cmpBytes(this.pot, this.vStart, this.vLen, vs[vi]!)) > 0) vi++;
        if (vi < vs.length && c === 0) { out.push({ start: off, end: this.offsetAt(this.p) }); vi++; }
      }
      return out;
    }
    let sampleIdx = 0;
    for (const v of vs) {
      // Last sampled entry whose value <= v, then scan at most 32 entries.
      let lo = sampleIdx, hi = info.samples.length - 1;
      while (lo < hi) {
        const m = (lo + hi + 1) >>> 1;
        this.p = info.samples[m]!;
        this.entry();
        if (cmpBytes(this.pot, this.vStart, this.vLen, v) <= 0) lo = m; else hi = m - 1;
      }
      sampleIdx = lo;
      this.p = info.samples[lo]!;
      while (this.p <= last) {
        const off = this.entry();
        const c = cmpBytes(this.pot, this.vStart, this.vLen, v);
        if (c === 0) { out.push({ start: off, end: this.offsetAt(this.p) }); break; }
        if (c > 0) break;
      }
    }
    return out;
  }

  /** Union of the postings of name=v for v in values. */
  async postings(name: string, values: string[]): Promise<Postings> {
    const ranges = this.postingsRanges(name, values);
    if (ranges.length === 0) return emptyPostings();
    const bufs = await readRanges(this.src, ranges);
    const lists = bufs.map((b, i) => this.decodePostings(b, ranges[i]!.start));
    if (lists.length <= 8) return merge(lists);
    // Many lists (a broad regex): one sorted array is cheaper than a heap over thousands of heads.
    let n = 0;
    for (const l of lists) n += l.length;
    const all = new Uint32Array(n);
    let k = 0;
    for (const l of lists) { l.copyInto(all, k); k += l.length; }
    all.sort();
    let m = 0;
    for (let i = 0; i < n; i++) if (m === 0 || all[i] !== all[m - 1]) all[m++] = all[i]!;
    return new ListPostings(all.subarray(0, m));
  }

  /** One on-disk postings list (b may run past its end into padding or the next list). */
  decodePostings(b: Uint8Array, at: number): BigEndianPostings {
    const d = new Decbuf(b, `${this.what} postings list`, at);
    const len = d.be32();
    if (len < 4 || len + 8 > b.length) d.fail(`postings list length ${len} does not fit its extent of ${b.length} bytes`, 0);
    const want = crc32c(b, 4, 4 + len);
    const got = new DataView(b.buffer, b.byteOffset + 4 + len, 4).getUint32(0);
    if (want !== got) d.fail(`crc mismatch (stored ${hex(got)}, computed ${hex(want)})`, 4 + len);
    const n = d.be32();
    if (n * 4 !== len - 4) d.fail(`postings list of ${n} entries in ${len - 4} bytes`, 4);
    return new BigEndianPostings(b, 8, n);
  }

  async allPostings(): Promise<Postings> { return this.postings("", [""]); }

  /** The series section, entries in index order (= label order), read sequentially and CRC-checked. */
  seriesScanner(window?: number): SeriesScanner {
    return new SeriesScanner(this.src, this.toc.series, this.seriesEnd, this.what, { window, checkCrc: true });
  }

  /** Symbols as raw UTF-8 bytes, in table order (views into the held symbol section). */
  *symbolBytes(): IterableIterator<Uint8Array> {
    const d = new Decbuf(this.syms, `${this.what} symbol table`, this.symBase);
    d.pos = 4;
    for (let i = 0; i < this.symbolCount; i++) yield d.bytes(d.uvarint());
  }

  /**
   * Read the whole index once and check everything a query does not touch: every series entry,
   * label index, postings list and the label offset table, each against its CRC (for `tools tsdb
   * analyze` and block validation). Memory: one read of the index minus what open() already holds.
   */
  async verify(): Promise<{ series: number; labelIndices: number; postingsLists: number }> {
    const t = this.toc;
    const start = t.series, end = this.size - TOC_LEN;
    const b = await this.src.read(start, end - start);
    const at = (off: number) => off - start;
    let series = 0, labelIndices = 0, postingsLists = 0;
    // Series: each at a 16-byte boundary, zero padding between.
    let pos = Math.ceil(t.series / 16) * 16;
    while (pos < this.seriesEnd) {
      if (b[at(pos)] === 0) { pos += 16; continue; }
      const s = this.decodeSeries(b.subarray(at(pos), at(this.seriesEnd)), pos / 16);
      if (s === null) throw new CodedError("corrupt", `${this.what} series ${pos / 16}: truncated at offset ${pos}`);
      series++;
      const d = new Decbuf(b, "", 0);
      d.pos = at(pos);
      const len = d.uvarint();
      pos = Math.ceil((start + d.pos + len + 4) / 16) * 16;
    }
    // Label indices and postings: `len be32 | body | crc` runs at 4-byte boundaries.
    const runs = (from: number, to: number, what: string, check: (body: Uint8Array, off: number) => void): number => {
      let n = 0;
      let p = Math.ceil(from / 4) * 4;
      while (p < to) {
        const { body, at: bodyAt } = section(b, at(p), start, `${this.what} ${what}`);
        if (bodyAt + body.length + 4 > to) throw new CodedError("corrupt", `${this.what} ${what}: section at offset ${p} runs past ${to}`);
        check(body, bodyAt);
        n++;
        p = Math.ceil((bodyAt + body.length + 4) / 4) * 4;
      }
      return n;
    };
    if (t.labelIndices > 0 && t.postings > t.labelIndices) {
      labelIndices = runs(t.labelIndices, t.postings, "label index", (body, off) => {
        const d = new Decbuf(body, `${this.what} label index`, off);
        const names = d.be32(), n = d.be32();
        if (body.length !== 8 + names * n * 4) d.fail(`label index of ${names} names x ${n} entries in ${body.length} bytes`, 0);
        for (let i = 0; i < names * n; i++) { const r = d.be32(); if (r >= this.symbolCount) d.fail(`symbol ref ${r} out of range`, d.pos - 4); }
      });
    }
    const postingsTo = t.labelIndicesTable > t.postings ? t.labelIndicesTable : t.postingsTable;
    postingsLists = runs(t.postings, postingsTo, "postings list", (body, off) => {
      const d = new Decbuf(body, `${this.what} postings list`, off);
      const n = d.be32();
      if (body.length !== 4 + n * 4) d.fail(`postings list of ${n} entries in ${body.length} bytes`, 0);
      let prev = -1;
      for (let i = 0; i < n; i++) { const r = d.be32(); if (r <= prev) d.fail(`postings not strictly increasing (${r} after ${prev})`, d.pos - 4); prev = r; }
    });
    // Prometheus 3.x writes no label offset table: its TOC entry equals the postings table's.
    if (t.labelIndicesTable > 0 && t.labelIndicesTable !== t.postingsTable) {
      const { body, at: off } = section(b, at(t.labelIndicesTable), start, `${this.what} label offset table`);
      const d = new Decbuf(body, `${this.what} label offset table`, off);
      const n = d.be32();
      for (let i = 0; i < n; i++) {
        const k = d.uvarint();
        for (let j = 0; j < k; j++) d.skip(d.uvarint());
        const o = d.uvarint();
        if (o < t.labelIndices || o >= t.postings) d.fail(`label index offset ${o} outside the label indices`, d.pos);
      }
    }
    return { series, labelIndices, postingsLists };
  }

  /**
   * decodeSeries of b[off...] without cursor objects or views (once per series a query reads): the
   * common well-formed case inline; anything unusual (short, corrupt) goes to decodeSeries, which gives
   * the same answer or the exact error.
   */
  decodeSeriesAt(b: Uint8Array, off: number, ref: number): SeriesEntry | null {
    const n = b.length;
    let p = off, len = 0, mul = 1;
    for (let k = 0; ; k++) {
      if (p >= n || k >= 9) return this.decodeSeries(b.subarray(off), ref);
      const c = b[p++]!;
      len += (c & 0x7f) * mul;
      if (c < 0x80) break;
      mul *= 128;
    }
    const start = p, end = start + len;
    if (end + 4 > n) return this.decodeSeries(b.subarray(off), ref);
    const got = ((b[end]! << 24) | (b[end + 1]! << 16) | (b[end + 2]! << 8) | b[end + 3]!) >>> 0;
    if (crc32c(b, start, end) !== got) return this.decodeSeries(b.subarray(off), ref);
    VP = start;
    const nl = uv(b, end);
    if (nl < 0 || nl > len) return this.decodeSeries(b.subarray(off), ref);
    const labels: Label[] = new Array(nl);
    for (let i = 0; i < nl; i++) {
      const k = uv(b, end), v = uv(b, end);
      if (v < 0 || k < 0) return this.decodeSeries(b.subarray(off), ref);
      labels[i] = { name: this.symbol(k), value: this.symbol(v) };
    }
    const nc = uv(b, end);
    if (nc < 0 || nc > len) return this.decodeSeries(b.subarray(off), ref);
    const chunks: ChunkMeta[] = new Array(nc);
    if (nc > 0) {
      const z = uv(b, end), d = uv(b, end), r = uv(b, end);
      if (z < 0 || d < 0 || r < 0) return this.decodeSeries(b.subarray(off), ref);
      let mint = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      let maxt = mint + d;
      let cref = r;
      chunks[0] = { ref: cref, minTime: mint, maxTime: maxt };
      for (let i = 1; i < nc; i++) {
        const a = uv(b, end), e = uv(b, end), y = uv(b, end);
        if (a < 0 || e < 0 || y < 0) return this.decodeSeries(b.subarray(off), ref);
        mint = maxt + a;
        maxt = mint + e;
        cref += y % 2 === 0 ? y / 2 : -(y + 1) / 2;
        chunks[i] = { ref: cref, minTime: mint, maxTime: maxt };
      }
    }
    if (VP !== end) return this.decodeSeries(b.subarray(off), ref);
    return { ref, labels, chunks };
  }

  /** Decode one series entry from bytes starting at its offset; null when b is too short for it. */
  decodeSeries(b: Uint8Array, ref: number): SeriesEntry | null {
    const at = ref * 16;
    const d = new Decbuf(b, `${this.what} series ${ref}`, at);
    if (b.length < 1) return null;
    let len: number;
    try { len = d.uvarint(); } catch (e) { if (b.length >= 10) throw e; return null; }
    const start = d.pos;
    if (start + len + 4 > b.length) {
      if (at + start + len + 4 > this.seriesEnd) d.fail(`series length ${len} runs past the series section end ${this.seriesEnd}`, 0);
      return null;
    }
    const want = crc32c(b, start, start + len);
    const got = new DataView(b.buffer, b.byteOffset + start + len, 4).getUint32(0);
    if (want !== got) d.fail(`crc mismatch (stored ${hex(got)}, computed ${hex(want)})`, start + len);
    const sd = new Decbuf(b.subarray(start, start + len), `${this.what} series ${ref}`, at + start);
    const nl = sd.uvarint();
    const labels: Label[] = new Array(nl);
    for (let i = 0; i < nl; i++) labels[i] = { name: this.symbol(sd.uvarint()), value: this.symbol(sd.uvarint()) };
    const nc = sd.uvarint();
    const chunks: ChunkMeta[] = new Array(nc);
    if (nc > 0) {
      let mint = sd.varint();
      let maxt = mint + sd.uvarint();
      let cref = sd.uvarint();
      chunks[0] = { ref: cref, minTime: mint, maxTime: maxt };
      for (let i = 1; i < nc; i++) {
        mint = maxt + sd.uvarint();
        maxt = mint + sd.uvarint();
        cref += sd.varint();
        chunks[i] = { ref: cref, minTime: mint, maxTime: maxt };
      }
    }
    if (sd.len !== 0) sd.fail(`${sd.len} trailing bytes in series entry`);
    return { ref, labels, chunks };
  }

  /** Read series entries by ref, in the given order, coalescing nearby refs into few range reads. */
  async series(refs: ArrayLike<number>, estimate = 512, maxGap = 64 * 1024): Promise<SeriesEntry[]> {
    const n = refs.length;
    const out: SeriesEntry[] = new Array(n);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => refs[a]! - refs[b]!);
    const ranges: { start: number; end: number; members: number[] }[] = [];
    for (const i of order) {
      const off = refs[i]! * 16;
      if (off < this.toc.series || off >= this.seriesEnd) throw new CodedError("corrupt", `${this.what}: series ref ${refs[i]} (offset ${off}) outside the series section [${this.toc.series}, ${this.seriesEnd})`);
      const last = ranges[ranges.length - 1];
      if (last && off - last.end <= maxGap && off + estimate - last.start <= 4 << 20) {
        last.end = Math.min(Math.max(last.end, off + estimate), this.seriesEnd);
        last.members.push(i);
      } else {
        ranges.push({ start: off, end: Math.min(off + estimate, this.seriesEnd), members: [i] });
      }
    }
    await Promise.all(ranges.map(async (r) => {
      const b = await this.src.read(r.start, r.end - r.start);
      for (const i of r.members) {
        const off = refs[i]! * 16;
        let s = this.decodeSeriesAt(b, off - r.start, refs[i]!);
        if (s === null) s = await this.readOneSeries(refs[i]!);
        out[i] = s;
      }
    }));
    return out;
  }

  private async readOneSeries(ref: number): Promise<SeriesEntry> {
    const off = ref * 16;
    const hdr = await this.src.read(off, Math.min(10, this.seriesEnd - off));
    const d = new Decbuf(hdr, `${this.what} series ${ref}`, off);
    const len = d.uvarint();
    const total = d.pos + len + 4;
    if (off + total > this.seriesEnd) d.fail(`series length ${len} runs past the series section end ${this.seriesEnd}`, 0);
    const s = this.decodeSeries(await this.src.read(off, total), ref);
    if (s === null) return d.fail(`series entry truncated`, 0);
    return s;
  }
}

/** A `len be32 | body | crc32c` section at b[at]; checks the CRC. `base` is b[0]'s file offset. */
function section(b: Uint8Array, at: number, base: number, what: string): { body: Uint8Array; at: number } {
  const d = new Decbuf(b, what, base);
  d.pos = at;
  const len = d.be32();
  if (len + 4 > d.len) d.fail(`section length ${len} runs past the available ${d.len} bytes`, at);
  const body = d.bytes(len);
  const crcAt = d.pos;
  const got = d.be32();
  const want = crc32c(body);
  if (got !== want) d.fail(`crc mismatch (stored ${hex(got)}, computed ${hex(want)})`, crcAt);
  return { body, at: base + at + 4 };
}

// Module-level cursor of uv(): no object per call in decodeSeriesAt.
let VP = 0;

/** The uvarint at VP (before `end`), VP moved past it; -1 when it runs past `end` or past 2^53. */
function uv(b: Uint8Array, end: number): number {
  let x = 0, mul = 1, p = VP;
  for (let k = 0; k < 8; k++) {
    if (p >= end) return -1;
    const c = b[p++]!;
    x += (c & 0x7f) * mul;
    if (c < 0x80) { if (x > Number.MAX_SAFE_INTEGER) return -1; VP = p; return x; }
    mul *= 128;
  }
  return -1; // 8 bytes carry 56 bits: longer ones are left to the checked decoder
}

export function hex(v: number): string { return "0x" + (v >>> 0).toString(16).padStart(8, "0"); }

// ---------------------------------------------------------------------------------------------
// Series scanning (shared by the writer's postings pass and compaction's sequential reads)

/** A series entry with its labels as symbol refs (name, value pairs), not strings. */
export interface SeriesRefsEntry {
  ref: number;
  /** Symbol refs: name0, value0, name1, value1, … */
  labels: Uint32Array;
  chunks: ChunkMeta[];
}

/** One raw series entry: its ref and body (labels and chunks, without length and CRC). */
export interface RawSeries { ref: number; body: Uint8Array; at: number }

/**
 * Reads the series entries in [start, end) of `src` in order, in windows of about `window` bytes
 * (sequential reads, whatever the number of series). Entries sit at 16-byte boundaries with zero padding
 * between them. With `checkCrc`, each body is checked against its CRC.
 */
export class SeriesScanner {
  private b: Uint8Array = new Uint8Array(0);
  private bStart: number;
  private pos: number;
  private readonly window: number;

  constructor(
    private readonly src: ByteSource, start: number, private readonly end: number, private readonly what: string,
    private readonly o: { window?: number; checkCrc?: boolean } = {},
  ) {
    this.pos = Math.ceil(start / 16) * 16;
    this.bStart = this.pos;
    this.window = o.window ?? 1 << 20;
  }

  private async refill(need: number): Promise<void> {
    const { pos, end } = this;
    if (pos + need > end) throw new CodedError("corrupt", `${this.what} series ${pos / 16}: truncated at offset ${pos} (needs ${need} bytes, the series section ends at ${end})`);
    this.b = await this.src.read(pos, Math.min(end - pos, Math.max(this.window, need)));
    this.bStart = pos;
  }

  /** Appends up to `max` entries to `out`; returns how many (0: the section is done). */
  async next(max: number, out: RawSeries[]): Promise<number> {
    return this.scan(max, (ref, b, q, len, at) => { out.push({ ref, body: b.subarray(q, q + len), at }); });
  }

  /** Appends up to `max` decoded entries (labels as symbol refs) to `out`; returns how many. */
  async nextEntries(max: number, out: SeriesRefsEntry[]): Promise<number> {
    const what = this.what;
    return this.scan(max, (ref, b, q, len, at) => { out.push(decodeSeriesRefs(b, ref, at, what, q, q + len)); });
  }

  private async scan(max: number, emit: (ref: number, b: Uint8Array, q: number, len: number, at: number) => void): Promise<number> {
    let got = 0;
    while (got < max && this.pos < this.end) {
      if (this.pos >= this.bStart + this.b.length) { await this.refill(1); continue; }
      const b = this.b, p = this.pos - this.bStart;
      // A zero byte at a boundary is padding (no entry has length 0).
      if (b[p] === 0) { this.pos += 16; continue; }
      let len = 0, mul = 1, q = p, ok = false;
      for (let k = 0; k < 5 && q < b.length; k++) {
        const c = b[q++]!;
        len += (c & 0x7f) * mul;
        mul *= 128;
        if (c < 0x80) { ok = true; break; }
      }
      if (!ok) {
        if (q - p >= 5) throw new CodedError("corrupt", `${this.what} series ${this.pos / 16}: bad length varint at offset ${this.pos}`);
        await this.refill(Math.min(5, this.end - this.pos));
        continue;
      }
      const hdr = q - p;
      if (q + len + 4 > b.length) { await this.refill(hdr + len + 4); continue; }
      const ref = this.pos / 16;
      if (this.o.checkCrc) {
        const stored = ((b[q + len]! << 24) | (b[q + len + 1]! << 16) | (b[q + len + 2]! << 8) | b[q + len + 3]!) >>> 0;
        const calc = crc32c(b, q, q + len);
        if (stored !== calc) throw new CodedError("corrupt", `${this.what} series ${ref}: crc mismatch (stored ${hex(stored)}, computed ${hex(calc)}) at offset ${this.bStart + q + len}`);
      }
      emit(ref, b, q, len, this.bStart + q);
      got++;
      this.pos = Math.ceil((this.pos + hdr + len + 4) / 16) * 16;
    }
    return got;
  }
}

/** Call fn for every series entry in [start, end) of src, in order (see SeriesScanner). */
export async function walkSeries(
  src: ByteSource, start: number, end: number, what: string,
  fn: (ref: number, body: Uint8Array, bodyAt: number) => void | Promise<void>,
  o: { window?: number; checkCrc?: boolean } = {},
): Promise<void> {
  const sc = new SeriesScanner(src, start, end, what, o);
  const batch: RawSeries[] = [];
  for (;;) {
    batch.length = 0;
    if ((await sc.next(4096, batch)) === 0) return;
    for (const e of batch) await fn(e.ref, e.body, e.at);
  }
}

// Module-level cursor for decodeSeriesRefs: no closure or object per call (it runs once per series
// read in a compaction).
let dsBody: Uint8Array = new Uint8Array(0);
let dsPos = 0;
let dsEnd = 0;
let dsBad = "";

function dsUvarint(): number {
  let x = 0, mul = 1;
  const b = dsBody, n = dsEnd;
  for (let k = 0; k < 10; k++) {
    if (dsPos >= n) { dsBad = "truncated varint"; return 0; }
    const c = b[dsPos++]!;
    x += (c & 0x7f) * mul;
    if (c < 0x80) return x;
    mul *= 128;
  }
  dsBad = "varint overflows 64 bits";
  return 0;
}

function dsVarint(): number {
  const u = dsUvarint();
  return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
}

/** Decode a series body into symbol refs and chunk metas (hot in compaction: no cursor object). */
export function decodeSeriesRefs(body: Uint8Array, ref: number, at: number, what: string, start = 0, end = body.length): SeriesRefsEntry {
  dsBody = body;
  dsPos = start;
  dsEnd = end;
  dsBad = "";
  const n = end - start;
  const nl = dsUvarint();
  if (nl * 2 > n) dsBad ||= `${nl} labels do not fit a series entry of ${n} bytes`;
  const labels = new Uint32Array(dsBad ? 0 : nl * 2);
  for (let i = 0; i < labels.length && !dsBad; i++) labels[i] = dsUvarint();
  const nc = dsBad ? 0 : dsUvarint();
  if (nc > n) dsBad ||= `${nc} chunks do not fit a series entry of ${n} bytes`;
  const chunks: ChunkMeta[] = new Array(dsBad ? 0 : nc);
  if (chunks.length > 0) {
    let mint = dsVarint();
    let maxt = mint + dsUvarint();
    let cref = dsUvarint();
    chunks[0] = { ref: cref, minTime: mint, maxTime: maxt };
    for (let i = 1; i < nc; i++) {
      mint = maxt + dsUvarint();
      maxt = mint + dsUvarint();
      cref += dsVarint();
      chunks[i] = { ref: cref, minTime: mint, maxTime: maxt };
    }
  }
  if (!dsBad && dsPos !== end) dsBad = `${end - dsPos} trailing bytes in series entry`;
  if (dsBad) throw new CodedError("corrupt", `${what} series ${ref}: ${dsBad} at offset ${at + dsPos - start}`);
  return { ref, labels, chunks };
}

/** Compare two label sets given as symbol refs of one sorted symbol table (the order of compareLabels). */
export function compareLabelRefs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

// ---------------------------------------------------------------------------------------------
// Writer

const enc8 = new TextEncoder();

function cmpU8(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * A sorted symbol table held as UTF-8 bytes plus one offset per symbol: about the size of the index's
 * symbol section, much less than a Map of strings. Refs are positions.
 */
export class SymbolTable {
  private buf = new Uint8Array(1 << 12);
  private len = 0;
  private offs = new Uint32Array(256);
  count = 0;

  /** Append the next symbol; it must sort strictly after the previous one (bytewise, Go order). */
  add(b: Uint8Array, what = "symbol table"): void {
    if (this.count > 0 && cmpU8(this.bytes(this.count - 1), b) >= 0) {
      throw new CodedError("bad_data", `${what}: symbol ${JSON.stringify(utf8.decode(b))} is not after ${JSON.stringify(this.string(this.count - 1))}`);
    }
    if (this.len + b.length > 0xffffffff) throw new CodedError("resource_exhausted", `${what}: symbols exceed 4 GiB`);
    if (this.len + b.length > this.buf.length) {
      const nb = new Uint8Array(Math.max(this.buf.length * 2, this.len + b.length));
      nb.set(this.buf.subarray(0, this.len));
      this.buf = nb;
    }
    if (this.count + 2 > this.offs.length) {
      const no = new Uint32Array(this.offs.length * 2);
      no.set(this.offs);
      this.offs = no;
    }
    this.offs[this.count] = this.len;
    this.buf.set(b, this.len);
    this.len += b.length;
    this.count++;
    this.offs[this.count] = this.len;
  }

  bytes(ref: number): Uint8Array { return this.buf.subarray(this.offs[ref]!, this.offs[ref + 1]!); }
  string(ref: number): string { return utf8.decode(this.bytes(ref)); }

  /** The ref of `s`, or -1. */
  find(s: string): number {
    const b = enc8.encode(s);
    let lo = 0, hi = this.count - 1;
    while (lo <= hi) {
      const m = (lo + hi) >>> 1;
      const c = cmpU8(this.bytes(m), b);
      if (c === 0) return m;
      if (c < 0) lo = m + 1; else hi = m - 1;
    }
    return -1;
  }

  /** Bytes held (benchmarks, memory model). */
  get heldBytes(): number { return this.buf.byteLength + this.offs.byteLength; }
}

/** A growable typed array of uint32s. */
class U32s {
  a = new Uint32Array(64);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) { const b = new Uint32Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
}

/** A growable Float64Array. */
class F64s {
  a: Float64Array;
  n = 0;
  constructor(cap = 64) { this.a = new Float64Array(Math.max(1, cap)); }
  push(v: number): void {
    if (this.n === this.a.length) { const b = new Float64Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
}

/** A scratch file the index writer may use (written by appending, read back, then dropped). */
export interface ScratchFile {
  append(b: Uint8Array): Promise<void>;
  readback(): ByteSource;
  discard(): Promise<void>;
}

export interface IndexWriterOptions {
  /**
   * Reads back what has been written to the index so far. With it and `scratch`, postings are built as
   * Prometheus' index writer does: after the series, by re-reading the series section in batches of label
   * names, instead of holding every postings list in memory while series are added.
   */
  readback?: () => ByteSource;
  scratch?: ScratchFile;
  /** Streaming: postings entries held at once before another pass over the series (default 4M). */
  postingsBatch?: number;
  /** Tests: sort postings with the fallback used when (value, series) keys do not fit 53 bits. */
  unpackedKeys?: boolean;
  /**
   * Write the label-index sections and their offset table (default true: Prometheus 2.42's layout).
   * false: Prometheus 3.x's layout (what Thanos v0.41 writes), where the TOC points both label-index
   * offsets at the postings sections.
   */
  labelIndices?: boolean;
}

/**
 * Index writer: symbols first (all of them, up front), then series in label order, then finish() writes
 * label indices, postings and the tables.
 *
 * Memory: the symbol table (as bytes), the label names with their postings counts, and the postings
 * offset table (three numbers per distinct label pair). Postings lists themselves are held only in the
 * in-memory mode (no readback available, e.g. writing straight into a bucket); in the streaming mode
 * they are built in batches bounded by `postingsBatch` (or the largest single label name), written to a
 * scratch file, then copied into place. Both modes write the same bytes.
 */
export class IndexWriter {
  private buf = new Encbuf(1 << 16);
  private pos = 0;
  private syms = new SymbolTable();
  /** String lookups for start(): refs by symbol (null in startSorted mode: binary search). */
  private symRefs: Map<string, number> | null = null;
  /** Memory mode: postings by name ref, value ref. */
  private postings = new Map<number, Map<number, number[]>>();
  private all: number[] = [];
  /** Postings count per label name ref (both modes; streaming batches by it). */
  private nameCounts = new Map<number, number>();
  private numSeries = 0;
  private last: Uint32Array | null = null;
  private toc: Toc = { symbols: 0, series: 0, labelIndices: 0, labelIndicesTable: 0, postings: 0, postingsTable: 0 };
  private stage: "new" | "series" | "done" = "new";
  private readonly streaming: boolean;
  /** Scratch for one series entry (reused). */
  private readonly entry = new Encbuf(256);

  constructor(private readonly out: (b: Uint8Array) => Promise<void>, readonly what = "index", private readonly opts: IndexWriterOptions = {}) {
    this.streaming = opts.readback !== undefined && opts.scratch !== undefined;
  }

  private async flush(force = false): Promise<void> {
    if (this.buf.len === 0 || (!force && this.buf.len < 1 << 20)) return;
    const b = this.buf.get().slice();
    this.pos += b.length;
    this.buf.reset();
    await this.out(b);
  }

  private get off(): number { return this.pos + this.buf.len; }

  private padTo(align: number): void { while (this.off % align !== 0) this.buf.byte(0); }

  /** Every label name and value of every series that will be added (any order, duplicates allowed). */
  async start(symbols: Iterable<string>): Promise<void> {
    // "" is always a symbol: Prometheus' head adds it (the all-postings key), so with it our index is
    // byte-identical to one promtool writes for the same series and chunks.
    const list = [...new Set(symbols).add("")].sort(compareStrings);
    this.symRefs = new Map();
    list.forEach((s, i) => this.symRefs!.set(s, i));
    await this.startSorted(list);
  }

  /**
   * Symbols in strictly increasing byte order (Go string order), e.g. the merged symbol tables of the
   * blocks being compacted. Series are then added with addSeriesRefs (or addSeries, by binary search).
   */
  async startSorted(symbols: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<void> {
    if (this.stage !== "new") throw new CodedError("internal", `${this.what}: start() called twice`);
    for await (const s of symbols as AsyncIterable<string | Uint8Array>) this.syms.add(typeof s === "string" ? enc8.encode(s) : s, `${this.what} symbols`);
    this.buf.be32(INDEX_MAGIC);
    this.buf.byte(2);
    this.toc.symbols = this.off;
    // len | count | (uvarint len, bytes)* | crc: the length is known from the table.
    let bodyLen = 4;
    for (let i = 0; i < this.syms.count; i++) { const n = this.syms.bytes(i).length; bodyLen += uvarintSize(n) + n; }
    if (bodyLen > 0xffffffff) throw new CodedError("resource_exhausted", `${this.what}: symbol table exceeds 4 GiB`);
    this.buf.be32(bodyLen);
    let from = this.buf.len, crc = 0;
    this.buf.be32(this.syms.count);
    for (let i = 0; i < this.syms.count; i++) {
      this.buf.uvarintBytes(this.syms.bytes(i));
      if (this.buf.len >= 1 << 20) {
        crc = crc32c(this.buf.b, from, this.buf.len, crc);
        await this.flush(true);
        from = 0;
      }
    }
    crc = crc32c(this.buf.b, from, this.buf.len, crc);
    this.buf.be32(crc);
    this.toc.series = this.off;
    this.stage = "series";
    await this.flush();
  }

  /** Symbol string of a ref (error messages, tests). */
  symbol(ref: number): string { return this.syms.string(ref); }

  private refsDebug(refs: ArrayLike<number>): string {
    const out: string[] = [];
    for (let i = 0; i + 1 < refs.length; i += 2) out.push(`${this.syms.string(refs[i]!)}=${JSON.stringify(this.syms.string(refs[i + 1]!))}`);
    return "{" + out.join(", ") + "}";
  }

  /** Add one series (label order, strictly increasing); returns its ref. Chunks in time order. */
  async addSeries(labels: Labels, chunks: ChunkMeta[]): Promise<number> {
    const refs = new Uint32Array(labels.length * 2);
    for (let i = 0; i < labels.length; i++) {
      const l = labels[i]!;
      refs[2 * i] = this.sym(l.name, labels);
      refs[2 * i + 1] = this.sym(l.value, labels);
    }
    return this.addSeriesRefs(refs, chunks);
  }

  private sym(s: string, ls: Labels): number {
    const r = this.symRefs ? this.symRefs.get(s) ?? -1 : this.syms.find(s);
    if (r < 0) throw new CodedError("internal", `${this.what}: ${JSON.stringify(s)} of series ${labelsDebug(ls)} was not among the symbols given to start()`);
    return r;
  }

  /** Add one series given as symbol refs (name, value pairs) of this index's symbol table. */
  async addSeriesRefs(refs: Uint32Array, chunks: ChunkMeta[]): Promise<number> {
    if (this.stage !== "series") throw new CodedError("internal", `${this.what}: addSeries() before start() or after finish()`);
    if (this.last !== null && compareLabelRefs(this.last, refs) >= 0) {
      throw new CodedError("bad_data", `${this.what}: series out of order: ${this.refsDebug(refs)} added after ${this.refsDebug(this.last)}`);
    }
    for (let i = 0; i < refs.length; i++) {
      if (refs[i]! >= this.syms.count) throw new CodedError("internal", `${this.what}: symbol ref ${refs[i]} out of range (${this.syms.count} symbols)`);
    }
    this.last = refs;
    this.padTo(16);
    const ref = this.off / 16;
    if (ref > 0xffffffff) throw new CodedError("resource_exhausted", `${this.what}: index exceeds 64 GiB of series (ref ${ref} does not fit 32 bits)`);
    const e = this.entry;
    e.reset();
    e.uvarint(refs.length / 2);
    for (let i = 0; i < refs.length; i += 2) {
      const n = refs[i]!, v = refs[i + 1]!;
      e.uvarint(n);
      e.uvarint(v);
      this.nameCounts.set(n, (this.nameCounts.get(n) ?? 0) + 1);
      if (!this.streaming) {
        let byValue = this.postings.get(n);
        if (!byValue) this.postings.set(n, (byValue = new Map()));
        let list = byValue.get(v);
        if (!list) byValue.set(v, (list = []));
        list.push(ref);
      }
    }
    if (!this.streaming) this.all.push(ref);
    this.numSeries++;
    e.uvarint(chunks.length);
    let prevMaxt = 0, prevRef = 0;
    for (let i = 0; i < chunks.length; i++) {
      const c = chunks[i]!;
      if (i === 0) {
        e.varint(c.minTime);
        e.uvarint(c.maxTime - c.minTime);
        e.uvarint(c.ref);
      } else {
        if (c.minTime <= prevMaxt) throw new CodedError("bad_data", `${this.what}: chunks of ${this.refsDebug(refs)} overlap or are out of order (chunk ${i} starts at ${c.minTime}, previous ends at ${prevMaxt})`);
        e.uvarint(c.minTime - prevMaxt);
        e.uvarint(c.maxTime - c.minTime);
        e.varint(c.ref - prevRef);
      }
      if (c.maxTime < c.minTime) throw new CodedError("bad_data", `${this.what}: chunk ${i} of ${this.refsDebug(refs)} ends (${c.maxTime}) before it starts (${c.minTime})`);
      prevMaxt = c.maxTime;
      prevRef = c.ref;
    }
    this.buf.uvarint(e.len);
    this.buf.bytes(e.get());
    this.buf.be32(crc32c(e.get()));
    await this.flush();
    return ref;
  }

  async finish(): Promise<void> {
    if (this.stage !== "series") throw new CodedError("internal", `${this.what}: finish() before start() or twice`);
    this.stage = "done";
    const names = [...this.nameCounts.keys()].sort((a, b) => a - b);
    // Postings offset table entries, in order: (name ref, value ref, offset relative to the postings
    // section start). The all-postings list ("", "") comes first.
    const tName = new U32s(), tValue = new U32s(), tOff = new F64s();
    this.toc.labelIndices = this.off;
    if (this.streaming) await this.postingsToScratch(names, tName, tValue, tOff);
    else this.postingsTable(names, tName, tValue, tOff);

    // Label indices, one per name: its value refs, sorted (= the table entries of that name); Prometheus
    // 3.x writes none.
    const withLabelIndices = this.opts.labelIndices ?? true;
    const labelIndexOffsets: number[] = [];
    let k = 1;
    for (const name of withLabelIndices ? names : []) {
      this.padTo(4);
      labelIndexOffsets.push(this.off);
      let j = k;
      while (j < tName.n && tName.a[j] === name) j++;
      this.buf.be32(8 + (j - k) * 4);
      const start = this.buf.len;
      this.buf.be32(1);
      this.buf.be32(j - k);
      for (let i = k; i < j; i++) this.buf.be32(tValue.a[i]!);
      this.buf.be32(crc32c(this.buf.b, start, this.buf.len));
      k = j;
      await this.flush();
    }
    // Postings: every list is a multiple of 4 bytes long, so after aligning the start all stay aligned.
    // The TOC points at the section before that padding (as Prometheus' writer records it).
    this.toc.postings = this.off;
    this.padTo(4);
    const postingsStart = this.off;
    if (this.streaming) await this.copyScratch();
    else await this.writeMemoryPostings(names);

    // Label offset table.
    this.toc.labelIndicesTable = this.off;
    if (withLabelIndices) {
      let body = 4;
      names.forEach((n, i) => { const l = this.syms.bytes(n).length; body += 1 + uvarintSize(l) + l + uvarintSize(labelIndexOffsets[i]!); });
      this.buf.be32(body);
      const start = this.buf.len;
      this.buf.be32(names.length);
      names.forEach((n, i) => { this.buf.uvarint(1); this.buf.uvarintBytes(this.syms.bytes(n)); this.buf.uvarint(labelIndexOffsets[i]!); });
      this.buf.be32(crc32c(this.buf.b, start, this.buf.len));
      await this.flush();
    }
    // Postings offset table (streamed: its length is computed first).
    this.toc.postingsTable = this.off;
    {
      const base = postingsStart;
      const keyBytes = (i: number) => (i === 0 ? [EMPTY, EMPTY] : [this.syms.bytes(tName.a[i]!), this.syms.bytes(tValue.a[i]!)]);
      let body = 4;
      for (let i = 0; i < tName.n; i++) {
        const [nb, vb] = keyBytes(i);
        body += 1 + uvarintSize(nb!.length) + nb!.length + uvarintSize(vb!.length) + vb!.length + uvarintSize(base + tOff.a[i]!);
      }
      if (body > 0xffffffff) throw new CodedError("resource_exhausted", `${this.what}: postings offset table exceeds 4 GiB`);
      this.buf.be32(body);
      let from = this.buf.len;
      let crc = 0;
      this.buf.be32(tName.n);
      for (let i = 0; i < tName.n; i++) {
        const [nb, vb] = keyBytes(i);
        this.buf.uvarint(2);
        this.buf.uvarintBytes(nb!);
        this.buf.uvarintBytes(vb!);
        this.buf.uvarint(base + tOff.a[i]!);
        if (this.buf.len >= 1 << 20) {
          crc = crc32c(this.buf.b, from, this.buf.len, crc);
          await this.flush(true);
          from = 0;
        }
      }
      crc = crc32c(this.buf.b, from, this.buf.len, crc);
      this.buf.be32(crc);
    }
    const tocStart = this.buf.len;
    const t = this.toc;
    for (const v of [t.symbols, t.series, t.labelIndices, t.labelIndicesTable, t.postings, t.postingsTable]) this.buf.be64(v);
    this.buf.be32(crc32c(this.buf.b, tocStart, this.buf.len));
    await this.flush(true);
    this.postings.clear();
    this.all = [];
  }

  /** Memory mode: the table entries from the postings held in memory. */
  private postingsTable(names: number[], tName: U32s, tValue: U32s, tOff: F64s): void {
    let off = 0;
    tName.push(0); tValue.push(0); tOff.push(off);
    off += 12 + this.all.length * 4;
    for (const n of names) {
      const byValue = this.postings.get(n)!;
      for (const v of [...byValue.keys()].sort((a, b) => a - b)) {
        tName.push(n); tValue.push(v); tOff.push(off);
        off += 12 + byValue.get(v)!.length * 4;
      }
    }
  }

  private async writeMemoryPostings(names: number[]): Promise<void> {
    const writeList = async (refs: number[]) => {
      this.buf.be32(4 + refs.length * 4);
      const start = this.buf.len;
      this.buf.be32(refs.length);
      for (const r of refs) this.buf.be32(r);
      this.buf.be32(crc32c(this.buf.b, start, this.buf.len));
      await this.flush();
    };
    await writeList(this.all);
    for (const n of names) {
      const byValue = this.postings.get(n)!;
      for (const v of [...byValue.keys()].sort((a, b) => a - b)) await writeList(byValue.get(v)!);
    }
  }

  /**
   * Streaming mode: build every postings list by scanning the series section written so far, a batch of
   * label names per pass, and append them to the scratch file in table order.
   */
  private async postingsToScratch(names: number[], tName: U32s, tValue: U32s, tOff: F64s): Promise<void> {
    await this.flush(true);
    const src = this.opts.readback!();
    const scratch = this.opts.scratch!;
    const seriesStart = this.toc.series, seriesEnd = this.off;
    const what = `${this.what} (postings pass)`;
    const out = new Encbuf(1 << 16);
    let written = 0;
    const emit = async (force = false) => {
      if (out.len === 0 || (!force && out.len < 1 << 20)) return;
      const b = out.get().slice();
      written += b.length;
      out.reset();
      await scratch.append(b);
    };
    // 1. All postings: every series ref, in order.
    tName.push(0); tValue.push(0); tOff.push(0);
    out.be32(4 + this.numSeries * 4);
    let crc = 0, from = out.len;
    out.be32(this.numSeries);
    let seen = 0;
    await walkSeries(src, seriesStart, seriesEnd, what, async (ref) => {
      out.be32(ref);
      seen++;
      if (out.len >= 1 << 20) { crc = crc32c(out.b, from, out.len, crc); await emit(true); from = 0; }
    });
    if (seen !== this.numSeries) throw new CodedError("internal", `${this.what}: read back ${seen} series, wrote ${this.numSeries}`);
    crc = crc32c(out.b, from, out.len, crc);
    out.be32(crc);
    // 2. Label names in batches: one pass over the series per batch, collecting (value ref, series ref)
    //    keys per name, sorted, then written value by value.
    const budget = this.opts.postingsBatch ?? 4 << 20;
    const maxRef = Math.max(1, Math.floor(seriesEnd / 16));
    const refBits = Math.ceil(Math.log2(maxRef + 1));
    const packable = !this.opts.unpackedKeys && this.syms.count * 2 ** refBits < 2 ** 53;
    let i = 0;
    while (i < names.length) {
      const batch = new Map<number, F64s>();
      let c = 0;
      while (i < names.length && (batch.size === 0 || c + this.nameCounts.get(names[i]!)! <= budget)) {
        c += this.nameCounts.get(names[i]!)!;
        // Exactly its postings count: one allocation, no growth copies.
        batch.set(names[i]!, new F64s(packable ? this.nameCounts.get(names[i]!)! : 64));
        i++;
      }
      const seriesOf = new Map<number, U32s>(); // unpackable fallback: series refs beside the keys
      await walkSeries(src, seriesStart, seriesEnd, what, (ref, body) => {
        // body: uvarint count, then (name, value) uvarint pairs (written by us: no checks)
        dsBody = body;
        dsPos = 0;
        dsEnd = body.length;
        const nl = dsUvarint();
        for (let k = 0; k < nl; k++) {
          const n = dsUvarint(), v = dsUvarint();
          const keys = batch.get(n);
          if (!keys) continue;
          if (packable) keys.push(v * 2 ** refBits + ref);
          else { keys.push(v); let s = seriesOf.get(n); if (!s) seriesOf.set(n, (s = new U32s())); s.push(ref); }
        }
      });
      const scale = 2 ** refBits;
      for (const [n, keys] of batch) {
        const len = keys.n;
        // keys: value ref * 2^refBits + series ref, sorted in place; or, unpackable, two parallel arrays.
        let valueAt: (j: number) => number, refAt: (j: number) => number;
        if (packable) {
          const sorted = keys.a.subarray(0, len).sort();
          valueAt = (j) => Math.floor(sorted[j]! / scale);
          refAt = (j) => sorted[j]! % scale;
        } else {
          const s = seriesOf.get(n)!;
          const idx = Array.from({ length: len }, (_, j) => j).sort((x, y) => keys.a[x]! - keys.a[y]! || s.a[x]! - s.a[y]!);
          valueAt = (j) => keys.a[idx[j]!]!;
          refAt = (j) => s.a[idx[j]!]!;
        }
        let j = 0;
        while (j < len) {
          const v = valueAt(j);
          let e = j;
          while (e < len && valueAt(e) === v) e++;
          tName.push(n); tValue.push(v); tOff.push(written + out.len);
          out.be32(4 + (e - j) * 4);
          const start = out.len;
          out.be32(e - j);
          for (let q = j; q < e; q++) out.be32(refAt(q));
          out.be32(crc32c(out.b, start, out.len));
          await emit();
          j = e;
        }
        keys.a = new Float64Array(1); // let the batch's keys go before the next name's are sorted
      }
    }
    await emit(true);
  }

  /** Append the scratch postings to the index, then drop the scratch file. */
  private async copyScratch(): Promise<void> {
    await this.flush(true);
    const scratch = this.opts.scratch!;
    const src = scratch.readback();
    const size = await src.size();
    for (let o = 0; o < size; o += 1 << 20) {
      const b = await src.read(o, Math.min(1 << 20, size - o));
      this.pos += b.length;
      await this.out(b);
    }
    await scratch.discard();
  }

  /** Total bytes written (valid after finish()). */
  get size(): number { return this.off; }

  /** Bytes of symbols held (memory model, benchmarks). */
  get symbolBytesHeld(): number { return this.syms.heldBytes; }
}

const EMPTY = new Uint8Array(0);

function uvarintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) { v = Math.floor(v / 128); n++; }
  return n;
}

export function labelsDebug(ls: Labels): string {
  return "{" + ls.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(", ") + "}";
}
