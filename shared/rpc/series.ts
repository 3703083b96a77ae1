// SeriesResponse batching (SeriesRequest.response_batch_size, SeriesResponse.batch) on both ends, so
// implementations only ever yield single series:
// - servers: registerStoreApi wraps every Series stream with batchSeries when the client asked for
//   batches, cutting per-message overhead (envelope, stream chunk, await chain) for large answers;
// - clients: flattenSeries turns a stream that may contain batches back into single series.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
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

/**
 * Is this call's message format JSON (Connect `application/json`, `application/connect+json`, gRPC or
 * gRPC-Web `+json`)? From the request's content type; in-process calls have none and are not.
 */
export function isJsonCall(requestHeader: { get(name: string): string | null } | undefined): boolean {
  return /json/i.test(requestHeader?.get("content-type") ?? "");
}

/**
 * A SeriesResponse whose series or batch travels pre-encoded as an unknown field (how the sidecar and the
 * bucket store write chunk bytes once: the binary wire is the same as with the field set) as a message
 * with that field decoded. A JSON encoder writes only known fields, so without this a JSON client gets `{}`
 * for every series; an in-process reader would see no series either. Anything else is returned as it is.
 */
export function decodeCarried(r: SeriesResponseInit): SeriesResponseInit {
  if (r.result?.case !== undefined || !("$typeName" in r)) return r;
  const m = r as SeriesResponse;
  if (!m.$unknown?.length) return r;
  return fromBinary(SeriesResponseSchema, toBinary(SeriesResponseSchema, m));
}

/** decodeCarried over a stream (the server stack applies it to JSON calls). */
export async function* decodeCarriedAll(src: AsyncIterable<SeriesResponseInit>): AsyncGenerator<SeriesResponseInit> {
  for await (const r of src) yield decodeCarried(r);
}
