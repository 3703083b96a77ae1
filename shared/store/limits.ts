// Per-request limits of a Series call (Thanos --store.limits.request-series / request-samples).
// Exceeding one is a CodedError "resource_exhausted" (gRPC ResourceExhausted), never a partial answer.

import { CodedError } from "../encoding/errors.ts";

export class RequestLimiter {
  private series = 0;
  private samples = 0;
  /** 0 = unlimited. */
  constructor(private readonly maxSeries: number, private readonly maxSamples: number) {}

  addSeries(n = 1): void {
    this.series += n;
    if (this.maxSeries > 0 && this.series > this.maxSeries) {
      throw new CodedError("resource_exhausted", `exceeded series limit: limit ${this.maxSeries} violated (got ${this.series})`);
    }
  }

  addSamples(n: number): void {
    this.samples += n;
    if (this.maxSamples > 0 && this.samples > this.maxSamples) {
      throw new CodedError("resource_exhausted", `exceeded samples limit: limit ${this.maxSamples} violated (got ${this.samples})`);
    }
  }

  get seriesCount(): number { return this.series; }
  get samplesCount(): number { return this.samples; }
  /** Whether samples are limited: counting them costs a look into every chunk, so callers skip it when not. */
  get limitsSamples(): boolean { return this.maxSamples > 0; }
}

/**
 * Samples in a chunk without decoding it: XOR, histogram and float-histogram chunks all start with a
 * big-endian uint16 sample count. Thanos approximates with 120 per chunk; the header is exact and free.
 * Encodings are Prometheus' (XOR = 1). Unknown or short: the 120 estimate.
 */
export function chunkSampleCount(encoding: number, data: Uint8Array): number {
  if (encoding >= 1 && encoding <= 3 && data.length >= 2) return (data[0]! << 8) | data[1]!;
  return 120;
}
