// PromQL benchmark: the same queries over the same blocks (10k series x 6h at 15s, backfilled by
// promtool) against Prometheus 2.42 and against our `agent query --tsdb.path` over HTTP, timed in the
// same run. Prints per-query medians, the ours/Prometheus ratio (median and worst over queries) and
// the peak RSS (VmHWM) of our agent process.
//
//   npx tsx bench/promql.ts [--series 10000] [--hours 6] [--runs 5]
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForHttp } from "../test/lib/proc.ts";
import { promtool, startPrometheus } from "../test/lib/prometheus.ts";
import { benchQueries, type Q } from "./queryset.ts";
import { writeBenchOpenMetrics } from "./stack.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SERIES = opt("series", 10_000), HOURS = opt("hours", 6), RUNS = opt("runs", 5);
const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

const { queries: QUERIES } = benchQueries(HOURS);

async function timeQuery(base: string, q: Q): Promise<number> {
  const u = new URL(q.kind === "instant" ? "/api/v1/query" : "/api/v1/query_range", base);
  const body = new URLSearchParams({ query: q.query });
  if (q.kind === "instant") body.set("time", String(q.time! / 1000));
  else { body.set("start", String(q.start! / 1000)); body.set("end", String(q.end! / 1000)); body.set("step", String(q.step! / 1000)); }
  const t0 = performance.now();
  const r = await fetch(u, { method: "POST", body });
  const text = await r.text();
  const dt = performance.now() - t0;
  const j = JSON.parse(text);
  if (j.status !== "success") throw new Error(`${base} ${q.query}: ${text.slice(0, 300)}`);
  return dt;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const work = tempDir("bench-promql-").path;
  const om = join(work, "data.om");
  let t = performance.now();
  const samples = await writeBenchOpenMetrics(om, SERIES, HOURS);
  console.log(`data: ${SERIES} series x ${HOURS}h at 15s = ${samples} samples (${((performance.now() - t) / 1000).toFixed(1)} s to write OpenMetrics)`);
  t = performance.now();
  const src = join(work, "blocks");
  await promtool(["tsdb", "create-blocks-from", "openmetrics", om, src]);
  console.log(`promtool backfill: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const promDir = join(work, "prom"), ourDir = join(work, "ours");
  cpSync(src, promDir, { recursive: true });
  cpSync(src, ourDir, { recursive: true });

  const prom = await startPrometheus({ dataDir: promDir });
  const port = await freePort();
  const ours = startProcess(join(root, "node_modules", ".bin", "bun"), [
    join(root, "agent", "main.ts"), "query", "--tsdb.path", ourDir, "--http-address", `127.0.0.1:${port}`, "--log.level", "warn",
  ], { cwd: root });
  const oursUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${oursUrl}/-/ready`, ours, 120_000);
    console.log(`\n${"query".padEnd(70)} ${"prom ms".padStart(9)} ${"ours ms".padStart(9)} ${"ratio".padStart(6)}`);
    const ratios: number[] = [];
    for (const q of QUERIES) {
      // One warm-up each (page cache, JIT), then alternate so both see the same machine load.
      await timeQuery(prom.url, q);
      await timeQuery(oursUrl, q);
      const a: number[] = [], b: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        a.push(await timeQuery(prom.url, q));
        b.push(await timeQuery(oursUrl, q));
      }
      const pa = median(a), pb = median(b);
      ratios.push(pb / pa);
      const label = `${q.kind === "range" ? `[range ${q.step! / 1000}s] ` : "[instant] "}${q.name}`;
      console.log(`${label.slice(0, 70).padEnd(70)} ${pa.toFixed(1).padStart(9)} ${pb.toFixed(1).padStart(9)} ${(pb / pa).toFixed(2).padStart(6)}`);
    }
    console.log(`\nratio ours/prometheus over ${QUERIES.length} queries: median ${median(ratios).toFixed(2)}x, worst ${Math.max(...ratios).toFixed(2)}x`);
    console.log(`peak RSS (VmHWM): ours ${vmHWM(ours.child.pid!).toFixed(0)} MiB, prometheus ${vmHWM(prom.proc.child.pid!).toFixed(0)} MiB`);
  } finally {
    await ours.stop();
    await prom.stop();
  }
}

await main();
