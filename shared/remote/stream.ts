// Prometheus' streamed remote-read answer (STREAMED_XOR_CHUNKS):
//   Content-Type: application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse
// not compressed, a sequence of frames:
//   uvarint(len(msg)) | be32 CRC-32C (Castagnoli) of msg | msg (a prometheus.ChunkedReadResponse)
// The parser below is incremental over an async byte stream split anywhere (a frame may span many
// network chunks; a chunk may hold many frames), checks each frame's size against a limit before
// buffering it, and verifies the CRC. Errors name the frame index and its byte offset in the stream.
import { fromBinary, toBinary, create, type MessageInitShape } from "@bufbuild/protobuf";
import { CodedError, errorMessage } from "../encoding/errors.ts";
import { crc32c } from "../encoding/crc32c.ts";
import { ChunkedReadResponseSchema, type ChunkedReadResponse } from "../gen/prometheus/remote_pb.ts";

export const STREAMED_CONTENT_TYPE = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

/**
 * Default frame limit. Prometheus cuts frames at about 1 MiB (--storage.remote.read-max-bytes-in-frame)
 * unless a single chunk is larger; 64 MiB leaves room for peers configured higher.
 */
export const DEFAULT_MAX_FRAME_BYTES = 64 << 20;

export interface ChunkedStreamOptions {
  /** Largest message accepted in one frame; larger is a "resource_exhausted" error. */
  maxFrameBytes?: number;
  /** What is being read, for error messages (e.g. the URL). */
  what?: string;
}

/** One frame as it came off the wire, for callers that want positions. */
export interface ChunkedFrame {
  index: number;
  /** Byte offset of the frame's length header in the stream. */
  offset: number;
  msg: ChunkedReadResponse;
}

/**
 * Parse a STREAMED_XOR_CHUNKS body into its frames. Chunk `data` in the returned messages may alias
 * the input buffers (no copy). Stopping early (break) releases the source.
 */
export async function* readChunkedFrames(
  src: AsyncIterable<Uint8Array>,
  opts: ChunkedStreamOptions = {},
): AsyncGenerator<ChunkedFrame, void, undefined> {
  const maxFrame = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const what = opts.what ?? "remote read stream";
  const it = src[Symbol.asyncIterator]();
  let buf: Uint8Array = new Uint8Array(0);
  let pos = 0; // read position in buf
  let base = 0; // stream offset of buf[0]
  let eof = false;

  // Make at least n unread bytes available in buf; false if the stream ended first. Concatenates
  // only when a frame straddles input chunks, once per frame body.
  const fill = async (n: number): Promise<boolean> => {
    if (buf.length - pos >= n) return true;
    if (eof) return false;
    const parts: Uint8Array[] = [];
    let have = buf.length - pos;
    if (have > 0) parts.push(buf.subarray(pos));
    while (have < n) {
      const r = await it.next();
      if (r.done) { eof = true; break; }
      if (r.value.length === 0) continue;
      parts.push(r.value);
      have += r.value.length;
    }
    base += pos;
    pos = 0;
    buf = parts.length === 1 ? parts[0]! : concat(parts, have);
    return have >= n;
  };

  let index = 0;
  let completed = false;
  try {
    for (;; index++) {
      if (!(await fill(1))) { completed = true; return; } // clean end at a frame boundary
      const start = base + pos;
      const where = () => `${what}: frame ${index} at byte offset ${start}`;

      // uvarint length, at most 10 bytes; read it without consuming so a split header refills.
      let len = 0, n = 0;
      for (;;) {
        if (!(await fill(n + 1))) {
          throw new CodedError("corrupt", `${where()}: stream ends inside the frame length (${n} bytes read)`);
        }
        const c = buf[pos + n]!;
        len += (c & 0x7f) * 2 ** (7 * n);
        n++;
        if (c < 0x80) break;
        if (n >= 10) throw new CodedError("corrupt", `${where()}: frame length varint longer than 10 bytes`);
      }
      if (len > maxFrame) {
        throw new CodedError("resource_exhausted",
          `${where()}: frame of ${len} bytes exceeds the limit of ${maxFrame} bytes`);
      }
      if (!(await fill(n + 4 + len))) {
        throw new CodedError("corrupt",
          `${where()}: truncated frame: need ${n + 4 + len} bytes (length ${len}), stream has ${buf.length - pos}`);
      }
      const p = pos + n;
      const want = ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
      const msgBytes = buf.subarray(p + 4, p + 4 + len);
      const got = crc32c(msgBytes);
      if (got !== want) {
        throw new CodedError("corrupt",
          `${where()}: CRC-32C mismatch: frame says 0x${hex8(want)}, message has 0x${hex8(got)}`);
      }
      let msg: ChunkedReadResponse;
      try {
        msg = fromBinary(ChunkedReadResponseSchema, msgBytes);
      } catch (e) {
        throw new CodedError("corrupt", `${where()}: bad ChunkedReadResponse message: ${errorMessage(e)}`);
      }
      pos = p + 4 + len;
      yield { index, offset: start, msg };
    }
  } finally {
    if (!completed && !eof) await it.return?.();
  }
}

/** The messages of a STREAMED_XOR_CHUNKS body (see readChunkedFrames). */
export async function* readChunkedStream(
  src: AsyncIterable<Uint8Array>,
  opts: ChunkedStreamOptions = {},
): AsyncGenerator<ChunkedReadResponse, void, undefined> {
  for await (const f of readChunkedFrames(src, opts)) yield f.msg;
}

/** One frame of the stream, as a server writes it (tests, and anything that serves remote read). */
export function encodeChunkedFrame(msg: ChunkedReadResponse | MessageInitShape<typeof ChunkedReadResponseSchema>): Uint8Array {
  const body = toBinary(ChunkedReadResponseSchema, create(ChunkedReadResponseSchema, msg));
  const hdr: number[] = [];
  let v = body.length;
  while (v >= 0x80) { hdr.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  hdr.push(v);
  const out = new Uint8Array(hdr.length + 4 + body.length);
  out.set(hdr, 0);
  const c = crc32c(body);
  out[hdr.length] = c >>> 24; out[hdr.length + 1] = (c >>> 16) & 0xff;
  out[hdr.length + 2] = (c >>> 8) & 0xff; out[hdr.length + 3] = c & 0xff;
  out.set(body, hdr.length + 4);
  return out;
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function hex8(v: number): string {
  return v.toString(16).padStart(8, "0");
}
