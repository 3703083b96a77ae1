// The ruler's TSDB (agent/tsdb/db.ts): append throughput through the Appender API with the WAL on,
// WAL replay time, and memory per series, each next to Prometheus 2.42 on the same load in the same run.
//
//   bun bench/head.ts [--metrics 10000] [--scrapes 300] [--replay-series 10000] [--replay-samples 480]
//                     [--rss-series 100000] [--rss-samples 120] [--skip-prometheus]
//   npx tsx bench/head.ts ...
//
// 1. append: `promtool tsdb bench write`'s load — the first N label sets of Prometheus'
//    tsdb/testdata/20kseries.json, S scrapes, one appender (commit) per 1000 series per scrape, WAL on.
//    promtool runs that in goroutines (1000-series shards in parallel on all cores) with no WAL
//    compression and no fsync per commit; our process is single-threaded. Ours is measured with the
//    same WAL settings (walSync "write", no compression) and with our defaults (fsync per commit,
//    group-committed; snappy records), plus ruler-sized commits (1, 10, 100 samples) with fsync.
// 2. replay: N series x M samples written through the API (all in the WAL, no block cut), then the
//    time to open the directory again (checkpoint + segments + building the head); Prometheus 2.42
//    started on a copy of the same directory reports its own "WAL replay completed" duration.
// 3. memory: peak RSS of a process that appends N series x M samples, minus the RSS before
//    appending, per 100k series; Prometheus' RSS after replaying the same WAL (its head: same series
//    and chunks; it memory-maps full chunks to disk, we keep them in memory).
// Every measurement runs in a fresh child process; the load average is printed with the figures.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { labelsFrom, type Labels } from "../shared/labels/labels.ts";

const PROM_MOD = "/root/go/pkg/mod/github.com/prometheus/prometheus@v0.42.0";
const SERIES_FILE = join(PROM_MOD, "tsdb/testdata/20kseries.json");
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const runtime = isBun ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}` : `node ${process.version}`;
const load = () => loadavg().map((x) => x.toFixed(1)).join(" ");

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

function seriesFromFile(n: number): Labels[] {
  const out: Labels[] = [];
  const seen = new Set<string>();
  for (const line of readFileSync(SERIES_FILE, "utf8").split("\n")) {
    if (!line || out.length >= n) continue;
    const ls = labelsFrom(JSON.parse(line) as Record<string, string>);
    const k = JSON.stringify(ls);
    if (!seen.has(k)) { seen.add(k); out.push(ls); }
  }
  // More than the file holds (memory bench): synthetic sets of the same shape.
  for (let i = out.length; i < n; i++) out.push(labelsFrom({ __name__: `rule:synthetic_${i % 50}`, job: `job${i % 20}`, instance: `host-${i}`, team: `t${i % 7}` }));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Children

async function childAppend(dir: string, metrics: number, scrapes: number, perCommit: number, sync: "write" | "fsync", compress: boolean): Promise<void> {
  const { openTSDB } = await import("../agent/tsdb/db.ts");
  const ls = seriesFromFile(metrics);
  const db = await openTSDB(dir, { checkIntervalMs: 0, walSync: sync, walCompression: compress, blockDurationMs: 2 * 3600_000 });
  const vals = new Float64Array(ls.length).fill(123456789);
  const t0 = performance.now();
  let total = 0;
  // As promtool: per 100 scrapes, each 1000-series shard appends its 100 scrapes; a commit per perCommit samples.
  for (let i = 0; i < scrapes; i += 100) {
    for (let sh = 0; sh < ls.length; sh += 1000) {
      const end = Math.min(ls.length, sh + 1000);
      let ts = i * 15_000;
      for (let k = 0; k < 100 && i + k < scrapes; k++) {
        ts += 15_000;
        let app = db.appender(), n = 0;
        for (let j = sh; j < end; j++) {
          vals[j] += 1000;
          app.append(ls[j]!, ts, vals[j]!);
          total++;
          if (++n === perCommit) { await app.commit(); app = db.appender(); n = 0; }
        }
        await app.commit();
      }
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const st = db.stats();
  await db.close();
  process.stdout.write(JSON.stringify({ total, secs, fsyncs: st.wal.fsyncs, walBytes: st.wal.bytesWritten }) + "\n");
}

/** `groups` concurrent loops (rule groups), each committing its own `per` series per round, `rounds` times. */
async function childGroups(dir: string, groups: number, per: number, rounds: number): Promise<void> {
  const { openTSDB } = await import("../agent/tsdb/db.ts");
  const ls = seriesFromFile(groups * per);
  const db = await openTSDB(dir, { checkIntervalMs: 0, blockDurationMs: 2 * 3600_000 });
  const t0 = performance.now();
  let total = 0, commits = 0;
  await Promise.all(Array.from({ length: groups }, async (_, g) => {
    for (let r = 0; r < rounds; r++) {
      const app = db.appender();
      for (let j = g * per; j < (g + 1) * per; j++) { app.append(ls[j]!, 1_700_000_000_000 + r * 15_000, r + j); total++; }
      await app.commit();
      commits++;
    }
  }));
  const secs = (performance.now() - t0) / 1000;
  const st = db.stats();
  await db.close();
  process.stdout.write(JSON.stringify({ total, secs, commits, fsyncs: st.wal.fsyncs, walBytes: st.wal.bytesWritten }) + "\n");
}

async function childWrite(dir: string, series: number, samples: number): Promise<void> {
  const { openTSDB } = await import("../agent/tsdb/db.ts");
  const ls = seriesFromFile(series);
  const db = await openTSDB(dir, { checkIntervalMs: 0, walSync: "write", blockDurationMs: 2 * 3600_000 });
  const t0 = 1_700_000_000_000;
  for (let k = 0; k < samples; k++) {
    for (let sh = 0; sh < ls.length; sh += 1000) {
      const app = db.appender();
      for (let j = sh; j < Math.min(ls.length, sh + 1000); j++) app.append(ls[j]!, t0 + k * 15_000, (j * 7 + k * 13) % 1000);
      await app.commit();
    }
  }
  await db.close();
  process.stdout.write("{}\n");
}

async function childReplay(dir: string): Promise<void> {
  const { openTSDB } = await import("../agent/tsdb/db.ts");
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const db = await openTSDB(dir, { checkIntervalMs: 0 });
  const ms = performance.now() - t0;
  const st = db.stats();
  const rss = process.memoryUsage().rss;
  await db.close();
  process.stdout.write(JSON.stringify({ ms, replayMs: st.replay.ms, records: st.replay.records, series: st.head.series, rssMiB: rss / 1048576, deltaMiB: (rss - before) / 1048576, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + "\n");
}

async function childMemory(dir: string, series: number, samples: number): Promise<void> {
  const { openTSDB } = await import("../agent/tsdb/db.ts");
  const ls = seriesFromFile(series);
  const gc = () => { if (isBun) (globalThis as unknown as { Bun: { gc(b: boolean): void } }).Bun.gc(true); else (globalThis as { gc?: () => void }).gc?.(); };
  gc();
  const base = process.memoryUsage().rss;
  const db = await openTSDB(dir, { checkIntervalMs: 0, walSync: "write", blockDurationMs: 24 * 3600_000 });
  const t0 = 1_700_000_000_000;
  for (let k = 0; k < samples; k++) {
    for (let sh = 0; sh < ls.length; sh += 1000) {
      const app = db.appender();
      for (let j = sh; j < Math.min(ls.length, sh + 1000); j++) app.append(ls[j]!, t0 + k * 15_000, (j * 7 + k * 13) % 1000);
      await app.commit();
    }
  }
  gc();
  const after = process.memoryUsage().rss;
  const peak = process.resourceUsage().maxRSS * 1024;
  await db.close();
  process.stdout.write(JSON.stringify({ baseMiB: base / 1048576, afterMiB: after / 1048576, peakMiB: peak / 1048576 }) + "\n");
}

// ---------------------------------------------------------------------------------------------
// Orchestrator

function self(args: string[]): Record<string, number> {
  const cmd = process.execPath;
  const pre = isBun ? [] : ["--import", "tsx", "--expose-gc"];
  const r = spawnSync(cmd, [...pre, new URL(import.meta.url).pathname, ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`child ${args.join(" ")} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Record<string, number>;
}

function promtoolWrite(metrics: number, scrapes: number, procs?: number): number {
  const out = mkdtempSync(join(tmpdir(), "bench-head-promtool-"));
  try {
    const env = procs ? { ...process.env, GOMAXPROCS: String(procs) } : process.env;
    const s = execFileSync("promtool", ["tsdb", "bench", "write", `--out=${out}`, `--metrics=${metrics}`, `--scrapes=${scrapes}`, SERIES_FILE], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env });
    return Number(/samples\/sec: (\S+)/.exec(s)![1]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** Prometheus on a copy of `dir`: its reported WAL replay duration and RSS once ready. */
async function prometheusReplay(dir: string): Promise<{ replayMs: number; rssMiB: number; hwmMiB: number }> {
  const copy = mkdtempSync(join(tmpdir(), "bench-head-prom-"));
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, "lock"), { force: true });
  const cfg = join(copy, "prometheus.yml");
  writeFileSync(cfg, "global:\n  scrape_interval: 15s\n");
  const port = 20000 + Math.floor(Math.random() * 20000);
  const p = spawn("prometheus", [`--config.file=${cfg}`, `--storage.tsdb.path=${copy}`, "--storage.tsdb.retention.time=100y", `--web.listen-address=127.0.0.1:${port}`, "--log.level=info"], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  p.stderr.on("data", (b: Buffer) => { log += b.toString(); });
  try {
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline) {
      const m = /WAL replay completed.*total_replay_duration=(\S+)/.exec(log);
      if (m && /Server is ready to receive web requests/.test(log)) {
        const st = readFileSync(`/proc/${p.pid}/status`, "utf8");
        const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)![1]);
        return { replayMs: goDurationMs(m[1]!), rssMiB: kb("VmRSS") / 1024, hwmMiB: kb("VmHWM") / 1024 };
      }
      if (p.exitCode !== null) throw new Error(`prometheus exited: ${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`prometheus not ready: ${log.slice(-2000)}`);
  } finally {
    p.kill("SIGKILL");
    rmSync(copy, { recursive: true, force: true });
  }
}

function goDurationMs(s: string): number {
  let ms = 0;
  for (const [, n, u] of s.matchAll(/([\d.]+)(h|ms|µs|us|ns|m|s)/g)) {
    const x = Number(n);
    ms += u === "h" ? x * 3600_000 : u === "m" ? x * 60_000 : u === "s" ? x * 1000 : u === "ms" ? x : u === "ns" ? x / 1e6 : x / 1000;
  }
  return ms;
}

async function main(): Promise<void> {
  const [mode] = process.argv.slice(2);
  const a = process.argv.slice(3);
  if (mode === "child-append") return childAppend(a[0]!, Number(a[1]), Number(a[2]), Number(a[3]), a[4] as "write" | "fsync", a[5] === "1");
  if (mode === "child-groups") return childGroups(a[0]!, Number(a[1]), Number(a[2]), Number(a[3]));
  if (mode === "child-write") return childWrite(a[0]!, Number(a[1]), Number(a[2]));
  if (mode === "child-replay") return childReplay(a[0]!);
  if (mode === "child-memory") return childMemory(a[0]!, Number(a[1]), Number(a[2]));

  const metrics = arg("metrics", 10000), scrapes = arg("scrapes", 300);
  const rSeries = arg("replay-series", 10000), rSamples = arg("replay-samples", 480);
  const mSeries = arg("rss-series", 100000), mSamples = arg("rss-samples", 120);
  const withProm = !process.argv.includes("--skip-prometheus");
  const tmp = () => mkdtempSync(join(tmpdir(), "bench-head-"));
  console.log(`# head benchmark on ${runtime}, load average ${load()}\n`);

  console.log(`## append: ${metrics} series (20kseries.json) x ${scrapes} scrapes = ${(metrics * scrapes / 1e6).toFixed(1)} M samples, WAL on`);
  const rows: [string, number, string][] = [];
  const ours = (label: string, per: number, sync: "write" | "fsync", comp: boolean, sc = scrapes) => {
    const d = tmp();
    const r = self(["child-append", d, String(metrics), String(sc), String(per), sync, comp ? "1" : "0"]);
    rmSync(d, { recursive: true, force: true });
    rows.push([label, r.total! / r.secs!, `${r.fsyncs} fsyncs, ${(r.walBytes! / 1048576).toFixed(0)} MiB WAL`]);
  };
  ours("ours, commit per 1000, WAL written (no fsync), no compression (promtool's settings)", 1000, "write", false);
  ours("ours, commit per 1000, fsync per commit, snappy (our defaults)", 1000, "fsync", true);
  ours("ours, commit per 100, fsync per commit, snappy", 100, "fsync", true, Math.min(scrapes, 100));
  ours("ours, commit per 10, fsync per commit, snappy", 10, "fsync", true, Math.min(scrapes, 10));
  ours("ours, commit per 1, fsync per commit, snappy", 1, "fsync", true, 1);
  {
    const d = tmp();
    const r = self(["child-groups", d, "100", "10", "100"]);
    rmSync(d, { recursive: true, force: true });
    rows.push(["ours, 100 concurrent committers (rule groups) x 10 samples, fsync per commit, snappy", r.total! / r.secs!, `${r.commits} commits, ${r.fsyncs} fsyncs (group commit), ${(r.commits! / r.secs!).toFixed(0)} commits/s`]);
  }
  if (withProm) {
    rows.push([`promtool tsdb bench write, GOMAXPROCS=1 (one core, as our process)`, promtoolWrite(metrics, scrapes, 1), `load ${load()}`]);
    rows.push([`promtool tsdb bench write (Go, ${metrics / 1000} shards in parallel on both cores, no fsync per commit)`, promtoolWrite(metrics, scrapes), `load ${load()}`]);
  }
  for (const [l, v, n] of rows) console.log(`${l}: ${(v / 1e6).toFixed(3)} M samples/s (${n})`);
  if (withProm) console.log(`ratio ours (promtool's settings) / promtool: ${(rows[0]![1] / rows.at(-2)![1]).toFixed(2)} (one core), ${(rows[0]![1] / rows.at(-1)![1]).toFixed(2)} (both cores)\n`);
  else console.log();

  console.log(`## replay: ${rSeries} series x ${rSamples} samples (${(rSeries * rSamples / 1e6).toFixed(1)} M samples) in the WAL`);
  {
    const d = tmp();
    self(["child-write", d, String(rSeries), String(rSamples)]);
    const walMiB = Number(execFileSync("du", ["-sm", join(d, "wal")], { encoding: "utf8" }).split("\t")[0]);
    const r = [self(["child-replay", d]), self(["child-replay", d]), self(["child-replay", d])].sort((x, y) => x.ms! - y.ms!)[0]!;
    console.log(`ours: open ${r.ms!.toFixed(0)} ms (replay ${r.replayMs!.toFixed(0)} ms, ${r.records} records, WAL ${walMiB} MiB), ${r.series} series; RSS ${r.rssMiB!.toFixed(0)} MiB (+${r.deltaMiB!.toFixed(0)} MiB for the head), peak ${r.maxRssMiB!.toFixed(0)} MiB (best of 3 opens)`);
    if (withProm) {
      const p = await prometheusReplay(d);
      console.log(`Prometheus 2.42 on a copy: WAL replay ${p.replayMs.toFixed(0)} ms; RSS ${p.rssMiB.toFixed(0)} MiB, peak ${p.hwmMiB.toFixed(0)} MiB`);
      console.log(`ratio ours / Prometheus (replay): ${(r.replayMs! / p.replayMs).toFixed(2)}, load ${load()}`);
    }
    rmSync(d, { recursive: true, force: true });
  }
  console.log();

  console.log(`## memory: ${mSeries} series x ${mSamples} samples appended`);
  {
    const d = tmp();
    const r = self(["child-memory", d, String(mSeries), String(mSamples)]);
    const per100k = (x: number) => (x * 100_000 / mSeries).toFixed(0);
    console.log(`ours: RSS ${r.baseMiB!.toFixed(0)} MiB before, ${r.afterMiB!.toFixed(0)} MiB after (GC), peak ${r.peakMiB!.toFixed(0)} MiB: ${per100k(r.afterMiB! - r.baseMiB!)} MiB (after) / ${per100k(r.peakMiB! - r.baseMiB!)} MiB (peak) per 100k series`);
    if (withProm) {
      const p = await prometheusReplay(d);
      console.log(`Prometheus 2.42 holding the same head (replayed): RSS ${p.rssMiB.toFixed(0)} MiB, peak ${p.hwmMiB.toFixed(0)} MiB (whole process), load ${load()}`);
    }
    rmSync(d, { recursive: true, force: true });
  }
}

await main();
