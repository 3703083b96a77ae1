// Querier under concurrent load: N closed-loop clients for T seconds sending a mix of range queries,
// instant queries and a series call, against our querier and Thanos' on the same stack in the same run.
//
// Stack (as bench/querier.ts): generated data backfilled by promtool into two copies, Prometheus 2.42 x2
// (external labels replica=a/b), then
//   ours:   `bun agent sidecar` x2 -> `bun agent query --endpoint a --endpoint b --query.replica-label replica`
//   Thanos: `thanos sidecar` x2   -> `thanos query --endpoint a --endpoint b --query.replica-label replica`
// (THANOS_BIN, else the cached build of test/lib/thanos.ts). Both stacks stay up for the whole run; the
// load goes to one querier at a time, ours and Thanos' alternating per round, so both see the same
// machine. Each client sends the mix in order from its own offset, one request at a time (closed loop),
// and stops starting requests after T seconds; requests still running are waited for and counted.
//
// Printed per querier and client count: throughput (requests completed in the window / T), errors by
// kind (HTTP status + Prometheus errorType, or the transport error), p50/p99/max latency per query kind
// (range, instant, series), per query and overall, peak RSS (VmHWM, and the highest VmRSS sampled during
// the round) and CPU seconds of the querier process, and the machine's load average.
//
//   npx tsx bench/querier-load.ts [--clients 16,64] [--seconds 45] [--rounds 1] [--series 10000] [--hours 2]
//        [--only ours|thanos] [--ours-args "--query.workers=0 ..."] [--variant "name=flags VAR=value ..."]...
//        [--bun-args "--cpu-prof ..."] [--per-query]
//        [--fresh] [--hold]
// --variant (repeatable) runs several configurations of our querier in the same run, each its own
// process over the same sidecars, e.g. the request path as it was before admission and workers:
//   --variant "before=--query.workers=0 --query.max-concurrent=0 --query.max-concurrent-select=0 THANOTS_EVAL_ORDER=round-robin"
//   --variant "ours="
// (an upper-case NAME=value is set in the querier's environment). Default: one variant, "ours", with --ours-args.
// --fresh starts a new querier (ours and Thanos') for every round, so each peak RSS belongs to one round.
// --hold starts the stack, prints its URLs and waits (for probing by hand) instead of measuring.
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { freePort, startProcess, tempDir, waitForHealthyStores, waitForHttp, type Proc } from "../test/lib/proc.ts";
import { promtool, startPrometheus, type Prometheus } from "../test/lib/prometheus.ts";
import { thanosBinary } from "../test/lib/thanos.ts";
import { T0 } from "../test/promql/data.ts";
import { benchQueries } from "./queryset.ts";
import { startBenchSidecar, writeBenchOpenMetrics } from "./stack.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : def;
};
const CLIENTS = opt("clients", "16").split(",").map(Number);
const SECONDS = Number(opt("seconds", "45"));
const ROUNDS = Number(opt("rounds", "1"));
const SERIES = Number(opt("series", "10000")), HOURS = Number(opt("hours", "2"));
const ONLY = opt("only", "");
const OURS_ARGS = opt("ours-args", "").split(/\s+/).filter((s) => s !== "");
interface Variant { name: string; args: string[]; env: Record<string, string> }
const VARIANTS: Variant[] = (() => {
  const out: Variant[] = [];
  args.forEach((a, i) => {
    if (a !== "--variant") return;
    const v = args[i + 1]!;
    const eq = v.indexOf("=");
    const toks = v.slice(eq + 1).split(/\s+/).filter((x) => x !== "");
    const env: Record<string, string> = {};
    for (const t of toks) if (/^[A-Z_][A-Z0-9_]*=/.test(t)) env[t.slice(0, t.indexOf("="))] = t.slice(t.indexOf("=") + 1);
    out.push({ name: v.slice(0, eq), args: toks.filter((t) => !/^[A-Z_][A-Z0-9_]*=/.test(t)), env });
  });
  return out.length > 0 ? out : [{ name: "ours", args: OURS_ARGS, env: {} }];
})();
/** Flags for bun itself before the script, e.g. "--cpu-prof --cpu-prof-md --cpu-prof-dir=/tmp/prof". */
const BUN_ARGS = opt("bun-args", "").split(/\s+/).filter((s) => s !== "");
const PER_QUERY = args.includes("--per-query");
const FRESH = args.includes("--fresh");
/** A request still unanswered after this is abandoned and counted as a client timeout (bounded loops). */
const REQUEST_TIMEOUT_MS = 180_000;
const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

type Kind = "range" | "instant" | "series";
interface Req { kind: Kind; name: string; path: string; body: URLSearchParams }

/** The mix: the PromQL bench query set (7 range, 7 instant), histogram_quantile also as a range query, and a series call. */
function mix(): Req[] {
  const { queries, mid } = benchQueries(HOURS);
  const end = T0 + HOURS * 3600_000;
  const out: Req[] = [];
  for (const q of queries) {
    const body = new URLSearchParams({ query: q.query });
    if (q.kind === "instant") body.set("time", String(q.time! / 1000));
    else { body.set("start", String(q.start! / 1000)); body.set("end", String(q.end! / 1000)); body.set("step", String(q.step! / 1000)); }
    out.push({ kind: q.kind, name: q.query, path: q.kind === "instant" ? "/api/v1/query" : "/api/v1/query_range", body });
  }
  const hq = 'histogram_quantile(0.9, sum by (le) (label_replace(rate(bench_requests_total{job="job4"}[10m]), "le", "$1", "shard", "(.*)")))';
  out.push({ kind: "range", name: hq, path: "/api/v1/query_range", body: new URLSearchParams({ query: hq, start: String(T0 / 1000), end: String(end / 1000), step: "60" }) });
  const sm = 'bench_requests_total{job="job3"}';
  out.push({ kind: "series", name: `series ${sm}`, path: "/api/v1/series", body: new URLSearchParams({ "match[]": sm, start: String((mid - 3600_000) / 1000), end: String(mid / 1000) }) });
  return out;
}

interface Result { req: Req; ms: number; start: number; end: number; error: string | null; timing?: string }

async function send(base: string, r: Req): Promise<Omit<Result, "start" | "end" | "req">> {
  const t0 = performance.now();
  try {
    const res = await fetch(new URL(r.path, base), {
      method: "POST", body: r.body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      headers: { "Accept-Encoding": "gzip, deflate", "Content-Type": "application/x-www-form-urlencoded" },
    });
    const text = await res.text();
    const ms = performance.now() - t0;
    const timing = res.headers.get("server-timing") ?? undefined;
    // The head of the body is enough to tell success from an error; parsing every large answer would
    // take the client's CPU from the servers on a 2-core machine.
    if (res.status === 200 && text.startsWith('{"status":"success"')) return { ms, error: null, timing };
    let et = "";
    try { et = JSON.parse(text).errorType ?? ""; } catch { /* not JSON */ }
    return { ms, error: `HTTP ${res.status}${et ? ` ${et}` : ""}`, timing };
  } catch (e) {
    const err = e as Error;
    return { ms: performance.now() - t0, error: err.name === "TimeoutError" ? "client timeout" : `transport: ${err.message}` };
  }
}

function status(pid: number): { rss: number; hwm: number; cpu: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN) / 1024;
  const st = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  const cpu = (Number(st[11]) + Number(st[12])) / 100; // utime + stime, clock ticks (100 Hz)
  return { rss: kb("VmRSS"), hwm: kb("VmHWM"), cpu };
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface RoundReport {
  target: string; clients: number; results: Result[]; seconds: number;
  peakRss: number; hwm: number; cpu: number; load: [number, number]; inWindow: number;
  /** CPU seconds of the sidecars behind this querier and of the two Prometheus, over the round. */
  sidecarCpu: number; promCpu: number;
}

const cpuOf = (pids: number[]) => pids.reduce((n, p) => n + status(p).cpu, 0);

async function round(target: string, base: string, pid: number, clients: number, seconds: number, sidecars: number[], proms: number[]): Promise<RoundReport> {
  const reqs = mix();
  const results: Result[] = [];
  const load0 = loadavg()[0]!;
  const s0 = status(pid);
  const side0 = cpuOf(sidecars), prom0 = cpuOf(proms);
  let peakRss = s0.rss;
  const sampler = setInterval(() => { try { peakRss = Math.max(peakRss, status(pid).rss); } catch { /* gone */ } }, 100);
  const t0 = performance.now();
  const stopAt = t0 + seconds * 1000;
  const clientLoop = async (c: number) => {
    // Each client walks the mix from its own offset: every query is always in flight somewhere.
    for (let i = c; performance.now() < stopAt; i++) {
      const req = reqs[i % reqs.length]!;
      const start = performance.now() - t0;
      const r = await send(base, req);
      results.push({ req, ms: r.ms, start, end: start + r.ms, error: r.error, timing: r.timing });
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => clientLoop(c)));
  clearInterval(sampler);
  const s1 = status(pid);
  peakRss = Math.max(peakRss, s1.rss);
  const inWindow = results.filter((r) => r.end <= seconds * 1000).length;
  return {
    target, clients, results, seconds, peakRss, hwm: s1.hwm, cpu: s1.cpu - s0.cpu, load: [load0, loadavg()[0]!], inWindow,
    sidecarCpu: cpuOf(sidecars) - side0, promCpu: cpuOf(proms) - prom0,
  };
}

function fmtS(ms: number): string {
  return Number.isNaN(ms) ? "-" : (ms / 1000).toFixed(2);
}

function statsRow(label: string, rs: Result[]): string {
  const ok = rs.filter((r) => r.error === null).map((r) => r.ms).sort((a, b) => a - b);
  const all = rs.map((r) => r.ms).sort((a, b) => a - b);
  return `  ${label.slice(0, 58).padEnd(58)} ${String(rs.length).padStart(5)} ${String(rs.length - ok.length).padStart(5)} ${fmtS(pct(all, 50)).padStart(7)} ${fmtS(pct(all, 99)).padStart(7)} ${fmtS(all[all.length - 1] ?? NaN).padStart(7)}`;
}

function report(r: RoundReport): void {
  const errs = new Map<string, number>();
  for (const x of r.results) if (x.error !== null) errs.set(x.error, (errs.get(x.error) ?? 0) + 1);
  const errText = errs.size === 0 ? "none" : [...errs].map(([k, n]) => `${n} x ${k}`).join(", ");
  console.log(`\n${r.target}, ${r.clients} clients, ${r.seconds} s: ${r.results.length} requests (${r.inWindow} within the window) = ${(r.inWindow / r.seconds).toFixed(2)} req/s; errors: ${errText}`);
  console.log(`  querier peak RSS ${r.peakRss.toFixed(0)} MiB sampled (VmHWM ${r.hwm.toFixed(0)} MiB), CPU ${r.cpu.toFixed(1)} s (${(r.cpu / r.seconds).toFixed(2)} cores); its sidecars ${(r.sidecarCpu / r.seconds).toFixed(2)} cores, Prometheus pair ${(r.promCpu / r.seconds).toFixed(2)} cores; load average ${r.load[0].toFixed(2)} -> ${r.load[1].toFixed(2)}`);
  console.log(`  ${"".padEnd(58)} ${"n".padStart(5)} ${"err".padStart(5)} ${"p50 s".padStart(7)} ${"p99 s".padStart(7)} ${"max s".padStart(7)}`);
  for (const k of ["range", "instant", "series"] as const) console.log(statsRow(k, r.results.filter((x) => x.req.kind === k)));
  console.log(statsRow("all", r.results));
  const timed = r.results.filter((x) => x.timing !== undefined);
  if (timed.length > 0) {
    // The querier's own account (Server-Timing: queue, select, eval, encode) of the slowest requests.
    console.log("  slowest, as the querier timed them (Server-Timing, ms):");
    for (const x of [...timed].sort((a, b) => b.ms - a.ms).slice(0, 5)) {
      console.log(`    ${fmtS(x.ms)} s at ${fmtS(x.start)} s  ${x.req.kind[0]} ${x.req.name.slice(0, 50).padEnd(50)} ${x.timing!.replace(/;dur=/g, " ")}`);
    }
  }
  if (PER_QUERY) {
    const names = [...new Set(r.results.map((x) => x.req.name))];
    for (const n of names) console.log(statsRow(`${r.results.find((x) => x.req.name === n)!.req.kind[0]} ${n}`, r.results.filter((x) => x.req.name === n)));
  }
}

function summaryLine(r: RoundReport): string {
  const all = r.results.map((x) => x.ms).sort((a, b) => a - b);
  const errors = r.results.filter((x) => x.error !== null).length;
  return `| ${r.target} | ${r.clients} | ${(r.inWindow / r.seconds).toFixed(2)} | ${errors} | ${fmtS(pct(all, 50))} | ${fmtS(pct(all, 99))} | ${fmtS(all[all.length - 1] ?? NaN)} | ${r.peakRss.toFixed(0)} | ${(r.cpu / r.seconds).toFixed(2)} | ${(r.sidecarCpu / r.seconds).toFixed(2)} | ${r.load[0].toFixed(1)} |`;
}

async function startOurs(eps: string[], v: Variant): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const proc = startProcess(join(root, "node_modules/.bin/bun"), [...BUN_ARGS, join(root, "agent/main.ts"), "query",
    ...eps.flatMap((e) => ["--endpoint", e]), "--query.replica-label", "replica", `--http-address=127.0.0.1:${port}`, "--log.level=warn", ...v.args], { cwd: root, env: v.env });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 60_000);
  await waitForHealthyStores(url, eps.length);
  return { proc, url };
}

async function startThanosSidecars(bin: string, proms: Prometheus[], procs: Proc[]): Promise<string[]> {
  const out: string[] = [];
  for (const prom of proms) {
    const gp = await freePort(), hp = await freePort();
    const p = startProcess(bin, ["sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${prom.dataDir}`,
      `--grpc-address=127.0.0.1:${gp}`, `--http-address=127.0.0.1:${hp}`, "--log.level=warn"]);
    procs.push(p);
    await waitForHttp(`http://127.0.0.1:${hp}/-/ready`, p, 60_000);
    out.push(`127.0.0.1:${gp}`);
  }
  return out;
}

async function startThanosQuerier(bin: string, grpcs: string[]): Promise<{ proc: Proc; url: string }> {
  const hp = await freePort(), gp = await freePort();
  const proc = startProcess(bin, ["query", ...grpcs.map((g) => `--endpoint=${g}`), "--query.replica-label=replica",
    `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, "--log.level=warn"]);
  const url = `http://127.0.0.1:${hp}`;
  await waitForHttp(`${url}/-/ready`, proc, 60_000);
  await waitForHealthyStores(url, grpcs.length);
  return { proc, url };
}

/** Every request of the mix once, in order: compiles, fills caches, checks each answers without error. */
async function warm(name: string, base: string): Promise<void> {
  for (const r of mix()) {
    const x = await send(base, r);
    if (x.error !== null) throw new Error(`${name}: warm-up ${r.name}: ${x.error}`);
  }
}

async function main(): Promise<void> {
  const work = tempDir("bench-qload-").path;
  const om = join(work, "data.om");
  await writeBenchOpenMetrics(om, SERIES, HOURS);
  const src = join(work, "blocks");
  await promtool(["tsdb", "create-blocks-from", "openmetrics", om, src]);
  const dirA = join(work, "a"), dirB = join(work, "b");
  cpSync(src, dirA, { recursive: true });
  cpSync(src, dirB, { recursive: true });
  const cfg = (r: string) => `global:\n  scrape_interval: 15s\n  external_labels:\n    cluster: bench\n    replica: ${r}\n`;
  const [promA, promB] = await Promise.all([startPrometheus({ dataDir: dirA, config: cfg("a") }), startPrometheus({ dataDir: dirB, config: cfg("b") })]);
  const procs: Proc[] = [];
  const reports: RoundReport[] = [];
  try {
    let oursEps: string[] = [], thanosEps: string[] = [];
    const oursSidecars: number[] = [], thanosSidecars: number[] = [];
    const promPids = [promA.proc.child.pid!, promB.proc.child.pid!];
    let bin = "";
    if (ONLY !== "thanos") {
      const [sa, sb] = await Promise.all([startBenchSidecar(promA), startBenchSidecar(promB)]);
      procs.push(sa.proc, sb.proc);
      oursEps = [sa.url, sb.url];
      oursSidecars.push(sa.proc.child.pid!, sb.proc.child.pid!);
    }
    if (ONLY !== "ours") {
      bin = await thanosBinary();
      thanosEps = await startThanosSidecars(bin, [promA, promB], procs);
      thanosSidecars.push(...procs.slice(-2).map((p) => p.child.pid!));
    }
    console.log(`data: ${SERIES} series x ${HOURS} h at 15 s, HA pair; mix of ${mix().length} requests (${mix().map((r) => r.kind).join(" ")}); ${SECONDS} s per round; client timeout ${REQUEST_TIMEOUT_MS / 1000} s`);
    for (const v of VARIANTS) console.log(`our querier "${v.name}": ${[...Object.entries(v.env).map(([k, x]) => `${k}=${x}`), ...v.args].join(" ") || "defaults"}`);
    const ours = new Map<string, { proc: Proc; url: string }>();
    let thanos: { proc: Proc; url: string } | null = null;
    if (args.includes("--hold")) {
      // Keep the stack up for probing by hand (profiles, curl); SIGINT/SIGTERM tears it down.
      if (ONLY !== "thanos") for (const v of VARIANTS) { const o = await startOurs(oursEps, v); procs.push(o.proc); ours.set(v.name, o); }
      if (ONLY !== "ours") { thanos = await startThanosQuerier(bin, thanosEps); procs.push(thanos.proc); }
      console.log(`holding: prometheus ${promA.url} ${promB.url}; our sidecars ${oursEps.join(" ")}; our queriers ${[...ours].map(([n, o]) => `${n} ${o.url} (pid ${o.proc.child.pid})`).join(", ")}; Thanos sidecars ${thanosEps.join(" ")}; Thanos querier ${thanos?.url} (pid ${thanos?.proc.child.pid})`);
      await new Promise<void>((r) => { process.once("SIGINT", () => r()); process.once("SIGTERM", () => r()); });
      return;
    }
    for (const clients of CLIENTS) {
      for (let rd = 0; rd < ROUNDS; rd++) {
        if (ONLY !== "thanos") {
          for (const v of VARIANTS) {
            let o = ours.get(v.name);
            if (o === undefined || FRESH) { await o?.proc.stop(); o = await startOurs(oursEps, v); procs.push(o.proc); ours.set(v.name, o); await warm(v.name, o.url); }
            const r = await round(v.name, o.url, o.proc.child.pid!, clients, SECONDS, oursSidecars, promPids);
            report(r);
            reports.push(r);
          }
        }
        if (ONLY !== "ours") {
          if (thanos === null || FRESH) { await thanos?.proc.stop(); thanos = await startThanosQuerier(bin, thanosEps); procs.push(thanos.proc); await warm("thanos", thanos.url); }
          const r = await round("thanos", thanos.url, thanos.proc.child.pid!, clients, SECONDS, thanosSidecars, promPids);
          report(r);
          reports.push(r);
        }
      }
    }
    console.log(`\n| querier | clients | req/s | errors | p50 s | p99 s | max s | peak RSS MiB | querier cores | sidecar cores | load |`);
    console.log(`|---|---|---|---|---|---|---|---|---|---|---|`);
    for (const r of reports) console.log(summaryLine(r));
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await Promise.all([promA.stop(), promB.stop()]);
  }
}

await main();
