// The Prometheus remote-read client: the one every caller uses (the sidecar's Series path, tests,
// benches). Transport-free: the caller passes the HTTP POST to use: fetch, or on Bun the agent's raw
// socket client (agent/prom/rawhttp.ts), which the sidecar reads Prometheus with (agent/prom/client.ts).
//
// Request: a prometheus.ReadRequest, snappy block compressed, POSTed with the headers below.
// Answer, picked by the server from accepted_response_types and told apart here by Content-Type:
//   SAMPLES: application/x-protobuf, snappy block compressed prometheus.ReadResponse, held whole
//     (bounded by maxResponseBytes);
//   STREAMED_XOR_CHUNKS: the framed stream of stream.ts, read as it arrives (frames bounded by
//     maxFrameBytes, Prometheus' own limit by default).
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { concatBytes } from "../encoding/bytes.ts";
import { CodedError, codeFromDependencyHttp, errorMessage } from "../encoding/errors.ts";
import {
  ReadRequestSchema, ReadResponseSchema, ReadRequest_ResponseType,
  type ReadRequest, type ReadResponse, type ChunkedReadResponse,
} from "../gen/prometheus/remote_pb.ts";
import { snappyDecode, snappyEncode } from "./snappy.ts";
import { readChunkedStream, readFrameGroups, STREAMED_CONTENT_TYPE } from "./stream.ts";
import { decodeSamplesResponse, DEFAULT_MAX_SAMPLES_RESPONSE_BYTES, type RawQueryResult } from "./samples.ts";

export { ReadRequest_ResponseType as ResponseType };
export { STREAMED_CONTENT_TYPE };

export { DEFAULT_MAX_SAMPLES_RESPONSE_BYTES };

export const REMOTE_READ_HEADERS: Readonly<Record<string, string>> = {
  "Content-Type": "application/x-protobuf",
  "Content-Encoding": "snappy",
  "X-Prometheus-Remote-Read-Version": "0.1.0",
};

export type ReadRequestInit = ReadRequest | MessageInitShape<typeof ReadRequestSchema>;

/** The request body: protobuf, then snappy. */
export function encodeReadRequest(req: ReadRequestInit): Uint8Array {
  return snappyEncode(toBinary(ReadRequestSchema, create(ReadRequestSchema, req)));
}

/** Decode a request body (what a remote-read server does; used by tests). */
export function decodeReadRequest(body: Uint8Array, maxBytes = 16 << 20): ReadRequest {
  const raw = snappyDecode(body, maxBytes, "remote read request");
  try {
    return fromBinary(ReadRequestSchema, raw);
  } catch (e) {
    throw new CodedError("corrupt", `remote read request: bad ReadRequest message: ${errorMessage(e)}`);
  }
}

/**
 * Decode a SAMPLES answer. Note: sample values pass through JS numbers, so a staleness marker's NaN
 * payload is not preserved (TOOLCHAIN.md); use the streamed type when staleness matters.
 */
export function decodeReadResponse(body: Uint8Array, maxBytes = DEFAULT_MAX_SAMPLES_RESPONSE_BYTES, what = "remote read response"): ReadResponse {
  const raw = snappyDecode(body, maxBytes, what);
  try {
    return fromBinary(ReadResponseSchema, raw);
  } catch (e) {
    throw new CodedError("corrupt", `${what}: bad ReadResponse message of ${raw.length} bytes: ${errorMessage(e)}`);
  }
}

// Just what remoteRead needs from fetch; shared/ has no DOM types. Response.body is a web
// ReadableStream, async-iterable on Node 20, Bun, Deno and workerd; getReader() is the fallback.
export interface ByteReader {
  read(): Promise<{ done: boolean; value?: Uint8Array }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}
export type BodyLike = (AsyncIterable<Uint8Array> | { getReader(): ByteReader }) & { cancel?(reason?: unknown): Promise<void> };
export interface ResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  body: BodyLike | null;
  arrayBuffer(): Promise<ArrayBuffer>;
  text(): Promise<string>;
}
export type FetchLike = (url: string, init: {
  method: string;
  headers: Record<string, string>;
  // ArrayBuffer-backed, so the global fetch (whose BodyInit wants that) fits this type as is.
  body: Uint8Array<ArrayBuffer>;
  signal?: AbortSignal;
}) => Promise<ResponseLike>;

export interface RemoteReadOptions {
  signal?: AbortSignal;
  /** Extra request headers (auth, tenant). */
  headers?: Record<string, string>;
  /** Largest streamed frame (default: Prometheus' DefaultChunkedReadLimit, stream.ts). */
  maxFrameBytes?: number;
  /** Largest SAMPLES answer once decompressed (default 512 MiB). */
  maxResponseBytes?: number;
  /**
   * How to decode a SAMPLES answer: "messages" (default, protobuf-es ReadResponse) or "raw" (typed
   * arrays with exact value bits, several times faster; see samples.ts).
   */
  samples?: "messages" | "raw";
}

export type RemoteReadResult =
  | { type: "samples"; response: ReadResponse }
  | { type: "rawSamples"; results: RawQueryResult[] }
  | {
    type: "chunked";
    // Read the body one way only: decoded messages, or the verified payloads grouped by network read
    // (for a hand decoder: the sidecar forwards chunk bytes without decoding them).
    frames: AsyncGenerator<ChunkedReadResponse>;
    payloadBatches: AsyncGenerator<Uint8Array[]>;
    /** Stop reading (the body is released; a read in flight fails). */
    cancel(): Promise<void>;
  };

/**
 * POST a ReadRequest and return whichever answer the server chose, by Content-Type. To get the
 * stream, put STREAMED_XOR_CHUNKS first in request.acceptedResponseTypes; Prometheus falls back to
 * SAMPLES when the list is empty. A non-2xx status is a CodedError by codeFromDependencyHttp (400:
 * bad_data, 5xx and 429: unavailable, else execution),
 * carrying the server's message.
 */
export async function remoteRead(fetchFn: FetchLike, url: string, request: ReadRequestInit, opts: RemoteReadOptions = {}): Promise<RemoteReadResult> {
  let res: ResponseLike;
  try {
    res = await fetchFn(url, {
      method: "POST",
      headers: { ...REMOTE_READ_HEADERS, ...opts.headers },
      body: encodeReadRequest(request) as Uint8Array<ArrayBuffer>,
      signal: opts.signal,
    });
  } catch (e) {
    if (opts.signal?.aborted) throw new CodedError("canceled", `remote read ${url}: canceled`, { cause: e });
    throw new CodedError("unavailable", `remote read ${url}: ${errorMessage(e)}`, { cause: e });
  }
  if (res.status < 200 || res.status > 299) {
    let text = "";
    try { text = (await res.text()).trim().slice(0, 512); } catch { /* the status says enough */ }
    throw new CodedError(codeFromDependencyHttp(res.status),
      `remote read ${url}: HTTP ${res.status}${text ? `: ${text}` : ""}`);
  }
  const ctype = (res.headers.get("content-type") ?? "").toLowerCase();
  if (ctype.startsWith("application/x-streamed-protobuf")) {
    if (!ctype.includes("proto=prometheus.chunkedreadresponse")) {
      throw new CodedError("corrupt", `remote read ${url}: unsupported streamed content type "${ctype}"`);
    }
    const body = res.body;
    if (!body) throw new CodedError("corrupt", `remote read ${url}: streamed answer without a body`);
    const src = bodyIterable(body);
    const fo = { maxFrameBytes: opts.maxFrameBytes, what: `remote read ${url}` };
    return {
      type: "chunked",
      frames: readChunkedStream(src, fo),
      payloadBatches: readFrameGroups(src, fo),
      cancel: async () => { try { await body.cancel?.(); } catch { /* locked by a reader, or closed: that reader releases it */ } },
    };
  }
  if (ctype === "" || ctype.startsWith("application/x-protobuf")) {
    const body = await readAll(res, opts.maxResponseBytes ?? DEFAULT_MAX_SAMPLES_RESPONSE_BYTES, url);
    if (opts.samples === "raw") {
      return { type: "rawSamples", results: decodeSamplesResponse(body, opts.maxResponseBytes, `remote read ${url}`) };
    }
    return { type: "samples", response: decodeReadResponse(body, opts.maxResponseBytes, `remote read ${url}`) };
  }
  throw new CodedError("corrupt", `remote read ${url}: unexpected content type "${ctype}"`);
}

/** Iterate a fetch body whether or not its ReadableStream is async-iterable on this runtime. */
export function bodyIterable(body: BodyLike): AsyncIterable<Uint8Array> {
  if (Symbol.asyncIterator in body) return body;
  const reader = body.getReader();
  return {
    [Symbol.asyncIterator]() {
      return {
        async next() {
          const r = await reader.read();
          return r.done ? { done: true, value: undefined } : { done: false, value: r.value! };
        },
        async return() {
          await reader.cancel().catch(() => {});
          return { done: true, value: undefined };
        },
      };
    },
  };
}

// Read a compressed body with a bound: the compressed size can never exceed the decompressed limit
// by much (snappy expands at most by ~1/6 plus a header).
async function readAll(res: ResponseLike, maxBytes: number, url: string): Promise<Uint8Array> {
  const limit = Math.floor(maxBytes * 7 / 6) + 64;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of bodyIterable(res.body)) {
    n += c.length;
    if (n > limit) {
      throw new CodedError("resource_exhausted", `remote read ${url}: response body exceeds ${limit} bytes`);
    }
    parts.push(c);
  }
  return concatBytes(parts, n);
}
