// Hand-written protobuf for the Series hot path, without reflection or per-field objects:
// - decode Prometheus' ChunkedReadResponse (remote read frames) into labels + chunk views;
// - encode a Thanos SeriesResponse{series} straight to bytes, chunk data copied once.
// protobuf-es' reflective fromBinary/create/toBinary cost several times the network read per series;
// these two functions are what lets a sidecar forward chunks at close to remote-read speed.
//
// Field numbers (prometheus/prompb, thanos storepb):
//   ChunkedReadResponse { repeated ChunkedSeries chunked_series = 1; int64 query_index = 2; }
//   ChunkedSeries       { repeated Label labels = 1; repeated Chunk chunks = 2; }
//   prompb.Chunk        { int64 min_time_ms = 1; int64 max_time_ms = 2; Encoding type = 3; bytes data = 4; }  (XOR = 1)
//   Label               { string name = 1; string value = 2; }
//   SeriesResponse      { oneof result { Series series = 1; string warning = 2; … } }
//   Series              { repeated Label labels = 1; repeated AggrChunk chunks = 2; }
//   AggrChunk           { int64 min_time = 1; int64 max_time = 2; Chunk raw = 3; … }
//   storepb.Chunk       { Encoding type = 1; bytes data = 2; optional uint64 hash = 3; }                  (XOR = 0)

import { CodedError } from "../encoding/errors.ts";
import { ProtoReader } from "../encoding/protoreader.ts";
import type { Label, Labels } from "../labels/labels.ts";
import { StringInterner } from "./intern.ts";
import { type Chunk, Encoding, toStorepbEncoding } from "../chunkenc/chunk.ts";
import { aggrSpans } from "../chunkenc/aggr.ts";
import { xxhash64Fast } from "../encoding/xxhash64wasm.ts";

export interface RawSeries {
  labels: Label[];
  /** Chunk data are views into the frame: not copied. */
  chunks: Chunk[];
  /**
   * The series' Label entries exactly as sent (consecutive field-1 records, a view into the frame), or
   * null when other fields came between them. prompb.Label and labelpb.ZLabel share field numbers, so
   * when the labels go out unchanged these bytes are the Series' label section verbatim.
   */
  labelBytes: Uint8Array | null;
}

const utf8enc = new TextEncoder();

const EMPTY = new Uint8Array(0);

/** Label names and values repeat across series: interned (see intern.ts). */
const labelStrings = new StringInterner();

/** Length of the length-delimited field at r.pos; returns its end offset, checked against `limit`. */
function lenEnd(r: ProtoReader, limit: number): number {
  const n = r.varint();
  const end = r.pos + n;
  if (end > limit) r.fail(`length ${n} runs past the end of its message (${limit - r.pos} bytes left)`);
  return end;
}

function skipTo(r: ProtoReader, wire: number, limit: number): void {
  r.skip(wire);
  if (r.pos > limit) r.fail("field runs past the end of its message");
}

function decodeLabel(r: ProtoReader, end: number): Label {
  let name = "", value = "";
  while (r.pos < end) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (w === 2 && (f === 1 || f === 2)) {
      const e = lenEnd(r, end);
      const v = labelStrings.get(r.b, r.pos, e);
      r.pos = e;
      if (f === 1) name = v; else value = v;
    } else skipTo(r, w, end);
  }
  return { name, value };
}

function decodeChunk(r: ProtoReader, end: number): Chunk {
  const c: Chunk = { minTime: 0, maxTime: 0, encoding: 0, data: EMPTY };
  while (r.pos < end) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (f === 1 && w === 0) c.minTime = r.varint();
    else if (f === 2 && w === 0) c.maxTime = r.varint();
    else if (f === 3 && w === 0) c.encoding = r.varint(); // prompb numbers chunks as Prometheus does
    else if (f === 4 && w === 2) { const e = lenEnd(r, end); c.data = r.b.subarray(r.pos, e); r.pos = e; }
    else skipTo(r, w, end);
  }
  return c;
}

function decodeChunkedSeries(r: ProtoReader, end: number): RawSeries {
  const s: RawSeries = { labels: [], chunks: [], labelBytes: null };
  // Label records [lStart, lEnd) while they are contiguous; -2 once anything came between them.
  let lStart = -1, lEnd = -1;
  while (r.pos < end) {
    const at = r.pos;
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (f === 1 && w === 2) {
      if (lStart === -1) lStart = at;
      else if (lEnd !== at) lStart = -2;
      const e = lenEnd(r, end);
      s.labels.push(decodeLabel(r, e));
      lEnd = r.pos;
    } else if (f === 2 && w === 2) { const e = lenEnd(r, end); s.chunks.push(decodeChunk(r, e)); }
    else skipTo(r, w, end);
  }
  if (lStart >= 0) s.labelBytes = r.b.subarray(lStart, lEnd);
  else if (lStart === -1) s.labelBytes = EMPTY;
  return s;
}

/** One remote-read frame. Chunk data stays a view into `b`. */
export function decodeChunkedReadResponse(b: Uint8Array, what = "ChunkedReadResponse"): { series: RawSeries[]; queryIndex: number } {
  const r = new ProtoReader(b, 0, b.length, what);
  const out: RawSeries[] = [];
  let queryIndex = 0;
  while (r.pos < b.length) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (f === 1 && w === 2) { const e = lenEnd(r, b.length); out.push(decodeChunkedSeries(r, e)); }
    else if (f === 2 && w === 0) queryIndex = r.varint();
    else r.skip(w);
  }
  return { series: out, queryIndex };
}

// ---- encoding ----

function varintLen(v: number): number {
  if (v < 0) return 10;
  let n = 1;
  while (v >= 128) { v = Math.floor(v / 128); n++; }
  return n;
}

function putVarint(b: Uint8Array, pos: number, v: number): number {
  if (v < 0) {
    let x = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) { b[pos++] = Number(x & 0x7fn) | 0x80; x >>= 7n; }
    b[pos++] = Number(x);
    return pos;
  }
  while (v >= 128) { b[pos++] = (v % 128) | 0x80; v = Math.floor(v / 128); }
  b[pos++] = v;
  return pos;
}

// proto3: empty strings/bytes and zero numbers are not written (as protobuf-es and Go do), so our bytes
// equal the reference encoders' byte for byte.
function bytesLen(n: number): number { return n === 0 ? 0 : 1 + varintLen(n) + n; }

/** ASCII strings stay strings (written char by char, length = byte length); others become UTF-8 bytes. */
function asciiOrBytes(s: string): Uint8Array | string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return utf8enc.encode(s);
  return s;
}

function putBytes(b: Uint8Array, pos: number, x: Uint8Array | string): number {
  pos = putVarint(b, pos, x.length);
  if (typeof x === "string") { for (let i = 0; i < x.length; i++) b[pos++] = x.charCodeAt(i); return pos; }
  b.set(x, pos);
  return pos + x.length;
}

/** A Series' label section (repeated Label labels = 1), as protobuf-es writes it. */
export function encodeLabels(labels: Labels): Uint8Array {
  const names: (Uint8Array | string)[] = new Array(labels.length), values: (Uint8Array | string)[] = new Array(labels.length);
  let size = 0;
  for (let i = 0; i < labels.length; i++) {
    const n = asciiOrBytes(labels[i]!.name), v = asciiOrBytes(labels[i]!.value);
    names[i] = n; values[i] = v;
    const l = bytesLen(n.length) + bytesLen(v.length);
    size += 1 + varintLen(l) + l;
  }
  const out = new Uint8Array(size);
  let pos = 0;
  for (let i = 0; i < labels.length; i++) {
    const n = names[i]!, v = values[i]!;
    out[pos++] = 0x0a; // Series.labels = 1
    pos = putVarint(out, pos, bytesLen(n.length) + bytesLen(v.length));
    if (n.length) { out[pos++] = 0x0a; pos = putBytes(out, pos, n); }
    if (v.length) { out[pos++] = 0x12; pos = putBytes(out, pos, v); }
  }
  return out;
}

/** A series ready to send: its encoded label section and chunks in Prometheus' numbering (XOR = 1). */
export interface OutSeries { labelBytes: Uint8Array; chunks: readonly Chunk[] }

function rawLen(c: Chunk): number {
  const t = toStorepbEncoding(c.encoding);
  return (t !== 0 ? 1 + varintLen(t) : 0) + bytesLen(c.data.length);
}
/** AggrChunk's min_time = 1 and max_time = 2: their length. */
function timesLen(c: Chunk): number {
  return (c.minTime !== 0 ? 1 + varintLen(c.minTime) : 0) + (c.maxTime !== 0 ? 1 + varintLen(c.maxTime) : 0);
}
/** An AggrChunk holding only raw = 3 (of length `raw`): its length. */
function aggrLen(c: Chunk, raw: number): number {
  return timesLen(c) + 1 + varintLen(raw) + raw;
}

/** Bytes of the Series message (labels + AggrChunks). */
export function seriesLen(s: OutSeries): number {
  let n = s.labelBytes.length;
  const cs = s.chunks;
  for (let i = 0; i < cs.length; i++) {
    const a = aggrLen(cs[i]!, rawLen(cs[i]!));
    n += 1 + varintLen(a) + a;
  }
  return n;
}

function putSeries(b: Uint8Array, pos: number, s: OutSeries): number {
  b.set(s.labelBytes, pos);
  pos += s.labelBytes.length;
  const cs = s.chunks;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[i]!;
    const raw = rawLen(c);
    b[pos++] = 0x12; // Series.chunks = 2
    pos = putVarint(b, pos, aggrLen(c, raw));
    if (c.minTime !== 0) { b[pos++] = 0x08; pos = putVarint(b, pos, c.minTime); }
    if (c.maxTime !== 0) { b[pos++] = 0x10; pos = putVarint(b, pos, c.maxTime); }
    b[pos++] = 0x1a; // AggrChunk.raw = 3
    pos = putVarint(b, pos, raw);
    pos = putRawChunk(b, pos, toStorepbEncoding(c.encoding), c.data);
  }
  return pos;
}

/** storepb.Chunk { type = 1; data = 2 } without a hash. */
function putRawChunk(b: Uint8Array, pos: number, type: number, data: Uint8Array): number {
  if (type !== 0) { b[pos++] = 0x08; pos = putVarint(b, pos, type); }
  const n = data.length;
  if (n) { b[pos++] = 0x12; pos = putVarint(b, pos, n); b.set(data, pos); pos += n; }
  return pos;
}

/** A batch closes at this many bytes even below its series count (bounds what is held). */
export const MAX_BATCH_BYTES = 1 << 20;
const OUT_BUFFER = 256 * 1024;

function vlen64(hi: number, lo: number): number {
  let n = 1;
  while (hi !== 0 || lo >= 128) { lo = ((lo >>> 7) | (hi << 25)) >>> 0; hi >>>= 7; n++; }
  return n;
}

function putVarint64(b: Uint8Array, pos: number, hi: number, lo: number): number {
  while (hi !== 0 || lo >= 128) { b[pos++] = (lo & 0x7f) | 0x80; lo = ((lo >>> 7) | (hi << 25)) >>> 0; hi >>>= 7; }
  b[pos++] = lo;
  return pos;
}

/** storepb.Chunk { type = 1; data = 2; hash = 3 } with a hash: its length. */
function hashedChunkLen(type: number, n: number, hi: number, lo: number): number {
  return (type !== 0 ? 1 + varintLen(type) : 0) + bytesLen(n) + 1 + vlen64(hi, lo);
}

function putHashedChunk(b: Uint8Array, pos: number, type: number, data: Uint8Array, hi: number, lo: number): number {
  pos = putRawChunk(b, pos, type, data);
  b[pos++] = 0x18; // hash = 3
  return putVarint64(b, pos, hi, lo);
}

export interface SeriesWriterOptions {
  bufferSize?: number;
  /** Recycle output buffers (see below). */
  reuse?: boolean;
  /**
   * Write each chunk's xxhash64 (storepb.Chunk.hash), as Thanos' store gateway does: its querier drops
   * identical chunks of one series by it. Off for the sidecar (Thanos' sidecar sends none).
   */
  hashes?: boolean;
  /**
   * Downsampled chunks (Encoding.Aggr, Thanos' AggrChunk) are written as their sub-chunks (storepb
   * AggrChunk count = 4 … counter = 8): which ones, as AggrType indices (count 0 … counter 4). Absent
   * ones are left out. Default: all five.
   */
  aggregates?: readonly number[];
}

/**
 * SeriesResponse messages written straight into output buffers, each enveloped as every StoreAPI
 * transport frames it (flags(1) = 0 | big-endian uint32 length | message): chunk bytes are copied once,
 * from where they were read to the bytes the socket sends, with no per-message objects.
 *
 * batchSize <= 1: one SeriesResponse{series} per series (what older clients expect); otherwise
 * consecutive series go out as one SeriesResponse{batch} (SeriesBatch { repeated Series series = 1 })
 * of up to batchSize series or MAX_BATCH_BYTES (SeriesRequest.response_batch_size).
 *
 * `reuse`: output buffers are recycled. The contract: the owner takes pieces, hands them to a consumer,
 * and writes more only after the consumer is done with every piece taken so far (copied or sent
 * them). A fresh 256 KiB buffer per 256 KiB sent was a tenth of the sidecar's CPU (page faults and GC
 * of ~35 MB per 10k-series answer) and most of its memory peak.
 */
export class SeriesResponseWriter {
  private buf: Uint8Array;
  private readonly bufferSize: number;
  private readonly reuse: boolean;
  /** The simple form (raw chunks, no hashes: the sidecar) or the store gateway's (hashes, aggregates). */
  private readonly plain: boolean;
  private readonly aggrMask: number;
  private free: Uint8Array[] = [];
  /** Buffers (not the current one) holding pieces not taken yet / taken and possibly still in use. */
  private readyBufs: Uint8Array[] = [];
  private takenBufs: Uint8Array[] = [];
  private pos = 0;
  private start = 0; // [start, pos) written, not taken yet
  private ready: Uint8Array[] = [];
  private readyBytes = 0;
  private pending: OutSeries[] = [];
  private pendingLens: number[] = [];
  private pendingBytes = 0;
  /**
   * Non-plain form, for the series measured but not written yet (in order): per chunk written, its
   * hash (hi, lo) and the AggrChunk/Chunk lengths; the sub-chunks of downsampled chunks.
   */
  private scratch = new Uint32Array(1024);
  private sw = 0;
  private sr = 0;
  /** The kept sub-chunks of the aggregate chunks measured, in order (put() writes them). */
  private subs: Uint8Array[] = [];
  private subsRead = 0;
  private readonly spans = new Int32Array(15);
  private readonly h = new Uint32Array(2);

  constructor(private readonly batchSize: number, opts: SeriesWriterOptions = {}) {
    this.bufferSize = opts.bufferSize ?? OUT_BUFFER;
    this.reuse = opts.reuse ?? false;
    this.plain = !opts.hashes && opts.aggregates === undefined;
    let mask = 0;
    for (const a of opts.aggregates ?? [0, 1, 2, 3, 4]) if (a >= 0 && a <= 4) mask |= 1 << a;
    this.aggrMask = mask;
    this.buf = new Uint8Array(this.bufferSize);
  }

  /** Bytes of complete messages not taken yet. */
  get bytes(): number { return this.readyBytes + this.pos - this.start; }

  add(s: OutSeries): void {
    const len = this.plain ? seriesLen(s) : this.measure(s);
    if (this.batchSize <= 1) {
      const p = this.begin(0x0a, len); // SeriesResponse.series = 1
      this.pos = this.plain ? putSeries(this.buf, p, s) : this.put(this.buf, p, s);
      this.resetScratch();
      return;
    }
    this.pending.push(s);
    this.pendingLens.push(len);
    this.pendingBytes += 1 + varintLen(len) + len;
    if (this.pending.length >= this.batchSize || this.pendingBytes >= MAX_BATCH_BYTES) this.flush();
  }

  /** Writes the batch being gathered (if any). */
  flush(): void {
    const n = this.pending.length;
    if (n === 0) return;
    let p = this.begin(0x22, this.pendingBytes); // SeriesResponse.batch = 4
    const b = this.buf;
    for (let i = 0; i < n; i++) {
      b[p++] = 0x0a; // SeriesBatch.series = 1
      p = putVarint(b, p, this.pendingLens[i]!);
      p = this.plain ? putSeries(b, p, this.pending[i]!) : this.put(b, p, this.pending[i]!);
    }
    this.pos = p;
    this.pending = [];
    this.pendingLens = [];
    this.pendingBytes = 0;
    this.resetScratch();
  }

  private resetScratch(): void {
    this.sw = this.sr = 0;
    if (this.subs.length) { this.subs = []; this.subsRead = 0; }
  }

  private note(v: number): void {
    if (this.sw === this.scratch.length) {
      const n = new Uint32Array(this.scratch.length * 2);
      n.set(this.scratch);
      this.scratch = n;
    }
    this.scratch[this.sw++] = v;
  }

  /** Hash of one (sub-)chunk noted, and its storepb.Chunk length returned. */
  private noteChunk(type: number, data: Uint8Array): number {
    const h = this.h;
    xxhash64Fast(data, h);
    const len = hashedChunkLen(type, data.length, h[0]!, h[1]!);
    this.note(h[0]!); this.note(h[1]!); this.note(len);
    return len;
  }

  /** The Series message's length (non-plain form); notes what put() needs, in the order it needs it. */
  private measure(s: OutSeries): number {
    let n = s.labelBytes.length;
    const cs = s.chunks;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      let aggr = timesLen(c);
      if (c.encoding !== Encoding.Aggr) {
        const chunk = this.noteChunk(toStorepbEncoding(c.encoding), c.data);
        aggr += 1 + varintLen(chunk) + chunk;
      } else {
        // Noted: the number of sub-chunks kept, then per sub-chunk its hash, its length, and its encoding
        // and aggregate as (encoding << 3 | aggregate).
        const sp = this.spans;
        aggrSpans(c.data, sp, "downsampled chunk");
        let k = 0;
        for (let a = 0; a < 5; a++) if (sp[3 * a]! >= 0 && this.aggrMask & (1 << a)) k++;
        this.note(k);
        for (let a = 0; a < 5; a++) {
          const from = sp[3 * a]!;
          if (from < 0 || !(this.aggrMask & (1 << a))) continue;
          const data = c.data.subarray(from, sp[3 * a + 1]!), type = toStorepbEncoding(sp[3 * a + 2]!);
          this.subs.push(data);
          const chunk = this.noteChunk(type, data);
          this.note((type << 3) | a);
          aggr += 1 + varintLen(chunk) + chunk;
        }
      }
      this.note(aggr);
      n += 1 + varintLen(aggr) + aggr;
    }
    return n;
  }

  private put(b: Uint8Array, pos: number, s: OutSeries): number {
    b.set(s.labelBytes, pos);
    pos += s.labelBytes.length;
    const cs = s.chunks, sc = this.scratch;
    for (let i = 0; i < cs.length; i++) {
      const c = cs[i]!;
      // The AggrChunk length is noted after its sub-chunks': find it past them.
      const aggr = c.encoding === Encoding.Aggr;
      const k = aggr ? sc[this.sr++]! : 1;
      const at = this.sr + (aggr ? 4 : 3) * k;
      b[pos++] = 0x12; // Series.chunks = 2
      pos = putVarint(b, pos, sc[at]!);
      if (c.minTime !== 0) { b[pos++] = 0x08; pos = putVarint(b, pos, c.minTime); }
      if (c.maxTime !== 0) { b[pos++] = 0x10; pos = putVarint(b, pos, c.maxTime); }
      if (!aggr) {
        b[pos++] = 0x1a; // AggrChunk.raw = 3
        pos = putVarint(b, pos, sc[this.sr + 2]!);
        pos = putHashedChunk(b, pos, toStorepbEncoding(c.encoding), c.data, sc[this.sr]!, sc[this.sr + 1]!);
        this.sr += 3;
      } else {
        for (let j = 0; j < k; j++) {
          const ta = sc[this.sr + 3]!;
          b[pos++] = ((4 + (ta & 7)) << 3) | 2; // AggrChunk.count = 4 … counter = 8
          pos = putVarint(b, pos, sc[this.sr + 2]!);
          pos = putHashedChunk(b, pos, ta >>> 3, this.subs[this.subsRead++]!, sc[this.sr]!, sc[this.sr + 1]!);
          this.sr += 4;
        }
      }
      this.sr++; // the AggrChunk length
    }
    return pos;
  }

  /** A SeriesResponse{warning}; the batch gathered so far goes first. */
  warning(msg: string): void {
    this.flush();
    const m = utf8enc.encode(msg);
    const p = this.begin(0x12, m.length); // SeriesResponse.warning = 2
    this.buf.set(m, p);
    this.pos = p + m.length;
  }

  /** The complete messages written since the last take, as views (never written to again). */
  take(): Uint8Array[] {
    this.cut();
    const r = this.ready;
    this.ready = [];
    this.readyBytes = 0;
    if (this.reuse) {
      for (const b of this.readyBufs) this.takenBufs.push(b);
      this.readyBufs = [];
    }
    return r;
  }

  /** Envelope + field tag + length for a length-delimited field of `len` bytes; returns where its value goes. */
  private begin(tag: number, len: number): number {
    const msg = 1 + varintLen(len) + len;
    if (msg > 0xffffffff) throw new CodedError("resource_exhausted", `SeriesResponse of ${msg} bytes does not fit a message envelope`);
    if (this.pos + 5 + msg > this.buf.length) this.next(5 + msg);
    const b = this.buf;
    let p = this.pos;
    b[p] = 0;
    b[p + 1] = msg >>> 24; b[p + 2] = (msg >>> 16) & 0xff; b[p + 3] = (msg >>> 8) & 0xff; b[p + 4] = msg & 0xff;
    b[p + 5] = tag;
    p = putVarint(b, p + 6, len);
    return p;
  }

  /** A new current buffer of at least `need` bytes. */
  private next(need: number): void {
    const hasReady = this.pos > this.start;
    this.cut();
    let nb: Uint8Array | undefined;
    if (this.reuse) {
      // Writing again means the consumer is done with every piece taken so far (the contract above).
      for (const b of this.takenBufs) this.recycle(b);
      this.takenBufs = [];
      if (hasReady) this.readyBufs.push(this.buf); else this.recycle(this.buf);
      const i = this.free.findIndex((b) => b.length >= need);
      if (i >= 0) nb = this.free.splice(i, 1)[0];
    }
    this.buf = nb ?? new Uint8Array(Math.max(this.bufferSize, need));
    this.pos = this.start = 0;
  }

  /** Keeps a few buffers, batch-sized ones included (a batch is one message of up to MAX_BATCH_BYTES). */
  private recycle(b: Uint8Array): void {
    if (this.free.length < 4 && b.length <= 2 * MAX_BATCH_BYTES + 64) this.free.push(b);
  }

  private cut(): void {
    if (this.pos > this.start) {
      this.ready.push(this.buf.subarray(this.start, this.pos));
      this.readyBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }
}

/**
 * The messages in enveloped bytes (as SeriesResponseWriter writes them): flags, then the message. For
 * transports that want message by message (connect's generic path).
 */
export function* envelopedMessages(b: Uint8Array, what: string): Generator<Uint8Array> {
  let p = 0;
  while (p < b.length) {
    if (p + 5 > b.length) throw new CodedError("internal", `${what}: envelope header cut at offset ${p}`);
    const len = ((b[p + 1]! << 24) | (b[p + 2]! << 16) | (b[p + 3]! << 8) | b[p + 4]!) >>> 0;
    if (p + 5 + len > b.length) throw new CodedError("internal", `${what}: envelope of ${len} bytes at offset ${p} runs past the end`);
    yield b.subarray(p + 5, p + 5 + len);
    p += 5 + len;
  }
}
