// The differential runs' data-loaded guard (test/promql/compare.ts dataLoaded): an empty TSDB must fail
// it. The guard it replaced (more than 80 % of evaluations have status "success") passed on no data.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { DIFF_MODES, dataLoaded, hasData, ourQuery, readCorpus } from "../../promql/compare.ts";
import { generateDataset } from "../../promql/data.ts";
import { Engine } from "../../../shared/promql/engine.ts";
import { MemoryQuerier } from "../../../shared/storage/memory.ts";

const dir = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..", "promql");
// Every 10th query of both corpora: the same mix as the differential runs, in a few seconds.
const corpus = [...readCorpus(join(dir, "corpus.txt")), ...readCorpus(join(dir, "corpus-random.txt"))].filter((_, i) => i % 10 === 0);

async function tally(q: MemoryQuerier): Promise<{ runs: number; successes: number; withData: number }> {
  const engine = new Engine();
  let runs = 0, successes = 0, withData = 0;
  for (const query of corpus) {
    for (const m of DIFF_MODES) {
      const a = await ourQuery(engine, q, query, m);
      runs++;
      if (a.status === "success") successes++;
      if (hasData(a)) withData++;
    }
  }
  return { runs, successes, withData };
}

test("no data loaded: almost every evaluation still succeeds, but the guard fails", async () => {
  const t = await tally(new MemoryQuerier([]));
  assert.ok(t.successes > t.runs * 0.8, `the old guard passed on no data: ${t.successes} of ${t.runs} succeed`);
  assert.not.ok(dataLoaded(t.runs, t.withData), `${t.withData} of ${t.runs} have series`);
});

test("the corpus dataset loaded: the guard passes", async () => {
  const t = await tally(new MemoryQuerier(generateDataset().series));
  assert.ok(dataLoaded(t.runs, t.withData), `${t.withData} of ${t.runs} have series`);
});

test("hasData: only vectors and matrices with series", () => {
  assert.ok(hasData({ status: "success", resultType: "vector", result: [{ metric: "{}", points: [[0, 1]] }] }));
  assert.not.ok(hasData({ status: "success", resultType: "vector", result: [] }));
  assert.not.ok(hasData({ status: "success", resultType: "matrix", result: [] }));
  assert.not.ok(hasData({ status: "success", resultType: "scalar", scalar: [0, 1] }));
  assert.not.ok(hasData({ status: "error", errorType: "bad_data", error: "x" }));
  assert.not.ok(dataLoaded(0, 0));
});

test.run();
