// Backfill like `promtool tsdb create-blocks-from openmetrics`: samples grouped into blocks aligned to
// the block duration (2h by default; a larger --max-block-duration picks the largest of Prometheus'
// exponential ranges 2h, 6h, 18h, … that fits), each series cut into XOR chunks of 120 samples.
// Within a block a series' samples must come in time order; a repeated timestamp with the same value
// is dropped, with another value it is an error (Prometheus' head appender rules).

import { Encoding } from "../chunkenc/chunk.ts";
import { XorAppender, floatBits } from "../chunkenc/xor.ts";
import { CodedError } from "../encoding/errors.ts";
import { compareLabels, type Labels } from "../labels/labels.ts";
import { parseOpenMetrics } from "../textparse/openmetrics.ts";
import { labelsDebug } from "./index.ts";
import type { WriterChunk } from "./writer.ts";

export const DEFAULT_BLOCK_DURATION = 2 * 3600 * 1000;
export const SAMPLES_PER_CHUNK = 120;

/** Prometheus' getCompatibleBlockDuration. */
export function compatibleBlockDuration(maxBlockDuration: number): number {
  let d = DEFAULT_BLOCK_DURATION;
  if (maxBlockDuration > DEFAULT_BLOCK_DURATION) {
    const ranges: number[] = [];
    for (let i = 0, r = DEFAULT_BLOCK_DURATION; i < 10; i++, r *= 3) ranges.push(r);
    let idx = ranges.length - 1;
    for (let i = 0; i < ranges.length; i++) if (ranges[i]! > maxBlockDuration) { idx = i - 1; break; }
    d = ranges[idx]!;
  }
  return d;
}

interface RawSeries { labels: Labels; ts: number[]; vs: number[]; lines: number[] }

export interface BackfillBlock {
  minTime: number;
  maxTime: number;
  series: { labels: Labels; chunks: WriterChunk[] }[];
  samples: number;
}

/** Blocks (time order) for the samples of an OpenMetrics text. */
export function* backfillBlocks(text: string, opts: { maxBlockDuration?: number; what?: string } = {}): Generator<BackfillBlock> {
  const what = opts.what ?? "input";
  const bySeries = new Map<string, RawSeries>();
  let mint = Infinity, maxt = -Infinity;
  for (const s of parseOpenMetrics(text, what)) {
    if (s.t === null) throw new CodedError("bad_data", `${what}:${s.line}: expected timestamp for series ${labelsDebug(s.labels)}, got none`);
    let key = "";
    for (const l of s.labels) key += l.name + "\xff" + l.value + "\xff";
    let r = bySeries.get(key);
    if (!r) bySeries.set(key, (r = { labels: s.labels, ts: [], vs: [], lines: [] }));
    r.ts.push(s.t);
    r.vs.push(s.value);
    r.lines.push(s.line);
    if (s.t < mint) mint = s.t;
    if (s.t > maxt) maxt = s.t;
  }
  if (bySeries.size === 0) return;
  const all = [...bySeries.values()].sort((a, b) => compareLabels(a.labels, b.labels));
  const bd = compatibleBlockDuration(opts.maxBlockDuration ?? DEFAULT_BLOCK_DURATION);
  const start = bd * Math.trunc(mint / bd);
  for (let t = start; t <= maxt; t += bd) {
    const upper = t + bd;
    const out: BackfillBlock = { minTime: Infinity, maxTime: -Infinity, series: [], samples: 0 };
    for (const s of all) {
      const chunks: WriterChunk[] = [];
      let app: XorAppender | null = null;
      let cmin = 0, last = -Infinity, lastBits: [number, number] = [0, 0];
      for (let i = 0; i < s.ts.length; i++) {
        const ts = s.ts[i]!;
        if (ts < t || ts >= upper) continue;
        const v = s.vs[i]!;
        if (ts <= last) {
          if (ts === last) {
            const b = floatBits(v);
            if (b[0] === lastBits[0] && b[1] === lastBits[1]) continue;
            throw new CodedError("bad_data", `${what}:${s.lines[i]}: duplicate sample for timestamp ${ts} of ${labelsDebug(s.labels)} with a different value`);
          }
          throw new CodedError("bad_data", `${what}:${s.lines[i]}: out of order sample at ${ts} for ${labelsDebug(s.labels)} (after ${last})`);
        }
        if (app === null || app.numSamples() >= SAMPLES_PER_CHUNK) {
          if (app !== null) chunks.push({ minTime: cmin, maxTime: last, encoding: Encoding.XOR, data: app.bytes() });
          app = new XorAppender();
          cmin = ts;
        }
        app.append(ts, v);
        last = ts;
        lastBits = floatBits(v);
        out.samples++;
      }
      if (app === null) continue;
      chunks.push({ minTime: cmin, maxTime: last, encoding: Encoding.XOR, data: app.bytes() });
      out.series.push({ labels: s.labels, chunks });
      out.minTime = Math.min(out.minTime, chunks[0]!.minTime);
      out.maxTime = Math.max(out.maxTime, last + 1);
    }
    if (out.series.length > 0) yield out;
  }
}
