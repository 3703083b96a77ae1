// Downsampling throughput, ours vs Thanos' own code on the same blocks in the same run.
// Run: bun bench/downsample.ts [series=500] [days=12] [repeat=3]   |   npx tsx bench/downsample.ts ...
//      bun bench/downsample.ts mem 10000 100000   (peak RSS of one call against series count)
// Data (test/lib/downsample-data.ts, no awkward samples): `series` series (counters and gauges) over
// `days` days at ~1-minute irregular scrapes, one raw block. Two passes, each timed `repeat` times:
//   raw -> 5m  on the raw block;  5m -> 1h  on the 5m block (Thanos' output, identical to ours).
// Thanos: test/lib/go/thanos-downsample.go (pkg/compact/downsample.Downsample, Go, built once) times
// its own runs in-process, block already opened, as ours does (shared/compact/downsample.ts through
// DiskSink, in this process). Figures: input samples per second of CPU time and of wall time (median
// run), the CPU ratio Thanos/ours (> 1: ours cheaper), and the load average: the machine is shared, so
// CPU time is the steadier measure.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { DiskSink, localBlockFiles } from "../agent/tsdb/local.ts";
import { downsampleBlock, RES_1H, RES_5M } from "../shared/compact/downsample.ts";
import { openBlock } from "../shared/tsdb/block.ts";
import { newUlid } from "../shared/tsdb/ulid.ts";
import { writeRawBlock } from "../test/lib/downsample-data.ts";
import { tempDir } from "../test/lib/proc.ts";
import { thanosDownsample } from "../test/lib/thanos-downsample.ts";

const g = globalThis as { Bun?: { version: string } };
const rt = g.Bun ? `Bun ${g.Bun.version}` : `Node ${process.version}`;
if (process.argv[2] === "mem") {
  await memory(process.argv.slice(3).map(Number));
  process.exit(0);
}
if (process.argv[2] === "mem-gen") { await memGen(Number(process.argv[3]), process.argv[4]!); process.exit(0); }
if (process.argv[2] === "mem-run") { await memRun(Number(process.argv[3]), process.argv[4]!); process.exit(0); }

const series = Number(process.argv[2] ?? 500);
const days = Number(process.argv[3] ?? 12);
const repeat = Number(process.argv[4] ?? 3);
const dir = tempDir("bench-downsample-").path;
const H = 3600_000;
const mint = 1_700_000_000_000 - (1_700_000_000_000 % (2 * H));

const t0 = performance.now();
const rawU = newUlid();
const rawMeta = await writeRawBlock(new DiskSink(dir, rawU), { seed: 1, series, mint, maxt: mint + days * 24 * H, interval: 60_000, awkward: false, ulid: rawU });
console.log(`${rt}; data: ${series} series x ${days} d at ~60 s: ${rawMeta.stats.numSamples} raw samples in ${rawMeta.stats.numChunks} chunks (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function ours(inDir: string, res: number, out: string): Promise<{ ms: number[]; cpu: number[]; ulid: string; rss: number }> {
  mkdirSync(out, { recursive: true });
  const ms: number[] = [], cpu: number[] = [];
  let ulid = "";
  let rss = 0;
  for (let i = 0; i < repeat; i++) {
    const files = localBlockFiles(inDir);
    const b = await openBlock(files);
    ulid = newUlid();
    const s = performance.now(), c0 = process.cpuUsage();
    await downsampleBlock(b, res, new DiskSink(out, ulid), { ulid });
    ms.push(performance.now() - s);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    rss = Math.max(rss, process.memoryUsage().rss);
    await files.close();
    if (i < repeat - 1) rmSync(join(out, ulid), { recursive: true, force: true });
  }
  return { ms, cpu, ulid, rss };
}

function sizeOf(d: string): number {
  return readFileSync(join(d, "chunks/000001")).length + readFileSync(join(d, "index")).length;
}

const rows: string[] = [];
async function pass(name: string, inDir: string, inSamples: number, res: number): Promise<string> {
  const go = await thanosDownsample(inDir, join(dir, `go-${res}`), res, repeat);
  const goMs = median(go.ns) / 1e6, goCpu = median(go.cpu_ns) / 1e6;
  const o = await ours(inDir, res, join(dir, `ours-${res}`));
  const ourMs = median(o.ms), ourCpu = median(o.cpu);
  const goDir = join(dir, `go-${res}`, go.ulid), ourDir = join(dir, `ours-${res}`, o.ulid);
  const same = readFileSync(join(goDir, "chunks/000001")).equals(readFileSync(join(ourDir, "chunks/000001"))) && readFileSync(join(goDir, "index")).equals(readFileSync(join(ourDir, "index")));
  const rate = (ms: number) => `${(inSamples / (ms / 1000) / 1e6).toFixed(2)} M/s`;
  rows.push(`| ${name} | ${inSamples} | ${rate(ourCpu)} (${ourCpu.toFixed(0)} ms) | ${rate(goCpu)} (${goCpu.toFixed(0)} ms) | ${(goCpu / ourCpu).toFixed(2)}x | ${rate(ourMs)} / ${rate(goMs)} | ${same ? "identical" : "DIFFERENT"} (${sizeOf(ourDir)} B) |`);
  const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join("/");
  console.log(`${name}: ours wall ${list(o.ms)} ms, CPU ${list(o.cpu)} ms; Thanos wall ${list(go.ns.map((x) => x / 1e6))} ms, CPU ${list(go.cpu_ns.map((x) => x / 1e6))} ms; output ${same ? "byte-identical" : "DIFFERENT"}; our peak RSS ${(o.rss / 2 ** 20).toFixed(0)} MiB`);
  return goDir;
}

const fiveM = await pass("raw -> 5m", join(dir, rawU), rawMeta.stats.numSamples, RES_5M);
const m5 = JSON.parse(readFileSync(join(fiveM, "meta.json"), "utf8")) as { stats: { numSamples: number } };
await pass("5m -> 1h", fiveM, m5.stats.numSamples, RES_1H);

console.log(`\nload average ${loadavg().map((x) => x.toFixed(2)).join(" ")} (2 cores); median of ${repeat} runs; input samples per CPU second (process CPU, Go's GC threads included), then per wall second`);
console.log(`| pass (${rt}) | input samples | ours, per CPU s | Thanos v0.41.0 (Go), per CPU s | Thanos CPU / ours | wall: ours / Thanos | output |`);
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) console.log(r);

/**
 * Peak RSS growth of one raw -> 5m call against series count: 6 h blocks at 5-minute scrapes (few samples,
 * so per-series costs show). Each block is written by one child process and downsampled by a fresh one
 * (same runtime and loader), so the generator's garbage is not in the figure; RSS sampled every 5 ms.
 */
async function memory(counts: number[]): Promise<void> {
  const { execFileSync } = await import("node:child_process");
  const self = [...process.execArgv, process.argv[1]!];
  for (const n of counts) {
    const d = tempDir("bench-downsample-mem-").path;
    const u = execFileSync(process.execPath, [...self, "mem-gen", String(n), d], { encoding: "utf8" }).trim();
    process.stdout.write(execFileSync(process.execPath, [...self, "mem-run", String(n), join(d, u)], { encoding: "utf8" }));
    rmSync(d, { recursive: true, force: true });
  }
}

async function memGen(n: number, d: string): Promise<void> {
  const H = 3600_000, m0 = 1_700_000_000_000 - (1_700_000_000_000 % (2 * H));
  const u = newUlid();
  await writeRawBlock(new DiskSink(d, u), { seed: 1, series: n, mint: m0, maxt: m0 + 6 * H, interval: 300_000, awkward: false, ulid: u });
  console.log(u);
}

async function memRun(n: number, blockDir: string): Promise<void> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const iv = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 5);
  const files = localBlockFiles(blockDir);
  const o = newUlid();
  const t = performance.now();
  const meta = await downsampleBlock(await openBlock(files), RES_5M, new DiskSink(join(blockDir, ".."), o), { ulid: o });
  clearInterval(iv);
  peak = Math.max(peak, process.memoryUsage().rss);
  await files.close();
  console.log(`${rt}: ${n} series (${meta?.stats.numSeries} written) in ${(performance.now() - t).toFixed(0)} ms: RSS before ${(before / 2 ** 20).toFixed(0)} MiB, peak +${((peak - before) / 2 ** 20).toFixed(0)} MiB`);
}
