// SeriesResponse batching (SeriesRequest.response_batch_size, SeriesResponse.batch) on both ends, so
// implementations only ever yield single series:
// - servers: registerStoreApi wraps every Series stream with batchSeries when the client asked for
//   batches, cutting per-message overhead (envelope, stream chunk, await chain) for large answers;
// - clients: flattenSeries turns a stream that may contain batches back into single series.
import { create } from "@bufbuild/protobuf";
import { SeriesResponseSchema, type SeriesResponse } from "../gen/thanos/storepb/rpc_pb.ts";
import type { Series } from "../gen/thanos/storepb/types_pb.ts";
import type { SeriesResponseInit } from "./store.ts";

/** Upper bound on a requested batch size, so a client cannot make the server buffer without limit. */
export const MAX_RESPONSE_BATCH_SIZE = 10_000;

/**
 * Group consecutive series into `batch` messages of up to `size` series. Warnings and hints pass
 * through in stream position (a pending batch is flushed before them). size <= 1: unchanged.
 */
export async function* batchSeries(src: AsyncIterable<SeriesResponseInit>, size: number): AsyncGenerator<SeriesResponseInit> {
  const n = Math.min(Math.floor(size), MAX_RESPONSE_BATCH_SIZE);
  if (!(n > 1)) { yield* src; return; }
  let pending: SeriesResponseInit[] = [];
  const flush = (): SeriesResponseInit => {
    const series = pending.map((p) => (p.result as { value: Series }).value);
    pending = [];
    return { result: { case: "batch", value: { series } } };
  };
  for await (const r of src) {
    if (r.result?.case === "series") {
      pending.push(r);
      if (pending.length >= n) yield flush();
    } else {
      if (pending.length) yield flush();
      yield r;
    }
  }
  if (pending.length) yield flush();
}

/** Yield one message per series (batches unpacked), warnings and hints as they come. */
export async function* flattenSeries(src: AsyncIterable<SeriesResponse>): AsyncGenerator<SeriesResponse> {
  for await (const r of src) {
    if (r.result.case === "batch") {
      for (const s of r.result.value.series) yield create(SeriesResponseSchema, { result: { case: "series", value: s } });
    } else {
      yield r;
    }
  }
}
