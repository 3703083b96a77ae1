// A slice of the PromQL differential corpus through the whole read path: Prometheus 2.42 serving the
// corpus dataset -> `bun agent sidecar` (remote read, StoreAPI) -> `bun agent query --endpoint`
// (fan-out, dedup, engine, JSON API), compared with the same Prometheus queried directly.
// Prometheus carries an external label prom_replica="r" (a sidecar's usual setting); the querier drops it
// as its replica label, so answers must equal Prometheus' own. Known engine differences are shared
// with the other corpus runs (test/known-differences.txt).
//
// PROMQL_DIFF_EVERY=<n> takes every n-th corpus query (default 3); PROMQL_DIFF_VERBOSE=1 prints mismatches.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { cpSync, writeFileSync } from "node:fs";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { generateDataset, openMetrics } from "../promql/data.ts";
import { DIFF_MODES, diff, modeLabel, promQuery, readCorpus, readKnown, dataLoaded, hasData } from "../promql/compare.ts";

const root = process.cwd();
let prom: Prometheus | null = null;
let sidecar: Proc | null = null, querier: Proc | null = null;
let querierUrl = "";
// A second querier reads a copy of the same blocks from a filesystem bucket, in-process (the store
// gateway's bucket store as a querier store, --objstore.config-file).
let bucketQuerier: Proc | null = null;
let bucketUrl = "";

test.before(async () => {
  const dir = tempDir("querier-diff-").path;
  await promtoolBackfill(openMetrics(generateDataset()), dir);
  prom = await startPrometheus({ dataDir: dir, config: "global:\n  scrape_interval: 15s\n  external_labels:\n    prom_replica: r\n" });
  const [sp, gp, qp] = [await freePort(), await freePort(), await freePort()];
  sidecar = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "sidecar", `--prometheus.url=${prom.url}`,
    `--tsdb.path=${dir}`, `--http-address=127.0.0.1:${sp}`, `--grpc-address=127.0.0.1:${gp}`, "--log.level=warn"]);
  await waitForHttp(`http://127.0.0.1:${sp}/-/ready`, sidecar, 30_000);
  querier = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "query", "--endpoint", `http://127.0.0.1:${sp}`,
    "--query.replica-label", "prom_replica", `--http-address=127.0.0.1:${qp}`, "--log.level=warn"]);
  querierUrl = `http://127.0.0.1:${qp}`;
  const bucketDir = tempDir("querier-diff-bucket-").path;
  cpSync(dir, bucketDir, { recursive: true, filter: (src) => !/\/(wal|chunks_head)(\/|$)|\/(lock|queries\.active)$/.test(src) });
  const cfgFile = join(tempDir("querier-diff-objstore-").path, "bucket.yml");
  writeFileSync(cfgFile, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
  const bp = await freePort();
  bucketQuerier = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "query", `--objstore.config-file=${cfgFile}`,
    `--http-address=127.0.0.1:${bp}`, "--log.level=warn"]);
  bucketUrl = `http://127.0.0.1:${bp}`;
  await Promise.all([waitForHttp(`${querierUrl}/-/ready`, querier, 30_000), waitForHttp(`${bucketUrl}/-/ready`, bucketQuerier, 30_000)]);
});

test.after(async () => {
  await querier?.stop();
  await bucketQuerier?.stop();
  await sidecar?.stop();
  await prom?.stop();
});

async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await f(items[i++]!);
  }));
}

test("corpus slice through Prometheus -> sidecar -> querier answers what Prometheus answers", async () => {
  const every = Number(process.env.PROMQL_DIFF_EVERY ?? 3);
  const corpus = readCorpus(join(root, "test/promql/corpus.txt")).filter((_, i) => i % every === 0);
  const known = readKnown(join(root, "test/known-differences.txt"));
  const failures = new Map<string, string>();
  let runs = 0, successes = 0, withData = 0;
  await pool(corpus, 4, async (q) => {
    for (const m of DIFF_MODES) {
      const [want, got] = await Promise.all([promQuery(prom!.url, q, m), promQuery(querierUrl, q, m)]);
      runs++;
      if (want.status === "success") successes++;
      if (hasData(want)) withData++;
      const d = diff(q, want, got);
      if (d !== null && !failures.has(q)) failures.set(q, `${modeLabel(m)}: ${d}`);
    }
  });
  const unexpected = [...failures].filter(([q]) => !known.has(q));
  if (process.env.PROMQL_DIFF_VERBOSE || unexpected.length > 0) {
    for (const [q, d] of unexpected) console.log(`MISMATCH ${q}\n    ${d}`);
  }
  console.log(`${corpus.length} queries through the sidecar and querier, ${runs} evaluations (${successes} successful in Prometheus, ${withData} with series), ${failures.size} differ, ${failures.size - unexpected.length} of them known`);
  assert.ok(dataLoaded(runs, withData), `only ${withData} of ${runs} evaluations returned series in Prometheus (is the data loaded?)`);
  assert.equal(unexpected.map(([q]) => q), [], `${unexpected.length} queries differ through the querier and are not in test/known-differences.txt`);
});

test("corpus slice from a bucket read in-process by the querier answers what Prometheus answers", async () => {
  const every = Number(process.env.PROMQL_DIFF_EVERY ?? 3) * 2;
  const corpus = readCorpus(join(root, "test/promql/corpus.txt")).filter((_, i) => i % every === 1);
  const known = readKnown(join(root, "test/known-differences.txt"));
  const failures = new Map<string, string>();
  let runs = 0, successes = 0, withData = 0;
  await pool(corpus, 4, async (q) => {
    for (const m of DIFF_MODES) {
      const [want, got] = await Promise.all([promQuery(prom!.url, q, m), promQuery(bucketUrl, q, m)]);
      runs++;
      if (want.status === "success") successes++;
      if (hasData(want)) withData++;
      const d = diff(q, want, got);
      if (d !== null && !failures.has(q)) failures.set(q, `${modeLabel(m)}: ${d}`);
    }
  });
  const unexpected = [...failures].filter(([q]) => !known.has(q));
  for (const [q, d] of unexpected) console.log(`MISMATCH (bucket) ${q}\n    ${d}`);
  console.log(`${corpus.length} queries from the bucket through the querier, ${runs} evaluations, ${failures.size} differ, ${failures.size - unexpected.length} of them known`);
  assert.ok(dataLoaded(runs, withData), `only ${withData} of ${runs} evaluations returned series in Prometheus (are the blocks in the bucket?)`);
  assert.equal(unexpected.map(([q]) => q), [], `${unexpected.length} queries differ from the bucket and are not in test/known-differences.txt`);
});

test.run();
