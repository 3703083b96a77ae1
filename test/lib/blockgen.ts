// Buckets of realistic sidecar blocks for compactor tests and benches: an HA pair of Prometheus
// replicas (external labels {cluster, replica}) scraping the same targets at different offsets, cut
// into 2 h blocks as the sidecar ships them (meta.json with the thanos section, no tombstones file),
// written with our block writer straight into a FILESYSTEM bucket directory.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Encoding } from "../../shared/chunkenc/chunk.ts";
import { XorAppender, STALE_HI, STALE_LO } from "../../shared/chunkenc/xor.ts";
import { compareLabels, labelsFrom, type Labels } from "../../shared/labels/labels.ts";
import { encodeBlockMeta } from "../../shared/tsdb/meta.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";
import { BlockWriter, type WriterChunk } from "../../shared/tsdb/writer.ts";
import { DiskSink } from "../../agent/tsdb/local.ts";

export const HOUR = 3600e3;

export interface GenOptions {
  /** Bucket directory (FILESYSTEM bucket root). */
  dir: string;
  /** Start (aligned to 2 h) and number of 2 h blocks per replica. */
  start: number;
  blocks: number;
  series: number;
  /** Scrape interval (ms). */
  step: number;
  replicas?: string[];
  cluster?: string;
  /** Deterministic seed. */
  seed?: number;
  /** Extra label values per series to grow the symbol table (unique "id" label). */
  uniqueIds?: boolean;
  /**
   * "unique" (default): every series has its own instance value, so the symbol table grows with the
   * series; "product": series are metric names x 1000 instances, so it grows with their square root.
   */
  labels?: "unique" | "product";
  /** Block indexes (0-based, per replica) not written: a gap in the stream. */
  skip?: number[];
  /** External labels of a replica's blocks (default {cluster, replica}). */
  externalLabels?: (replica: string) => Record<string, string>;
}

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seriesLabels(n: number, uniqueIds = false, space: "unique" | "product" = "unique"): Labels[] {
  const out: Labels[] = [];
  for (let k = 0; k < n; k++) {
    const l: Record<string, string> = space === "product"
      ? { __name__: `metric_${Math.floor(k / 1000)}${k % 3 === 0 ? "_total" : ""}`, job: ["api", "db", "web", "cache"][k % 4]!, instance: `host-${k % 1000}:9100` }
      : {
        __name__: k % 3 === 0 ? "http_requests_total" : k % 3 === 1 ? "process_resident_memory_bytes" : "node_load1",
        job: ["api", "db", "web", "cache"][k % 4]!,
        instance: `10.0.${Math.floor(k / 250)}.${k % 250}:9100`,
      };
    if (k % 5 === 0) l.env = k % 10 === 0 ? "prod" : "staging";
    if (uniqueIds) l.id = `series-${k}`;
    out.push(labelsFrom(l));
  }
  return out.sort(compareLabels);
}

export interface GenResult { ulids: string[]; samples: number }

/**
 * Write opts.blocks 2 h blocks per replica. Replica r scrapes at offset r*7.3 s (+ jitter), counters
 * and gauges, with a few gaps, counter resets and a stale marker now and then.
 */
export async function generateHABucket(o: GenOptions): Promise<GenResult> {
  const replicas = o.replicas ?? ["a", "b"];
  const labels = seriesLabels(o.series, o.uniqueIds, o.labels);
  mkdirSync(o.dir, { recursive: true });
  const ulids: string[] = [];
  let samples = 0;
  for (const [ri, replica] of replicas.entries()) {
    const r = rng((o.seed ?? 1) * 1000 + ri);
    const state = labels.map((_, k) => ({ v: k * 10, gap: 0 }));
    for (let b = 0; b < o.blocks; b++) {
      if (o.skip?.includes(b)) continue;
      const mint = o.start + b * 2 * HOUR, maxt = mint + 2 * HOUR;
      const ulid = newUlid(maxt + 60e3 + ri * 1000);
      const sink = new DiskSink(o.dir, ulid);
      const w = new BlockWriter(sink, {
        ulid, minTime: mint, maxTime: maxt, compaction: { level: 1, sources: [ulid] },
        thanos: { labels: o.externalLabels?.(replica) ?? { cluster: o.cluster ?? "eu1", replica }, downsample: { resolution: 0 }, source: "sidecar" },
      });
      const syms = new Set<string>();
      for (const ls of labels) for (const l of ls) { syms.add(l.name); syms.add(l.value); }
      await w.start(syms);
      for (const [k, ls] of labels.entries()) {
        const st = state[k]!;
        const counter = labels[k]![0]!.value.endsWith("_total") || k % 3 === 0;
        const ts: number[] = [], vs: (number | null)[] = [];
        for (let t = mint + Math.round(ri * 7300 + (k % 17) * 100); t < maxt; t += o.step) {
          if (st.gap > 0) { st.gap--; continue; }
          if (r() < 0.0005) { st.gap = 5 + Math.floor(r() * 40); vs.push(null); ts.push(t); continue; } // stale marker, then a gap
          const tt = t + Math.floor(r() * 40);
          if (counter) st.v = r() < 0.001 ? 0 : st.v + Math.floor(r() * 20);
          else st.v = Math.round((st.v * 0.9 + r() * 100) * 100) / 100;
          ts.push(tt);
          vs.push(st.v);
        }
        if (ts.length === 0) continue;
        const chunks: WriterChunk[] = [];
        for (let i = 0; i < ts.length; i += 120) {
          const a = new XorAppender();
          const end = Math.min(ts.length, i + 120);
          for (let j = i; j < end; j++) {
            const v = vs[j];
            if (v === null) a.appendBits(ts[j]!, STALE_HI, STALE_LO); else a.append(ts[j]!, v!);
          }
          chunks.push({ minTime: ts[i]!, maxTime: ts[end - 1]!, encoding: Encoding.XOR, data: a.bytes() });
        }
        samples += ts.length;
        await w.addSeries(ls, chunks);
      }
      const meta = await w.finish();
      // As a sidecar ships it: no tombstones file, meta.json with upload_time.
      rmSync(join(o.dir, ulid, "tombstones"), { force: true });
      meta.thanos!.upload_time = new Date(maxt + 120e3).toISOString();
      writeFileSync(join(o.dir, ulid, "meta.json"), encodeBlockMeta(meta));
      ulids.push(ulid);
    }
  }
  return { ulids, samples };
}
