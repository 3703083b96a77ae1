// BlockWriter: series (label order) with their chunks in, a Prometheus block out: chunk segments
// (cut at 512 MiB), index v2, empty tombstones and meta.json (stats, optional `thanos` section).
// Files stream through a BlockSink. Memory holds the symbol table, not the samples; postings are held
// too unless the sink can read back what it wrote (a file on disk), in which case the index writer
// builds them by re-reading the series section (see IndexWriter).

import { aggrNumSamples } from "../chunkenc/aggr.ts";
import { Encoding } from "../chunkenc/chunk.ts";
import { xorNumSamples } from "../chunkenc/xor.ts";
import { concatBytes } from "../encoding/bytes.ts";
import { CodedError } from "../encoding/errors.ts";
import type { Labels } from "../labels/labels.ts";
import { ChunkWriter, DEFAULT_SEGMENT_SIZE, refOffset, refSegment } from "./chunks.ts";
import { IndexWriter, type ChunkMeta, type IndexWriterOptions } from "./index.ts";
import { encodeBlockMeta, type BlockMeta, type BlockStats, type Compaction, type ThanosMeta } from "./meta.ts";
import { encodeTombstones } from "./tombstones.ts";
import type { ByteSource } from "./source.ts";
import { memorySource } from "./source.ts";
import { newUlid } from "./ulid.ts";

export interface BlockSink {
  /** Append bytes to one of the block's files: "index", "chunks/000001", …, "tombstones", "meta.json". */
  append(file: string, data: Uint8Array): Promise<void>;
  /** Every file is complete (meta.json last): make the block visible, e.g. rename a temp dir. */
  commit(meta: BlockMeta): Promise<void>;
  /** Drop whatever was written. */
  abort(): Promise<void>;
  /**
   * Optional: read what has been appended to `file` so far. With readback and discard, the index is
   * written in bounded memory (postings rebuilt from the series written, through a scratch file).
   */
  readback?(file: string): ByteSource;
  /** Optional: delete a scratch file written through append (never part of the block). */
  discard?(file: string): Promise<void>;
}

/** The index writer's scratch file for postings, inside the block's temp space while it is written. */
export const POSTINGS_SCRATCH = "index.postings.tmp";

/** Index writer options for a sink: streaming postings when it can read back. */
export function indexOptionsFor(sink: BlockSink): IndexWriterOptions {
  if (!sink.readback || !sink.discard) return {};
  return {
    readback: () => sink.readback!("index"),
    scratch: {
      append: (b) => sink.append(POSTINGS_SCRATCH, b),
      readback: () => sink.readback!(POSTINGS_SCRATCH),
      discard: () => sink.discard!(POSTINGS_SCRATCH),
    },
  };
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
  /** Postings entries held at once by a streaming index writer (tests use small values). */
  postingsBatch?: number;
  /** Tests: the streaming index writer's fallback postings sort. */
  unpackedKeys?: boolean;
  /** Stats carried into meta.json besides the counted numSamples/numSeries/numChunks. */
  extraStats?: Partial<BlockStats>;
  /**
   * Record thanos.index_stats (series_max_size, chunk_max_size) measured as Thanos' compactor does
   * (block.GatherIndexHealthStats); a measured 0 keeps what `thanos.index_stats` already says.
   */
  indexStats?: boolean;
  /** See IndexWriterOptions: false = Prometheus 3.x index layout (no label-index sections). */
  labelIndices?: boolean;
  /** Count stats.numFloatSamples (XOR samples) as Prometheus 3.x (Thanos v0.41's compactor) does; 2.42 has no such field. */
  floatSampleStats?: boolean;
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
  private numFloatSamples = 0;
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
    this.index = new IndexWriter((b) => sink.append("index", b), `block ${this.ulid} index`, { ...indexOptionsFor(sink), postingsBatch: opts.postingsBatch, unpackedKeys: opts.unpackedKeys, labelIndices: opts.labelIndices });
  }

  /** Every label name and value that addSeries will see. */
  async start(symbols: Iterable<string>): Promise<void> { await this.guard(() => this.index.start(symbols)); }

  /** Symbols in strictly increasing byte order; series then come through addSeriesRefs. */
  async startSorted(symbols: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>): Promise<void> {
    await this.guard(() => this.index.startSorted(symbols));
  }

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
      const metas = await this.writeChunks(chunks, () => labelsDebug(labels));
      this.added(chunks, metas, await this.index.addSeries(labels, metas));
    });
  }

  /** A series given as symbol refs (name, value pairs) of the table given to startSorted. */
  async addSeriesRefs(refs: Uint32Array, chunks: readonly WriterChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    await this.guard(async () => {
      const metas = await this.writeChunks(chunks, () => refsDebug(refs, (r) => this.index.symbol(r)));
      this.added(chunks, metas, await this.index.addSeriesRefs(refs, metas));
    });
  }

  private async writeChunks(chunks: readonly WriterChunk[], debug: () => string): Promise<ChunkMeta[]> {
    const metas: ChunkMeta[] = [];
    let prev = -Infinity;
    for (const c of chunks) {
      if (c.minTime <= prev) throw new CodedError("bad_data", `block ${this.ulid}: chunks of ${debug()} out of order or overlapping (one starts at ${c.minTime}, the previous ends at ${prev})`);
      prev = c.maxTime;
      const n = chunkSamples(c);
      this.numSamples += n;
      if (c.encoding === Encoding.XOR) this.numFloatSamples += n;
      metas.push({ ref: await this.chunks.write(c.encoding, c.data), minTime: c.minTime, maxTime: c.maxTime });
    }
    return metas;
  }

  private added(chunks: readonly WriterChunk[], metas: ChunkMeta[], ref: number): void {
    // Thanos' estimates: the distance to the previous series entry (16-byte units), and between a chunk
    // and the next one in the same segment, for all but a series' last two chunks.
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
  }

  /** Series, chunks and samples written so far. */
  get stats(): { numSeries: number; numChunks: number; numSamples: number } {
    return { numSeries: this.numSeries, numChunks: this.numChunks, numSamples: this.numSamples };
  }

  /** Drop everything written (e.g. a compaction whose result holds no samples). */
  async abort(): Promise<void> {
    this.failed = true;
    await this.sink.abort();
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
        stats: { ...this.opts.extraStats, numSamples: this.numSamples, numSeries: this.numSeries, numChunks: this.numChunks, ...(this.opts.floatSampleStats ? { numFloatSamples: this.numFloatSamples } : {}) },
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
  readback(file: string): ByteSource {
    const parts = this.files.get(file) ?? [];
    const b = concatBytes(parts);
    this.files.set(file, [b]);
    return memorySource(file, b);
  }
  async discard(file: string): Promise<void> { this.files.delete(file); }
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

export function labelsDebug(ls: Labels): string {
  return "{" + ls.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(", ") + "}";
}

function refsDebug(refs: ArrayLike<number>, sym: (r: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i + 1 < refs.length; i += 2) out.push(`${sym(refs[i]!)}=${JSON.stringify(sym(refs[i + 1]!))}`);
  return "{" + out.join(", ") + "}";
}
