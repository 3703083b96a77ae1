// The real Prometheus 2.42 as the oracle of our PromQL test language (test/promql/oracle/main.go:
// upstream's promql.NewTest harness and parser.ParseSeriesDesc at v0.42.0, built once):
// - every eval of our own test/promql/*.test passes in Prometheus' own harness, so their expected
//   values are Prometheus' (not our engine's);
// - our harness (shared/promqltest) passes and fails the same evals as upstream's on scripts made to
//   probe its rules (tolerance, order, eval_fail, empty and odd expectations, load errors, @ and
//   range-mode re-runs);
// - our series-notation parser agrees with ParseSeriesDesc bit for bit (stale markers included) and
//   rejects what it rejects.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseScript, parseSeriesDesc, runScript } from "../../shared/promqltest/index.ts";
import { OWN_DIR, testFiles } from "../lib/promqltest.ts";
import { checkScripts, oracleBinary, oracleRun, oracleSeries, splitEvals } from "../lib/promql-oracle.ts";

test.before(async () => {
  await oracleBinary(); // the first build takes a few minutes
});

test("every eval of test/promql/*.test passes in Prometheus 2.42's own harness", async () => {
  const files = testFiles(OWN_DIR);
  assert.ok(files.length >= 10, `only ${files.length} own scripts`);
  const failures = await checkScripts(files);
  assert.equal(failures.map((f) => `${f.file}:${f.line}: ${f.error}`), []);
});

const PROBES: string[] = [
  `load 1m
  m{a="1"} 1 2 3
  m{a="2"} 5
  s 1 stale 3

eval instant at 1m 1
  1

eval instant at 1m 1
  1.0000001

eval instant at 1m 1
  1.00001

eval instant at 1m 0
  1e-400

eval instant at 1m 0
  1e-320

eval instant at 1m NaN
  NaN

eval instant at 1m 1

eval instant at 1m m
  1

eval instant at 1m m
  m{a="1"} 2
  m{a="2"} 5

eval instant at 1m m
  m{a="1"} 2

eval instant at 1m m
  m{a="1"} 2
  m{a="2"} 5
  m{a="3"} 1

eval instant at 1m m
  m{a="1"} 2.000001
  m{a="2"} 5

eval_ordered instant at 1m sort(m)
  m{a="1"} 2
  m{a="2"} 5

eval_ordered instant at 1m sort_desc(m)
  m{a="1"} 2
  m{a="2"} 5

eval instant at 1m m{a="1"}
  m{a="1"} _

eval instant at 1m m{a="1"} - 2
  {a="1"} _

eval instant at 1m m{a="1"}
  m{a="1"} stale

eval instant at 1m m{a="1"} / 0 * 0
  {a="1"} stale

eval instant at 1m m{a="1"}
  m{a="1"}

eval instant at 1m m{a="1"}
  m{a="1", b=""} 2

eval instant at 1m m{a="1"}
  {a="1", __name__="m"} 2

eval instant at 1m m{a="1"}
  m{a="1"} 2
  m{a="1"} 3

eval instant at 1m m{a="1"}
  m{a="1"} 3
  m{a="1"} 2

eval_fail instant at 1m m

eval_fail instant at 1m m * on () m

eval_fail instant at 1m label_replace(m, "x", "y", "a", "(")

eval instant at 1m time()
  60

eval instant at 1m timestamp(m)
  {a="1"} 60
  {a="2"} 0

eval instant at 1m s

eval instant at 2m s
  s 3

eval instant at 5m count_over_time(m[10m])
  {a="1"} 3
  {a="2"} 1

eval instant at 1m m[1m]

eval instant at 1m "foo"

eval instant at 2m m{a="1"} @ start()
  m{a="1"} 3

eval instant at 2m m{a="2"} @ end()
  m{a="2"} 5

eval instant at 1m scalar(m)
  NaN

eval instant at 1m scalar(m{a="1"})
  2

eval instant at 0m scalar(m{a="1"})
  1

eval instant at 1m vector(time())
  {} 60

eval instant at 10m m
`,
  `load 1m
  m 1 2 3

load 1m
  m 1

eval instant at 1m m
  m 2
`,
  `load 1m
  m 1 2 3

load 1m
  m _ _ 3 4

eval instant at 3m m
  m 4

load 1m
  m _ _ _ 5

eval instant at 3m m
  m 4
`,
  `load 1h
  a _x20 1

load 1m
  b 1

eval instant at 0m b
  b 1
`,
  `load 1m
  a{x=""} 1

eval instant at 0m a
  a 1

load 1m
  {x=""} 1

eval instant at 0m a
  a 1
`,
  `load 1m
  a 1 2
  a 5 6

eval instant at 1m a
  a 6

clear

eval instant at 1m a

load 0
  b 1 2 3

eval instant at 0m b
  b 1
`,
];

function outcomes(rs: { line: number; passed: boolean }[]): string[] {
  return rs.map((r) => `line ${r.line}: ${r.passed ? "pass" : "fail"}`);
}

test("our harness passes and fails the same evals as Prometheus' on probe scripts", async () => {
  for (const [i, text] of PROBES.entries()) {
    const blocks = splitEvals(text);
    const go = await oracleRun(blocks.map((b) => ({ name: String(b.line), text: b.alone })));
    const want = blocks.map((b, j) => ({ line: b.line, passed: !go[j]!.error, why: go[j]!.error }));
    const ours = await runScript(parseScript(text, `probe${i}`));
    const got = ours.evals.map((e) => ({ line: e.line, passed: e.passed }));
    assert.equal(outcomes(got), outcomes(want), `probe ${i}: Go said ${JSON.stringify(want.filter((w) => !w.passed).map((w) => [w.line, w.why]))}; ours ${JSON.stringify(ours.evals.filter((e) => !e.passed).map((e) => [e.line, e.message]))}`);
  }
});

const SERIES: string[] = [
  "{} 1 2 3", '{a="b"} -1 2 3', "my_metric 1 2 3", "my_metric{} 1 2 3", 'my_metric{a="b"} 1 2 3-10x4',
  'my_metric{a="b"} 1 2 3-0x4', 'my_metric{a="b"} 1 3 _ 5 _x4', 'my_metric{a="b"} 1 3 _ 5 _a4',
  'my_metric{a="b"} 1 -1 -3-10x4 7 9 +5', 'my_metric{a="b"} 1 2 3    ', 'my_metric{a="\\u70ac = torch"} 1',
  'my_metric{a="b"} -3-3 -3', 'my_metric{a="b"} -3 _-2', 'my_metric{a="b"} -3 3+3x4-4',
  "m 010 0x3 1e3 .5 5. -Inf +Inf NaN nan inf", "m stale stale", "m stale+1x2", "m 1+0.1x10", "m 0.1+0.2x7",
  "m -1-1x3", "m _x0", "m _x3 1", "m 1x0", "m 1.5e+3x1", "m 1e-3+1e-4x3", "m 9007199254740993", "m 1e308+1e308x1",
  "sum 1", 'by{a="b"} 1', "offset 1", "Inf 1", "on 1", "bool 1", "atan2 1", "start 1", "m:sub 1", ":m 1",
  'm{a="b",} 1', "m{a='b'} 1", "m{a=`b\\n`} 1", 'm{a="\\x41\\101"} 1', 'm {a="b"} 1', 'm{a="b"}1', 'm{a="b"}  1',
  "m 1x", "m stalex2", "m stale x2", "m 1_2", "m 1xa", "m Infx3", "m 1 # c", 'm{a="b" # c\n} 1', "m 1x1.5",
  "m 1e", "m 0x", "m 1..2", "m 1x-1", 'm{__name__="x"} 1', '{__name__="x"} 1',
  'm{a=""} 1', 'm{a="1", a="2"} 1', "m Inf+1x2", "m 1+Infx2", "m 1-NaNx1", "m\t1\t2", "m 1  2", "", "m", "{}",
  "m{", 'm{a="b"', "m x3", "m _ _x2 _", "m +_", "m -stale", "m +-1", "m 1 +", 'm{a!="b"} 1', 'm{a=~"b"} 1',
  "m{on=\"x\"} 1", "m{1a=\"x\"} 1", 'm{a="\\q"} 1', "m 1x2x3", "m _x2x3", "m 0x10", "m 0b1", "m 08", "m 1E5",
  "m 0.0000001", "m -0", "m 1.7976931348623157e308", "m 4.9e-324",
];

function bitsOf(v: number): string {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  return dv.getBigUint64(0).toString(16).padStart(16, "0");
}

test("series notation: ours and Go's ParseSeriesDesc agree value by value", async () => {
  const go = await oracleSeries(SERIES);
  SERIES.forEach((line, i) => {
    const g = go[i]!;
    let ours;
    try {
      ours = parseSeriesDesc(line);
    } catch (e) {
      assert.ok(g.error, `${JSON.stringify(line)}: we reject it (${(e as Error).message}) but Go parses it`);
      return;
    }
    assert.ok(!g.error, `${JSON.stringify(line)}: Go rejects it (${g.error}) but we parse it`);
    assert.equal(ours.labels.map((l) => [l.name, l.value]), g.labels ?? [], `${JSON.stringify(line)} labels`);
    const mine = ours.values.map((v) => {
      if (v.omitted) return "_";
      if (v.stale) return "7ff0000000000002";
      return Number.isNaN(v.value) ? "NaN" : bitsOf(v.value);
    });
    const theirs = (g.values ?? []).map((b) => {
      if (b === "_" || b === "7ff0000000000002") return b;
      const hi = parseInt(b.slice(0, 3), 16) & 0x7ff;
      return hi === 0x7ff && b.slice(3) !== "0000000000000" ? "NaN" : b;
    });
    assert.equal(mine, theirs, `${JSON.stringify(line)} values`);
  });
});

test.run();
