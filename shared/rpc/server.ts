// StoreAPI over Connect and gRPC-Web (HTTP/1.1 or HTTP/2, no trailers needed) on a hono app: runs on
// Bun, Deno, Node (@hono/node-server) and workerd alike. gRPC proper (what Go Thanos speaks) needs
// HTTP/2 trailers, which fetch-style servers cannot send: that is agent/grpc/server.ts. Both serve the
// same routes with the same per-call steps (routes.ts), and both give a store with seriesEnveloped its
// fast path (fastseries.ts).
import { createConnectRouter } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { Hono } from "hono";
import type { ServeOptions, StoreApiServices } from "./store.ts";
import { callGuard, DEFAULT_READ_MAX_BYTES, registerStoreApi, serverInterceptors } from "./routes.ts";
import { type BodyWriter, fetchFastSeries, hasFastSeries, SERIES_PATH } from "./fastseries.ts";

export interface MountOptions extends ServeOptions {
  /** Path prefix before "/thanos.Store/Series" etc.; none by default (what clients expect). */
  prefix?: string;
  /** How fast-path Series answers are written (default: a standard ReadableStream). */
  bodyWriter?: BodyWriter;
}

/** Mount the services' RPC paths (POST /thanos.Store/Series, ...) on an existing hono app. */
export function mountStoreApi(app: Hono, services: StoreApiServices, opts: MountOptions = {}): void {
  const readMaxBytes = opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
  const router = createConnectRouter({
    grpc: false, // see above: no trailers here
    grpcWeb: true,
    connect: true,
    interceptors: serverInterceptors(opts),
    readMaxBytes,
  });
  registerStoreApi(router, services);
  const fast = hasFastSeries(services.store)
    ? fetchFastSeries(services.store, { guard: callGuard(opts), readMaxBytes, writer: opts.bodyWriter })
    : null;
  const prefix = (opts.prefix ?? "").replace(/\/+$/, "");
  for (const h of router.handlers) {
    const handle = createFetchHandler(h);
    if (fast && h.requestPath === SERIES_PATH) {
      app.all(prefix + h.requestPath, async (c) => (c.req.method === "POST" ? await fast(c.req.raw) : null) ?? handle(c.req.raw));
    } else {
      app.all(prefix + h.requestPath, (c) => handle(c.req.raw));
    }
  }
}

/** A hono app serving only the StoreAPI (for a dedicated port or a Worker). */
export function storeApiApp(services: StoreApiServices, opts: MountOptions = {}): Hono {
  const app = new Hono();
  mountStoreApi(app, services, opts);
  return app;
}
