// Byte-sized LRU caches and the bucket wrapper the store gateway reads through.
//
// Block objects are immutable once meta.json is visible (a rewrite is a new ULID), so a ranged read can
// be cached forever and an object's size needs one HEAD per process. Ranges are cached as spans of an
// object: a read inside any cached span is served from it, and a new span replaces the cached ones it
// contains. The block reader asks for the same ranges for the same query (postings of a value, a run of
// series, a run of chunks), which is what makes a warm query cost no GETs. Concurrent readers of one
// range share the in-flight request.

import type { Bucket, IterOptions, ObjectAttributes, UploadData } from "../objstore/bucket.ts";

/** LRU bounded by the summed size of its values (Map iteration order is insertion order). */
export class ByteLru<V> {
  private m = new Map<string, { v: V; size: number }>();
  bytes = 0;
  hits = 0;
  misses = 0;
  evictions = 0;

  /** `onEvict` hears of every entry that leaves for room (not of replaced or deleted ones). */
  constructor(readonly maxBytes: number, private readonly sizeOf: (v: V) => number, private readonly onEvict?: (k: string, v: V) => void) {}

  /** Removes an entry (no onEvict). */
  delete(k: string): void {
    const e = this.m.get(k);
    if (!e) return;
    this.m.delete(k);
    this.bytes -= e.size;
  }

  get(k: string): V | undefined {
    const e = this.m.get(k);
    if (!e) { this.misses++; return undefined; }
    this.hits++;
    this.m.delete(k);
    this.m.set(k, e);
    return e.v;
  }

  /** The bytes an entry takes: its value, its key and the entry overhead, roughly. */
  private entrySize(k: string, v: V): number { return this.sizeOf(v) + k.length * 2 + 64; }

  /** Whether set(k, v) keeps the entry: one larger than a quarter of the cache would only push everything else out. */
  admits(k: string, v: V): boolean { return this.entrySize(k, v) <= this.maxBytes / 4; }

  set(k: string, v: V): void {
    if (!this.admits(k, v)) return;
    const size = this.entrySize(k, v);
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
      this.onEvict?.(first.value, e.v);
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

/** A cached range of an object. */
interface Span { key: string; off: number; end: number; data: Uint8Array; lruKey: string }

/**
 * The cached ranges of one object, sorted by offset, none inside another: a read inside any of them is
 * served from it. Queries ask for different runs of the same entries (an instant query one block's
 * chunks, a range query the run around them), so caching by exact (offset, length) held the same bytes
 * many times over: the store's memory grew with the number of distinct queries up to the cache limit.
 */
class Spans {
  list: Span[] = [];

  /** The span holding [off, end), or undefined. */
  find(off: number, end: number): Span | undefined {
    const l = this.list;
    let lo = 0, hi = l.length - 1, at = -1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1;
      if (l[m]!.off <= off) { at = m; lo = m + 1; } else hi = m - 1;
    }
    // Spans are sorted by offset and none contains another, so their ends are sorted too: the last one
    // starting at or before `off` reaches furthest.
    const s = at >= 0 ? l[at] : undefined;
    return s && s.end >= end ? s : undefined;
  }

  /** Adds a span; returns the spans it contains (now redundant). */
  add(s: Span): Span[] {
    const l = this.list;
    let i = 0;
    while (i < l.length && l[i]!.off < s.off) i++;
    const gone: Span[] = [];
    let j = i;
    while (j < l.length && l[j]!.off >= s.off && l[j]!.end <= s.end) gone.push(l[j++]!);
    // One starting before and reaching past s would contain it: find() would have served the read.
    l.splice(i, j - i, s);
    return gone;
  }

  remove(s: Span): void {
    const i = this.list.indexOf(s);
    if (i >= 0) this.list.splice(i, 1);
  }
}

/**
 * Counts every request (stats) and caches ranged reads of block index and chunk objects and object
 * sizes. Whole-object GETs (meta.json, marks, the bucket index) are never cached: they can change.
 * A ranged read inside a cached range is served from it (a view, no copy); a new range replaces the
 * cached ones it contains.
 */
export class CachingBucket implements Bucket {
  readonly name: string;
  readonly stats = newBucketStats();
  readonly indexCache: ByteLru<Span>;
  readonly chunksCache: ByteLru<Span>;
  private readonly sizes = new Map<string, Promise<ObjectAttributes>>();
  private readonly inflight = new Map<string, Promise<Uint8Array>>();
  private readonly spans = new Map<string, Spans>();

  constructor(readonly inner: Bucket, opts: CachingBucketOptions = {}) {
    this.name = inner.name;
    const evicted = (_: string, s: Span) => this.dropSpan(s);
    this.indexCache = new ByteLru(opts.indexCacheBytes ?? 256 << 20, (s) => s.data.length, evicted);
    this.chunksCache = new ByteLru(opts.chunksCacheBytes ?? 256 << 20, (s) => s.data.length, evicted);
  }

  private cacheFor(key: string): ByteLru<Span> | null {
    const c = key.endsWith("/index") ? this.indexCache : key.includes("/chunks/") ? this.chunksCache : null;
    return c && c.maxBytes > 0 ? c : null;
  }

  private dropSpan(s: Span): void {
    const ss = this.spans.get(s.key);
    if (!ss) return;
    ss.remove(s);
    if (ss.list.length === 0) this.spans.delete(s.key);
  }

  async get(key: string): Promise<Uint8Array> {
    this.stats.gets++;
    const b = await this.inner.get(key);
    this.stats.bytesFetched += b.length;
    return b;
  }

  getRange(key: string, off: number, len: number): Promise<Uint8Array> {
    const cache = this.cacheFor(key);
    if (cache && len >= 0) {
      const span = this.spans.get(key)?.find(off, off + len);
      if (span) {
        cache.get(span.lruKey); // recently used (and counted)
        return Promise.resolve(span.data.subarray(off - span.off, off - span.off + len));
      }
    }
    const ck = `${key}@${off}+${len}`;
    let p = this.inflight.get(ck);
    if (p) return p;
    this.stats.rangeGets++;
    p = this.inner.getRange(key, off, len).then((b) => {
      this.stats.bytesFetched += b.length;
      // A short answer (the object ends first) is cached for what it holds.
      if (cache && len >= 0 && b.length > 0) this.addSpan(cache, key, { key, off, end: off + b.length, data: b, lruKey: `${key}@${off}+${b.length}` });
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

  private addSpan(cache: ByteLru<Span>, key: string, s: Span): void {
    if (!cache.admits(s.lruKey, s)) return; // ByteLru would not keep it
    let ss = this.spans.get(key);
    if (!ss) this.spans.set(key, (ss = new Spans()));
    if (ss.find(s.off, s.end)) return; // a concurrent read cached a range holding it
    for (const g of ss.add(s)) cache.delete(g.lruKey);
    cache.set(s.lruKey, s);
  }

  /** Drop cached ranges and sizes of one block (when it is unloaded). */
  forgetBlock(ulid: string): void {
    for (const k of [...this.sizes.keys()]) if (k.startsWith(ulid + "/")) this.sizes.delete(k);
    for (const [k, ss] of [...this.spans]) {
      if (!k.startsWith(ulid + "/")) continue;
      for (const s of ss.list) { this.indexCache.delete(s.lruKey); this.chunksCache.delete(s.lruKey); }
      this.spans.delete(k);
    }
  }
}
