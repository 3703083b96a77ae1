// thanos.Store/Series over gRPC on our HTTP/2 client, each message decoded with the direct decoder
// (shared/query/wire.ts) instead of Connect's generic client and protobuf-es: what connect-series.ts
// does for the Connect protocol. The querier uses it for every gRPC endpoint (ours and Go Thanos').
// Uncompressed only: with --grpc-compression=snappy the querier keeps the generic client.
//
// gRPC server streaming: POST /thanos.Store/Series, content-type application/grpc+proto, te: trailers,
// one enveloped request; the answer is envelopes (flag 0x01 = compressed: never offered here) and the
// status in the trailers (grpc-status, grpc-message percent-encoded), or in the headers alone when the
// call fails before any message ("trailers-only").

import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalClientFn } from "@connectrpc/connect/protocol";
import { SeriesRequestSchema, type SeriesRequest } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { decodeSeriesResponse, type SeriesFrame } from "../../shared/query/wire.ts";
import { envelopes } from "../../shared/query/connect-series.ts";
import { callError } from "../../shared/rpc/client.ts";
import { CodedError } from "../../shared/encoding/errors.ts";

export interface GrpcSeriesOptions {
  /** Store name in errors (the endpoint as given). */
  name: string;
  /** The HTTP/2 client of the endpoint (agent/grpc/client.ts `call`). */
  call: UniversalClientFn;
  /** "http://host:port" or "https://host:port". */
  baseUrl: string;
  token?: string;
  timeoutMs?: number;
  readMaxBytes: number;
}

/** HTTP status of a non-gRPC answer -> gRPC code (the gRPC spec's table). */
function codeOfHttp(status: number): Code {
  if (status === 400) return Code.Internal;
  if (status === 401) return Code.Unauthenticated;
  if (status === 403) return Code.PermissionDenied;
  if (status === 404) return Code.Unimplemented;
  if (status === 429 || status === 502 || status === 503 || status === 504) return Code.Unavailable;
  return Code.Unknown;
}

/** The gRPC status in `h` (trailers, or headers of a trailers-only answer), if any. */
function statusIn(h: Headers): ConnectError | null | undefined {
  const s = h.get("grpc-status");
  if (s === null) return undefined;
  const code = Number(s);
  if (code === 0) return null;
  let msg = h.get("grpc-message") ?? "";
  try { msg = decodeURIComponent(msg); } catch { /* keep it as sent */ }
  return new ConnectError(msg, Number.isInteger(code) && code > 0 && code <= 16 ? code as Code : Code.Unknown);
}

export async function* grpcSeries(req: SeriesRequest, signal: AbortSignal, o: GrpcSeriesOptions): AsyncGenerator<SeriesFrame> {
  const where = `thanos.Store/Series on ${o.name}`;
  const fail = (e: unknown) => callError(e, o.name, "thanos.Store/Series");
  const msg = toBinary(SeriesRequestSchema, req);
  const body = new Uint8Array(5 + msg.length);
  new DataView(body.buffer).setUint32(1, msg.length);
  body.set(msg, 5);
  const header = new Headers({ "content-type": "application/grpc+proto", te: "trailers", "grpc-accept-encoding": "identity" });
  if (o.token) header.set("authorization", `Bearer ${o.token}`);
  let sig = signal;
  if (o.timeoutMs) {
    header.set("grpc-timeout", `${Math.ceil(o.timeoutMs)}m`);
    sig = AbortSignal.any([signal, AbortSignal.timeout(o.timeoutMs)]);
  }
  let res;
  try {
    res = await o.call({ url: `${o.baseUrl}/thanos.Store/Series`, method: "POST", header, body: (async function* () { yield body; })(), signal: sig });
  } catch (e) {
    throw fail(sig.aborted && !signal.aborted ? new ConnectError("the operation timed out", Code.DeadlineExceeded) : e);
  }
  const it = res.body[Symbol.asyncIterator]();
  try {
    const early = statusIn(res.header);
    if (early) throw fail(early);
    if (res.status !== 200) throw fail(new ConnectError(`HTTP ${res.status} answer, not gRPC`, codeOfHttp(res.status)));
    const ct = res.header.get("content-type") ?? "";
    if (early === undefined && !ct.startsWith("application/grpc")) throw fail(new ConnectError(`answer of content-type ${JSON.stringify(ct)}, not gRPC`, Code.Unknown));
    const read = async (): Promise<Uint8Array | undefined> => {
      try {
        const r = await it.next();
        return r.done ? undefined : r.value;
      } catch (e) {
        throw fail(sig.aborted && !signal.aborted ? new ConnectError("the operation timed out", Code.DeadlineExceeded) : e);
      }
    };
    for await (const m of envelopes(read, o.readMaxBytes, where)) {
      if (m.flags & 0x01) throw new CodedError("corrupt", `${where}: compressed message, but no compression was offered`);
      const f = decodeSeriesResponse(m.buf, m.start, m.end, where);
      if (f.kind !== "hints") yield f;
    }
    const st = early === null ? null : statusIn(res.trailer);
    if (st === undefined) throw fail(new ConnectError("the answer ended without a gRPC status", Code.Internal));
    if (st) throw fail(st);
  } finally {
    await it.return?.();
  }
}
