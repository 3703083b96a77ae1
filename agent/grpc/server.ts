// StoreAPI over gRPC proper: plaintext HTTP/2 (h2c, prior knowledge) with trailers, what Go Thanos
// queriers/stores and grpc-js speak. Connect and gRPC-Web are answered on the same port too (over
// HTTP/2). Runs under Node, Bun and Deno (node:http2); on Bun behind the flow-control shim of
// h2window.ts, without which Go clients hang on large answers. The routes and per-call steps are the
// shared ones (shared/rpc/routes.ts), as on the HTTP port (shared/rpc/server.ts); a store with
// seriesEnveloped gets its Series fast path (fastseries.ts), and the unary calls take fastunary.ts.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { compressionBrotli, compressionGzip, connectNodeAdapter } from "@connectrpc/connect-node";
import type { ServeOptions, StoreApiServices } from "../../shared/rpc/store.ts";
import { callGuard, DEFAULT_READ_MAX_BYTES, registerStoreApi, serverInterceptors } from "../../shared/rpc/routes.ts";
import { hasFastSeries } from "../../shared/rpc/fastseries.ts";
import { grpcFastSeries } from "./fastseries.ts";
import { grpcFastUnary } from "./fastunary.ts";
import { listenWithWindowFix } from "./h2window.ts";
import { noSnappyAnswers } from "./snappy.ts";
import { compressionSnappy } from "../../shared/rpc/snappy.ts";
import { listenH2Tls } from "../tls/h2.ts";
import type { ServerTlsConfig } from "../tls/server.ts";
import type { Logger } from "../log.ts";

const BUN = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export interface GrpcServerOptions extends ServeOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port; read it from the result. */
  port?: number;
  /**
   * Accept gzip/brotli-compressed messages and compress answers for clients that ask (default true, as
   * connect-node does). The sidecar turns it off: gzip per message cost a third of the CPU of a Series
   * call in profiles, XOR chunks barely compress, and Thanos' sidecar does not compress either.
   * Snappy-compressed requests (Thanos' --grpc-compression=snappy) are accepted either way; answers
   * never go in snappy (./snappy.ts).
   */
  compression?: boolean;
  /** TLS (Thanos' --grpc-server-tls-* flags); plaintext when absent. */
  tls?: ServerTlsConfig | null;
  log?: Logger;
}

export interface GrpcServer {
  /** host:port actually bound. */
  address: string;
  port: number;
  /** Stop accepting, end open sessions (in-flight streams are cut), resolve when closed. */
  close(): Promise<void>;
}

/** An HTTP/2 server listening on host:port: its bound port, and close(), which stops accepting. */
export interface H2Listener { port: number; close(): Promise<void> }

/**
 * Listens with `server` on host:port; on Bun, connections reach it through the flow-control shim
 * (h2window.ts). close() resolves once the listening socket is closed, which waits for open
 * connections: callers end their sessions or stop waiting.
 */
export async function listenH2(server: http2.Http2Server, host: string, port: number): Promise<H2Listener> {
  if (BUN) {
    const tcp = await listenWithWindowFix(server, host, port);
    return {
      port: (tcp.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        try { server.close(); } catch { /* never listened itself: the shim's server did */ }
      }),
    };
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => { server.off("error", reject); resolve(); });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function startGrpcServer(services: StoreApiServices, opts: GrpcServerOptions = {}): Promise<GrpcServer> {
  const readMaxBytes = opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
  const handler = connectNodeAdapter({
    routes: (router) => registerStoreApi(router, services),
    interceptors: serverInterceptors(opts),
    readMaxBytes,
    acceptCompression: opts.compression === false ? [compressionSnappy] : [compressionGzip, compressionBrotli, compressionSnappy],
  });
  const guard = callGuard(opts);
  const fastSeries = hasFastSeries(services.store) ? grpcFastSeries(services.store, { guard, readMaxBytes }) : null;
  const fastUnary = grpcFastUnary(services, { guard, readMaxBytes });
  const server = http2.createServer({}, noSnappyAnswers((req, res) => {
    if (fastUnary(req, res) || fastSeries?.(req, res)) return;
    handler(req, res);
  }));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
  });
  const host = opts.host ?? "127.0.0.1";
  const listener = opts.tls ? await listenH2Tls(server, host, opts.port ?? 0, opts.tls, opts.log) : await listenH2(server, host, opts.port ?? 0);
  const port = listener.port;
  return {
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close: () => {
      const closed = listener.close();
      for (const s of sessions) s.destroy();
      return closed;
    },
  };
}
