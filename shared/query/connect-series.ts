// thanos.Store/Series over the Connect protocol on plain fetch, decoding each message with the direct
// decoder (shared/query/wire.ts) instead of the connect-web client's protobuf-es path. Used by
// remoteStore for protocol "connect" (the default); gRPC-Web keeps the connect-web client.
//
// Connect server streaming, as spoken by @connectrpc/connect servers (and Thanos' Connect peers):
//   POST {base}/thanos.Store/Series, content-type application/connect+proto, body = one envelope
//   envelope = flags (1 byte) + length (big-endian uint32) + message; flag 0x02 marks the end-of-stream
//   JSON ({"error": {"code", "message"}} on failure); flag 0x01 = compressed (never asked for here).
//   An error before the stream starts is a non-200 answer with a JSON {"code", "message"} body.

import { toBinary } from "@bufbuild/protobuf";
import { CodedError } from "../encoding/errors.ts";
import { codeFromConnectName } from "../rpc/errors.ts";
import { SeriesRequestSchema, type SeriesRequest } from "../gen/thanos/storepb/rpc_pb.ts";
import { decodeSeriesResponse, type SeriesFrame } from "./wire.ts";
import type { FetchFn } from "../rpc/client.ts";

/** Most bytes one message may claim (a corrupt length must not make us buffer gigabytes). */
const MAX_MESSAGE = 256 << 20;

export interface ConnectSeriesOptions {
  name: string;
  token?: string;
  fetch?: FetchFn;
  timeoutMs?: number;
}

function endError(json: unknown, where: string): CodedError | null {
  const err = (json as { error?: { code?: string; message?: string } } | null)?.error;
  if (!err) return null;
  return new CodedError(codeFromConnectName(err.code ?? ""), `${where}: [${err.code ?? "unknown"}] ${err.message ?? ""}`);
}

export async function* connectSeries(baseUrl: string, req: SeriesRequest, signal: AbortSignal, o: ConnectSeriesOptions): AsyncGenerator<SeriesFrame> {
  const where = `thanos.Store/Series on ${o.name}`;
  const msg = toBinary(SeriesRequestSchema, req);
  const body = new Uint8Array(5 + msg.length);
  new DataView(body.buffer).setUint32(1, msg.length);
  body.set(msg, 5);
  const headers: Record<string, string> = { "content-type": "application/connect+proto", "connect-protocol-version": "1" };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.timeoutMs) headers["connect-timeout-ms"] = String(o.timeoutMs);
  const f: FetchFn = o.fetch ?? ((i, init) => globalThis.fetch(i, init));
  let res: Response;
  try {
    // redirect "manual": workerd rejects "error"; a 3xx is not a valid RPC answer either way.
    res = await f(`${baseUrl}/thanos.Store/Series`, { method: "POST", headers, body, signal, redirect: "manual" });
  } catch (e) {
    if (signal.aborted) throw new CodedError("canceled", `${where}: canceled`, { cause: e });
    throw new CodedError("unavailable", `${where}: ${(e as Error).message}`, { cause: e });
  }
  if (res.status !== 200) {
    const text = await res.text().catch(() => "");
    let j: { code?: string; message?: string } | null = null;
    try { j = JSON.parse(text); } catch { /* not Connect JSON */ }
    const code = j?.code ?? (res.status === 401 ? "unauthenticated" : res.status === 503 ? "unavailable" : "unknown");
    throw new CodedError(codeFromConnectName(code), `${where}: [${code}] ${j?.message ?? `HTTP ${res.status}: ${text.slice(0, 200)}`}`);
  }
  if (!res.body) throw new CodedError("unavailable", `${where}: response without a body`);
  const reader = res.body.getReader();
  const read = async (): Promise<Uint8Array | undefined> => {
    try {
      const r = await reader.read();
      return r.done ? undefined : r.value ?? new Uint8Array(0);
    } catch (e) {
      if (signal.aborted) throw new CodedError("canceled", `${where}: canceled`, { cause: e });
      throw new CodedError("unavailable", `${where}: reading the stream: ${(e as Error).message}`, { cause: e });
    }
  };
  try {
    for await (const m of envelopes(read, MAX_MESSAGE, where)) {
      if (m.flags & 0x02) {
        let j: unknown = null;
        try { j = JSON.parse(new TextDecoder().decode(m.buf.subarray(m.start, m.end))); } catch { throw new CodedError("corrupt", `${where}: end of stream is not JSON`); }
        const err = endError(j, where);
        if (err) throw err;
        return;
      }
      if (m.flags & 0x01) throw new CodedError("corrupt", `${where}: compressed message, but no compression was offered`);
      const f = decodeSeriesResponse(m.buf, m.start, m.end, where);
      if (f.kind !== "hints") yield f;
    }
    throw new CodedError("unavailable", `${where}: stream ended without an end-of-stream message`);
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** One enveloped message: flags, and where its bytes lie (valid until the next message is asked for). */
export interface Envelope { flags: number; buf: Uint8Array; start: number; end: number }

/**
 * The envelopes (flags byte, big-endian uint32 length, message: what gRPC, gRPC-Web and Connect
 * streaming share) in a stream of reads (`read` gives undefined at its end). Reads are kept as they
 * come (decoded chunk data are views into them); an envelope that straddles reads is copied once,
 * when it is whole: joining the unparsed tail with each read as it came copied a large batch message
 * once per network read (quadratic in its size). A length above `max` is an error naming `where`; so
 * is a stream that ends inside an envelope.
 */
export async function* envelopes(read: () => Promise<Uint8Array | undefined>, max: number, where: string): AsyncGenerator<Envelope> {
  let buf: Uint8Array = new Uint8Array(0);
  let pos = 0;
  // Bytes the next envelope needs in one buffer (5 for its header, then header + message).
  let need = 5;
  const held: Uint8Array[] = [];
  let heldLen = 0;
  /** The unparsed tail and the held reads, copied once into one buffer. */
  const joinHeld = () => {
    const merged = new Uint8Array(buf.length - pos + heldLen);
    merged.set(buf.subarray(pos), 0);
    let o = buf.length - pos;
    for (const h of held) { merged.set(h, o); o += h.length; }
    held.length = 0;
    heldLen = 0;
    buf = merged;
    pos = 0;
  };
  for (;;) {
    // Every whole envelope in the buffer.
    while (buf.length - pos >= 5) {
      const flags = buf[pos]!;
      const len = ((buf[pos + 1]! << 24) >>> 0) + (buf[pos + 2]! << 16) + (buf[pos + 3]! << 8) + buf[pos + 4]!;
      if (len > max) throw new CodedError("resource_exhausted", `${where}: message of ${len} bytes announced, more than the limit of ${max} bytes`);
      if (buf.length - pos - 5 < len) { need = 5 + len; break; }
      need = 5;
      const start = pos + 5, end = start + len;
      pos = end;
      yield { flags, buf, start, end };
    }
    const chunk = await read();
    if (chunk === undefined) break;
    if (chunk.length === 0) continue;
    if (pos >= buf.length) { buf = chunk; pos = 0; continue; }
    held.push(chunk);
    heldLen += chunk.length;
    if (buf.length - pos + heldLen >= need) joinHeld();
  }
  if (heldLen > 0) joinHeld();
  if (buf.length - pos > 0) throw new CodedError("unavailable", `${where}: stream ended inside a message (${buf.length - pos} bytes left)`);
}
