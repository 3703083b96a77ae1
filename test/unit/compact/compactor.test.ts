// The bucket compactor end to end on a local bucket (real DiskWorkspace, FilesystemBucket): what a run
// leaves in the bucket, halts, retries through a faulty bucket, a crash between upload and marking,
// delete delay, partial uploads, retention, the index size guard and the bucket index. The block-level
// oracle (same blocks as the real Thanos compactor) is test/integration/compact-thanos.test.ts.
import { cpSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Compactor, runCompactor, type CompactorConfig } from "../../../shared/compact/compactor.ts";
import { noopMetrics } from "../../../shared/compact/metrics.ts";
import { isHaltError } from "../../../shared/compact/errors.ts";
import { FaultyBucket } from "../../../shared/objstore/faulty.ts";
import type { Bucket } from "../../../shared/objstore/bucket.ts";
import { readBucketIndex } from "../../../shared/block/bucketindex.ts";
import { listBucketBlocks } from "../../../shared/block/listing.ts";
import { markBlock } from "../../../shared/block/markers.ts";
import { encodeBlockMeta, type BlockMeta } from "../../../shared/tsdb/meta.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";
import { withRetries } from "../../../shared/objstore/retry.ts";
import { FilesystemBucket } from "../../../agent/objstore/fs.ts";
import { DiskWorkspace } from "../../../agent/compact/workspace.ts";
import { generateHABucket, HOUR } from "../../lib/blockgen.ts";
import { tempDir } from "../../lib/proc.ts";

const NOW = Date.UTC(2026, 5, 1);
const START = NOW - 10 * 24 * HOUR;
let seed: string;

test.before(async () => {
  seed = join(tempDir("compact-seed-").path, "bucket");
  // 24h of an HA pair: 12 blocks per replica, 40 series.
  await generateHABucket({ dir: seed, start: START, blocks: 12, series: 40, step: 30000 });
});

function copyBucket(): { dir: string; bkt: FilesystemBucket } {
  const dir = join(tempDir("compact-bkt-").path, "b");
  cpSync(seed, dir, { recursive: true });
  return { dir, bkt: new FilesystemBucket(dir) };
}

function compactor(bkt: Bucket, cfg: Partial<CompactorConfig> = {}, o: { now?: () => number; logs?: string[] } = {}): Compactor {
  return new Compactor({ consistencyDelayMs: 0, downsamplingDisabled: true, bucketIndexVerifyDelayMs: 0, ...cfg }, {
    bkt, ws: new DiskWorkspace(tempDir("compact-ws-").path),
    log: (lv, msg, kv) => o.logs?.push(`${lv} ${msg} ${JSON.stringify(kv ?? {})}`),
    metrics: noopMetrics(), now: o.now ?? (() => NOW),
  });
}

async function visible(bkt: Bucket): Promise<BlockMeta[]> {
  const d = await listBucketBlocks(bkt);
  return d.metas.filter((m) => !d.marks.has(m.ulid)).sort((a, b) => a.minTime - b.minTime || a.maxTime - b.maxTime);
}

const shape = (ms: BlockMeta[]) => ms.map((m) => `${m.minTime - START}-${m.maxTime - START} L${m.compaction.level} s${m.stats.numSeries} n${m.stats.numSamples} ${JSON.stringify(m.thanos?.labels)}`);

test("an HA pair deduplicated and compacted: 2h -> 8h, newest set aside, inputs marked, bucket index current", async () => {
  const { bkt } = copyBucket();
  const c = compactor(bkt, { replicaLabels: ["replica"], dedupFunc: "penalty" });
  await c.runOnce();
  const v = await visible(bkt);
  // 24h = three 8h windows; the last 8h window holds the newest block, so it is not complete: its first
  // three 2h slots each got their replicas merged (vertical compaction) and wait as level 2 blocks.
  assert.equal(v.map((m) => [(m.minTime - START) / HOUR, (m.maxTime - START) / HOUR, m.compaction.level]), [
    [0, 8, 3], [8, 16, 3], [16, 18, 2], [18, 20, 2], [20, 22, 2], [22, 24, 2],
  ]);
  for (const m of v) {
    assert.equal(m.thanos!.labels, { cluster: "eu1" });
    assert.is(m.thanos!.source, "compactor");
    assert.ok(m.thanos!.files!.some((f) => f.rel_path === "index" && f.size_bytes! > 0));
    assert.ok(typeof m.thanos!.upload_time === "string");
  }
  const idx = await readBucketIndex(bkt);
  const d = await listBucketBlocks(bkt);
  assert.equal(idx!.blocks.map((m) => m.ulid).sort(), d.metas.map((m) => m.ulid).sort(), "the bucket index lists exactly the visible blocks");
  assert.equal(idx!.deletion_marks.map((m) => m.id).sort(), [...d.marks.keys()].sort());
  // Every input is marked (delete delay 48h: still there).
  assert.is(d.marks.size, 24 + 8);
});

test("overlapping blocks without vertical compaction halt; with --wait and halt-on-error the loop stays up halted", async () => {
  const { dir, bkt } = copyBucket();
  // A second copy of one of replica a's blocks under another ULID (a duplicate upload): it overlaps.
  const src = (await listBucketBlocks(bkt)).metas.find((m) => m.thanos!.labels.replica === "a")!;
  const dup = newUlid(NOW - 5 * HOUR);
  cpSync(join(dir, src.ulid), join(dir, dup), { recursive: true });
  writeFileSync(join(dir, dup, "meta.json"), encodeBlockMeta({ ...src, ulid: dup, compaction: { level: 1, sources: [dup] } }));
  try {
    await compactor(bkt).runOnce();
    assert.unreachable("should halt");
  } catch (e) {
    assert.ok(isHaltError(e), String(e));
    assert.match((e as Error).message, /pre compaction overlap check: overlaps found/);
  }
  const ac = new AbortController();
  const c = compactor(bkt);
  const halted: number[] = [];
  const metrics = { ...noopMetrics(), halted: { set: (v: number) => halted.push(v) } };
  const run = runCompactor(c, { wait: true, waitIntervalMs: 10, haltOnError: true, signal: ac.signal }, { log: () => {}, metrics: metrics as never });
  for (let i = 0; i < 400 && c.halted === null; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(halted, [1], "halted once, and nothing else happens");
  assert.ok(c.halted !== null);
  ac.abort();
  await run;
  // Without halt-on-error the process ends with the error.
  try {
    await runCompactor(compactor(bkt), { wait: true, waitIntervalMs: 10, haltOnError: false, signal: new AbortController().signal }, { log: () => {}, metrics: noopMetrics() });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /critical error detected/);
  }
});

test("a faulty bucket never corrupts the result: retried runs end where a clean run does", async () => {
  const clean = copyBucket();
  await compactor(clean.bkt, { replicaLabels: ["replica"] }).runOnce();
  const want = shape(await visible(clean.bkt));
  // Every 3rd call fails behind the request retries the agent adds (the failures reach each layer),
  // and every 499th call fails with no retry below the compactor (a run makes a few hundred calls, so most runs fail somewhere and the next one carries on).
  for (const [mode, every, retried] of [["before", 3, true], ["after", 3, true], ["midway", 3, true], ["before", 499, false], ["after", 499, false], ["midway", 499, false]] as const) {
    const { bkt } = copyBucket();
    const faulty = new FaultyBucket(bkt, { failEvery: every, mode });
    const c = compactor(retried ? withRetries(faulty, { baseDelayMs: 1, maxDelayMs: 2 }) : faulty, { replicaLabels: ["replica"] });
    let ok = false, retries = 0;
    for (let i = 0; i < 200 && !ok; i++) {
      try { await c.runOnce(); ok = true; } catch (e) {
        assert.ok(!isHaltError(e), `mode ${mode}: a transient failure must not halt: ${(e as Error).message}`);
        retries++;
      }
    }
    assert.ok(ok, `mode ${mode} every ${every}: finished`);
    assert.ok(faulty.failures >= (retried ? 5 : 2) && (retried || retries > 0), `mode ${mode} every ${every}: faults injected (${faulty.failures}), runs retried (${retries})`);
    assert.equal(shape(await visible(bkt)), want, `mode ${mode} every ${every}`);
  }
});

test("a crash after the upload, before the inputs are marked: the rerun garbage-collects the duplicates", async () => {
  const { bkt } = copyBucket();
  // The first deletion mark fails for good, like a process killed right after its upload.
  const crashing = new FaultyBucket(bkt, { failEvery: 1, ops: ["upload"], keys: (k) => k.endsWith("deletion-mark.json"), code: "internal" });
  try { await compactor(crashing, { replicaLabels: ["replica"] }).runOnce(); assert.unreachable(); } catch (e) {
    assert.match((e as Error).message, /mark old block for deletion|injected fault/);
  }
  const logs: string[] = [];
  await compactor(bkt, { replicaLabels: ["replica"] }, { logs }).runOnce();
  assert.ok(logs.some((l) => l.includes("marking outdated block for deletion")), "duplicates marked by garbage collection");
  const clean = copyBucket();
  await compactor(clean.bkt, { replicaLabels: ["replica"] }).runOnce();
  assert.equal(shape(await visible(bkt)), shape(await visible(clean.bkt)));
});

test("marked blocks are deleted after --delete-delay (meta.json first, mark last), not before", async () => {
  const { dir, bkt } = copyBucket();
  let now = NOW;
  const c = compactor(bkt, { replicaLabels: ["replica"], deleteDelayMs: 3600e3 }, { now: () => now });
  await c.runOnce();
  const marked = (await listBucketBlocks(bkt)).marks;
  assert.ok(marked.size > 0);
  now += 1800e3;
  await c.runOnce();
  assert.is((await listBucketBlocks(bkt)).marks.size, marked.size, "half the delay: nothing deleted");
  now += 3600e3;
  await c.runOnce();
  const after = await listBucketBlocks(bkt);
  assert.is(after.marks.size, 0);
  for (const id of marked.keys()) assert.is(existsSync(join(dir, id)), false, `block ${id} gone`);
  assert.equal((await readBucketIndex(bkt))!.blocks.length, after.metas.length);
});

test("partial uploads: cleaned after 48h, young ones kept, an interrupted deletion finished", async () => {
  const { dir, bkt } = copyBucket();
  const ids = readdirSync(dir).filter((n) => n.length === 26).sort();
  const [oldPartial, youngPartial, halfDeleted] = ids;
  for (const id of [oldPartial!, youngPartial!, halfDeleted!]) await bkt.delete(`${id}/meta.json`);
  const old = new Date(NOW - 49 * HOUR);
  for (const f of readdirSync(join(dir, oldPartial!), { recursive: true }) as string[]) utimesSync(join(dir, oldPartial!, f), old, old);
  const young = new Date(NOW - 1 * HOUR);
  for (const id of [youngPartial!, halfDeleted!]) for (const f of readdirSync(join(dir, id), { recursive: true }) as string[]) utimesSync(join(dir, id, f), young, young);
  await markBlock(bkt, halfDeleted!, "deletion", { now: NOW - 3 * HOUR });
  const c = compactor(bkt, { deleteDelayMs: 2 * HOUR });
  await c.syncMetas();
  assert.equal([...c.partial.keys()].sort(), [oldPartial, youngPartial, halfDeleted].sort());
  await c.cleanPartial();
  assert.is(existsSync(join(dir, oldPartial!)), false);
  assert.is(existsSync(join(dir, youngPartial!)), true);
  assert.is(existsSync(join(dir, halfDeleted!)), false);
});

test("retention: blocks past --retention.resolution-raw are marked", async () => {
  const { bkt } = copyBucket();
  const c = compactor(bkt, { retention: { raw: 9 * 24 * HOUR + 12 * HOUR, fiveMin: 0, oneHour: 0 } });
  await c.syncMetas();
  await c.applyRetention();
  const marks = (await listBucketBlocks(bkt)).marks;
  // Data spans [START, START+24h); NOW = START + 10d: blocks ending by NOW - 9.5d = START + 12h go.
  const metas = (await listBucketBlocks(bkt)).metas;
  const want = metas.filter((m) => m.maxTime < START + 12 * HOUR).map((m) => m.ulid).sort();
  assert.equal([...marks.keys()].sort(), want);
  assert.match(JSON.stringify([...marks.values()][0]), /block exceeding retention of 228h0m0s/);
});

test("the index size guard marks the largest input no-compact (index-size-exceeding) and plans without it", async () => {
  const { dir, bkt } = copyBucket();
  const c = compactor(bkt, { replicaLabels: ["replica"], maxIndexBytes: 1 });
  await c.runOnce();
  const ncm = readdirSync(dir).filter((id) => existsSync(join(dir, id, "no-compact-mark.json")));
  assert.ok(ncm.length > 0);
  const m = JSON.parse(readFileSync(join(dir, ncm[0]!, "no-compact-mark.json"), "utf8"));
  assert.is(m.reason, "index-size-exceeding");
  assert.match(m.details, /largeTotalIndexSizeFilter: Total compacted block's index size could exceed: 1 with this block/);
});

test("--hash-func=SHA256: file hashes in meta.json as Thanos writes them, and a second download skips matching files", async () => {
  const { bkt } = copyBucket();
  const c = compactor(bkt, { replicaLabels: ["replica"], hashFunc: "SHA256" });
  await c.runOnce();
  const m = (await visible(bkt)).find((x) => x.compaction.level === 3)!;
  const files = m.thanos!.files!;
  assert.equal(files.map((f) => f.rel_path), ["chunks/000001", "index", "meta.json"]);
  for (const f of files.slice(0, 2)) assert.match(JSON.stringify(f.hash), /^\{"hashFunc":"SHA256","value":"[0-9a-f]{64}"\}$/);
  assert.is(files[2]!.hash, undefined);
  let ranges = 0;
  const counting = new Proxy(bkt, { get(t, p) { const v = (t as unknown as Record<string | symbol, unknown>)[p]; if (p === "getRange") return (...a: [string, number, number]) => { ranges++; return t.getRange(...a); }; return typeof v === "function" ? (v as Function).bind(t) : v; } });
  const ws = new DiskWorkspace(tempDir("compact-dl-").path);
  await ws.download(counting, m, "b", { concurrency: 2 });
  const first = ranges;
  assert.ok(first >= 2);
  await ws.download(counting, m, "b", { concurrency: 2 });
  assert.is(ranges, first, "hashes match: nothing fetched again but meta.json");
});

test.run();
