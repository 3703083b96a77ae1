// Block discovery: listing vs bucket index, partial uploads, consistency delay, deletion marks, index
// staleness and corruption, updateBucketIndex as the shipper calls it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { BUCKET_INDEX_FILE, readBucketIndex, rebuildBucketIndex, updateBucketIndex } from "../../../shared/block/bucketindex.ts";
import { discoverBlocks, filterBlocks } from "../../../shared/block/fetcher.ts";
import { listBucketBlocks } from "../../../shared/block/listing.ts";
import { encodeBlockMeta, type BlockMeta } from "../../../shared/tsdb/meta.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";
import { ByteLru } from "../../../shared/bucketstore/cache.ts";

const enc = new TextEncoder();
const NOW = Date.UTC(2026, 0, 10);

function meta(ulid: string, minTime: number, maxTime: number, source = "sidecar"): BlockMeta {
  return {
    ulid, minTime, maxTime, version: 1, stats: { numSamples: 1, numSeries: 1, numChunks: 1 },
    compaction: { level: 1, sources: [ulid] },
    thanos: { labels: { cluster: "a" }, downsample: { resolution: 0 }, source, files: [{ rel_path: "index", size_bytes: 10 }] },
  };
}

async function put(b: MemoryBucket, m: BlockMeta): Promise<void> {
  await b.upload(`${m.ulid}/index`, new Uint8Array(10));
  await b.upload(`${m.ulid}/meta.json`, encodeBlockMeta(m));
}

const old = newUlid(NOW - 3 * 3600e3), mid = newUlid(NOW - 2 * 3600e3), young = newUlid(NOW - 60e3), partial = newUlid(NOW - 3600e3);

async function bucket(): Promise<MemoryBucket> {
  const b = new MemoryBucket("mem:disc");
  await put(b, meta(old, 0, 1000));
  await put(b, meta(mid, 1000, 2000));
  await put(b, meta(young, 2000, 3000));
  await b.upload(`${partial}/index`, new Uint8Array(10)); // no meta.json: upload in progress
  return b;
}

test("listing: blocks with meta.json, partial uploads named, marks read", async () => {
  const b = await bucket();
  await b.upload(`${mid}/deletion-mark.json`, enc.encode(JSON.stringify({ id: mid, deletion_time: NOW / 1000 - 7200, version: 1 })));
  const d = await listBucketBlocks(b);
  assert.equal(d.metas.map((m) => m.ulid).sort(), [old, mid, young].sort());
  assert.equal(d.metas[0]!.thanos!.files, [{ rel_path: "index", size_bytes: 10 }], "the listing keeps the file list (the compactor needs index sizes)");
  assert.is(d.marks.get(mid)!.deletion_time, NOW / 1000 - 7200);
  assert.equal(d.problems, []);
  assert.equal([...d.partial], [[partial, "no meta.json"]]);
  assert.equal(d.incomplete, []);
});

test("filters: consistency delay by ULID time, deletion marks after the delay, --min/max-time", async () => {
  const b = await bucket();
  await b.upload(`${mid}/deletion-mark.json`, enc.encode(JSON.stringify({ id: mid, deletion_time: NOW / 1000 - 7200, version: 1 })));
  const d = await listBucketBlocks(b);
  const ids = async (o: Partial<Parameters<typeof filterBlocks>[2]>) =>
    (await filterBlocks(b, d, { now: NOW, consistencyDelayMs: 0, ignoreDeletionMarksDelayMs: 24 * 3600e3, minTime: -Infinity, maxTime: Infinity, ...o })).map((m) => m.ulid).sort();
  assert.equal(await ids({}), [old, mid, young].sort());
  assert.equal(await ids({ consistencyDelayMs: 30 * 60e3 }), [old, mid].sort(), "the 1-minute-old block waits");
  assert.equal(await ids({ ignoreDeletionMarksDelayMs: 3600e3 }), [old, young].sort(), "marked 2h ago, delay 1h: dropped");
  assert.equal(await ids({ minTime: 1001, maxTime: 1998 }), [mid]);
  assert.equal(await ids({ minTime: 1000, maxTime: 1998 }), [old, mid].sort(), "inclusive bounds as Thanos compares: [0,1000) has maxTime 1000 >= minTime 1000");
  // Compactor output is complete when visible: no consistency delay.
  await put(b, meta(newUlid(NOW - 1000), 0, 3000, "compactor"));
  const d2 = await listBucketBlocks(b);
  assert.is((await filterBlocks(b, d2, { now: NOW, consistencyDelayMs: 3600e3, ignoreDeletionMarksDelayMs: 24 * 3600e3, minTime: -Infinity, maxTime: Infinity })).length, 3);
});

test("bucket index: rebuilt from a listing, used while fresh, listing when stale, missing or corrupt", async () => {
  const b = await bucket();
  const { index } = await rebuildBucketIndex(b, NOW);
  assert.is(index.blocks.length, 3);
  assert.equal((await readBucketIndex(b))!.blocks.map((m) => m.ulid), [old, mid, young].sort());
  const fresh = await discoverBlocks(b, { indexMaxStaleMs: 3600e3, now: NOW + 1000 });
  assert.is(fresh.source, "index");
  assert.is(fresh.metas.length, 3);
  const stale = await discoverBlocks(b, { indexMaxStaleMs: 3600e3, now: NOW + 2 * 3600e3 });
  assert.is(stale.source, "listing");
  assert.match(stale.fallback!, /bucket index is 7200s old/);
  assert.equal(stale.problems, []);
  await b.upload(BUCKET_INDEX_FILE, enc.encode("{"));
  const bad = await discoverBlocks(b, { indexMaxStaleMs: 3600e3, now: NOW });
  assert.is(bad.source, "listing");
  assert.match(bad.fallback!, /bucket index unreadable: .*not valid JSON/);
  assert.is(bad.metas.length, 3);
  await b.delete(BUCKET_INDEX_FILE);
  assert.is((await discoverBlocks(b, { indexMaxStaleMs: 3600e3, now: NOW })).fallback, "no bucket index");
});

test("a fresh index is still checked by a listing once the last listing is older than the max staleness", async () => {
  const b = await bucket();
  await updateBucketIndex(b, { now: NOW, verifyDelayMs: 0 });
  // A block a racing writer dropped from the index: in the bucket, not in the index.
  const dropped = meta(newUlid(NOW + 5), 3000, 4000);
  await put(b, dropped);
  // Another writer keeps the index fresh (an update that adds nothing of ours).
  await updateBucketIndex(b, { now: NOW + 3600e3, verifyDelayMs: 0 });
  const recent = await discoverBlocks(b, { indexMaxStaleMs: 3600e3, now: NOW + 3600e3, lastListedAt: NOW + 60e3 });
  assert.is(recent.source, "index");
  assert.not.ok(recent.metas.some((m) => m.ulid === dropped.ulid));
  const due = await discoverBlocks(b, { indexMaxStaleMs: 3600e3, now: NOW + 3601e3, lastListedAt: NOW });
  assert.is(due.source, "listing");
  assert.match(due.fallback!, /last listing 3601s ago/);
  assert.ok(due.metas.some((m) => m.ulid === dropped.ulid), "the dropped block is found again");
});

test("updateBucketIndex: two writers racing (both read the old index, then both write) both end up in it", async () => {
  const b = await bucket();
  await updateBucketIndex(b, { now: NOW, verifyDelayMs: 0 });
  // The first two reads of the index wait for each other: the classic lost update.
  let waiting: (() => void) | null = null;
  let reads = 0;
  const racy = Object.create(b) as MemoryBucket;
  racy.get = async (key: string) => {
    const v = await b.get(key);
    if (key === BUCKET_INDEX_FILE && ++reads <= 2) {
      if (waiting) { waiting(); waiting = null; } else await new Promise<void>((r) => { waiting = r; });
    }
    return v;
  };
  const a1 = meta(newUlid(NOW + 1), 3000, 4000), a2 = meta(newUlid(NOW + 2), 3000, 4000);
  await put(b, a1); await put(b, a2);
  await Promise.all([
    updateBucketIndex(racy, { add: [a1], now: NOW + 1, verifyDelayMs: 5 }),
    updateBucketIndex(racy, { add: [a2], now: NOW + 2, verifyDelayMs: 20 }),
  ]);
  const idx = (await readBucketIndex(b))!;
  assert.ok(idx.blocks.some((m) => m.ulid === a1.ulid) && idx.blocks.some((m) => m.ulid === a2.ulid), "both racing additions survive");
  assert.ok(reads > 2, "a writer noticed its change was overwritten and wrote again");
});

test("updateBucketIndex: a change that never survives is an error after the set attempts", async () => {
  const b = await bucket();
  await updateBucketIndex(b, { now: NOW, verifyDelayMs: 0 });
  const hostile = Object.create(b) as MemoryBucket;
  const pristine = await b.get(BUCKET_INDEX_FILE);
  // Another writer that always puts its own (older) version back right after ours.
  hostile.upload = async (key: string, data) => { await b.upload(key, data); if (key === BUCKET_INDEX_FILE) await b.upload(key, pristine); };
  const add = meta(newUlid(NOW + 3), 3000, 4000);
  try {
    await updateBucketIndex(hostile, { add: [add], now: NOW + 3, verifyDelayMs: 0, attempts: 3 });
    assert.unreachable("the lost change was reported as written");
  } catch (e) {
    assert.match((e as Error).message, /did not survive 3 writes/);
  }
});

test("updateBucketIndex: adds a block to an existing index; without one, rebuilds from a listing", async () => {
  const b = await bucket();
  const first = await updateBucketIndex(b, { now: NOW });
  assert.is(first.blocks.length, 3, "no index yet: rebuilt by listing");
  const added = meta(newUlid(NOW), 3000, 4000);
  // Not in the bucket: the index is updated without listing (one GET, one PUT).
  const next = await updateBucketIndex(b, { add: [added], now: NOW + 1 });
  assert.is(next.blocks.length, 4);
  assert.is(next.updated_at, NOW + 1);
  assert.is(next.blocks.find((m) => m.ulid === added.ulid)!.thanos!.files, undefined);
  const removed = await updateBucketIndex(b, { remove: [old], now: NOW + 2 });
  assert.equal(removed.blocks.map((m) => m.ulid), [mid, young, added.ulid].sort());
});

test("ByteLru: bounded by bytes, least recently used evicted first, oversized values not cached", () => {
  const c = new ByteLru<Uint8Array>(2000, (v) => v.length);
  c.set("a", new Uint8Array(400));
  c.set("b", new Uint8Array(400));
  c.get("a");
  c.set("c", new Uint8Array(400));
  c.set("d", new Uint8Array(400));
  c.set("e", new Uint8Array(400)); // over 2000 with per-entry overhead: "b" (least recent) goes
  assert.ok(c.bytes <= 2000);
  assert.is(c.evictions, 1);
  assert.ok(c.get("a"));
  assert.is(c.get("b"), undefined);
  c.set("huge", new Uint8Array(600));
  assert.is(c.get("huge"), undefined);
});

test.run();
