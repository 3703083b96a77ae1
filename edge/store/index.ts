// The store gateway for fetch-style runtimes (Workers with an R2 binding or S3, Deno, Bun): a BucketStore
// whose calls sync lazily (at most once per TTL, from the bucket index when there is one), so an isolate
// that wakes up cold discovers the blocks on its first request and later ones reuse what it opened.
//
// Embedding in the querier's Worker: `createEdgeStore(bucket).services` is a StoreApiServices object
// (shared/rpc/store.ts) to call in-process (no network hop); `storeApp(...)` serves it over Connect and
// gRPC-Web on a hono app.

import type { Hono } from "hono";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { BucketStore, type BucketStoreOptions } from "../../shared/bucketstore/store.ts";
import type { HeaderCache } from "../../shared/bucketstore/header.ts";
import type { StoreApiServices } from "../../shared/rpc/store.ts";
import { lazyBucketStoreServices } from "../../shared/bucketstore/services.ts";
import { storeApiApp, type MountOptions } from "../../shared/rpc/server.ts";

export interface EdgeStore {
  store: BucketStore;
  /** StoreAPI + Info, each call preceded by a lazy sync. */
  services: StoreApiServices;
}

export function createEdgeStore(bucket: Bucket, opts: Omit<BucketStoreOptions, "bucket"> = {}): EdgeStore {
  const store = new BucketStore({ syncTtlMs: 60_000, ...opts, bucket });
  return { store, services: lazyBucketStoreServices(store) };
}

/** The part of the Workers Cache API (caches.default) used to keep index headers. */
export interface CacheLike {
  match(req: Request): Promise<Response | undefined>;
  put(req: Request, res: Response): Promise<void>;
}

/**
 * Index headers in the Workers Cache API, so a cold isolate in the same colo opens blocks with one
 * cache read each. Cache entries can vanish at any time: a miss only means reading the index again.
 */
export function cacheApiHeaderCache(cache: CacheLike, base = "https://index-header.thanots.invalid/"): HeaderCache {
  return {
    async get(ulid) {
      const r = await cache.match(new Request(base + ulid));
      return r ? new Uint8Array(await r.arrayBuffer()) : null;
    },
    async put(ulid, b) {
      await cache.put(new Request(base + ulid), new Response(b as Uint8Array<ArrayBuffer>, { headers: { "cache-control": "max-age=604800", "content-type": "application/octet-stream" } }));
    },
  };
}

/** A hono app serving the store over Connect and gRPC-Web (mount it in a Worker or Deno.serve). */
export function storeApp(bucket: Bucket, opts: Omit<BucketStoreOptions, "bucket"> = {}, mount: MountOptions = {}): { app: Hono; edge: EdgeStore } {
  const edge = createEdgeStore(bucket, { preEncode: true, ...opts });
  return { app: storeApiApp(edge.services, mount), edge };
}
