// The PromQL differential corpus over historical data served by the store gateway: promtool-backfilled
// blocks uploaded to a filesystem bucket, `agent store` over it, `agent query --endpoint` (the querier's
// fan-out, Connect) over the store; Prometheus 2.42 serves copies of the same blocks. Every corpus query
// goes through both HTTP APIs. Differences must be fixed or listed in test/known-differences.txt (shared
// with the other differential runs).
//
// The default run takes the whole corpus, as the README says (about 2 minutes on a loaded 2-core machine);
// STORE_PROMQL_EVERY=<n> runs every nth query for a quicker look; PROMQL_DIFF_VERBOSE=1 prints all mismatches.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { generateDataset, openMetrics } from "../promql/data.ts";
import { diff, tieRelaxed, modeLabel, promQuery, readCorpus, readKnown, DIFF_MODES, dataLoaded, hasData } from "../promql/compare.ts";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { uploadBlockDir } from "../../agent/objstore/block.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
let prom: Prometheus | null = null;
const procs: Proc[] = [];
let oursUrl = "";

test.before(async () => {
  const src = tempDir("store-promql-blocks-").path;
  await promtoolBackfill(openMetrics(generateDataset()), src);
  const promDir = tempDir("store-promql-prom-").path;
  cpSync(src, promDir, { recursive: true });
  const bucketDir = tempDir("store-promql-bucket-").path;
  const bkt = new FilesystemBucket(bucketDir);
  // No external labels: the answers must equal Prometheus' own, label for label.
  for (const id of readdirSync(src)) if (/^[0-9A-Z]{26}$/.test(id)) await uploadBlockDir(bkt, join(src, id));
  const cfg = join(tempDir("store-promql-cfg-").path, "bucket.yml");
  writeFileSync(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
  const [sh, sg, qh] = [await freePort(), await freePort(), await freePort()];
  const bun = join(root, "node_modules", ".bin", "bun");
  const store = startProcess(bun, [join(root, "agent", "main.ts"), "store", `--objstore.config-file=${cfg}`,
    `--http-address=127.0.0.1:${sh}`, `--grpc-address=127.0.0.1:${sg}`, "--log.level=warn"], { cwd: root });
  procs.push(store);
  const p = startPrometheus({ dataDir: promDir });
  await waitForHttp(`http://127.0.0.1:${sh}/-/ready`, store, 60_000);
  const q = startProcess(bun, [join(root, "agent", "main.ts"), "query", `--endpoint=http://127.0.0.1:${sh}`,
    "--http-address", `127.0.0.1:${qh}`, "--log.level", "warn"], { cwd: root });
  procs.push(q);
  oursUrl = `http://127.0.0.1:${qh}`;
  [prom] = await Promise.all([p, waitForHttp(`${oursUrl}/-/ready`, q, 60_000)]);
});

test.after(async () => {
  for (const p of procs) await p.stop();
  await prom?.stop();
});

async function pool<T>(items: T[], n: number, f: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => { while (i < items.length) await f(items[i++]!); }));
}

test("corpus through querier + store gateway answers what Prometheus 2.42 answers", async () => {
  const every = Number(process.env.STORE_PROMQL_EVERY ?? 1);
  const all = [...readCorpus(join(root, "test/promql/corpus.txt")), ...readCorpus(join(root, "test/promql/corpus-random.txt"))];
  const corpus = all.filter((_, i) => i % every === 0);
  if (every === 1) assert.ok(corpus.length >= 1500, `the whole corpus: ${corpus.length} queries`);
  const known = readKnown(join(root, "test/known-differences.txt"));
  const failures = new Map<string, string>();
  const relaxed = new Set<string>();
  let runs = 0, successes = 0, withData = 0;
  await pool(corpus, 4, async (q) => {
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
  if (process.env.PROMQL_DIFF_VERBOSE || unexpected.length > 0) for (const [q, d] of unexpected.slice(0, 30)) console.log(`MISMATCH ${q}\n    ${d}`);
  console.log(`${corpus.length} queries via querier + store gateway, ${runs} evaluations (${successes} successful in Prometheus, ${withData} with series), ${failures.size} differ, ${failures.size - unexpected.length} of them known; ${relaxed.size} tie-relaxed`);
  assert.ok(dataLoaded(runs, withData), `only ${withData} of ${runs} evaluations returned series in Prometheus (is the data loaded?)`);
  assert.equal(unexpected.map(([q]) => q), [], `${unexpected.length} queries differ from Prometheus and are not in test/known-differences.txt`);
});

test.run();
