// The compactor against the real thing. On copies of one input bucket (an HA pair of raw 2 h blocks over
// 72 h, `replica` as an external label) the Thanos v0.41.0 compactor and ours (`bun run agent compact`,
// the same flags) must leave the same blocks: time ranges, levels, sources, series, samples, chunks
// (byte for byte), labels and resolutions. Then `thanos tools bucket verify` checks ours, `promtool tsdb
// analyze` accepts every block we wrote, and Prometheus over our compacted blocks answers PromQL exactly
// as over the uncompacted ones (one replica, no dedup) and as over Thanos' compacted ones (dedup).
//
// Downsampling is compared too once the codec is in the build (shared/compact/downsample.ts not a stub).
// COMPACT_BIG=1 runs a bigger input (7 days, 1000 series) in addition.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { listBucketBlocks } from "../../shared/block/listing.ts";
import type { BlockMeta } from "../../shared/tsdb/meta.ts";
import { bucketConfig, contents, shape, visible } from "../lib/bucketcmp.ts";
import { generateHABucket, HOUR } from "../lib/blockgen.ts";
import { startProcess, tempDir, type Proc } from "../lib/proc.ts";
import { promApi, promtool, startPrometheus } from "../lib/prometheus.ts";
import { thanosBinary } from "../lib/thanos.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const DOWNSAMPLING = !readFileSync(join(ROOT, "shared/compact/downsample.ts"), "utf8").includes("STUB until");

function flags(extra: string[] = []): string[] {
  return ["--deduplication.replica-label=replica", "--deduplication.func=penalty", "--delete-delay=0s", ...(DOWNSAMPLING ? [] : ["--downsampling.disable"]), ...extra];
}

async function runToEnd(p: Proc, what: string): Promise<string> {
  const code = await p.exited;
  if (code !== 0) throw new Error(`${what} exited ${code}:\n${p.output().slice(-4000)}`);
  return p.output();
}

async function thanosCompact(dir: string, extra: string[] = []): Promise<string> {
  const bin = await thanosBinary();
  const data = tempDir("thanos-compact-data-").path;
  return runToEnd(startProcess(bin, ["compact", `--objstore.config-file=${bucketConfig(dir)}`, `--data-dir=${data}`, "--http-address=127.0.0.1:0", ...flags(extra)]), "thanos compact");
}

function oursProc(dir: string, data: string, extra: string[] = []): Proc {
  return startProcess(BUN, [join(ROOT, "agent/main.ts"), "compact", `--objstore.config-file=${bucketConfig(dir)}`, `--data-dir=${data}`, ...flags(extra)], { cwd: ROOT });
}

async function oursCompact(dir: string, extra: string[] = []): Promise<string> {
  return runToEnd(oursProc(dir, tempDir("ours-compact-data-").path, extra), "agent compact");
}

async function sameBuckets(thanosDir: string, oursDir: string, what: string): Promise<BlockMeta[]> {
  const t = await visible(thanosDir), o = await visible(oursDir);
  assert.equal(o.map(shape), t.map(shape), `${what}: same blocks as Thanos`);
  for (let i = 0; i < t.length; i++) {
    const a = await contents(thanosDir, t[i]!.ulid), b = await contents(oursDir, o[i]!.ulid);
    assert.equal([...b.keys()], [...a.keys()], `${what}: block ${i} series`);
    for (const [k, v] of a) assert.is(b.get(k), v, `${what}: block ${i} series ${k}: same chunks`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------

// Aligned to 2 days, so the first 48 h make a full 2d block (>= 40 h: downsampled to 5m).
const START = Math.floor((Date.now() - 12 * 24 * HOUR) / (48 * HOUR)) * 48 * HOUR;
let input: string;

test.before(async () => {
  await thanosBinary(); // a first build takes minutes; do it before timing anything
  input = join(tempDir("compact-input-").path, "bucket");
  const g = await generateHABucket({ dir: input, start: START, blocks: 36, series: 100, step: 30000 });
  assert.is(g.ulids.length, 72);
});

function copy(name: string, from = input): string {
  const dir = join(tempDir(`compact-${name}-`).path, name);
  cpSync(from, dir, { recursive: true });
  return dir;
}

let ours = "", theirs = "";

test("an HA pair over 72h: our compactor leaves the blocks Thanos' does, chunk for chunk", async () => {
  theirs = copy("thanos");
  ours = copy("ours");
  await thanosCompact(theirs);
  const log = await oursCompact(ours);
  assert.match(log, /compaction iterations done/);
  const blocks = await sameBuckets(theirs, ours, "HA pair, penalty dedup");
  assert.ok(blocks.some((m) => m.compaction.level >= 4), "2d blocks were made");
  assert.ok(blocks.every((m) => m.thanos!.labels.replica === undefined), "replica label gone");
  // Nothing half-uploaded visible, nothing left behind: every folder has its meta.json.
  for (const id of readdirSync(ours).filter((n) => n.length === 26)) assert.ok(existsSync(join(ours, id, "meta.json")), `block folder ${id} complete`);
  if (DOWNSAMPLING) assert.ok(blocks.some((m) => m.thanos!.downsample.resolution === 300000), "5m blocks were made");
});

test("thanos tools bucket verify finds no issue in our bucket; promtool tsdb analyze accepts every block", async () => {
  const bin = await thanosBinary();
  const p = startProcess(bin, ["tools", "bucket", "verify", `--objstore.config-file=${bucketConfig(ours)}`,
    "--issues=index_known_issues", "--issues=overlapped_blocks", "--issues=duplicated_compaction"]);
  const out = await runToEnd(p, "thanos tools bucket verify");
  assert.match(out, /verify task completed/);
  const bad = out.split("\n").filter((l) => / level=(warn|error) /.test(l));
  assert.equal(bad, [], "no issue reported");
  for (const m of await visible(ours)) {
    if ((m.thanos?.downsample?.resolution ?? 0) !== 0) continue; // promtool cannot read AggrChunks
    const { stdout } = await promtool(["tsdb", "analyze", ours, m.ulid]);
    assert.match(stdout, new RegExp(`Block ID: ${m.ulid}`));
    assert.match(stdout, /\nSeries: 100\n/);
  }
});

const QUERIES = [
  "http_requests_total", "rate(http_requests_total[5m])", "sum by (job) (rate(http_requests_total[10m]))",
  "node_load1", "avg_over_time(node_load1[1h])", "max by (env) (process_resident_memory_bytes)",
  "count(up == 1) or vector(0)", "increase(http_requests_total[2h])", "resets(http_requests_total[6h])",
  "quantile_over_time(0.9, process_resident_memory_bytes[30m])", "changes(node_load1[1h])", "sum(http_requests_total) by (instance)",
];

/** Prometheus over the given block folders; answers to QUERIES over the data's range. */
async function answers(dirs: { dir: string; ids: string[] }[]): Promise<string[]> {
  const data = tempDir("prom-blocks-").path;
  for (const { dir, ids } of dirs) for (const id of ids) cpSync(join(dir, id), join(data, id), { recursive: true });
  const prom = await startPrometheus({ dataDir: data });
  try {
    const out: string[] = [];
    const end = (START + 72 * HOUR) / 1000;
    for (const q of QUERIES) {
      const r = await promApi(prom.url, "/api/v1/query_range", { query: q, start: String(START / 1000 + 600), end: String(end), step: "300" });
      out.push(`${q} => ${JSON.stringify(r.data.result)}`);
      for (const at of [START / 1000 + 3600 * 7, START / 1000 + 3600 * 49 + 17, end - 60]) {
        const i = await promApi(prom.url, "/api/v1/query", { query: q, time: String(at) });
        out.push(`${q} @${at} => ${JSON.stringify(i.data.result)}`);
      }
    }
    return out;
  } finally {
    await prom.stop();
  }
}

test("Prometheus over our compacted blocks answers as over the uncompacted ones (one replica) and as over Thanos' (HA, dedup)", async () => {
  // One replica, no dedup: compaction must not change a single sample.
  const raw = (await visible(input)).filter((m) => m.thanos!.labels.replica === "a");
  const only = join(tempDir("compact-onlya-").path, "onlya");
  mkdirSync(only, { recursive: true });
  for (const m of raw) cpSync(join(input, m.ulid), join(only, m.ulid), { recursive: true });
  const onlyCompacted = copy("onlya-ours", only);
  await runToEnd(startProcess(BUN, [join(ROOT, "agent/main.ts"), "compact", `--objstore.config-file=${bucketConfig(onlyCompacted)}`,
    `--data-dir=${tempDir("ours-a-").path}`, "--delete-delay=0s", "--downsampling.disable"], { cwd: ROOT }), "agent compact (one replica)");
  const compacted = (await visible(onlyCompacted)).filter((m) => (m.thanos?.downsample?.resolution ?? 0) === 0);
  assert.ok(compacted.length < raw.length, `compacted ${raw.length} blocks into ${compacted.length}`);
  const before = await answers([{ dir: only, ids: raw.map((m) => m.ulid) }]);
  const after = await answers([{ dir: onlyCompacted, ids: compacted.map((m) => m.ulid) }]);
  assert.ok(before.join("").length > 100000, "answers are not empty");
  for (let i = 0; i < before.length; i++) assert.is(after[i], before[i]);
  // HA pair deduplicated: ours and Thanos' compacted blocks answer alike.
  const rawOf = async (d: string) => (await visible(d)).filter((m) => (m.thanos?.downsample?.resolution ?? 0) === 0).map((m) => m.ulid);
  const a = await answers([{ dir: ours, ids: await rawOf(ours) }]);
  const b = await answers([{ dir: theirs, ids: await rawOf(theirs) }]);
  for (let i = 0; i < a.length; i++) assert.is(a[i], b[i]);
});

if (process.env.COMPACT_BIG) {
  test("COMPACT_BIG: 16 days of an HA pair (2d and 14d blocks, and 1h downsampling when in the build) equal Thanos'", async () => {
    const big = join(tempDir("compact-big-input-").path, "bucket");
    const start = Math.floor((Date.now() - 20 * 24 * HOUR) / (336 * HOUR)) * 336 * HOUR;
    await generateHABucket({ dir: big, start, blocks: 192, series: 300, step: 60000, seed: 3 });
    const t = copy("big-thanos", big), o = copy("big-ours", big);
    await thanosCompact(t);
    await oursCompact(o);
    const blocks = await sameBuckets(t, o, "16 days");
    assert.ok(blocks.some((m) => m.maxTime - m.minTime === 336 * HOUR), "a 14d block was made");
    if (DOWNSAMPLING) assert.ok(blocks.some((m) => m.thanos!.downsample.resolution === 3600000), "a 1h block was made (from a 14d 5m block)");
    console.log(`  COMPACT_BIG: ${blocks.length} blocks: ${blocks.map((m) => `${m.thanos!.downsample.resolution / 60000}m:${(m.maxTime - m.minTime) / HOUR}h`).join(" ")}`);
  });
}

/** Run ours until `pattern` has been logged `n` times, then kill -9 it. Returns whether it was killed. */
async function killAt(dir: string, data: string, pattern: RegExp, n: number): Promise<boolean> {
  const p = oursProc(dir, data);
  for (;;) {
    const seen = p.output().match(new RegExp(pattern.source, "g"))?.length ?? 0;
    if (seen >= n) { p.child.kill("SIGKILL"); await p.exited; return true; }
    if (p.child.exitCode !== null) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("kill -9 at each phase (download, write, upload, mark, delete), then a rerun: the bucket an uninterrupted run leaves", async () => {
  const small = join(tempDir("compact-crash-input-").path, "bucket");
  await generateHABucket({ dir: small, start: START, blocks: 12, series: 40, step: 30000, seed: 7 });
  const clean = copy("crash-clean", small);
  await oursCompact(clean);
  const want = await visible(clean);
  const phases: [string, RegExp, number][] = [
    ["download", /msg="compaction available and planned"/, 3],
    ["write", /msg="downloaded and verified blocks; compacting blocks"/, 4],
    ["upload", /msg="compacted blocks"/, 2],
    ["mark", /msg="uploaded block"/, 5],
    ["delete", /msg="deleted block marked for deletion"/, 3],
  ];
  for (const [phase, pattern, n] of phases) {
    const dir = copy(`crash-${phase}`, small);
    const data = tempDir(`crash-data-${phase}-`).path;
    assert.ok(await killAt(dir, data, pattern, n), `${phase}: killed`);
    await runToEnd(oursProc(dir, data), `agent compact after a kill in ${phase}`);
    const got = await visible(dir);
    assert.equal(got.map(shape), want.map(shape), `${phase}: same blocks`);
    for (let i = 0; i < want.length; i++) {
      const a = await contents(clean, want[i]!.ulid), b = await contents(dir, got[i]!.ulid);
      assert.equal([...b.entries()], [...a.entries()], `${phase}: block ${i} same series and chunks`);
    }
    // Whatever the kill left half-done has no meta.json, so no reader sees it.
    const d = await listBucketBlocks(new FilesystemBucket(dir));
    for (const id of d.partial.keys()) assert.is(existsSync(join(dir, id, "meta.json")), false);
  }
});

test.run();
