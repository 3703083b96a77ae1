// Parser unit tests. Expected values are answers of a real Prometheus 2.42 (its /api/v1/query on
// the same inputs, recorded here so the unit tests run without it) or Prometheus' published test
// vectors (model/time_test.go for durations); the integration test api-parse-parity re-checks the
// whole corpus against a live Prometheus.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode } from "../../../shared/encoding/errors.ts";
import type { Expr } from "../../../shared/promql/ast.ts";
import { parseDuration, parseExpr, parseMetricSelector } from "../../../shared/promql/parser.ts";
import { exprString } from "../../../shared/promql/printer.ts";
import { durationString } from "../../../shared/promql/parse-literals.ts";
import { loadCorpus } from "./corpus.ts";

/** The AST without positions and with matchers as plain data, for structural comparison. */
function shape(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(shape);
  if (e !== null && typeof e === "object") {
    const o = e as Record<string, unknown>;
    if (typeof o.matches === "function") return { type: o.type, name: o.name, value: o.value };
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (k !== "pos") out[k] = shape(v);
    return out;
  }
  return e;
}

/** shape() with selector matchers in one order (the printer sorts them, as Prometheus does). */
function canon(e: unknown): unknown {
  const s = shape(e);
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x !== null && typeof x === "object") {
      const o = x as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o)) out[k] = walk(v);
      if (o.kind === "VectorSelector") {
        out.matchers = [...(o.matchers as { type: string; name: string; value: string }[])]
          .sort((a, b) => JSON.stringify(a) < JSON.stringify(b) ? -1 : 1);
      }
      return out;
    }
    return x;
  };
  return walk(s);
}

/** Evaluate a scalar-only AST, to check precedence and literals against Prometheus' answers. */
function evalScalar(e: Expr): number {
  switch (e.kind) {
    case "NumberLiteral": return e.val;
    case "ParenExpr": return evalScalar(e.expr);
    case "UnaryExpr": return e.op === "-" ? -evalScalar(e.expr) : evalScalar(e.expr);
    case "BinaryExpr": {
      const a = evalScalar(e.lhs), b = evalScalar(e.rhs);
      const cmp = (x: boolean) => (x ? 1 : 0);
      switch (e.op) {
        case "+": return a + b;
        case "-": return a - b;
        case "*": return a * b;
        case "/": return a / b;
        case "%": return a % b;
        case "^": return Math.pow(a, b);
        case "atan2": return Math.atan2(a, b);
        case "==": return cmp(a === b);
        case "!=": return cmp(a !== b);
        case "<": return cmp(a < b);
        case ">": return cmp(a > b);
        case "<=": return cmp(a <= b);
        case ">=": return cmp(a >= b);
      }
    }
  }
  throw new Error(`not a scalar expression: ${e.kind}`);
}

// Prometheus 2.42, /api/v1/query?query=<q>: scalar results.
const SCALARS: [string, number][] = [
  ["1 + 2 * 3", 7], ["2 ^ 3 ^ 2", 512], ["-2 ^ 2", -4], ["(-2) ^ 2", 4], ["2 * 3 % 4", 2], ["10 - 4 - 3", 3],
  ["100 / 10 / 5", 2], ["-1 * -2", 2], ["2 ^ -1", 0.5], ["1 + 2 == bool 3", 1], ["1 == bool 1 + 1", 0],
  ["5 % 3 * 2", 4], ["2 * -3 ^ 2", -18], ["- - 2", 2], ["+-+2", -2], ["010 + 0x1F", 39], [".5 + 5.", 5.5],
  ["1e3 - 1E-3", 999.999], ["2 atan2 1", 1.1071487177940904], ["1 < bool 2 > bool 0", 1], ["3 - 2 ^ 2 * 2", -5],
  ["0x10 ^ 0.5", 4], ["09", 9], ["1 / 0", Infinity], ["-1 / 0", -Infinity], ["2 >= bool 2 == bool 1", 1],
];

test("precedence, associativity and number literals evaluate as in Prometheus", () => {
  for (const [q, want] of SCALARS) assert.is(evalScalar(parseExpr(q)), want, q);
  assert.ok(Number.isNaN(evalScalar(parseExpr("Inf - inf"))));
  assert.ok(Number.isNaN(evalScalar(parseExpr("nAn"))));
});

// Prometheus 2.42: string results.
const STRINGS: [string, string][] = [
  ['"a\\tb"', "a\tb"], ["'it\\'s'", "it's"], ["`raw\\n`", "raw\\n"], ['"\\x41\\101\\u00e9\\U0001F600"', "AA\u00e9\u{1F600}"],
  ['"a\\\\b\\"c"', 'a\\b"c'], ['"\\a\\b\\f\\v\\r"', "\u0007\b\f\u000b\r"],
];

test("string literals unquote like Prometheus (three quote kinds, Go escapes)", () => {
  for (const [q, want] of STRINGS) {
    const e = parseExpr(q);
    assert.is(e.kind, "StringLiteral", q);
    assert.is((e as { val: string }).val, want, q);
  }
});

// Prometheus 2.42: the `error` of 400 bad_data answers, without the `invalid parameter "query": ` prefix.
const ERRORS: [string, string][] = [
  ["", "1:1: parse error: no expression found in input"],
  ["on", "1:1: parse error: unexpected <on>"],
  ["atan2", "1:1: parse error: unexpected <op:atan2>"],
  ["sum by", '1:7: parse error: unexpected end of input in grouping opts, expected "("'],
  ["sum(foo) by", '1:12: parse error: unexpected end of input in grouping opts, expected "("'],
  ["sum(foo,)", "1:8: parse error: trailing commas not allowed in function call args"],
  ["foo{a}", '1:6: parse error: unexpected "}" in label matching, expected label matching operator'],
  ["foo{a=b}", '1:7: parse error: unexpected identifier "b" in label matching, expected string'],
  ['foo{="a"}', '1:5: parse error: unexpected "=" in label matching, expected identifier or "}"'],
  ["()", '1:2: parse error: unexpected ")"'],
  ["foo +", "1:6: parse error: unexpected end of input"],
  ["foo + on(a) group_left (bar)", "1:29: parse error: unexpected end of input"],
  ["foo bar", '1:5: parse error: unexpected identifier "bar"'],
  ["sum(foo) (bar)", '1:10: parse error: unexpected "("'],
  ["foo[5m", "1:7: parse error: unclosed left bracket"],
  ["foo[5m:1]", '1:8: parse error: unexpected number "1" in subquery selector, expected duration or "]"'],
  ["foo @ foo", '1:7: parse error: unexpected identifier "foo" in @, expected timestamp'],
  ["foo offset +5m", "1:12: parse error: unexpected <op:+> in offset, expected duration"],
  ["foo offset 0s", "1:12: parse error: duration must be greater than 0"],
  ["foo[0s]", "1:5: parse error: duration must be greater than 0"],
  ["topk(foo)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"],
  ["sum()", "1:1: parse error: no arguments for aggregate expression provided"],
  ["count_values(1, foo)", "1:14: parse error: expected type string in aggregation parameter, got scalar"],
  ["1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"],
  ["a + bool b", "1:3: parse error: bool modifier can only be used on comparison operators"],
  ["foo @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"],
  ["sum by (nan) (foo)", '1:9: parse error: unexpected number "nan" in grouping opts, expected label'],
  ["sum by (a:b) (foo)", '1:9: parse error: unexpected metric identifier "a:b" in grouping opts, expected label'],
  ["1[5m:]", "1:1: parse error: subquery is only allowed on instant vector, got scalar instead"],
  ["foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"],
  ["foo offset 5m offset 1m", "1:1: parse error: offset may not be set multiple times"],
  ["RATE(foo[1m])", '1:1: parse error: unknown function with name "RATE"'],
  ["histogram_stddev(foo)", '1:1: parse error: unknown function with name "histogram_stddev"'],
  ["foo{a:b=\"x\"}", "1:6: parse error: unexpected character inside braces: ':'"],
  ["-foo[5m]", '1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector"'],
  ['{a=""}', "1:1: parse error: vector selector must contain at least one non-empty matcher"],
  ["foo and 1", '1:1: parse error: set operator "and" not allowed in binary scalar expression'],
  ["1_000", '1:1: parse error: bad number or duration syntax: "1"'],
  ['"\\q"', "1:1: parse error: unknown escape sequence U+0071 'q'"],
  ["日本", "1:1: parse error: unexpected character: '日'"],
  // Columns count UTF-8 bytes, lines start at 1 after each newline.
  ['foo{a="é"} +', "1:14: parse error: unexpected end of input"],
  ["foo\n+", "2:2: parse error: unexpected end of input"],
];

test("errors: Prometheus' message and line:col position, code bad_data", () => {
  for (const [q, want] of ERRORS) {
    try {
      parseExpr(q);
      assert.unreachable(`accepted ${JSON.stringify(q)}`);
    } catch (e) {
      assert.is(errorCode(e), "bad_data", q);
      assert.is((e as Error).message, want, q);
    }
  }
});

test("round trip: parse(print(parse(q))) equals parse(q) for every valid corpus query", () => {
  let n = 0;
  for (const q of loadCorpus()) {
    let e: Expr;
    try {
      e = parseExpr(q);
    } catch {
      continue;
    }
    n++;
    const printed = exprString(e);
    assert.equal(canon(parseExpr(printed)), canon(e), `${q}  ->  ${printed}`);
    assert.is(exprString(parseExpr(printed)), printed, "printing is a fixed point");
  }
  assert.ok(n > 150, `${n} valid queries`);
});

test("AST: modifiers, grouping, matching and matcher order", () => {
  const vs = parseExpr('foo{a="b"} offset -5m @ 10.5');
  assert.equal(shape(vs), {
    kind: "VectorSelector", name: "foo",
    matchers: [{ type: "=", name: "a", value: "b" }, { type: "=", name: "__name__", value: "foo" }],
    offset: -300_000, at: { at: "time", ms: 10_500 },
  });
  const sq = parseExpr("rate(x[5m])[30m:] @ end()");
  assert.is(sq.kind, "SubqueryExpr");
  if (sq.kind === "SubqueryExpr") {
    assert.is(sq.range, 1_800_000);
    assert.is(sq.step, 0);
    assert.equal(sq.at, { at: "end" });
  }
  const agg = parseExpr("topk(3, x) without (a, b)");
  assert.equal(shape(agg), {
    kind: "AggregateExpr", op: "topk", expr: shape(parseExpr("x")), param: { kind: "NumberLiteral", val: 3 },
    grouping: ["a", "b"], without: true,
  });
  const bin = parseExpr("a * on(b) group_right(c) d");
  assert.is(bin.kind, "BinaryExpr");
  if (bin.kind === "BinaryExpr") assert.equal(bin.matching, { card: "one-to-many", matchingLabels: ["b"], on: true, include: ["c"] });
  const set = parseExpr("a and b");
  if (set.kind === "BinaryExpr") assert.is(set.matching!.card, "many-to-many");
  const sc = parseExpr("a + 1");
  if (sc.kind === "BinaryExpr") assert.is(sc.matching, null);
  // A sign folds into a number literal; anything else is a unary expression.
  assert.equal(shape(parseExpr("-1")), { kind: "NumberLiteral", val: -1 });
  assert.is(parseExpr("-(1)").kind, "UnaryExpr");
  // Positions cover the source text of each node.
  const q = "sum(rate(foo[5m])) by (job)";
  const e = parseExpr(q);
  assert.equal(e.pos, { start: 0, end: q.length });
});

test("keywords as metric names where an expression starts", () => {
  for (const q of ["sum", "offset", "by", "and", "start", "avg offset 5m"]) {
    const e = parseExpr(q);
    assert.is(e.kind, "VectorSelector", q);
  }
});

test("parseMetricSelector: matchers with the name last; rejects non-selectors", () => {
  const ms = parseMetricSelector('up{job=~"a|b",i!=""}');
  assert.equal(ms.map((m) => [m.type, m.name, m.value]), [["=~", "job", "a|b"], ["!=", "i", ""], ["=", "__name__", "up"]]);
  assert.is(ms[0]!.matches("b"), true);
  assert.is(ms[0]!.matches("ab"), false);
  for (const bad of ["up + 1", "rate(up[5m])", "up[5m]", "", "{a=}"]) {
    try {
      parseMetricSelector(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.is(errorCode(e), "bad_data", bad);
    }
  }
});

// prometheus/common model/time_test.go TestParseDuration vectors.
test("parseDuration / durationString: Prometheus model.Duration vectors", () => {
  const cases: [string, number][] = [
    ["0", 0], ["0w", 0], ["0s", 0], ["324ms", 324], ["3s", 3000], ["5m", 300_000], ["1h", 3_600_000], ["4d", 345_600_000],
    ["4d1h", 349_200_000], ["14d", 1_209_600_000], ["3w", 1_814_400_000], ["3w2d1h", 1_990_800_000], ["10y", 315_360_000_000],
  ];
  const canonical: Record<string, string> = { "0": "0s", "0w": "0s", "14d": "2w", "3w2d1h": "23d1h" };
  for (const [s, ms] of cases) {
    assert.is(parseDuration(s), ms, s);
    assert.is(durationString(ms), canonical[s] ?? s, s);
  }
  for (const bad of ["", "1.5h", "1h1d", "-1m", "1h1h", "5", "1ms1s"]) {
    try {
      parseDuration(bad);
      assert.unreachable(bad);
    } catch (e) {
      assert.is(errorCode(e), "bad_data", bad);
    }
  }
});

test("hostile input: long chains parse, deep nesting is a bad_data error, never a stack overflow", () => {
  const deep = "(".repeat(200) + "1" + ")".repeat(200);
  assert.is(evalScalar(parseExpr(deep)), 1);
  const long = Array.from({ length: 800 }, (_, i) => `m${i}`).join(" + ");
  assert.is(parseExpr(long).kind, "BinaryExpr");
  for (const q of [Array.from({ length: 5000 }, (_, i) => `m${i}`).join(" + "), "(".repeat(3000), "(".repeat(100_000) + "1" + ")".repeat(100_000), "-".repeat(100_000) + "1", "abs(".repeat(5000) + "x" + ")".repeat(5000)]) {
    try {
      parseExpr(q);
      assert.unreachable();
    } catch (e) {
      assert.is(errorCode(e), "bad_data");
      assert.match((e as Error).message, /parse error/);
    }
  }
});

test.run();
