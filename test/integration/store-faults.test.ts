// Store gateway faults and request counts, in process over promtool-made blocks in a memory bucket:
// corrupt bytes in each file type, a deleted chunk segment, a bucket failing every Nth call, and how
// many bucket requests a selective query costs with a warm index header. What the undamaged store
// answers is checked against Prometheus by store-gateway.test.ts; here it is the reference.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../lib/proc.ts";
import { promtoolBackfill } from "../lib/prometheus.ts";
import { type M, seriesRequest } from "../lib/storeapi-contract.ts";
import { MemoryBucket } from "../../shared/objstore/memory.ts";
import { FaultyBucket } from "../../shared/objstore/faulty.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { uploadBlockDir } from "../../agent/objstore/block.ts";
import { BucketStore } from "../../shared/bucketstore/store.ts";
import { diffStats, requestCount } from "../../shared/bucketstore/cache.ts";
import { IndexReader } from "../../shared/tsdb/index.ts";
import { memorySource } from "../../shared/tsdb/source.ts";
import { labelsString } from "../../shared/labels/labels.ts";
import { PartialResponseStrategy } from "../../shared/gen/thanos/storepb/types_pb.ts";
import { errorCode, errorMessage } from "../../shared/encoding/errors.ts";

const H = 3600;
const hEnd = Math.floor(Date.now() / 1000 / 7200) * 7200 - 3 * H;
const hStart = hEnd - 6 * H + 15;
let om = "# TYPE demo_counter counter\n";
for (let n = 0; n < 40; n++) {
  for (let t = hStart; t <= hEnd; t += 15) om += `demo_counter_total{instance="i${n}",job="j"} ${(t - hStart) * (n + 1)} ${t}\n`;
}
om += "# EOF\n";
const mint = hStart * 1000, maxt = hEnd * 1000;
const ALL: M[] = [["job", "=", "j"]];

let files: Map<string, Uint8Array>;
let ulids: string[] = [];

async function freshBucket(): Promise<MemoryBucket> {
  const b = new MemoryBucket("mem:faults");
  for (const [k, v] of files) await b.upload(k, v.slice());
  return b;
}

interface Got { series: string[]; samples: Map<string, number>; warnings: string[] }
async function run(store: BucketStore, ms: M[], strategy = PartialResponseStrategy.WARN, lo = mint, hi = maxt): Promise<Got> {
  const got: Got = { series: [], samples: new Map(), warnings: [] };
  for await (const r of store.series(seriesRequest(ms, lo, hi, { partialResponseStrategy: strategy }), { signal: new AbortController().signal })) {
    const res = (r as { result: { case: string; value: any } }).result;
    if (res.case === "warning") { got.warnings.push(res.value); continue; }
    const name = labelsString(res.value.labels);
    got.series.push(name);
    let n = 0;
    for (const c of res.value.chunks) n += (c.raw.data[0] << 8) | c.raw.data[1];
    got.samples.set(name, n);
  }
  return got;
}

async function storeOver(b: Bucket): Promise<BucketStore> {
  const s = new BucketStore({ bucket: b });
  await s.sync();
  return s;
}

async function fails(p: Promise<unknown>): Promise<unknown> {
  try { await p; } catch (e) { return e; }
  throw new Error("expected a failure");
}

const t = suite("store gateway faults");

t.before(async () => {
  const dir = tempDir("store-faults-").path;
  await promtoolBackfill(om, dir);
  const mem = new MemoryBucket("setup");
  for (const id of readdirSync(dir)) {
    if (!/^[0-9A-Z]{26}$/.test(id)) continue;
    const meta = JSON.parse(readFileSync(join(dir, id, "meta.json"), "utf8"));
    meta.thanos = { labels: { cluster: "c1" }, downsample: { resolution: 0 }, source: "test" };
    await uploadBlockDir(mem, join(dir, id), { meta: new TextEncoder().encode(JSON.stringify(meta)) });
    ulids.push(id);
  }
  ulids.sort();
  files = new Map();
  for await (const k of mem.iter("", { recursive: true })) files.set(k, await mem.get(k));
});

t("a selective query with a warm index header costs 3 ranged GETs (postings, series, chunks); repeated, none", async () => {
  const store = await storeOver(await freshBucket());
  // One block: the last 30 minutes of the data. A first query on another series opens the block's chunk
  // segment (a read of its 8-byte header, once per segment and process; its size is known from open).
  await run(store, [["instance", "=", "i30"]], PartialResponseStrategy.WARN, maxt - 1_800_000, maxt);
  const ms: M[] = [["__name__", "=", "demo_counter_total"], ["instance", "=", "i7"]];
  const before = { ...store.stats };
  const got = await run(store, ms, PartialResponseStrategy.WARN, maxt - 1_800_000, maxt);
  const cold = diffStats(store.stats, before);
  assert.equal(got.series, ['{__name__="demo_counter_total", cluster="c1", instance="i7", job="j"}']);
  // The instance="i7" postings list (one series) is read; the __name__ list (40 series) is not worth
  // its bytes, so __name__ is checked on the series' labels. Then one read of the series entry and one
  // of its chunks.
  assert.is(requestCount(cold), 3, `cold query requests: ${JSON.stringify(cold)}`);
  assert.is(cold.rangeGets, 3);
  assert.ok(cold.bytesFetched < 1024, `bytes fetched ${cold.bytesFetched}`);
  const before2 = { ...store.stats };
  await run(store, ms, PartialResponseStrategy.WARN, maxt - 1_800_000, maxt);
  assert.is(requestCount(diffStats(store.stats, before2)), 0, "the same query again is served from the range caches");
});

t("reference: every block serves its series", async () => {
  const store = await storeOver(await freshBucket());
  assert.is(store.loadedBlocks().length, ulids.length);
  assert.ok(ulids.length >= 3, `${ulids.length} blocks`);
  const got = await run(store, ALL);
  assert.is(got.series.length, 40);
  assert.equal(got.warnings, []);
});

t("corrupt chunk bytes: a warning naming the block, segment and offset (WARN); an error (ABORT); other blocks serve", async () => {
  const b = await freshBucket();
  const victim = ulids[1]!;
  const key = `${victim}/chunks/000001`;
  const seg = (await b.get(key)).slice();
  seg[8 + 3] ^= 0xff; // inside the first chunk's data: its CRC no longer matches
  await b.upload(key, seg);
  const store = await storeOver(b);
  const got = await run(store, ALL);
  assert.is(got.warnings.length, 1, got.warnings.join("\n"));
  assert.match(got.warnings[0]!, victim);
  assert.match(got.warnings[0]!, "chunks/000001");
  assert.match(got.warnings[0]!, /crc mismatch/);
  assert.match(got.warnings[0]!, /offset \d+/);
  // Another block's range still answers in full.
  const clean = await storeOver(await freshBucket());
  const other = ulids.find((u) => u !== victim)!;
  const om = store.loadedBlocks().find((x) => x.meta.ulid === other)!.meta;
  const a = await run(store, ALL, PartialResponseStrategy.WARN, om.minTime, om.maxTime - 1);
  const c = await run(clean, ALL, PartialResponseStrategy.WARN, om.minTime, om.maxTime - 1);
  assert.equal(a.series, c.series);
  assert.equal(a.warnings, []);
  const e = await fails(run(store, ALL, PartialResponseStrategy.ABORT));
  assert.is(errorCode(e), "corrupt");
  assert.match(errorMessage(e), victim);
});

t("corrupt series entry in the index: warning naming block, index and offset", async () => {
  const b = await freshBucket();
  const victim = ulids[0]!;
  const key = `${victim}/index`;
  const ix = (await b.get(key)).slice();
  const r = await IndexReader.open(memorySource("x", ix), "x");
  ix[Math.ceil(r.toc.series / 16) * 16 + 3] ^= 0x55; // inside the first series entry
  await b.upload(key, ix);
  const store = await storeOver(b);
  const got = await run(store, ALL);
  assert.ok(got.warnings.length >= 1);
  assert.match(got.warnings[0]!, victim);
  assert.match(got.warnings[0]!, /index/);
  assert.match(got.warnings[0]!, /offset \d+|0x[0-9a-f]+/);
  assert.ok(got.series.length > 0, "other blocks still give series");
});

t("corrupt index TOC: the block is not opened (named in the sync result); the others serve", async () => {
  const b = await freshBucket();
  const victim = ulids[2]!;
  const key = `${victim}/index`;
  const ix = (await b.get(key)).slice();
  ix[ix.length - 10] ^= 0xff;
  await b.upload(key, ix);
  const store = new BucketStore({ bucket: b });
  const res = await store.sync();
  assert.is(res.failed.filter((f) => f.includes(victim)).length, 1, res.failed.join("\n"));
  assert.match(res.failed.find((f) => f.includes(victim))!, /TOC.*crc mismatch/);
  assert.is(store.loadedBlocks().length, ulids.length - 1);
  assert.is((await run(store, ALL)).series.length, 40);
});

t("corrupt meta.json: block skipped at discovery, named", async () => {
  const b = await freshBucket();
  const victim = ulids[0]!;
  await b.upload(`${victim}/meta.json`, new TextEncoder().encode("{not json"));
  const store = new BucketStore({ bucket: b });
  const res = await store.sync();
  assert.ok(res.failed.some((f) => f.includes(victim) && /meta\.json/.test(f)), res.failed.join("\n"));
  assert.is(store.loadedBlocks().length, ulids.length - 1);
});

t("deleted chunk segment: warning naming the block and the missing file; ABORT fails", async () => {
  const b = await freshBucket();
  const victim = ulids[1]!;
  const store = await storeOver(b);
  await b.delete(`${victim}/chunks/000001`);
  const got = await run(store, ALL);
  assert.is(got.warnings.length, 1);
  assert.match(got.warnings[0]!, victim);
  assert.match(got.warnings[0]!, "chunks/000001");
  assert.is(got.series.length, 40, "series from the other blocks");
  const e = await fails(run(store, ALL, PartialResponseStrategy.ABORT));
  assert.is(errorCode(e), "not_found");
});

t("a bucket failing every 3rd call: retried once; what still fails is named, never silently short, and a retry completes", async () => {
  const clean = await storeOver(await freshBucket());
  const want = await run(clean, ALL);
  const faulty = new FaultyBucket(await freshBucket(), { failEvery: 3, ops: ["getRange", "get", "attributes"] });
  const store = new BucketStore({ bucket: faulty });
  // Concurrent requests can put a call and its retry both on a multiple of 3: such a block is named in
  // the sync result and opened at the next sync.
  let last: string[] = [];
  for (let i = 0; i < 30 && store.loadedBlocks().length < ulids.length; i++) last = (await store.sync()).failed;
  assert.is(store.loadedBlocks().length, ulids.length, `blocks loaded after 30 syncs; last problems: ${last.join("; ")}`);
  let complete = false;
  let lastWarnings: string[] = [];
  for (let i = 0; i < 30 && !complete; i++) {
    const got = await run(store, ALL);
    lastWarnings = got.warnings;
    for (const w of got.warnings) assert.ok(ulids.some((u) => w.includes(u)), `warning names a block: ${w}`);
    if (got.warnings.length === 0) {
      assert.equal(got.series, want.series);
      assert.equal([...got.samples], [...want.samples]);
      complete = true;
    } else {
      for (const [k, n] of got.samples) assert.ok(n <= want.samples.get(k)!, `${k}: no extra samples`);
    }
  }
  assert.ok(complete, `a repeated query completes (ranges fetched before are cached); last warnings: ${lastWarnings.join("; ")}`);
  assert.ok(faulty.failures > 0, "faults were injected");
});

t("a bucket failing every ranged GET after sync: one warning per block (WARN), unavailable (ABORT), nothing crashes", async () => {
  const faulty = new FaultyBucket(await freshBucket(), { failEvery: 0, ops: ["getRange"] });
  const store = await storeOver(faulty);
  faulty.opts.failEvery = 1;
  const got = await run(store, ALL);
  assert.is(got.series.length, 0);
  assert.is(got.warnings.length, ulids.length);
  for (const u of ulids) assert.ok(got.warnings.some((w) => w.includes(u)), `warning for ${u}`);
  const e = await fails(run(store, ALL, PartialResponseStrategy.ABORT));
  assert.is(errorCode(e), "unavailable");
});

t.run();
