// The querier against real components: two Prometheus 2.42 as an HA pair (external labels cluster=c1,
// replica=a/b, the same loopback scrape target, the same backfilled history except a gap on each side)
// with one `bun agent sidecar` each, and the querier three times over: `bun run agent query --endpoint`,
// Deno (edge/deno.ts) and workerd (`wrangler dev` of edge/worker/index.ts).
// Oracle: a third Prometheus holding the history without gaps (the single-replica truth), and
// promtool's query client. Then, mid-test, one Prometheus stops (answers stay complete) and one
// sidecar stops (warning under WARN, error under ABORT). Sidecar B requires a bearer token, which each
// querier is given as a per-store token.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { freePort, startProcess, startWranglerDev, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promApi, promtool, promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";

const root = process.cwd();
const test = suite("querier HA");

const now = Math.floor(Date.now() / 1000);
const hEnd = now - 3600, hStart = hEnd - 7200 + 15;
const gapA: [number, number] = [hStart + 1800, hStart + 2400];
const gapB: [number, number] = [hStart + 4200, hStart + 5100];

function history(gap: [number, number] | null): string {
  const keep = (t: number) => gap === null || t < gap[0] || t >= gap[1];
  let om = "# TYPE demo_counter counter\n";
  for (let n = 0; n < 6; n++) {
    for (let t = hStart; t <= hEnd; t += 15) if (keep(t)) om += `demo_counter_total{instance="i${n}",job="j${n % 2}"} ${(t - hStart) * (n + 1) + (t > hStart + 3000 && n === 0 ? -5000 : 0) + 6000} ${t}\n`;
  }
  om += "# TYPE demo_gauge gauge\n";
  for (let n = 0; n < 3; n++) {
    for (let t = hStart; t <= hEnd; t += 15) if (keep(t)) om += `demo_gauge{zone="z${n}"} ${Math.sin(t / 700 + n).toFixed(4)} ${t}\n`;
  }
  return om + "# EOF\n";
}

interface Querier { name: string; url: string; proc: Proc }
let promA: Prometheus, promB: Prometheus, truth: Prometheus;
let sidecarA: { proc: Proc; url: string; grpc: string }, sidecarB: { proc: Proc; url: string; grpc: string };
let queriers: Querier[] = [];
let target: ReturnType<typeof createServer>;

// Sidecar B requires a bearer token: every querier must send it (per-store tokens from a file, the
// environment or a Worker var, depending on the runtime).
const STORE_TOKEN = "b-s3cret";
let storeTokens = "";

async function startSidecar(prom: Prometheus, token?: string): Promise<{ proc: Proc; url: string; grpc: string }> {
  const hp = await freePort(), gp = await freePort();
  const proc = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "sidecar",
    `--prometheus.url=${prom.url}`, `--tsdb.path=${prom.dataDir}`, `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`,
    "--prometheus.ready_timeout=30s", "--prometheus.get_config_interval=2s", "--log.level=warn"], { env: token ? { THANOTS_SIDECAR_BEARER_TOKEN: token } : {} });
  const url = `http://127.0.0.1:${hp}`;
  await waitForHttp(`${url}/-/ready`, proc, 30_000);
  return { proc, url, grpc: `grpc://127.0.0.1:${gp}` };
}

async function startBunQuerier(eps: string[]): Promise<Querier> {
  const port = await freePort();
  const tokensFile = join(tempDir("querier-tokens-").path, "tokens.json");
  writeFileSync(tokensFile, storeTokens);
  const proc = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "query", `--endpoint.tokens-file=${tokensFile}`,
    ...eps.flatMap((e) => ["--endpoint", e]), "--query.replica-label", "replica", "--store.info-ttl=2s",
    `--http-address=127.0.0.1:${port}`, "--log.level=warn"]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 30_000);
  return { name: "bun", url, proc };
}

async function startDenoQuerier(eps: string[]): Promise<Querier> {
  const port = await freePort();
  const proc = startProcess(join(root, "node_modules/.bin/deno"), ["run", "-A", join(root, "edge/deno.ts"),
    ...eps.flatMap((e) => ["--endpoint", e]), "--query.replica-label", "replica", "--store.info-ttl", "2s", "--http-address", `127.0.0.1:${port}`], { cwd: root, env: { STORE_TOKENS: storeTokens } });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 60_000);
  return { name: "deno", url, proc };
}

async function startWorkerdQuerier(eps: string[]): Promise<Querier> {
  const dir = tempDir("querier-worker-").path;
  writeFileSync(join(dir, "wrangler.toml"), [
    `name = "querier-test"`, `main = ${JSON.stringify(join(root, "edge/worker/index.ts"))}`,
    `compatibility_date = "2026-04-01"`, `compatibility_flags = ["nodejs_compat"]`,
    `[vars]`, `STORE_ENDPOINTS = ${JSON.stringify(eps.join(","))}`, `REPLICA_LABELS = "replica"`, `INFO_TTL = "2s"`, `STORE_TOKENS = ${JSON.stringify(storeTokens)}`, "",
  ].join("\n"));
  const { proc, url } = await startWranglerDev({ args: ["--config", join(dir, "wrangler.toml")], cwd: dir, readyPath: "/-/ready" });
  return { name: "workerd", url, proc };
}

test.before(async () => {
  const [dirA, dirB, dirT] = [tempDir("ha-a-").path, tempDir("ha-b-").path, tempDir("ha-t-").path];
  await Promise.all([promtoolBackfill(history(gapA), dirA), promtoolBackfill(history(gapB), dirB), promtoolBackfill(history(null), dirT)]);
  // A live counter both replicas scrape: wall-clock seconds, so both see the same function of time.
  target = createServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(`# TYPE live_seconds_total counter\nlive_seconds_total ${Math.floor(Date.now() / 1000)}\n`);
  });
  await new Promise<void>((r) => target.listen(0, "127.0.0.1", () => r()));
  const tp = (target.address() as { port: number }).port;
  const cfg = (replica: string) => `global:\n  scrape_interval: 1s\n  external_labels:\n    cluster: c1\n    replica: ${replica}\nscrape_configs:\n  - job_name: live\n    static_configs:\n      - targets: ["127.0.0.1:${tp}"]\n`;
  [promA, promB, truth] = await Promise.all([
    startPrometheus({ dataDir: dirA, config: cfg("a") }),
    startPrometheus({ dataDir: dirB, config: cfg("b") }),
    startPrometheus({ dataDir: dirT }),
  ]);
  [sidecarA, sidecarB] = await Promise.all([startSidecar(promA), startSidecar(promB, STORE_TOKEN)]);
  const eps = [sidecarA.url, sidecarB.url];
  storeTokens = JSON.stringify({ [sidecarB.url]: STORE_TOKEN });
  queriers = await Promise.all([startBunQuerier(eps), startDenoQuerier(eps), startWorkerdQuerier(eps)]);
});

test.after(async () => {
  await Promise.all([...queriers.map((q) => q.proc.stop()), sidecarA?.proc.stop(), sidecarB?.proc.stop()]);
  await Promise.all([promA?.stop(), promB?.stop(), truth?.stop()]);
  target?.close();
});

/** Result with the `cluster` external label dropped and rows sorted, for comparison with the truth. */
function normalized(body: any): unknown {
  if (body.status !== "success") return body;
  const rows = (body.data.result as { metric: Record<string, string> }[]).map((r) => {
    const { cluster: _c, ...metric } = r.metric;
    return { ...r, metric };
  });
  rows.sort((x, y) => JSON.stringify(x.metric).localeCompare(JSON.stringify(y.metric)));
  return { resultType: body.data.resultType, rows };
}

const QUERIES = [
  "demo_counter_total",
  "rate(demo_counter_total[5m])",
  "sum by (job) (increase(demo_counter_total[10m]))",
  "resets(demo_counter_total[30m])",
  "demo_gauge",
  "max_over_time(demo_gauge[10m])",
  "count(demo_gauge)",
  "avg without (zone) (demo_gauge) * 2",
  "demo_counter_total offset 20m",
];

test("dedup=true: range and instant answers equal the single-replica truth (gaps on each replica), on Bun, Deno and workerd", async () => {
  for (const q of queriers) {
    for (const query of QUERIES) {
      const range = { query, start: String(hStart), end: String(hEnd), step: "60" };
      const want = normalized(await promApi(truth.url, "/api/v1/query_range", range));
      const got = await promApi(q.url, "/api/v1/query_range", range);
      assert.is(got.status, "success", `${q.name} ${query}: ${JSON.stringify(got)}`);
      assert.equal(got.warnings, undefined, `${q.name} ${query} warnings`);
      assert.equal(normalized(got), want, `${q.name} range ${query}`);
      for (const t of [gapA[0] + 30, gapB[1] - 1, hEnd]) {
        const inst = { query, time: String(t) };
        assert.equal(normalized(await promApi(q.url, "/api/v1/query", inst)), normalized(await promApi(truth.url, "/api/v1/query", inst)), `${q.name} instant ${query} @${t}`);
      }
    }
  }
});

test("gRPC endpoints (grpc://, HTTP/2 as Go Thanos speaks) answer as the Connect ones do; a querier stacks on another's gRPC StoreAPI", async () => {
  const port = await freePort(), grpcPort = await freePort(), upperPort = await freePort();
  const tokensFile = join(tempDir("querier-grpc-tokens-").path, "tokens.json");
  writeFileSync(tokensFile, JSON.stringify({ [sidecarB.grpc]: STORE_TOKEN }));
  const proc = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "query", `--endpoint.tokens-file=${tokensFile}`,
    "--endpoint", sidecarA.grpc, "--endpoint", sidecarB.grpc, "--query.replica-label", "replica", `--http-address=127.0.0.1:${port}`,
    `--grpc-address=127.0.0.1:${grpcPort}`, "--log.level=warn"]);
  const upper = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "query",
    "--endpoint", `grpc://127.0.0.1:${grpcPort}`, "--query.replica-label", "replica", `--http-address=127.0.0.1:${upperPort}`, "--log.level=warn"]);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/-/ready`, proc, 30_000);
    for (const query of ["rate(demo_counter_total[5m])", "demo_gauge"]) {
      const range = { query, start: String(hStart), end: String(hEnd), step: "120" };
      const got = await promApi(url, "/api/v1/query_range", range);
      assert.equal(got.warnings, undefined, JSON.stringify(got.warnings));
      assert.equal(normalized(got), normalized(await promApi(truth.url, "/api/v1/query_range", range)), query);
    }
    const st = await promApi(url, "/api/v1/stores");
    assert.equal(st.data.sidecar.map((r: any) => [r.name, r.healthy]).sort(), [[sidecarA.grpc, true], [sidecarB.grpc, true]].sort());
    const upperUrl = `http://127.0.0.1:${upperPort}`;
    await waitForHttp(`${upperUrl}/-/ready`, upper, 30_000);
    for (const params of [{ query: "demo_gauge", time: String(hEnd) }, { query: "demo_gauge", time: String(hEnd), dedup: "false" }] as Record<string, string>[]) {
      const a = await promApi(url, "/api/v1/query", params), b = await promApi(upperUrl, "/api/v1/query", params);
      assert.equal(b, a, `stacked over gRPC: ${JSON.stringify(params)}`);
    }
    const ust = await promApi(upperUrl, "/api/v1/stores");
    assert.equal(ust.data.query.map((r: any) => r.labelSets.length), [2]);
  } finally {
    await upper.stop();
    await proc.stop();
  }
});

test("dedup=false shows both replicas; /api/v1/stores lists both sidecars with their label sets", async () => {
  for (const q of queriers) {
    const two = await promApi(q.url, "/api/v1/query", { query: "demo_gauge{zone=\"z0\"}", time: String(hEnd), dedup: "false" });
    assert.equal(two.data.result.map((r: any) => r.metric.replica).sort(), ["a", "b"], q.name);
    const st = await promApi(q.url, "/api/v1/stores");
    const rows = st.data.sidecar as any[];
    assert.equal(rows.map((r) => [r.name, r.healthy, r.lastError]).sort(), [[sidecarA.url, true, null], [sidecarB.url, true, null]].sort(), q.name);
    assert.equal(rows.find((r) => r.name === sidecarA.url).labelSets, [{ cluster: "c1", replica: "a" }]);
    assert.ok(rows.every((r) => r.minTime <= hStart * 1000), `${q.name}: minTime ${rows.map((r) => r.minTime)}`);
  }
});

test("without sidecar B's token, its answer is a partial-response warning naming it (unauthenticated)", async () => {
  const port = await freePort();
  const proc = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "query",
    "--endpoint", sidecarA.url, "--endpoint", sidecarB.url, "--query.replica-label", "replica", `--http-address=127.0.0.1:${port}`, "--log.level=warn"]);
  try {
    await waitForHttp(`http://127.0.0.1:${port}/-/ready`, proc, 30_000);
    const r = await promApi(`http://127.0.0.1:${port}`, "/api/v1/query", { query: "demo_gauge", time: String(hEnd) });
    assert.is(r.status, "success");
    assert.is(r.data.result.length, 3);
    assert.is(r.warnings?.length, 1, JSON.stringify(r.warnings));
    assert.match(r.warnings[0], sidecarB.url);
    assert.match(r.warnings[0], /unauthenticated/);
  } finally {
    await proc.stop();
  }
});

test("promtool query instant|range|series|labels against the querier agrees with the truth", async () => {
  const drop = (s: string) => s.replaceAll(/cluster="c1", |, cluster="c1"|cluster="c1"/g, "");
  for (const q of [queriers[0]!, queriers[2]!]) {
    const expr = "sum by (job) (rate(demo_counter_total[5m]))";
    const inst = ["query", "instant", `--time=${hEnd}`];
    assert.is((await promtool([...inst, q.url, expr])).stdout, (await promtool([...inst, truth.url, expr])).stdout, `${q.name} instant`);
    const range = ["query", "range", `--start=${hStart}`, `--end=${hEnd}`, "--step=5m"];
    assert.is((await promtool([...range, q.url, "demo_gauge"])).stdout.length > 0, true);
    assert.is(drop((await promtool([...range, q.url, "demo_gauge"])).stdout), (await promtool([...range, truth.url, "demo_gauge"])).stdout, `${q.name} range`);
    const series = ["query", "series", "--match=demo_counter_total", `--start=${hStart}`, `--end=${hEnd}`];
    assert.is(drop((await promtool([...series, q.url])).stdout), (await promtool([...series, truth.url])).stdout, `${q.name} series`);
    const labels = ["query", "labels"];
    assert.is((await promtool([...labels, q.url, "zone"])).stdout, (await promtool([...labels, truth.url, "zone"])).stdout, `${q.name} labels`);
    assert.is((await promtool([...labels, q.url, "cluster"])).stdout.trim(), "c1");
  }
});

test("one Prometheus stops mid-test: the deduplicated live series stays complete", async () => {
  // Both replicas scrape for a while first (Prometheus applies targets up to 5 s after start).
  let first = 0;
  for (let i = 0; ; i++) {
    const r = await promApi(promA.url, "/api/v1/query", { query: "timestamp(live_seconds_total) - min_over_time(timestamp(live_seconds_total)[1m:1s])" });
    first = Date.now() / 1000 - Number(r.data.result[0]?.value[1] ?? 0);
    if (Number(r.data.result[0]?.value[1] ?? 0) >= 6) break;
    if (i > 200) throw new Error("Prometheus A did not scrape the live target for 6 s within 20 s");
    await new Promise((r) => setTimeout(r, 100));
  }
  const stopAt = Date.now() / 1000;
  await promB.stop();
  await new Promise((r) => setTimeout(r, 4000));
  const end = Math.floor(Date.now() / 1000) - 1, start = Math.ceil(Math.max(first, stopAt - 10));
  for (const q of queriers) {
    const r = await promApi(q.url, "/api/v1/query_range", { query: "live_seconds_total", start: String(start), end: String(end), step: "1" });
    assert.is(r.status, "success", `${q.name}: ${JSON.stringify(r)}`);
    assert.is(r.data.result.length, 1, q.name);
    const vals = r.data.result[0].values as [number, string][];
    // A point at every step, from before the stop to now; values follow the wall clock (scrapes at 1s).
    assert.is(vals.length, end - start + 1, `${q.name}: ${vals.length} points for ${end - start + 1} steps`);
    for (const [t, v] of vals) assert.ok(Math.abs(Number(v) - t) <= 3, `${q.name}: value ${v} at ${t}`);
  }
});

test("one sidecar stops: a warning naming it under WARN, an error naming it under ABORT", async () => {
  await sidecarB.proc.stop();
  for (const q of queriers) {
    const warn = await promApi(q.url, "/api/v1/query", { query: "demo_gauge", time: String(hEnd) });
    assert.is(warn.status, "success", q.name);
    assert.is(warn.data.result.length, 3, q.name);
    assert.ok(warn.warnings?.length >= 1 && warn.warnings.some((w: string) => w.includes(sidecarB.url)), `${q.name}: ${JSON.stringify(warn.warnings)}`);
    const abort = await promApi(q.url, "/api/v1/query", { query: "demo_gauge", time: String(hEnd), partial_response: "false" });
    assert.is(abort.status, "error", q.name);
    // Thanos answers a query whose store fails with 422 execution (pkg/api/query/v1.go), as Prometheus
    // answers any storage error.
    assert.is(abort.httpStatus, 422, q.name);
    assert.is(abort.errorType, "execution", q.name);
    assert.match(abort.error, sidecarB.url, q.name);
  }
});

test.run();
