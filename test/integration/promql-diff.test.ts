// The differential proof of the PromQL engine: the corpus runs through a real Prometheus 2.42 serving
// promtool-backfilled blocks and through our engine over a MemoryQuerier holding the same samples.
// Every difference must be fixed or listed (query<TAB>reason) in test/known-differences.txt.
//
// PROMQL_DIFF_VERBOSE=1 prints every mismatch; PROMQL_DIFF_FILTER=<regex> runs a subset of the corpus.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { tempDir } from "../lib/proc.ts";
import { promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { Engine } from "../../shared/promql/engine.ts";
import { MemoryQuerier } from "../../shared/storage/memory.ts";
import { generateDataset, openMetrics } from "../promql/data.ts";
import { diff, tieRelaxed, DIFF_MODES as MODES, modeLabel, ourQuery, promQuery, readCorpus, readKnown, dataLoaded, hasData } from "../promql/compare.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");

let prom: Prometheus | null = null;
const ds = generateDataset();
const querier = new MemoryQuerier(ds.series);
const engine = new Engine();

test.before(async () => {
  const dir = tempDir("promql-diff-").path;
  await promtoolBackfill(openMetrics(ds), dir);
  prom = await startPrometheus({ dataDir: dir });
});

test.after(async () => {
  await prom?.stop();
});

async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await f(items[i++]!);
  }));
}

test("corpus: our engine answers what Prometheus 2.42 answers", async () => {
  const filter = process.env.PROMQL_DIFF_FILTER ? new RegExp(process.env.PROMQL_DIFF_FILTER) : null;
  const corpus = [...readCorpus(join(root, "test/promql/corpus.txt")), ...readCorpus(join(root, "test/promql/corpus-random.txt"))].filter((q) => !filter || filter.test(q));
  const known = readKnown(join(root, "test/known-differences.txt"));
  if (!filter) assert.ok(corpus.length >= 600, `corpus has ${corpus.length} queries`);
  const failures = new Map<string, string>();
  const relaxed = new Set<string>();
  let runs = 0, successes = 0, withData = 0;
  await pool(corpus, Number(process.env.PROMQL_DIFF_CONCURRENCY ?? 4), async (q) => {
    for (const m of MODES) {
      const want = await promQuery(prom!.url, q, m);
      const got = await ourQuery(engine, querier, q, m);
      runs++;
      if (want.status === "success") successes++;
      if (hasData(want)) withData++;
      let d = diff(q, want, got);
      if (d !== null && tieRelaxed(q, m, want, got)) { relaxed.add(q); d = null; }
      if (d !== null && !failures.has(q)) failures.set(q, `${modeLabel(m)}: ${d}`);
    }
  });
  const unexpected = [...failures].filter(([q]) => !known.has(q));
  const fixed = [...known.keys()].filter((q) => corpus.includes(q) && !failures.has(q));
  if (process.env.PROMQL_DIFF_VERBOSE || unexpected.length > 0) {
    for (const [q, d] of unexpected) console.log(`MISMATCH ${q}\n    ${d}`);
  }
  if (fixed.length > 0) console.log(`known differences that now agree (remove them from test/known-differences.txt):\n  ${fixed.join("\n  ")}`);
  console.log(`${corpus.length} queries, ${runs} evaluations (${successes} successful in Prometheus, ${withData} with series), ${failures.size} queries differ, ${failures.size - unexpected.length} of them known; ${relaxed.size} range topk/bottomk queries matched only per-step values (Prometheus breaks ties in Go map order)`);
  assert.ok(dataLoaded(runs, withData), `only ${withData} of ${runs} evaluations returned series in Prometheus (is the data loaded?)`);
  assert.equal(unexpected.map(([q]) => q), [], `${unexpected.length} queries differ from Prometheus and are not in test/known-differences.txt`);
});

test.run();
