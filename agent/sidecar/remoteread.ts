// Prometheus remote read, client side: the request (snappy-compressed ReadRequest) and both answers:
// - STREAMED_XOR_CHUNKS: `application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse`, NOT
//   snappy; frames of uvarint(len) | big-endian CRC-32C (Castagnoli) of the payload | ChunkedReadResponse.
//   Usually one series per frame; a series with more chunks than fit a frame (1 MiB by default) continues
//   in the next frame(s) with the same labels.
// - SAMPLES: one snappy-compressed ReadResponse with every sample (the fallback; held in memory whole).
//
// Runtime-free apart from its HTTP client (fetch, or on Bun the raw socket client of rawhttp.ts).

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { compress, uncompress } from "snappyjs";
import { CodedError, codeFromDependencyHttp } from "../../shared/encoding/errors.ts";
import { crc32c } from "../../shared/encoding/crc32c.ts";
import { fetchPost, type HttpPost, type HttpResponse, rawHttpPost } from "./rawhttp.ts";
import {
  type ChunkedReadResponse, ChunkedReadResponseSchema, type Query, QuerySchema, ReadRequest_ResponseType,
  ReadRequestSchema, type ReadResponse, ReadResponseSchema,
} from "../../shared/gen/prometheus/remote_pb.ts";

/** Prometheus' DefaultChunkedReadLimit: a frame larger than this is refused, not allocated. */
export const DEFAULT_FRAME_LIMIT = 50 * 1024 * 1024;
/** Upper bound for a whole SAMPLES answer (decompressed), so a huge fallback fails instead of OOMing. */
export const DEFAULT_SAMPLES_LIMIT = 512 * 1024 * 1024;

export const STREAMED_CONTENT_TYPE = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

function uvarintAt(b: Uint8Array, pos: number): { v: number; n: number } | null {
  let x = 0, mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= b.length) return null;
    const c = b[pos + i]!;
    x += (c & 0x7f) * mul;
    if ((c & 0x80) === 0) return { v: x, n: i + 1 };
    mul *= 128;
  }
  return { v: Number.MAX_SAFE_INTEGER + 1, n: 10 };
}

/**
 * Splits a byte stream into verified frame payloads. A payload is a view into either a network chunk or
 * a buffer owned by this reader, never overwritten later, so decoded messages may keep references to it
 * (chunk bytes are forwarded without copying). Only a frame that spans network chunks is copied.
 */
export async function* readFrames(body: AsyncIterable<Uint8Array>, what: string, limit = DEFAULT_FRAME_LIMIT): AsyncGenerator<Uint8Array> {
  for await (const group of readFrameGroups(body, what, limit)) yield* group;
}

/**
 * As readFrames, but every frame completed by one network read comes out together: a consumer awaits
 * once per read instead of once per frame (Prometheus sends one frame per series, so per-frame awaits
 * were a cost per series).
 */
export async function* readFrameGroups(body: AsyncIterable<Uint8Array>, what: string, limit = DEFAULT_FRAME_LIMIT): AsyncGenerator<Uint8Array[]> {
  // A frame cut by a network read is carried: its parts are kept until it is complete, then joined
  // into one buffer of exactly the frame's size. Frames inside a read are views, never copied (joining
  // the carry with the whole next read copied every byte once more: 8 % of the sidecar's CPU).
  let carry: Uint8Array[] = [];
  let carryLen = 0;
  let offset = 0; // stream offset of the first byte not yet consumed (the carry's start, if any)
  const fail = (at: number, msg: string) => new CodedError("corrupt", `${what}: frame at stream offset ${at}${msg}`);
  /** Checks the frame in f at [start, end) whose CRC is at p; the payload view, or an error. */
  const verify = (f: Uint8Array, p: number, end: number, at: number): Uint8Array | CodedError => {
    const want = ((f[p]! << 24) | (f[p + 1]! << 16) | (f[p + 2]! << 8) | f[p + 3]!) >>> 0;
    const got = crc32c(f, p + 4, end);
    if (got !== want) return fail(at, `: CRC-32C mismatch (frame says 0x${want.toString(16)}, data has 0x${got.toString(16)})`);
    return f.subarray(p + 4, end);
  };
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    const group: Uint8Array[] = [];
    let bad: CodedError | null = null;
    let pos = 0; // consumed in chunk
    if (carryLen > 0) {
      // The header may itself be cut: look at the carry plus the first bytes of this read.
      const h = uvarintAt(concat([...carry, chunk], Math.min(carryLen + chunk.length, 14)), 0);
      if (h && h.v > limit) bad = fail(offset, ` is ${h.v} bytes, over the ${limit}-byte limit`);
      else if (!h || carryLen + chunk.length < h.n + 4 + h.v) {
        carry.push(chunk);
        carryLen += chunk.length;
        continue;
      } else {
        const total = h.n + 4 + h.v;
        carry.push(chunk.subarray(0, total - carryLen));
        pos = total - carryLen;
        const r = verify(concat(carry, total), h.n, total, offset);
        if (r instanceof CodedError) bad = r; else group.push(r);
        offset += total;
        carry = [];
        carryLen = 0;
      }
    }
    while (!bad && pos < chunk.length) {
      const h = uvarintAt(chunk, pos);
      if (h && h.v > limit) { bad = fail(offset, ` is ${h.v} bytes, over the ${limit}-byte limit`); break; }
      const end = h ? pos + h.n + 4 + h.v : Infinity;
      if (end > chunk.length) {
        carry = [chunk.subarray(pos)];
        carryLen = chunk.length - pos;
        break;
      }
      const r = verify(chunk, pos + h!.n, end, offset);
      if (r instanceof CodedError) { bad = r; break; }
      group.push(r);
      offset += end - pos;
      pos = end;
    }
    // Frames before a bad one are delivered first (they are valid data, e.g. for a partial response).
    if (group.length) yield group;
    if (bad) throw bad;
  }
  if (carryLen > 0) {
    const h = uvarintAt(concat(carry, Math.min(carryLen, 14)), 0);
    const need = h ? h.n + 4 + h.v : carryLen + 1;
    throw new CodedError("corrupt", `${what}: stream ends inside a frame at offset ${offset} (${carryLen} bytes of ${need} needed)`);
  }
}

/** The first n bytes of parts, joined. */
function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    if (o >= n) break;
    const k = Math.min(p.length, n - o);
    out.set(k === p.length ? p : p.subarray(0, k), o);
    o += k;
  }
  return out;
}

export type RemoteReadResult =
  | {
    type: "streamed"; frames: AsyncGenerator<ChunkedReadResponse>; payloads: AsyncGenerator<Uint8Array>;
    /** The verified payloads grouped by network read (see readFrameGroups). */
    payloadBatches: AsyncGenerator<Uint8Array[]>;
    cancel(): Promise<void>;
  }
  | { type: "samples"; /** Decompressed ReadResponse bytes. */ raw: Uint8Array; decode(): ReadResponse };

export interface RemoteReadOptions {
  /** Response types to accept, in preference order (default: streamed chunks, then samples). */
  accept?: ReadRequest_ResponseType[];
  signal?: AbortSignal;
  headers?: Record<string, string>;
  frameLimit?: number;
  samplesLimit?: number;
  /** The HTTP client; default: the raw socket client on Bun (agent/sidecar/rawhttp.ts), else fetch. */
  fetch?: typeof fetch | HttpPost;
}

/**
 * The default client. On Bun, the raw socket client unless THANOTS_REMOTE_READ_CLIENT=fetch
 * (a switch kept for comparison and as a way out).
 */
const defaultPost: HttpPost = (() => {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const raw = env.THANOTS_REMOTE_READ_CLIENT === "fetch" ? null : rawHttpPost();
  return raw ?? fetchPost;
})();

/** POST one query to `<base>/api/v1/read` and negotiate the answer type from the Content-Type. */
export async function remoteRead(base: string, query: Query, opts: RemoteReadOptions = {}): Promise<RemoteReadResult> {
  const url = new URL("api/v1/read", base.endsWith("/") ? base : base + "/").toString();
  const what = `remote read from ${url}`;
  const req = create(ReadRequestSchema, {
    queries: [query],
    acceptedResponseTypes: opts.accept ?? [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS, ReadRequest_ResponseType.SAMPLES],
  });
  let res: HttpResponse;
  try {
    res = await ((opts.fetch as HttpPost | undefined) ?? defaultPost)(url, {
      method: "POST",
      body: compress(toBinary(ReadRequestSchema, req)) as Uint8Array<ArrayBuffer>,
      headers: {
        "Content-Encoding": "snappy",
        "Content-Type": "application/x-protobuf",
        "X-Prometheus-Remote-Read-Version": "0.1.0",
        "User-Agent": "thanots-sidecar",
        ...opts.headers,
      },
      signal: opts.signal,
    });
  } catch (e) {
    if (opts.signal?.aborted) throw new CodedError("canceled", `${what}: canceled`);
    throw new CodedError("unavailable", `${what}: ${(e as Error).message}`, { cause: e });
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => "")).slice(0, 1000).trim();
    throw new CodedError(codeFromDependencyHttp(res.status), `${what}: HTTP ${res.status}: ${text}`);
  }
  const ct = res.headers.get("content-type") ?? "";
  if (ct.startsWith("application/x-streamed-protobuf")) {
    if (!ct.startsWith(STREAMED_CONTENT_TYPE)) throw new CodedError("execution", `${what}: unsupported streamed content type ${JSON.stringify(ct)}`);
    const body = res.body;
    if (!body) throw new CodedError("execution", `${what}: streamed answer without a body`);
    const iterable = body as AsyncIterable<Uint8Array>;
    return {
      type: "streamed",
      // Use one of the three: decoded messages, or the raw verified payloads (for a hand decoder), alone or grouped.
      frames: decodeFrames(iterable, what, opts.frameLimit),
      payloads: readFrames(iterable, what, opts.frameLimit),
      payloadBatches: readFrameGroups(iterable, what, opts.frameLimit),
      cancel: async () => { try { await body.cancel(); } catch { /* already closed */ } },
    };
  }
  if (ct.startsWith("application/x-protobuf")) {
    const buf = new Uint8Array(await res.arrayBuffer());
    const limit = opts.samplesLimit ?? DEFAULT_SAMPLES_LIMIT;
    let raw: Uint8Array;
    try {
      raw = uncompress(buf, limit);
    } catch (e) {
      throw new CodedError("corrupt", `${what}: SAMPLES answer of ${buf.length} bytes does not decompress (snappy, limit ${limit} bytes): ${(e as Error).message}`);
    }
    return {
      type: "samples",
      raw,
      decode: () => {
        try {
          return fromBinary(ReadResponseSchema, raw);
        } catch (e) {
          throw new CodedError("corrupt", `${what}: SAMPLES answer is not a ReadResponse: ${(e as Error).message}`);
        }
      },
    };
  }
  throw new CodedError("execution", `${what}: unsupported content type ${JSON.stringify(ct)}`);
}

async function* decodeFrames(body: AsyncIterable<Uint8Array>, what: string, limit?: number): AsyncGenerator<ChunkedReadResponse> {
  let i = 0;
  for await (const payload of readFrames(body, what, limit)) {
    let msg: ChunkedReadResponse;
    try {
      msg = fromBinary(ChunkedReadResponseSchema, payload);
    } catch (e) {
      throw new CodedError("corrupt", `${what}: frame ${i} is not a ChunkedReadResponse: ${(e as Error).message}`);
    }
    i++;
    yield msg;
  }
}

export function newQuery(init: Parameters<typeof create<typeof QuerySchema>>[1]): Query {
  return create(QuerySchema, init);
}
