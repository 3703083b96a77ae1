import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { parseGoFloat, parseOpenMetrics } from "../../../shared/textparse/openmetrics.ts";
import { backfillBlocks, compatibleBlockDuration } from "../../../shared/tsdb/backfill.ts";
import { goFormatG } from "../../../agent/tools/gofmt.ts";
import { parseDurationFlag } from "../../../agent/tools/tsdb/create-blocks.ts";
import { goDuration } from "../../../shared/encoding/gotext.ts";

const H = 3_600_000;

test("openmetrics: names, escaped label values, special values, ms timestamps, exemplars, metadata", () => {
  const text = [
    "# HELP a_total A counter.",
    "# TYPE a_total counter",
    'a_total{z="1",b="x\\"y\\\\z\\n"} 1.5 1700000000.123',
    "b NaN 1700000000",
    "c{} +Inf 1700000001",
    "d -Inf",
    'e_bucket{le="0.5"} 3 1700000002 # {trace_id="x"} 0.4 1700000001.5',
    "# EOF",
    "",
  ].join("\n");
  const got = [...parseOpenMetrics(text)];
  assert.equal(got[0]!.labels, [{ name: "__name__", value: "a_total" }, { name: "b", value: 'x"y\\z\n' }, { name: "z", value: "1" }]);
  assert.is(got[0]!.value, 1.5);
  assert.is(got[0]!.t, 1700000000123);
  assert.ok(Number.isNaN(got[1]!.value));
  assert.is(got[2]!.value, Infinity);
  assert.is(got[3]!.value, -Infinity);
  assert.is(got[3]!.t, null);
  assert.is(got[4]!.t, 1700000002000);
  assert.is(got.length, 5);
  // Other escapes are kept as written, like Prometheus' lvalReplacer does.
  assert.equal([...parseOpenMetrics('a{b="x\\ty"} 1 1\n# EOF')][0]!.labels[1], { name: "b", value: "x\\ty" });
});

test("openmetrics: bad input is a bad_data error with line and column", () => {
  const bad: [string, RegExp][] = [
    ["a 1 1\n", /does not end with # EOF/],
    ["a{b=\"1\" 1 1\n# EOF", /input:1:\d+: expected , or \}/],
    ["a one 1\n# EOF", /input:1:3: invalid value "one"/],
    ["a 1 1\n\n# EOF", /input:2:1: empty line/],
    ["# EOF\na 1 1", /data after # EOF/],
    ["# TYPE a bogus\n# EOF", /invalid metric type/],
    ['a{b="1",b="2"} 1\n# EOF', /duplicate label name b/],
    ["a 1 NaN\n# EOF", /invalid timestamp/],
    ['a{b="x\\', /unterminated label value/],
  ];
  for (const [t, re] of bad) {
    try { [...parseOpenMetrics(t)]; assert.unreachable(t); } catch (e) {
      assert.is(errorCode(e), "bad_data", (e as Error).message);
      assert.match((e as Error).message, re);
    }
  }
});

test("Go float parsing accepts what strconv.ParseFloat accepts for these forms", () => {
  assert.is(parseGoFloat("1e3"), 1000);
  assert.is(parseGoFloat("-.5"), -0.5);
  assert.is(parseGoFloat("+Inf"), Infinity);
  assert.is(parseGoFloat("-infinity"), -Infinity);
  assert.ok(Number.isNaN(parseGoFloat("nan")!));
  assert.is(parseGoFloat("0x10"), null);
  assert.is(parseGoFloat(""), null);
});

test("%g formatting as promtool 2.42 printed these values", () => {
  // Observed from `promtool tsdb dump` on a backfilled block (see the integration test for the full oracle).
  assert.is(goFormatG(1e6), "1e+06");
  assert.is(goFormatG(1e-5), "1e-05");
  assert.is(goFormatG(1234567), "1.234567e+06");
  assert.is(goFormatG(Infinity), "+Inf");
  assert.is(goFormatG(NaN), "NaN");
  assert.is(goFormatG(2), "2");
  assert.is(goFormatG(123456), "123456");
  assert.is(goFormatG(0.0001), "0.0001");
  assert.is(goFormatG(-0.1), "-0.1");
  assert.is(goFormatG(1e21), "1e+21");
  assert.is(goFormatG(1.5e-300), "1.5e-300");
});

test("block durations and Go duration strings", () => {
  assert.is(compatibleBlockDuration(H), 2 * H);
  assert.is(compatibleBlockDuration(2 * H), 2 * H);
  assert.is(compatibleBlockDuration(7 * H), 6 * H);
  assert.is(compatibleBlockDuration(24 * H), 18 * H);
  assert.is(parseDurationFlag("d", "1h30m"), 90 * 60_000);
  assert.throws(() => parseDurationFlag("d", "2x"), /not a duration/);
  assert.is(goDuration(75001), "1m15.001s"); // as promtool printed it
  assert.is(goDuration(2 * H), "2h0m0s");
});

test("backfill: blocks cut at 2h boundaries, chunks of 120, duplicate same-value samples dropped", () => {
  const lines: string[] = [];
  const t0 = 1_700_000_000; // s
  for (let i = 0; i < 600; i++) lines.push(`m{k="v"} ${i} ${t0 + i * 30}`);
  lines.push(`m{k="v"} 599 ${t0 + 599 * 30}`);
  lines.push("# EOF");
  const blocks = [...backfillBlocks(lines.join("\n"))];
  const bd = 2 * H;
  assert.ok(blocks.length >= 3);
  let total = 0;
  for (const b of blocks) {
    assert.is(Math.floor(b.minTime / bd), Math.floor((b.maxTime - 1) / bd), "a block crosses a 2h boundary");
    for (const c of b.series[0]!.chunks) assert.ok(((c.data[0]! << 8) | c.data[1]!) <= 120);
    total += b.samples;
  }
  assert.is(total, 600);
  try { [...backfillBlocks(`m 1 10\nm 2 5\n# EOF`)]; assert.unreachable(); } catch (e) { assert.match((e as Error).message, /out of order sample/); }
  try { [...backfillBlocks(`m 1 10\nm 2 10\n# EOF`)]; assert.unreachable(); } catch (e) { assert.match((e as Error).message, /duplicate sample for timestamp/); }
  try { [...backfillBlocks(`m 1\n# EOF`)]; assert.unreachable(); } catch (e) { assert.match((e as Error).message, /expected timestamp/); }
});

test.run();
