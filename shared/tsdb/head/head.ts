// The head block (Prometheus' tsdb.Head, the float-sample subset the ruler writes): series in memory
// with XOR chunks (series.ts), an inverted index (postings.ts), the Appendable of
// shared/storage/appender.ts, chunk-level reads, and what block cutting needs. No I/O: the write-ahead
// log enters as a WalSink (agent/tsdb/wal/ on disk), blocks are written by the caller (agent/tsdb/db.ts).
//
// Appending follows Prometheus 2.42 (tsdb/head_append.go):
//   - samples are checked at append(): before the appendable window (max(head max time - chunk range/2,
//     the end of the last block)) -> "out of bounds"; before the series' newest sample -> "out of order
//     sample"; at its time with other value bits -> "duplicate sample for timestamp"; the same bits -> a
//     duplicate, accepted and dropped. Each is a CodedError "bad_data" whose message starts with
//     Prometheus' error text (what the rule manager matches), then names the series and the times.
//     Unlike Prometheus, the series' newest sample includes what this appender already holds.
//   - commit(): the samples (and the series first written by this commit) go to the WAL as one Series
//     and one Samples record, then into the chunks (visible), then the WAL is synced (durable); the
//     promise resolves after both. A sample another appender made stale meanwhile is dropped and
//     counted, as Prometheus drops it (its WAL replay drops it again, so both agree).
//   - a series exists from its first append() on (rollback keeps it, empty; garbage collection at the
//     next truncation removes it).

import { CodedError } from "../../encoding/errors.ts";
import { STALE_HI, STALE_LO, XorIterator, XorAppender } from "../../chunkenc/xor.ts";
import { compareLabels, compareStrings, labelsEqual, labelsHashInto, labelsString, type Label, type Labels } from "../../labels/labels.ts";
import type { Matcher } from "../../labels/matcher.ts";
import type { Appendable, Appender } from "../../storage/appender.ts";
import { postingsForMatchers } from "../block.ts";
import { Encoding } from "../../chunkenc/chunk.ts";
import { encodeSamplesInto, encodeSeriesInto, SampleColumns, type RefSeries } from "../wal/record.ts";
import { Encbuf } from "../../encoding/bytes.ts";
import type { WriterChunk } from "../writer.ts";
import { MemPostings } from "./postings.ts";
import { AppendResult, MemSeries, rangeForTimestamp, type HeadChunk } from "./series.ts";

/** Prometheus' storage errors; messages of append() errors start with these. */
export const ERR_OUT_OF_ORDER = "out of order sample";
export const ERR_DUPLICATE = "duplicate sample for timestamp";
export const ERR_OUT_OF_BOUNDS = "out of bounds";
export const ERR_INVALID = "invalid sample";

export type AppendErrorKind = "out_of_order" | "duplicate" | "out_of_bounds" | "invalid";

/** Which of Prometheus' append errors `e` is (undefined: another error). */
export function appendErrorKind(e: unknown): AppendErrorKind | undefined {
  if (!(e instanceof Error) || (e as { code?: string }).code !== "bad_data") return undefined;
  // By Prometheus' text anywhere in the message, so other Appendables that word it differently
  // (shared/promqltest's TestStorage puts it after the series) are recognised too.
  const m = e.message;
  if (m.includes(ERR_OUT_OF_ORDER)) return "out_of_order";
  if (m.includes(ERR_DUPLICATE)) return "duplicate";
  if (m.includes(ERR_OUT_OF_BOUNDS)) return "out_of_bounds";
  if (m.includes(ERR_INVALID)) return "invalid";
  return undefined;
}

/** Where committed records go before they are applied (the WAL; null: none, as in tests). */
export interface WalSink {
  /** Append the records in order; on return they survive a process crash. Throws if nothing was written. */
  log(records: readonly Uint8Array[]): void;
  /** Resolves when everything logged so far is as durable as the sink's policy makes it. */
  sync(): Promise<void>;
}

export interface HeadOptions {
  /** The chunk range = block duration (ms): chunks never cross its multiples. */
  chunkRange: number;
  wal?: WalSink | null;
  /** Called after a commit made the head compactable (the caller cuts a block, asynchronously). */
  onCompactable?: () => void;
}

/** Counters (Prometheus' prometheus_tsdb_head_* families). */
export interface HeadStats {
  samplesAppended: number;
  outOfOrder: number;
  outOfBounds: number;
  duplicates: number;
  seriesCreated: number;
  seriesRemoved: number;
  chunksRemoved: number;
  commits: number;
  rollbacks: number;
  /** WAL replay: samples for series never declared, before the min valid time, out of order. */
  replayUnknownRefs: number;
  replayTooOld: number;
  replayOutOfOrder: number;
}

export interface SelectedSeries {
  labels: Labels;
  chunks: HeadChunk[];
}

const hashOut = new Uint32Array(2);

/** 53 bits of Prometheus' labels hash (xxhash64): the series map key; collisions are chained. */
function keyOf(ls: Labels): number {
  labelsHashInto(ls, hashOut);
  return (hashOut[0]! & 0x1fffff) * 4294967296 + hashOut[1]!;
}

/**
 * Series by label set, keyed by hash (a key string holding every label would double the memory of
 * the labels themselves). A colliding hash holds a list.
 */
class SeriesByLabels {
  private readonly m = new Map<number, MemSeries | MemSeries[]>();
  get(key: number, ls: Labels): MemSeries | undefined {
    const e = this.m.get(key);
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return labelsEqual(e.labels, ls) ? e : undefined;
    for (const s of e) if (labelsEqual(s.labels, ls)) return s;
    return undefined;
  }
  add(s: MemSeries): void {
    const e = this.m.get(s.key);
    if (e === undefined) this.m.set(s.key, s);
    else if (Array.isArray(e)) e.push(s);
    else this.m.set(s.key, [e, s]);
  }
  delete(s: MemSeries): void {
    const e = this.m.get(s.key);
    if (e === s) this.m.delete(s.key);
    else if (Array.isArray(e)) {
      const rest = e.filter((x) => x !== s);
      this.m.set(s.key, rest.length === 1 ? rest[0]! : rest);
    }
  }
}

/** Prometheus' lset.WithoutEmpty + sortedness + HasDuplicateLabelNames, without copying a good set. */
function normalize(ls: Labels): Labels {
  let ok = true;
  for (let i = 0; i < ls.length; i++) {
    if (ls[i]!.value === "" || (i > 0 && !(ls[i - 1]!.name < ls[i]!.name))) { ok = false; break; }
  }
  if (ok) return ls;
  const out: Label[] = ls.filter((l) => l.value !== "").map((l) => ({ name: l.name, value: l.value }));
  out.sort((a, b) => compareStrings(a.name, b.name));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.name === out[i - 1]!.name) throw new CodedError("bad_data", `${ERR_INVALID}: label name ${JSON.stringify(out[i]!.name)} is not unique`);
  }
  return out;
}

/**
 * Series by ref: refs are small dense integers handed out in order, so an array indexes them (a Map
 * lookup per replayed sample was a large share of WAL replay). Refs too large for an array (a foreign
 * WAL) go to a Map.
 */
class RefMap {
  private readonly arr: (MemSeries | undefined)[] = [];
  private readonly big = new Map<number, MemSeries>();
  size = 0;
  get(ref: number): MemSeries | undefined { return ref < 1 << 26 ? this.arr[ref] : this.big.get(ref); }
  has(ref: number): boolean { return this.get(ref) !== undefined; }
  set(ref: number, s: MemSeries): void {
    if (this.get(ref) === undefined) this.size++;
    if (ref < 1 << 26) {
      // Fill the gap so the array stays packed (holes would make it a slow dictionary).
      while (this.arr.length < ref) this.arr.push(undefined);
      this.arr[ref] = s;
    } else this.big.set(ref, s);
  }
  delete(ref: number): void {
    if (this.get(ref) === undefined) return;
    this.size--;
    if (ref < 1 << 26) this.arr[ref] = undefined; else this.big.delete(ref);
  }
  *values(): IterableIterator<MemSeries> {
    for (const s of this.arr) if (s !== undefined) yield s;
    yield* this.big.values();
  }
}

export class Head implements Appendable {
  readonly chunkRange: number;
  private readonly byKey = new SeriesByLabels();
  private readonly byRef = new RefMap();
  /** Label sets seen by identity: callers that reuse their Labels objects skip building the key. */
  private readonly byObject = new WeakMap<Labels, MemSeries>();
  readonly postings = new MemPostings();
  private lastRef = 0;
  /** Lowest and highest sample time held (Infinity / -Infinity while empty), as Prometheus' MinTime/MaxTime. */
  minTime = Infinity;
  maxTime = -Infinity;
  /** No sample before this is accepted (the end of the last block). */
  minValidTime = -Infinity;
  readonly open = new Set<HeadAppender>();
  /** Bumped by every truncation: a read that raced one starts over (its blocks snapshot is stale). */
  truncations = 0;
  wal: WalSink | null;
  onCompactable: (() => void) | undefined;
  private readonly multiRef = new Map<number, number>();
  readonly stats: HeadStats = {
    samplesAppended: 0, outOfOrder: 0, outOfBounds: 0, duplicates: 0, seriesCreated: 0, seriesRemoved: 0,
    chunksRemoved: 0, commits: 0, rollbacks: 0, replayUnknownRefs: 0, replayTooOld: 0, replayOutOfOrder: 0,
  };

  constructor(opts: HeadOptions) {
    if (!(Number.isSafeInteger(opts.chunkRange) && opts.chunkRange > 0)) {
      throw new CodedError("bad_data", `head: chunk range ${opts.chunkRange} ms is not a positive integer`);
    }
    this.chunkRange = opts.chunkRange;
    this.wal = opts.wal ?? null;
    this.onCompactable = opts.onCompactable;
  }

  appender(): HeadAppender { return new HeadAppender(this); }

  private readonly pool: AppendBuffers[] = [];
  private readonly enc = new Encbuf(1 << 16);
  private readonly encSeries = new Encbuf(1 << 12);

  /** @internal Buffers for a new appender. */
  takeBuffers(): AppendBuffers {
    return this.pool.pop() ?? { cols: new SampleColumns(128), series: [], touched: [] };
  }

  /** @internal Buffers of a finished appender (kept unless large). */
  returnBuffers(b: AppendBuffers): void {
    if (this.pool.length >= 8 || b.cols.refs.length > 1 << 16) return;
    b.cols.reset();
    b.series.length = 0;
    b.touched.length = 0;
    this.pool.push(b);
  }

  /** @internal A commit's WAL records (views into reused buffers, valid until the next call). */
  encodeCommit(fresh: readonly MemSeries[] | null, c: SampleColumns): Uint8Array[] {
    const recs: Uint8Array[] = [];
    if (fresh) recs.push(encodeSeriesInto(fresh, this.encSeries));
    recs.push(encodeSamplesInto(c, this.enc));
    return recs;
  }

  get numSeries(): number { return this.byRef.size; }

  series(ref: number): MemSeries | undefined { return this.byRef.get(ref); }

  /** Every series (unordered). */
  allSeries(): IterableIterator<MemSeries> { return this.byRef.values(); }

  /** Prometheus appendableMinValidTime: no append below it (keeps the compaction window closed). */
  appendableMinValidTime(): number {
    return Math.max(this.maxTime - Math.trunc(this.chunkRange / 2), this.minValidTime);
  }

  /** The series for these labels, created (and indexed) if new. */
  getOrCreate(labels: Labels): MemSeries {
    const cached = this.byObject.get(labels);
    if (cached !== undefined && !cached.deleted) return cached;
    const ls = normalize(labels);
    if (ls.length === 0) throw new CodedError("bad_data", `${ERR_INVALID}: empty labelset`);
    const key = keyOf(ls);
    let s = this.byKey.get(key, ls);
    if (s === undefined) s = this.create(++this.lastRef, ls, key);
    this.byObject.set(labels, s);
    return s;
  }

  private create(ref: number, ls: Labels, key: number): MemSeries {
    const s = new MemSeries(ref, ls, key);
    this.byKey.add(s);
    this.byRef.set(ref, s);
    this.postings.add(ref, ls);
    this.stats.seriesCreated++;
    return s;
  }

  /** Prometheus compactable(): the head spans more than 1.5 chunk ranges. */
  compactable(): boolean {
    return this.maxTime - this.minTime > Math.trunc(this.chunkRange / 2) * 3;
  }

  /** The next block to cut: [minTime, the end of its chunk range). */
  nextBlockRange(): { mint: number; maxt: number } {
    return { mint: this.minTime, maxt: rangeForTimestamp(this.minTime, this.chunkRange) };
  }

  /** Lowest sample time held by an open appender (Infinity: none): a block must not end above it. */
  lowestPendingTime(): number {
    let m = Infinity;
    for (const a of this.open) m = Math.min(m, a.mint);
    return m;
  }

  // ---- WAL replay ----

  /** A Series record entry. Labels already held under another ref: that ref's samples go to it. */
  replaySeries(ref: number, labels: Labels): void {
    const ls = normalize(labels);
    const key = keyOf(ls);
    // Every ref the WAL uses is taken, even one that turns out to be an alias: a new series must never
    // get a ref older segments use for another (Prometheus bumps lastSeriesID the same way).
    if (ref > this.lastRef) this.lastRef = ref;
    const have = this.byKey.get(key, ls);
    if (have !== undefined) {
      if (have.ref !== ref) this.multiRef.set(ref, have.ref);
      return;
    }
    if (this.byRef.has(ref)) {
      // The same ref for different labels: a damaged or foreign WAL. Keep the first.
      this.stats.replayUnknownRefs++;
      return;
    }
    const s = this.create(ref, ls, key);
    s.logged = true;
  }

  /**
   * Samples of Samples records, in WAL order. A large batch (several records) is applied series by
   * series (a stable counting sort by series keeps each series' order): appending one series' samples
   * back to back keeps its chunk encoder in cache, where WAL order (each record holding one sample of
   * thousands of series) missed the cache on nearly every sample; replay got about 1.5x faster.
   */
  replaySamples(c: SampleColumns): void {
    const n = c.n;
    // Resolve refs (aliases included) to series indexes first.
    const ser = this.replayScratch(n);
    let lastRef = -1, lastRes: MemSeries | undefined;
    for (let i = 0; i < n; i++) {
      const ref = c.refs[i]!;
      if (ref !== lastRef) {
        lastRef = ref;
        lastRes = this.byRef.get(ref);
        if (lastRes === undefined) {
          const m = this.multiRef.get(ref);
          if (m !== undefined) lastRes = this.byRef.get(m);
        }
      }
      ser[i] = lastRes;
    }
    const range = this.chunkRange;
    const minValid = this.minValidTime;
    let mint = this.minTime, maxt = this.maxTime;
    const apply = (i: number, s: MemSeries | undefined): void => {
      if (s === undefined) { this.stats.replayUnknownRefs++; return; }
      const t = c.ts[i]!;
      if (t < minValid) { this.stats.replayTooOld++; return; }
      const r = s.append(t, c.hi[i]!, c.lo[i]!, range);
      if (r !== AppendResult.Ok) { if (r === AppendResult.OutOfOrder) this.stats.replayOutOfOrder++; return; }
      if (t < mint) mint = t;
      if (t > maxt) maxt = t;
    };
    if (n < 4096) {
      for (let i = 0; i < n; i++) apply(i, ser[i]);
    } else {
      // Counting sort by series ref: O(n), stable.
      let maxRef = 0;
      for (let i = 0; i < n; i++) { const s = ser[i]; if (s !== undefined && s.ref > maxRef) maxRef = s.ref; }
      if (maxRef < 1 << 24) {
        // key: 0 for an unknown ref, ref + 1 otherwise; start[key] = where that key's samples begin.
        const start = new Int32Array(maxRef + 3);
        for (let i = 0; i < n; i++) { const s = ser[i]; start[(s === undefined ? 0 : s.ref + 1) + 1]!++; }
        for (let k = 1; k < start.length; k++) start[k]! += start[k - 1]!;
        const order = new Int32Array(n);
        for (let i = 0; i < n; i++) { const s = ser[i]; order[start[s === undefined ? 0 : s.ref + 1]!++] = i; }
        for (let k = 0; k < n; k++) { const i = order[k]!; apply(i, ser[i]); }
      } else {
        for (let i = 0; i < n; i++) apply(i, ser[i]);
      }
    }
    ser.fill(undefined, 0, n);
    this.minTime = mint;
    this.maxTime = maxt;
  }

  private scratch: (MemSeries | undefined)[] = [];
  private replayScratch(n: number): (MemSeries | undefined)[] {
    if (this.scratch.length < n) this.scratch = new Array<MemSeries | undefined>(n).fill(undefined);
    return this.scratch;
  }

  /**
   * After replay: drop what replay left empty (Prometheus' Init runs gc()). Returns the removed series
   * the WAL knows, and the aliases: refs whose series record repeated labels already held under another
   * ref (a series removed and created again). The WAL still has samples under an alias; a checkpoint
   * must keep or rewrite them (Prometheus 2.42 drops the alias' series record at the next checkpoint
   * and with it every later sample under that ref).
   */
  finishReplay(): { removed: RefSeries[]; aliases: Map<number, number> } {
    const aliases = new Map(this.multiRef);
    this.multiRef.clear();
    if (this.minTime < this.minValidTime) this.minTime = this.minValidTime;
    return { removed: this.gc(this.minTime === Infinity ? -Infinity : this.minTime), aliases };
  }

  // ---- truncation ----

  /**
   * Drop data before `mint` (a block now holds it) and series left empty: Prometheus' truncateMemory.
   * Returns the removed series that the WAL knows (a checkpoint must keep them while older segments
   * still refer to them).
   */
  truncateMemory(mint: number): RefSeries[] {
    if (this.minTime >= mint && this.minTime !== Infinity) return [];
    this.truncations++;
    this.minTime = mint;
    this.minValidTime = Math.max(this.minValidTime, mint);
    if (this.maxTime < mint) this.maxTime = mint;
    const removed = this.gc(mint);
    // The lowest time actually held may be above mint (series ended): move min time up, but not into
    // the appendable window.
    let actual = Infinity;
    for (const s of this.byRef.values()) { const t = s.minTime(); if (t < actual) actual = t; }
    if (actual > this.minTime) {
      const appendable = this.appendableMinValidTime();
      const t = actual < appendable ? actual : appendable;
      this.minTime = t;
      this.minValidTime = Math.max(this.minValidTime, t);
    }
    return removed;
  }

  private gc(mint: number): RefSeries[] {
    const gone: MemSeries[] = [];
    for (const s of this.byRef.values()) {
      this.stats.chunksRemoved += s.truncateBefore(mint);
      if (s.isEmpty() && s.pending === 0) gone.push(s);
    }
    for (const s of gone) {
      this.byRef.delete(s.ref);
      this.byKey.delete(s);
      s.deleted = true;
    }
    this.postings.delete(gone);
    this.stats.seriesRemoved += gone.length;
    return gone.filter((s) => s.logged).map((s) => ({ ref: s.ref, labels: s.labels }));
  }

  // ---- reads ----

  /** Series matching `ms` with chunks overlapping [mint, maxt], sorted by labels; chunks are immutable copies. */
  async select(mint: number, maxt: number, ms: readonly Matcher[]): Promise<SelectedSeries[]> {
    if (this.byRef.size === 0 || maxt < this.minTime || mint > this.maxTime) return [];
    const p = await postingsForMatchers(this.postings, ms);
    const out: SelectedSeries[] = [];
    // Synchronous from here on: one consistent view of the head.
    while (p.next()) {
      const s = this.byRef.get(p.at());
      if (s === undefined) continue;
      const chunks = s.chunksIn(mint, maxt);
      if (chunks.length) out.push({ labels: s.labels, chunks });
    }
    out.sort((a, b) => compareLabels(a.labels, b.labels));
    return out;
  }

  /** Label sets of series matching `ms` (no time filter beyond the head's range). */
  async selectLabels(mint: number, maxt: number, ms: readonly Matcher[]): Promise<Labels[]> {
    if (this.byRef.size === 0 || maxt < this.minTime || mint > this.maxTime) return [];
    const p = await postingsForMatchers(this.postings, ms);
    const out: Labels[] = [];
    while (p.next()) {
      const s = this.byRef.get(p.at());
      if (s !== undefined && !s.isEmpty()) out.push(s.labels);
    }
    return out;
  }

  overlaps(mint: number, maxt: number): boolean {
    return this.byRef.size > 0 && this.minTime <= maxt && mint <= this.maxTime;
  }

  // ---- block cutting ----

  /**
   * The series with data in [mint, maxt) (a block range, maxt exclusive) in label order, with their
   * chunks. Chunks never cross a chunk-range boundary, so normally they are taken whole; a chunk that
   * does (data appended under another block duration) is re-encoded to the part inside.
   */
  blockSeries(mint: number, maxt: number): { labels: Labels; chunks: WriterChunk[] }[] {
    const out: { labels: Labels; chunks: WriterChunk[] }[] = [];
    for (const s of this.byRef.values()) {
      const cs = s.chunksIn(mint, maxt - 1);
      if (cs.length === 0) continue;
      const chunks: WriterChunk[] = [];
      for (const c of cs) {
        if (c.minTime >= mint && c.maxTime < maxt) chunks.push({ minTime: c.minTime, maxTime: c.maxTime, encoding: Encoding.XOR, data: c.data });
        else {
          const t = trimChunk(c.data, mint, maxt - 1);
          if (t) chunks.push(t);
        }
      }
      if (chunks.length) out.push({ labels: s.labels, chunks });
    }
    out.sort((a, b) => compareLabels(a.labels, b.labels));
    return out;
  }
}

/** The samples of an XOR chunk within [mint, maxt] as a new chunk (null when none). */
function trimChunk(data: Uint8Array, mint: number, maxt: number): WriterChunk | null {
  const it = new XorIterator(data, "head chunk");
  const app = new XorAppender();
  let first = 0, last = 0;
  while (it.next()) {
    const t = it.at();
    if (t < mint || t > maxt) continue;
    if (app.numSamples() === 0) first = t;
    app.appendBits(t, it.valueHi(), it.valueLo());
    last = t;
  }
  if (it.err()) throw it.err()!;
  return app.numSamples() ? { minTime: first, maxTime: last, encoding: Encoding.XOR, data: app.bytes() } : null;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HI = (() => { f64[0] = 1; return u32[1] === 0x3ff00000 ? 1 : 0; })();
const LO = 1 - HI;

/** Buffers of finished appenders, reused by new ones (a commit every few samples must not allocate much). */
interface AppendBuffers { cols: SampleColumns; series: MemSeries[]; touched: MemSeries[] }

let appenderIds = 0;

/**
 * One transaction (see the file comment). Not reusable: after commit() or rollback() every call throws.
 */
export class HeadAppender implements Appender {
  private readonly id = ++appenderIds;
  private b: AppendBuffers;
  /** Series whose pending slot another open appender holds: their last sample index here. */
  private overflow: Map<MemSeries, number> | null = null;
  private done = false;
  /** Lowest sample time held (Infinity: none). */
  mint = Infinity;

  constructor(private readonly head: Head) {
    this.b = head.takeBuffers();
  }

  private closedError(): CodedError {
    return new CodedError("internal", "appender already committed or rolled back (use one Appender per transaction)");
  }

  append(labels: Labels, t: number, v: number, stale = false): void {
    if (this.done) throw this.closedError();
    const head = this.head;
    if (!Number.isSafeInteger(t)) throw new CodedError("bad_data", `${ERR_INVALID}: timestamp ${t} of series ${labelsString(labels)} is not an integer number of milliseconds`);
    const minValid = head.appendableMinValidTime();
    if (t < minValid) {
      head.stats.outOfBounds++;
      throw new CodedError("bad_data", `${ERR_OUT_OF_BOUNDS}: series ${labelsString(labels)}: timestamp ${t} is before ${minValid}, the oldest time the head accepts`);
    }
    const s = head.getOrCreate(labels);
    let hi: number, lo: number;
    if (stale) { hi = STALE_HI; lo = STALE_LO; }
    else { f64[0] = v; hi = u32[HI]!; lo = u32[LO]!; }
    let lastT = s.maxTime, lastHi = s.lastHi, lastLo = s.lastLo;
    // This appender's last sample for the series: the series' slot when we own it, else the overflow map.
    const c = this.b.cols;
    const p = s.pendOwner === this.id ? s.pendIdx : this.overflow !== null ? this.overflow.get(s) : undefined;
    if (p !== undefined && c.ts[p]! > lastT) { lastT = c.ts[p]!; lastHi = c.hi[p]!; lastLo = c.lo[p]!; }
    if (t <= lastT) {
      if (t < lastT) {
        head.stats.outOfOrder++;
        throw new CodedError("bad_data", `${ERR_OUT_OF_ORDER}: series ${labelsString(s.labels)}: timestamp ${t} is before its newest sample at ${lastT}`);
      }
      if (hi >>> 0 !== lastHi || lo >>> 0 !== lastLo) {
        head.stats.duplicates++;
        throw new CodedError("bad_data", `${ERR_DUPLICATE}: series ${labelsString(s.labels)}: timestamp ${t} already has another value`);
      }
      return; // the same sample again: accepted, nothing to store
    }
    const idx = c.n;
    if (p === undefined) {
      s.pending++;
      if (this.b.touched.length === 0) head.open.add(this);
      this.b.touched.push(s);
      if (s.pendOwner === 0) { s.pendOwner = this.id; s.pendIdx = idx; }
      else (this.overflow ??= new Map()).set(s, idx);
    } else if (s.pendOwner === this.id) s.pendIdx = idx;
    else this.overflow!.set(s, idx);
    c.push(s.ref, t, hi, lo);
    this.b.series.push(s);
    if (t < this.mint) this.mint = t;
  }

  /** Samples held (tests, metrics). */
  get length(): number { return this.b.cols.n; }

  private release(): void {
    for (const s of this.b.touched) {
      s.pending--;
      if (s.pendOwner === this.id) s.pendOwner = 0;
    }
    this.overflow = null;
    this.head.open.delete(this);
    this.done = true;
    this.head.returnBuffers(this.b);
  }

  async commit(): Promise<void> {
    if (this.done) throw this.closedError();
    const head = this.head;
    const c = this.b.cols;
    const n = c.n;
    if (n === 0) { this.release(); head.stats.commits++; return; }
    const wal = head.wal;
    let fresh: MemSeries[] | null = null;
    for (const s of this.b.touched) if (!s.logged) (fresh ??= []).push(s);
    if (wal) {
      // Both records are views into one reused buffer: the sink consumes them before returning.
      const recs = head.encodeCommit(fresh, c);
      try {
        wal.log(recs);
      } catch (e) {
        this.release();
        head.stats.rollbacks++;
        throw e;
      }
    }
    if (fresh) for (const s of fresh) s.logged = true;
    // Apply: visible from here on.
    const range = head.chunkRange;
    const minValid = head.minValidTime;
    let mint = head.minTime, maxt = head.maxTime, ok = 0;
    const series = this.b.series;
    for (let i = 0; i < n; i++) {
      const s = series[i]!;
      const t = c.ts[i]!;
      if (t < minValid) { head.stats.outOfBounds++; continue; }
      const r = s.append(t, c.hi[i]!, c.lo[i]!, range);
      if (r !== AppendResult.Ok) {
        if (r === AppendResult.OutOfOrder) head.stats.outOfOrder++; else head.stats.duplicates++;
        continue;
      }
      ok++;
      if (t < mint) mint = t;
      if (t > maxt) maxt = t;
    }
    head.minTime = mint;
    head.maxTime = maxt;
    head.stats.samplesAppended += ok;
    head.stats.commits++;
    this.release();
    if (head.onCompactable && head.compactable()) head.onCompactable();
    if (wal) await wal.sync();
  }

  rollback(): void {
    if (this.done) return;
    this.release();
    this.head.stats.rollbacks++;
  }
}

