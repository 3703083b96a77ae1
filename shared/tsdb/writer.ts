// BlockWriter: series (label order) with their chunks in, a Prometheus block out: chunk segments
// (cut at 512 MiB), index v2, empty tombstones and meta.json (stats, optional `thanos` section).
// Files stream through a BlockSink; memory holds the symbols and postings, not the samples.

import { aggrNumSamples } from "../chunkenc/aggr.ts";
import { Encoding } from "../chunkenc/chunk.ts";
import { xorNumSamples } from "../chunkenc/xor.ts";
import { concatBytes } from "../encoding/bytes.ts";
import { CodedError } from "../encoding/errors.ts";
import type { Labels } from "../labels/labels.ts";
import { ChunkWriter, DEFAULT_SEGMENT_SIZE, refOffset, refSegment } from "./chunks.ts";
import { IndexWriter, labelsDebug, type ChunkMeta } from "./index.ts";
import { encodeBlockMeta, type BlockMeta, type BlockStats, type Compaction, type ThanosMeta } from "./meta.ts";
import { encodeTombstones } from "./tombstones.ts";
import { newUlid } from "./ulid.ts";

export interface BlockSink {
  /** Append bytes to one of the block's files: "index", "chunks/000001", …, "tombstones", "meta.json". */
  append(file: string, data: Uint8Array): Promise<void>;
  /** Every file is complete (meta.json last): make the block visible, e.g. rename a temp dir. */
  commit(meta: BlockMeta): Promise<void>;
  /** Drop whatever was written. */
  abort(): Promise<void>;
}

export interface WriterChunk {
  minTime: number;
  /** Inclusive. */
  maxTime: number;
  encoding: number;
  data: Uint8Array;
}

export interface BlockWriterOptions {
  ulid?: string;
  /** Block range; default from the chunks: [first sample, last sample + 1). */
  minTime?: number;
  maxTime?: number;
  compaction?: Compaction;
  thanos?: ThanosMeta;
  segmentSize?: number;
  /** Stats carried into meta.json besides the counted numSamples/numSeries/numChunks. */
  extraStats?: Partial<BlockStats>;
  /**
   * Record thanos.index_stats (series_max_size, chunk_max_size) measured as Thanos' compactor does
   * (block.GatherIndexHealthStats); a measured 0 keeps what `thanos.index_stats` already says.
   */
  indexStats?: boolean;
  /** See IndexWriterOptions: false = Prometheus 3.x index layout (no label-index sections). */
  labelIndices?: boolean;
}

function chunkSamples(c: WriterChunk): number {
  if (c.encoding === Encoding.XOR) return xorNumSamples(c.data);
  if (c.encoding === Encoding.Aggr) return aggrNumSamples(c.data);
  return 0;
}

export class BlockWriter {
  readonly ulid: string;
  private readonly chunks: ChunkWriter;
  private readonly index: IndexWriter;
  private numSeries = 0;
  private numChunks = 0;
  private numSamples = 0;
  private mint = Infinity;
  private maxt = -Infinity;
  private failed = false;
  private prevSeriesRef = 0;
  /** Largest series entry and chunk as GatherIndexHealthStats measures them (ref deltas). */
  private seriesMaxSize = 0;
  private chunkMaxSize = 0;

  constructor(private readonly sink: BlockSink, private readonly opts: BlockWriterOptions = {}) {
    this.ulid = opts.ulid ?? newUlid();
    this.chunks = new ChunkWriter((f, b) => sink.append(f, b), opts.segmentSize ?? DEFAULT_SEGMENT_SIZE);
    this.index = new IndexWriter((b) => sink.append("index", b), `block ${this.ulid} index`, { labelIndices: opts.labelIndices });
  }

  /** Every label name and value that addSeries will see. */
  async start(symbols: Iterable<string>): Promise<void> { await this.guard(() => this.index.start(symbols)); }

  /** Symbols in strictly increasing byte order, used as they are (e.g. a source index's whole table). */
  async startSorted(symbols: Iterable<string>): Promise<void> { await this.guard(() => this.index.startSorted(symbols)); }

  private async guard<T>(f: () => Promise<T>): Promise<T> {
    if (this.failed) throw new CodedError("internal", `block ${this.ulid}: writer already failed`);
    try {
      return await f();
    } catch (e) {
      this.failed = true;
      await this.sink.abort().catch(() => {});
      throw e;
    }
  }

  /** A series with its chunks in time order; series strictly increasing by labels. No chunks: skipped. */
  async addSeries(labels: Labels, chunks: readonly WriterChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    await this.guard(async () => {
      const metas: ChunkMeta[] = [];
      let prev = -Infinity;
      for (const c of chunks) {
        if (c.minTime <= prev) throw new CodedError("bad_data", `block ${this.ulid}: chunks of ${labelsDebug(labels)} out of order or overlapping (one starts at ${c.minTime}, the previous ends at ${prev})`);
        prev = c.maxTime;
        this.numSamples += chunkSamples(c);
        metas.push({ ref: await this.chunks.write(c.encoding, c.data), minTime: c.minTime, maxTime: c.maxTime });
      }
      const ref = await this.index.addSeries(labels, metas);
      // Thanos' estimates: the distance to the previous series entry (16-byte units), and between a
      // chunk and the next one in the same segment, for all but a series' last two chunks.
      if (this.prevSeriesRef !== 0) this.seriesMaxSize = Math.max(this.seriesMaxSize, (ref - this.prevSeriesRef) * 16);
      this.prevSeriesRef = ref;
      for (let i = 0; i < metas.length - 2; i++) {
        const a = metas[i]!.ref, b = metas[i + 1]!.ref;
        if (refSegment(a) === refSegment(b)) this.chunkMaxSize = Math.max(this.chunkMaxSize, refOffset(b) - refOffset(a));
      }
      this.numSeries++;
      this.numChunks += chunks.length;
      this.mint = Math.min(this.mint, chunks[0]!.minTime);
      this.maxt = Math.max(this.maxt, chunks[chunks.length - 1]!.maxTime);
    });
  }

  async finish(): Promise<BlockMeta> {
    return await this.guard(async () => {
      await this.chunks.finish();
      await this.index.finish();
      await this.sink.append("tombstones", encodeTombstones(new Map()));
      const minTime = this.opts.minTime ?? (this.numSeries > 0 ? this.mint : 0);
      const maxTime = this.opts.maxTime ?? (this.numSeries > 0 ? this.maxt + 1 : 0);
      const meta: BlockMeta = {
        ulid: this.ulid,
        minTime,
        maxTime,
        stats: { ...this.opts.extraStats, numSamples: this.numSamples, numSeries: this.numSeries, numChunks: this.numChunks },
        compaction: this.opts.compaction ?? { level: 1, sources: [this.ulid] },
        version: 1,
      };
      if (this.opts.thanos) {
        meta.thanos = {
          ...this.opts.thanos,
          segment_files: this.chunks.files.map((f) => f.slice("chunks/".length)),
          files: [
            ...this.chunks.files.map((f, i) => ({ rel_path: f, size_bytes: this.chunks.segmentSizes[i]! })),
            { rel_path: "index", size_bytes: this.index.size },
            { rel_path: "meta.json" },
          ],
        };
        if (this.opts.indexStats) {
          const is = { ...this.opts.thanos.index_stats };
          if (this.seriesMaxSize > 0) is.series_max_size = this.seriesMaxSize;
          if (this.chunkMaxSize > 0) is.chunk_max_size = this.chunkMaxSize;
          meta.thanos.index_stats = is;
        }
      }
      await this.sink.append("meta.json", encodeBlockMeta(meta));
      await this.sink.commit(meta);
      return meta;
    });
  }
}

/** Write a whole block from series already in label order (symbols collected first). */
export async function writeBlock(
  sink: BlockSink,
  series: Iterable<{ labels: Labels; chunks: readonly WriterChunk[] }>,
  opts: BlockWriterOptions = {},
): Promise<BlockMeta> {
  const list = [...series];
  const syms = new Set<string>();
  for (const s of list) for (const l of s.labels) { syms.add(l.name); syms.add(l.value); }
  const w = new BlockWriter(sink, opts);
  await w.start(syms);
  for (const s of list) await w.addSeries(s.labels, s.chunks);
  return await w.finish();
}

/** A sink keeping the files in memory (tests, and small blocks headed for a bucket). */
export class MemorySink implements BlockSink {
  readonly files = new Map<string, Uint8Array[]>();
  committed: BlockMeta | null = null;
  aborted = false;
  async append(file: string, data: Uint8Array): Promise<void> {
    let l = this.files.get(file);
    if (!l) this.files.set(file, (l = []));
    l.push(data);
  }
  async commit(meta: BlockMeta): Promise<void> { this.committed = meta; }
  async abort(): Promise<void> { this.aborted = true; this.files.clear(); }
  file(name: string): Uint8Array | undefined {
    const parts = this.files.get(name);
    return parts ? concatBytes(parts) : undefined;
  }
}

/**
 * A sink that streams each file to `upload(file, body)` as it is written (e.g. a bucket's
 * `upload(key, AsyncIterable)`), holding at most `maxQueued` pending parts per file: a slow upload
 * slows the writer instead of growing memory. meta.json is held back until every other file's upload
 * has finished, then uploaded last, because a block is visible once its meta.json exists.
 */
export function streamingSink(
  upload: (file: string, body: AsyncIterable<Uint8Array>) => Promise<void>,
  opts: { maxQueued?: number; onAbort?: (files: string[]) => Promise<void> } = {},
): BlockSink {
  const maxQueued = opts.maxQueued ?? 4;
  interface Stream { parts: Uint8Array[]; ended: boolean; wake: (() => void) | null; drained: (() => void) | null; done: Promise<void> }
  const streams = new Map<string, Stream>();
  let meta: Uint8Array[] = [];
  let failed: unknown = null;
  const open = (file: string): Stream => {
    const s: Stream = { parts: [], ended: false, wake: null, drained: null, done: Promise.resolve() };
    async function* body(): AsyncGenerator<Uint8Array> {
      for (;;) {
        if (s.parts.length > 0) {
          const p = s.parts.shift()!;
          s.drained?.();
          s.drained = null;
          yield p;
          continue;
        }
        if (s.ended) return;
        await new Promise<void>((r) => { s.wake = r; });
        s.wake = null;
      }
    }
    s.done = upload(file, body());
    s.done.catch((e) => { failed ??= e; s.drained?.(); });
    streams.set(file, s);
    return s;
  };
  const check = () => { if (failed !== null) throw failed; };
  return {
    async append(file, data) {
      check();
      if (file === "meta.json") { meta.push(data); return; }
      const s = streams.get(file) ?? open(file);
      s.parts.push(data);
      s.wake?.();
      while (s.parts.length > maxQueued && failed === null) await new Promise<void>((r) => { s.drained = r; });
      check();
    },
    async commit() {
      for (const s of streams.values()) { s.ended = true; s.wake?.(); }
      await Promise.all([...streams.values()].map((s) => s.done));
      const m = concatBytes(meta);
      await upload("meta.json", (async function* () { yield m; })());
    },
    async abort() {
      failed ??= new CodedError("canceled", "block write aborted");
      for (const s of streams.values()) { s.ended = true; s.parts = []; s.wake?.(); }
      await Promise.allSettled([...streams.values()].map((s) => s.done));
      meta = [];
      await opts.onAbort?.([...streams.keys()]);
    },
  };
}
