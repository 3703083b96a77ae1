// By hand, with a real Thanos binary: does a Thanos querier get the same answers through our components
// as through Thanos' own? Not part of `npm test` (it needs a Thanos build; see docs/benchmarks.md,
// section sidecar, for the two commands that build v0.41.0 from the Go module cache).
//
//   THANOS_BIN=/path/to/thanos npx tsx test/interop/thanos.ts [series=2000]
//
// One Prometheus 2.42 with backfilled data and external labels {cluster, replica}; beside it our sidecar
// (bun), which also ships the blocks to a filesystem bucket, and a Thanos sidecar; our querier with
// --grpc-address over our sidecar; a Thanos store gateway and ours over the bucket. Thanos queriers:
// B over Thanos' sidecar (the reference); A over our sidecar, C over our querier's gRPC StoreAPI, D over
// Thanos' store gateway reading the blocks our sidecar uploaded, E over our store gateway. Every query,
// instant and range, must give the same answer through A, C, D and E as through B (results sorted by
// labels). Exit 1 otherwise.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForHealthyStores, waitForHttp, type Proc } from "../lib/proc.ts";
import { promtool, startPrometheus } from "../lib/prometheus.ts";

const thanosBin = process.env.THANOS_BIN;
if (!thanosBin) { console.error("set THANOS_BIN to a thanos binary"); process.exit(2); }
const n = Number(process.argv[2] ?? 2000);
const root = process.cwd();
const dir = tempDir("thanos-interop-").path;
const end = Math.floor(Date.now() / 1000) - 3 * 3600, start = end - 7200 + 15;

let om = "# TYPE interop_metric gauge\n# TYPE interop_total counter\n";
for (let s = 0; s < n; s++) {
  for (let t = start; t <= end; t += 15) {
    om += `interop_metric{i="${s}",job="j${s % 5}"} ${((t * 7 + s) % 1000) / 10} ${t}\n`;
    om += `interop_total{i="${s}",job="j${s % 5}"} ${(t - start) * (1 + (s % 3))} ${t}\n`;
  }
}
writeFileSync(join(dir, "data.om"), om + "# EOF\n");
await promtool(["tsdb", "create-blocks-from", "openmetrics", join(dir, "data.om"), join(dir, "tsdb")]);

const procs: Proc[] = [];
const prom = await startPrometheus({
  dataDir: join(dir, "tsdb"),
  config: "global:\n  external_labels:\n    cluster: interop\n    replica: r1\n",
  args: ["--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h"],
});
try {
  const port = async () => freePort();
  const [ourHttp, ourGrpc, tsHttp, tsGrpc, oqHttp, oqGrpc] = await Promise.all([port(), port(), port(), port(), port(), port()]);
  const bun = join(root, "node_modules/.bin/bun");
  const bucketDir = join(dir, "bucket");
  mkdirSync(bucketDir);
  const bucketYml = join(dir, "bucket.yml");
  writeFileSync(bucketYml, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
  const localBlocks = readdirSync(join(dir, "tsdb")).filter((f) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(f));
  const start_ = (cmd: string, args: string[]) => { const p = startProcess(cmd, args, { cwd: root }); procs.push(p); return p; };
  const ours = start_(bun, ["agent/main.ts", "sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${join(dir, "tsdb")}`,
    `--grpc-address=127.0.0.1:${ourGrpc}`, `--http-address=127.0.0.1:${ourHttp}`, `--objstore.config-file=${bucketYml}`, "--log.level=warn"]);
  const theirs = start_(thanosBin, ["sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${join(dir, "tsdb")}`,
    `--grpc-address=127.0.0.1:${tsGrpc}`, `--http-address=127.0.0.1:${tsHttp}`, "--log.level=warn"]);
  await waitForHttp(`http://127.0.0.1:${ourHttp}/-/ready`, ours);
  await waitForHttp(`http://127.0.0.1:${tsHttp}/-/ready`, theirs);
  const oq = start_(bun, ["agent/main.ts", "query", "--endpoint", `http://127.0.0.1:${ourHttp}`,
    `--http-address=127.0.0.1:${oqHttp}`, `--grpc-address=127.0.0.1:${oqGrpc}`, "--log.level=warn"]);
  await waitForHttp(`http://127.0.0.1:${oqHttp}/-/ready`, oq);
  const querier = async (endpoint: number) => {
    const h = await freePort(), g = await freePort();
    const p = start_(thanosBin, ["query", `--endpoint=127.0.0.1:${endpoint}`, `--http-address=127.0.0.1:${h}`,
      `--grpc-address=127.0.0.1:${g}`, "--query.replica-label=replica", "--log.level=warn"]);
    await waitForHttp(`http://127.0.0.1:${h}/-/ready`, p);
    await waitForHealthyStores(`http://127.0.0.1:${h}`, 1, 20_000);
    return `http://127.0.0.1:${h}`;
  };
  // Our sidecar ships every block (meta.json last); then both store gateways read that bucket.
  for (let i = 0; ; i++) {
    const shipped = readdirSync(bucketDir).filter((b) => existsSync(join(bucketDir, b, "meta.json")));
    if (shipped.length >= localBlocks.length) break;
    if (i > 300) throw new Error(`our sidecar shipped ${shipped.length} of ${localBlocks.length} blocks in 60 s: ${ours.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const [sgHttp, sgGrpc, osHttp, osGrpc] = await Promise.all([port(), port(), port(), port()]);
  const theirStore = start_(thanosBin, ["store", `--objstore.config-file=${bucketYml}`, `--data-dir=${join(dir, "thanos-store")}`,
    `--grpc-address=127.0.0.1:${sgGrpc}`, `--http-address=127.0.0.1:${sgHttp}`, "--log.level=warn"]);
  const ourStore = start_(bun, ["agent/main.ts", "store", `--objstore.config-file=${bucketYml}`,
    `--grpc-address=127.0.0.1:${osGrpc}`, `--http-address=127.0.0.1:${osHttp}`, "--log.level=warn"]);
  await waitForHttp(`http://127.0.0.1:${sgHttp}/-/ready`, theirStore, 60_000);
  await waitForHttp(`http://127.0.0.1:${osHttp}/-/ready`, ourStore, 60_000);
  const [A, B, C, D, E] = [await querier(ourGrpc), await querier(tsGrpc), await querier(oqGrpc), await querier(sgGrpc), await querier(osGrpc)];
  const paths: [string, string][] = [["our sidecar", A], ["our querier", C], ["Thanos store over our shipped blocks", D], ["our store gateway", E]];

  const queries = [
    "count(interop_metric)", "sum by (job) (interop_metric)", 'avg_over_time(interop_metric{i="42"}[1h])',
    'rate(interop_total{i=~"1.."}[5m])', "sum by (job) (increase(interop_total[30m]))", "topk(5, max_over_time(interop_metric[30m]))",
    "quantile(0.9, interop_metric)", 'count_values("v", interop_metric{i=~"2.."})', 'interop_metric{i="7"} offset 10m',
    'absent(interop_metric{i="nope"})', "interop_metric > 99.5", 'interop_total{job="j1"} / on(i) group_left interop_metric',
    'label_replace(interop_metric{i="3"}, "x", "$1", "job", "j(.*)")', "count(count_over_time(interop_metric[2h]))",
  ];
  const norm = (j: { status: string; data?: { result: { metric: Record<string, string> }[] }; error?: string }) =>
    j.status !== "success" ? `error: ${j.error}` :
      JSON.stringify([...j.data!.result].sort((x, y) => JSON.stringify(x.metric) < JSON.stringify(y.metric) ? -1 : 1));
  const ask = async (base: string, kind: "query" | "query_range", q: string) => {
    const body = new URLSearchParams(kind === "query" ? { query: q, time: String(end) } : { query: q, start: String(start + 600), end: String(end), step: "300" });
    return norm(await (await fetch(`${base}/api/v1/${kind}`, { method: "POST", body })).json() as never);
  };
  let same = 0, differ = 0, empty = 0;
  for (const q of queries) {
    for (const kind of ["query", "query_range"] as const) {
      const b = await ask(B, kind, q);
      const answers = await Promise.all(paths.map(([who, base]) => ask(base, kind, q).then((a) => [who, a] as const)));
      // A reference that failed or found nothing proves nothing (absent() of a missing series excepted).
      if (b.startsWith("error") || (b === "[]" && !q.startsWith("absent"))) empty++;
      for (const [who, got] of answers) {
        if (got === b) same++;
        else { differ++; console.log(`DIFF ${kind} ${q} via ${who}:\n  got  ${got.slice(0, 300)}\n  want ${b.slice(0, 300)}`); }
      }
    }
  }
  console.log(`Thanos querier through ours vs through Thanos' sidecar: ${same} answers equal, ${differ} differ (${queries.length} queries x instant/range x ${paths.length} paths: ${paths.map((p) => p[0]).join(", ")}; ${n} series, ${localBlocks.length} blocks)`);
  if (empty > 0) console.log(`${empty} reference answers were errors or empty: the comparison is void for them`);
  process.exitCode = differ === 0 && empty === 0 ? 0 : 1;
} finally {
  for (const p of procs.reverse()) await p.stop();
  await prom.stop();
}
