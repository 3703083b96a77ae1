// StoreAPI over gRPC proper: plaintext HTTP/2 (h2c, prior knowledge) or HTTP/2 over TLS, with
// trailers: what Go Thanos queriers/stores and grpc-js speak. Connect and gRPC-Web are answered on the
// same port too (over HTTP/2). The HTTP/2 is ours (h2server.ts) on every runtime. The routes and
// per-call steps are the shared ones (shared/rpc/routes.ts), as on the HTTP port (shared/rpc/server.ts):
// a store with seriesEnveloped gets its Series fast path (fastseries.ts), the unary calls take
// fastunary.ts, and everything else goes through Connect's universal handlers.
import * as net from "node:net";
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler, UniversalServerResponse } from "@connectrpc/connect/protocol";
import { compressionBrotli, compressionGzip } from "@connectrpc/connect-node";
import type { ServeOptions, StoreApiServices } from "../../shared/rpc/store.ts";
import { callGuard, DEFAULT_READ_MAX_BYTES, registerStoreApi, serverInterceptors } from "../../shared/rpc/routes.ts";
import { hasFastSeries } from "../../shared/rpc/fastseries.ts";
import type { HeaderField } from "../../shared/h2/hpack.ts";
import { grpcFastSeries } from "./fastseries.ts";
import { grpcFastUnary } from "./fastunary.ts";
import { Connection, type H2Handler, type H2Response } from "./h2server.ts";
import { dropSnappyAccept } from "./snappy.ts";
import { compressionSnappy } from "../../shared/rpc/snappy.ts";
import { tlsServer, type ServerTlsConfig } from "../tls/server.ts";
import type { Logger } from "../log.ts";

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
  /** Stop accepting, end open connections (in-flight streams are cut), resolve when closed. */
  close(): Promise<void>;
}

function pairs(h: Headers | undefined): HeaderField[] {
  const out: HeaderField[] = [];
  h?.forEach((v, k) => { out.push([k, v]); });
  return out;
}

/** Writes a Connect universal handler's answer to our HTTP/2 stream. */
async function writeUniversal(u: UniversalServerResponse, res: H2Response): Promise<void> {
  const it = u.body?.[Symbol.asyncIterator]();
  try {
    // The first piece is read before the headers go: the handler may still set headers until then.
    let chunk = it ? await it.next() : undefined;
    res.respond(u.status, pairs(u.header));
    while (chunk !== undefined && chunk.done !== true) {
      if (!(await res.write(chunk.value))) return;
      chunk = await it!.next();
    }
    res.end(u.trailer ? pairs(u.trailer) : undefined);
  } finally {
    await it?.return?.().catch(() => {});
  }
}

/** Routes requests to Connect's universal handlers (gRPC, gRPC-Web, Connect), by path. */
export function universalH2Handler(handlers: UniversalHandler[], log?: Logger): H2Handler {
  const paths = new Map<string, UniversalHandler>();
  for (const h of handlers) paths.set(h.requestPath, h);
  return (req, res) => {
    const u = paths.get(req.path.split("?", 2)[0]!);
    if (u === undefined) { res.respond(404); res.end(); return; }
    let header: Headers;
    try {
      header = new Headers(Object.entries(req.headers));
    } catch (e) {
      res.respond(400, [["content-type", "text/plain"]]);
      void res.write(new TextEncoder().encode(`malformed request headers: ${(e as Error).message}\n`)).then(() => res.end());
      return;
    }
    u({ httpVersion: "2.0", method: req.method, url: `${req.scheme}://${req.authority || "localhost"}${req.path}`, header, body: req.body, signal: req.signal })
      .then((out) => writeUniversal(out, res))
      .catch((e: unknown) => {
        const code = ConnectError.from(e).code;
        if (code !== Code.Canceled && code !== Code.Aborted) {
          log?.warn("gRPC handler failed", { rpc: `${u.service.typeName}/${u.method.name}`, err: (e as Error).message });
        }
        if (!res.headersSent) res.respond(500);
        res.end();
      });
  };
}

export async function startGrpcServer(services: StoreApiServices, opts: GrpcServerOptions = {}): Promise<GrpcServer> {
  const readMaxBytes = opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
  const router = createConnectRouter({
    interceptors: serverInterceptors(opts),
    readMaxBytes,
    acceptCompression: opts.compression === false ? [compressionSnappy] : [compressionGzip, compressionBrotli, compressionSnappy],
  });
  registerStoreApi(router, services);
  const universal = universalH2Handler(router.handlers, opts.log);
  const guard = callGuard(opts);
  const fastSeries = hasFastSeries(services.store) ? grpcFastSeries(services.store, { guard, readMaxBytes }) : null;
  const fastUnary = grpcFastUnary(services, { guard, readMaxBytes });
  const handler: H2Handler = (req, res) => {
    dropSnappyAccept(req.headers);
    if (fastUnary(req, res) || fastSeries?.(req, res)) return;
    universal(req, res);
  };
  const conns = new Set<Connection>();
  const onError = (e: Error) => opts.log?.debug("gRPC connection error", { err: e.message });
  const serve = (sock: net.Socket) => {
    const c = new Connection(sock, handler, { onError });
    conns.add(c);
    sock.once("close", () => conns.delete(c));
  };
  const host = opts.host ?? "127.0.0.1";
  let port: number;
  let stop: () => Promise<void>;
  if (opts.tls) {
    const l = tlsServer(opts.tls, serve, opts.log);
    port = await l.listen(opts.port ?? 0, host);
    stop = () => l.close();
  } else {
    const tcp = net.createServer(serve);
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(opts.port ?? 0, host, () => { tcp.off("error", reject); resolve(); });
    });
    port = (tcp.address() as net.AddressInfo).port;
    stop = () => new Promise<void>((resolve) => tcp.close(() => resolve()));
  }
  return {
    address: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close: () => {
      const closed = stop();
      for (const c of conns) c.close();
      return closed;
    },
  };
}
