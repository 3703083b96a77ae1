// BucketStore in process over a memory bucket with blocks written by our BlockWriter: two streams
// (external labels), overlapping blocks, a 5m-downsampled block, the edge entry over Connect via
// app.request, limits and the concurrency gate. Expected samples are the inputs written into the blocks.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { Encoding } from "../../../shared/chunkenc/chunk.ts";
import { XorAppender, XorIterator } from "../../../shared/chunkenc/xor.ts";
import { encodeAggrChunk } from "../../../shared/chunkenc/aggr.ts";
import { compareLabels, labelsFrom, labelsString, type Labels } from "../../../shared/labels/labels.ts";
import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { BlockWriter, MemorySink, type WriterChunk } from "../../../shared/tsdb/writer.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";
import { BucketStore } from "../../../shared/bucketstore/store.ts";
import { createEdgeStore, storeApp } from "../../../edge/store/index.ts";
import { Aggr, Store } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { LabelMatcher_Type } from "../../../shared/gen/thanos/storepb/types_pb.ts";
import { errorCode, errorMessage } from "../../../shared/encoding/errors.ts";
import { FaultyBucket } from "../../../shared/objstore/faulty.ts";
import { decodeHeader, MemoryHeaderCache } from "../../../shared/bucketstore/header.ts";

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 7_200_000);
const H2 = 7_200_000;

function xor(ts: number[], vs: number[]): WriterChunk {
  const a = new XorAppender();
  for (let i = 0; i < ts.length; i++) a.append(ts[i]!, vs[i]!);
  return { minTime: ts[0]!, maxTime: ts.at(-1)!, encoding: Encoding.XOR, data: a.bytes() };
}

async function putBlock(b: MemoryBucket, ext: Record<string, string>, series: { labels: Labels; chunks: WriterChunk[] }[], mint: number, maxt: number, resolution = 0): Promise<string> {
  const ulid = newUlid(mint + 1);
  const sink = new MemorySink();
  const w = new BlockWriter(sink, { ulid, minTime: mint, maxTime: maxt, thanos: { labels: ext, downsample: { resolution }, source: "test" } });
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) { syms.add(l.name); syms.add(l.value); }
  await w.start(syms);
  for (const s of [...series].sort((x, y) => compareLabels(x.labels, y.labels))) await w.addSeries(s.labels, s.chunks);
  await w.finish();
  for (const [f] of sink.files) await b.upload(`${ulid}/${f}`, sink.file(f)!);
  return ulid;
}

const up = (job: string, inst: string) => labelsFrom({ __name__: "up", job, instance: inst });
const range = (from: number, n: number, step: number) => Array.from({ length: n }, (_, i) => from + i * step);

// Stream cluster=a: raw blocks [T0, T0+2h) and [T0+2h, T0+4h), an overlapping raw block inside the
// second with samples in between, and a 5m-downsampled block over [T0-2h, T0+2h).
// Stream cluster=b: one raw block [T0, T0+2h).
const bkt = new MemoryBucket("mem:unit");
const ts1 = range(T0, 120, 60_000), ts2 = range(T0 + H2, 120, 60_000), tsO = range(T0 + H2 + 30_000, 60, 60_000);
const tsD = range(T0 - H2, 48, 300_000);
async function build(): Promise<void> {
  await putBlock(bkt, { cluster: "a" }, [
    { labels: up("x", "1"), chunks: [xor(ts1, ts1.map((_, i) => i))] },
    { labels: up("x", "2"), chunks: [xor(ts1, ts1.map((_, i) => 100 + i))] },
  ], T0, T0 + H2);
  await putBlock(bkt, { cluster: "a" }, [{ labels: up("x", "1"), chunks: [xor(ts2, ts2.map((_, i) => 1000 + i))] }], T0 + H2, T0 + 2 * H2);
  await putBlock(bkt, { cluster: "a" }, [{ labels: up("x", "1"), chunks: [xor(tsO, tsO.map((_, i) => -i))] }], T0 + H2, T0 + 2 * H2);
  const cnt = xor(tsD, tsD.map(() => 5)), sum = xor(tsD, tsD.map((_, i) => i * 5));
  await putBlock(bkt, { cluster: "a" }, [{ labels: up("x", "1"), chunks: [{ minTime: tsD[0]!, maxTime: tsD.at(-1)!, encoding: Encoding.Aggr, data: encodeAggrChunk([cnt.data, sum.data, cnt.data, cnt.data, null]) }] }], T0 - H2, T0 + H2, 300_000);
  await putBlock(bkt, { cluster: "b" }, [{ labels: up("y", "9"), chunks: [xor(ts1, ts1.map(() => 7))] }], T0, T0 + H2);
}

const ctx = () => ({ signal: new AbortController().signal });
const req = (ms: [string, string][], mint: number, maxt: number, extra: Record<string, unknown> = {}) => ({
  minTime: BigInt(mint), maxTime: BigInt(maxt), matchers: ms.map(([name, value]) => ({ type: LabelMatcher_Type.EQ, name, value })),
  maxResolutionWindow: 0n, aggregates: [], skipChunks: false, partialResponseDisabled: false, partialResponseStrategy: 0,
  withoutReplicaLabels: [], step: 0n, range: 0n, limit: 0n, responseBatchSize: 0n, ...extra,
}) as any;

interface S { labels: string; ts: number[]; vs: number[]; aggr: string[] }
async function collect(it: AsyncIterable<any>): Promise<{ series: S[]; warnings: string[] }> {
  const series: S[] = [], warnings: string[] = [];
  for await (const r of it) {
    if (r.result.case === "warning") { warnings.push(r.result.value); continue; }
    const v = r.result.value;
    const s: S = { labels: labelsString(v.labels), ts: [], vs: [], aggr: [] };
    for (const c of v.chunks) {
      if (!c.raw) { s.aggr.push(["count", "sum", "min", "max", "counter"].filter((k) => c[k]).join(",")); continue; }
      const it2 = new XorIterator(c.raw.data);
      while (it2.next()) { s.ts.push(it2.at()); s.vs.push(it2.value()); }
    }
    series.push(s);
  }
  return { series, warnings };
}

let store: BucketStore;
test.before(async () => {
  await build();
  store = new BucketStore({ bucket: bkt });
  const r = await store.sync();
  assert.is(r.loaded, 5);
});

test("series across streams: sorted, external labels attached, samples as written", async () => {
  const got = await collect(store.series(req([["__name__", "up"]], T0, T0 + H2 - 1), ctx()));
  assert.equal(got.series.map((s) => s.labels), [
    '{__name__="up", cluster="a", instance="1", job="x"}',
    '{__name__="up", cluster="a", instance="2", job="x"}',
    '{__name__="up", cluster="b", instance="9", job="y"}',
  ]);
  assert.equal(got.series[1]!.ts, ts1);
  assert.equal(got.series[1]!.vs, ts1.map((_, i) => 100 + i));
  assert.equal(got.warnings, []);
});

test("overlapping blocks of one stream: one series, samples of both in time order", async () => {
  const got = await collect(store.series(req([["instance", "1"]], T0 + H2, T0 + 2 * H2 - 1), ctx()));
  assert.is(got.series.length, 1);
  const want = [...ts2.map((t, i) => [t, 1000 + i]), ...tsO.map((t, i) => [t, -i])].sort((a, b) => a[0]! - b[0]!);
  assert.equal(got.series[0]!.ts, want.map((x) => x[0]));
  assert.equal(got.series[0]!.vs, want.map((x) => x[1]));
});

test("max_resolution_window: 0 = raw only; 5m = the downsampled block where it has data, raw after it", async () => {
  const raw = await collect(store.series(req([["instance", "1"]], T0 - H2, T0 + H2 - 1), ctx()));
  assert.equal(raw.series[0]!.aggr, []);
  assert.equal(raw.series[0]!.ts, ts1, "only the raw block");
  const ds = await collect(store.series(req([["instance", "1"]], T0 - H2, T0 + 2 * H2 - 1, { maxResolutionWindow: 300_000n }), ctx()));
  assert.equal(ds.series[0]!.aggr, ["count,sum,min,max"], "one AggrChunk with the aggregates stored");
  assert.ok(ds.series[0]!.ts.length > 0 && ds.series[0]!.ts[0]! >= T0 + H2, "raw fills the range after the downsampled block");
  const some = await collect(store.series(req([["instance", "1"]], T0 - H2, T0, { maxResolutionWindow: 3_600_000n, aggregates: [Aggr.COUNT, Aggr.SUM] }), ctx()));
  assert.equal(some.series[0]!.aggr, ["count,sum"], "only the requested aggregates");
});

test("Info: one label set and tsdb info per stream, time range of all blocks", async () => {
  const info = await store.info();
  assert.equal(info.labelSets!.map((s: any) => s.labels.map((l: any) => `${l.name}=${l.value}`).join()), ["cluster=a", "cluster=b"]);
  assert.is(info.store!.tsdbInfos!.length, 2);
  assert.is(info.store!.minTime, BigInt(T0 - H2));
  assert.is(info.store!.maxTime, BigInt(T0 + 2 * H2));
});

test("LabelNames / LabelValues: external labels included, matchers and time range applied", async () => {
  const names = await store.labelNames(req([], T0, T0 + H2 - 1), ctx());
  assert.equal(names.names, ["__name__", "cluster", "instance", "job"]);
  const vals = await store.labelValues({ ...req([], T0, T0 + H2 - 1), label: "cluster" }, ctx());
  assert.equal(vals.values, ["a", "b"]);
  const inst = await store.labelValues({ ...req([["job", "x"]], T0, T0 + H2 - 1), label: "instance" }, ctx());
  assert.equal(inst.values, ["1", "2"]);
  const none = await store.labelValues({ ...req([["cluster", "b"]], T0, T0 + H2 - 1), label: "instance" }, ctx());
  assert.equal(none.values, ["9"]);
});

test("LabelValues without matchers comes from a cache (block values decoded once, merged answers by block set): same answers as uncached, limit applied, callers cannot change it", async () => {
  const cached = new BucketStore({ bucket: bkt });
  const plain = new BucketStore({ bucket: bkt, labelValuesCacheBytes: 0 });
  await cached.sync();
  await plain.sync();
  let reads = 0;
  for (const lb of cached.loadedBlocks()) {
    const idx = lb.block.index;
    const f = idx.labelValues.bind(idx);
    idx.labelValues = (n: string) => { reads++; return f(n); };
  }
  const ask = (s: BucketStore, label: string, mint: number, maxt: number, extra: Record<string, unknown> = {}) =>
    s.labelValues({ ...req([], mint, maxt, extra), label }, ctx());
  const cases: [string, number, number][] = [
    ["instance", T0, T0 + H2 - 1], ["instance", T0 - H2, T0 + 2 * H2], ["__name__", T0 + H2, T0 + 2 * H2], ["job", T0, T0 + H2 - 1], ["cluster", T0 - H2, T0 + 2 * H2],
  ];
  for (const [label, mint, maxt] of cases) assert.equal((await ask(cached, label, mint, maxt)).values, (await ask(plain, label, mint, maxt)).values, `${label} ${mint}`);
  assert.equal((await ask(cached, "instance", T0 - H2, T0 + 2 * H2)).values, ["1", "2", "9"]);
  const first = reads;
  assert.ok(first > 0);
  for (const [label, mint, maxt] of cases) await ask(cached, label, mint, maxt);
  assert.is(reads, first, "asked again: no block's values decoded again");
  const got = await ask(cached, "instance", T0 - H2, T0 + 2 * H2);
  got.values!.push("changed by the caller");
  assert.equal((await ask(cached, "instance", T0 - H2, T0 + 2 * H2, { limit: 2n })).values, ["1", "2"]);
  assert.equal((await ask(cached, "instance", T0 - H2, T0 + 2 * H2)).values, ["1", "2", "9"]);
  // With a matcher the blocks' series are read, not the cache.
  assert.equal((await cached.labelValues({ ...req([["job", "y"]], T0, T0 + H2 - 1), label: "instance" }, ctx())).values, ["9"]);
});

test("edge entry: Connect over the hono app (app.request), lazy sync on the first call, hashes on chunks", async () => {
  const { app } = storeApp(bkt);
  // Binary (pre-encoded series) and JSON (objects: unknown fields would be lost in JSON) clients.
  for (const useBinaryFormat of [true, false]) {
    const t = createConnectTransport({ baseUrl: "http://store.test", useBinaryFormat, fetch: ((i: string, init?: RequestInit) => Promise.resolve(app.request(i, init))) as unknown as typeof fetch });
    const c = createClient(Store, t);
    let n = 0;
    for await (const r of c.series(req([["__name__", "up"], ["job", "y"]], T0, T0 + H2 - 1))) {
      if (r.result.case !== "series") continue;
      n++;
      assert.equal(r.result.value.labels.map((l) => l.value), ["up", "b", "9", "y"]);
      assert.is(typeof r.result.value.chunks[0]!.raw!.hash, "bigint");
      assert.is(r.result.value.chunks[0]!.raw!.data.length > 0, true);
    }
    assert.is(n, 1, `binary ${useBinaryFormat}`);
    // Batched: pre-encoded series go out as SeriesBatch messages of up to 2 series.
    const cases: string[] = [], labels: string[] = [];
    for await (const r of c.series(req([["__name__", "up"]], T0, T0 + H2 - 1, { responseBatchSize: 2n }))) {
      cases.push(r.result.case ?? "");
      if (r.result.case === "batch") for (const x of r.result.value.series) labels.push(labelsString(x.labels));
      if (r.result.case === "series") labels.push(labelsString(r.result.value.labels));
    }
    assert.equal(cases, ["batch", "batch"], `binary ${useBinaryFormat}`);
    assert.equal(labels, ['{__name__="up", cluster="a", instance="1", job="x"}', '{__name__="up", cluster="a", instance="2", job="x"}', '{__name__="up", cluster="b", instance="9", job="y"}']);
  }
  const e = createEdgeStore(bkt);
  const ln = await e.services.store!.labelNames(req([], T0, T0 + H2), ctx());
  assert.ok((ln.names ?? []).includes("cluster"));
});

test("edge: a failing re-sync keeps serving the blocks of the last good sync; a failing first sync fails the call", async () => {
  const faulty = new FaultyBucket(bkt, { failEvery: 0, ops: ["iter", "get"] });
  const e = createEdgeStore(faulty, { syncTtlMs: 0 });
  const first = await collect(e.services.store!.series(req([["job", "y"]], T0, T0 + H2 - 1), ctx()));
  assert.is(first.series.length, 1);
  faulty.opts.failEvery = 1;
  const again = await collect(e.services.store!.series(req([["job", "y"]], T0, T0 + H2 - 1), ctx()));
  assert.is(again.series.length, 1, "served from the blocks opened before");
  const cold = createEdgeStore(faulty, { syncTtlMs: 0 });
  try { await collect(cold.services.store!.series(req([["job", "y"]], T0, T0 + H2 - 1), ctx())); assert.unreachable(); } catch (err) {
    assert.is(errorCode(err), "unavailable");
  }
});

test("saved index headers: a second store opens every block without reading index headers; a damaged one is rebuilt", async () => {
  const hc = new MemoryHeaderCache();
  const a = new BucketStore({ bucket: bkt, headerCache: hc });
  await a.sync();
  assert.is(hc.m.size, 5);
  assert.is(a.stats.rangeGets, 15, "TOC, header+symbols, postings offset table for each of 5 blocks");
  const b = new BucketStore({ bucket: bkt, headerCache: hc });
  await b.sync();
  assert.is(b.loadedBlocks().length, 5);
  assert.is(b.stats.rangeGets, 0, "no index header reads");
  const want = await collect(a.series(req([["__name__", "up"]], T0 - H2, T0 + 2 * H2), ctx()));
  const got = await collect(b.series(req([["__name__", "up"]], T0 - H2, T0 + 2 * H2), ctx()));
  assert.equal(got, want);
  // Flip a byte: the CRC catches it, the block is opened from the index and the header saved again.
  const [ulid, bytes] = [...hc.m][0]!;
  const bad = bytes.slice();
  bad[30] ^= 0xff;
  hc.m.set(ulid, bad);
  const c = new BucketStore({ bucket: bkt, headerCache: hc });
  await c.sync();
  assert.is(c.loadedBlocks().length, 5);
  assert.is(c.stats.rangeGets, 3);
  assert.equal(hc.m.get(ulid), bytes);
  assert.throws(() => decodeHeader(bad, "h"), /crc mismatch/);
});

test("limits: chunk bytes and samples name the limit and its value", async () => {
  const s = new BucketStore({ bucket: bkt, maxChunkBytes: 100 });
  await s.sync();
  try { await collect(s.series(req([["__name__", "up"]], T0, T0 + H2 - 1), ctx())); assert.unreachable(); } catch (e) {
    assert.is(errorCode(e), "resource_exhausted");
    assert.match(errorMessage(e), /exceeded chunk bytes limit: limit 100 violated/);
  }
  const s2 = new BucketStore({ bucket: bkt, maxSamples: 200 });
  await s2.sync();
  try { await collect(s2.series(req([["__name__", "up"]], T0, T0 + H2 - 1), ctx())); assert.unreachable(); } catch (e) {
    assert.match(errorMessage(e), /exceeded samples limit: limit 200 violated/);
  }
});

test("concurrency: with one slot, concurrent calls wait their turn and all answer", async () => {
  const s = new BucketStore({ bucket: bkt, maxConcurrency: 1 });
  await s.sync();
  const all = await Promise.all([1, 2, 3].map(() => collect(s.series(req([["__name__", "up"]], T0, T0 + H2 - 1), ctx()))));
  for (const g of all) assert.is(g.series.length, 3);
});

test.run();
