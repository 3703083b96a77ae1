// The one chunk representation of the core, and its encodings. Encoding numbers are Prometheus'
// chunkenc.Encoding, as in block chunk files (one byte before the chunk data) and in the remote-read
// ChunkedSeries; 0xff is Thanos' downsampled AggrChunk (picked high to stay clear of new Prometheus
// encodings). Thanos' StoreAPI numbers its Chunk.Encoding from XOR = 0: that numbering exists only at
// the StoreAPI wire, where toStorepbEncoding / fromStorepbEncoding convert (the direct encoders and
// decoders, and the protobuf messages of the generic clients and servers).

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

/** A chunk's bytes and encoding (Prometheus' numbers). */
export interface ChunkData {
  encoding: number;
  data: Uint8Array;
}

/** A chunk with its time range (ms, inclusive): what block readers, the sidecar and the stores pass on. */
export interface Chunk extends ChunkData {
  minTime: number;
  maxTime: number;
}

/**
 * A StoreAPI chunk (storepb.AggrChunk) in core terms: a time range with a raw chunk, or with the
 * aggregates of a downsampled one (each an XOR chunk of one aggregate).
 */
export interface StoreChunk {
  minTime: number;
  maxTime: number;
  raw?: ChunkData;
  count?: ChunkData;
  sum?: ChunkData;
  min?: ChunkData;
  max?: ChunkData;
  counter?: ChunkData;
}

/** Thanos storepb.Chunk.Encoding (XOR = 0) for one of ours: only where a StoreAPI message is written. */
export function toStorepbEncoding(encoding: number): number {
  return encoding - 1;
}

/** Ours for a storepb.Chunk.Encoding: only where a StoreAPI message is read. */
export function fromStorepbEncoding(type: number): number {
  return type + 1;
}

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
