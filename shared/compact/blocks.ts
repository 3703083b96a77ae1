// Compacting blocks into one: Prometheus' LeveledCompactor.Compact + DefaultBlockPopulator, streamed.
//
//   symbols   the inputs' symbol tables merged (k-way, bytewise), written once; each input gets a
//             Uint32Array mapping its symbol refs to the output's, so series labels are never turned
//             into strings: comparing two label sets is comparing two arrays of numbers.
//   series    each input's series section read sequentially in batches (index order = label order),
//             with the chunks of a batch fetched in one coalesced read; the inputs are merged by a loser
//             tree; a series found in several inputs gets its chunks merged (merge.ts).
//   output    BlockWriter over the sink: chunks streamed to segment files, the index written with
//             postings rebuilt from the written series (when the sink can read back).
//
// Memory: per input its symbol table (as read from the index) and mapping (4 bytes per symbol), one
// batch of series and their chunks; the output's symbol table and postings offset table (three numbers
// per distinct label pair); one series' chunks while merged. Nothing grows with the number of series
// except through the symbol table. Tombstones are applied; the output's tombstones file is empty.

import { CodedError, errorMessage } from "../encoding/errors.ts";
import { LoserTree } from "../merge/losertree.ts";
import type { Block } from "../tsdb/block.ts";
import { compareLabelRefs, type SeriesRefsEntry } from "../tsdb/index.ts";
import type { BlockDesc, BlockMeta, Compaction, ThanosMeta } from "../tsdb/meta.ts";
import type { Interval } from "../tsdb/tombstones.ts";
import { BlockWriter, type BlockSink, type WriterChunk } from "../tsdb/writer.ts";
import { applyDeletions, mergeChunks, type MChunk, type MergeMode } from "./merge.ts";
import { HealthAccumulator, type HealthStats } from "../block/health.ts";

/** Prometheus CompactBlockMetas: level = max + 1, sources = sorted union, parents = the inputs. */
export function compactBlockMetas(ulid: string, metas: readonly BlockMeta[]): { minTime: number; maxTime: number; compaction: Compaction } {
  if (metas.length === 0) throw new CodedError("internal", "compact blocks: no input blocks");
  let mint = metas[0]!.minTime, maxt = metas[0]!.maxTime, level = 0;
  const sources = new Set<string>();
  const parents: BlockDesc[] = [];
  for (const m of metas) {
    mint = Math.min(mint, m.minTime);
    maxt = Math.max(maxt, m.maxTime);
    level = Math.max(level, m.compaction.level);
    for (const s of m.compaction.sources) sources.add(s);
    parents.push({ ulid: m.ulid, minTime: m.minTime, maxTime: m.maxTime });
  }
  void ulid;
  return { minTime: mint, maxTime: maxt, compaction: { level: level + 1, sources: [...sources].sort(), parents } };
}

export interface CompactOptions {
  ulid: string;
  mode: MergeMode;
  /** The output's thanos section (labels, resolution, source "compactor", extensions). */
  thanos?: ThanosMeta;
  /** Series per read batch of each input (default 1024). */
  batchSeries?: number;
  segmentSize?: number;
  postingsBatch?: number;
  signal?: AbortSignal;
  /**
   * Gather Thanos' index health stats of each input while reading it (instead of a separate scan before
   * compacting). Filled as series are read, so after a failure they cover what was read.
   */
  inputHealth?: HealthStats[];
  /**
   * Called every `collectEvery` series (default 64): the runtime's garbage collection, paced by the
   * caller, so the garbage a compaction makes (a few objects per series) is freed as it goes instead of
   * letting the heap grow with the series count (JavaScriptCore grows it with the allocation rate).
   */
  collect?: () => void;
  collectEvery?: number;
}

export interface CompactResult {
  /** The output's meta.json, or null when the inputs held no samples (nothing was written). */
  meta: BlockMeta | null;
  /** Series found in more than one input (merged). */
  mergedSeries: number;
}

interface Entry extends SeriesRefsEntry {
  /** The chunks with their bytes, parallel to `chunks`. */
  mchunks: MChunk[];
}

/** One input block read in order: a batch of series and their chunks at a time. */
class InputCursor {
  private readonly raw: SeriesRefsEntry[] = [];
  private buf: Entry[] = [];
  private i = 0;
  private done = false;
  private readonly scanner;

  constructor(readonly block: Block, private readonly map: Uint32Array, private readonly batch: number, private readonly health?: HealthAccumulator) {
    this.scanner = block.index.seriesScanner();
  }

  /** Read the next batch; false at the end. */
  async fill(): Promise<boolean> {
    this.buf = [];
    this.i = 0;
    if (this.done) return false;
    this.raw.length = 0;
    const n = await this.scanner.nextEntries(this.batch, this.raw);
    if (n === 0) { this.done = true; return false; }
    const entries: Entry[] = [];
    const refs: number[] = [];
    for (const r of this.raw) {
      const e = r as Entry;
      this.health?.add(e); // on the input's own symbol refs, before they are mapped
      for (let j = 0; j < e.labels.length; j++) {
        const out = this.map[e.labels[j]!];
        if (out === undefined) throw new CodedError("corrupt", `${this.block.index.what} series ${e.ref}: symbol ref ${e.labels[j]} out of range`);
        e.labels[j] = out;
      }
      for (const c of e.chunks) refs.push(c.ref);
      entries.push(e);
    }
    const data = await this.block.chunks.chunks(refs, 256);
    let k = 0;
    for (const e of entries) {
      const l: MChunk[] = new Array(e.chunks.length);
      for (let j = 0; j < l.length; j++, k++) {
        const c = e.chunks[j]!, d = data[k]!;
        l[j] = { minTime: c.minTime, maxTime: c.maxTime, encoding: d.encoding, data: d.data };
      }
      e.mchunks = l;
    }
    this.buf = entries;
    return entries.length > 0;
  }

  head(): Entry | undefined { return this.buf[this.i]; }

  /** The next entry, reading another batch when needed; undefined at the end. */
  async next(): Promise<Entry | undefined> {
    this.buf[this.i] = undefined as unknown as Entry; // let the entry's chunks be collected
    this.i++;
    if (this.i < this.buf.length) return this.buf[this.i];
    return (await this.fill()) ? this.buf[0] : undefined;
  }
}

function cmpBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The inputs' symbols merged into one sorted, duplicate-free sequence; fills maps[i] (input ref ->
 * output ref) as it goes.
 */
function* mergedSymbols(blocks: readonly Block[], maps: Uint32Array[]): Generator<Uint8Array> {
  const its = blocks.map((b) => b.index.symbolBytes());
  const idx = blocks.map(() => 0);
  const first = (i: number): Uint8Array | undefined => { const r = its[i]!.next(); return r.done ? undefined : r.value; };
  const t = new LoserTree(blocks.map((_, i) => first(i)), (a, b) => cmpBytes(a, b) < 0);
  let out = 0;
  for (let w = t.winner(); w >= 0; w = t.winner()) {
    const s = t.head(w)!;
    yield s;
    // Every input whose head is this symbol maps it to `out`.
    for (let v = w; v >= 0 && cmpBytes(t.head(v)!, s) === 0; v = t.winner()) {
      maps[v]![idx[v]!++] = out;
      t.replace(v, first(v));
    }
    out++;
  }
}

/** Deleted intervals of an input series: its tombstones plus whatever lies outside [mint, maxt]. */
function deletions(b: Block, ref: number, chunks: readonly MChunk[], mint: number, maxt: number): Interval[] {
  const ivs: Interval[] = [...(b.tombstones.get(ref) ?? [])];
  let front = false, back = false;
  for (const c of chunks) {
    if (c.maxTime < mint || c.minTime > maxt) continue;
    if (c.minTime < mint) front = true;
    if (c.maxTime > maxt) back = true;
  }
  if (front) ivs.push({ minTime: -Infinity, maxTime: mint - 1 });
  if (back) ivs.push({ minTime: maxt + 1, maxTime: Infinity });
  return ivs;
}

/**
 * Compact `inputs` (in plan order) into one block written to `sink`. Returns its meta, or null when
 * the result holds no samples (then nothing is committed, as Prometheus writes no block).
 */
export async function compactBlocks(inputs: readonly Block[], sink: BlockSink, o: CompactOptions): Promise<CompactResult> {
  const what = `compact ${inputs.length} blocks into ${o.ulid}`;
  const base = compactBlockMetas(o.ulid, inputs.map((b) => b.meta));
  const w = new BlockWriter(sink, {
    ulid: o.ulid, minTime: base.minTime, maxTime: base.maxTime, compaction: base.compaction, thanos: o.thanos,
    segmentSize: o.segmentSize, postingsBatch: o.postingsBatch, floatSampleStats: true,
  });
  try {
    const maps = inputs.map((b) => new Uint32Array(b.index.symbolCount));
    await w.startSorted(mergedSymbols(inputs, maps));
    const accs = o.inputHealth ? inputs.map((b) => new HealthAccumulator(b.index.what, b.meta.minTime, b.meta.maxTime)) : undefined;
    if (accs && o.inputHealth) { o.inputHealth.length = 0; for (const a of accs) o.inputHealth.push(a.stats); }
    const cursors = inputs.map((b, i) => new InputCursor(b, maps[i]!, o.batchSeries ?? 1024, accs?.[i]));
    for (const c of cursors) await c.fill();
    const tree = new LoserTree<Entry>(cursors.map((c) => c.head()), (a, b) => compareLabelRefs(a.labels, b.labels) < 0);
    // Blocks are half-open [minTime, maxTime): samples at maxTime are dropped, as Prometheus does.
    const mint = base.minTime, maxt = base.maxTime - 1;
    const group: { input: number; e: Entry }[] = [];
    let mergedSeries = 0, n = 0;
    for (let win = tree.winner(); win >= 0; win = tree.winner()) {
      const first = tree.head(win)!;
      group.length = 0;
      for (let v = win; v >= 0 && compareLabelRefs(tree.head(v)!.labels, first.labels) === 0; v = tree.winner()) {
        group.push({ input: v, e: tree.head(v)! });
        tree.replace(v, await cursors[v]!.next());
      }
      const lists: MChunk[][] = [];
      for (const g of group) {
        const b = inputs[g.input]!;
        let l = g.e.mchunks;
        if (l.length === 0) continue;
        // The common case: no tombstones, every chunk inside the output's range: the list as it is.
        if (b.tombstones.size > 0 || l[0]!.minTime < mint || l[l.length - 1]!.maxTime > maxt) {
          l = l.filter((c) => c.maxTime >= mint && c.minTime <= maxt);
          const ivs = deletions(b, g.e.ref, l, mint, maxt);
          if (ivs.length > 0) {
            const kept: MChunk[] = [];
            for (const c of l) { const r = applyDeletions(c, ivs, `${b.what} series ${g.e.ref}`); if (r) kept.push(r); }
            l = kept;
          }
        }
        if (l.length > 0) lists.push(l);
      }
      if (lists.length > 1) mergedSeries++;
      let chunks: WriterChunk[];
      try {
        chunks = mergeChunks(lists, o.mode);
      } catch (e) {
        throw new CodedError("corrupt", `${what}: merging ${g0Debug(group, inputs)}: ${errorMessage(e)}`, { cause: e });
      }
      await w.addSeriesRefs(first.labels, chunks);
      if ((++n & 1023) === 0 && o.signal?.aborted) throw new CodedError("canceled", `${what}: canceled`);
      if (o.collect && n % (o.collectEvery ?? 64) === 0) o.collect();
    }
    if (w.stats.numSamples === 0) {
      await w.abort();
      return { meta: null, mergedSeries };
    }
    return { meta: await w.finish(), mergedSeries };
  } catch (e) {
    await w.abort().catch(() => {});
    throw e;
  }
}

function g0Debug(group: { input: number; e: Entry }[], inputs: readonly Block[]): string {
  return group.map((g) => `${inputs[g.input]!.what} series ${g.e.ref}`).join(", ");
}
