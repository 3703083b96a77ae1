// The Series fast path for gRPC on node:http2 (the shared pieces and the Connect/gRPC-Web handler are
// shared/rpc/fastseries.ts): a store's pre-enveloped answer (StoreImpl.seriesEnveloped) written to the
// HTTP/2 stream as it is, status in the trailers. Same per-call steps as every other call (callGuard:
// auth, observation; toConnectError: the status table). Only uncompressed binary gRPC requests take
// it; others go to connect-node, which serves them through StoreImpl.series.

import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { ConnectError } from "@connectrpc/connect";
import { type CallGuard, toConnectError } from "../../shared/rpc/routes.ts";
import { type EnvelopedStore, grpcMessage, parseSeriesRequest, readRequestBody, SERIES_PATH } from "../../shared/rpc/fastseries.ts";

export interface GrpcFastSeriesOptions {
  guard: CallGuard;
  readMaxBytes: number;
}

/** A node:http2 request handler that takes fast-path Series calls: true when it took the request. */
export function grpcFastSeries(store: EnvelopedStore, o: GrpcFastSeriesOptions): (req: Http2ServerRequest, res: Http2ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== "POST" || req.url !== SERIES_PATH) return false;
    const ct = String(req.headers["content-type"] ?? "");
    if (ct !== "application/grpc" && ct !== "application/grpc+proto") return false;
    const enc = req.headers["grpc-encoding"];
    if (enc !== undefined && enc !== "identity") return false;
    void serve(store, o, req, res);
    return true;
  };
}

/** Ends a gRPC response with its status in the trailers (after `body`, the last message, if any). */
export function endWithStatus(res: Http2ServerResponse, err: ConnectError | undefined, body?: Uint8Array): void {
  const t: Record<string, string> = { "grpc-status": String(err?.code ?? 0) };
  if (err?.rawMessage) t["grpc-message"] = grpcMessage(err.rawMessage);
  res.addTrailers(t);
  if (body) res.end(body);
  else res.end();
}

async function serve(store: EnvelopedStore, o: GrpcFastSeriesOptions, req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
  const abort = new AbortController();
  const onClose = () => abort.abort();
  res.on("close", onClose);
  let headersSent = false;
  const sendHeaders = () => {
    if (headersSent) return;
    headersSent = true;
    res.writeHead(200, { "content-type": "application/grpc+proto", "grpc-accept-encoding": "identity" });
  };
  const finish = (e: unknown) => {
    const err = e === undefined ? undefined : toConnectError(e);
    o.guard.done("thanos.Store", "Series", err);
    if (res.writableEnded || res.destroyed) return;
    sendHeaders();
    endWithStatus(res, err);
  };
  try {
    const auth = req.headers["authorization"];
    o.guard.authorize(Array.isArray(auth) ? auth[0] : auth);
    const request = parseSeriesRequest(await readRequestBody(req as AsyncIterable<Uint8Array>, o.readMaxBytes));
    // Output buffers are recycled (reuse): each piece is written and its write completed (the stream no
    // longer holds it) before the store is asked for more; that wait is also the back-pressure.
    for await (const b of store.seriesEnveloped(request, { signal: abort.signal }, { reuse: true })) {
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
    finish(e);
  } finally {
    res.off("close", onClose);
  }
}
