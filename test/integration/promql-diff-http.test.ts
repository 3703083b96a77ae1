// The differential corpus again, end to end: Prometheus 2.42 and our `agent query --tsdb.path` serve
// copies of the same promtool-backfilled blocks, and every corpus query goes through both HTTP APIs
// (block reader + engine + JSON API on our side). Differences must be fixed or listed in
// test/known-differences.txt, which is shared with the in-process run (promql-diff.test.ts).
//
// PROMQL_DIFF_VERBOSE=1 prints every mismatch; PROMQL_DIFF_FILTER=<regex> runs a subset of the corpus.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { generateDataset, openMetrics } from "../promql/data.ts";
import { diff, tieRelaxed, modeLabel, promQuery, readCorpus, readKnown, dataLoaded, hasData } from "../promql/compare.ts";
import { DIFF_MODES } from "../promql/compare.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");

let prom: Prometheus | null = null;
let ours: Proc | null = null;
let oursUrl = "";

test.before(async () => {
  const src = tempDir("promql-http-blocks-").path;
  await promtoolBackfill(openMetrics(generateDataset()), src);
  // Separate copies: Prometheus may compact or lock its directory while we read ours.
  const promDir = tempDir("promql-http-prom-").path;
  const ourDir = tempDir("promql-http-ours-").path;
  cpSync(src, promDir, { recursive: true });
  cpSync(src, ourDir, { recursive: true });
  const port = await freePort();
  ours = startProcess(join(root, "node_modules", ".bin", "bun"), [
    join(root, "agent", "main.ts"), "query", "--tsdb.path", ourDir, "--http-address", `127.0.0.1:${port}`, "--log.level", "warn",
  ], { cwd: root });
  oursUrl = `http://127.0.0.1:${port}`;
  [prom] = await Promise.all([startPrometheus({ dataDir: promDir }), waitForHttp(`${oursUrl}/-/ready`, ours, 60_000)]);
});

test.after(async () => {
  await ours?.stop();
  await prom?.stop();
});

async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await f(items[i++]!);
  }));
}

test("corpus over HTTP: agent query answers what Prometheus 2.42 answers", async () => {
  const filter = process.env.PROMQL_DIFF_FILTER ? new RegExp(process.env.PROMQL_DIFF_FILTER) : null;
  const corpus = [...readCorpus(join(root, "test/promql/corpus.txt")), ...readCorpus(join(root, "test/promql/corpus-random.txt"))].filter((q) => !filter || filter.test(q));
  const known = readKnown(join(root, "test/known-differences.txt"));
  const failures = new Map<string, string>();
  const relaxed = new Set<string>();
  let runs = 0, successes = 0, withData = 0;
  await pool(corpus, Number(process.env.PROMQL_DIFF_CONCURRENCY ?? 4), async (q) => {
    for (const m of DIFF_MODES) {
      const [want, got] = await Promise.all([promQuery(prom!.url, q, m), promQuery(oursUrl, q, m)]);
      runs++;
      if (want.status === "success") successes++;
      if (hasData(want)) withData++;
      let d = diff(q, want, got);
      if (d !== null && tieRelaxed(q, m, want, got)) { relaxed.add(q); d = null; }
      if (d !== null && !failures.has(q)) failures.set(q, `${modeLabel(m)}: ${d}`);
    }
  });
  const unexpected = [...failures].filter(([q]) => !known.has(q));
  if (process.env.PROMQL_DIFF_VERBOSE || unexpected.length > 0) {
    for (const [q, d] of unexpected) console.log(`MISMATCH ${q}\n    ${d}`);
  }
  console.log(`${corpus.length} queries over HTTP, ${runs} evaluations (${successes} successful in Prometheus, ${withData} with series), ${failures.size} queries differ, ${failures.size - unexpected.length} of them known; ${relaxed.size} range topk/bottomk queries matched only per-step values (Prometheus breaks ties in Go map order)`);
  assert.ok(dataLoaded(runs, withData), `only ${withData} of ${runs} evaluations returned series in Prometheus (is the data loaded?)`);
  assert.equal(unexpected.map(([q]) => q), [], `${unexpected.length} queries differ from Prometheus over HTTP and are not in test/known-differences.txt`);
});

test.run();
