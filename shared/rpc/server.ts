// StoreAPI over Connect and gRPC-Web (HTTP/1.1 or HTTP/2, no trailers needed) on a hono app: runs on
// Bun, Deno, Node (@hono/node-server) and workerd alike. gRPC proper (what Go Thanos speaks) needs
// HTTP/2 trailers, which fetch-style servers cannot send: that is agent/grpc/server.ts.
import { createConnectRouter, type Interceptor } from "@connectrpc/connect";
import { createFetchHandler } from "@connectrpc/connect/protocol";
import { Hono } from "hono";
import type { ServeOptions, StoreApiServices } from "./store.ts";
import { DEFAULT_READ_MAX_BYTES, registerStoreApi, serverInterceptors } from "./routes.ts";

export interface MountOptions extends ServeOptions {
  /** Path prefix before "/thanos.Store/Series" etc.; none by default (what clients expect). */
  prefix?: string;
  /** Extra Connect interceptors around every call (metrics, logging), outermost first. */
  interceptors?: Interceptor[];
}

/** Mount the services' RPC paths (POST /thanos.Store/Series, ...) on an existing hono app. */
export function mountStoreApi(app: Hono, services: StoreApiServices, opts: MountOptions = {}): void {
  const router = createConnectRouter({
    grpc: false, // see above: no trailers here
    grpcWeb: true,
    connect: true,
    interceptors: serverInterceptors(opts, opts.interceptors),
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_READ_MAX_BYTES,
  });
  registerStoreApi(router, services);
  const prefix = (opts.prefix ?? "").replace(/\/+$/, "");
  for (const h of router.handlers) {
    const handle = createFetchHandler(h);
    app.all(prefix + h.requestPath, (c) => handle(c.req.raw));
  }
}

/** A hono app serving only the StoreAPI (for a dedicated port or a Worker). */
export function storeApiApp(services: StoreApiServices, opts: MountOptions = {}): Hono {
  const app = new Hono();
  mountStoreApi(app, services, opts);
  return app;
}
