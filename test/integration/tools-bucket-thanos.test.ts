// `bun run agent tools bucket …` against `thanos tools bucket …` (v0.41.0) on copies of one bucket that
// holds: blocks Thanos' compactor wrote (an HA pair over 60 h, deduplicated, up to a 2 d block), raw
// blocks our block writer wrote (an HA pair of another cluster), two overlapping raw blocks, a
// duplicated compaction (a copy of a compacted block under a new ULID), a block with index issues
// (chunks outside its range), two partial uploads (one older than 48 h), and blocks marked for deletion
// (long ago and recently), no-compaction and no-downsampling.
//
// Compared: inspect's table, CSV and TSV byte for byte (also in another time zone); ls' lines (Thanos
// prints them in Go's random map order, so as sorted sets), -o json documents byte for byte, a template;
// verify's findings, mark, cleanup and retention's log lines (normalised: without ts=, caller= and
// durations, as sorted multisets since Thanos walks maps in random order), and the bucket's files
// after mark, cleanup, retention and verify --repair; the standalone downsampler's 5m block chunk for
// chunk; the bucket web API's blocks. bucket-index.json (ours only) is left out of the comparisons.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { DiskSink } from "../../agent/tsdb/local.ts";
import { Encoding } from "../../shared/chunkenc/chunk.ts";
import { XorAppender } from "../../shared/chunkenc/xor.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import { encodeBlockMeta, type BlockMeta } from "../../shared/tsdb/meta.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";
import { BlockWriter } from "../../shared/tsdb/writer.ts";
import { generateHABucket, HOUR } from "../lib/blockgen.ts";
import { bucketConfig, contents, shape, visible } from "../lib/bucketcmp.ts";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { thanosBinary } from "../lib/thanos.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const DAY = 24 * HOUR;
// Aligned to 2 days: the HA pair's first 48 h become a full 2 d block (what the downsampler takes).
const START = Math.floor((Date.now() - 10 * DAY) / (2 * DAY)) * 2 * DAY;

let TH = "";
let input = "";
const ids: Record<string, string> = {};

interface Run { code: number; stdout: string; stderr: string }

function exec(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Thanos and ours with the same arguments, each on its own copy of the bucket when `dirs` are two. */
async function both(args: string[], dirs: [string, string] | string, env: Record<string, string> = {}): Promise<{ thanos: Run; ours: Run }> {
  const [t, o] = typeof dirs === "string" ? [dirs, dirs] : dirs;
  const [thanos, ours] = await Promise.all([
    exec(TH, ["tools", "bucket", ...args, `--objstore.config-file=${bucketConfig(t)}`], env),
    exec(BUN, [join(ROOT, "agent/main.ts"), "tools", "bucket", ...args, `--objstore.config-file=${bucketConfig(o)}`], env),
  ]);
  return { thanos, ours };
}

function copy(name: string): string {
  const dir = join(tempDir(`tools-${name}-`).path, name);
  cpSync(input, dir, { recursive: true, preserveTimestamps: true });
  return dir;
}

// ---- logfmt ----

function parseLogfmt(line: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (let m; (m = re.exec(line));) out.push([m[1]!, m[2]!.startsWith('"') ? JSON.parse(m[2]!) as string : m[2]!]);
  return out;
}

const DROP = new Set(["ts", "caller", "duration", "duration_ms"]);

/** Log lines as sorted "k=v" lists without ts, caller and durations; `fix` rewrites values per message. */
function normLogs(stderr: string, fix: (msg: string, k: string, v: string) => string = (_m, _k, v) => v): string[] {
  const out: string[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.includes("level=")) continue;
    const kv = parseLogfmt(line).filter(([k]) => !DROP.has(k));
    const msg = kv.find(([k]) => k === "msg")?.[1] ?? "";
    out.push(kv.map(([k, v]) => `${k}=${fix(msg, k, v)}`).sort().join(" "));
  }
  return out.sort();
}

/** The files of a bucket directory (relative paths), without our bucket-index.json. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p); else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.filter((f) => f !== "bucket-index.json").sort();
}

/** A marker's JSON with its time field replaced (the two tools ran a moment apart). */
function marker(dir: string, rel: string): string {
  return readFileSync(join(dir, rel), "utf8").replace(/"(deletion_time|no_compact_time|no_downsample_time)":\d+/, '"$1":T');
}

function sameState(t: string, o: string, what: string): void {
  assert.equal(files(o), files(t), `${what}: same files`);
  for (const f of files(t)) if (/mark\.json$/.test(f)) assert.is(marker(o, f), marker(t, f), `${what}: ${f}`);
}

// ---- the bucket ----

/** A block claiming [mint, mint+2h) with a chunk completely after it and one starting at its maxTime (prometheus/tsdb#347). */
async function brokenBlock(dir: string, mint: number): Promise<string> {
  const maxt = mint + 2 * HOUR;
  const ulid = newUlid(maxt + 60e3);
  const chunk = (from: number, n: number) => {
    const a = new XorAppender();
    for (let i = 0; i < n; i++) a.append(from + i * 60e3, i);
    return { minTime: from, maxTime: from + (n - 1) * 60e3, encoding: Encoding.XOR, data: a.bytes() };
  };
  const series = [
    { labels: labelsFrom({ __name__: "broken", i: "1" }), chunks: [chunk(mint, 60), chunk(maxt + HOUR, 10)] },
    { labels: labelsFrom({ __name__: "broken", i: "2" }), chunks: [chunk(mint, 60), chunk(maxt, 5)] },
    { labels: labelsFrom({ __name__: "broken", i: "3" }), chunks: [chunk(mint + 60 * 60e3, 30)] },
  ];
  const w = new BlockWriter(new DiskSink(dir, ulid), {
    ulid, minTime: mint, maxTime: maxt, compaction: { level: 1, sources: [ulid] },
    thanos: { labels: { cluster: "broken" }, downsample: { resolution: 0 }, source: "sidecar" },
  });
  await w.start(series.flatMap((s) => s.labels.flatMap((l) => [l.name, l.value])));
  for (const s of series) await w.addSeries(s.labels, s.chunks);
  const meta = await w.finish();
  rmSync(join(dir, ulid, "tombstones"));
  meta.thanos!.upload_time = new Date(maxt + 120e3).toISOString();
  writeFileSync(join(dir, ulid, "meta.json"), encodeBlockMeta(meta));
  return ulid;
}

function setMtime(dir: string, t: Date): void {
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) setMtime(p, t);
    utimesSync(p, t, t);
  }
}

function writeMark(dir: string, id: string, file: string, body: Record<string, unknown>): void {
  writeFileSync(join(dir, id, file), JSON.stringify({ id, version: 1, ...body }));
}

test.before(async () => {
  TH = await thanosBinary();
  const root = tempDir("tools-input-").path;
  input = join(root, "bucket");
  // Thanos' compactor on an HA pair over 60 h: deduplicated, compacted up to a 2 d block.
  await generateHABucket({ dir: input, start: START, blocks: 30, series: 30, step: 60000 });
  const c = await exec(TH, ["compact", `--objstore.config-file=${bucketConfig(input)}`, `--data-dir=${join(root, "data")}`, "--http-address=127.0.0.1:0",
    "--deduplication.replica-label=replica", "--deduplication.func=penalty", "--delete-delay=0s", "--downsampling.disable"]);
  assert.is(c.code, 0, c.stderr.slice(-3000));
  const compacted = await visible(input);
  assert.ok(compacted.some((m) => m.maxTime - m.minTime === 2 * DAY), "Thanos made a 2d block");
  ids.twoDay = compacted.find((m) => m.maxTime - m.minTime === 2 * DAY)!.ulid;
  // Our block writer: raw blocks of another cluster, and two overlapping blocks of a third.
  const us = await generateHABucket({ dir: input, start: START + DAY, blocks: 4, series: 10, step: 60000, cluster: "us1", seed: 3 });
  const o1 = await generateHABucket({ dir: input, start: START, blocks: 2, series: 5, step: 60000, replicas: ["a"], externalLabels: () => ({ cluster: "eu2", replica: "a" }), seed: 4 });
  const o2 = await generateHABucket({ dir: input, start: START + HOUR, blocks: 1, series: 5, step: 60000, replicas: ["a"], externalLabels: () => ({ cluster: "eu2", replica: "a" }), seed: 5 });
  ids.overlapA = o1.ulids[0]!;
  ids.overlapB = o2.ulids[0]!;
  // A duplicated compaction: a compacted 8h block again under another ULID (same sources and stats).
  const eight = compacted.find((m) => m.maxTime - m.minTime === 8 * HOUR)!;
  ids.dup = newUlid(Date.now() - DAY);
  cpSync(join(input, eight.ulid), join(input, ids.dup), { recursive: true });
  const dm = JSON.parse(readFileSync(join(input, ids.dup, "meta.json"), "utf8")) as BlockMeta;
  dm.ulid = ids.dup;
  writeFileSync(join(input, ids.dup, "meta.json"), encodeBlockMeta(dm));
  ids.dupOf = eight.ulid;
  ids.broken = await brokenBlock(input, START + 3 * DAY);
  // Partial uploads: no meta.json; one untouched for 3 days, one fresh.
  ids.oldPartial = newUlid(Date.now() - 5 * DAY);
  ids.newPartial = newUlid(Date.now() - 5 * DAY);
  for (const p of [ids.oldPartial, ids.newPartial]) {
    cpSync(join(input, us.ulids[0]!), join(input, p), { recursive: true });
    rmSync(join(input, p, "meta.json"));
  }
  setMtime(join(input, ids.oldPartial), new Date(Date.now() - 3 * DAY));
  // Marks.
  const now = Math.floor(Date.now() / 1000);
  ids.deletedLongAgo = us.ulids[1]!;
  writeMark(input, ids.deletedLongAgo, "deletion-mark.json", { details: "old", deletion_time: now - 3 * 86400 });
  ids.deletedRecently = us.ulids[2]!;
  writeMark(input, ids.deletedRecently, "deletion-mark.json", { details: "new", deletion_time: now - 3600 });
  ids.noCompact = o1.ulids[1]!;
  writeMark(input, ids.noCompact, "no-compact-mark.json", { details: "manual", no_compact_time: now - 600, reason: "manual" });
  ids.noDownsample = us.ulids[3]!;
  writeMark(input, ids.noDownsample, "no-downsample-mark.json", { details: "d", no_downsample_time: now - 600, reason: "manual" });
});

// ---- inspect and ls ----

test("inspect: table, CSV and TSV byte for byte, with selectors and sort orders, in UTC and in another zone", async () => {
  const cases: [string[], Record<string, string>][] = [
    [[], {}], [["--output=csv"], {}], [["--output=tsv"], {}],
    [["-l", 'cluster="eu1"', "--sort-by=#SAMPLES", "--sort-by=ULID"], {}],
    [["--sort-by=UNTIL-DOWN", "--sort-by=LABELS", "--output=csv"], {}],
    [["--sort-by=RANGE", "--sort-by=COMP-LEVEL"], {}],
    [["-l", 'cluster="nope"'], {}],
    [[], { TZ: "Asia/Kolkata" }],
  ];
  for (const [args, env] of cases) {
    const r = await both(["inspect", ...args], input, env);
    assert.is(r.thanos.code, 0, r.thanos.stderr);
    assert.is(r.ours.code, 0, r.ours.stderr);
    assert.ok(r.thanos.stdout.length > 100, "Thanos printed a table");
    assert.is(r.ours.stdout, r.thanos.stdout, `inspect ${args.join(" ")} ${JSON.stringify(env)}`);
  }
  const bad = await both(["inspect", "-l", "cluster=eu1"], input);
  assert.ok(bad.thanos.code !== 0 && bad.ours.code !== 0, "an unquoted selector value is refused by both");
  assert.match(bad.ours.stderr, /error parsing selector flag: unquote label value: invalid syntax/);
  assert.match(bad.thanos.stderr, /invalid syntax\\nunquote label value\\n.*error parsing selector flag/, "Thanos prints the error chain innermost first, with stack traces");
});

test("ls: ULIDs, -o wide, -o json, a template, --exclude-delete, --min-time/--max-time, a selector", async () => {
  const sorted = (s: string) => s.split("\n").filter(Boolean).sort();
  const cases: string[][] = [
    [], ["-o", "wide"], ["--exclude-delete"],
    ["-o", "{{.ULID}} {{.MinTime}} {{.MaxTime}} {{.Thanos.Labels}} {{.Compaction.Level}} {{.Compaction.Sources}} {{.Stats.NumSamples}} {{.Thanos.Downsample.Resolution}} {{.Thanos.Source}}"],
    [`--min-time=${new Date(START + DAY).toISOString()}`, `--max-time=${new Date(START + 2 * DAY).toISOString()}`, "-o", "wide"],
    ["--selector.relabel-config=- action: keep\n  source_labels: [cluster]\n  regex: eu.*", "--exclude-delete"],
    ["--selector.relabel-config=- action: hashmod\n  source_labels: [__block_id]\n  target_label: shard\n  modulus: 2\n- action: keep\n  source_labels: [shard]\n  regex: \"1\""],
  ];
  for (const args of cases) {
    const r = await both(["ls", ...args], input);
    assert.is(r.thanos.code, 0, r.thanos.stderr);
    assert.is(r.ours.code, 0, r.ours.stderr);
    assert.ok(r.thanos.stdout.length > 0, `Thanos listed something for ${args.join(" ")}`);
    assert.equal(sorted(r.ours.stdout), sorted(r.thanos.stdout), `ls ${args.join(" ")}`);
    assert.equal(normLogs(r.ours.stderr), normLogs(r.thanos.stderr), `ls ${args.join(" ")}: log lines`);
  }
  const j = await both(["ls", "-o", "json"], input);
  const docs = (s: string) => s.split(/\n(?=\{)/).map((d) => d.trimEnd()).filter(Boolean).sort();
  assert.equal(docs(j.ours.stdout), docs(j.thanos.stdout), "-o json: each meta as Go's encoder writes it");
  assert.is(docs(j.ours.stdout).length, files(input).filter((f) => f.endsWith("/meta.json")).length);
});

// ---- verify ----

/** Verify's log lines with the parts Thanos' random map order decides made order-free. */
function verifyFix(msg: string, k: string, v: string): string {
  // Overlaps.String() ("[mint: …]: <ulid: …>, <…>" lines) or sprintMetas ("blocks: N, [<…>,<…>]"): the
  // blocks of a group in any order.
  if (k === "overlap") return v.split("\n").map((l) => `${l.replace(/<.*$/, "")}${(l.match(/<[^>]*>/g) ?? []).sort().join(",")}`).sort().join("\n");
  if (msg === "found duplicated blocks" && k === "kill") return v.replace(/\[.*\]/, "[…]");
  if (msg === "Found duplicated blocks that are ok to be removed" && k === "ULIDs") return String(v.split(" ").length);
  return v;
}

test("verify: overlapped_blocks, index_known_issues, duplicated_compaction find the same issues; --id needs an issue that can select", async () => {
  for (const args of [[], ["--issues=duplicated_compaction", "--issues=overlapped_blocks"], ["--issues=index_known_issues", `--id=${ids.broken}`]]) {
    const r = await both(["verify", ...args], input);
    assert.is(r.ours.code, r.thanos.code, `verify ${args.join(" ")}: exit code`);
    assert.equal(normLogs(r.ours.stderr, verifyFix), normLogs(r.thanos.stderr, verifyFix), `verify ${args.join(" ")}: log lines`);
  }
  const r = await both(["verify"], input);
  assert.match(r.ours.stderr, new RegExp(`msg="detected issue".*id=${ids.broken}|id=${ids.broken}.*msg="detected issue"`), "the broken block is found");
  assert.ok(r.ours.stderr.includes(ids.overlapA) && r.ours.stderr.includes(ids.overlapB), "the overlap is found");
  const d = await both(["verify", "--issues=duplicated_compaction"], input);
  assert.match(d.ours.stderr, /msg="Found duplicated blocks that are ok to be removed".*num=1/);
  const withId = await both(["verify", `--id=${ids.broken}`], input);
  assert.ok(withId.thanos.code !== 0 && withId.ours.code !== 0, "overlapped_blocks cannot select blocks");
  assert.match(withId.ours.stderr, /id matching is not supported/);
});

test("verify --repair: the same repaired block and bucket state; duplicates removed", async () => {
  const t = copy("repair-thanos"), o = copy("repair-ours");
  const tb = join(t, "..", "backup"), ob = join(o, "..", "backup");
  mkdirSync(tb); mkdirSync(ob);
  const repair = ["verify", "--repair", "--issues=index_known_issues", "--issues=duplicated_compaction"];
  const [thanos, ours] = await Promise.all([
    exec(TH, ["tools", "bucket", ...repair, `--objstore.config-file=${bucketConfig(t)}`, `--objstore-backup.config-file=${bucketConfig(tb)}`]),
    exec(BUN, [join(ROOT, "agent/main.ts"), "tools", "bucket", ...repair, `--objstore.config-file=${bucketConfig(o)}`, `--objstore-backup.config-file=${bucketConfig(ob)}`]),
  ]);
  assert.is(thanos.code, 0, thanos.stderr.slice(-3000));
  assert.is(ours.code, 0, ours.stderr.slice(-3000));
  for (const dir of [t, o]) assert.not.ok(existsSync(join(dir, ids.broken, "meta.json")), "the broken block is gone");
  for (const dir of [tb, ob]) assert.ok(existsSync(join(dir, ids.broken, "index")), "the broken block is in the backup bucket");
  const repaired = async (dir: string) => (await visible(dir)).filter((m) => m.thanos?.source === "bucket.repair");
  const [rt, ro] = [await repaired(t), await repaired(o)];
  assert.is(rt.length, 1);
  assert.equal(ro.map(shape), rt.map(shape), "the repaired block's meta");
  assert.equal([...(await contents(o, ro[0]!.ulid))], [...(await contents(t, rt[0]!.ulid))], "the repaired block's series and chunks");
  assert.is((await contents(o, ro[0]!.ulid)).size, 3, "no series lost");
  // The duplicated compaction: one of the two copies is gone (Thanos keeps whichever its map order put
  // first), and the kept one's blocks are the same.
  const dupsLeft = async (dir: string) => (await visible(dir)).filter((m) => m.ulid === ids.dup || m.ulid === ids.dupOf).length;
  assert.is(await dupsLeft(t), 1);
  assert.is(await dupsLeft(o), 1);
  // Thanos also writes a deletion mark into the deleted duplicate's emptied folder (BackupAndDelete marks
  // after deleting); we do not.
  const stray = (dir: string) => files(dir).filter((f) => f.endsWith("deletion-mark.json") && !existsSync(join(dir, f.split("/")[0]!, "meta.json")));
  assert.is(stray(o).length, 0);
  const norm = (dir: string, gone: string[]) => files(dir).filter((f) => !gone.some((g) => f.startsWith(g + "/")) && !f.startsWith(rt[0]!.ulid) && !f.startsWith(ro[0]!.ulid));
  const goneT = [ids.dup, ids.dupOf], goneO = goneT;
  assert.equal(norm(o, goneO), norm(t, goneT), "the rest of the bucket is the same");
});

// ---- mark, cleanup, retention ----

test("mark: the same markers and log lines, an existing marker left alone, --remove", async () => {
  const t = copy("mark-thanos"), o = copy("mark-ours");
  const steps: string[][] = [
    [`--id=${ids.twoDay}`, `--id=${ids.overlapA}`, "--marker=no-compact-mark.json", "--details=too big"],
    [`--id=${ids.twoDay}`, "--marker=no-compact-mark.json", "--details=again"],
    [`--id=${ids.overlapB}`, "--marker=deletion-mark.json", "--details=overlaps"],
    [`--id=${ids.deletedRecently}`, "--marker=deletion-mark.json", "--details=twice"],
    [`--id=${ids.twoDay}`, "--marker=no-downsample-mark.json", "--details=keep raw"],
    [`--id=${ids.twoDay}`, "--marker=no-downsample-mark.json", "--details=keep raw"],
    [`--id=${ids.overlapA}`, "--marker=no-compact-mark.json", "--remove"],
    [`--id=${ids.overlapA}`, "--marker=no-compact-mark.json", "--remove"],
  ];
  for (const s of steps) {
    const r = await both(["mark", ...s], [t, o]);
    assert.is(r.ours.code, 0, r.ours.stderr);
    assert.is(r.thanos.code, 0, r.thanos.stderr);
    assert.equal(normLogs(r.ours.stderr), normLogs(r.thanos.stderr), `mark ${s.join(" ")}: log lines`);
  }
  sameState(t, o, "after marking");
  for (const bad of [[`--id=${ids.twoDay}`, "--marker=no-compact-mark.json"], ["--id=nope", "--marker=deletion-mark.json", "--details=x"]]) {
    const r = await both(["mark", ...bad], [t, o]);
    assert.ok(r.thanos.code !== 0 && r.ours.code !== 0, `mark ${bad.join(" ")} is refused by both`);
  }
});

test("cleanup: aborted partial uploads and blocks marked long enough ago deleted, the same files left", async () => {
  const t = copy("cleanup-thanos"), o = copy("cleanup-ours");
  const r = await both(["cleanup"], [t, o]);
  assert.is(r.thanos.code, 0, r.thanos.stderr);
  assert.is(r.ours.code, 0, r.ours.stderr);
  assert.equal(normLogs(r.ours.stderr), normLogs(r.thanos.stderr), "log lines");
  sameState(t, o, "after cleanup");
  assert.not.ok(existsSync(join(o, ids.oldPartial)), "the old partial upload is gone");
  assert.ok(existsSync(join(o, ids.newPartial)), "the fresh partial upload stays");
  assert.not.ok(existsSync(join(o, ids.deletedLongAgo)), "the block marked 3 days ago is gone");
  assert.ok(existsSync(join(o, ids.deletedRecently, "meta.json")), "the block marked an hour ago stays");
  const again = await both(["cleanup", "--delete-delay=30m"], [t, o]);
  assert.equal(normLogs(again.ours.stderr), normLogs(again.thanos.stderr), "with --delete-delay=30m: log lines");
  sameState(t, o, "after cleanup --delete-delay=30m");
  assert.not.ok(existsSync(join(o, ids.deletedRecently)), "now the block marked an hour ago is gone too");
});

test("retention: the same blocks marked (raw, 5m, 1h), the same log lines", async () => {
  const t = copy("retention-thanos"), o = copy("retention-ours");
  const ageOf = (m: BlockMeta) => Date.now() - m.maxTime;
  const eu1 = (await visible(input)).filter((m) => m.thanos?.labels.cluster === "eu1");
  const cut = Math.round((Math.min(...eu1.map(ageOf)) + Math.max(...eu1.map(ageOf))) / 2 / HOUR);
  const r = await both(["retention", `--retention.resolution-raw=${cut}h`], [t, o]);
  assert.is(r.thanos.code, 0, r.thanos.stderr);
  assert.is(r.ours.code, 0, r.ours.stderr);
  assert.equal(normLogs(r.ours.stderr), normLogs(r.thanos.stderr), "log lines");
  sameState(t, o, "after retention");
  assert.ok(files(o).filter((f) => f.endsWith("deletion-mark.json")).length > files(input).filter((f) => f.endsWith("deletion-mark.json")).length, "some blocks were marked");
});

// ---- downsample ----

async function untilDownsampled(dir: string, p: Proc, what: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`${what} exited ${p.child.exitCode}:\n${p.output().slice(-3000)}`);
    const fiveMin = (await visible(dir)).filter((m) => m.thanos?.downsample?.resolution === 300000);
    if (fiveMin.length > 0 && /start second pass of downsampling/.test(p.output())) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: no 5m block after 180 s:\n${p.output().slice(-3000)}`);
}

test("downsample: the standalone downsampler makes the same 5m block, chunk for chunk", async () => {
  const t = copy("downsample-thanos"), o = copy("downsample-ours");
  // Only the 2d block qualifies (>= 40h raw); Thanos' standalone downsampler ignores no-downsample marks,
  // ours honours them, so the one on a small us1 block changes nothing here.
  const args = (dir: string, port: number) => ["tools", "bucket", "downsample", `--objstore.config-file=${bucketConfig(dir)}`, `--data-dir=${join(dir, "..", "data")}`, `--http-address=127.0.0.1:${port}`, "--wait-interval=1h"];
  const pt = startProcess(TH, args(t, await freePort()));
  const po = startProcess(BUN, [join(ROOT, "agent/main.ts"), ...args(o, await freePort())], { cwd: ROOT });
  try {
    await Promise.all([untilDownsampled(t, pt, "thanos tools bucket downsample"), untilDownsampled(o, po, "agent tools bucket downsample")]);
  } finally {
    await Promise.all([pt.stop(), po.stop()]);
  }
  const five = async (dir: string) => (await visible(dir)).filter((m) => m.thanos?.downsample?.resolution === 300000);
  const [ft, fo] = [await five(t), await five(o)];
  assert.is(ft.length, 1, "Thanos made one 5m block");
  assert.equal(fo.map(shape), ft.map(shape), "the same 5m block");
  const [ct, co] = [await contents(t, ft[0]!.ulid), await contents(o, fo[0]!.ulid)];
  assert.ok(ct.size > 0);
  assert.equal([...co.keys()], [...ct.keys()]);
  for (const [k, v] of ct) assert.is(co.get(k), v, `series ${k}: same AggrChunks`);
});

// ---- web ----

test("web: /api/v1/blocks answers the blocks Thanos' bucket web answers; marking errors as Thanos words them", async () => {
  const [pt, po] = [await freePort(), await freePort()];
  const th = startProcess(TH, ["tools", "bucket", "web", `--objstore.config-file=${bucketConfig(input)}`, `--http-address=127.0.0.1:${pt}`, "--refresh=1h"]);
  const ou = startProcess(BUN, [join(ROOT, "agent/main.ts"), "tools", "bucket", "web", `--objstore.config-file=${bucketConfig(input)}`, `--http-address=127.0.0.1:${po}`, "--refresh=1h"], { cwd: ROOT });
  try {
    await Promise.all([waitForHttp(`http://127.0.0.1:${pt}/-/ready`, th), waitForHttp(`http://127.0.0.1:${po}/-/ready`, ou)]);
    const get = async (port: number) => {
      for (let i = 0; i < 100; i++) {
        const j = await (await fetch(`http://127.0.0.1:${port}/api/v1/blocks`)).json() as { status: string; data: { label: string; blocks: { ulid: string }[]; refreshedAt: string; err: unknown } };
        if (j.data.blocks.length > 0) return j;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`no blocks from :${port}`);
    };
    const [jt, jo] = [await get(pt), await get(po)];
    assert.is(jo.status, jt.status);
    assert.is(jo.data.label, jt.data.label);
    assert.is(jo.data.err, jt.data.err);
    const byId = (a: { ulid: string }[]) => [...a].sort((x, y) => (x.ulid < y.ulid ? -1 : 1));
    assert.equal(byId(jo.data.blocks), byId(jt.data.blocks), "the same blocks, as Thanos marshals metadata.Meta");
    for (const form of [{ id: "bad", action: "DELETION" }, { id: ids.twoDay, action: "FOO" }, { id: "", action: "DELETION" }, { id: ids.twoDay, action: "" }]) {
      const post = async (port: number) => {
        const r = await fetch(`http://127.0.0.1:${port}/api/v1/blocks/mark`, { method: "POST", body: new URLSearchParams(form) });
        return { status: r.status, body: await r.text() };
      };
      assert.equal(await post(po), await post(pt), `mark ${JSON.stringify(form)}`);
    }
  } finally {
    await Promise.all([th.stop(), ou.stop()]);
  }
});

test.run();
