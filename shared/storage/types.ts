// The narrow read interface every data source implements (local blocks, a StoreAPI fan-out, test
// data) and the PromQL engine consumes. Mirrors Prometheus' storage.Querier / chunkenc.Iterator.

import type { Labels } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";

/**
 * Pull iterator over float samples in time order. Reusable, no allocation per sample.
 * Values: value() is a JS number (NaN payloads may be canonicalized by the engine!), so staleness is
 * reported separately by isStale(), computed from the raw bits (0x7ff0000000000002) before any
 * conversion.
 */
export interface SampleIterator {
  /** Advance; false at the end or on error (check err()). */
  next(): boolean;
  /** Advance to the first sample with t >= ts (may stay on the current one); false if none. */
  seek(ts: number): boolean;
  /** Timestamp (ms) of the current sample. */
  at(): number;
  value(): number;
  isStale(): boolean;
  err(): Error | null;
}

export interface StorageSeries {
  readonly labels: Labels;
  iterator(): SampleIterator;
}

/** Hints passed down to stores (Prometheus storage.SelectHints); times in ms. */
export interface SelectHints {
  start: number;
  end: number;
  step?: number;
  range?: number;
  func?: string;
  grouping?: string[];
  by?: boolean;
  /** Thanos max_resolution_window (ms) for downsampled data; 0 = raw only. */
  maxResolutionWindow?: number;
  /** Evaluation may stop reading once aborted. */
  signal?: AbortSignal;
}

export interface SelectResult {
  /** Sorted by compareLabels, unique label sets. */
  series: StorageSeries[];
  /** Non-fatal problems (partial response): each names the store or block. */
  warnings: string[];
}

export interface Querier {
  select(hints: SelectHints, matchers: Matcher[]): Promise<SelectResult>;
  labelNames(mint: number, maxt: number, matchers: Matcher[]): Promise<{ names: string[]; warnings: string[] }>;
  labelValues(name: string, mint: number, maxt: number, matchers: Matcher[]): Promise<{ values: string[]; warnings: string[] }>;
}
