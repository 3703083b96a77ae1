// StoreAPI over gRPC proper: plaintext HTTP/2 (h2c, prior knowledge) with trailers, what Go Thanos
// queriers/stores and grpc-js speak. Connect and gRPC-Web are answered on the same port too (over
// HTTP/2). Runs under Node, Bun and Deno (node:http2); on Bun behind the flow-control shim of
// h2window.ts, without which Go clients hang on large answers.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { compressionBrotli, compressionGzip, connectNodeAdapter } from "@connectrpc/connect-node";
import type { Interceptor } from "@connectrpc/connect";
import type { ServeOptions, StoreApiServices } from "../../shared/rpc/store.ts";
import { DEFAULT_READ_MAX_BYTES, registerStoreApi, serverInterceptors } from "../../edge/rpc/routes.ts";
import { listenWithWindowFix } from "./h2window.ts";
import { compressionSnappy, noSnappyAnswers } from "./snappy.ts";
import { listenH2Tls } from "../tls/h2.ts";
import type { ServerTlsConfig } from "../tls/server.ts";
import type { Logger } from "../log.ts";

const BUN = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export interface GrpcServerOptions extends ServeOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port; read it from the result. */
  port?: number;
  /** Extra Connect interceptors around every call (metrics, logging), outermost first. */
  interceptors?: Interceptor[];
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
  const handler = connectNodeAdapter({
    routes: (router) => registerStoreApi(router, services),
    interceptors: serverInterceptors(opts, opts.interceptors),
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
    // Thanos components with --grpc-compression=snappy send snappy requests (answers stay uncompressed).
    acceptCompression: [compressionGzip, compressionBrotli, compressionSnappy],
  });
  const server = http2.createServer({}, noSnappyAnswers(handler));
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
