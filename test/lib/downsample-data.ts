// Raw blocks that exercise every path of the downsampler (shared/compact/downsample.ts), written with our
// block writer so the input can hold what Prometheus' own writer never would (samples going back in
// time inside a chunk, negative timestamps). Deterministic: the same seed gives the same bytes.
//
// Series kinds, mixed over the block: counters with resets (to 0 and to a small value), gauges with
// fractional values, stale markers, NaNs, gaps of hours, irregular scrape intervals (a few seconds to
// several minutes), series shorter than one 5m window, series that start or end mid-block, duplicate
// timestamps and samples going back in time inside a chunk, and 120-sample chunks (many per series).
import { XorAppender } from "../../shared/chunkenc/xor.ts";
import { Encoding } from "../../shared/chunkenc/chunk.ts";
import { labelsFrom, compareLabels, type Labels } from "../../shared/labels/labels.ts";
import type { BlockMeta } from "../../shared/tsdb/meta.ts";
import { BlockWriter, type BlockSink, type WriterChunk } from "../../shared/tsdb/writer.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface GenOptions {
  seed?: number;
  series?: number;
  /** Block range [mint, maxt) in ms. */
  mint: number;
  maxt: number;
  /** Typical scrape interval (ms); actual intervals vary around it. */
  interval?: number;
  /** Extra awkward input (back-in-time samples, duplicates, NaNs, stale markers); default true. */
  awkward?: boolean;
  /** Values that are small integers (exact sums, so engines summing differently still agree). */
  integers?: boolean;
  /** External labels for the thanos section. */
  ext?: Record<string, string>;
  /** The block's ULID (its directory name in a bucket). */
  ulid?: string;
  /**
   * Write only the samples in [from, to) (the block's range): the series are generated over
   * [mint, maxt), so blocks cut from the same seed continue each other.
   */
  keep?: [number, number];
}

interface Sample { t: number; v: number; stale?: boolean }

/** The samples of one generated series (in append order, not necessarily increasing). */
function genSeries(i: number, o: GenOptions, rnd: () => number): Sample[] {
  const awkward = o.awkward ?? true;
  const iv = o.interval ?? 60_000;
  const kind = i % 6; // 0,3 counters, 1,4 gauges, 2 short, 5 sparse counter
  const out: Sample[] = [];
  // Timestamps never on a whole second, so no sample sits exactly on a query range boundary (Prometheus
  // 2.42 and 3.x, Thanos' engine, treat that boundary differently).
  let t = o.mint + 7 + Math.floor(rnd() * iv);
  let end = o.maxt - 1;
  if (kind === 2) {
    // Shorter than one 5m window, somewhere in the block.
    t = o.mint + 7 + Math.floor(rnd() * (o.maxt - o.mint - 600_000));
    end = t + 200_000;
  } else if (i % 7 === 3) {
    t += Math.floor(rnd() * (o.maxt - o.mint) * 0.3); // starts late
  } else if (i % 7 === 5) {
    end -= Math.floor(rnd() * (o.maxt - o.mint) * 0.3); // ends early
  }
  let v = kind === 0 || kind === 3 || kind === 5 ? (o.integers ? 1_000_000 + i * 1000 : 1000 * rnd()) : (o.integers ? 50 : 100 * rnd());
  const step = () => {
    const r = rnd();
    if (kind === 5) return iv * 4 + Math.floor(rnd() * iv * 4);
    if (r < 0.02) return iv * 5 + Math.floor(rnd() * iv * 3); // several minutes
    if (r < 0.1) return 1000 + Math.floor(rnd() * 9000); // a few seconds
    return Math.floor(iv * (0.5 + rnd()));
  };
  while (t < end) {
    if (kind === 0 || kind === 3 || kind === 5) {
      // A reset: to ~0; with `integers` rarer and to 60% of the last value, so a window's first value
      // stays large against its increase and rate's zero-point extrapolation (which Prometheus 3.x
      // reordered against 2.42) never decides an answer.
      if (o.integers ? rnd() < 0.0005 : rnd() < 0.004) v = o.integers ? Math.floor(v * 0.6) : rnd() < 0.5 ? 0 : 3.5;
      else v += o.integers ? Math.floor(rnd() * 20) : rnd() * 20;
    } else {
      v += o.integers ? Math.floor(rnd() * 11) - 5 : rnd() * 10 - 5;
    }
    if (t % 1000 === 0) t++; // never on a whole second (see above)
    out.push({ t, v });
    if (awkward) {
      const r = rnd();
      if (r < 0.004) out.push({ t: t + 1, v: 0, stale: true }); // stale marker
      else if (r < 0.008) out.push({ t: t + 2, v: NaN }); // a NaN sample
      else if (r < 0.010) out.push({ t: t - 3000, v: v + 1 }); // back in time
      else if (r < 0.012) out.push({ t, v: v + 2 }); // duplicate timestamp
    }
    t += step();
    if (rnd() < 0.0015) t += 3 * 3600_000 + Math.floor(rnd() * 3600_000); // a gap of hours
  }
  return out;
}

/** Cut samples into XOR chunks of 120 like Prometheus' head; chunk ranges never overlap. */
function toChunks(ss: Sample[]): WriterChunk[] {
  const chunks: WriterChunk[] = [];
  let app: XorAppender | null = null, mint = 0, maxt = -Infinity, prevMax = -Infinity;
  const flush = () => {
    if (app && app.numSamples() > 0) {
      chunks.push({ minTime: mint, maxTime: maxt, encoding: Encoding.XOR, data: app.bytes() });
      prevMax = maxt;
    }
    app = null;
  };
  for (const s of ss) {
    if (app === null) {
      if (s.t <= prevMax) continue; // a chunk may not start inside the previous one
      app = new XorAppender();
      mint = s.t;
      maxt = -Infinity;
    }
    if (s.stale) app.appendStale(s.t); else app.append(s.t, s.v);
    if (s.t > maxt) maxt = s.t;
    if (app.numSamples() >= 120) flush();
  }
  flush();
  return chunks;
}

/** Write a raw block of generated series to `sink`; returns its meta. */
export async function writeRawBlock(sink: BlockSink, o: GenOptions): Promise<BlockMeta> {
  const rnd = prng(o.seed ?? 1);
  const n = o.series ?? 30;
  const series: { labels: Labels; chunks: WriterChunk[] }[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 6;
    const name = kind === 0 || kind === 3 || kind === 5 ? "ds_requests_total" : kind === 2 ? "ds_short" : "ds_temperature";
    const labels = labelsFrom({ __name__: name, instance: `host-${String(i).padStart(3, "0")}`, job: `job${i % 3}` });
    const gen = genSeries(i, o, rnd);
    const chunks = toChunks(o.keep ? gen.filter((x) => x.t >= o.keep![0] && x.t < o.keep![1]) : gen);
    if (chunks.length) series.push({ labels, chunks });
  }
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  const syms = new Set<string>(["unused_symbol"]); // a symbol no series uses: the downsampler copies it
  for (const s of series) for (const l of s.labels) { syms.add(l.name); syms.add(l.value); }
  const ulid = o.ulid ?? newUlid(Math.max(0, o.mint));
  const w = new BlockWriter(sink, {
    ulid, minTime: o.keep?.[0] ?? o.mint, maxTime: o.keep?.[1] ?? o.maxt,
    compaction: { level: 3, sources: [newUlid(Math.max(0, o.mint)), newUlid(Math.max(0, o.mint) + 1)].sort() },
    thanos: { labels: o.ext ?? { cluster: "ds", replica: "r0" }, downsample: { resolution: 0 }, source: "sidecar" },
  });
  await w.start(syms);
  for (const s of series) await w.addSeries(s.labels, s.chunks);
  return await w.finish();
}
