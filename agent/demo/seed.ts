// History for the demo bucket: the demo target's series (model.ts) at a fixed step for each replica of the
// HA pair, written by our block writer as Thanos blocks (external labels in meta.json, like a sidecar's
// upload, so the querier deduplicates them with the live replicas) and streamed straight into the bucket.
//
// Blocks are cut at UTC day boundaries (what a Thanos compactor leaves for older data, so the store
// gateway opens a handful of blocks rather than one per two hours). The replicas' samples are offset from
// each other by a few seconds, as two Prometheus servers' scrapes are, so dedup has real work to do.

import { Encoding } from "../../shared/chunkenc/chunk.ts";
import { encodeXor } from "../../shared/chunkenc/xor.ts";
import { compareLabels, labelsFrom } from "../../shared/labels/labels.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { deleteBlock, listBlocks } from "../../shared/objstore/block.ts";
import { parseBlockMeta } from "../../shared/tsdb/meta.ts";
import { streamingSink, BlockWriter, type WriterChunk } from "../../shared/tsdb/writer.ts";
import type { BlockMeta } from "../../shared/tsdb/meta.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";
import { CodedError } from "../../shared/encoding/errors.ts";
import { DEMO_INSTANCE, DEMO_JOB, demoSamples } from "./model.ts";

export interface SeedReplica {
  /** External labels of the Prometheus this history pretends to come from, e.g. {cluster, replica}. */
  labels: Record<string, string>;
  /** Shift of this replica's sample times against the step grid (ms, < step). */
  offsetMs: number;
}

export interface SeedOptions {
  /** Inclusive start and exclusive end of the history (ms). */
  startMs: number;
  endMs: number;
  /** Sample interval (ms); 120 samples per chunk, as Prometheus cuts them. */
  stepMs: number;
  replicas: SeedReplica[];
  /** Block length (ms), blocks aligned to multiples of it. Default one day. */
  blockMs?: number;
  /** Called after each block is in the bucket. */
  onBlock?: (meta: BlockMeta) => void;
}

const DAY_MS = 86_400_000;
const SAMPLES_PER_CHUNK = 120;
/** Bounded so a mistaken range (years at 1 s) fails fast instead of running for hours. */
const MAX_SAMPLES_PER_SERIES_PER_BLOCK = 2_000_000;

/** Writes the history; returns the metas of the blocks written, oldest first per replica. */
export async function seedHistory(bkt: Bucket, opts: SeedOptions): Promise<BlockMeta[]> {
  const blockMs = opts.blockMs ?? DAY_MS;
  if (!(opts.stepMs > 0) || !(opts.endMs > opts.startMs) || !(blockMs > 0)) {
    throw new CodedError("bad_data", `seed demo history: need start < end and positive step/block length, got start=${opts.startMs} end=${opts.endMs} step=${opts.stepMs} block=${blockMs}`);
  }
  const out: BlockMeta[] = [];
  for (const rep of opts.replicas) {
    if (!(rep.offsetMs >= 0 && rep.offsetMs < opts.stepMs)) {
      throw new CodedError("bad_data", `seed demo history: replica offset ${rep.offsetMs} ms must be in [0, step ${opts.stepMs})`);
    }
    for (let b0 = Math.floor(opts.startMs / blockMs) * blockMs; b0 < opts.endMs; b0 += blockMs) {
      const lo = Math.max(b0, opts.startMs), hi = Math.min(b0 + blockMs, opts.endMs);
      const meta = await seedBlock(bkt, lo, hi, opts.stepMs, rep);
      if (meta) { out.push(meta); opts.onBlock?.(meta); }
    }
  }
  return out;
}

async function seedBlock(bkt: Bucket, lo: number, hi: number, step: number, rep: SeedReplica): Promise<BlockMeta | null> {
  const ts: number[] = [];
  for (let t = Math.ceil((lo - rep.offsetMs) / step) * step + rep.offsetMs; t < hi; t += step) ts.push(t);
  if (ts.length === 0) return null;
  if (ts.length > MAX_SAMPLES_PER_SERIES_PER_BLOCK) {
    throw new CodedError("resource_exhausted", `seed demo history: block [${lo}, ${hi}) at step ${step} ms would hold ${ts.length} samples per series (limit ${MAX_SAMPLES_PER_SERIES_PER_BLOCK})`);
  }
  // Column per series: samples[i] is the same series at every t, since demoSamples lists series in a fixed order.
  const first = demoSamples(ts[0]!);
  const cols = first.map(() => new Float64Array(ts.length));
  for (let i = 0; i < ts.length; i++) {
    const s = i === 0 ? first : demoSamples(ts[i]!);
    for (let j = 0; j < s.length; j++) cols[j]![i] = s[j]!.value;
  }
  const series = first.map((s, j) => ({
    labels: labelsFrom({ ...s.labels, __name__: s.name, job: DEMO_JOB, instance: DEMO_INSTANCE }),
    col: cols[j]!,
  }));
  series.sort((a, b) => compareLabels(a.labels, b.labels));

  const ulid = newUlid();
  const sink = streamingSink((file, body) => bkt.upload(`${ulid}/${file}`, body), {
    onAbort: async (files) => { await Promise.allSettled(files.map((f) => bkt.delete(`${ulid}/${f}`))); },
  });
  const w = new BlockWriter(sink, {
    ulid,
    minTime: lo,
    maxTime: hi,
    compaction: { level: 1, sources: [ulid] },
    thanos: { labels: { ...rep.labels }, downsample: { resolution: 0 }, source: SEED_SOURCE },
  });
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) { syms.add(l.name); syms.add(l.value); }
  await w.start(syms);
  for (const s of series) await w.addSeries(s.labels, chunksOf(ts, s.col));
  return await w.finish();
}

function chunksOf(ts: number[], vs: Float64Array): WriterChunk[] {
  const out: WriterChunk[] = [];
  for (let i = 0; i < ts.length; i += SAMPLES_PER_CHUNK) {
    const j = Math.min(ts.length, i + SAMPLES_PER_CHUNK);
    out.push({ minTime: ts[i]!, maxTime: ts[j - 1]!, encoding: Encoding.XOR, data: encodeXor(ts.slice(i, j), vs.subarray(i, j)) });
  }
  return out;
}

/** Source tag of seeded blocks in meta.json (Thanos' name for generated blocks). */
export const SEED_SOURCE = "blockgen";

/**
 * Deletes the blocks an earlier, interrupted seeding left (complete ones carry SEED_SOURCE). A new seed
 * covers a different range, so keeping them would leave overlapping copies of one replica's series.
 */
export async function removeSeeded(bkt: Bucket): Promise<string[]> {
  const removed: string[] = [];
  for (const id of await listBlocks(bkt)) {
    const meta = parseBlockMeta(await bkt.get(`${id}/meta.json`), `block ${id} in bucket ${bkt.name}`);
    if (meta.thanos?.source === SEED_SOURCE) { await deleteBlock(bkt, id); removed.push(id); }
  }
  return removed;
}
