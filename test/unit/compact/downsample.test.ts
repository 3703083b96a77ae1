// The downsampler's semantics on small inputs, with expectations from Thanos' own tests
// (pkg/compact/downsample/downsample_test.go at v0.41.0) or derived by hand from its rules. The
// byte-for-byte proof against Thanos' code on large awkward blocks is test/integration/downsample-thanos.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AggrType, aggrIterator, CounterResetsIterator } from "../../../shared/chunkenc/aggr.ts";
import { Encoding } from "../../../shared/chunkenc/chunk.ts";
import { STALE_NAN, XorAppender, XorIterator } from "../../../shared/chunkenc/xor.ts";
import {
  currentWindow, DOWNSAMPLE_RANGE_1H, DOWNSAMPLE_RANGE_5M, downsampleAggrChunks, downsampleBlock, downsampleSamples,
  RES_1H, RES_5M, RES_RAW, targetChunkCount,
} from "../../../shared/compact/downsample.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { labelsFrom } from "../../../shared/labels/labels.ts";
import type { SampleIterator } from "../../../shared/storage/types.ts";
import { memoryBlockFiles, openBlock } from "../../../shared/tsdb/block.ts";
import { parseBlockMeta } from "../../../shared/tsdb/meta.ts";
import { MemorySink, writeBlock } from "../../../shared/tsdb/writer.ts";

type S = [number, number];

function drain(it: SampleIterator): S[] {
  const out: S[] = [];
  while (it.next()) out.push([it.at(), it.value()]);
  assert.is(it.err(), null);
  return out;
}

/** An iterator over literal samples (like Thanos' newSampleIterator); NaN entries may be stale markers. */
function lit(ss: S[]): SampleIterator {
  const a = new XorAppender();
  for (const [t, v] of ss) a.append(t, v);
  return new XorIterator(a.bytes());
}

test("constants and window arithmetic are Thanos'", () => {
  assert.equal([RES_RAW, RES_5M, RES_1H], [0, 300_000, 3_600_000]);
  assert.is(DOWNSAMPLE_RANGE_5M, 40 * 3600 * 1000);
  assert.is(DOWNSAMPLE_RANGE_1H, 10 * 24 * 3600 * 1000);
  assert.is(currentWindow(0, RES_5M), 299_999);
  assert.is(currentWindow(299_999, RES_5M), 299_999);
  assert.is(currentWindow(300_000, RES_5M), 599_999);
  // Go's % truncates toward zero: -1 lands in [0, 299999]'s window, one reason negative timestamps are dropped.
  assert.is(currentWindow(-1, RES_5M), 299_999);
  assert.is(currentWindow(-300_001, RES_5M), -1);
  // 2 days of 1-minute data at 5m: 577 expected samples, 5 chunks of <= 140 on average.
  assert.is(targetChunkCount(0, 2 * 86_400_000, 60_000, RES_5M, 2 * 1440), 5);
  // Sparse data (one sample an hour) lowers the expectation.
  assert.is(targetChunkCount(0, 2 * 86_400_000, 60_000, RES_5M, 48), 1);
});

// Thanos TestApplyCounterResetsIterator, "series with stale marker".
test("counter-resets iterator: resets within and between chunks, the duplicated last sample, stale markers", () => {
  const chunks: S[][] = [
    [[100, 10], [200, 20], [300, 10], [400, 20], [400, 5]],
    [[500, 10], [600, 20], [700, 30], [800, 40], [800, 10]],
    [[900, 5], [1000, 10], [1100, 15]],
    [[1200, 20], [1250, STALE_NAN], [1300, 40]],
    [[1400, 30], [1500, 30], [1600, 50]],
  ];
  const it = new CounterResetsIterator(chunks.map(lit));
  assert.equal(drain(it), [
    [100, 10], [200, 20], [300, 30], [400, 40], [500, 45], [600, 55], [700, 65], [800, 75], [900, 80], [1000, 85],
    [1100, 90], [1200, 95], [1300, 115], [1400, 145], [1500, 145], [1600, 165],
  ]);
  // Overlapping chunks (the same chunk twice) are skipped past lastT.
  assert.equal(drain(new CounterResetsIterator([lit(chunks[0]!), lit(chunks[0]!), lit(chunks[1]!)])), [
    [100, 10], [200, 20], [300, 30], [400, 40], [500, 45], [600, 55], [700, 65], [800, 75],
  ]);
});

// Thanos TestCounterSeriesIteratorSeek / SeekExtendTs / SeekAfterNext.
test("counter-resets iterator: seek walks sample by sample", () => {
  const c: S[] = [[100, 10], [200, 20], [300, 10], [400, 20], [400, 5]];
  let it = new CounterResetsIterator([lit(c)]);
  assert.ok(it.seek(150));
  const got: S[] = [[it.at(), it.value()]];
  while (it.next()) got.push([it.at(), it.value()]);
  assert.equal(got, [[200, 20], [300, 30], [400, 40]]);
  it = new CounterResetsIterator([lit(c)]);
  assert.not.ok(it.seek(500));
  it = new CounterResetsIterator([lit([[100, 10]])]);
  assert.ok(it.next());
  assert.ok(it.seek(50));
  assert.equal([it.at(), it.value()], [100, 10]);
  assert.not.ok(it.next());
});

// Thanos TestDownsampleCounterBoundaryReset (#1568: the first raw value of each chunk is kept).
test("counter resets on chunk boundaries survive raw -> aggregated -> aggregated again", () => {
  const raw: S[] = [[10, 1], [20, 3], [30, 5], [50, 1], [60, 8], [70, 10], [120, 1], [130, 18], [140, 20], [160, 21], [170, 38], [180, 40]];
  const cm = downsampleSamples(raw.map((s) => s[0]), raw.map((s) => s[1]), 50, raw.length + 1);
  assert.is(cm.length, 4);
  const counters = (cs: { data: Uint8Array }[]) => cs.flatMap((c) => drain(aggrIterator(c.data, AggrType.Counter)!));
  const iterate = (cs: { data: Uint8Array }[]) => drain(new CounterResetsIterator(cs.map((c) => aggrIterator(c.data, AggrType.Counter)!)));
  assert.equal(counters(cm), [[10, 1], [30, 5], [30, 5], [50, 1], [70, 10], [70, 10], [120, 1], [140, 20], [140, 20], [160, 21], [180, 40], [180, 40]]);
  assert.equal(iterate(cm), [[10, 1], [30, 5], [50, 6], [70, 15], [120, 16], [140, 35], [160, 36], [180, 55]]);
  const am = downsampleAggrChunks(cm.map((c) => c.data), 100, 2);
  assert.is(am.length, 2);
  assert.equal(counters(am), [[10, 1], [70, 15], [70, 10], [120, 1], [180, 40], [180, 40]]);
  assert.equal(iterate(am), [[10, 1], [70, 15], [120, 16], [180, 55]]);
});

/** A one-series block of raw XOR chunks (each inner list one chunk, appended as given). */
async function rawBlock(chunks: S[][], extra: Record<string, unknown> = {}) {
  const sink = new MemorySink();
  const data = chunks.map((c) => {
    const a = new XorAppender();
    for (const [t, v] of c) if (Object.is(v, STALE_NAN)) a.appendStale(t); else a.append(t, v);
    return { minTime: c[0]![0], maxTime: Math.max(...c.map((s) => s[0])), encoding: Encoding.XOR, data: a.bytes() };
  });
  await writeBlock(sink, [{ labels: labelsFrom({ __name__: "x" }), chunks: data }], {
    minTime: 0, maxTime: 10 * 86_400_000, thanos: { labels: { a: "1" }, downsample: { resolution: 0 }, source: "sidecar" }, ...extra,
  });
  return await openBlock(memoryBlockFiles((f) => sink.file(f)));
}

test("raw input cleanup: stale markers, NaNs, back in time within a chunk and negative timestamps dropped; duplicates kept", async () => {
  // Thanos TestExpandChunkIterator's input, plus a NaN and a negative timestamp in a chunk of its own.
  const b = await rawBlock([
    [[-500, 9], [-100, 9]],
    [[100, 1], [200, 2], [200, 3], [201, 4], [200, 5], [300, 6], [400, STALE_NAN], [450, NaN], [500, 5]],
  ]);
  const sink = new MemorySink();
  const meta = await downsampleBlock(b, RES_5M, sink);
  assert.ok(meta);
  const out = await openBlock(memoryBlockFiles((f) => sink.file(f)));
  const [s] = await out.index.series(await refsOf(out));
  const [c] = await out.chunks.chunks([s!.chunks[0]!.ref]);
  assert.is(c!.encoding, Encoding.Aggr);
  // Kept: 100:1 200:2 200:3 201:4 300:6 450:NaN(dropped later) 500:5; one window, stamped at the last sample.
  assert.equal(drain(aggrIterator(c!.data, AggrType.Count)!), [[500, 6]]);
  assert.equal(drain(aggrIterator(c!.data, AggrType.Sum)!), [[500, 21]]);
  assert.equal(drain(aggrIterator(c!.data, AggrType.Min)!), [[500, 1]]);
  assert.equal(drain(aggrIterator(c!.data, AggrType.Max)!), [[500, 6]]);
  // Counter: first raw sample, the window's running counter (6 -> 5 is a reset: +5), last raw value again.
  assert.equal(drain(aggrIterator(c!.data, AggrType.Counter)!), [[100, 1], [500, 11], [500, 5]]);
  assert.equal([s!.chunks[0]!.minTime, s!.chunks[0]!.maxTime], [500, 500]);
  assert.equal(meta!.stats, { numSamples: 1, numSeries: 1, numChunks: 1 });
});

async function refsOf(b: Awaited<ReturnType<typeof openBlock>>): Promise<number[]> {
  const p = await b.index.allPostings();
  const refs: number[] = [];
  while (p.next()) refs.push(p.at());
  return refs;
}

test("meta: new ULID, resolution set, source compactor, level/sources/range kept, stats recounted", async () => {
  const b = await rawBlock([[[1000, 1], [61_000, 2], [301_000, 3]]], {
    compaction: { level: 4, sources: ["01H00000000000000000000001", "01H00000000000000000000002"], parents: [{ ulid: "01H00000000000000000000003", minTime: 0, maxTime: 5 }] },
    extraStats: { numTombstones: 0, numFloatSamples: 3 },
  });
  const sink = new MemorySink();
  const meta = await downsampleBlock(b, RES_5M, sink, { ulid: "01HZZZZZZZZZZZZZZZZZZZZZZZ" });
  const m = parseBlockMeta(sink.file("meta.json")!, "out");
  assert.equal(m, meta);
  assert.is(m.ulid, "01HZZZZZZZZZZZZZZZZZZZZZZZ");
  assert.equal([m.minTime, m.maxTime], [0, 10 * 86_400_000]);
  assert.equal(m.compaction, b.meta.compaction);
  assert.is(m.thanos!.downsample.resolution, RES_5M);
  assert.is(m.thanos!.source, "compactor");
  assert.equal(m.thanos!.labels, { a: "1" });
  // Two windows; numFloatSamples is copied from the source, as Thanos copies the whole meta.
  assert.equal(m.stats, { numTombstones: 0, numFloatSamples: 3, numSamples: 2, numSeries: 1, numChunks: 1 });
  assert.is(sink.committed?.ulid, m.ulid);
});

test("refuses a resolution not coarser than the block's; histograms are refused by name; empty result is null", async () => {
  const b = await rawBlock([[[1000, 1]]]);
  try {
    await downsampleBlock(b, RES_RAW, new MemorySink());
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "bad_data");
    assert.match(String(e), /target resolution not lower/);
  }
  // Only stale markers and NaNs: nothing to write.
  const empty = await rawBlock([[[1000, STALE_NAN], [2000, NaN]]]);
  const sink = new MemorySink();
  assert.is(await downsampleBlock(empty, RES_5M, sink), null);
  assert.ok(sink.aborted);
  assert.is(sink.committed, null);
  // A histogram chunk: named, never half-written.
  const hs = new MemorySink();
  await writeBlock(hs, [{ labels: labelsFrom({ __name__: "h" }), chunks: [{ minTime: 1, maxTime: 2, encoding: Encoding.Histogram, data: new Uint8Array([0, 1, 0, 0]) }] }], {
    thanos: { labels: {}, downsample: { resolution: 0 }, source: "x" },
  });
  const hb = await openBlock(memoryBlockFiles((f) => hs.file(f)));
  const out = new MemorySink();
  try {
    await downsampleBlock(hb, RES_5M, out);
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /block \S+ to resolution 300000: series \{__name__="h"\}: native histogram/);
    assert.ok(out.aborted);
  }
});

test.run();
