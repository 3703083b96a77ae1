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
  let buf: Uint8Array = new Uint8Array(0);
  let pos = 0;
  let ended = false;
  // Bytes the next envelope needs in one buffer (5 for its header, then header + message).
  let need = 5;
  // Reads held back until the envelope they belong to is whole: joining the unparsed tail with each
  // read as it came copied a large batch message once per network read (quadratic in its size).
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
  try {
    for (;;) {
      // Parse every whole envelope in the buffer.
      while (buf.length - pos >= 5) {
        const flags = buf[pos]!;
        const len = ((buf[pos + 1]! << 24) >>> 0) + (buf[pos + 2]! << 16) + (buf[pos + 3]! << 8) + buf[pos + 4]!;
        if (len > MAX_MESSAGE) throw new CodedError("corrupt", `${where}: message of ${len} bytes announced, more than ${MAX_MESSAGE}`);
        if (buf.length - pos - 5 < len) { need = 5 + len; break; }
        need = 5;
        const s = pos + 5, e = s + len;
        pos = e;
        if (flags & 0x02) {
          ended = true;
          let j: unknown = null;
          try { j = JSON.parse(new TextDecoder().decode(buf.subarray(s, e))); } catch { throw new CodedError("corrupt", `${where}: end of stream is not JSON`); }
          const err = endError(j, where);
          if (err) throw err;
          return;
        }
        if (flags & 0x01) throw new CodedError("corrupt", `${where}: compressed message, but no compression was offered`);
        const m = decodeSeriesResponse(buf, s, e, where);
        if (m.kind !== "hints") yield m;
      }
      let r: { done: boolean; value?: Uint8Array };
      try {
        r = await reader.read();
      } catch (e) {
        if (signal.aborted) throw new CodedError("canceled", `${where}: canceled`, { cause: e });
        throw new CodedError("unavailable", `${where}: reading the stream: ${(e as Error).message}`, { cause: e });
      }
      if (r.done) break;
      const chunk = r.value ?? new Uint8Array(0);
      if (chunk.length === 0) continue;
      // Keep chunk bytes as they come (decoded chunk data are views into them); when an envelope
      // straddles reads, hold the reads until it is whole, then copy the tail and them once.
      if (pos >= buf.length) { buf = chunk; pos = 0; continue; }
      held.push(chunk);
      heldLen += chunk.length;
      if (buf.length - pos + heldLen >= need) joinHeld();
    }
    // The stream ended inside an envelope: keep the bytes for the message below.
    if (heldLen > 0) joinHeld();
    if (!ended) throw new CodedError("unavailable", `${where}: stream ended without an end-of-stream message (${buf.length - pos} bytes left)`);
  } finally {
    reader.cancel().catch(() => {});
  }
}
