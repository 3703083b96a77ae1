// CachingBucket's range cache: a read inside a cached range is served from it (no GET, same bytes), a
// wider read replaces the ranges it contains, evicted ranges stop serving, byte limits hold, and an
// unloaded block's ranges go. Expected bytes come from the object itself.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { CachingBucket } from "../../../shared/bucketstore/cache.ts";

const BLOCK = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
const IDX = `${BLOCK}/index`, SEG = `${BLOCK}/chunks/000001`;
const obj = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 131 + (i >> 8)) & 0xff);

async function setup(opts: { indexCacheBytes?: number; chunksCacheBytes?: number } = {}) {
  const inner = new MemoryBucket();
  await inner.upload(IDX, obj);
  await inner.upload(SEG, obj);
  return new CachingBucket(inner, opts);
}

test("a read inside a cached range is a view of it: no GET, the object's bytes", async () => {
  const c = await setup();
  assert.equal(await c.getRange(SEG, 1000, 5000), obj.slice(1000, 6000));
  assert.is(c.stats.rangeGets, 1);
  for (const [off, len] of [[1000, 5000], [1000, 1], [2500, 100], [5999, 1], [3000, 3000]] as const) {
    assert.equal(await c.getRange(SEG, off, len), obj.slice(off, off + len), `${off}+${len}`);
  }
  assert.is(c.stats.rangeGets, 1);
  // Past its end or before its start: a GET.
  assert.equal(await c.getRange(SEG, 5999, 2), obj.slice(5999, 6001));
  assert.equal(await c.getRange(SEG, 999, 10), obj.slice(999, 1009));
  assert.is(c.stats.rangeGets, 3);
  assert.is(c.stats.bytesFetched, 5000 + 2 + 10);
});

test("a wider read replaces the cached ranges it contains; the cache holds each byte about once", async () => {
  const c = await setup();
  for (let off = 0; off < 50_000; off += 5000) await c.getRange(IDX, off + 100, 1000);
  const before = c.indexCache.bytes;
  await c.getRange(IDX, 0, 60_000);
  assert.ok(c.indexCache.bytes < before + 60_000 + 1000, `${c.indexCache.bytes} bytes cached after the wide read`);
  assert.is(c.indexCache.size, 1);
  const gets = c.stats.rangeGets;
  for (let off = 0; off < 60_000; off += 7000) assert.equal(await c.getRange(IDX, off, 500), obj.slice(off, off + 500));
  assert.is(c.stats.rangeGets, gets);
});

test("evicted ranges stop serving reads; the byte limit holds", async () => {
  const c = await setup({ chunksCacheBytes: 40_000 });
  await c.getRange(SEG, 0, 9000);
  await c.getRange(SEG, 20_000, 9000);
  await c.getRange(SEG, 40_000, 9000);
  await c.getRange(SEG, 60_000, 9000);
  assert.is(c.chunksCache.evictions, 0);
  await c.getRange(SEG, 80_000, 9000); // evicts the first
  assert.is(c.chunksCache.evictions, 1);
  assert.ok(c.chunksCache.bytes <= 40_000);
  const gets = c.stats.rangeGets;
  assert.equal(await c.getRange(SEG, 61_000, 100), obj.slice(61_000, 61_100));
  assert.is(c.stats.rangeGets, gets);
  assert.equal(await c.getRange(SEG, 1000, 100), obj.slice(1000, 1100));
  assert.is(c.stats.rangeGets, gets + 1);
  // Too big for the cache (over a quarter of it): read, not kept.
  await c.getRange(SEG, 0, 20_000);
  assert.equal(await c.getRange(SEG, 100, 10), obj.slice(100, 110));
  assert.is(c.stats.rangeGets, gets + 3);
});

test("a read running past the object's end caches what it got; forgetBlock drops the block's ranges", async () => {
  const c = await setup();
  assert.equal(await c.getRange(SEG, 99_000, 5000), obj.slice(99_000));
  assert.equal(await c.getRange(SEG, 99_500, 500), obj.slice(99_500));
  assert.is(c.stats.rangeGets, 1);
  c.forgetBlock(BLOCK);
  assert.is(c.chunksCache.bytes, 0);
  assert.equal(await c.getRange(SEG, 99_500, 500), obj.slice(99_500));
  assert.is(c.stats.rangeGets, 2);
});

test("concurrent reads of one range share one GET", async () => {
  const c = await setup();
  const got = await Promise.all([c.getRange(SEG, 10, 90), c.getRange(SEG, 10, 90)]);
  assert.equal(got[0], obj.slice(10, 100));
  assert.equal(got[1], obj.slice(10, 100));
  assert.is(c.stats.rangeGets, 1);
});

test.run();
