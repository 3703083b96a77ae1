// The Series fast path of the server stack, for stores that offer StoreImpl.seriesEnveloped: their
// pre-enveloped answer goes to the socket as it is, in front of Connect's generic handler. This file:
// the pieces every transport shares, and the handler for Connect streaming and gRPC-Web on a fetch-style
// server (hono on Bun, Deno, Node, workerd). gRPC over HTTP/2 is agent/grpc/fastseries.ts.
//
// Each call goes through the same steps as any other (routes.ts callGuard: auth, observation) and
// errors through the same mapping (toConnectError, the table of shared/encoding/errors.ts). Only
// uncompressed binary requests take it; anything else (compressed, JSON) returns null and is left to
// Connect, which serves it through StoreImpl.series.
//
// Wire facts:
// - every protocol frames messages as flags(1) | length(4, big-endian) | message;
// - gRPC: status in HTTP/2 trailers: grpc-status (number), grpc-message (percent-encoded);
// - gRPC-Web: the same trailers as a last frame with flags 0x80 and "name: value\r\n" lines;
// - Connect streaming: a last frame with flags 0x02 and JSON `{}` or `{"error":{"code","message"}}`.

import { type DescMessage, fromBinary, type MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { concatBytes } from "../encoding/bytes.ts";
import { type SeriesRequest, SeriesRequestSchema } from "../gen/thanos/storepb/rpc_pb.ts";
import { connectCodeName } from "./errors.ts";
import { type CallGuard, toConnectError } from "./routes.ts";
import type { StoreImpl } from "./store.ts";

export const SERIES_PATH = "/thanos.Store/Series";
const SERVICE = "thanos.Store", METHOD = "Series";

/** A store with the fast path. */
export type EnvelopedStore = StoreImpl & Required<Pick<StoreImpl, "seriesEnveloped">>;

export function hasFastSeries(s: StoreImpl | undefined): s is EnvelopedStore {
  return typeof s?.seriesEnveloped === "function";
}

/** The one enveloped request message of a call body (`method` names it in errors). */
export function parseEnvelopedRequest<D extends DescMessage>(schema: D, body: Uint8Array, method: string): MessageShape<D> {
  const what = `${method} request`;
  if (body.length < 5) throw new ConnectError(`${what} of ${body.length} bytes is not an enveloped message`, Code.InvalidArgument);
  if (body[0]! & 1) throw new ConnectError(`compressed ${what} without a content encoding`, Code.Internal);
  const len = ((body[1]! << 24) | (body[2]! << 16) | (body[3]! << 8) | body[4]!) >>> 0;
  if (5 + len !== body.length) throw new ConnectError(`${what} envelope says ${len} bytes, body has ${body.length - 5}`, Code.InvalidArgument);
  try {
    return fromBinary(schema, body.subarray(5));
  } catch (e) {
    throw new ConnectError(`${what} does not decode: ${(e as Error).message}`, Code.InvalidArgument);
  }
}

/** The one enveloped SeriesRequest of a call body. */
export function parseSeriesRequest(body: Uint8Array): SeriesRequest {
  return parseEnvelopedRequest(SeriesRequestSchema, body, "Series");
}

/** A request body, refused past `max` bytes (the server's readMaxBytes). */
export async function readRequestBody(src: AsyncIterable<Uint8Array>, max: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of src) {
    n += c.length;
    if (n > max) throw new ConnectError(`Series request larger than ${max} bytes`, Code.ResourceExhausted);
    parts.push(c);
  }
  return concatBytes(parts, n);
}

const enc = new TextEncoder();

/** grpc-message: everything outside printable ASCII, and '%' itself, percent-encoded (gRPC spec). */
export function grpcMessage(s: string): string {
  return s.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => [...enc.encode(c)].map((b) => "%" + b.toString(16).toUpperCase().padStart(2, "0")).join(""));
}

/** flags | big-endian uint32 length | payload: the framing gRPC, gRPC-Web and Connect streaming share. */
export function frame(flags: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/**
 * How a fetch-style server streams the pieces into a response body. The default (standardBody) copies
 * nothing and so asks the store for fresh buffers; a runtime with a copying writer (Bun's direct stream,
 * agent/http.ts) lets the store recycle them.
 */
export interface BodyWriter {
  /** True when write copies: the store may then reuse its output buffers. */
  readonly copies: boolean;
  /**
   * A response body: every piece of `pieces`, then the end frame `end(undefined)` (or `end(err)` when
   * `pieces` throws); `cancel` when the client goes away.
   */
  body(pieces: AsyncGenerator<Uint8Array>, end: (err: unknown) => Uint8Array, cancel: () => Promise<void>): ReadableStream<Uint8Array>;
}

/** A web ReadableStream pulling one piece per read, no read-ahead (the socket's pace is the store's). */
export const standardBody: BodyWriter = {
  copies: false,
  body(pieces, end, cancel) {
    let done = false;
    return new ReadableStream<Uint8Array>({
      async pull(ctl) {
        if (done) return;
        try {
          const r = await pieces.next();
          if (!r.done) { ctl.enqueue(r.value); return; }
          done = true;
          ctl.enqueue(end(undefined));
        } catch (e) {
          done = true;
          ctl.enqueue(end(e));
        }
        ctl.close();
      },
      async cancel() {
        done = true;
        await cancel();
      },
    }, { highWaterMark: 0 });
  },
};

const CONNECT_CT = "application/connect+proto";
const GRPC_WEB_CT = /^application\/grpc-web(\+proto)?$/;

export interface FetchFastSeriesOptions {
  guard: CallGuard;
  readMaxBytes: number;
  writer?: BodyWriter;
}

/**
 * A handler for POST /thanos.Store/Series: the Response for Connect-streaming or gRPC-Web binary calls
 * without compression, or null to let Connect handle the request.
 */
export function fetchFastSeries(store: EnvelopedStore, o: FetchFastSeriesOptions): (req: Request) => Promise<Response | null> {
  const writer = o.writer ?? standardBody;
  return async (req) => {
    const ct = req.headers.get("content-type") ?? "";
    const connect = ct === CONNECT_CT;
    if (!connect && !GRPC_WEB_CT.test(ct)) return null;
    const ce = req.headers.get(connect ? "connect-content-encoding" : "grpc-encoding");
    if (ce !== null && ce !== "identity") return null;
    const end = (e: unknown): Uint8Array => {
      const err = e === undefined ? undefined : toConnectError(e);
      o.guard.done(SERVICE, METHOD, err);
      if (connect) {
        const body = err === undefined ? {} : { error: { code: connectCodeName(err.code), message: err.rawMessage } };
        return frame(0x02, enc.encode(JSON.stringify(body)));
      }
      let t = `grpc-status: ${err?.code ?? 0}\r\n`;
      if (err?.rawMessage) t += `grpc-message: ${grpcMessage(err.rawMessage)}\r\n`;
      return frame(0x80, enc.encode(t));
    };
    const headers = { "content-type": connect ? CONNECT_CT : "application/grpc-web+proto" };
    const abort = new AbortController();
    let pieces: AsyncGenerator<Uint8Array>;
    try {
      o.guard.authorize(req.headers.get("authorization"));
      const request = parseSeriesRequest(req.body ? await readRequestBody(req.body, o.readMaxBytes) : new Uint8Array());
      pieces = (store.seriesEnveloped(request, { signal: abort.signal }, { reuse: writer.copies }) as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]() as AsyncGenerator<Uint8Array>;
    } catch (e) {
      return new Response(end(e) as Uint8Array<ArrayBuffer>, { status: 200, headers });
    }
    const cancel = async () => { abort.abort(); await pieces.return?.(undefined).catch(() => {}); };
    req.signal?.addEventListener("abort", () => void cancel(), { once: true });
    return new Response(writer.body(pieces, end, cancel), { status: 200, headers });
  };
}
