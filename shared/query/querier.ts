// The engine's Querier over the fan-out, configured per request with Thanos' query parameters: dedup and
// replica labels, partial response, max_source_resolution, storeMatch[]. Select hints travel to the
// stores in the Series request (step, range, func, grouping, max_resolution_window).

import { CodedError } from "../encoding/errors.ts";
import type { Matcher } from "../labels/matcher.ts";
import { dedupSeries, type DedupAlgorithm } from "../dedup/dedup.ts";
import { Aggr } from "../gen/thanos/storepb/rpc_pb.ts";
import { PartialResponseStrategy } from "../gen/thanos/storepb/types_pb.ts";
import { msToProto } from "../rpc/time.ts";
import type { Querier, SelectHints, SelectResult, StorageSeries } from "../storage/types.ts";
import { labelNamesRequest, labelValuesRequest, seriesRequest, type MergedSeries, type ProxyStore } from "./proxy.ts";
import { compareLabels } from "../labels/labels.ts";
import { aggrsForFunc, StoreSeries } from "./series.ts";
import { matchersToPb } from "./store.ts";
import { AggrType } from "../chunkenc/aggr.ts";
import { Gate } from "./gate.ts";

export interface FanoutQueryOptions {
  /** Merge HA replicas (default true). */
  dedup?: boolean;
  /** Labels that tell replicas apart (--query.replica-label / replicaLabels[]). */
  replicaLabels?: readonly string[];
  dedupFunc?: DedupAlgorithm;
  /** true (default) = WARN: failing stores become warnings; false = ABORT. */
  partialResponse?: boolean;
  /** Thanos max_source_resolution (ms): the coarsest downsampling allowed; 0 = raw only. */
  maxResolutionMs?: number;
  /** storeMatch[] sets (matchers on `__address__`). */
  storeMatchers?: Matcher[][];
  /** Cancels store calls when hints carry no signal (label calls have no hints). */
  signal?: AbortSignal;
  /**
   * Most selects in flight at once for this querier (one per request): Thanos'
   * --query.max-concurrent-select, default 4 there; 0 or absent = no limit.
   */
  maxConcurrentSelect?: number;
}

const AGGR_PB: Record<AggrType, Aggr> = {
  [AggrType.Count]: Aggr.COUNT, [AggrType.Sum]: Aggr.SUM, [AggrType.Min]: Aggr.MIN, [AggrType.Max]: Aggr.MAX, [AggrType.Counter]: Aggr.COUNTER,
};

/**
 * Thanos' max_source_resolution parameter: "auto" = step/5 (so a point covers at least 5 downsampled
 * points), else a duration ("0s", "5m", "1h"), parsed by `parseMs`. Empty = `dflt`.
 */
export function maxSourceResolution(value: string, stepMs: number, dflt: number, parseMs: (s: string) => number): number {
  if (value === "") return dflt;
  if (value === "auto") return Math.max(Math.trunc(stepMs / 5), dflt);
  let ms: number;
  try {
    ms = parseMs(value);
  } catch (e) {
    throw new CodedError("bad_data", `invalid parameter "max_source_resolution": ${(e as Error).message}`);
  }
  if (!(ms >= 0)) throw new CodedError("bad_data", `invalid parameter "max_source_resolution": negative duration ${JSON.stringify(value)}`);
  return ms;
}

/** Functions that need two samples in their range: Thanos' promqlFuncRequiresTwoSamples. */
const NEEDS_TWO_SAMPLES = new Set(["rate", "irate", "increase", "delta", "idelta", "deriv", "predict_linear", "holt_winters", "double_exponential_smoothing"]);

/**
 * Thanos' maxResolutionFromSelectHints: under a function that needs two samples, a range selector
 * reads no coarser data than half its range (rate(x[5m]) stays on raw data even at max_source_resolution=1h).
 */
export function maxResolutionFromSelectHints(maxRes: number, range: number, func: string | undefined): number {
  if (range > 0 && NEEDS_TWO_SAMPLES.has(func ?? "")) return Math.min(maxRes, Math.trunc(range / 2));
  return maxRes;
}

/**
 * Thanos' dynamic lookback delta (cmd/thanos/query.go LookbackDeltaFactory, on by default): a query
 * allowed to read data of resolution r looks back at least r for the latest sample, so 1h points are
 * still found between them. `lookback` is the configured delta (0 = the engine's 5m default).
 */
export function dynamicLookbackDelta(lookback: number, maxResolution: number): number {
  const resolutions = [0, 300_000, 3_600_000];
  const lds: number[] = [];
  let ld = lookback;
  for (const r of resolutions) {
    if (lookback < r) ld = r;
    lds.push(ld);
  }
  for (let i = resolutions.length - 1; i >= 1; i--) {
    if (Math.max(resolutions[i - 1]!, lookback) < maxResolution) return lds[i]!;
  }
  return lds[0]!;
}

/**
 * One entry per label set, sorted: the merge already joins a series' back-to-back time slices, but a
 * misbehaving store may break label order, and the engine needs unique, sorted series.
 */
export function joinSlices(list: MergedSeries[]): MergedSeries[] {
  let sorted = true;
  for (let i = 1; i < list.length; i++) if (compareLabels(list[i - 1]!.labels, list[i]!.labels) >= 0) { sorted = false; break; }
  if (sorted) return list;
  const idx = list.map((_, i) => i).sort((a, b) => compareLabels(list[a]!.labels, list[b]!.labels) || a - b);
  const out: MergedSeries[] = [];
  for (const i of idx) {
    const s = list[i]!;
    const last = out[out.length - 1];
    if (last && compareLabels(last.labels, s.labels) === 0) {
      const chunks = [...last.chunks, ...s.chunks].sort((x, y) => x.minTime - y.minTime);
      out[out.length - 1] = { labels: last.labels, chunks };
    } else out.push(s);
  }
  return out;
}

export class FanoutQuerier implements Querier {
  private readonly replica: Set<string>;
  private readonly dedup: boolean;
  /** Select admission (--query.max-concurrent-select): arrival order, no queue bound. */
  private readonly selects: Gate | null;

  constructor(private readonly proxy: ProxyStore, private readonly o: FanoutQueryOptions = {}) {
    this.replica = new Set(o.replicaLabels ?? []);
    this.dedup = (o.dedup ?? true) && this.replica.size > 0;
    this.selects = o.maxConcurrentSelect !== undefined && o.maxConcurrentSelect > 0 ? new Gate({ maxConcurrent: o.maxConcurrentSelect, maxQueued: Infinity }) : null;
  }

  private strategy(): PartialResponseStrategy {
    return this.o.partialResponse === false ? PartialResponseStrategy.ABORT : PartialResponseStrategy.WARN;
  }

  select(hints: SelectHints, matchers: Matcher[]): Promise<SelectResult> {
    return this.selects ? this.gatedSelect(this.selects, hints, matchers) : this.selectNow(hints, matchers);
  }

  private async gatedSelect(gate: Gate, hints: SelectHints, matchers: Matcher[]): Promise<SelectResult> {
    const release = await gate.enter();
    try {
      return await this.selectNow(hints, matchers);
    } finally {
      release();
    }
  }

  private async selectNow(hints: SelectHints, matchers: Matcher[]): Promise<SelectResult> {
    const warnings: string[] = [];
    const step = Math.max(0, Math.trunc(hints.step ?? 0));
    const range = Math.max(0, Math.trunc(hints.range ?? 0));
    const skipChunks = hints.func === "series";
    const maxRes = maxResolutionFromSelectHints(hints.maxResolutionWindow ?? this.o.maxResolutionMs ?? 0, range, hints.func);
    const req = seriesRequest({
      minTime: msToProto(hints.start),
      maxTime: msToProto(hints.end),
      matchers: matchersToPb(matchers),
      maxResolutionWindow: msToProto(maxRes),
      aggregates: skipChunks ? [] : aggrsForFunc(hints.func).map((a) => AGGR_PB[a]),
      partialResponseStrategy: this.strategy(),
      skipChunks,
      step: BigInt(step),
      range: BigInt(range),
      queryHints: {
        stepMillis: BigInt(step),
        func: hints.func && !skipChunks ? { name: hints.func } : undefined,
        grouping: hints.grouping ? { by: hints.by ?? false, labels: [...hints.grouping] } : undefined,
        range: range > 0 ? { millis: BigInt(range) } : undefined,
      },
    });
    const got: MergedSeries[] = [];
    for await (const batch of this.proxy.fanoutSeriesBatches(req, { matchers, storeMatchers: this.o.storeMatchers, signal: hints.signal ?? this.o.signal, warnings })) {
      for (const s of batch) got.push(s);
    }
    const out: StorageSeries[] = joinSlices(got).map((s) => new StoreSeries(s.labels, s.chunks, hints.start, hints.end, hints.func, "the store fan-out", maxRes > 0));
    const series = this.dedup ? dedupSeries(out, this.replica, { algorithm: this.o.dedupFunc ?? "penalty", func: hints.func }) : out;
    return { series, warnings };
  }

  async labelNames(mint: number, maxt: number, matchers: Matcher[]): Promise<{ names: string[]; warnings: string[] }> {
    const warnings: string[] = [];
    const req = labelNamesRequest({
      start: msToProto(mint), end: msToProto(maxt), matchers: matchersToPb(matchers),
      partialResponseStrategy: this.strategy(),
      withoutReplicaLabels: this.dedup ? [...this.replica] : [],
    });
    let names = await this.proxy.fanoutLabelNames(req, { matchers, storeMatchers: this.o.storeMatchers, signal: this.o.signal, warnings });
    if (this.dedup) names = names.filter((n) => !this.replica.has(n));
    return { names, warnings };
  }

  async labelValues(name: string, mint: number, maxt: number, matchers: Matcher[]): Promise<{ values: string[]; warnings: string[] }> {
    if (this.dedup && this.replica.has(name)) return { values: [], warnings: [] };
    const warnings: string[] = [];
    const req = labelValuesRequest({
      label: name, start: msToProto(mint), end: msToProto(maxt), matchers: matchersToPb(matchers),
      partialResponseStrategy: this.strategy(),
      withoutReplicaLabels: this.dedup ? [...this.replica] : [],
    });
    const values = await this.proxy.fanoutLabelValues(req, { matchers, storeMatchers: this.o.storeMatchers, signal: this.o.signal, warnings });
    return { values, warnings };
  }
}
