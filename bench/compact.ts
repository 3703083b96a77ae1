// Compactor benchmark: one-shot compaction, ours (`bun agent/main.ts compact`) vs the Thanos v0.41.0
// compactor on copies of the same FILESYSTEM bucket, same flags. Wall time, CPU time (user + sys) and
// peak RSS of each process (from /usr/bin/time), input samples compacted per CPU-second, and both
// buckets checked to hold the same blocks afterwards.
//
//   A. an HA pair of 2 h blocks (72 h by default), penalty deduplication on `replica`:
//        SERIES=1000 BLOCKS=36 STEP=30000
//   B. peak RSS against the number of series per block: 5 consecutive 2 h blocks of one stream with
//      SCALE series each (8 samples per series per block), compacted 4 -> one 8 h block, twice: with a
//      label value unique to each series (the symbol table grows with the series) and with series as
//      metric names x 1000 instances (it grows with their square root):
//        SCALE=10000,100000,1000000 LABELS=unique,product  (SKIP_SCALE=1 to skip, SKIP_A=1 to skip A)
//
//   bun bench/compact.ts          (THANOS_BIN=/path/to/thanos, else the cached build of test/lib/thanos.ts)
import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { listBucketBlocks } from "../shared/block/listing.ts";
import { FilesystemBucket } from "../agent/objstore/fs.ts";
import { generateHABucket, HOUR } from "../test/lib/blockgen.ts";
import { thanosBinary } from "../test/lib/thanos.ts";

const run = promisify(execFile);
const root = join(import.meta.dirname ?? ".", "..");
const work = mkdtempSync(join(tmpdir(), "bench-compact-"));
const BUN = join(root, "node_modules", ".bin", "bun");
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

interface Usage { wall: number; cpu: number; rssMiB: number }

async function timed(cmd: string, args: string[]): Promise<Usage> {
  const out = join(work, `time-${Math.random().toString(36).slice(2)}.txt`);
  try {
    await run("/usr/bin/time", ["-o", out, "-f", "%e %U %S %M", cmd, ...args], { cwd: root, maxBuffer: 1 << 28 });
  } catch (e) {
    throw new Error(`${cmd} ${args.join(" ")}: ${(e as { stderr?: string }).stderr?.slice(-3000) ?? e}`);
  }
  const [wall, user, sys, rss] = readFileSync(out, "utf8").trim().split(/\s+/).slice(-4).map(Number);
  return { wall: wall!, cpu: user! + sys!, rssMiB: rss! / 1024 };
}

function config(dir: string): string {
  const f = `${dir}.yml`;
  writeFileSync(f, `type: FILESYSTEM\nconfig:\n  directory: ${dir}\n`);
  return f;
}

async function shapes(dir: string): Promise<string[]> {
  const d = await listBucketBlocks(new FilesystemBucket(dir));
  return d.metas.filter((m) => !d.marks.has(m.ulid))
    .map((m) => `${m.minTime}-${m.maxTime} L${m.compaction.level} ${m.stats.numSeries}/${m.stats.numSamples}/${m.stats.numChunks}`).sort();
}

async function both(name: string, input: string, flags: string[]): Promise<{ thanos: Usage; ours: Usage; same: boolean }> {
  const thanosBin = await thanosBinary();
  const t = join(work, `${name}-thanos`), o = join(work, `${name}-ours`);
  cpSync(input, t, { recursive: true });
  cpSync(input, o, { recursive: true });
  const thanos = await timed(thanosBin, ["compact", `--objstore.config-file=${config(t)}`, `--data-dir=${t}-data`, "--http-address=127.0.0.1:0", "--log.level=warn", ...flags]);
  const ours = await timed(BUN, [join(root, "agent/main.ts"), "compact", `--objstore.config-file=${config(o)}`, `--data-dir=${o}-data`, "--log.level=warn", ...flags]);
  const same = JSON.stringify(await shapes(t)) === JSON.stringify(await shapes(o));
  rmSync(t, { recursive: true, force: true }); rmSync(o, { recursive: true, force: true });
  rmSync(`${t}-data`, { recursive: true, force: true }); rmSync(`${o}-data`, { recursive: true, force: true });
  return { thanos, ours, same };
}

const f1 = (n: number) => n.toFixed(1);
const fmtM = (n: number) => (n / 1e6).toFixed(2) + "M";

try {
  console.log(`bench/compact.ts: ${typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`} driving; load average before ${load()}`);
  const rows: string[] = ["| run | input | ours wall | Thanos wall | ours CPU | Thanos CPU | ours peak RSS | Thanos peak RSS | ours samples/CPU-s | Thanos samples/CPU-s | same blocks |", "|---|---|---|---|---|---|---|---|---|---|---|"];
  const row = (name: string, input: string, samples: number, r: { thanos: Usage; ours: Usage; same: boolean }) =>
    rows.push(`| ${name} | ${input} | ${f1(r.ours.wall)} s | ${f1(r.thanos.wall)} s | ${f1(r.ours.cpu)} s | ${f1(r.thanos.cpu)} s | ${f1(r.ours.rssMiB)} MiB | ${f1(r.thanos.rssMiB)} MiB | ${fmtM(samples / r.ours.cpu)} | ${fmtM(samples / r.thanos.cpu)} | ${r.same ? "yes" : "NO"} |`);

  if (!process.env.SKIP_A) {
    const SERIES = Number(process.env.SERIES ?? 1000), BLOCKS = Number(process.env.BLOCKS ?? 36), STEP = Number(process.env.STEP ?? 30000);
    const input = join(work, "ha");
    const start = Math.floor((Date.now() - (BLOCKS * 2 + 48) * HOUR) / (2 * HOUR)) * 2 * HOUR;
    const g = await generateHABucket({ dir: input, start, blocks: BLOCKS, series: SERIES, step: STEP });
    console.log(`A: HA pair, ${BLOCKS} x 2 h blocks per replica, ${SERIES} series, ${g.samples} samples; load ${load()}`);
    const r = await both("ha", input, ["--deduplication.replica-label=replica", "--deduplication.func=penalty", "--delete-delay=0s", "--downsampling.disable"]);
    row("A: HA pair, penalty dedup", `${2 * BLOCKS} blocks, ${SERIES} series, ${fmtM(g.samples)} samples`, g.samples, r);
    rmSync(input, { recursive: true, force: true });
  }
  if (!process.env.SKIP_SCALE) {
    for (const space of (process.env.LABELS ?? "unique,product").split(",") as ("unique" | "product")[]) {
      for (const n of (process.env.SCALE ?? "10000,100000,1000000").split(",").map(Number)) {
        const input = join(work, `scale-${n}`);
        const start = Math.floor((Date.now() - 3 * 24 * HOUR) / (8 * HOUR)) * 8 * HOUR; // an 8 h window holds the first four
        const g = await generateHABucket({ dir: input, start, blocks: 5, series: n, step: 15 * 60e3, replicas: ["a"], labels: space });
        console.log(`B: ${n} series per block (${space} labels), 5 x 2 h blocks, ${g.samples} samples; load ${load()}`);
        const r = await both(`scale-${n}`, input, ["--delete-delay=0s", "--downsampling.disable"]);
        row(`B: ${n} series/block, ${space === "unique" ? "a label value per series" : "names x 1000 instances"}`, `5 blocks (4 compacted), ${fmtM(g.samples)} samples`, g.samples * 4 / 5, r);
        rmSync(input, { recursive: true, force: true });
      }
    }
  }
  console.log(`load average after ${load()}`);
  console.log(rows.join("\n"));
} finally {
  rmSync(work, { recursive: true, force: true });
}
