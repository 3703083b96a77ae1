// Comparing buckets written by Thanos and by us (FILESYSTEM buckets on disk): the objstore config file
// for a directory, the visible blocks (meta.json, no deletion mark), a block's shape (what must be equal
// between Thanos' result and ours), and a block's series with their chunk bytes.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { openLocalBlocks } from "../../agent/tsdb/local.ts";
import { listBucketBlocks } from "../../shared/block/listing.ts";
import { labelsString } from "../../shared/labels/labels.ts";
import type { BlockMeta } from "../../shared/tsdb/meta.ts";
import { blockSeries } from "../../shared/tsdb/querier.ts";

/** Writes `<dir>.yml` (a FILESYSTEM objstore config for `dir`) and returns its path. */
export function bucketConfig(dir: string): string {
  const f = join(dir, "..", `${dir.split("/").pop()}.yml`);
  writeFileSync(f, `type: FILESYSTEM\nconfig:\n  directory: ${dir}\n`);
  return f;
}

/** Visible blocks (meta.json, no deletion mark), sorted by resolution and time. */
export async function visible(dir: string): Promise<BlockMeta[]> {
  const d = await listBucketBlocks(new FilesystemBucket(dir));
  const res = (m: BlockMeta) => m.thanos?.downsample?.resolution ?? 0;
  return d.metas.filter((m) => !d.marks.has(m.ulid)).sort((a, b) => res(a) - res(b) || a.minTime - b.minTime || a.maxTime - b.maxTime);
}

export function shape(m: BlockMeta): string {
  return JSON.stringify({
    range: [m.minTime, m.maxTime], level: m.compaction.level, sources: [...m.compaction.sources].sort(),
    series: m.stats.numSeries, samples: m.stats.numSamples, chunks: m.stats.numChunks,
    labels: m.thanos?.labels, resolution: m.thanos?.downsample?.resolution, source: m.thanos?.source,
  });
}

/** Every series of a block with its chunks (ranges and bytes, hex). */
export async function contents(dir: string, id: string): Promise<Map<string, string>> {
  const { blocks, close } = await openLocalBlocks(join(dir, id));
  const out = new Map<string, string>();
  try {
    for await (const batch of blockSeries(blocks[0]!, -Infinity, Infinity, [])) {
      for (const s of batch) out.set(labelsString(s.labels), s.chunks.map((c) => `${c.minTime}-${c.maxTime}:${c.encoding}:${Buffer.from(c.data).toString("hex")}`).join(" "));
    }
  } finally {
    await close();
  }
  return out;
}
