// The series notation, the script parser and the test storage of shared/promqltest. Expected series
// values are upstream's own (Prometheus 2.42 promql/parser/parse_test.go testSeries) or follow from
// its grammar; test/integration/promqltest-oracle.test.ts compares a larger corpus with Go's
// ParseSeriesDesc bit for bit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  expandSeriesValues, LazyLoader, loadSeries, parseScript, parseSeriesDesc, runScript, sequenceSamples, TestStorage,
  type SequenceValue,
} from "../../../shared/promqltest/index.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { newMatcher } from "../../../shared/labels/matcher.ts";

const NONE = Symbol("none");
function seq(...vs: (number | typeof NONE | "stale")[]): SequenceValue[] {
  return vs.map((v) => (v === NONE ? { value: 0, stale: false, omitted: true } : v === "stale" ? { value: NaN, stale: true, omitted: false } : { value: v, stale: false, omitted: false }));
}
function labels(...kv: string[]) {
  const out = [];
  for (let i = 0; i < kv.length; i += 2) out.push({ name: kv[i]!, value: kv[i + 1]! });
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

// promql/parser/parse_test.go testSeries, as upstream states them.
const UPSTREAM: [string, ReturnType<typeof labels> | null, SequenceValue[] | null][] = [
  ["{} 1 2 3", labels(), seq(1, 2, 3)],
  ['{a="b"} -1 2 3', labels("a", "b"), seq(-1, 2, 3)],
  ["my_metric 1 2 3", labels("__name__", "my_metric"), seq(1, 2, 3)],
  ["my_metric{} 1 2 3", labels("__name__", "my_metric"), seq(1, 2, 3)],
  ['my_metric{a="b"} 1 2 3', labels("__name__", "my_metric", "a", "b"), seq(1, 2, 3)],
  ['my_metric{a="b"} 1 2 3-10x4', labels("__name__", "my_metric", "a", "b"), seq(1, 2, 3, -7, -17, -27, -37)],
  ['my_metric{a="b"} 1 2 3-0x4', labels("__name__", "my_metric", "a", "b"), seq(1, 2, 3, 3, 3, 3, 3)],
  ['my_metric{a="b"} 1 3 _ 5 _x4', labels("__name__", "my_metric", "a", "b"), seq(1, 3, NONE, 5, NONE, NONE, NONE, NONE)],
  ['my_metric{a="b"} 1 3 _ 5 _a4', null, null],
  ['my_metric{a="b"} 1 -1', labels("__name__", "my_metric", "a", "b"), seq(1, -1)],
  ['my_metric{a="b"} 1 +1', labels("__name__", "my_metric", "a", "b"), seq(1, 1)],
  ['my_metric{a="b"} 1 -1 -3-10x4 7 9 +5', labels("__name__", "my_metric", "a", "b"), seq(1, -1, -3, -13, -23, -33, -43, 7, 9, 5)],
  ['my_metric{a="b"} 1 +1 +4 -6 -2 8', labels("__name__", "my_metric", "a", "b"), seq(1, 1, 4, -6, -2, 8)],
  ['my_metric{a="b"} 1 2 3    ', labels("__name__", "my_metric", "a", "b"), seq(1, 2, 3)],
  ['my_metric{a="\\u70ac"} 1 2 3', labels("__name__", "my_metric", "a", "炬"), seq(1, 2, 3)],
  ['my_metric{a="\\u70ac = torch"} 1 2 3', labels("__name__", "my_metric", "a", "炬 = torch"), seq(1, 2, 3)],
  ['my_metric{a="b"} -3-3 -3', null, null],
  ['my_metric{a="b"} -3 -3-3', null, null],
  ['my_metric{a="b"} -3 _-2', null, null],
  ['my_metric{a="b"} -3 3+3x4-4', null, null],
];

test("series lines as upstream's parser tests state them", () => {
  for (const [input, ls, values] of UPSTREAM) {
    if (ls === null) {
      assert.throws(() => parseSeriesDesc(input), (e: unknown) => errorCode(e) === "bad_data", input);
      continue;
    }
    const d = parseSeriesDesc(input);
    assert.equal(d.labels, ls, input);
    assert.equal(d.values, values, input);
  }
});

test("the rest of the notation: repeats, stale, Inf/NaN, exponents, octal, accumulation", () => {
  assert.equal(expandSeriesValues("1x3"), seq(1, 1, 1, 1));
  assert.equal(expandSeriesValues("0+10x3"), seq(0, 10, 20, 30));
  assert.equal(expandSeriesValues("_x3 1"), seq(NONE, NONE, NONE, 1));
  assert.equal(expandSeriesValues("_x0 1"), seq(1));
  assert.equal(expandSeriesValues("stale 1 stale"), seq("stale", 1, "stale"));
  // stale plus a step is an ordinary NaN after the first value (Go adds to the NaN bits).
  const s = expandSeriesValues("stale+1x2");
  assert.equal(s.map((v) => v.stale), [true, false, false]);
  assert.ok(s.every((v) => Number.isNaN(v.value)));
  assert.equal(expandSeriesValues("Inf -Inf +inf NaN"), seq(Infinity, -Infinity, Infinity, NaN));
  assert.equal(expandSeriesValues("1e3 -2.5e-1 .5 5."), seq(1000, -0.25, 0.5, 5));
  // PromQL number literals: a leading 0 is octal; 0x is the repetition, not hex.
  assert.equal(expandSeriesValues("010 0x2"), seq(8, 0, 0, 0));
  // The step is added repeatedly, with the same float rounding as Go.
  const acc = expandSeriesValues("0+0.1x3").map((v) => v.value);
  assert.equal(acc, [0, 0.1, 0.1 + 0.1, 0.1 + 0.1 + 0.1]);
  assert.equal(parseSeriesDesc("sum{by=\"x\"} 1").labels, labels("__name__", "sum", "by", "x"));
  assert.equal(parseSeriesDesc('{__name__="a:b", x=\'y\'} 1').labels, labels("__name__", "a:b", "x", "y"));
  assert.equal(parseSeriesDesc('name{__name__="other"} 1').labels, labels("__name__", "name"));
  for (const bad of ["m 1x", "m 1x-1", "m 1xa", "m Infx3", "m 1 2+", "m 1_2", "m stal", "m 1,2", "m {a=\"b\"} 1", "m{a=~\"b\"} 1", "m{a=\"b\" 1", "m 1x1.5", "m stalex2", "m stale x2"]) {
    assert.throws(() => parseSeriesDesc(bad), (e: unknown) => errorCode(e) === "bad_data", bad);
  }
  assert.throws(() => expandSeriesValues("_x20000000"), /limit/);
});

test("sequenceSamples spaces samples at the interval from the start and skips omitted steps", () => {
  const s = sequenceSamples(expandSeriesValues("1 _ stale 4"), 60_000, 1000);
  assert.equal(s.ts, [1000, 121_000, 181_000]);
  assert.equal(s.stale, [false, true, false]);
  assert.equal(s.vs[0], 1);
  assert.equal(s.vs[2], 4);
});

test("script errors name the file and the line", () => {
  const cases: [string, RegExp][] = [
    ["load 5m\n  foo 1 2\n\nbogus\n", /^f\.test:4: invalid command "bogus"/],
    ["load 5x\n", /^f\.test:1: invalid duration "5x"/],
    ["load\n", /^f\.test:1: invalid load command/],
    ["# c\nload 5m\n  foo{a=} 1\n", /^f\.test:3: series "foo\{a=\} 1": col 7: /],
    ["eval instant at 5m foo\n  foo 1 2\n", /^f\.test:2: expecting multiple values/],
    ["eval instant foo\n", /^f\.test:1: invalid evaluation command/],
    ["eval instant  foo\n", /^f\.test:1: invalid duration ""/],
    ["eval_bad instant at 1m foo\n", /^f\.test:1: invalid evaluation command/],
  ];
  for (const [text, re] of cases) {
    try {
      parseScript(text, "f.test");
      assert.unreachable(text);
    } catch (e) {
      assert.match((e as Error).message, re, text);
      assert.is(errorCode(e), "bad_data");
    }
  }
});

test("script structure: blocks end at blank or comment lines, a scalar line ends the expectations", () => {
  const s = parseScript([
    "load 1m",
    "  a 1 2",
    "  a 3 4", // the same series again: the later line wins, as in Go
    "# comment ends the block",
    "clear",
    "eval_ordered instant at 1h30m a",
    "  a 4",
    "  {} 7",
    "",
    "eval instant at 0 1",
    "  0x10",
  ].join("\n"), "s.test");
  assert.equal(s.commands.map((c) => [c.kind, c.line]), [["load", 1], ["clear", 5], ["eval", 6], ["eval", 10]]);
  const load = s.commands[0]!;
  assert.ok(load.kind === "load" && load.series.length === 1 && load.series[0]!.values[0]!.value === 3);
  const e = s.commands[2]!;
  assert.ok(e.kind === "eval" && e.ordered && !e.fail && e.timeMs === 5_400_000);
  if (e.kind === "eval") assert.equal(e.expected.map((x) => [x.pos, x.value]), [[1, 4], [2, 7]]);
  const sc = s.commands[3]!;
  assert.ok(sc.kind === "eval" && sc.scalar === 16 && sc.timeMs === 0);
});

test("TestStorage: the TSDB head's append rules, one load as one transaction", () => {
  const st = new TestStorage();
  const one = (name: string, notation: string, interval = 60_000) => ({ labels: labels("__name__", name), samples: sequenceSamples(expandSeriesValues(notation), interval) });
  st.append([one("a", "1 2 3")]);
  // The newest sample again (same value) is accepted and dropped; another value at that time is not;
  // an older one is out of order even if it is identical (Go checks only against the newest).
  st.append([one("a", "_ _ 3 4")]);
  assert.equal(st.series()[0]!.vs, [1, 2, 3, 4]);
  assert.throws(() => st.append([one("a", "_ _ _ 9")]), /duplicate sample for timestamp/);
  assert.throws(() => st.append([one("a", "1")]), /out of order sample/);
  assert.throws(() => st.append([one("a", "_ _ 3 4 5 _ _"), one("b", "1")]), /out of order sample/);
  assert.equal(st.series().map((s) => s.ts.length), [4], "a failed load appends nothing");
  // More than 12 h behind the newest sample is out of bounds, even for a new series.
  st.append([one("c", "_x100 1", 60 * 60_000)]);
  assert.throws(() => st.append([one("d", "1")]), /out of bounds/);
  assert.throws(() => st.append([{ labels: labels("a", ""), samples: sequenceSamples(seq(1), 1) }]), /empty labelset/);
  assert.throws(() => st.append([{ labels: [{ name: "a", value: "1" }, { name: "a", value: "2" }], samples: sequenceSamples(seq(1), 1) }]), /not unique/);
  st.clear();
  assert.equal(st.series(), []);
});

test("TestStorage as an Appendable: checked at append(), visible together at commit(), rollback drops", async () => {
  const st = new TestStorage();
  const ls = labels("__name__", "r");
  const count = async () => (await st.querier().select({ start: 0, end: 1e12 }, [])).series.map((s) => { let n = 0; for (const it = s.iterator(); it.next();) n++; return n; });
  const a = st.appender();
  a.append(ls, 0, 1);
  a.append(ls, 60_000, 0, true);
  assert.equal(await count(), [], "nothing visible before commit");
  await a.commit();
  assert.equal(await count(), [2]);
  const b = st.appender();
  assert.throws(() => b.append(ls, 30_000, 5), /out of order sample \(the series' newest is at 60000 ms\)/);
  assert.throws(() => b.append(ls, 60_000, 5), /duplicate sample for timestamp/);
  b.append(ls, 60_000, 0, true); // the same stale marker again: accepted, dropped
  b.append(ls, 120_000, 3);
  b.rollback();
  await b.commit();
  assert.equal(await count(), [2], "rolled back");
  const c = st.appender();
  c.append(ls, 120_000, 3);
  await c.commit();
  assert.equal(await count(), [3]);
});

test("stale markers reach the engine as a flag, and loadSeries/LazyLoader load promtool-style input", async () => {
  const st = new TestStorage();
  loadSeries(st, [{ series: 'up{job="a"}', values: "1 stale 3" }, { series: 'up{job="b", x=""}', values: "_ 2" }], 60_000);
  const sel = await st.querier().select({ start: 0, end: 1e9 }, [newMatcher("=", "__name__", "up")]);
  assert.equal(sel.series.map((s) => s.labels), [labels("__name__", "up", "job", "a"), labels("__name__", "up", "job", "b")]);
  const it = sel.series[0]!.iterator();
  const seen: [number, boolean][] = [];
  while (it.next()) seen.push([it.at(), it.isStale()]);
  assert.equal(seen, [[0, false], [60_000, true], [120_000, false]]);

  const lazy = new LazyLoader([{ labels: labels("__name__", "x"), samples: sequenceSamples(expandSeriesValues("0+1x4"), 60_000) }]);
  lazy.appendTill(90_000);
  let s = (await lazy.querier().select({ start: 0, end: 1e9 }, [])).series;
  let n = 0;
  for (const it2 = s[0]!.iterator(); it2.next();) n++;
  assert.is(n, 2);
  lazy.appendTill(240_000);
  s = (await lazy.querier().select({ start: 0, end: 1e9 }, [])).series;
  n = 0;
  for (const it2 = s[0]!.iterator(); it2.next();) n++;
  assert.is(n, 5);
});

test("runScript: failures say which query, time and mode; a failed load stops the script", async () => {
  const r = await runScript(parseScript([
    "load 1m",
    "  m{a=\"1\"} 1 2 3",
    "",
    "eval instant at 1m m",
    "  m{a=\"1\"} 2",
    "",
    "eval instant at 1m m",
    "  m{a=\"1\"} 2.5",
    "",
    "eval_fail instant at 1m m",
    "",
    "eval instant at 1m time()",
    "  60",
    "",
    "load 1m",
    "  m{a=\"1\"} 9",
    "",
    "eval instant at 1m m",
  ].join("\n"), "r.test"));
  assert.equal(r.evals.map((e) => [e.line, e.passed]), [[4, true], [7, false], [10, false], [12, true], [18, false]]);
  assert.match(r.evals[1]!.message!, /query "m" at 60000 ms: expected 2\.5 for \{__name__="m", a="1"\} but got 2/);
  assert.match(r.evals[2]!.message!, /expected an evaluation error but got none/);
  assert.match(r.evals[4]!.message!, /not run: the load at line 15 failed: .*out of order sample/);
});

test.run();
