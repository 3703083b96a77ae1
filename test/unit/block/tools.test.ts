// The pieces behind `tools bucket …`: Go's text forms (time.Duration, RFC 3339 in the local zone, English
// digit grouping, encoding/json escaping), tablewriter's and encoding/csv's rules, Prometheus'
// OverlappingBlocks (its own test's vectors), Thanos' duplicatedBlocks (TestDuplicatedBlocks), the issue
// registry, the chunk sanitising of block.Repair, and the ls template. The byte-for-byte comparison with
// Thanos itself is test/integration/tools-bucket-thanos.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { inspectTable, lsWideLine, parseFlagLabels, renderCsv, renderTable, untilNextDownsampling } from "../../../shared/block/inspect.ts";
import { lsTemplate } from "../../../shared/block/lstemplate.ts";
import { overlappingBlocks, overlapsString, type Span } from "../../../shared/block/overlaps.ts";
import { sanitizeChunks } from "../../../shared/compact/repair.ts";
import { duplicatedBlocks, selectIssues } from "../../../shared/compact/verify.ts";
import { displayWidth, goDuration, goGroupInt, goJson, goJsonTime, parseGoDuration, parseRFC3339 } from "../../../shared/encoding/gotext.ts";
import { thanosMetaGoValue, type BlockMeta } from "../../../shared/tsdb/meta.ts";

const U = (i: number) => `01H0000000000000000000${String(i).padStart(4, "0")}`;

function meta(id: string, minTime: number, maxTime: number, o: Partial<BlockMeta> & { labels?: Record<string, string>; resolution?: number } = {}): BlockMeta {
  return {
    ulid: id, minTime, maxTime, version: 1,
    stats: { numSamples: 1234567, numSeries: 42, numChunks: 1000 }, compaction: { level: 1, sources: [id] },
    thanos: { labels: o.labels ?? { cluster: "eu1" }, downsample: { resolution: o.resolution ?? 0 }, source: "sidecar" },
    ...o,
  };
}

test("Go durations: String() and ParseDuration", () => {
  assert.is(goDuration(0), "0s");
  assert.is(goDuration(2 * 3600e3), "2h0m0s");
  assert.is(goDuration(1500), "1.5s");
  assert.is(goDuration(250), "250ms");
  assert.is(goDuration(-8 * 3600e3), "-8h0m0s");
  assert.is(goDuration(90061001), "25h1m1.001s");
  assert.is(parseGoDuration("2h0m0s"), 7200e9);
  assert.is(parseGoDuration("-1.5h"), -5400e9);
  assert.is(parseGoDuration("0"), 0);
  assert.is(parseGoDuration("250ms"), 250e6);
  for (const bad of ["", "-", "12", "2d", "h", "1h-2m", "4,686"]) assert.is(parseGoDuration(bad), null, bad);
});

test("RFC 3339: time.Parse and Go's JSON for time.Time", () => {
  assert.is(parseRFC3339("2026-12-02T14:00:00Z"), Date.UTC(2026, 11, 2, 14) * 1e6);
  assert.is(parseRFC3339("2026-12-02T19:30:00+05:30"), Date.UTC(2026, 11, 2, 14) * 1e6);
  assert.is(parseRFC3339("2026-02-30T00:00:00Z"), null);
  assert.is(parseRFC3339("2026-12-02 14:00:00Z"), null);
  assert.is(goJsonTime("2026-12-07T15:03:41.280Z"), "2026-12-07T15:03:41.28Z");
  assert.is(goJsonTime("2026-12-07T15:03:41.000Z"), "2026-12-07T15:03:41Z");
  assert.is(goJsonTime("2026-12-07T15:03:41+00:00"), "2026-12-07T15:03:41Z");
  assert.is(goJsonTime("2026-12-07T15:03:41.5+02:00"), "2026-12-07T15:03:41.5+02:00");
});

test("English digit grouping, display width, Go's JSON escaping", () => {
  assert.is(goGroupInt(4686), "4,686");
  assert.is(goGroupInt(999), "999");
  assert.is(goGroupInt(-1234567), "-1,234,567");
  assert.is(goGroupInt(0), "0");
  assert.is(displayWidth("abc"), 3);
  assert.is(displayWidth("日本"), 4);
  assert.is(displayWidth("e\u0301"), 1);
  assert.is(goJson({ a: "<b>&\u2028" }), `{"a":"\\u003cb\\u003e\\u0026\\u2028"}`);
});

test("inspect: columns, UNTIL-DOWN, selector labels, sorting by Thanos' compare", () => {
  const a = meta(U(1), 0, 2 * 3600e3);
  const b = meta(U(2), 2 * 3600e3, 4 * 3600e3, { stats: { numSamples: 999, numSeries: 1, numChunks: 1 } });
  const c = meta(U(3), 0, 48 * 3600e3, { resolution: 300000, labels: { cluster: "us1", a: "x" } });
  const h = meta(U(4), 0, 14 * 24 * 3600e3, { resolution: 3600000 });
  assert.is(untilNextDownsampling(a), 38 * 3600e3);
  assert.is(untilNextDownsampling(c), 10 * 24 * 3600e3 - 48 * 3600e3);
  assert.is(untilNextDownsampling(h), null);
  const t = inspectTable([a, b, c, h], [], ["#SAMPLES"]);
  // "999" < "1,234,567" as integers (the commas removed), not as strings.
  assert.equal(t.lines.map((l) => l[0]), [U(2), U(1), U(3), U(4)]);
  assert.equal(t.lines[2], [U(3), "1970-01-01T00:00:00Z", "1970-01-03T00:00:00Z", "48h0m0s", "192h0m0s", "42", "1,234,567", "1,000", "1", "false", "a=x,cluster=us1", "5m0s", "sidecar"]);
  assert.is(t.lines[3]![4], "-");
  assert.equal(inspectTable([a, b, c], parseFlagLabels(['cluster="us1"']), ["FROM"]).lines.map((l) => l[0]), [U(3)]);
  assert.equal(inspectTable([a, b, c], [], ["UNTIL", "RANGE"]).lines.map((l) => l[0]), [U(1), U(2), U(3)]);
  assert.throws(() => parseFlagLabels(["cluster=us1"]), /invalid syntax/);
  assert.throws(() => parseFlagLabels(["cluster"]), /unrecognized label "cluster"/);
});

test("tablewriter v0.0.5 as printTable sets it up: centred header, left-aligned cells, multi-line cells", () => {
  const out = renderTable({ header: ["ULID", "#SERIES"], lines: [["a", "1,000"], ["bb\ncc", "2"]] });
  assert.is(out,
    "| ULID | #SERIES |\n" +
    "|------|---------|\n" +
    "| a    | 1,000   |\n" +
    "| bb   | 2       |\n" +
    "| cc   |         |\n");
  // An odd gap puts the extra space on the right (Pad: gap/2 left).
  assert.is(renderTable({ header: ["AB"], lines: [["abcde"]] }).split("\n")[0], "|  AB   |");
});

test("encoding/csv: quotes fields with the separator, quotes, line breaks or a leading space", () => {
  const t = { header: ["A", "B"], lines: [["1,2", "x"], ['say "hi"', " lead"], ["", "a\tb"]] };
  assert.is(renderCsv(t), 'A,B\n"1,2",x\n"say ""hi"""," lead"\n,a\tb\n');
  assert.is(renderCsv(t, "\t"), 'A\tB\n1,2\tx\n"say ""hi"""\t" lead"\n\t"a\tb"\n');
});

test("ls: the wide line, Go's JSON of metadata.Meta, a Go template", () => {
  const m = meta(U(7), 1500, 7201500);
  m.thanos!.upload_time = "2026-01-01T00:00:00.100Z";
  assert.is(lsWideLine(m), `${U(7)} -- 1970-01-01T00:00:01Z - 1970-01-01T02:00:01Z Diff: 2h0m0s, Compaction: 1, Downsample: 0, Source: sidecar`);
  assert.equal(Object.keys(thanosMetaGoValue(m)), ["ulid", "minTime", "maxTime", "stats", "compaction", "version", "thanos"]);
  assert.equal(thanosMetaGoValue(m).thanos, { labels: { cluster: "eu1" }, downsample: { resolution: 0 }, source: "sidecar", index_stats: {}, upload_time: "2026-01-01T00:00:00.1Z" });
  const { thanos: _t, ...bare } = m;
  assert.equal(thanosMetaGoValue(bare as BlockMeta).thanos, { labels: null, downsample: { resolution: 0 }, source: "", index_stats: {}, upload_time: "0001-01-01T00:00:00Z" });
  assert.is(lsTemplate("{{.ULID}} {{.BlockMeta.MinTime}} {{.Thanos.Labels}} {{.Compaction.Sources}} {{printf \"%05d\" .Compaction.Level}}").render(m),
    `${U(7)} 1500 map[cluster:eu1] [${U(7)}] 00001`);
  assert.throws(() => lsTemplate("{{.Nope}}").render(m), /execute template: .*can't evaluate field Nope/);
  assert.throws(() => lsTemplate("{{"), /invalid template/);
});

test("OverlappingBlocks: Prometheus' TestOverlappingBlocksDetectsAllOverlaps", () => {
  const s = (min: number, max: number, ulid = `${min}-${max}`): Span => ({ ulid, minTime: min, maxTime: max });
  const metas = Array.from({ length: 11 }, (_, i) => s(i * 10, (i + 1) * 10));
  const add = (...ms: Span[]) => [...metas, ...ms].sort((a, b) => a.minTime - b.minTime);
  const ranges = (o: ReturnType<typeof overlappingBlocks>) => o.map((g) => [g.min, g.max, g.blocks.map((b) => b.ulid)]);
  assert.equal(overlappingBlocks(metas), []);
  const o1 = s(15, 17, "o1"), o2 = s(21, 31, "o2"), o3a = s(33, 39, "o3a"), o3b = s(34, 36, "o3b"), o4 = s(50, 60, "o4"), o5 = s(61, 85, "o5"), o6a = s(92, 105, "o6a"), o6b = s(94, 99, "o6b");
  assert.equal(ranges(overlappingBlocks(add(o1))), [[15, 17, ["10-20", "o1"]]]);
  assert.equal(ranges(overlappingBlocks(add(o2))), [[21, 30, ["20-30", "o2"]], [30, 31, ["o2", "30-40"]]]);
  assert.equal(ranges(overlappingBlocks(add(o3a, o3b))), [[34, 36, ["30-40", "o3a", "o3b"]]]);
  assert.equal(ranges(overlappingBlocks(add(o4))), [[50, 60, ["50-60", "o4"]]]);
  assert.equal(ranges(overlappingBlocks(add(o5))), [[61, 70, ["60-70", "o5"]], [70, 80, ["o5", "70-80"]], [80, 85, ["o5", "80-90"]]]);
  assert.equal(ranges(overlappingBlocks(add(o6a, o6b))), [[94, 99, ["90-100", "o6a", "o6b"]], [100, 105, ["o6a", "100-110"]]]);
  const nc1 = [s(1, 5, "a"), s(2, 3, "b"), s(2, 3, "c"), s(2, 3, "d"), s(2, 3, "e"), s(2, 6, "f"), s(3, 5, "g"), s(5, 7, "h"), s(7, 10, "i"), s(8, 9, "j")];
  assert.equal(ranges(overlappingBlocks(nc1)), [[2, 3, ["a", "b", "c", "d", "e", "f"]], [3, 5, ["a", "f", "g"]], [5, 6, ["f", "h"]], [8, 9, ["i", "j"]]]);
  assert.is(overlapsString(overlappingBlocks([s(0, 7200000, "A"), s(3600000, 10800000, "B")])),
    "[mint: 3600000, maxt: 7200000, range: 1h0m0s, blocks: 2]: <ulid: A, mint: 0, maxt: 7200000, range: 2h0m0s>, <ulid: B, mint: 3600000, maxt: 10800000, range: 2h0m0s>");
});

test("duplicatedBlocks: Thanos' TestDuplicatedBlocks; the issue registry", () => {
  const b1 = meta(U(10), 10, 0, { compaction: { level: 2, sources: [U(0), U(1), U(2)] }, stats: { numChunks: 941384, numSamples: 112567234, numSeries: 60915, numTombstones: 0 } });
  const dup = { ...b1, ulid: U(11) }, b5 = { ...b1, ulid: U(15) };
  const b2 = { ...b1, ulid: U(12), minTime: 1 };
  const b3 = { ...b1, ulid: U(13), stats: { ...b1.stats, numTombstones: 1 } };
  const b4 = { ...b1, ulid: U(14), compaction: { ...b1.compaction, sources: b1.compaction.sources.slice(1) } };
  assert.equal(duplicatedBlocks([b1, dup, b2, b3, b4, b5]).map((s) => s.map((m) => m.ulid)), [[U(10), U(11), U(15)]]);
  assert.equal(selectIssues(["index_known_issues", "overlapped_blocks"], false), { verifiers: ["overlapped_blocks"], repairers: ["index_known_issues"] });
  assert.throws(() => selectIssues(["overlapped_blocks"], true), /no such issue ID overlapped_blocks/);
  assert.throws(() => selectIssues(["bogus"], false), /no such issue ID bogus/);
});

test("repair: chunks sorted, complete outsiders, exact duplicates and issue-347 chunks dropped; other overlaps refused", () => {
  const c = (minTime: number, maxTime: number, data = [1, 2, 3]) => ({ minTime, maxTime, encoding: 1, data: new Uint8Array(data) });
  const kept = sanitizeChunks([c(50, 60), c(0, 10), c(0, 10), c(100, 120), c(200, 210), c(-50, -10)], 0, 100);
  assert.equal(kept.map((k) => [k.minTime, k.maxTime]), [[0, 10], [50, 60]]);
  assert.throws(() => sanitizeChunks([c(0, 10), c(5, 20)], 0, 100), /non-sequential chunks not equal: \[0, 10\] and \[5, 20\]/);
  assert.throws(() => sanitizeChunks([c(0, 10), c(0, 10, [9])], 0, 100), /non-sequential chunks not equal: [0-9a-f]+ and [0-9a-f]+/);
});

test.run();
