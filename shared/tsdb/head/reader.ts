// Reads over a local TSDB: the head plus the blocks cut from it (Prometheus' DB.Querier /
// ChunkQuerier). One merged, label-ordered stream of series with their raw chunks feeds both the
// PromQL Querier (samples trimmed to the range, shared/tsdb/querier.ts BlockSeries) and the StoreAPI
// (whole chunks, store.ts). A read acquires the blocks it uses, so retention cannot delete them under it.

import { compareLabels, compareStrings, type Labels } from "../../labels/labels.ts";
import type { Matcher } from "../../labels/matcher.ts";
import { LoserTree } from "../../merge/losertree.ts";
import type { Querier, SelectHints, SelectResult, StorageSeries } from "../../storage/types.ts";
import type { Block } from "../block.ts";
import { BatchCursor, BlockSeries, blockSeries, type SeriesChunk } from "../querier.ts";
import { Encoding } from "../../chunkenc/chunk.ts";
import type { Head } from "./head.ts";

/** The blocks of a TSDB as of now, held until release() (retention waits for readers). */
export interface BlockSet {
  acquire(): { blocks: readonly Block[]; release(): void };
}

export interface ChunkedSeriesOut { labels: Labels; chunks: SeriesChunk[] }

const EMPTY = new Uint8Array(0);

export class TsdbReader {
  constructor(readonly head: Head, readonly blocks: BlockSet, private readonly batchSize = 512) {}

  /** Prometheus DB.StartTime: the oldest block's min time, else the head's (Infinity when empty). */
  startTime(): number {
    const { blocks, release } = this.blocks.acquire();
    try {
      let m = Infinity;
      for (const b of blocks) m = Math.min(m, b.meta.minTime);
      if (m !== Infinity) return m;
      return this.head.numSeries > 0 ? this.head.minTime : Infinity;
    } finally {
      release();
    }
  }

  /**
   * Series matching `ms` with chunks overlapping [mint, maxt] (inclusive), in label order, each once:
   * chunks of a series from several blocks and the head are put together in time order. With
   * withChunks false the chunks carry no data (label-only reads).
   */
  async *selectChunks(mint: number, maxt: number, ms: readonly Matcher[], withChunks = true, signal?: AbortSignal): AsyncGenerator<ChunkedSeriesOut> {
    if (maxt < mint) return;
    const head = this.head;
    for (let attempt = 0; ; attempt++) {
      const epoch = head.truncations;
      const { blocks, release } = this.blocks.acquire();
      const cursors: BatchCursor<ChunkedSeriesOut>[] = [];
      try {
        for (const b of blocks) {
          if (b.meta.minTime <= maxt && mint < b.meta.maxTime) cursors.push(new BatchCursor(blockSeries(b, mint, maxt, ms, this.batchSize, withChunks)));
        }
        if (head.overlaps(mint, maxt)) {
          cursors.push(new BatchCursor((async function* () {
            const ss = await head.select(mint, maxt, ms);
            yield ss.map((s) => ({
              labels: s.labels,
              chunks: s.chunks.map((c) => ({ minTime: c.minTime, maxTime: c.maxTime, encoding: Encoding.XOR, data: withChunks ? c.data : EMPTY, what: "head chunk" })),
            }));
          })()));
        }
        await Promise.all(cursors.map((c) => c.advance()));
        // The head's answer is taken by now. A block cut since the blocks were acquired moved a range from
        // the head into a block this read does not hold: start over (rare: once per block duration).
        if (head.truncations !== epoch && attempt < 5) continue;
        yield* this.merge(cursors, signal);
        return;
      } finally {
        await Promise.all(cursors.map((c) => c.close().catch(() => {})));
        release();
      }
    }
  }

  private async *merge(cursors: BatchCursor<ChunkedSeriesOut>[], signal?: AbortSignal): AsyncGenerator<ChunkedSeriesOut> {
    const tree = new LoserTree(cursors.map((c) => c.cur ?? undefined), (a, b) => compareLabels(a.labels, b.labels) < 0);
    for (let w = tree.winner(); w >= 0; w = tree.winner()) {
      signal?.throwIfAborted();
      const first = tree.head(w)!;
      const chunks = first.chunks.slice();
      let parts = 1;
      await cursors[w]!.advance();
      tree.replace(w, cursors[w]!.cur ?? undefined);
      // The same series from other sources (its earlier blocks, the head).
      for (let v = tree.winner(); v >= 0 && compareLabels(tree.head(v)!.labels, first.labels) === 0; v = tree.winner()) {
        for (const c of tree.head(v)!.chunks) chunks.push(c);
        parts++;
        await cursors[v]!.advance();
        tree.replace(v, cursors[v]!.cur ?? undefined);
      }
      if (parts > 1) chunks.sort((a, b) => a.minTime - b.minTime);
      yield { labels: first.labels, chunks };
    }
  }

  querier(): Querier { return new TsdbQuerier(this); }

  async labelNames(mint: number, maxt: number, ms: readonly Matcher[]): Promise<string[]> {
    const set = new Set<string>();
    if (ms.length === 0) {
      const { blocks, release } = this.blocks.acquire();
      try {
        for (const b of blocks) if (b.meta.minTime <= maxt && mint < b.meta.maxTime) for (const n of b.index.labelNames()) set.add(n);
      } finally {
        release();
      }
      if (this.head.overlaps(mint, maxt)) for (const n of this.head.postings.labelNames()) set.add(n);
    } else {
      for await (const s of this.selectChunks(mint, maxt, ms, false)) for (const l of s.labels) set.add(l.name);
    }
    set.delete("");
    return [...set].sort(compareStrings);
  }

  async labelValues(name: string, mint: number, maxt: number, ms: readonly Matcher[]): Promise<string[]> {
    const set = new Set<string>();
    if (ms.length === 0) {
      const { blocks, release } = this.blocks.acquire();
      try {
        for (const b of blocks) if (b.meta.minTime <= maxt && mint < b.meta.maxTime) for (const v of b.index.labelValues(name)) set.add(v);
      } finally {
        release();
      }
      if (this.head.overlaps(mint, maxt)) for (const v of this.head.postings.labelValues(name)) set.add(v);
    } else {
      for await (const s of this.selectChunks(mint, maxt, ms, false)) for (const l of s.labels) if (l.name === name) { set.add(l.value); break; }
    }
    set.delete("");
    return [...set].sort(compareStrings);
  }
}

/** The PromQL engine's view: series with samples trimmed to the asked range. */
export class TsdbQuerier implements Querier {
  constructor(private readonly r: TsdbReader) {}

  async select(hints: SelectHints, matchers: Matcher[]): Promise<SelectResult> {
    const series: StorageSeries[] = [];
    for await (const s of this.r.selectChunks(hints.start, hints.end, matchers, true, hints.signal)) {
      series.push(new BlockSeries(s.labels, s.chunks, hints.start, hints.end));
    }
    return { series, warnings: [] };
  }

  async labelNames(mint: number, maxt: number, matchers: Matcher[]): Promise<{ names: string[]; warnings: string[] }> {
    return { names: await this.r.labelNames(mint, maxt, matchers), warnings: [] };
  }

  async labelValues(name: string, mint: number, maxt: number, matchers: Matcher[]): Promise<{ values: string[]; warnings: string[] }> {
    return { values: await this.r.labelValues(name, mint, maxt, matchers), warnings: [] };
  }
}
