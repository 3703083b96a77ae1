// Store gateway as a Worker over an R2 binding: Connect + gRPC-Web StoreAPI at /thanos.Store/* and
// /thanos.info.Info/*. One BucketStore per isolate (module scope), synced lazily from the bucket index
// (or a listing) at most once a minute; opened index headers and range caches live as long as the isolate.
//   npx wrangler dev -c edge/store/wrangler.toml
// (Tests run it through edge/worker-test/store.ts, which adds a way to upload blocks into the emulated R2.)
import type { Hono } from "hono";
import { R2Bucket, type R2BucketLike } from "../objstore/r2.ts";
import { type CacheLike, cacheApiHeaderCache, storeApp } from "./index.ts";

interface Env {
  BUCKET: R2BucketLike;
  /** Bytes of index/chunk ranges cached per isolate (each); default 16 MiB, far below the 128 MB limit. */
  CACHE_BYTES?: string;
}

let app: Hono | null = null;

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path === "/health") return new Response("ok");
    if (!app) {
      const cache = env.CACHE_BYTES ? Number(env.CACHE_BYTES) : 16 << 20;
      const cf = (globalThis as { caches?: { default?: CacheLike } }).caches?.default;
      app = storeApp(new R2Bucket(env.BUCKET, { name: "BUCKET" }), {
        indexCacheBytes: cache, chunksCacheBytes: cache, syncTtlMs: 60_000, headerCache: cf ? cacheApiHeaderCache(cf) : undefined,
      }).app;
    }
    return app.fetch(req);
  },
};
