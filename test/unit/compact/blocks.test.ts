// Compacting blocks: samples in = samples out, series merged across blocks, the streaming index
// byte-identical to the in-memory one, tombstones applied, Prometheus' meta rules, health stats.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compactBlocks, compactBlockMetas } from "../../../shared/compact/blocks.ts";
import { chunkSamples, type MChunk } from "../../../shared/compact/merge.ts";
import { indexHealthStats, anyHealthError, indexStatsOf } from "../../../shared/block/health.ts";
import { labelsFrom, labelsString, type Labels } from "../../../shared/labels/labels.ts";
import { memoryBlockFiles, openBlock, type Block } from "../../../shared/tsdb/block.ts";
import { encodeTombstones } from "../../../shared/tsdb/tombstones.ts";
import { BlockWriter, MemorySink, type BlockSink } from "../../../shared/tsdb/writer.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";
import type { BlockMeta } from "../../../shared/tsdb/meta.ts";
import { chunksOf, makeSeries, type TestSeries } from "../tsdb/helpers.ts";
import { blockSeries } from "../../../shared/tsdb/querier.ts";

async function open(sink: MemorySink, extra: Record<string, Uint8Array> = {}): Promise<Block> {
  const files = new Map<string, Uint8Array>();
  for (const k of sink.files.keys()) files.set(k, sink.file(k)!);
  for (const [k, v] of Object.entries(extra)) files.set(k, v);
  return openBlock(memoryBlockFiles((f) => files.get(f), "mem"));
}

async function block(series: TestSeries[], mint: number, maxt: number, o: { ulid?: string; tomb?: Uint8Array } = {}): Promise<Block> {
  const sink = new MemorySink();
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) { syms.add(l.name); syms.add(l.value); }
  const ulid = o.ulid ?? newUlid();
  const w = new BlockWriter(sink, { ulid, minTime: mint, maxTime: maxt, compaction: { level: 1, sources: [ulid] } });
  await w.start(syms);
  for (const s of series) {
    const keep = s.ts.map((t, i) => [t, s.vs[i]!] as const).filter(([t]) => t >= mint && t < maxt);
    if (keep.length) await w.addSeries(s.labels, chunksOf(keep.map((x) => x[0]), keep.map((x) => x[1])));
  }
  await w.finish();
  return open(sink, o.tomb ? { tombstones: o.tomb } : {});
}

/** Every series' samples as "labels -> t:v,..." for comparisons. */
async function dump(b: Block): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const batch of blockSeries(b, -Infinity, Infinity, [])) {
    for (const s of batch) {
      const chunks: MChunk[] = s.chunks.map((c) => ({ minTime: c.minTime, maxTime: c.maxTime, encoding: c.encoding, data: c.data }));
      const { ts, hi, lo } = chunkSamples(chunks);
      out.set(labelsString(s.labels as Labels), ts.map((t, i) => `${t}:${hi[i]!.toString(16)}.${lo[i]!.toString(16)}`).join(","));
    }
  }
  return out;
}

const H = 3600e3;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % (2 * H));

test("three 2h blocks into one: every sample kept, level/sources/parents per Prometheus, index valid", async () => {
  const series = makeSeries(300, 3 * 480, T0); // 15 s samples over 6h
  const blocks = [await block(series, T0, T0 + 2 * H), await block(series, T0 + 2 * H, T0 + 4 * H), await block(series, T0 + 4 * H, T0 + 6 * H)];
  const sink = new MemorySink();
  const ulid = newUlid();
  const r = await compactBlocks(blocks, sink, { ulid, mode: "compact", postingsBatch: 200 });
  const m = r.meta!;
  assert.is(m.minTime, T0);
  assert.is(m.maxTime, T0 + 6 * H);
  assert.equal(m.compaction.level, 2);
  assert.equal(m.compaction.sources, blocks.map((b) => b.ulid).sort());
  assert.equal(m.compaction.parents, blocks.map((b) => ({ ulid: b.ulid, minTime: b.meta.minTime, maxTime: b.meta.maxTime })));
  assert.is(m.stats.numSeries, 300);
  assert.is(m.stats.numSamples, 300 * 3 * 480);
  assert.is(r.mergedSeries, 300);
  const out = await open(sink);
  await out.index.verify();
  const h = await indexHealthStats(out.index, m.minTime, m.maxTime);
  assert.is(anyHealthError(h), null);
  assert.ok(indexStatsOf(h).series_max_size! > 0);
  // Same samples as the blocks hold together.
  const want = new Map<string, string>();
  for (const b of blocks) for (const [k, v] of await dump(b)) want.set(k, want.has(k) ? `${want.get(k)},${v}` : v);
  assert.equal(await dump(out), want);
  // Non-overlapping chunks pass through untouched.
  const inChunks = new Set<string>();
  for (const b of blocks) for await (const batch of blockSeries(b, -Infinity, Infinity, [])) for (const s of batch) for (const c of s.chunks) inChunks.add(Buffer.from(c.data).toString("hex"));
  for await (const batch of blockSeries(out, -Infinity, Infinity, [])) for (const s of batch) for (const c of s.chunks) assert.ok(inChunks.has(Buffer.from(c.data).toString("hex")));
});

test("the streaming index (postings rebuilt from the written series, in small batches) equals the in-memory one byte for byte", async () => {
  const series = makeSeries(500, 40, T0);
  const inputs = [await block(series.slice(0, 300), T0, T0 + 2 * H), await block(series.slice(200), T0, T0 + 2 * H)];
  const ulid = newUlid();
  const streaming = new MemorySink();
  await compactBlocks(inputs, streaming, { ulid, mode: "compact", postingsBatch: 50, batchSeries: 7 });
  // A sink without readback: the writer keeps postings in memory.
  const mem = new MemorySink();
  const plain: BlockSink = { append: (f, d) => mem.append(f, d), commit: (m) => mem.commit(m), abort: () => mem.abort() };
  await compactBlocks(inputs, plain, { ulid, mode: "compact" });
  assert.ok(streaming.file("index")!.length > 10000);
  assert.equal(streaming.file("index"), mem.file("index"));
  // The fallback sort (keys too wide for 53 bits) writes the same bytes, and so does 3.x's layout.
  for (const labelIndices of [true, false]) {
    const a = new MemorySink(), b = new MemorySink();
    const mk = async (sink: BlockSink, o: { unpackedKeys?: boolean; readback: boolean }) => {
      const s2: BlockSink = o.readback ? sink : { append: (f, d) => sink.append(f, d), commit: (m) => sink.commit(m), abort: () => sink.abort() };
      const w = new BlockWriter(s2, { ulid, postingsBatch: 70, unpackedKeys: o.unpackedKeys, labelIndices });
      const syms = new Set<string>();
      for (const s of makeSeries(300, 4, T0)) for (const l of s.labels) { syms.add(l.name); syms.add(l.value); }
      await w.start(syms);
      for (const s of makeSeries(300, 4, T0)) await w.addSeries(s.labels, chunksOf(s.ts, s.vs));
      await w.finish();
    };
    await mk(a, { unpackedKeys: true, readback: true });
    await mk(b, { readback: false });
    assert.equal(a.file("index"), b.file("index"), `labelIndices ${labelIndices}`);
  }
  assert.is(streaming.files.has("index.postings.tmp"), false, "the scratch file is gone");
});

test("overlapping replicas are merged (vertical compaction); penalty keeps one replica's samples", async () => {
  const mk = (offset: number): TestSeries[] => {
    const ts: number[] = [], vs: number[] = [];
    for (let t = T0 + offset; t < T0 + 2 * H; t += 15000) { ts.push(t); vs.push(t / 1000); }
    return [{ labels: labelsFrom({ __name__: "up", job: "x" }), ts, vs }];
  };
  const a = await block(mk(0), T0, T0 + 2 * H), b = await block(mk(7000), T0, T0 + 2 * H);
  const chain = await compactBlocks([a, b], new MemorySink(), { ulid: newUlid(), mode: "compact" });
  assert.is(chain.meta!.stats.numSamples, 2 * 480, "compact: samples of both replicas interleaved");
  const pen = await compactBlocks([a, b], new MemorySink(), { ulid: newUlid(), mode: "penalty" });
  // Penalty keeps one replica's samples, plus a few where a re-encoded chunk meets the next input chunk
  // and the dedup starts afresh (as Thanos does: test/integration/compact-merge-go.test.ts is exact).
  const n = pen.meta!.stats.numSamples;
  assert.ok(n >= 480 && n < 500, `penalty: ${n} samples, about one replica's`);
  const same = await compactBlocks([a, await block(mk(0), T0, T0 + 2 * H)], new MemorySink(), { ulid: newUlid(), mode: "compact" });
  assert.is(same.meta!.stats.numSamples, 480, "identical replicas: exact duplicates dropped");
});

test("tombstones are applied; an empty result writes no block", async () => {
  const series = makeSeries(10, 100, T0);
  const refs: number[] = [];
  const b0 = await block(series, T0, T0 + 2 * H);
  for await (const batch of blockSeries(b0, -Infinity, Infinity, [])) for (const s of batch) refs.push((s as unknown as { ref: number }).ref);
  const tomb = new Map<number, { minTime: number; maxTime: number }[]>();
  const { expandPostings } = await import("../../../shared/tsdb/postings.ts");
  const all = expandPostings(await b0.index.allPostings());
  tomb.set(all[0]!, [{ minTime: -1e15, maxTime: 1e15 }]); // the whole series
  tomb.set(all[1]!, [{ minTime: T0, maxTime: T0 + 15000 * 49 }]); // its first 50 samples
  const b = await block(series, T0, T0 + 2 * H, { ulid: b0.ulid, tomb: encodeTombstones(tomb) });
  const r = await compactBlocks([b], new MemorySink(), { ulid: newUlid(), mode: "compact" });
  assert.is(r.meta!.stats.numSeries, 9);
  assert.is(r.meta!.stats.numSamples, 10 * 100 - 100 - 50);
  const allGone = new Map(all.map((ref) => [ref, [{ minTime: -1e15, maxTime: 1e15 }]]));
  const empty = await block(series, T0, T0 + 2 * H, { tomb: encodeTombstones(allGone) });
  const sink = new MemorySink();
  const r2 = await compactBlocks([empty], sink, { ulid: newUlid(), mode: "compact" });
  assert.is(r2.meta, null);
  assert.ok(sink.aborted && sink.committed === null);
});

test("compactBlockMetas: Prometheus' rules (max level + 1, sorted union of sources, parents in input order)", () => {
  const m = (u: string, min: number, max: number, level: number, sources: string[]): BlockMeta => ({ ulid: u, minTime: min, maxTime: max, version: 1, stats: { numSamples: 0, numSeries: 0, numChunks: 0 }, compaction: { level, sources } });
  const r = compactBlockMetas("X", [m("B", 10, 20, 2, ["S3", "S1"]), m("A", 0, 10, 1, ["S2"]), m("C", 5, 30, 3, ["S1"])]);
  assert.equal(r, { minTime: 0, maxTime: 30, compaction: { level: 4, sources: ["S1", "S2", "S3"], parents: [{ ulid: "B", minTime: 10, maxTime: 20 }, { ulid: "A", minTime: 0, maxTime: 10 }, { ulid: "C", minTime: 5, maxTime: 30 }] } });
});

test.run();
