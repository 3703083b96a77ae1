// Ruler benchmark: 1,000 recording rules and 200 alerting rules (12 groups of 100) evaluated every
// interval over a 10k-series dataset through our querier, by our ruler and by the Thanos v0.41.0 ruler
// (test/lib/thanos.ts), one after the other against the same stack in the same run:
//
//   target (10k counters, labels job x10, instance x100, shard x7, id) <- Prometheus 2.42 (scrape 15s)
//     <- `bun agent sidecar` <- `bun agent query` <- ruler (ours, then Thanos') -> Alertmanager 0.25
//
// Per ruler: group iteration time (prometheus_rule_group_last_duration_seconds of every group after
// every measured interval: median, p90, max), the sum over the 12 groups per interval, the ruler
// process' CPU seconds per interval (/proc/PID/stat utime+stime: the ruler's own cost, without the
// querier's), its peak RSS (VmHWM), and evaluation failures (must be 0). Both rulers write their own
// TSDB (stateful mode) and send their alerts to the same Alertmanager.
//
// With --rounds N (default 2) the rulers take turns N times (ours, Thanos, ours, Thanos, ...), so a
// change in the machine's load does not favour one; each row gives the median over its rounds (peak
// RSS: the highest).
//
//   npx tsx bench/rule.ts [--interval 30] [--iterations 4] [--warmup 60] [--series 10000] [--rounds 2]
//                         [--ours "--tsdb.wal-sync=fsync"]... [--no-thanos] [--print-rules]
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../test/lib/proc.ts";
import { metricValue, RestartablePrometheus, sleep, startAlertmanager, startQuerier, startSidecar, type Agent, AGENT, BUN } from "../test/lib/rule-stack.ts";
import { thanosBinary } from "../test/lib/thanos.ts";
import { createServer } from "node:http";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const INTERVAL = opt("interval", 30), ITER = opt("iterations", 4), WARMUP = opt("warmup", 60), SERIES = opt("series", 10_000), ROUNDS = opt("rounds", 2);
const RECORD = 1000, ALERT = 200, PER_GROUP = 100;
/** --ours "flag flag": more flags for our ruler (run once per value: --ours may be repeated); --no-thanos. */
const OURS = args.flatMap((a, i) => (a === "--ours" ? [args[i + 1]!] : []));
const NO_THANOS = args.includes("--no-thanos");

function ruleFile(): string {
  let y = "groups:\n";
  for (let g = 0; g < (RECORD + ALERT) / PER_GROUP; g++) {
    y += `  - name: bench-${String(g).padStart(2, "0")}\n    rules:\n`;
    for (let k = 0; k < PER_GROUP; k++) {
      const i = g * PER_GROUP + k;
      if (i < RECORD) {
        const exprs = [
          `sum by (job) (rate(bench_requests_total{instance="host-${i % 100}"}[1m]))`,
          `avg by (shard) (bench_requests_total{job="job${i % 10}"})`,
          `max(rate(bench_requests_total{shard="${i % 7}",job="job${i % 10}"}[1m]))`,
          `count by (instance) (bench_requests_total{instance=~"host-${i % 100}|host-${(i + 1) % 100}"})`,
        ];
        y += `      - record: bench:r${i % 4}:${i}\n        expr: ${JSON.stringify(exprs[i % 4])}\n`;
      } else {
        const a = i - RECORD;
        y += `      - alert: BenchAlert${a}\n        expr: ${JSON.stringify(`sum by (instance) (rate(bench_requests_total{job="job${a % 10}",shard="${a % 7}"}[1m])) > ${(a % 4) * 0.2}`)}\n`;
        y += `        for: 1m\n        labels: {severity: '{{ if gt $value 0.5 }}page{{ else }}ticket{{ end }}'}\n`;
        y += `        annotations: {summary: '{{ $labels.instance }} at {{ $value | humanize }} req/s'}\n`;
      }
    }
  }
  return y;
}

/** utime + stime of a process, seconds. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8");
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function groupDurations(url: string): Promise<{ ts: number[]; dur: number[] }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const ts: number[] = [], dur: number[] = [];
  for (const line of text.split("\n")) {
    const m = /^prometheus_rule_group_last_(duration_seconds|evaluation_timestamp_seconds)\{[^}]*\} (\S+)$/.exec(line);
    if (!m) continue;
    (m[1] === "duration_seconds" ? dur : ts).push(Number(m[2]));
  }
  return { ts, dur };
}

const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };

interface Result { name: string; groupMedian: number; groupP90: number; groupMax: number; sumMedian: number; cpuPerInterval: number; hwm: number; failures: number; evals: number }

async function measure(name: string, start: () => Promise<{ proc: Proc; url: string }>): Promise<Result> {
  const r = await start();
  const pid = r.proc.child.pid!;
  try {
    const groups = (RECORD + ALERT) / PER_GROUP;
    // Wait until every group has run twice (one full interval of warm-up).
    for (;;) {
      const g = await groupDurations(r.url);
      if (g.ts.length === groups && g.ts.every((x) => x > 0)) break;
      await sleep(1000);
    }
    await sleep(INTERVAL * 1000);
    const durs: number[] = [], sums: number[] = [];
    const cpu0 = cpuSeconds(pid);
    let lastTs = new Map<number, number>();
    for (let i = 0; i < ITER; i++) {
      await sleep(INTERVAL * 1000);
      const g = await groupDurations(r.url);
      g.dur.forEach((d, k) => { if (g.ts[k] !== lastTs.get(k)) durs.push(d); });
      lastTs = new Map(g.ts.map((x, k) => [k, x]));
      sums.push(g.dur.reduce((a, b) => a + b, 0));
      console.error(`  ${name}: interval ${i + 1}/${ITER}: group iterations median ${(q(g.dur, 0.5) * 1000).toFixed(0)} ms, sum ${(sums.at(-1)! * 1000).toFixed(0)} ms`);
    }
    const cpu = (cpuSeconds(pid) - cpu0) / ITER;
    const failures = (await metricValue(r.url, "prometheus_rule_evaluation_failures_total")) ?? NaN;
    const evals = (await metricValue(r.url, "prometheus_rule_evaluations_total")) ?? NaN;
    return { name, groupMedian: q(durs, 0.5), groupP90: q(durs, 0.9), groupMax: Math.max(...durs), sumMedian: q(sums, 0.5), cpuPerInterval: cpu, hwm: vmHWM(pid), failures, evals };
  } finally {
    await r.proc.stop();
  }
}

const load = () => execFileSync("uptime", { encoding: "utf8" }).trim();

async function main(): Promise<void> {
  console.log(`ruler bench: ${RECORD} recording + ${ALERT} alerting rules in ${(RECORD + ALERT) / PER_GROUP} groups, every ${INTERVAL}s, over ${SERIES} series; ${ITER} measured intervals each`);
  console.log(`load before: ${load()}`);
  const thanos = await thanosBinary();
  const dir = tempDir("bench-rule-").path;
  const rules = join(dir, "rules.yml");
  writeFileSync(rules, ruleFile());

  // The target: SERIES counters, each growing by (id % 10) + 1 per 15 s.
  const t0 = Date.now();
  const target = createServer((_req, res) => {
    const k = Math.floor((Date.now() - t0) / 15_000);
    const parts: string[] = ["# TYPE bench_requests_total counter\n"];
    for (let i = 0; i < SERIES; i++) parts.push(`bench_requests_total{job="job${i % 10}",instance="host-${Math.floor(i / 10) % 100}",shard="${i % 7}",id="${i}"} ${k * ((i % 10) + 1) + i}\n`);
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(parts.join(""));
  });
  await new Promise<void>((r) => target.listen(0, "127.0.0.1", () => r()));
  const tport = (target.address() as { port: number }).port;
  const cfg = join(dir, "prometheus.yml");
  writeFileSync(cfg, `global: {scrape_interval: 15s}\nscrape_configs:\n  - job_name: bench\n    honor_labels: true\n    static_configs: [{targets: ["127.0.0.1:${tport}"]}]\n`);
  const promData = tempDir("bench-rule-prom-").path;
  const prom = new RestartablePrometheus(await freePort(), promData, cfg);
  await prom.start();
  let sidecar: Agent | null = null, querier: Agent | null = null;
  const am = await startAlertmanager();
  try {
    sidecar = await startSidecar(prom.url, promData);
    querier = await startQuerier([sidecar.url]);
    console.error(`warming up ${WARMUP}s (Prometheus scrapes the ${SERIES} series)`);
    await sleep(WARMUP * 1000);
    const common = (dataDir: string, hp: number, gp: number) => [`--data-dir=${dataDir}`, `--rule-file=${rules}`, `--eval-interval=${INTERVAL}s`,
      `--query=${querier!.url}`, `--alertmanagers.url=${am.url}`, `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, '--label=replica="bench"', "--log.level=error"];
    const results: Result[] = [];
    const runs: { name: string; ours: boolean; extra: string[] }[] = (OURS.length ? OURS : [""]).map((x) => ({
      name: `thanots (bun)${x ? " " + x : ""}`, ours: true, extra: x.split(" ").filter(Boolean),
    }));
    if (!NO_THANOS) runs.push({ name: "Thanos v0.41.0", ours: false, extra: [] });
    for (let round = 0; round < ROUNDS; round++) for (const run of runs) {
      results.push(await measure(run.name, async () => {
        const hp = await freePort(), gp = await freePort();
        const d = tempDir("bench-rule-data-").path;
        const proc = run.ours
          ? startProcess(BUN, [AGENT, "rule", ...common(d, hp, gp), ...run.extra])
          : startProcess(thanos, ["rule", ...common(d, hp, gp)]);
        const url = `http://127.0.0.1:${hp}`;
        await waitForHttp(`${url}/-/ready`, proc, 60_000);
        return { proc, url };
      }));
    }
    console.log(`load after: ${load()}`);
    const med = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
    const rows: Result[] = runs.map((run) => {
      const rs = results.filter((r) => r.name === run.name);
      return {
        name: run.name, groupMedian: med(rs.map((r) => r.groupMedian)), groupP90: med(rs.map((r) => r.groupP90)), groupMax: Math.max(...rs.map((r) => r.groupMax)),
        sumMedian: med(rs.map((r) => r.sumMedian)), cpuPerInterval: med(rs.map((r) => r.cpuPerInterval)), hwm: Math.max(...rs.map((r) => r.hwm)),
        failures: rs.reduce((a, r) => a + r.failures, 0), evals: rs.reduce((a, r) => a + r.evals, 0),
      };
    });
    for (const r of results) console.log(`  round result ${r.name}: group median ${(r.groupMedian * 1000).toFixed(0)} ms, CPU ${r.cpuPerInterval.toFixed(2)} s, peak RSS ${r.hwm.toFixed(0)} MiB`);
    console.log("\n| ruler | group iteration median | p90 | max | sum of 12 groups per interval (median) | ruler CPU per interval | peak RSS | evaluations / failures |");
    console.log("|---|---|---|---|---|---|---|---|");
    for (const r of rows) {
      console.log(`| ${r.name} | ${(r.groupMedian * 1000).toFixed(0)} ms | ${(r.groupP90 * 1000).toFixed(0)} ms | ${(r.groupMax * 1000).toFixed(0)} ms | ${(r.sumMedian * 1000).toFixed(0)} ms | ${r.cpuPerInterval.toFixed(2)} s | ${r.hwm.toFixed(0)} MiB | ${r.evals} / ${r.failures} |`);
    }
    const a = rows[0]!, b = rows.at(-1)!;
    if (!NO_THANOS) console.log(`\nratio ours/Thanos: group iteration median ${(a.groupMedian / b.groupMedian).toFixed(2)}, ruler CPU ${(a.cpuPerInterval / b.cpuPerInterval).toFixed(2)}, peak RSS ${(a.hwm / b.hwm).toFixed(2)}`);
  } finally {
    await Promise.all([querier?.proc.stop(), sidecar?.proc.stop(), am.proc.stop()]);
    await prom.stop();
    await new Promise<void>((r) => { target.closeAllConnections(); target.close(() => r()); });
  }
}

if (args.includes("--print-rules")) console.log(ruleFile());
else await main();
