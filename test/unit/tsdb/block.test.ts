import { test } from "uvu";
import * as assert from "uvu/assert";
import { compareLabels, labelsFrom, type Labels } from "../../../shared/labels/labels.ts";
import { newMatcher, type Matcher, type MatchType } from "../../../shared/labels/matcher.ts";
import { memoryBlockFiles, openBlock } from "../../../shared/tsdb/block.ts";
import { expandPostings } from "../../../shared/tsdb/postings.ts";
import { BlocksQuerier } from "../../../shared/tsdb/querier.ts";
import { CountingSource } from "../../../shared/tsdb/source.ts";
import { encodeTombstones, parseTombstones } from "../../../shared/tsdb/tombstones.ts";
import { isUlid, newUlid, ulidTime } from "../../../shared/tsdb/ulid.ts";
import { parseBlockMeta } from "../../../shared/tsdb/meta.ts";
import { MemorySink, writeBlock } from "../../../shared/tsdb/writer.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { Decbuf } from "../../../shared/encoding/bytes.ts";
import { Encoding } from "../../../shared/chunkenc/chunk.ts";
import { XorAppender } from "../../../shared/chunkenc/xor.ts";
import { chunksOf, makeSeries, memoryBlock, openFiles, type TestSeries } from "./helpers.ts";

const M = (t: MatchType, n: string, v: string): Matcher => newMatcher(t, n, v);
const key = (ls: Labels) => JSON.stringify(ls);

async function selectAll(q: BlocksQuerier, ms: Matcher[], start = -Infinity, end = Infinity) {
  const r = await q.select({ start, end }, ms);
  return r.series.map((s) => {
    const it = s.iterator();
    const ts: number[] = [], vs: number[] = [];
    while (it.next()) { ts.push(it.at()); vs.push(it.value()); }
    assert.is(it.err(), null);
    return { labels: s.labels, ts, vs };
  });
}

const SERIES = makeSeries(300, 250);

test("round trip: every series and sample comes back in label order", async () => {
  const { block } = await memoryBlock(SERIES);
  assert.is(block.meta.stats.numSeries, 300);
  assert.is(block.meta.stats.numSamples, 300 * 250);
  assert.is(block.meta.stats.numChunks, 300 * 3);
  assert.is(block.meta.minTime, SERIES[0]!.ts[0]);
  assert.is(block.meta.maxTime, SERIES[0]!.ts[249]! + 1);
  const got = await selectAll(new BlocksQuerier([block]), []);
  assert.is(got.length, 300);
  for (let i = 0; i < 300; i++) {
    assert.equal(got[i]!.labels, SERIES[i]!.labels);
    assert.equal(got[i]!.ts, SERIES[i]!.ts);
    assert.equal(got[i]!.vs, SERIES[i]!.vs);
  }
  assert.equal(block.index.labelNames(), ["__name__", "env", "instance", "job"]);
  assert.equal(block.index.labelValues("job"), ["a", "b", "c"]);
  assert.equal(block.index.labelValues("env"), ["dev", "prod"]);
});

test("label values: ASCII, UTF-8 and Latin-1-looking values among thousands of entries come back as written, in byte order", async () => {
  // Values across many sampled entries (every 32nd is held), multi-byte ones between ASCII ones, and
  // bytes 0x80-0xff that a one-byte-per-char reading would get wrong.
  const odd = ["é", "日本", "z\u00ff", "caf\u00e9s", "\u{1F600}", "a\u0080b", "", "~"];
  const vals = [...Array.from({ length: 3000 }, (_, i) => `host-${String(i).padStart(5, "0")}`), ...odd.filter((v) => v !== "")];
  const enc = new TextEncoder();
  const series: TestSeries[] = vals.map((v) => ({ labels: labelsFrom({ __name__: "m", v }), ts: [1000], vs: [1] }))
    .sort((a, b) => compareLabels(a.labels, b.labels));
  const { block } = await memoryBlock(series);
  const want = [...vals].sort((a, b) => Buffer.compare(enc.encode(a), enc.encode(b)));
  assert.equal(block.index.labelValues("v"), want);
  assert.equal(block.index.labelValues("__name__"), ["m"]);
  assert.equal(block.index.labelValues("absent"), []);
});

test("matchers select what a brute-force filter selects (incl. != / !~ and empty-matching matchers)", async () => {
  const { block } = await memoryBlock(SERIES);
  const q = new BlocksQuerier([block]);
  const cases: Matcher[][] = [
    [M("=", "job", "a")],
    [M("=", "job", "a"), M("=~", "instance", "i1.*")],
    [M("=~", "instance", "i1|i2|i30|nope")],
    [M("!=", "job", "a")],
    [M("!~", "job", "a|b")],
    [M("=", "env", "")],
    [M("!=", "env", "")],
    [M("=~", "env", "prod|")],
    [M("!~", "env", "prod")],
    [M("=~", "env", ".*"), M("=", "__name__", "up")],
    [M("=~", "env", ".+"), M("!=", "env", "dev")],
    [M("=", "nosuch", "")],
    [M("=", "nosuch", "x")],
    [M("=~", "instance", "i(1|2)[0-9]"), M("!~", "job", "c")],
    [M("=", "__name__", "metric"), M("=~", "job", "b|c"), M("!=", "env", "prod")],
  ];
  for (const ms of cases) {
    const want = SERIES.filter((s) => ms.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? "")));
    const got = await q.select({ start: -Infinity, end: Infinity }, ms);
    assert.equal(got.series.map((s) => key(s.labels)), want.map((s) => key(s.labels)), ms.map((m) => m.name + m.type + m.value).join(","));
  }
});

test("time trimming is inclusive at both ends; chunks outside the range are not read", async () => {
  const { block } = await memoryBlock(SERIES.slice(0, 10));
  const t0 = SERIES[0]!.ts[0]!;
  const got = await selectAll(new BlocksQuerier([block]), [M("=", "instance", SERIES[0]!.labels.find((l) => l.name === "instance")!.value)], t0 + 15_000, t0 + 45_000);
  assert.equal(got[0]!.ts, [t0 + 15_000, t0 + 30_000, t0 + 45_000]);
  const none = await selectAll(new BlocksQuerier([block]), [], t0 - 10_000, t0 - 1);
  assert.is(none.length, 0);
});

test("several blocks: series merged across blocks in label order, overlapping samples deduplicated", async () => {
  const a = makeSeries(20, 100);
  const b = makeSeries(30, 100, a[0]!.ts[0]! + 90 * 15_000); // overlaps the last 10 samples of a
  const { block: ba } = await memoryBlock(a);
  const { block: bb } = await memoryBlock(b);
  const got = await selectAll(new BlocksQuerier([bb, ba]), [M("=", "job", "a")]);
  const want = [...new Set([...a, ...b].filter((s) => s.labels.some((l) => l.name === "job" && l.value === "a")).map((s) => key(s.labels)))].sort();
  assert.equal(got.map((s) => key(s.labels)).sort(), want);
  for (let i = 1; i < got.length; i++) assert.ok(compareLabels(got[i - 1]!.labels, got[i]!.labels) < 0);
  const both = got.find((s) => a.some((x) => key(x.labels) === key(s.labels)) && b.some((x) => key(x.labels) === key(s.labels)))!;
  assert.is(both.ts.length, 190);
  for (let i = 1; i < both.ts.length; i++) assert.ok(both.ts[i]! > both.ts[i - 1]!);
});

test("tombstones: deleted intervals are not returned; a fully deleted chunk is not read", async () => {
  const { files } = await memoryBlock(SERIES.slice(0, 3));
  const block0 = await openFiles(files);
  const refs = expandPostings(await block0.index.allPostings());
  const t0 = SERIES[0]!.ts[0]!;
  files.set("tombstones", encodeTombstones(new Map([[refs[0]!, [{ minTime: t0 + 15_000, maxTime: t0 + 30_000 }]], [refs[1]!, [{ minTime: -1e15, maxTime: 1e15 }]]])));
  const block = await openFiles(files);
  const got = await selectAll(new BlocksQuerier([block]), []);
  assert.is(got.length, 2);
  assert.equal(got[0]!.ts.slice(0, 3), [t0, t0 + 45_000, t0 + 60_000]);
  assert.is(got[0]!.ts.length, 248);
  assert.equal(parseTombstones(files.get("tombstones")!, "t").get(refs[0]!), [{ minTime: t0 + 15_000, maxTime: t0 + 30_000 }]);
});

test("segments are cut at the segment size; refs address the right file", async () => {
  const { block, files } = await memoryBlock(SERIES.slice(0, 50), { segmentSize: 4096 });
  const segs = [...files.keys()].filter((k) => k.startsWith("chunks/")).sort();
  assert.ok(segs.length > 3, `want several segments, got ${segs}`);
  assert.is(segs[0], "chunks/000001");
  for (const k of segs) assert.ok(files.get(k)!.length <= 4096, `${k} is ${files.get(k)!.length} bytes`);
  const got = await selectAll(new BlocksQuerier([block]), []);
  assert.equal(got.map((s) => s.vs), SERIES.slice(0, 50).map((s) => s.vs));
});

test("open reads only the TOC, the symbols and the postings offset table; a select reads by range", async () => {
  const { files } = await memoryBlock(SERIES);
  const counting = { index: null as CountingSource | null };
  const base = memoryBlockFiles((f) => files.get(f), "mem");
  const block = await openBlock({ ...base, index: () => (counting.index ??= new CountingSource(base.index())) });
  const idx = counting.index!;
  assert.is(idx.reads, 3);
  const sizes = files.get("index")!.length;
  assert.ok(idx.bytes < sizes / 2, `open read ${idx.bytes} of ${sizes} index bytes`);
  idx.reads = 0;
  const r = await new BlocksQuerier([block]).select({ start: -Infinity, end: Infinity }, [M("=", "job", "a"), M("=~", "instance", "i1.*")]);
  assert.ok(r.series.length > 0);
  assert.ok(idx.reads <= 4, `select made ${idx.reads} index reads`);
});

test("label names and values, with and without matchers", async () => {
  const { block } = await memoryBlock(SERIES);
  const q = new BlocksQuerier([block]);
  assert.equal((await q.labelNames(-Infinity, Infinity, [])).names, ["__name__", "env", "instance", "job"]);
  assert.equal((await q.labelNames(-Infinity, Infinity, [M("=", "job", "b"), M("=", "env", "")])).names, ["__name__", "instance", "job"]);
  assert.equal((await q.labelValues("__name__", -Infinity, Infinity, [])).values, ["metric", "up"]);
  assert.equal((await q.labelValues("env", -Infinity, Infinity, [M("=", "__name__", "up")])).values, ["dev", "prod"]);
});

test("writer rejects out-of-order series naming both label sets, and overlapping chunks", async () => {
  const s1 = labelsFrom({ __name__: "b" }), s2 = labelsFrom({ __name__: "a" });
  const sink = new MemorySink();
  const ch = chunksOf([1, 2], [1, 2]);
  try {
    await writeBlock(sink, [{ labels: s1, chunks: ch }, { labels: s2, chunks: ch }]);
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "bad_data");
    assert.match((e as Error).message, /out of order: \{__name__="a"\} added after \{__name__="b"\}/);
  }
  assert.ok(sink.aborted);
  try {
    await writeBlock(new MemorySink(), [{ labels: s1, chunks: [...chunksOf([1, 5], [1, 1]), ...chunksOf([5, 6], [1, 1])] }]);
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "bad_data");
    assert.match((e as Error).message, /out of order or overlapping/);
  }
});

test("series entries and chunks larger than the read estimate are fetched whole", async () => {
  const series: TestSeries[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let k = 0; k < 20; k++) {
    const l: Record<string, string> = { __name__: "wide" };
    for (let j = 0; j < 40; j++) l[`label_${j}`] = `value-${k}-${j}-${"x".repeat(30)}`;
    const ts: number[] = [], vs: number[] = [];
    for (let j = 0; j < 10000; j++) { ts.push(1000 * j); vs.push(rnd() * 1e6); }
    series.push({ labels: labelsFrom(l), ts, vs });
  }
  series.sort((a, b) => compareLabels(a.labels, b.labels));
  const { block, files } = await memoryBlock(series);
  const ref = expandPostings(await block.index.allPostings())[0]!;
  const entryLen = new Decbuf(files.get("index")!.subarray(ref * 16), "t").uvarint();
  assert.ok(entryLen > 512, `series entry of ${entryLen} bytes`);
  const sizes = await block.chunks.chunks([8]);
  assert.ok(sizes[0]!.data.length > 512, `chunk of ${sizes[0]!.data.length} bytes`);
  const got = await selectAll(new BlocksQuerier([block]), []);
  assert.equal(got.map((s) => s.labels), series.map((s) => s.labels));
  assert.equal(got.map((s) => s.vs), series.map((s) => s.vs));
});

test("staleness markers survive the block round trip (raw bits, not a JS NaN)", async () => {
  const a = new XorAppender();
  a.append(1000, 1); a.appendStale(2000); a.append(3000, NaN); a.append(4000, 2);
  const sink = new MemorySink();
  const ulid = newUlid();
  await writeBlock(sink, [{ labels: labelsFrom({ __name__: "s" }), chunks: [{ minTime: 1000, maxTime: 4000, encoding: Encoding.XOR, data: a.bytes() }] }], { ulid });
  const block = await openBlock(memoryBlockFiles((f) => sink.file(f)));
  const r = await new BlocksQuerier([block]).select({ start: 0, end: 10_000 }, []);
  const it = r.series[0]!.iterator();
  const stale: boolean[] = [];
  while (it.next()) stale.push(it.isStale());
  assert.equal(stale, [false, true, false, false]);
});

test("an aborted select stops with the signal's reason", async () => {
  const { block } = await memoryBlock(SERIES);
  const ac = new AbortController();
  ac.abort(new Error("client went away"));
  try {
    await new BlocksQuerier([block]).select({ start: -Infinity, end: Infinity, signal: ac.signal }, []);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /client went away/);
  }
});

test("meta.json as Thanos writes it (receive block with files, segment_files, index_stats) parses and keeps unknown fields", () => {
  const text = `{
	"ulid": "01HWMAEN7VNZE2M5VEH0BB6GKC", "minTime": 1714435200000, "maxTime": 1714442400000,
	"stats": { "numSamples": 17280, "numSeries": 72, "numChunks": 144 },
	"compaction": { "level": 1, "sources": ["01HWMAEN7VNZE2M5VEH0BB6GKC"] },
	"version": 1,
	"thanos": { "labels": { "env": "poc", "tenant_id": "test1" }, "downsample": { "resolution": 0 }, "source": "receive",
		"segment_files": ["000001"],
		"files": [{ "rel_path": "chunks/000001", "size_bytes": 27221 }, { "rel_path": "index", "size_bytes": 9462 }, { "rel_path": "meta.json" }],
		"index_stats": {} }
}`;
  const m = parseBlockMeta(new TextEncoder().encode(text), "t");
  assert.is(m.thanos!.source, "receive");
  assert.equal(m.thanos!.labels, { env: "poc", tenant_id: "test1" });
  assert.is(m.thanos!.files![1]!.size_bytes, 9462);
  assert.equal(m.thanos!.index_stats, {});
  assert.is(m.stats.numSeries, 72);
  for (const bad of ['{"ulid":"nope","minTime":0,"maxTime":1,"version":1}', '{"ulid":"01HWMAEN7VNZE2M5VEH0BB6GKC","minTime":5,"maxTime":1,"version":1}', '{"ulid":"01HWMAEN7VNZE2M5VEH0BB6GKC","minTime":0,"maxTime":1,"version":2}']) {
    try { parseBlockMeta(new TextEncoder().encode(bad), "dir x"); assert.unreachable(bad); } catch (e) {
      assert.is(errorCode(e), "corrupt");
      assert.match((e as Error).message, /^dir x: meta.json: /);
    }
  }
});

test("ulid: 26 Crockford chars carrying the time, sortable by time", () => {
  const u = newUlid(1_700_000_000_000);
  assert.ok(isUlid(u), u);
  assert.is(ulidTime(u), 1_700_000_000_000);
  assert.ok(newUlid(1_700_000_000_001) > u);
  assert.not.ok(isUlid("01H0000000000000000000000I"));
  assert.not.ok(isUlid("short"));
});

test.run();
