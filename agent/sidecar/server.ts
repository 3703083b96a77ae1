// Serving the sidecar: one route table (Store + Info services) mounted twice:
// - Connect + gRPC-Web on the HTTP port (hono), next to /metrics and /-/healthy, /-/ready;
// - gRPC proper on the gRPC port (node:http2 h2c + connect-node), what Go Thanos queriers and grpc-js speak.
// Errors are mapped from CodedError codes to RPC codes here, in one place.
// No response compression: XOR chunks barely compress, and gzip per message cost a third of the CPU of a
// Series call in profiles (clients offer gzip by default; Go Thanos' sidecar does not compress either).

import { listenHttp } from "../http.ts";
import { createServer as createH2Server, type Http2Server } from "node:http2";
import { listenH2 } from "../grpc/server.ts";
import { compressionSnappy, noSnappyAnswers } from "../grpc/snappy.ts";
import { listenH2Tls } from "../tls/h2.ts";
import type { ServerTlsConfig } from "../tls/server.ts";
import { timingSafeEqual } from "node:crypto";
import { Code, ConnectError, type ConnectRouter, createConnectRouter, type Interceptor } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Hono } from "hono";
import { errorCode, errorMessage, type ErrorCode } from "../../shared/encoding/errors.ts";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import type { SidecarStore } from "./store.ts";
import { type FastSeriesOptions, handleSeriesFast, handleSeriesFetch, SERIES_PATH } from "./grpcfast.ts";
import type { Logger } from "../log.ts";
import { CONTENT_TYPE, type Counter, type Registry } from "../metrics.ts";

const RPC_CODES: Record<ErrorCode, Code> = {
  bad_data: Code.InvalidArgument,
  resource_exhausted: Code.ResourceExhausted,
  unauthenticated: Code.Unauthenticated,
  unavailable: Code.Unavailable,
  timeout: Code.DeadlineExceeded,
  canceled: Code.Canceled,
  not_found: Code.NotFound,
  corrupt: Code.DataLoss,
  execution: Code.Unknown,
  internal: Code.Internal,
};

export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const c = errorCode(e);
  return new ConnectError(errorMessage(e), c ? RPC_CODES[c] : Code.Internal, undefined, undefined, e);
}

function codeName(c: Code | undefined): string {
  return c === undefined ? "OK" : (Code[c] ?? String(c));
}

function tokenOk(header: string | null, token: string): boolean {
  if (!header || !header.startsWith("Bearer ")) return false;
  const a = Buffer.from(header.slice(7)), b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface ServeOptions {
  store: SidecarStore;
  /** When set, every StoreAPI call must carry `authorization: Bearer <token>`. */
  bearerToken?: string;
  requests: Counter;
  log: Logger;
}

/** Auth, request counting by code, and CodedError -> RPC code mapping (also for errors mid-stream). */
function interceptor(o: ServeOptions): Interceptor {
  return (next) => async (req) => {
    const method = req.method.name;
    const count = (c: Code | undefined) => o.requests.inc({ method, code: codeName(c) });
    if (o.bearerToken !== undefined && !tokenOk(req.header.get("authorization"), o.bearerToken)) {
      count(Code.Unauthenticated);
      // The presented value is never logged.
      o.log.warn("StoreAPI call refused: missing or wrong bearer token", { method });
      throw new ConnectError("missing or invalid bearer token", Code.Unauthenticated);
    }
    let res;
    try {
      res = await next(req);
    } catch (e) {
      const ce = toConnectError(e);
      count(ce.code);
      throw ce;
    }
    if (!res.stream) { count(undefined); return res; }
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* inner;
          count(undefined);
        } catch (e) {
          const ce = toConnectError(e);
          count(ce.code);
          throw ce;
        }
      })(),
    };
  };
}

export function routes(store: SidecarStore): (r: ConnectRouter) => void {
  return (router) => {
    router.service(Store, {
      series: (req, ctx) => store.series(req, ctx.signal),
      labelNames: (req, ctx) => store.labelNames(req, ctx.signal),
      labelValues: (req, ctx) => store.labelValues(req, ctx.signal),
    });
    router.service(Info, { info: () => store.info() });
  };
}

/** Hono app with the Connect/gRPC-Web StoreAPI, /metrics, /-/healthy and /-/ready. */
export function httpApp(o: ServeOptions, registry: Registry, ready: () => boolean): Hono {
  const app = new Hono();
  const router = createConnectRouter({ interceptors: [interceptor(o)], acceptCompression: [] });
  routes(o.store)(router);
  const fast = fastOptions(o);
  for (const h of router.handlers) {
    const f = createFetchHandler(h);
    if (h.requestPath === SERIES_PATH) app.post(h.requestPath, async (c) => (await handleSeriesFetch(c.req.raw, fast)) ?? f(c.req.raw));
    else app.post(h.requestPath, (c) => f(c.req.raw));
  }
  app.get("/metrics", (c) => c.body(registry.render(), 200, { "Content-Type": CONTENT_TYPE }));
  app.get("/-/healthy", (c) => c.text("OK\n"));
  app.get("/-/ready", (c) => (ready() ? c.text("OK\n") : c.text("not ready: waiting for Prometheus and its external labels\n", 503)));
  return app;
}

function fastOptions(o: ServeOptions): FastSeriesOptions {
  return {
    store: o.store,
    authorize: (h) => {
      if (o.bearerToken !== undefined && !tokenOk(h ?? null, o.bearerToken)) {
        o.log.warn("StoreAPI call refused: missing or wrong bearer token", { method: "Series" });
        throw new ConnectError("missing or invalid bearer token", Code.Unauthenticated);
      }
    },
    count: (c) => o.requests.inc({ method: "Series", code: codeName(c) }),
    toConnectError,
  };
}

/** gRPC (HTTP/2 cleartext) server for the StoreAPI; Series takes the batched fast path (grpcfast.ts). */
export function grpcServer(o: ServeOptions, opts: { fastSeries?: boolean } = {}): Http2Server {
  const handler = connectNodeAdapter({
    // Snappy requests (Thanos' --grpc-compression=snappy) are accepted; answers stay uncompressed.
    routes: routes(o.store), interceptors: [interceptor(o)], grpcWeb: false, connect: false, grpc: true, acceptCompression: [compressionSnappy],
  });
  if (opts.fastSeries === false) return createH2Server(noSnappyAnswers(handler));
  const fast = fastOptions(o);
  return createH2Server(noSnappyAnswers((req, res) => { if (!handleSeriesFast(req, res, fast)) handler(req, res); }));
}

export type { Listening } from "../http.ts";
import type { Listening } from "../http.ts";

export async function listenGrpc(server: Http2Server, hostname: string, port: number, tls?: ServerTlsConfig | null, log?: Logger): Promise<Listening> {
  const listener = tls ? await listenH2Tls(server, hostname, port, tls, log) : await listenH2(server, hostname, port);
  return {
    port: listener.port,
    close: () => new Promise<void>((resolve) => {
      void listener.close().then(resolve);
      // Open HTTP/2 sessions keep close() waiting; give streams a moment, then resolve anyway.
      setTimeout(resolve, 2000).unref?.();
    }),
  };
}


export { listenHttp };
