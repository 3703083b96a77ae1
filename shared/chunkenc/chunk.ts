// Chunk encodings as they appear in block chunk files (one byte before the chunk data), in the
// remote-read ChunkedSeries and in the Thanos StoreAPI. Numbers are Prometheus' chunkenc.Encoding;
// 0xff is Thanos' downsampled AggrChunk (picked high to stay clear of new Prometheus encodings).

import { CodedError } from "../encoding/errors.ts";
import type { SampleIterator } from "../storage/types.ts";
import { XorIterator } from "./xor.ts";

export const Encoding = {
  None: 0,
  XOR: 1,
  Histogram: 2,
  FloatHistogram: 3,
  /** Thanos downsampled AggrChunk (see aggr.ts). */
  Aggr: 0xff,
} as const;

/** Names as Prometheus' Encoding.String() prints them ("XOR", "histogram", ...). */
export function encodingName(e: number): string {
  switch (e) {
    case Encoding.None: return "none";
    case Encoding.XOR: return "XOR";
    case Encoding.Histogram: return "histogram";
    case Encoding.FloatHistogram: return "floathistogram";
    case 4: return "XOR2"; // newer Prometheus float encoding, not read here
    case Encoding.Aggr: return "aggr";
    default: return `<unknown ${e}>`;
  }
}

/**
 * A sample iterator over one chunk. Only float XOR chunks are supported: native histogram chunks and
 * anything else are rejected by name rather than misread as floats. An AggrChunk holds several series
 * of aggregates; pick one with aggrChunkGet (aggr.ts) and iterate that.
 */
export function chunkIterator(encoding: number, data: Uint8Array, what = "chunk"): SampleIterator {
  if (encoding === Encoding.XOR) return new XorIterator(data, what);
  throw unsupportedEncoding(encoding, what);
}

export function unsupportedEncoding(encoding: number, what = "chunk"): CodedError {
  const why =
    encoding === Encoding.Histogram || encoding === Encoding.FloatHistogram
      ? "native histogram chunks are not supported yet"
      : encoding === Encoding.Aggr
        ? "a downsampled aggregate chunk has no single sample stream; select an aggregate first"
        : "not a known chunk encoding";
  return new CodedError("corrupt", `${what}: unsupported chunk encoding ${encodingName(encoding)} (${encoding}): ${why}`);
}
