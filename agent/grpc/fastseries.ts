// The Series fast path for gRPC on our HTTP/2 server (h2server.ts; the shared pieces and the
// Connect/gRPC-Web handler are shared/rpc/fastseries.ts): a store's pre-enveloped answer
// (StoreImpl.seriesEnveloped) written to the HTTP/2 stream as it is, status in the trailers. Same per-call
// steps as every other call (callGuard: auth, observation; toConnectError: the status table). Only
// uncompressed binary gRPC requests take it; others go to Connect's handler, which serves them through
// StoreImpl.series.

import type { ConnectError } from "@connectrpc/connect";
import { type CallGuard, toConnectError } from "../../shared/rpc/routes.ts";
import { type EnvelopedStore, grpcMessage, parseSeriesRequest, readRequestBody, SERIES_PATH } from "../../shared/rpc/fastseries.ts";
import type { HeaderField } from "../../shared/h2/hpack.ts";
import type { H2Request, H2Response } from "./h2server.ts";

export interface GrpcFastSeriesOptions {
  guard: CallGuard;
  readMaxBytes: number;
}

/** Is this an uncompressed binary gRPC request (what the fast paths take)? */
export function plainGrpc(req: H2Request): boolean {
  if (req.method !== "POST") return false;
  const ct = req.headers["content-type"];
  if (ct !== "application/grpc" && ct !== "application/grpc+proto") return false;
  const enc = req.headers["grpc-encoding"];
  return enc === undefined || enc === "identity";
}

/** A request handler that takes fast-path Series calls: true when it took the request. */
export function grpcFastSeries(store: EnvelopedStore, o: GrpcFastSeriesOptions): (req: H2Request, res: H2Response) => boolean {
  return (req, res) => {
    if (req.path !== SERIES_PATH || !plainGrpc(req)) return false;
    void serve(store, o, req, res);
    return true;
  };
}

export const GRPC_HEADERS: HeaderField[] = [["content-type", "application/grpc+proto"], ["grpc-accept-encoding", "identity"]];

/** Ends a gRPC response with its status in the trailers (after `body`, the last message, if any). */
export async function endWithStatus(res: H2Response, err: ConnectError | undefined, body?: Uint8Array): Promise<void> {
  res.respond(200, GRPC_HEADERS);
  if (body && !(await res.write(body))) return;
  const t: HeaderField[] = [["grpc-status", String(err?.code ?? 0)]];
  if (err?.rawMessage) t.push(["grpc-message", grpcMessage(err.rawMessage)]);
  res.end(t);
}

async function serve(store: EnvelopedStore, o: GrpcFastSeriesOptions, req: H2Request, res: H2Response): Promise<void> {
  let err: ConnectError | undefined;
  try {
    o.guard.authorize(req.headers["authorization"]);
    const request = parseSeriesRequest(await readRequestBody(req.body, o.readMaxBytes));
    // Output buffers are recycled (reuse): each piece is written (copied into frames) and the socket
    // takes more before the store is asked for the next; that wait is also the back-pressure.
    for await (const b of store.seriesEnveloped(request, { signal: req.signal }, { reuse: true })) {
      res.respond(200, GRPC_HEADERS);
      if (!(await res.write(b)) || req.signal.aborted) break;
    }
  } catch (e) {
    err = toConnectError(e);
  }
  o.guard.done("thanos.Store", "Series", err);
  if (!res.finished) await endWithStatus(res, err);
}
