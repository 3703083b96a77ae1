// Thanos' block.Repair (pkg/block/index.go), what `tools bucket verify --repair` runs on a block with
// index issues: the block is rewritten under a new ULID with, per series, its chunks sorted by start
// and these dropped:
//   - chunks completely outside the block's range,
//   - chunks that exactly repeat the previous one (same range and CRC32-Castagnoli of the bytes),
//   - chunks starting at the block's maxTime (prometheus/tsdb#347);
// series left without chunks are dropped, as are series repeating the previous series' labels (a
// warning). Any other overlap between chunks fails the repair. Downsampled blocks are refused. The new
// block keeps the source's meta (range, compaction, labels) with source "bucket.repair"; the stats are
// counted again. Series are streamed, so memory does not grow with the block.

import { crc32c } from "../encoding/crc32c.ts";
import { CodedError } from "../encoding/errors.ts";
import type { LogFn } from "../block/log.ts";
import { labelsString, type Label } from "../labels/labels.ts";
import type { Block } from "../tsdb/block.ts";
import type { SeriesRefsEntry } from "../tsdb/index.ts";
import type { BlockMeta } from "../tsdb/meta.ts";
import { BlockWriter, type BlockSink, type WriterChunk } from "../tsdb/writer.ts";

/** Thanos' metadata.BucketRepairSource. */
const BUCKET_REPAIR_SOURCE = "bucket.repair";

type Ignore = (mint: number, maxt: number, prev: WriterChunk | null, cur: WriterChunk) => boolean;

const ignoreCompleteOutside: Ignore = (mint, maxt, _p, c) => c.minTime > maxt || c.maxTime < mint;
const ignoreIssue347: Ignore = (_mint, maxt, _p, c) => c.minTime === maxt;
const ignoreDuplicate: Ignore = (_mint, _maxt, last, c) => {
  if (last === null || c.minTime > last.maxTime) return false;
  if (c.minTime !== last.minTime || c.maxTime !== last.maxTime) {
    throw new CodedError("corrupt", `ignore function: non-sequential chunks not equal: [${last.minTime}, ${last.maxTime}] and [${c.minTime}, ${c.maxTime}]`);
  }
  const a = crc32c(last.data) >>> 0, b = crc32c(c.data) >>> 0;
  if (a !== b) throw new CodedError("corrupt", `ignore function: non-sequential chunks not equal: ${a.toString(16)} and ${b.toString(16)}`);
  return true;
};

/** The order `tools bucket verify` passes them: complete outsiders, duplicates, issue 347. */
const IGNORE: Ignore[] = [ignoreCompleteOutside, ignoreDuplicate, ignoreIssue347];

/** Thanos' sanitizeChunkSequence. */
export function sanitizeChunks(chks: WriterChunk[], mint: number, maxt: number): WriterChunk[] {
  const sorted = [...chks].sort((a, b) => a.minTime - b.minTime);
  const out: WriterChunk[] = [];
  let last: WriterChunk | null = null;
  for (const c of sorted) {
    if (IGNORE.some((f) => f(mint, maxt, last, c))) continue;
    last = c;
    out.push(c);
  }
  return out;
}

/** Rewrite `src` into `sink` as block `ulid` (see the top of this file). Returns the new meta. */
export async function repairBlock(src: Block, sink: BlockSink, o: { ulid: string; log: LogFn }): Promise<BlockMeta> {
  const m = src.meta;
  if ((m.thanos?.downsample?.resolution ?? 0) > 0) throw new CodedError("bad_data", `block ${m.ulid}: cannot repair downsampled block`);
  const ix = src.index;
  const w = new BlockWriter(sink, {
    ulid: o.ulid, minTime: m.minTime, maxTime: m.maxTime, compaction: m.compaction,
    thanos: m.thanos ? { labels: m.thanos.labels, downsample: m.thanos.downsample, source: BUCKET_REPAIR_SOURCE, ...(m.thanos.extensions !== undefined ? { extensions: m.thanos.extensions } : {}) } : undefined,
  });
  await w.start(ix.symbols());
  const sc = ix.seriesScanner();
  const batch: SeriesRefsEntry[] = [];
  let prev = "";
  for (;;) {
    batch.length = 0;
    if ((await sc.nextEntries(256, batch)) === 0) break;
    const datas = await src.chunks.chunks(batch.flatMap((e) => e.chunks.map((c) => c.ref)));
    let k = 0;
    for (const e of batch) {
      const labels: Label[] = [];
      for (let i = 0; i < e.labels.length; i += 2) labels.push({ name: ix.symbol(e.labels[i]!), value: ix.symbol(e.labels[i + 1]!) });
      const chks: WriterChunk[] = e.chunks.map((c) => ({ minTime: c.minTime, maxTime: c.maxTime, ...datas[k++]! }));
      let kept: WriterChunk[];
      try {
        kept = sanitizeChunks(chks, m.minTime, m.maxTime);
      } catch (err) {
        await w.abort();
        throw err;
      }
      if (kept.length === 0) continue;
      const key = labelsString(labels);
      if (key === prev) {
        o.log("warn", "dropping duplicate series in tsdb block found", { labelset: key });
        continue;
      }
      prev = key;
      await w.addSeries(labels, kept);
    }
  }
  return await w.finish();
}
