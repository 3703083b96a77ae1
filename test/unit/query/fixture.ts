// In-memory stores for the fan-out tests: each holds series (labels + samples) and answers the
// StoreAPI like a sidecar would (external labels attached, matchers applied, chunks of 120 samples),
// recording what it was asked. Expected values in the tests come from these inputs, not our output.
import { encodeXor } from "../../../shared/chunkenc/xor.ts";
import { CodedError } from "../../../shared/encoding/errors.ts";
import { compareLabels, labelsFrom, type Labels } from "../../../shared/labels/labels.ts";
import type { SeriesRequest, LabelNamesRequest, LabelValuesRequest } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import type { SeriesFrame } from "../../../shared/query/wire.ts";
import { Encoding, type StoreChunk } from "../../../shared/chunkenc/chunk.ts";
import { extendLabels, matchExternalLabels } from "../../../shared/store/labels.ts";
import { matchersFromPb, type StoreEndpoint, type StoreInfo } from "../../../shared/query/store.ts";

export interface FixSeries { labels: Record<string, string>; ts: number[]; vs: number[] }

export interface FixStoreOptions {
  ext?: Record<string, string>;
  minTime?: number;
  maxTime?: number;
  /** Throw this from Series after `failAfter` series (default: at once). */
  fail?: Error;
  failAfter?: number;
  /** Never answer Series (until aborted). */
  hang?: boolean;
  /** Downsampled: chunks carry count/sum/min/max per `res` ms window instead of raw. */
  downsample?: number;
  infoFails?: boolean;
  /** Info never answers (until aborted). */
  infoHang?: boolean;
  /** Send each series as two messages (time slices back to back), as the StoreAPI allows. */
  split?: boolean;
}

export class FixStore implements StoreEndpoint {
  calls: { series: SeriesRequest[]; info: number; labelNames: LabelNamesRequest[]; labelValues: LabelValuesRequest[] } = { series: [], info: 0, labelNames: [], labelValues: [] };
  aborted = 0;
  readonly ext: Labels;
  constructor(readonly name: string, readonly data: FixSeries[], readonly o: FixStoreOptions = {}) {
    this.ext = labelsFrom(o.ext ?? {});
  }

  async info(signal?: AbortSignal): Promise<StoreInfo> {
    this.calls.info++;
    if (this.o.infoHang) await new Promise<void>((_, rej) => signal?.addEventListener("abort", () => rej(new Error("Info aborted")), { once: true }));
    if (this.o.infoFails) throw new CodedError("unavailable", `Info on ${this.name}: connection refused`);
    let mint = Infinity, maxt = -Infinity;
    for (const s of this.data) { mint = Math.min(mint, s.ts[0]!); maxt = Math.max(maxt, s.ts.at(-1)!); }
    return { labelSets: this.ext.length ? [this.ext] : [], minTime: this.o.minTime ?? mint, maxTime: this.o.maxTime ?? maxt, componentType: "sidecar", supportsWithoutReplicaLabels: true };
  }

  series(req: SeriesRequest, signal: AbortSignal): AsyncIterable<SeriesFrame> {
    this.calls.series.push(req);
    const self = this;
    return (async function* () {
      signal.addEventListener("abort", () => self.aborted++, { once: true });
      if (self.o.hang) {
        await new Promise<void>((_, rej) => signal.addEventListener("abort", () => rej(new CodedError("canceled", "aborted")), { once: true }));
      }
      const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, self.name), self.ext);
      if (!match) return;
      const mint = Number(req.minTime), maxt = Number(req.maxTime);
      const out = self.data
        .filter((s) => rest.every((m) => m.matches(s.labels[m.name] ?? "")))
        .map((s) => ({ labels: extendLabels(labelsFrom(s.labels), self.ext), s }))
        .sort((a, b) => compareLabels(a.labels, b.labels));
      let n = 0;
      for (const { labels, s } of out) {
        if (self.o.fail && n >= (self.o.failAfter ?? 0)) throw self.o.fail;
        // Downsampled blocks hold whole windows: the store cannot trim inside one.
        const idx = s.ts.map((t, i) => i).filter((i) => self.o.downsample || (s.ts[i]! >= mint && s.ts[i]! <= maxt));
        if (idx.length === 0) continue;
        const chunks: StoreChunk[] = [];
        for (let i = 0; i < idx.length; i += 120) {
          const part = idx.slice(i, i + 120);
          const ts = part.map((j) => s.ts[j]!), vs = part.map((j) => s.vs[j]!);
          chunks.push(self.o.downsample ? downsampled(ts, vs, self.o.downsample) : { minTime: ts[0]!, maxTime: ts.at(-1)!, raw: { encoding: Encoding.XOR, data: encodeXor(ts, vs) } });
        }
        n++;
        const ls = labels.map((l) => ({ name: l.name, value: l.value }));
        if (self.o.split && chunks.length > 1 && !req.skipChunks) {
          const h = Math.ceil(chunks.length / 2);
          yield { kind: "series", labels: ls, chunks: chunks.slice(0, h) };
          yield { kind: "series", labels: ls, chunks: chunks.slice(h) };
          continue;
        }
        yield { kind: "series", labels: ls, chunks: req.skipChunks ? [] : chunks };
      }
      if (self.o.fail && n >= (self.o.failAfter ?? 0) && out.length === 0) throw self.o.fail;
    })();
  }

  async labelNames(req: LabelNamesRequest) {
    this.calls.labelNames.push(req);
    if (this.o.fail) throw this.o.fail;
    const names = new Set<string>(this.ext.map((l) => l.name));
    for (const s of this.data) for (const k of Object.keys(s.labels)) names.add(k);
    for (const r of req.withoutReplicaLabels) names.delete(r);
    return { names: [...names].sort(), warnings: [] };
  }

  async labelValues(req: LabelValuesRequest) {
    this.calls.labelValues.push(req);
    if (this.o.fail) throw this.o.fail;
    const e = this.ext.find((l) => l.name === req.label);
    if (e) return { values: req.withoutReplicaLabels.includes(req.label) ? [] : [e.value], warnings: [] };
    return { values: [...new Set(this.data.map((s) => s.labels[req.label]).filter((v): v is string => v !== undefined))].sort(), warnings: [] };
  }
}

/** Thanos-style downsampling of one chunk's samples into count/sum/min/max per `res` window. */
function downsampled(ts: number[], vs: number[], res: number): StoreChunk {
  const wt: number[] = [], cnt: number[] = [], sum: number[] = [], min: number[] = [], max: number[] = [];
  for (let i = 0; i < ts.length; ) {
    const w = Math.floor(ts[i]! / res);
    let j = i, c = 0, s = 0, lo = Infinity, hi = -Infinity;
    while (j < ts.length && Math.floor(ts[j]! / res) === w) { c++; s += vs[j]!; lo = Math.min(lo, vs[j]!); hi = Math.max(hi, vs[j]!); j++; }
    wt.push(ts[j - 1]!); cnt.push(c); sum.push(s); min.push(lo); max.push(hi);
    i = j;
  }
  const x = (v: number[]) => ({ encoding: Encoding.XOR, data: encodeXor(wt, v) });
  return { minTime: ts[0]!, maxTime: ts.at(-1)!, count: x(cnt), sum: x(sum), min: x(min), max: x(max) };
}

/** Samples every `step` ms in [start, end] except in gaps, value f(t). */
export function sampled(labels: Record<string, string>, start: number, end: number, step: number, f: (t: number) => number, gaps: [number, number][] = []): FixSeries {
  const ts: number[] = [], vs: number[] = [];
  for (let t = start; t <= end; t += step) {
    if (gaps.some(([a, b]) => t >= a && t < b)) continue;
    ts.push(t); vs.push(f(t));
  }
  return { labels, ts, vs };
}
