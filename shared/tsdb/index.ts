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
  private symCache = new Map<number, string>();
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

  static async open(src: ByteSource, what: string): Promise<IndexReader> {
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

    // Postings offset table: to the TOC.
    const potBytes = await src.read(toc.postingsTable, limit - toc.postingsTable);
    const { body: potBody, at: potAt } = section(potBytes, 0, toc.postingsTable, `${what} postings offset table`);
    const pd = new Decbuf(potBody, `${what} postings offset table`, potAt);
    const potCount = pd.be32();
    const entries = potBody.subarray(4);
    const postingsEnd = toc.labelIndicesTable > toc.postings ? toc.labelIndicesTable : toc.postingsTable;
    const seriesEnd = Math.min(...[toc.labelIndices, toc.postings, toc.labelIndicesTable, toc.postingsTable, limit].filter((v) => v > toc.series));
    const r = new IndexReader(src, what, size, toc, symBody, symAt, symbolCount, offsets, entries, potAt + 4, potCount, postingsEnd, seriesEnd);
    r.indexPostingsTable();
    return r;
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
    let n = this.syms.length + this.symOffsets.byteLength + this.pot.length;
    for (const [k, v] of this.names) n += k.length + v.samples.byteLength + 16;
    return n;
  }

  symbol(ref: number): string {
    const c = this.symCache.get(ref);
    if (c !== undefined) return c;
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
    if (this.symCache.size >= 8192) this.symCache.clear();
    this.symCache.set(ref, s);
    return s;
  }

  *symbols(): IterableIterator<string> {
    const d = new Decbuf(this.syms, `${this.what} symbol table`, this.symBase);
    d.pos = 4;
    for (let i = 0; i < this.symbolCount; i++) yield d.uvarintStr();
  }

  /** Label names with postings, sorted (excluding the all-postings key ""). */
  labelNames(): string[] { return this.nameList.filter((n) => n !== ""); }

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
        let s = this.decodeSeries(b.subarray(off - r.start), refs[i]!);
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

export function hex(v: number): string { return "0x" + (v >>> 0).toString(16).padStart(8, "0"); }

// ---------------------------------------------------------------------------------------------
// Writer

/**
 * Streaming index writer: symbols first (all of them, up front), then series in label order, then
 * finish() writes label indices, postings and the tables. Memory: symbols + postings, not samples.
 */
export interface IndexWriterOptions {
  /**
   * Write the label-index sections and their offset table (default true: Prometheus 2.42's layout).
   * false: Prometheus 3.x's layout (what Thanos v0.41 writes), where the TOC points both label-index
   * offsets at the postings sections.
   */
  labelIndices?: boolean;
}

export class IndexWriter {
  private buf = new Encbuf(1 << 16);
  private pos = 0;
  private symRefs = new Map<string, number>();
  private postings = new Map<string, Map<string, number[]>>();
  private all: number[] = [];
  private last: Labels | null = null;
  private toc: Toc = { symbols: 0, series: 0, labelIndices: 0, labelIndicesTable: 0, postings: 0, postingsTable: 0 };
  private stage: "new" | "series" | "done" = "new";

  private readonly labelIndices: boolean;

  constructor(private readonly out: (b: Uint8Array) => Promise<void>, readonly what = "index", opts: IndexWriterOptions = {}) {
    this.labelIndices = opts.labelIndices ?? true;
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

  /** Every label name and value of every series that will be added. */
  async start(symbols: Iterable<string>): Promise<void> {
    // "" is always a symbol: Prometheus' head adds it (the all-postings key), so with it our index is
    // byte-identical to one promtool writes for the same series and chunks.
    await this.startSorted([...new Set(symbols).add("")].sort(compareStrings));
  }

  /** Symbols as given, in strictly increasing (Go string) order and without adding "": e.g. another index's table. */
  async startSorted(symbols: Iterable<string>): Promise<void> {
    if (this.stage !== "new") throw new CodedError("internal", `${this.what}: start() called twice`);
    const list = [...symbols];
    for (let i = 1; i < list.length; i++) {
      if (compareStrings(list[i - 1]!, list[i]!) >= 0) throw new CodedError("bad_data", `${this.what}: symbol ${JSON.stringify(list[i])} out of order after ${JSON.stringify(list[i - 1])}`);
    }
    list.forEach((s, i) => this.symRefs.set(s, i));
    this.buf.be32(INDEX_MAGIC);
    this.buf.byte(2);
    this.toc.symbols = this.off;
    const body = new Encbuf(1024);
    body.be32(list.length);
    for (const s of list) body.uvarintStr(s);
    this.buf.be32(body.len);
    this.buf.bytes(body.get());
    this.buf.be32(crc32c(body.get()));
    this.toc.series = this.off;
    this.stage = "series";
    await this.flush();
  }

  private sym(s: string, ls: Labels): number {
    const r = this.symRefs.get(s);
    if (r === undefined) throw new CodedError("internal", `${this.what}: ${JSON.stringify(s)} of series ${labelsDebug(ls)} was not among the symbols given to start()`);
    return r;
  }

  /** Add one series (label order, strictly increasing); returns its ref. Chunks in time order. */
  async addSeries(labels: Labels, chunks: ChunkMeta[]): Promise<number> {
    if (this.stage !== "series") throw new CodedError("internal", `${this.what}: addSeries() before start() or after finish()`);
    if (this.last !== null) {
      const c = compareLabels(this.last, labels);
      if (c >= 0) throw new CodedError("bad_data", `${this.what}: series out of order: ${labelsDebug(labels)} added after ${labelsDebug(this.last)}`);
    }
    this.last = labels;
    this.padTo(16);
    const ref = this.off / 16;
    if (ref > 0xffffffff) throw new CodedError("resource_exhausted", `${this.what}: index exceeds 64 GiB of series (ref ${ref} does not fit 32 bits)`);
    const e = new Encbuf(64);
    e.uvarint(labels.length);
    for (const l of labels) {
      e.uvarint(this.sym(l.name, labels));
      e.uvarint(this.sym(l.value, labels));
      let byValue = this.postings.get(l.name);
      if (!byValue) this.postings.set(l.name, (byValue = new Map()));
      let list = byValue.get(l.value);
      if (!list) byValue.set(l.value, (list = []));
      list.push(ref);
    }
    this.all.push(ref);
    e.uvarint(chunks.length);
    let prevMaxt = 0, prevRef = 0;
    chunks.forEach((c, i) => {
      if (i === 0) {
        e.varint(c.minTime);
        e.uvarint(c.maxTime - c.minTime);
        e.uvarint(c.ref);
      } else {
        if (c.minTime <= prevMaxt) throw new CodedError("bad_data", `${this.what}: chunks of ${labelsDebug(labels)} overlap or are out of order (chunk ${i} starts at ${c.minTime}, previous ends at ${prevMaxt})`);
        e.uvarint(c.minTime - prevMaxt);
        e.uvarint(c.maxTime - c.minTime);
        e.varint(c.ref - prevRef);
      }
      if (c.maxTime < c.minTime) throw new CodedError("bad_data", `${this.what}: chunk ${i} of ${labelsDebug(labels)} ends (${c.maxTime}) before it starts (${c.minTime})`);
      prevMaxt = c.maxTime;
      prevRef = c.ref;
    });
    this.buf.uvarint(e.len);
    this.buf.bytes(e.get());
    this.buf.be32(crc32c(e.get()));
    await this.flush();
    return ref;
  }

  async finish(): Promise<void> {
    if (this.stage !== "series") throw new CodedError("internal", `${this.what}: finish() before start() or twice`);
    this.stage = "done";
    const names = [...this.postings.keys()].sort(compareStrings);
    // Label indices, one per name: sorted value symbol refs (Prometheus 3.x writes none).
    this.toc.labelIndices = this.off;
    const labelIndexOffsets: number[] = [];
    for (const name of this.labelIndices ? names : []) {
      this.padTo(4);
      labelIndexOffsets.push(this.off);
      const values = [...this.postings.get(name)!.keys()].map((v) => this.symRefs.get(v)!).sort((a, b) => a - b);
      const e = new Encbuf(12 + values.length * 4);
      e.be32(1);
      e.be32(values.length);
      for (const v of values) e.be32(v);
      this.buf.be32(e.len);
      this.buf.bytes(e.get());
      this.buf.be32(crc32c(e.get()));
      await this.flush();
    }
    // Postings: the all-postings list first, then (name, value) in order; the table lists them in the same order.
    this.toc.postings = this.off;
    const table: { name: string; value: string; off: number }[] = [];
    const writeList = async (name: string, value: string, refs: number[]) => {
      this.padTo(4);
      table.push({ name, value, off: this.off });
      this.buf.be32(4 + refs.length * 4);
      const start = this.buf.len;
      this.buf.be32(refs.length);
      for (const r of refs) this.buf.be32(r);
      this.buf.be32(crc32c(this.buf.b, start, this.buf.len));
      await this.flush();
    };
    await writeList("", "", this.all);
    for (const name of names) {
      const byValue = this.postings.get(name)!;
      for (const value of [...byValue.keys()].sort(compareStrings)) await writeList(name, value, byValue.get(value)!);
    }
    // Label offset table.
    this.toc.labelIndicesTable = this.off;
    if (this.labelIndices) {
      const e = new Encbuf(1024);
      e.be32(names.length);
      names.forEach((n, i) => { e.uvarint(1); e.uvarintStr(n); e.uvarint(labelIndexOffsets[i]!); });
      this.buf.be32(e.len);
      this.buf.bytes(e.get());
      this.buf.be32(crc32c(e.get()));
    }
    // Postings offset table.
    this.toc.postingsTable = this.off;
    {
      const e = new Encbuf(1024);
      e.be32(table.length);
      for (const t of table) { e.uvarint(2); e.uvarintStr(t.name); e.uvarintStr(t.value); e.uvarint(t.off); }
      this.buf.be32(e.len);
      this.buf.bytes(e.get());
      this.buf.be32(crc32c(e.get()));
    }
    const tocStart = this.buf.len;
    const t = this.toc;
    for (const v of [t.symbols, t.series, t.labelIndices, t.labelIndicesTable, t.postings, t.postingsTable]) this.buf.be64(v);
    this.buf.be32(crc32c(this.buf.b, tocStart, this.buf.len));
    await this.flush(true);
    this.postings.clear();
    this.all = [];
  }

  /** Total bytes written (valid after finish()). */
  get size(): number { return this.off; }
}

export function labelsDebug(ls: Labels): string {
  return "{" + ls.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(", ") + "}";
}
