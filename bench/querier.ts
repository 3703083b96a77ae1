// Querier benchmark: the PromQL bench query set (bench/promql.ts) asked of an HA pair through the full
// read path, Prometheus 2.42 x2 (external labels replica=a/b, copies of the same promtool blocks) ->
// `bun agent sidecar` x2 -> `bun agent query --endpoint a --endpoint b --query.replica-label replica`
// (fan-out, merge, penalty dedup, engine, JSON), against replica A's Prometheus asked directly, in the
// same run. Prints per-query medians, the querier/Prometheus ratio, the querier's peak RSS (VmHWM)
// after a query returning every series; then the Worker: bundle size (wrangler deploy --dry-run) and
// cold start (first requests after `wrangler dev` says it is ready). Per query it also prints the
// remote-read floor: Prometheus' own streamed remote read of exactly the selections our engine makes for
// that query (both replicas in parallel, as the two sidecars ask), read and CRC-checked, nothing decoded:
// a lower bound for any querier that reads through remote read.
//
// With THANOS_BIN=/path/to/thanos, the peer runs in the same run on the same two Prometheus: two Thanos
// sidecars and a Thanos querier over them (`--query.replica-label replica`), timed on every query.
//
// Queries are sent as Grafana and promtool send them, accepting gzip: Prometheus, Thanos and our querier
// then all compress answers (each at its own level). --identity asks for uncompressed answers instead.
//
//   npx tsx bench/querier.ts [--series 10000] [--hours 2] [--runs 3] [--no-worker] [--identity] [--hold]
// --hold starts the stack, prints its URLs and waits (for probing by hand) instead of measuring.
import { cpSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { execFile, execFileSync } from "node:child_process";
import { gzipSync } from "node:zlib";
import { freePort, startProcess, tempDir, waitForHealthyStores, waitForHttp, type Proc } from "../test/lib/proc.ts";
import { promtool, startPrometheus, type Prometheus } from "../test/lib/prometheus.ts";
import { benchQueries, type Q } from "./queryset.ts";
import { startBenchSidecar, writeBenchOpenMetrics } from "./stack.ts";
import { connectSeries } from "../shared/query/connect-series.ts";
import { seriesRequest } from "../shared/query/proxy.ts";
import { matchersToPb } from "../shared/query/store.ts";
import { newMatcher } from "../shared/labels/matcher.ts";
import { PromClient } from "../agent/prom/client.ts";
import { LabelMatcher_Type as PromMatchType } from "../shared/gen/prometheus/types_pb.ts";
import { ReadRequest_ResponseType } from "../shared/gen/prometheus/remote_pb.ts";
import { Engine } from "../shared/promql/engine.ts";
import type { Querier, SelectHints } from "../shared/storage/types.ts";
import type { Matcher } from "../shared/labels/matcher.ts";

const PROM_OPS = { "=": PromMatchType.EQ, "!=": PromMatchType.NEQ, "=~": PromMatchType.RE, "!~": PromMatchType.NRE } as const;

/** The selections (matchers + time range) our engine makes for a query: what the querier asks the stores. */
async function selectionsOf(q: Q): Promise<{ hints: SelectHints; matchers: Matcher[] }[]> {
  const out: { hints: SelectHints; matchers: Matcher[] }[] = [];
  const rec: Querier = {
    async select(hints, matchers) { out.push({ hints, matchers }); return { series: [], warnings: [] }; },
    async labelNames() { return { names: [], warnings: [] }; },
    async labelValues() { return { values: [], warnings: [] }; },
  };
  const e = new Engine();
  if (q.kind === "instant") await e.instantQuery(rec, q.query, q.time!);
  else await e.rangeQuery(rec, q.query, q.start!, q.end!, q.step!);
  return out;
}

/**
 * The remote-read floor of a query: Prometheus' own streamed remote read of exactly the data the querier
 * needs (every selection, both replicas in parallel, as the two sidecars ask), frames read and CRC-checked,
 * nothing decoded. No design that reads through remote read can answer faster than this.
 */
async function remoteReadFloor(urls: string[], sels: { hints: SelectHints; matchers: Matcher[] }[]): Promise<number> {
  const t0 = performance.now();
  await Promise.all(urls.flatMap((url) => sels.map(async ({ hints, matchers }) => {
    const r = await new PromClient(url).remoteRead(({
      startTimestampMs: BigInt(hints.start), endTimestampMs: BigInt(hints.end),
      matchers: matchers.map((m) => ({ type: PROM_OPS[m.type], name: m.name, value: m.value })),
    }), { accept: [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS] });
    if (r.type !== "chunked") throw new Error("expected a streamed remote-read answer");
    for await (const _ of r.payloadBatches) { /* read it all */ }
  })));
  return performance.now() - t0;
}

/** Below the floor: Prometheus' own streamed remote read of the same window (frames read, CRC checked). */
async function promRemoteRead(url: string, t: number): Promise<number> {
  const t0 = performance.now();
  const r = await new PromClient(url).remoteRead(({ startTimestampMs: BigInt(t - 300_000), endTimestampMs: BigInt(t), matchers: [{ type: PromMatchType.EQ, name: "__name__", value: "bench_requests_total" }] }), { accept: [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS] });
  if (r.type !== "chunked") throw new Error("expected a streamed remote-read answer");
  for await (const _ of r.payloadBatches) { /* read it all */ }
  return performance.now() - t0;
}

/**
 * The transport floor: one Series call for every series over [t-5m, t] straight from a sidecar, asking
 * for 256-series batches as the querier does (shared/query/remote.ts).
 */
async function rawSeries(url: string, t: number): Promise<{ ms: number; n: number }> {
  const req = seriesRequest({ minTime: BigInt(t - 300_000), maxTime: BigInt(t), responseBatchSize: 256n, matchers: matchersToPb([newMatcher("=", "__name__", "bench_requests_total")]) });
  const t0 = performance.now();
  let n = 0;
  for await (const _ of connectSeries(url, req, new AbortController().signal, { name: url })) n++;
  return { ms: performance.now() - t0, n };
}

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SERIES = opt("series", 10_000), HOURS = opt("hours", 2), RUNS = opt("runs", 3);
const IDENTITY = args.includes("--identity");
const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

// The query set of bench/promql.ts (bench/queryset.ts), plus one answer with every series.
const { queries: QUERIES, mid, instant } = benchQueries(HOURS);
const ALL_SERIES = instant("bench_requests_total");

async function timeQuery(base: string, q: Q): Promise<{ ms: number; series: number; warnings: number }> {
  const u = new URL(q.kind === "instant" ? "/api/v1/query" : "/api/v1/query_range", base);
  const body = new URLSearchParams({ query: q.query });
  if (q.kind === "instant") body.set("time", String(q.time! / 1000));
  else { body.set("start", String(q.start! / 1000)); body.set("end", String(q.end! / 1000)); body.set("step", String(q.step! / 1000)); }
  const t0 = performance.now();
  const r = await fetch(u, { method: "POST", body, headers: { "Accept-Encoding": IDENTITY ? "identity" : "gzip, deflate" } });
  const text = await r.text();
  const ms = performance.now() - t0;
  const j = JSON.parse(text);
  if (j.status !== "success") throw new Error(`${base} ${q.query}: ${text.slice(0, 300)}`);
  return { ms, series: Array.isArray(j.data.result) && j.data.resultType !== "scalar" ? j.data.result.length : 1, warnings: j.warnings?.length ?? 0 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The peer: a Thanos sidecar per Prometheus and a Thanos querier over both, deduplicating on `replica`. */
async function startThanos(bin: string, proms: Prometheus[], procs: Proc[]): Promise<string> {
  const grpcs: number[] = [];
  for (const prom of proms) {
    const gp = await freePort(), hp = await freePort();
    const p = startProcess(bin, ["sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${prom.dataDir}`,
      `--grpc-address=127.0.0.1:${gp}`, `--http-address=127.0.0.1:${hp}`, "--log.level=warn"]);
    procs.push(p);
    await waitForHttp(`http://127.0.0.1:${hp}/-/ready`, p, 60_000);
    grpcs.push(gp);
  }
  const hp = await freePort(), gp = await freePort();
  const q = startProcess(bin, ["query", ...grpcs.map((g) => `--endpoint=127.0.0.1:${g}`), "--query.replica-label=replica",
    `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, "--log.level=warn"]);
  procs.push(q);
  const url = `http://127.0.0.1:${hp}`;
  await waitForHttp(`${url}/-/ready`, q, 60_000);
  await waitForHealthyStores(url, proms.length);
  const v = await new Promise<string>((res) => execFile(bin, ["--version"], (_e, so, se) => res(String(so || se))));
  console.log(`peer: Thanos querier + 2 Thanos sidecars (${bin}: ${v.split("\n")[0]!.trim()})`);
  return url;
}

async function workerFigures(eps: string[]): Promise<void> {
  const out = tempDir("bench-worker-dist-").path;
  execFileSync(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out], { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: "ignore" });
  const js = readFileSync(join(out, "index.js"));
  console.log(`\nWorker bundle (wrangler deploy --dry-run): ${(statSync(join(out, "index.js")).size / 1024).toFixed(1)} KiB, gzip -9 ${(gzipSync(js, { level: 9 }).length / 1024).toFixed(1)} KiB`);

  const dir = tempDir("bench-worker-").path;
  writeFileSync(join(dir, "wrangler.toml"), [
    `name = "querier-bench"`, `main = ${JSON.stringify(join(root, "edge/worker/index.ts"))}`,
    `compatibility_date = "2026-04-01"`, `compatibility_flags = ["nodejs_compat"]`,
    `[vars]`, `STORE_ENDPOINTS = ${JSON.stringify(eps.join(","))}`, `REPLICA_LABELS = "replica"`, "",
  ].join("\n"));
  const port = await freePort(), inspector = await freePort();
  const t0 = performance.now();
  const proc = startProcess(join(root, "node_modules/.bin/wrangler"), [
    "dev", "--config", join(dir, "wrangler.toml"), "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
  ], { cwd: dir, env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" } });
  try {
    while (!/Ready on/.test(proc.output())) {
      if (performance.now() - t0 > 120_000) throw new Error(`wrangler dev not ready:\n${proc.output()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ready = performance.now() - t0;
    const url = `http://127.0.0.1:${port}`;
    const t1 = performance.now();
    const first = await fetch(`${url}/-/healthy`);
    await first.text();
    const firstMs = performance.now() - t1;
    const t2 = performance.now();
    const second = await fetch(`${url}/-/healthy`);
    await second.text();
    const secondMs = performance.now() - t2;
    const q = instant("count(bench_requests_total)");
    const firstQuery = await timeQuery(url, q);
    const nextQuery = await timeQuery(url, q);
    console.log(`wrangler dev: "Ready on" after ${ready.toFixed(0)} ms; first request ${firstMs.toFixed(1)} ms (status ${first.status}), second ${secondMs.toFixed(1)} ms`);
    console.log(`first query through the sidecars (Info + Series fan-out) ${firstQuery.ms.toFixed(1)} ms, next ${nextQuery.ms.toFixed(1)} ms (${q.query})`);
  } finally {
    await proc.stop();
  }
}

async function main(): Promise<void> {
  const work = tempDir("bench-querier-").path;
  const om = join(work, "data.om");
  let t = performance.now();
  const samples = await writeBenchOpenMetrics(om, SERIES, HOURS);
  console.log(`data: ${SERIES} series x ${HOURS}h at 15s = ${samples} samples (${((performance.now() - t) / 1000).toFixed(1)} s to write OpenMetrics)`);
  t = performance.now();
  const src = join(work, "blocks");
  await promtool(["tsdb", "create-blocks-from", "openmetrics", om, src]);
  console.log(`promtool backfill: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const dirA = join(work, "a"), dirB = join(work, "b");
  cpSync(src, dirA, { recursive: true });
  cpSync(src, dirB, { recursive: true });
  const cfg = (r: string) => `global:\n  scrape_interval: 15s\n  external_labels:\n    cluster: bench\n    replica: ${r}\n`;
  const [promA, promB] = await Promise.all([startPrometheus({ dataDir: dirA, config: cfg("a") }), startPrometheus({ dataDir: dirB, config: cfg("b") })]);
  const procs: Proc[] = [];
  try {
    const [sa, sb] = await Promise.all([startBenchSidecar(promA), startBenchSidecar(promB)]);
    procs.push(sa.proc, sb.proc);
    const port = await freePort();
    const querier = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "query",
      "--endpoint", sa.url, "--endpoint", sb.url, "--query.replica-label", "replica", `--http-address=127.0.0.1:${port}`, "--log.level=warn"], { cwd: root });
    procs.push(querier);
    const qUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${qUrl}/-/ready`, querier, 60_000);
    const thanosUrl = process.env.THANOS_BIN ? await startThanos(process.env.THANOS_BIN, [promA, promB], procs) : null;
    if (args.includes("--hold")) {
      // Keep the stack up for probing by hand (profiles, curl); SIGINT/SIGTERM tears it down.
      console.log(`holding: prometheus ${promA.url} ${promB.url}; sidecars ${sa.url} ${sb.url}; querier ${qUrl}; mid=${mid / 1000}${thanosUrl ? `; thanos querier ${thanosUrl}` : ""}`);
      await new Promise<void>((r) => { process.once("SIGINT", () => r()); process.once("SIGTERM", () => r()); });
      return;
    }

    const th = thanosUrl ? ` ${"thanos".padStart(9)} ${"ratio".padStart(6)}` : "";
    console.log(`\n${"query".padEnd(70)} ${"prom ms".padStart(9)} ${"querier".padStart(9)} ${"ratio".padStart(6)} ${"rr floor".padStart(9)} ${"floor/prom".padStart(10)}${th}`);
    const ratios: number[] = [], floors: number[] = [], thanosRatios: number[] = [];
    for (const q of QUERIES) {
      await timeQuery(promA.url, q);
      const w = await timeQuery(qUrl, q);
      if (w.warnings) throw new Error(`${q.query}: ${w.warnings} warnings through the querier`);
      if (thanosUrl) await timeQuery(thanosUrl, q);
      const a: number[] = [], b: number[] = [], c: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        a.push((await timeQuery(promA.url, q)).ms);
        b.push((await timeQuery(qUrl, q)).ms);
        if (thanosUrl) c.push((await timeQuery(thanosUrl, q)).ms);
      }
      const sels = await selectionsOf(q);
      const f: number[] = [];
      for (let i = 0; i < RUNS + 1; i++) { const ms = await remoteReadFloor([promA.url, promB.url], sels); if (i > 0) f.push(ms); }
      const pa = median(a), pb = median(b), pf = median(f);
      ratios.push(pb / pa);
      floors.push(pf / pa);
      let peer = "";
      if (thanosUrl) { const pc = median(c); thanosRatios.push(pc / pa); peer = ` ${pc.toFixed(1).padStart(9)} ${(pc / pa).toFixed(2).padStart(6)}`; }
      const label = `${q.kind === "range" ? `[range ${q.step! / 1000}s] ` : "[instant] "}${q.name}`;
      console.log(`${label.slice(0, 70).padEnd(70)} ${pa.toFixed(1).padStart(9)} ${pb.toFixed(1).padStart(9)} ${(pb / pa).toFixed(2).padStart(6)} ${pf.toFixed(1).padStart(9)} ${(pf / pa).toFixed(2).padStart(10)}${peer}`);
    }
    console.log(`\nanswers ${IDENTITY ? "uncompressed (Accept-Encoding: identity)" : "compressed where the server does (Accept-Encoding: gzip, deflate)"}`);
    console.log(`ratio querier/prometheus over ${QUERIES.length} queries: median ${median(ratios).toFixed(2)}x, worst ${Math.max(...ratios).toFixed(2)}x`);
    if (thanosUrl) {
      console.log(`ratio Thanos querier + sidecars/prometheus, same run: median ${median(thanosRatios).toFixed(2)}x, worst ${Math.max(...thanosRatios).toFixed(2)}x`);
      const per = ratios.map((r, i) => r / thanosRatios[i]!);
      console.log(`ours/Thanos per query: median ${median(per).toFixed(2)}x; ours faster on ${per.filter((x) => x < 1).length} of ${per.length}`);
    }
    console.log(`remote-read floor/prometheus (Prometheus' own remote read of the data each query needs, both replicas in parallel): median ${median(floors).toFixed(2)}x, ${floors.filter((x) => x <= 1.5).length} of ${floors.length} queries at or under 1.5x`);
    const floor: number[] = [], floor2: number[] = [];
    let nmsg = 0;
    for (let i = 0; i < RUNS + 1; i++) {
      const r = await rawSeries(sa.url, mid);
      nmsg = r.n;
      if (i > 0) floor.push(r.ms);
      const t0 = performance.now();
      await Promise.all([rawSeries(sa.url, mid), rawSeries(sb.url, mid)]);
      if (i > 0) floor2.push(performance.now() - t0);
    }
    console.log(`transport floor, Series {__name__="bench_requests_total"} over the instant window: one sidecar ${median(floor).toFixed(1)} ms (${nmsg} messages), both in parallel ${median(floor2).toFixed(1)} ms`);
    const rr: number[] = [], rr2: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const one = await promRemoteRead(promA.url, mid);
      const t0 = performance.now();
      await Promise.all([promRemoteRead(promA.url, mid), promRemoteRead(promB.url, mid)]);
      if (i > 0) { rr.push(one); rr2.push(performance.now() - t0); }
    }
    console.log(`below that, Prometheus' own streamed remote read of the same window: one ${median(rr).toFixed(1)} ms, both Prometheus in parallel ${median(rr2).toFixed(1)} ms`);
    const before = vmHWM(querier.child.pid!);
    // Peak memory of one large answer on its own: a fresh querier, RSS before and after.
    const freshPort = await freePort();
    const fresh = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "query",
      "--endpoint", sa.url, "--endpoint", sb.url, "--query.replica-label", "replica", `--http-address=127.0.0.1:${freshPort}`, "--log.level=warn"], { cwd: root });
    procs.push(fresh);
    const freshUrl = `http://127.0.0.1:${freshPort}`;
    await waitForHttp(`${freshUrl}/-/ready`, fresh, 60_000);
    const idle = vmHWM(fresh.child.pid!);
    const all = await timeQuery(freshUrl, ALL_SERIES);
    const direct = await timeQuery(promA.url, ALL_SERIES);
    console.log(`${ALL_SERIES.query} (instant): ${all.series} series in ${all.ms.toFixed(0)} ms via a fresh querier, ${direct.ms.toFixed(0)} ms from Prometheus`);
    console.log(`peak RSS (VmHWM): fresh querier ${idle.toFixed(0)} MiB idle, ${vmHWM(fresh.child.pid!).toFixed(0)} MiB after the ${all.series}-series answer; querier that ran the query set ${before.toFixed(0)} MiB; Prometheus A ${vmHWM(promA.proc.child.pid!).toFixed(0)} MiB`);
    if (!args.includes("--no-worker")) await workerFigures([sa.url, sb.url]);
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await Promise.all([promA.stop(), promB.stop()]);
  }
}

await main();
