// Direct handlers for Store/Series, in front of connect: gRPC on node:http2, and Connect streaming +
// gRPC-Web on the fetch-style HTTP server.
//
// Why: a Series answer is thousands of small messages. Through connect's generic pipeline each one
// passes five async-iterator stages and its own socket write; in profiles that, not the data, was most of
// the sidecar's time (2-3x a direct remote read). Here the store writes enveloped messages straight into
// output buffers (SidecarStore.seriesEnveloped), handed over once per network read from Prometheus, and
// they go to the socket as they are, with back-pressure from the stream. Everything else (other methods,
// compressed requests) goes to connect.
//
// Wire facts:
// - every protocol frames messages as flags(1) | length(4, big-endian) | message;
// - gRPC: status in HTTP/2 trailers: grpc-status (number), grpc-message (percent-encoded);
// - gRPC-Web: the same trailers as a last frame with flags 0x80 and "name: value\r\n" lines;
// - Connect streaming: a last frame with flags 0x02 and JSON `{}` or `{"error":{"code","message"}}`.

import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type SeriesRequest, SeriesRequestSchema } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { concatBytes } from "../../shared/encoding/bytes.ts";
import type { SidecarStore } from "./store.ts";

const MAX_REQUEST = 4 * 1024 * 1024;
export const SERIES_PATH = "/thanos.Store/Series";

export interface FastSeriesOptions {
  store: SidecarStore;
  /** Throws a ConnectError (Unauthenticated) when the request may not proceed. */
  authorize(header: string | undefined | null): void;
  count(code: Code | undefined): void;
  toConnectError(e: unknown): ConnectError;
}

function parseRequest(body: Uint8Array): SeriesRequest {
  if (body.length < 5) throw new ConnectError(`Series request of ${body.length} bytes is not an enveloped message`, Code.InvalidArgument);
  if (body[0]! & 1) throw new ConnectError("compressed Series request without a content encoding", Code.Internal);
  const len = ((body[1]! << 24) | (body[2]! << 16) | (body[3]! << 8) | body[4]!) >>> 0;
  if (5 + len !== body.length) throw new ConnectError(`Series request envelope says ${len} bytes, body has ${body.length - 5}`, Code.InvalidArgument);
  try {
    return fromBinary(SeriesRequestSchema, body.subarray(5));
  } catch (e) {
    throw new ConnectError(`Series request does not decode: ${(e as Error).message}`, Code.InvalidArgument);
  }
}

async function readBody(src: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of src) {
    n += c.length;
    if (n > MAX_REQUEST) throw new ConnectError(`Series request larger than ${MAX_REQUEST} bytes`, Code.ResourceExhausted);
    parts.push(c);
  }
  return concatBytes(parts, n);
}

function grpcMessage(s: string): string {
  // Percent-encode everything outside printable ASCII and '%' itself (gRPC spec).
  return s.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => [...new TextEncoder().encode(c)].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join(""));
}

// ---- gRPC on node:http2 ----

/** True when this handler took the request; false to let connect handle it. */
export function handleSeriesFast(req: Http2ServerRequest, res: Http2ServerResponse, o: FastSeriesOptions): boolean {
  if (req.method !== "POST" || req.url !== SERIES_PATH) return false;
  const ct = String(req.headers["content-type"] ?? "");
  if (ct !== "application/grpc" && ct !== "application/grpc+proto") return false;
  const enc = req.headers["grpc-encoding"];
  if (enc !== undefined && enc !== "identity") return false;
  void serveGrpc(req, res, o);
  return true;
}

async function serveGrpc(req: Http2ServerRequest, res: Http2ServerResponse, o: FastSeriesOptions): Promise<void> {
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
    const request = parseRequest(await readBody(req as AsyncIterable<Uint8Array>));
    // Output buffers are recycled (reuse): each piece is written and its write completed (the stream no
    // longer holds it) before the store is asked for more; that wait is also the back-pressure.
    for await (const b of o.store.seriesEnveloped(request, abort.signal, { reuse: true })) {
      if (abort.signal.aborted) break;
      sendHeaders();
      await new Promise<void>((resolve) => {
        const done = () => { res.off("close", done); resolve(); };
        res.on("close", done);
        res.write(b, () => done());
      });
    }
    finish(undefined);
  } catch (e) {
    const ce = o.toConnectError(e);
    finish(ce.code, ce.rawMessage);
  } finally {
    res.off("close", onClose);
  }
}

// ---- Connect streaming and gRPC-Web on a fetch-style server ----

const CONNECT_CT = "application/connect+proto";

/** Bun's `type: "direct"` ReadableStream (write straight into the response, copying). */
interface DirectController { write(b: Uint8Array): number | Promise<number>; flush(): number | Promise<number>; close(): void }
const BUN_DIRECT = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const GRPC_WEB_CT = /^application\/grpc-web(\+proto)?$/;

function snake(c: Code): string {
  return (Code[c] ?? "unknown").replace(/[A-Z]/g, (x, i) => (i ? "_" : "") + x.toLowerCase());
}

function frame(flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** A Response for Connect-streaming or gRPC-Web Series requests, or null to let connect handle it. */
export async function handleSeriesFetch(req: Request, o: FastSeriesOptions): Promise<Response | null> {
  const ct = req.headers.get("content-type") ?? "";
  const connect = ct === CONNECT_CT;
  if (!connect && !GRPC_WEB_CT.test(ct)) return null;
  const enc = req.headers.get(connect ? "connect-content-encoding" : "grpc-encoding");
  if (enc !== null && enc !== "identity") return null;
  const te = new TextEncoder();
  const end = (code: Code | undefined, message?: string): Uint8Array => {
    o.count(code);
    if (connect) {
      return frame(0x02, te.encode(JSON.stringify(code === undefined ? {} : { error: { code: snake(code), message: message ?? "" } })));
    }
    let t = `grpc-status: ${code ?? 0}\r\n`;
    if (message) t += `grpc-message: ${grpcMessage(message)}\r\n`;
    return frame(0x80, te.encode(t));
  };
  const headers = connect ? { "content-type": CONNECT_CT } : { "content-type": "application/grpc-web+proto" };
  let batches: AsyncGenerator<Uint8Array>;
  const abort = new AbortController();
  try {
    o.authorize(req.headers.get("authorization"));
    const request = parseRequest(req.body ? await readBody(req.body as unknown as AsyncIterable<Uint8Array>) : new Uint8Array());
    batches = o.store.seriesEnveloped(request, abort.signal, { reuse: BUN_DIRECT });
  } catch (e) {
    const ce = o.toConnectError(e);
    return new Response(end(ce.code, ce.rawMessage) as Uint8Array<ArrayBuffer>, { status: 200, headers });
  }
  const fail = (e: unknown) => { const ce = o.toConnectError(e); return end(ce.code, ce.rawMessage); };
  const cancel = async () => { abort.abort(); await batches.return(undefined).catch(() => {}); };
  if (BUN_DIRECT) {
    // Bun's direct stream copies what write() is given into the response (checked by a test), so the
    // store's output buffers are recycled; awaiting flush() is the back-pressure.
    let pieces: AsyncGenerator<Uint8Array> | null = batches;
    req.signal?.addEventListener("abort", () => void cancel(), { once: true });
    const body = new ReadableStream({
      type: "direct",
      async pull(ctl: DirectController) {
        if (!pieces) return;
        try {
          for await (const b of pieces) {
            const w = ctl.write(b);
            if (typeof w !== "number") await w;
            await ctl.flush();
          }
          ctl.write(end(undefined));
        } catch (e) {
          ctl.write(fail(e));
        }
        pieces = null;
        ctl.close();
      },
      cancel,
    } as unknown as UnderlyingDefaultSource<Uint8Array>);
    return new Response(body, { status: 200, headers });
  }
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(ctl) {
      if (done) return;
      try {
        const r = await batches.next();
        if (!r.done) { ctl.enqueue(r.value); return; }
        done = true;
        ctl.enqueue(end(undefined));
      } catch (e) {
        done = true;
        ctl.enqueue(fail(e));
      }
      ctl.close();
    },
    async cancel() {
      done = true;
      await cancel();
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: 200, headers });
}

