// The write side of storage (Prometheus' storage.Appendable / Appender), the seam between what produces
// samples (the ruler's rule evaluations, `tools rules test`, backfills) and what keeps them (the ruler's
// head TSDB with its write-ahead log, an in-memory store in tests, remote write in stateless mode).
//
// Contract, as Prometheus' head appender:
// - Samples appended to one Appender become visible to readers, all together, at commit(); rollback()
//   drops them. After commit() resolves, a durable implementation has them in its write-ahead log: a
//   crash (kill -9) afterwards loses none of them.
// - Staleness is a flag, never a NaN payload: a stale marker's bits (0x7ff0000000000002) do not survive
//   a JS number stored in an array or object (see SampleIterator in types.ts).
// - A sample older than the series' newest, or with the same timestamp and a different value, is
//   refused at append() with a CodedError ("bad_data") naming the series and both timestamps;
//   Prometheus' rule manager ignores exactly those errors for staleness markers (DiscardOutOfOrder).
//   The same timestamp with the same value is accepted and ignored (a duplicate).

import type { Labels } from "../labels/labels.ts";

export interface Appender {
  /** Float sample at t (ms). `stale` appends a staleness marker (value ignored). */
  append(labels: Labels, t: number, v: number, stale?: boolean): void;
  /** Make every sample appended since the last commit/rollback visible (and durable, if the store is). */
  commit(): Promise<void>;
  /** Drop every sample appended since the last commit/rollback. */
  rollback(): void;
}

export interface Appendable {
  appender(): Appender;
}
