// Reading downsampled series the way Thanos' querier does (pkg/query/iter.go): the aggregate per
// function, the counter-resets iterator across AggrChunks and raw chunks, chunk chaining that skips
// overlaps, averages from count/sum, bounds. Expected values come from Thanos' own test data
// (TestDownsampleCounterBoundaryReset) or are derived by hand from its rules; the whole path against a
// real Thanos querier is test/integration/downsample-query-thanos.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AggrType, decodeAggrChunk } from "../../../shared/chunkenc/aggr.ts";
import { encodeXor } from "../../../shared/chunkenc/xor.ts";
import { downsampleSamples } from "../../../shared/compact/downsample.ts";
import { labelsFrom } from "../../../shared/labels/labels.ts";
import { Encoding, type StoreChunk } from "../../../shared/chunkenc/chunk.ts";
import { AverageIterator, StoreSeries } from "../../../shared/query/series.ts";
import type { SampleIterator } from "../../../shared/storage/types.ts";

type S = [number, number];
const L = labelsFrom({ __name__: "c_total" });

function drain(it: SampleIterator): S[] {
  const out: S[] = [];
  while (it.next()) out.push([it.at(), it.value()]);
  const e = it.err();
  if (e) throw e;
  return out;
}

/** Our downsampler's AggrChunks as a store sends them (only the aggregates asked for). */
function wireAggr(raw: S[], res: number, numChunks: number, aggrs = [0, 1, 2, 3, 4]): StoreChunk[] {
  const names = ["count", "sum", "min", "max", "counter"] as const;
  return downsampleSamples(raw.map((s) => s[0]), raw.map((s) => s[1]), res, numChunks).map((c) => {
    const subs = decodeAggrChunk(c.data);
    const w: StoreChunk = { minTime: c.minTime, maxTime: c.maxTime };
    for (const a of aggrs) w[names[a]!] = { encoding: subs[a]!.encoding, data: subs[a]!.data };
    return w;
  });
}

function wireRaw(ss: S[]): StoreChunk {
  return { minTime: ss[0]![0], maxTime: ss[ss.length - 1]![0], raw: { encoding: Encoding.XOR, data: encodeXor(ss.map((s) => s[0]), ss.map((s) => s[1])) } };
}

// Thanos TestDownsampleCounterBoundaryReset's raw series: resets on the chunk boundaries.
const RAW: S[] = [[10, 1], [20, 3], [30, 5], [50, 1], [60, 8], [70, 10], [120, 1], [130, 18], [140, 20], [160, 21], [170, 38], [180, 40]];

test("rate reads the counter aggregate through the counter-resets iterator, raw chunks included", () => {
  const chunks = [...wireAggr(RAW, 50, RAW.length + 1, [AggrType.Counter]), wireRaw([[200, 2], [210, 5], [220, 5]])];
  const s = new StoreSeries(L, chunks, 0, 1000, "rate", "test");
  // Thanos' expected iteration, then the raw chunk: 2 < 40 is a reset (+2), then +3, +0.
  assert.equal(drain(s.iterator()), [[10, 1], [30, 5], [50, 6], [70, 15], [120, 16], [140, 35], [160, 36], [180, 55], [200, 57], [210, 60], [220, 60]]);
  // resets() reads the same: the engine sees no reset at all (Thanos issue #3644).
  assert.equal(drain(new StoreSeries(L, chunks, 0, 1000, "resets", "test").iterator()).map((x) => x[1]), [1, 5, 6, 15, 16, 35, 36, 55, 57, 60, 60]);
  // Bounded to [mint, maxt] after the totals are built: the total still counts what came before.
  assert.equal(drain(new StoreSeries(L, chunks, 100, 205, "increase", "test").iterator()), [[120, 16], [140, 35], [160, 36], [180, 55], [200, 57]]);
  // The engine's fast paths must not bypass the iterator.
  assert.is(new StoreSeries(L, chunks, 0, 1000, "rate", "test").chunkList(), null);
});

test("a raw-only series reads counters Thanos' way only when downsampled data was allowed", () => {
  const chunks = [wireRaw([[10, 5], [20, 7], [30, 2]])];
  assert.equal(drain(new StoreSeries(L, chunks, 0, 100, "rate", "test").iterator()), [[10, 5], [20, 7], [30, 2]]);
  assert.equal(drain(new StoreSeries(L, chunks, 0, 100, "rate", "test", true).iterator()), [[10, 5], [20, 7], [30, 9]]);
  assert.ok(new StoreSeries(L, chunks, 0, 100, "rate", "test").chunkList());
});

test("single aggregates per function; a finer raw chunk fills in; overlaps skipped", () => {
  const down = wireAggr(RAW, 50, 1);
  // One AggrChunk: windows stamped 49, 99, 149, and 199 capped at the last sample, 180.
  const max = drain(new StoreSeries(L, [...down, wireRaw([[170, 99], [190, 7], [200, 8]])], 0, 1000, "max_over_time", "t").iterator());
  // The raw chunk's 170 lies before the last window's 180 and is skipped, as Thanos' chunk iterator does.
  assert.equal(max, [[49, 5], [99, 10], [149, 20], [180, 40], [190, 7], [200, 8]]);
  assert.equal(drain(new StoreSeries(L, down, 0, 1000, "min_over_time", "t").iterator()), [[49, 1], [99, 1], [149, 1], [180, 21]]);
  assert.equal(drain(new StoreSeries(L, down, 0, 1000, "count_over_time", "t").iterator()), [[49, 3], [99, 3], [149, 3], [180, 3]]);
  assert.equal(drain(new StoreSeries(L, down, 0, 1000, "sum_over_time", "t").iterator()), [[49, 9], [99, 19], [149, 39], [180, 99]]);
  // Anything else: sum/count per window.
  assert.equal(drain(new StoreSeries(L, down, 0, 1000, undefined, "t").iterator()), [[49, 3], [99, 19 / 3], [149, 13], [180, 33]]);
  assert.equal(drain(new StoreSeries(L, down, 0, 1000, "sum", "t").iterator()).length, 4);
});

test("a chunk without the aggregate a query needs, or with count and sum out of step, is an error", () => {
  const noMax = wireAggr(RAW, 50, 1, [AggrType.Count, AggrType.Sum]);
  const it = new StoreSeries(L, noMax, 0, 1000, "max_over_time", "store x").iterator();
  assert.not.ok(it.next());
  assert.match(String(it.err()), /c_total.*store x.*no valid chunk found/);
  const it2 = (ss: S[], f: string) => new StoreSeries(L, wireAggr(ss, 50, 1), 0, 1000, f, "t").iterator();
  const X: S[] = [[49, 1], [99, 2], [149, 3]];
  let avg = new AverageIterator(it2(X, "count_over_time"), it2(X.slice(0, 2), "sum_over_time"));
  assert.ok(avg.next() && avg.next());
  assert.not.ok(avg.next());
  assert.match(String(avg.err()), /sum and count iterator not aligned/);
  // The last window of a chunk is stamped at its last sample: 140 here, 149 in X.
  avg = new AverageIterator(it2(X, "count_over_time"), it2([[49, 1], [99, 2], [140, 3]], "sum_over_time"));
  assert.ok(avg.next() && avg.next());
  assert.not.ok(avg.next());
  assert.match(String(avg.err()), /timestamps not aligned/);
});

test.run();
