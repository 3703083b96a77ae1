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

test("parse corpus: accept/reject and error messages equal Prometheus 2.42's", async () => {
  const corpus = loadCorpus();
  assert.ok(corpus.length >= 150, `corpus has ${corpus.length} queries`);
  const diffs: string[] = [];
  let rejected = 0;
  // A few at a time: the machine is shared.
  for (let i = 0; i < corpus.length; i += 8) {
    const batch = corpus.slice(i, i + 8);
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
  assert.ok(rejected > 50 && rejected < corpus.length - 50, `corpus mixes valid and invalid queries (${rejected} rejected)`);
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
