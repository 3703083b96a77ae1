// The store gateway core: a StoreAPI over every block in a bucket, reading blocks by range.
//
// Per block, openBlock (shared/tsdb/block.ts) loads the index header once (TOC, symbols, postings offset
// table: three ranged GETs plus a HEAD for the size) and keeps it in memory; meta.json comes from
// discovery, so opening does not GET it again. A Series call then resolves matchers to postings, reads
// the series entries, then the chunks, each by ranged GETs that the readers coalesce (nearby ranges in one
// GET) and that CachingBucket caches by range. Chunk bytes are forwarded as stored, with their xxhash64;
// only chunks of overlapping blocks of one stream are decoded (to merge them).
//
// Runtime-free: agent/store (Bun/Node) and edge/store (Workers/Deno) only supply the Bucket and serve it.

import { create, fromBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { Encoding, toStorepbEncoding } from "../chunkenc/chunk.ts";
import { aggrNumSamples, decodeAggrChunk } from "../chunkenc/aggr.ts";
import { decodeXorInto, XorAppender } from "../chunkenc/xor.ts";
import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import { xxhash64 } from "../encoding/xxhash64.ts";
import { compareLabels, compareStrings, getLabel, labelsFrom, labelsString, type Labels } from "../labels/labels.ts";
import { newMatcher, setMatches, type Matcher, type MatchType } from "../labels/matcher.ts";
import type { Bucket } from "../objstore/bucket.ts";
import { bucketBlockFiles } from "../objstore/blockfiles.ts";
import { withRetries } from "../objstore/retry.ts";
import { MAX_INT64, MIN_INT64, msFromProto, msToProto } from "../rpc/time.ts";
import type {
  CallContext, InfoImpl, InfoResponseInit, LabelNamesResponseInit, LabelValuesResponseInit, SeriesResponseInit, StoreImpl,
} from "../rpc/store.ts";
import { Aggr, type LabelNamesRequest, type LabelValuesRequest, type SeriesRequest, SeriesResponseSchema } from "../gen/thanos/storepb/rpc_pb.ts";
import { type LabelMatcher, LabelMatcher_Type, PartialResponseStrategy } from "../gen/thanos/storepb/types_pb.ts";
import { chunkSampleCount, RequestLimiter } from "../store/limits.ts";
import { dropLabelNames, extendLabels, externalLabelsWithout, matchExternalLabels } from "../store/labels.ts";
import { PrefixReorderer } from "../store/reorder.ts";
import { type Block, openBlock } from "../tsdb/block.ts";
import { encodeBlockMeta, type BlockMeta } from "../tsdb/meta.ts";
import { expandPostings } from "../tsdb/postings.ts";
import { encodeLabels, envelopedMessages, SeriesResponseWriter } from "../store/wire.ts";
import { ByteLru, CachingBucket, type BucketStats } from "./cache.ts";
import { type Discovered, discoverBlocks, filterBlocks } from "../block/fetcher.ts";
import { decodeHeader, encodeHeader, type HeaderCache, PrefilledSource, RecordingSource } from "./header.ts";
import { isJsonCall, MAX_RESPONSE_BATCH_SIZE } from "../rpc/series.ts";

export type LogFn = (level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export interface BucketStoreOptions {
  bucket: Bucket;
  /** Serve only blocks overlapping [minTime, maxTime] (ms; Thanos --min-time/--max-time). */
  minTime?: number;
  maxTime?: number;
  /** Thanos --consistency-delay (default 0 for the store gateway). */
  consistencyDelayMs?: number;
  /** Thanos --ignore-deletion-marks-delay (default 24h). */
  ignoreDeletionMarksDelayMs?: number;
  /** Use the bucket index when younger than this; 0 = always list the bucket. Default 1h. */
  bucketIndexMaxStaleMs?: number;
  /** ensureSynced() re-syncs when the last sync is older than this (the index TTL). Default 60 s. */
  syncTtlMs?: number;
  indexCacheBytes?: number;
  chunksCacheBytes?: number;
  /** Per Series call (0 = unlimited): series, samples (from chunk headers), chunk bytes fetched. */
  maxSeries?: number;
  maxSamples?: number;
  maxChunkBytes?: number;
  /** Concurrent Series calls; more wait in line (Thanos --store.grpc.series-max-concurrency). Default 20. */
  maxConcurrency?: number;
  /** Blocks opened at once during a sync. Default 8. */
  openConcurrency?: number;
  /** Attempts per bucket operation (default 2: bucket errors are retried once). */
  bucketAttempts?: number;
  /**
   * Nearby ranges closer than this are read in one GET (fewer requests, more bytes): series entries
   * (default 64 KiB) and chunks (default 16 KiB), the block reader's defaults.
   */
  seriesGapBytes?: number;
  chunksGapBytes?: number;
  /**
   * Yield raw-chunk series as pre-encoded protobuf (SeriesResponse with the series in an unknown field)
   * instead of message objects: for serving over the wire. In-process callers want objects (default).
   */
  preEncode?: boolean;
  /** Where opened index headers are saved and found again (a cold start then skips the header reads). */
  headerCache?: HeaderCache;
  /**
   * Label values without matchers: each block's decoded values by name, and merged answers by name and
   * block set, kept within this many bytes (estimated). Default 16 MiB; 0 = no cache.
   */
  labelValuesCacheBytes?: number;
  /** Series entries read per batch per block (the next batch is read while one is merged). Default 1024. */
  batchSize?: number;
  log?: LogFn;
  now?: () => number;
}

export interface LoadedBlock {
  meta: BlockMeta;
  block: Block;
  /** The block's external labels (meta.json thanos.labels), sorted. */
  ext: Labels;
  extKey: string;
  resolution: number;
  /** Bytes to read per series entry / per chunk when their length is not known yet (from averages). */
  seriesEstimate: number;
  chunkEstimate: number;
}

export interface SyncResult {
  source: "index" | "listing";
  loaded: number;
  added: string[];
  dropped: string[];
  /** Blocks that could not be opened or read, each naming the block and the reason. */
  failed: string[];
}

const MATCH_TYPES: Record<number, MatchType> = {
  [LabelMatcher_Type.EQ]: "=", [LabelMatcher_Type.NEQ]: "!=", [LabelMatcher_Type.RE]: "=~", [LabelMatcher_Type.NRE]: "!~",
};

export function matchersFromPb(ms: readonly LabelMatcher[]): Matcher[] {
  return ms.map((m) => {
    const t = MATCH_TYPES[m.type];
    if (!t) throw new CodedError("bad_data", `matcher on ${JSON.stringify(m.name)}: unknown matcher type ${m.type}`);
    return newMatcher(t, m.name, m.value);
  });
}

function isAbort(strategy: PartialResponseStrategy, disabled: boolean): boolean {
  return disabled || strategy === PartialResponseStrategy.ABORT;
}

/** Errors that are the caller's or a limit: never turned into partial-response warnings. */
function isRequestError(e: unknown): boolean {
  const c = errorCode(e);
  return c === "bad_data" || c === "resource_exhausted" || c === "canceled";
}

/** A FIFO semaphore; waiting honours the caller's cancellation. */
class Gate {
  private active = 0;
  private waiters: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async acquire(signal?: AbortSignal): Promise<void> {
    if (this.max <= 0 || this.active < this.max) { this.active++; return; }
    await new Promise<void>((resolve, reject) => {
      const go = () => { signal?.removeEventListener("abort", stop); this.active++; resolve(); };
      const stop = () => {
        const i = this.waiters.indexOf(go);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new CodedError("canceled", "Series: canceled while waiting for a concurrency slot"));
      };
      this.waiters.push(go);
      signal?.addEventListener("abort", stop, { once: true });
    });
  }
  release(): void {
    this.active--;
    const w = this.waiters.shift();
    if (w) w();
  }
  get inUse(): number { return this.active; }
}

/** Wire form of one chunk (storepb.AggrChunk init shape). */
interface WireChunk {
  minTime: bigint;
  maxTime: bigint;
  raw?: WireSub; count?: WireSub; sum?: WireSub; min?: WireSub; max?: WireSub; counter?: WireSub;
}
interface WireSub { type: number; data: Uint8Array; hash: bigint }

interface OutSeries {
  labels: Labels;
  chunks: { minTime: number; maxTime: number; encoding: number; data: Uint8Array }[];
  /** Which block (for merge bookkeeping). */
  from: string;
}

/**
 * A block's contribution to one Series call: series in final-label order, pulled one at a time out of
 * batches. The next batch is asked for as soon as one arrives, so reading a block's next series entries
 * and chunks overlaps the merge of the current ones (Thanos' store prefetches the same way).
 */
class BlockCursor {
  private buf: OutSeries[] = [];
  private i = 0;
  private ahead: Promise<IteratorResult<OutSeries[]>> | null = null;
  private done = false;
  cur: OutSeries | null = null;
  constructor(readonly lb: LoadedBlock, private readonly gen: AsyncGenerator<OutSeries[]>) {}

  /** Moves to the next series when it is at hand: true; false when the batch is used up (call fill()). */
  step(): boolean {
    if (this.i < this.buf.length) { this.cur = this.buf[this.i++]!; return true; }
    return false;
  }

  /** Waits for the next batch and moves to its first series: false when the block has no more. */
  async fill(): Promise<boolean> {
    for (;;) {
      if (this.done) { this.cur = null; return false; }
      const r = await (this.ahead ?? this.gen.next());
      this.ahead = null;
      if (r.done) { this.done = true; this.cur = null; return false; }
      this.buf = r.value;
      this.i = 0;
      // Read ahead: the generator resumes now and runs until its next read.
      const next = this.gen.next();
      next.catch(() => {}); // seen by the fill() that awaits it
      this.ahead = next;
      if (this.step()) return true;
    }
  }

  async close(): Promise<void> {
    if (this.ahead) await this.ahead.catch(() => {});
    this.ahead = null;
    await this.gen.return(undefined);
  }
}

/** Binary min-heap of cursors by their current series' labels. */
class CursorHeap {
  h: BlockCursor[] = [];
  private less(a: BlockCursor, b: BlockCursor): boolean { return compareLabels(a.cur!.labels, b.cur!.labels) < 0; }
  push(c: BlockCursor): void {
    const h = this.h;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): BlockCursor | undefined {
    const h = this.h;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
  peek(): BlockCursor | undefined { return this.h[0]; }
  get size(): number { return this.h.length; }
}

/**
 * Where the merged series of a Series call go: the enveloped-bytes writer (seriesEnveloped) or message
 * objects (series). `full` tells the merge to hand over what was written before going on.
 */
interface SeriesSink {
  series(labels: Labels, chunks: OutSeries["chunks"]): void;
  warning(msg: string): void;
  readonly full: boolean;
}

/** Enveloped bytes are handed to the transport in pieces of about this size. */
const OUT_YIELD_BYTES = 128 * 1024;

const AGGR_FIELDS = ["count", "sum", "min", "max", "counter"] as const;
const AGGR_OF: Record<number, number> = { [Aggr.COUNT]: 0, [Aggr.SUM]: 1, [Aggr.MIN]: 2, [Aggr.MAX]: 3, [Aggr.COUNTER]: 4 };

function sub(encoding: number, data: Uint8Array): WireSub {
  return { type: toStorepbEncoding(encoding), data, hash: xxhash64(data) };
}

/**
 * Chunks of one series gathered from several blocks, sorted by time. Chunks that overlap in time (blocks
 * of one stream overlapping, e.g. before compaction or after a re-upload) are decoded, merged by
 * timestamp (the earlier chunk wins a tie, like Prometheus' vertical merge) and re-encoded; all others
 * pass through untouched.
 */
export function mergeOverlappingChunks(chunks: OutSeries["chunks"]): OutSeries["chunks"] {
  if (chunks.length < 2) return chunks;
  chunks.sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
  let overlap = false;
  for (let i = 1; i < chunks.length; i++) if (chunks[i]!.minTime <= chunks[i - 1]!.maxTime) { overlap = true; break; }
  if (!overlap) return chunks;
  const out: OutSeries["chunks"] = [];
  let i = 0;
  while (i < chunks.length) {
    let j = i + 1, end = chunks[i]!.maxTime;
    while (j < chunks.length && chunks[j]!.minTime <= end) { end = Math.max(end, chunks[j]!.maxTime); j++; }
    const group = chunks.slice(i, j);
    if (group.length === 1 || group.some((c) => c.encoding !== Encoding.XOR)) out.push(...group);
    else out.push(...mergeXorGroup(group));
    i = j;
  }
  return out;
}

function mergeXorGroup(group: OutSeries["chunks"]): OutSeries["chunks"] {
  let total = 0;
  for (const c of group) total += (c.data[0]! << 8) | c.data[1]!;
  const ts = new Float64Array(total), vs = new Float64Array(total);
  const bits = new Uint32Array(vs.buffer);
  const src: number[] = [];
  let n = 0;
  for (let g = 0; g < group.length; g++) {
    const k = decodeXorInto(group[g]!.data, ts.subarray(n), vs.subarray(n), "overlapping chunk");
    for (let q = 0; q < k; q++) src.push(n + q);
    n += k;
  }
  src.sort((a, b) => ts[a]! - ts[b]! || a - b);
  const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const HI = LE ? 1 : 0, LO = 1 - HI;
  const out: OutSeries["chunks"] = [];
  let app: XorAppender | null = null, first = 0, last = -Infinity;
  const flush = () => { if (app) out.push({ minTime: first, maxTime: last, encoding: Encoding.XOR, data: app.bytes() }); app = null; };
  for (const q of src) {
    const t = ts[q]!;
    if (t === last) continue;
    if (!app || app.numSamples() >= 120) { flush(); app = new XorAppender(); first = t; }
    app.appendBits(t, bits[2 * q + HI]!, bits[2 * q + LO]!);
    last = t;
  }
  flush();
  return out;
}

export class BucketStore implements StoreImpl, InfoImpl {
  readonly bucket: CachingBucket;
  private blocks = new Map<string, LoadedBlock>();
  private failedOpen = new Map<string, string>();
  private readonly gate: Gate;
  private readonly now: () => number;
  private readonly log: LogFn;
  private lastSync = -Infinity;
  private lastFailedSync = -Infinity;
  private syncing: Promise<SyncResult> | null = null;
  /** Seen by metrics: series calls, warnings emitted. */
  readonly counters = { seriesCalls: 0, blockWarnings: 0, limitErrors: 0 };
  /**
   * LabelValues without matchers (what Grafana's variables ask, again and again): a block's values of a
   * name decoded once ("b" keys), and the merged, sorted answer over a set of blocks ("m" keys). Blocks
   * are immutable, so a ULID-keyed entry is never stale; entries of blocks gone age out. Decoding and
   * merging 12 blocks x 10k values took 25 ms a call; from the cache, the answer is at hand.
   */
  private readonly labelValuesCache: ByteLru<string[]>;

  constructor(private readonly o: BucketStoreOptions) {
    this.bucket = new CachingBucket(withRetries(o.bucket, { attempts: o.bucketAttempts ?? 2, baseDelayMs: 50, maxDelayMs: 500 }), {
      indexCacheBytes: o.indexCacheBytes, chunksCacheBytes: o.chunksCacheBytes,
    });
    this.gate = new Gate(o.maxConcurrency ?? 20);
    this.labelValuesCache = new ByteLru(o.labelValuesCacheBytes ?? 16 << 20, stringsBytes);
    this.now = o.now ?? (() => Date.now());
    this.log = o.log ?? (() => {});
  }

  get stats(): BucketStats { return this.bucket.stats; }
  loadedBlocks(): LoadedBlock[] { return [...this.blocks.values()]; }

  /** Sync when the last one is older than the TTL (what a Worker calls per request). */
  async ensureSynced(): Promise<void> {
    const ttl = this.o.syncTtlMs ?? 60_000;
    if (this.now() - this.lastSync < ttl || this.now() - this.lastFailedSync < Math.min(ttl, 10_000)) return;
    try {
      await this.sync();
    } catch (e) {
      // With blocks from an earlier sync, keep serving them; a first sync that fails fails the request.
      this.lastFailedSync = this.now();
      if (this.lastSync === -Infinity) throw e;
      this.log("warn", "block sync failed; serving the blocks of the previous sync", { err: errorMessage(e) });
    }
  }

  /** Discover blocks, open new ones, drop gone ones. Concurrent calls share one run. */
  sync(): Promise<SyncResult> {
    this.syncing ??= this.doSync().finally(() => { this.syncing = null; });
    return this.syncing;
  }

  private lastListedAt: number | undefined;

  private async doSync(): Promise<SyncResult> {
    const now = this.now();
    this.lastListedAt ??= now; // the index may serve the first syncs; a listing follows within max-stale
    const d: Discovered = await discoverBlocks(this.bucket, { indexMaxStaleMs: this.o.bucketIndexMaxStaleMs ?? 3_600_000, now, lastListedAt: this.lastListedAt });
    if (d.source === "listing") this.lastListedAt = now;
    if (d.fallback) this.log(d.fallback === "no bucket index" ? "debug" : "info", "discovered blocks by listing the bucket", { reason: d.fallback });
    for (const p of d.problems) this.log("warn", "block discovery", { problem: p });
    const want = await filterBlocks(this.bucket, d, {
      now,
      consistencyDelayMs: this.o.consistencyDelayMs ?? 0,
      ignoreDeletionMarksDelayMs: this.o.ignoreDeletionMarksDelayMs ?? 24 * 3_600_000,
      minTime: this.o.minTime ?? -Infinity,
      maxTime: this.o.maxTime ?? Infinity,
    });
    const wantIds = new Set(want.map((m) => m.ulid));
    const res: SyncResult = { source: d.source, loaded: 0, added: [], dropped: [], failed: [...d.problems] };
    for (const id of [...this.blocks.keys()]) {
      if (!wantIds.has(id)) { this.blocks.delete(id); this.bucket.forgetBlock(id); res.dropped.push(id); }
    }
    const todo = want.filter((m) => !this.blocks.has(m.ulid));
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const meta = todo[next++]!;
        try {
          const lb = await this.open(meta);
          this.blocks.set(meta.ulid, lb);
          this.failedOpen.delete(meta.ulid);
          res.added.push(meta.ulid);
        } catch (e) {
          const msg = `block ${meta.ulid}: ${errorMessage(e)}`;
          this.failedOpen.set(meta.ulid, msg);
          res.failed.push(msg);
          this.log("warn", "cannot open block; retrying at the next sync", { block: meta.ulid, err: errorMessage(e) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.o.openConcurrency ?? 8) }, worker));
    res.loaded = this.blocks.size;
    this.lastSync = now;
    return res;
  }

  private async open(meta: BlockMeta): Promise<LoadedBlock> {
    const files = bucketBlockFiles(this.bucket, meta.ulid);
    const metaBytes = encodeBlockMeta(meta);
    const hc = this.o.headerCache;
    let index = files.index;
    let recorder: RecordingSource | null = null;
    if (hc) {
      let saved: ReturnType<typeof decodeHeader> | null = null;
      try {
        const b = await hc.get(meta.ulid);
        if (b) saved = decodeHeader(b, `saved index header of block ${meta.ulid}`);
      } catch (e) {
        this.log("warn", "saved index header unusable; reading the index instead", { block: meta.ulid, err: errorMessage(e) });
      }
      if (saved) {
        const s = saved;
        index = () => new PrefilledSource(files.index(), s.size, s.ranges);
      } else {
        const r = (recorder = new RecordingSource(files.index()));
        index = () => r;
      }
    }
    const block = await openBlock({ ...files, index, meta: async () => metaBytes });
    if (recorder && hc) {
      const r = recorder;
      r.stop();
      await hc.put(meta.ulid, encodeHeader(r.sizeSeen, r.ranges))
        .catch((e) => this.log("warn", "saving the index header failed", { block: meta.ulid, err: errorMessage(e) }));
    }
    const ext = labelsFrom(meta.thanos?.labels ?? {});
    // Range-read sizes from this block's averages: a read sized for the average entry plus a margin
    // fetches most entries whole in one GET without dragging in kilobytes of neighbours (the readers'
    // fixed default is 512 bytes, 3-4x a typical 120-sample chunk). A longer entry costs a second read.
    const toc = block.index.toc;
    const seriesEnd = Math.min(...[toc.labelIndices, toc.postings, toc.labelIndicesTable, toc.postingsTable, block.index.size].filter((v) => v > toc.series));
    const nSeries = Math.max(1, meta.stats.numSeries);
    const seriesEstimate = clamp(Math.ceil(((seriesEnd - toc.series) / nSeries) * 1.25), 64, 1024);
    let chunkEstimate = 512;
    try {
      // Also warms the size the chunk reader asks for (CachingBucket keeps it).
      const seg = await this.bucket.attributes(`${meta.ulid}/chunks/000001`);
      const segs = meta.thanos?.segment_files?.length ?? 1;
      if (segs === 1 && meta.stats.numChunks > 0) chunkEstimate = clamp(Math.ceil(((seg.size - 8) / meta.stats.numChunks) * 1.2) + 8, 48, 2048);
    } catch { /* no segment (empty block) or unknown: keep the default */ }
    return { meta, block, ext, extKey: labelsString(ext), resolution: meta.thanos?.downsample?.resolution ?? 0, seriesEstimate, chunkEstimate };
  }

  /**
   * Series refs for the matchers, fetching only the postings lists worth their bytes (Thanos' lazy
   * expanded postings): the smallest list among the matchers that need one is always read; another is
   * read only when it is smaller than the series entries it would spare us reading. The matchers not
   * resolved by postings are applied to the series' labels after the entries are read.
   */
  private async candidates(lb: LoadedBlock, ms: Matcher[]): Promise<{ refs: number[]; lazy: Matcher[] }> {
    const ix = lb.block.index;
    const sized: { m: Matcher; bytes: number }[] = [];
    for (const m of ms) {
      if (m.matches("")) continue;
      const values = m.type === "=" ? [m.value] : m.type === "=~" ? setMatches(m) : null;
      if (!values || values.length === 0) continue;
      let bytes = 0;
      for (const r of ix.postingsRanges(m.name, values)) bytes += r.end - r.start;
      sized.push({ m, bytes });
    }
    if (sized.length === 0) return { refs: expandPostings(await lb.block.postingsForMatchers(ms)), lazy: [] };
    sized.sort((a, b) => a.bytes - b.bytes);
    // A list is len(4) count(4) refs(4 each) crc(4), padded to 4: its byte size bounds its series count.
    const candidates = Math.max(1, (sized[0]!.bytes - 12) / 4);
    const fetch = new Set<Matcher>([sized[0]!.m]);
    for (const s of sized.slice(1)) if (s.bytes <= candidates * lb.seriesEstimate) fetch.add(s.m);
    // Matchers without a sized list (negations, regexes over many values) keep the postings path: they
    // read no list of their own for "!=" / "!~" beyond the values they reject.
    for (const m of ms) if (!sized.some((s) => s.m === m)) fetch.add(m);
    const lazy = ms.filter((m) => !fetch.has(m));
    return { refs: expandPostings(await lb.block.postingsForMatchers([...fetch])), lazy };
  }

  /**
   * Blocks for a request, per stream (external label set): Thanos' bucketBlockSet.getFor — the coarsest
   * resolution not above max_resolution_window first, gaps filled with finer resolutions. With a window
   * of 0 (the default), only raw blocks.
   */
  blocksFor(mint: number, maxt: number, maxResolution: number): LoadedBlock[] {
    const streams = new Map<string, LoadedBlock[]>();
    for (const b of this.blocks.values()) {
      let l = streams.get(b.extKey);
      if (!l) streams.set(b.extKey, (l = []));
      l.push(b);
    }
    const out: LoadedBlock[] = [];
    for (const bs of streams.values()) {
      const resolutions = [...new Set(bs.map((b) => b.resolution))].sort((a, b) => b - a);
      const byRes = new Map<number, LoadedBlock[]>();
      for (const b of bs) {
        let l = byRes.get(b.resolution);
        if (!l) byRes.set(b.resolution, (l = []));
        l.push(b);
      }
      for (const l of byRes.values()) l.sort((a, b) => a.meta.minTime - b.meta.minTime);
      const getFor = (lo: number, hi: number, ri: number): LoadedBlock[] => {
        if (lo > hi || ri >= resolutions.length) return [];
        const got: LoadedBlock[] = [];
        let start = lo;
        for (const b of byRes.get(resolutions[ri]!)!) {
          if (b.meta.maxTime <= lo) continue;
          if (b.meta.minTime > hi) break;
          got.push(...getFor(start, b.meta.minTime - 1, ri + 1));
          got.push(b);
          start = b.meta.maxTime; // as Thanos: not max(start, ...), so a block inside another reopens its tail
        }
        got.push(...getFor(start, hi, ri + 1));
        return got;
      };
      let i = 0;
      while (i < resolutions.length && resolutions[i]! > maxResolution) i++;
      out.push(...getFor(mint, maxt, i));
    }
    return out;
  }

  async info(): Promise<InfoResponseInit> {
    let mint = Infinity, maxt = -Infinity;
    const streams = new Map<string, { ext: Labels; mint: number; maxt: number }>();
    for (const b of this.blocks.values()) {
      mint = Math.min(mint, b.meta.minTime);
      maxt = Math.max(maxt, b.meta.maxTime);
      const s = streams.get(b.extKey);
      if (!s) streams.set(b.extKey, { ext: b.ext, mint: b.meta.minTime, maxt: b.meta.maxTime });
      else { s.mint = Math.min(s.mint, b.meta.minTime); s.maxt = Math.max(s.maxt, b.meta.maxTime); }
    }
    const sets = [...streams.values()].sort((a, b) => compareLabels(a.ext, b.ext));
    return {
      labelSets: sets.filter((s) => s.ext.length > 0).map((s) => ({ labels: s.ext.map((l) => ({ name: l.name, value: l.value })) })),
      ComponentType: "store",
      store: {
        // No blocks: an empty range (min > max), as Thanos answers.
        minTime: Number.isFinite(mint) ? msToProto(mint) : MAX_INT64,
        maxTime: Number.isFinite(maxt) ? msToProto(maxt) : MIN_INT64,
        supportsSharding: false,
        supportsWithoutReplicaLabels: true,
        tsdbInfos: sets.map((s) => ({
          labels: { labels: s.ext.map((l) => ({ name: l.name, value: l.value })) },
          minTime: msToProto(s.mint), maxTime: msToProto(s.maxt),
        })),
      },
    };
  }

  /**
   * Series as message objects: for in-process callers (the querier's embedded bucket store) and calls the
   * fast path does not take (compressed or JSON). Binary calls of a store with `preEncode` get the bytes
   * of seriesEnveloped, one SeriesResponse at a time as pre-encoded messages (never re-encoded).
   */
  async *series(req: SeriesRequest, ctx: CallContext): AsyncGenerator<SeriesResponseInit> {
    if (this.o.preEncode === true && binaryCall(ctx)) {
      for await (const b of this.seriesEnveloped(req, ctx, { reuse: false })) {
        for (const m of envelopedMessages(b, "Series")) {
          if (m[0] !== 0x0a && m[0] !== 0x22) { yield fromBinary(SeriesResponseSchema, m); continue; } // a warning
          const out = create(SeriesResponseSchema);
          out.$unknown = [{ no: m[0] >>> 3, wireType: WireType.LengthDelimited, data: m.subarray(1) }];
          yield out;
        }
      }
      return;
    }
    const aggrs = requestAggregates(req);
    const out: SeriesResponseInit[] = [];
    const sink: SeriesSink = {
      series: (labels, chunks) => out.push({ result: { case: "series", value: { labels: labels.map((l) => ({ name: l.name, value: l.value })), chunks: chunks.map((c) => wireChunk(c, aggrs)) } } }),
      warning: (msg) => out.push({ result: { case: "warning", value: msg } }),
      get full() { return out.length > 0; },
    };
    for await (const _ of this.seriesInto(req, ctx.signal, sink)) yield* out.splice(0);
    yield* out.splice(0);
  }

  /**
   * The Series answer as enveloped SeriesResponse bytes (flags | length | message), written straight
   * from the chunk bytes read (no message objects, nothing re-encoded), in pieces of about 128 KiB: what
   * the server stack's fast path writes to the socket (shared/rpc/fastseries.ts, agent/grpc/fastseries.ts).
   * response_batch_size is honoured; chunks carry their xxhash64 as Thanos' store sends them. With
   * `reuse`, a piece is valid only until the generator is resumed.
   */
  async *seriesEnveloped(req: SeriesRequest, ctx: CallContext, opts: { reuse: boolean }): AsyncGenerator<Uint8Array> {
    const w = new SeriesResponseWriter(Math.min(Number(req.responseBatchSize), MAX_RESPONSE_BATCH_SIZE), {
      reuse: opts.reuse, hashes: true, aggregates: requestAggregates(req),
    });
    const sink: SeriesSink = {
      series: (labels, chunks) => w.add({ labelBytes: encodeLabels(labels), chunks }),
      warning: (msg) => w.warning(msg),
      get full() { return w.bytes >= OUT_YIELD_BYTES; },
    };
    for await (const _ of this.seriesInto(req, ctx.signal, sink)) yield* w.take();
    w.flush();
    yield* w.take();
  }

  /** A Series call into `sink`: yields whenever the sink is full (the caller hands its output over). */
  private async *seriesInto(req: SeriesRequest, signal: AbortSignal, sink: SeriesSink): AsyncGenerator<void> {
    const ms = matchersFromPb(req.matchers);
    const mint = msFromProto(req.minTime), maxt = msFromProto(req.maxTime);
    if (maxt < mint) return;
    await this.gate.acquire(signal);
    this.counters.seriesCalls++;
    try {
      yield* this.seriesLocked(req, ms, mint, maxt, signal, sink);
    } catch (e) {
      if (errorCode(e) === "resource_exhausted") this.counters.limitErrors++;
      if (signal.aborted && !isRequestError(e)) throw new CodedError("canceled", "Series: canceled by the caller", { cause: e });
      throw e;
    } finally {
      this.gate.release();
    }
  }

  private async *seriesLocked(req: SeriesRequest, ms: Matcher[], mint: number, maxt: number, signal: AbortSignal, sink: SeriesSink): AsyncGenerator<void> {
    const abort = isAbort(req.partialResponseStrategy, req.partialResponseDisabled);
    const limiter = new RequestLimiter(this.o.maxSeries ?? 0, this.o.maxSamples ?? 0);
    const drop = new Set(req.withoutReplicaLabels);
    const bytes = { chunks: 0 };
    const skipChunks = req.skipChunks;
    const cursors: BlockCursor[] = [];
    for (const lb of this.blocksFor(mint, maxt, Number(req.maxResolutionWindow))) {
      const { match, rest } = matchExternalLabels(ms, lb.ext);
      if (!match) continue;
      const outExt = externalLabelsWithout(lb.ext, req.withoutReplicaLabels);
      cursors.push(new BlockCursor(lb, this.blockSeries(lb, rest, mint, maxt, skipChunks, outExt, drop, limiter, bytes, signal)));
    }
    const warnings: string[] = [];
    const fail = (c: BlockCursor, e: unknown): void => {
      if (isRequestError(e) || signal.aborted) throw e;
      const msg = `store gateway: block ${c.lb.meta.ulid}: ${errorMessage(e)}`;
      this.counters.blockWarnings++;
      this.log("warn", "block failed during Series", { block: c.lb.meta.ulid, err: errorMessage(e), abort });
      if (abort) throw new CodedError(errorCode(e) ?? "unavailable", msg, { cause: e });
      warnings.push(msg);
    };
    const heap = new CursorHeap();
    const fill = async (c: BlockCursor): Promise<void> => {
      try {
        if (await c.fill()) heap.push(c);
      } catch (e) {
        fail(c, e);
      }
    };
    const empty: OutSeries["chunks"] = [];
    const same: BlockCursor[] = [];
    const refill: BlockCursor[] = [];
    try {
      await Promise.all(cursors.map(fill));
      for (const m of warnings.splice(0)) sink.warning(m);
      let n = 0;
      while (heap.size > 0) {
        if ((++n & 127) === 0) signal.throwIfAborted();
        const first = heap.pop()!;
        const labels = first.cur!.labels;
        same.length = 0;
        same.push(first);
        while (heap.size > 0 && compareLabels(heap.peek()!.cur!.labels, labels) === 0) same.push(heap.pop()!);
        let chunks = first.cur!.chunks;
        if (skipChunks) chunks = empty;
        else if (same.length > 1) {
          const all: OutSeries["chunks"] = [];
          for (const c of same) for (const x of c.cur!.chunks) all.push(x);
          chunks = mergeOverlappingChunks(all);
        }
        limiter.addSeries();
        sink.series(labels, chunks);
        // Cursors with series at hand go straight back; the others wait for their next batch together.
        refill.length = 0;
        for (const c of same) if (c.step()) heap.push(c); else refill.push(c);
        if (refill.length) {
          await Promise.all(refill.map(fill));
          for (const m of warnings.splice(0)) sink.warning(m);
        }
        if (sink.full) yield;
      }
    } finally {
      await Promise.all(cursors.map((c) => c.close().catch(() => {})));
    }
  }

  /** One block's series for a request, in batches, in final-label order. */
  private async *blockSeries(
    lb: LoadedBlock, ms: Matcher[], mint: number, maxt: number, skipChunks: boolean, outExt: Labels, drop: ReadonlySet<string>,
    limiter: RequestLimiter, bytes: { chunks: number }, signal: AbortSignal,
  ): AsyncGenerator<OutSeries[]> {
    const b = lb.block;
    const { refs, lazy } = await this.candidates(lb, ms);
    // Like Thanos, fail on the postings count before fetching anything: more series in one block than
    // the limit can only end over it.
    const maxSeries = this.o.maxSeries ?? 0;
    // Only when every matcher was resolved by postings: with lazy matchers the refs are candidates, and
    // the labels check may still drop most of them.
    if (maxSeries > 0 && lazy.length === 0 && refs.length > maxSeries) {
      throw new CodedError("resource_exhausted", `exceeded series limit: limit ${maxSeries} violated (got ${refs.length} series in block ${lb.meta.ulid})`);
    }
    const batch = this.o.batchSize ?? 1024;
    const maxBytes = this.o.maxChunkBytes ?? 0;
    // Final labels differ from the stored ones only with external labels or dropped replica labels; only
    // then can their order differ from the index order (see PrefixReorderer).
    const relabel = outExt.length > 0 || drop.size > 0;
    const ro = relabel ? new PrefixReorderer<OutSeries>((into, from) => { into.chunks.push(...from.chunks); }) : null;
    for (let i = 0; i < refs.length; i += batch) {
      signal.throwIfAborted();
      const entries = await b.index.series(refs.slice(i, i + batch), lb.seriesEstimate, this.o.seriesGapBytes);
      const keep: { labels: Labels; key: Labels; metas: { minTime: number; maxTime: number; ref: number }[] }[] = [];
      const chunkRefs: number[] = [];
      for (const s of entries) {
        if (lazy.length && !lazy.every((m) => m.matches(getLabel(s.labels, m.name)))) continue;
        let metas = s.chunks;
        for (let j = 0; j < metas.length; j++) {
          const c = metas[j]!;
          if (c.maxTime < mint || c.minTime > maxt) { metas = metas.filter((c) => c.maxTime >= mint && c.minTime <= maxt); break; }
        }
        if (metas.length === 0) continue;
        keep.push({ key: s.labels, labels: relabel ? extendLabels(dropLabelNames(s.labels, drop), outExt) : s.labels, metas });
        if (!skipChunks) for (const c of metas) chunkRefs.push(c.ref);
      }
      const datas = skipChunks || chunkRefs.length === 0 ? [] : await b.chunks.chunks(chunkRefs, lb.chunkEstimate, this.o.chunksGapBytes);
      let k = 0;
      const ready: OutSeries[] = [];
      const countSamples = limiter.limitsSamples;
      for (const s of keep) {
        const chunks: OutSeries["chunks"] = new Array(skipChunks ? 0 : s.metas.length);
        for (let j = 0; j < chunks.length; j++) {
          const m = s.metas[j]!;
          const d = datas[k++]!;
          bytes.chunks += d.data.length;
          if (countSamples) limiter.addSamples(d.encoding === Encoding.Aggr ? aggrNumSamples(d.data) : chunkSampleCount(d.encoding, d.data));
          chunks[j] = { minTime: m.minTime, maxTime: m.maxTime, encoding: d.encoding, data: d.data };
        }
        if (maxBytes > 0 && bytes.chunks > maxBytes) {
          throw new CodedError("resource_exhausted", `exceeded chunk bytes limit: limit ${maxBytes} violated (fetched ${bytes.chunks} bytes of chunks)`);
        }
        const o: OutSeries = { labels: s.labels, chunks, from: lb.meta.ulid };
        if (ro) { for (const r of ro.push(s.key, s.labels, o)) ready.push(r); } else ready.push(o);
      }
      if (ready.length) yield ready;
    }
    const rest = ro?.flush() ?? [];
    if (rest.length) yield rest;
  }

  /** Blocks overlapping [start, end] matching the request's external-label matchers, with the rest. */
  private labelBlocks(ms: Matcher[], start: number, end: number): { lb: LoadedBlock; rest: Matcher[] }[] {
    const out: { lb: LoadedBlock; rest: Matcher[] }[] = [];
    for (const lb of this.blocks.values()) {
      if (lb.meta.maxTime <= start || lb.meta.minTime > end) continue; // maxTime is exclusive
      const { match, rest } = matchExternalLabels(ms, lb.ext);
      if (match) out.push({ lb, rest });
    }
    return out;
  }

  /** Label sets of series matching `ms` in a block (at most `limit` series read). */
  private async seriesLabels(lb: LoadedBlock, ms: Matcher[]): Promise<Labels[]> {
    const { refs, lazy } = await this.candidates(lb, ms);
    const out: Labels[] = [];
    const batch = this.o.batchSize ?? 256;
    for (let i = 0; i < refs.length; i += batch) {
      for (const s of await lb.block.index.series(refs.slice(i, i + batch), lb.seriesEstimate, this.o.seriesGapBytes)) {
        if (lazy.length && !lazy.every((m) => m.matches(getLabel(s.labels, m.name)))) continue;
        out.push(s.labels);
      }
    }
    return out;
  }

  async labelNames(req: LabelNamesRequest, ctx: CallContext): Promise<LabelNamesResponseInit> {
    const ms = matchersFromPb(req.matchers);
    const abort = isAbort(req.partialResponseStrategy, req.partialResponseDisabled);
    const drop = new Set(req.withoutReplicaLabels);
    const set = new Set<string>();
    const warnings: string[] = [];
    await Promise.all(this.labelBlocks(ms, msFromProto(req.start), msFromProto(req.end)).map(async ({ lb, rest }) => {
      try {
        let names: string[];
        if (rest.length === 0) names = lb.block.index.labelNames();
        else {
          const s = new Set<string>();
          for (const ls of await this.seriesLabels(lb, rest)) for (const l of ls) s.add(l.name);
          names = [...s];
        }
        ctx.signal.throwIfAborted();
        if (names.length === 0) return;
        for (const n of names) set.add(n);
        for (const l of lb.ext) set.add(l.name);
      } catch (e) {
        if (isRequestError(e) || ctx.signal.aborted) throw e;
        const msg = `store gateway: LabelNames: block ${lb.meta.ulid}: ${errorMessage(e)}`;
        if (abort) throw new CodedError(errorCode(e) ?? "unavailable", msg, { cause: e });
        warnings.push(msg);
      }
    }));
    let names = [...set].filter((n) => !drop.has(n)).sort(compareStrings);
    if (req.limit > 0n && names.length > Number(req.limit)) names = names.slice(0, Number(req.limit));
    return { names, warnings };
  }

  async labelValues(req: LabelValuesRequest, ctx: CallContext): Promise<LabelValuesResponseInit> {
    if (req.label === "") throw new CodedError("bad_data", "LabelValues: label name is empty");
    const ms = matchersFromPb(req.matchers);
    if (req.withoutReplicaLabels.includes(req.label)) return {};
    const abort = isAbort(req.partialResponseStrategy, req.partialResponseDisabled);
    // Answers are copies: the cached array is never handed out.
    const upTo = req.limit > 0n ? Number(req.limit) : undefined;
    const blocks = this.labelBlocks(ms, msFromProto(req.start), msFromProto(req.end));
    const mkey = blocks.every((b) => b.rest.length === 0) ? `m\0${req.label}\0${blocks.map((b) => b.lb.meta.ulid).sort().join(",")}` : null;
    const hit = mkey === null ? undefined : this.labelValuesCache.get(mkey);
    if (hit) return { values: hit.slice(0, upTo), warnings: [] };
    const set = new Set<string>();
    const warnings: string[] = [];
    await Promise.all(blocks.map(async ({ lb, rest }) => {
      try {
        const extValue = lb.ext.find((l) => l.name === req.label)?.value;
        if (extValue !== undefined) {
          // One value per block; with other matchers only when some series matches.
          if (rest.length === 0 || (await this.seriesLabels(lb, rest)).length > 0) set.add(extValue);
          return;
        }
        if (rest.length === 0) { for (const v of this.blockLabelValues(lb, req.label)) set.add(v); return; }
        for (const ls of await this.seriesLabels(lb, rest)) {
          for (const l of ls) if (l.name === req.label) { set.add(l.value); break; }
        }
      } catch (e) {
        if (isRequestError(e) || ctx.signal.aborted) throw e;
        const msg = `store gateway: LabelValues: block ${lb.meta.ulid}: ${errorMessage(e)}`;
        if (abort) throw new CodedError(errorCode(e) ?? "unavailable", msg, { cause: e });
        warnings.push(msg);
      }
    }));
    const values = [...set].sort(compareStrings);
    if (mkey !== null && warnings.length === 0) this.labelValuesCache.set(mkey, values);
    return { values: values.slice(0, upTo), warnings };
  }

  /** A block's values of `name`, decoded once while the cache has room for them. */
  private blockLabelValues(lb: LoadedBlock, name: string): string[] {
    const key = `b\0${lb.meta.ulid}\0${name}`;
    let vs = this.labelValuesCache.get(key);
    if (!vs) { vs = lb.block.index.labelValues(name); this.labelValuesCache.set(key, vs); }
    return vs;
  }

  /** Bytes the loaded blocks hold in memory for their index headers (benchmarks). */
  headerBytes(): number {
    let n = 0;
    for (const b of this.blocks.values()) n += b.block.index.heldBytes();
    return n;
  }
}

/**
 * Whether the call is served in the protobuf binary format: pre-encoded series travel as unknown fields,
 * which a JSON codec (Connect JSON, curl) would silently drop. Connect handlers pass their HandlerContext
 * as the CallContext, with the request headers; in-process calls have none and get objects.
 */
function binaryCall(ctx: CallContext): boolean {
  const h = (ctx as { requestHeader?: { get(k: string): string | null } }).requestHeader;
  return (h?.get("content-type") ?? "") !== "" && !isJsonCall(h);
}

/** The aggregates a request asks for, as AggrType indices (count 0 … counter 4); none asked: all five. */
function requestAggregates(req: SeriesRequest): number[] {
  return req.aggregates.length ? req.aggregates.map((a) => AGGR_OF[a]).filter((x): x is number => x !== undefined) : [0, 1, 2, 3, 4];
}

function clamp(v: number, lo: number, hi: number): number {
  return Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : hi;
}

function wireChunk(c: OutSeries["chunks"][number], aggrs: number[]): WireChunk {
  const w: WireChunk = { minTime: BigInt(c.minTime), maxTime: BigInt(c.maxTime) };
  if (c.encoding !== Encoding.Aggr) { w.raw = sub(c.encoding, c.data); return w; }
  const subs = decodeAggrChunk(c.data, "downsampled chunk");
  for (const a of aggrs) {
    const s = subs[a];
    if (s) w[AGGR_FIELDS[a]!] = sub(s.encoding, s.data);
  }
  return w;
}

/** Estimated heap bytes of a string array: per string its UTF-16 code units and a header, per slot a pointer. */
function stringsBytes(vs: string[]): number {
  let n = 8 * vs.length;
  for (const v of vs) n += 2 * v.length + 32;
  return n;
}
