// A direct gRPC handler for Store/Series on node:http2, in front of the connect-node adapter.
//
// Why: a Series answer is thousands of small messages. Through connect's generic pipeline each one
// passes five async-iterator stages and its own socket write; in profiles that, not the data, was most of
// the sidecar's time (2-3x a direct remote read). Here responses are enveloped by hand (pre-encoded series
// bytes are not re-serialized) and written in batches of up to BATCH bytes, with back-pressure from the
// HTTP/2 stream. Everything else (other methods, compressed or unusual requests) goes to connect.
//
// gRPC over HTTP/2: request and response bodies are envelopes: flags(1) | length(4, big-endian) | message.
// Status travels in trailers: grpc-status (numeric code) and grpc-message (percent-encoded).

import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { SeriesRequestSchema, SeriesResponseSchema, type SeriesResponse } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import type { SidecarStore } from "./store.ts";

const BATCH = 64 * 1024;
const FLUSH_MS = 5;
const MAX_REQUEST = 4 * 1024 * 1024;

export interface FastSeriesOptions {
  store: SidecarStore;
  /** Throws a ConnectError (Unauthenticated) when the request may not proceed. */
  authorize(header: string | undefined): void;
  count(code: Code | undefined): void;
  toConnectError(e: unknown): ConnectError;
}

function grpcMessage(s: string): string {
  // Percent-encode everything outside printable ASCII and '%' itself (gRPC spec).
  return s.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => [...new TextEncoder().encode(c)].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join(""));
}

/** True when this handler took the request; false to let connect handle it. */
export function handleSeriesFast(req: Http2ServerRequest, res: Http2ServerResponse, o: FastSeriesOptions): boolean {
  if (req.method !== "POST" || req.url !== "/thanos.Store/Series") return false;
  const ct = String(req.headers["content-type"] ?? "");
  if (ct !== "application/grpc" && ct !== "application/grpc+proto") return false;
  const enc = req.headers["grpc-encoding"];
  if (enc !== undefined && enc !== "identity") return false;
  void serve(req, res, o);
  return true;
}

async function serve(req: Http2ServerRequest, res: Http2ServerResponse, o: FastSeriesOptions): Promise<void> {
  const abort = new AbortController();
  const onClose = () => abort.abort();
  res.on("close", onClose);
  let headersSent = false;
  const sendHeaders = () => {
    if (headersSent) return;
    headersSent = true;
    res.writeHead(200, { "content-type": "application/grpc+proto", "grpc-accept-encoding": "identity" });
  };
  const finish = (code: Code | undefined, message?: string) => {
    o.count(code);
    if (res.writableEnded || res.destroyed) return;
    sendHeaders();
    const t: Record<string, string> = { "grpc-status": String(code ?? 0) };
    if (message) t["grpc-message"] = grpcMessage(message);
    res.addTrailers(t);
    res.end();
  };
  try {
    const auth = req.headers["authorization"];
    o.authorize(Array.isArray(auth) ? auth[0] : auth);
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const c of req as AsyncIterable<Uint8Array>) {
      n += c.length;
      if (n > MAX_REQUEST) throw new ConnectError(`Series request larger than ${MAX_REQUEST} bytes`, Code.ResourceExhausted);
      parts.push(c);
    }
    const body = parts.length === 1 ? parts[0]! : concat(parts, n);
    if (body.length < 5) throw new ConnectError(`Series request of ${body.length} bytes is not a gRPC envelope`, Code.InvalidArgument);
    if (body[0]! & 1) throw new ConnectError("compressed Series request without grpc-encoding", Code.Internal);
    const len = ((body[1]! << 24) | (body[2]! << 16) | (body[3]! << 8) | body[4]!) >>> 0;
    if (5 + len !== body.length) throw new ConnectError(`Series request envelope says ${len} bytes, body has ${body.length - 5}`, Code.InvalidArgument);
    const request = fromBinary(SeriesRequestSchema, body.subarray(5));

    // Envelopes are written straight into a batch buffer (one copy of the chunk bytes after encoding);
    // a written buffer is handed to the stream and never reused.
    let buf = new Uint8Array(BATCH);
    let fill = 0;
    // A partly filled batch goes out after FLUSH_MS even if no further series arrives (Prometheus slow),
    // so batching never holds data back for long.
    let timer: ReturnType<typeof setTimeout> | null = null;
    let drained: Promise<void> | null = null;
    const writeOut = () => {
      if (timer) { clearTimeout(timer); timer = null; }
      if (fill === 0) return;
      const out = buf.subarray(0, fill);
      buf = new Uint8Array(BATCH);
      fill = 0;
      sendHeaders();
      if (!res.write(out) && !drained) {
        drained = new Promise<void>((resolve) => {
          const done = () => { res.off("drain", done); res.off("close", done); drained = null; resolve(); };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    };
    for await (const m of o.store.series(request, abort.signal)) {
      if (abort.signal.aborted) break;
      const u = m.$unknown;
      const pre = m.result.case === undefined && u?.length === 1 && u[0]!.no === 1 ? u[0]!.data : null;
      const bytes = pre ? null : toBinary(SeriesResponseSchema, m);
      const len = pre ? 1 + pre.length : bytes!.length;
      if (fill + 5 + len > buf.length) {
        writeOut();
        if (5 + len > buf.length) buf = new Uint8Array(5 + len);
      }
      buf[fill] = 0;
      buf[fill + 1] = len >>> 24; buf[fill + 2] = (len >>> 16) & 0xff; buf[fill + 3] = (len >>> 8) & 0xff; buf[fill + 4] = len & 0xff;
      if (pre) { buf[fill + 5] = 0x0a; buf.set(pre, fill + 6); } else buf.set(bytes!, fill + 5);
      fill += 5 + len;
      if (drained) await drained;
      if (fill > 0) timer ??= setTimeout(writeOut, FLUSH_MS);
    }
    writeOut();
    finish(undefined);
  } catch (e) {
    const ce = o.toConnectError(e);
    finish(ce.code, ce.rawMessage);
  } finally {
    res.off("close", onClose);
  }
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
