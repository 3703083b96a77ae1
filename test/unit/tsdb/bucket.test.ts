// A block written straight into a bucket through streamingSink, then opened over ranged reads.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { bucketSource } from "../../../shared/objstore/source.ts";
import { openBlock, type BlockFiles } from "../../../shared/tsdb/block.ts";
import { BlocksQuerier } from "../../../shared/tsdb/querier.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";
import { BlockWriter, streamingSink } from "../../../shared/tsdb/writer.ts";
import { chunksOf, makeSeries } from "./helpers.ts";

function bucketBlockFiles(bkt: MemoryBucket, ulid: string): BlockFiles {
  return {
    meta: () => bkt.get(`${ulid}/meta.json`),
    index: () => bucketSource(bkt, `${ulid}/index`),
    chunkSegment: (n) => bucketSource(bkt, `${ulid}/chunks/${String(n).padStart(6, "0")}`),
    tombstones: () => bkt.get(`${ulid}/tombstones`).catch(() => null),
  };
}

test("stream a block into a bucket (meta.json last), read it back by range", async () => {
  const bkt = new MemoryBucket();
  const ulid = newUlid();
  const order: string[] = [];
  let maxParts = 0;
  const sink = streamingSink(async (file, body) => {
    let parts = 0;
    const chunks: Uint8Array[] = [];
    for await (const p of body) { chunks.push(p); parts++; }
    maxParts = Math.max(maxParts, parts);
    await bkt.upload(`${ulid}/${file}`, (async function* () { yield* chunks; })());
    order.push(file);
  }, { maxQueued: 2 });
  const series = makeSeries(3000, 480);
  const w = new BlockWriter(sink, { ulid, segmentSize: 1.5 * 2 ** 20, thanos: { labels: { r: "1" }, downsample: { resolution: 0 }, source: "test" } });
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) { syms.add(l.name); syms.add(l.value); }
  await w.start(syms);
  for (const s of series) await w.addSeries(s.labels, chunksOf(s.ts, s.vs));
  const meta = await w.finish();
  assert.is(order[order.length - 1], "meta.json");
  assert.ok(order.includes("chunks/000002"), order.join(","));
  assert.ok(maxParts > 1, "files were streamed in several parts");
  const block = await openBlock(bucketBlockFiles(bkt, ulid));
  assert.equal(block.meta, meta);
  const r = await new BlocksQuerier([block]).select({ start: -Infinity, end: Infinity }, []);
  assert.is(r.series.length, 3000);
  let n = 0;
  for (const s of r.series) { const it = s.iterator(); while (it.next()) n++; }
  assert.is(n, 3000 * 480);
});

test("a failing upload fails the write and never uploads meta.json", async () => {
  const uploaded: string[] = [];
  const sink = streamingSink(async (file, body) => {
    for await (const _ of body) if (file === "index") throw new Error("bucket unavailable");
    uploaded.push(file);
  });
  const series = makeSeries(50, 10);
  const w = new BlockWriter(sink, { ulid: newUlid() });
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) { syms.add(l.name); syms.add(l.value); }
  try {
    await w.start(syms);
    for (const s of series) await w.addSeries(s.labels, chunksOf(s.ts, s.vs));
    await w.finish();
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /bucket unavailable/);
  }
  assert.not.ok(uploaded.includes("meta.json"));
});

test.run();
