// Parse-error parity with a real Prometheus 2.42: every query of test/promql/parse-corpus.txt goes
// to /api/v1/query; what Prometheus rejects with 400 bad_data we reject with the same message
// (position included), what it accepts we parse. Then the printer: Prometheus prints each rule's
// expression with its own String() in /api/v1/rules, so the accepted queries become recording rules
// and exprString must print them the same.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseExpr } from "../../shared/promql/parser.ts";
import { exprString } from "../../shared/promql/printer.ts";
import { tempDir } from "../lib/proc.ts";
import { startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { loadCorpus } from "../unit/promql-parser/corpus.ts";

let prom: Prometheus;
/** Queries Prometheus accepted in the first test. */
const accepted: string[] = [];

test.before(async () => {
  prom = await startPrometheus();
});
test.after(async () => {
  await prom?.stop();
});


// Random queries from a tiny grammar of fragments (valid and broken pieces, modifiers in odd
// places, comments, escapes): Prometheus and we must agree on each, message included.
function randomQueries(seed: number, n: number): string[] {
  let st = seed;
  const rnd = () => { st = (st * 1103515245 + 12345) % 2147483648; return st / 2147483648; };
  const pick = <T,>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const atoms = [
    "# c\n x", "x # c", "foo\n+\nbar", "'a\\'b'", '"\\u00e9"', '"\\x"', 'foo{a=~"("}', 'foo{a=~"a|b",}', '{__name__=~"x.*", job!=""}',
    "foo[1h30m]", "foo[30m1h]", "foo[1y]", "foo offset 1w", "1h", "0.5", "1e-3", "0X1A", "008", "1e400", "é", 'foo{é="x"}',
    "sum_over_time(foo[5m])", 'label_replace(foo, "a", "$1", "b", "(.*)")', "foo", 'bar{a="b"}', '{x=~"y"}', "1", "2.5", "-1",
    "0x1f", "Inf", "NaN", '"s"', "'t'", "`r`", "sum", "by", "on", "offset", "start", "end", "bool", "rate", "time()", "a:b", "up",
    "abs", "topk", "count_values", "quantile", "group_left", "ignoring", "without", "nan", "1e3", "5m", ".5", "@", "foo[5m]",
    "foo[5m:1m]", "x{}", '{a=""}',
  ];
  const ops = ["+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless", "atan2", "=", "!", "=~", ",", ":"];
  const mods = ["[5m]", "[1m:]", "[10m:30s]", "offset 5m", "offset -1h", "@ 100", "@ start()", "@ end()", "bool", "on(a)", "ignoring(b)",
    "group_left", "group_right(c)", "by (a)", "without (b)", "[0s]", "[5]", "offset 0s"];
  const gen = (d: number): string => {
    const r = rnd();
    if (d > 3 || r < 0.3) return pick(atoms);
    if (r < 0.45) return `(${gen(d + 1)})`;
    if (r < 0.6) return `${gen(d + 1)} ${pick(ops)} ${gen(d + 1)}`;
    if (r < 0.7) return `${gen(d + 1)} ${pick(mods)}`;
    if (r < 0.8) {
      const f = pick(["sum", "rate", "topk", "abs", "count_values", "label_join", "round", "vector", "histogram_quantile", "time", "scalar", "clamp"]);
      return `${f}(${Array.from({ length: Math.floor(rnd() * 4) }, () => gen(d + 1)).join(", ")})`;
    }
    if (r < 0.88) {
      const a = pick(["sum", "avg", "topk", "quantile", "count_values"]);
      return `${a} ${pick(["by (a)", "without (b,)", "by ()", ""])} (${gen(d + 1)}${rnd() < 0.5 ? ", " + gen(d + 1) : ""})`;
    }
    if (r < 0.94) return `${pick(["-", "+"])}${gen(d + 1)}`;
    return `${gen(d + 1)} ${pick(ops)} ${pick(mods)} ${gen(d + 1)}`;
  };
  return Array.from({ length: n }, () => gen(0));
}

async function compareWithPrometheus(queries: string[]): Promise<{ diffs: string[]; rejected: number; accepted: string[] }> {
  const diffs: string[] = [];
  const accepted: string[] = [];
  let rejected = 0;
  // A few at a time: the machine is shared.
  for (let i = 0; i < queries.length; i += 8) {
    const batch = queries.slice(i, i + 8);
    const answers = await Promise.all(batch.map(async (q) => {
      const u = new URL("/api/v1/query", prom.url);
      u.searchParams.set("query", q);
      u.searchParams.set("time", "1000");
      const r = await fetch(u);
      return { status: r.status, body: (await r.json()) as { errorType?: string; error?: string } };
    }));
    batch.forEach((q, j) => {
      const a = answers[j]!;
      const theirs = a.status === 400 && a.body.errorType === "bad_data" ? a.body.error!.replace(/^invalid parameter "query": /, "") : null;
      if (theirs !== null) rejected++;
      else if (a.status !== 400) accepted.push(q);
      let ours: string | null = null;
      try {
        parseExpr(q);
      } catch (e) {
        ours = (e as Error).message;
      }
      if (ours !== theirs) diffs.push(`${JSON.stringify(q)}\n    prometheus: ${theirs ?? `accepted (HTTP ${a.status})`}\n    ours:       ${ours ?? "accepted"}`);
    });
  }
  return { diffs, rejected, accepted };
}

test("parse corpus: accept/reject and error messages equal Prometheus 2.42's", async () => {
  const corpus = loadCorpus();
  assert.ok(corpus.length >= 150, `corpus has ${corpus.length} queries`);
  const { diffs, rejected, accepted: ok } = await compareWithPrometheus(corpus);
  accepted.push(...ok);
  assert.ok(rejected > 50 && rejected < corpus.length - 50, `corpus mixes valid and invalid queries (${rejected} rejected)`);
  assert.equal(diffs, [], `differences from Prometheus:\n${diffs.join("\n")}`);
});

test("1500 random queries: accept/reject and error messages equal Prometheus 2.42's", async () => {
  const qs = randomQueries(20261125, 1500);
  const { diffs, rejected } = await compareWithPrometheus(qs);
  assert.ok(rejected > 300 && rejected < 1300, `${rejected} rejected`);
  assert.equal(diffs, [], `differences from Prometheus:\n${diffs.join("\n")}`);
});

test("printer: exprString prints every accepted query as Prometheus 2.42 prints the same rule", async () => {
  assert.ok(accepted.length > 100);
  const dir = tempDir("rules-").path;
  const file = join(dir, "rules.yml");
  let y = "groups:\n  - name: corpus\n    interval: 1h\n    rules:\n";
  accepted.forEach((q, i) => { y += `      - record: r_${i}\n        expr: ${JSON.stringify(q)}\n`; });
  writeFileSync(file, y);
  const p = await startPrometheus({ config: `global:\n  evaluation_interval: 1h\nrule_files: [${JSON.stringify(file)}]\n` });
  try {
    const r = (await (await fetch(new URL("/api/v1/rules", p.url))).json()) as { data: { groups: { rules: { name: string; query: string }[] }[] } };
    const printed = new Map(r.data.groups[0]!.rules.map((x) => [x.name, x.query]));
    assert.is(printed.size, accepted.length);
    const diffs: string[] = [];
    accepted.forEach((q, i) => {
      const ours = exprString(parseExpr(q));
      const theirs = printed.get(`r_${i}`);
      if (ours !== theirs) diffs.push(`${JSON.stringify(q)}\n    prometheus: ${theirs}\n    ours:       ${ours}`);
    });
    assert.equal(diffs, [], diffs.join("\n"));
  } finally {
    await p.stop();
  }
});

test.run();
