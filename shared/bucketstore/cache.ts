// Byte-sized LRU caches and the bucket wrapper the store gateway reads through.
//
// Block objects are immutable once meta.json is visible (a rewrite is a new ULID), so a ranged read can
// be cached by (key, offset, length) forever and an object's size needs one HEAD per process. The block
// reader asks for the same ranges for the same query (postings of a value, a run of series, a run of
// chunks), which is what makes a warm query cost no GETs. Concurrent readers of one range share the
// in-flight request.

import type { Bucket, IterOptions, ObjectAttributes, UploadData } from "../objstore/bucket.ts";

/** LRU bounded by the summed size of its values (Map iteration order is insertion order). */
export class ByteLru<V> {
  private m = new Map<string, { v: V; size: number }>();
  bytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  constructor(readonly maxBytes: number, private readonly sizeOf: (v: V) => number) {}

  get(k: string): V | undefined {
    const e = this.m.get(k);
    if (!e) { this.misses++; return undefined; }
    this.hits++;
    this.m.delete(k);
    this.m.set(k, e);
    return e.v;
  }

  set(k: string, v: V): void {
    const size = this.sizeOf(v) + k.length * 2 + 64; // key and entry overhead, roughly
    // An entry larger than a quarter of the cache would only push everything else out.
    if (size > this.maxBytes / 4) return;
    const old = this.m.get(k);
    if (old) { this.m.delete(k); this.bytes -= old.size; }
    this.m.set(k, { v, size });
    this.bytes += size;
    while (this.bytes > this.maxBytes) {
      const first = this.m.keys().next();
      if (first.done) break;
      const e = this.m.get(first.value)!;
      this.m.delete(first.value);
      this.bytes -= e.size;
      this.evictions++;
    }
  }

  get size(): number { return this.m.size; }
  clear(): void { this.m.clear(); this.bytes = 0; }
}

export interface BucketStats {
  /** Whole-object GETs. */
  gets: number;
  /** Ranged GETs that reached the bucket (cache misses). */
  rangeGets: number;
  /** HEAD-like attribute requests that reached the bucket. */
  heads: number;
  /** Listing calls. */
  lists: number;
  existsCalls: number;
  /** Bytes received from the bucket (GETs and ranged GETs). */
  bytesFetched: number;
}

export function newBucketStats(): BucketStats {
  return { gets: 0, rangeGets: 0, heads: 0, lists: 0, existsCalls: 0, bytesFetched: 0 };
}

/** Total requests in a stats snapshot. */
export function requestCount(s: BucketStats): number {
  return s.gets + s.rangeGets + s.heads + s.lists + s.existsCalls;
}

export function diffStats(a: BucketStats, b: BucketStats): BucketStats {
  return {
    gets: a.gets - b.gets, rangeGets: a.rangeGets - b.rangeGets, heads: a.heads - b.heads, lists: a.lists - b.lists,
    existsCalls: a.existsCalls - b.existsCalls, bytesFetched: a.bytesFetched - b.bytesFetched,
  };
}

export interface CachingBucketOptions {
  /** Cache for ranges of "<ULID>/index" objects (postings lists, series entries); bytes. 0 disables. */
  indexCacheBytes?: number;
  /** Cache for ranges of "<ULID>/chunks/*" objects; bytes. 0 disables. */
  chunksCacheBytes?: number;
}

/**
 * Counts every request (stats) and caches ranged reads of block index and chunk objects and object
 * sizes. Whole-object GETs (meta.json, marks, the bucket index) are never cached: they can change.
 */
export class CachingBucket implements Bucket {
  readonly name: string;
  readonly stats = newBucketStats();
  readonly indexCache: ByteLru<Uint8Array>;
  readonly chunksCache: ByteLru<Uint8Array>;
  private readonly sizes = new Map<string, Promise<ObjectAttributes>>();
  private readonly inflight = new Map<string, Promise<Uint8Array>>();

  constructor(readonly inner: Bucket, opts: CachingBucketOptions = {}) {
    this.name = inner.name;
    this.indexCache = new ByteLru(opts.indexCacheBytes ?? 256 << 20, (b) => b.length);
    this.chunksCache = new ByteLru(opts.chunksCacheBytes ?? 256 << 20, (b) => b.length);
  }

  private cacheFor(key: string): ByteLru<Uint8Array> | null {
    const c = key.endsWith("/index") ? this.indexCache : key.includes("/chunks/") ? this.chunksCache : null;
    return c && c.maxBytes > 0 ? c : null;
  }

  async get(key: string): Promise<Uint8Array> {
    this.stats.gets++;
    const b = await this.inner.get(key);
    this.stats.bytesFetched += b.length;
    return b;
  }

  getRange(key: string, off: number, len: number): Promise<Uint8Array> {
    const cache = this.cacheFor(key);
    const ck = `${key}@${off}+${len}`;
    if (cache) {
      const hit = cache.get(ck);
      if (hit) return Promise.resolve(hit);
    }
    let p = this.inflight.get(ck);
    if (p) return p;
    this.stats.rangeGets++;
    p = this.inner.getRange(key, off, len).then((b) => {
      this.stats.bytesFetched += b.length;
      cache?.set(ck, b);
      return b;
    });
    this.inflight.set(ck, p);
    const done = () => { this.inflight.delete(ck); };
    p.then(done, done);
    return p;
  }

  exists(key: string): Promise<boolean> {
    this.stats.existsCalls++;
    return this.inner.exists(key);
  }

  attributes(key: string): Promise<ObjectAttributes> {
    const immutable = this.cacheFor(key) !== null;
    if (immutable) {
      const hit = this.sizes.get(key);
      if (hit) return hit;
    }
    this.stats.heads++;
    const p = this.inner.attributes(key);
    if (immutable) {
      this.sizes.set(key, p);
      p.catch(() => this.sizes.delete(key));
    }
    return p;
  }

  iter(prefix: string, opts?: IterOptions): AsyncIterable<string> {
    this.stats.lists++;
    return this.inner.iter(prefix, opts);
  }

  upload(key: string, data: UploadData): Promise<void> { return this.inner.upload(key, data); }
  delete(key: string): Promise<void> { return this.inner.delete(key); }

  /** Drop cached ranges and sizes of one block (when it is unloaded). */
  forgetBlock(ulid: string): void {
    for (const k of [...this.sizes.keys()]) if (k.startsWith(ulid + "/")) this.sizes.delete(k);
  }
}
