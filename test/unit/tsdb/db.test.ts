// openTSDB (agent/tsdb/db.ts) on real directories: block cutting, reads over head + blocks, reopen
// and replay, WAL checkpoints, retention, the lock file, crash leftovers, and the StoreAPI/Info view.
// Blocks are validated by promtool and a real Prometheus in test/integration/tsdb-head-prometheus.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../lib/proc.ts";
import { openTSDB, type Tsdb } from "../../../agent/tsdb/db.ts";
import { labelsFrom, labelsString, type Labels } from "../../../shared/labels/labels.ts";
import { newMatcher } from "../../../shared/labels/matcher.ts";
import { parseBlockMeta } from "../../../shared/tsdb/meta.ts";
import { LabelMatcher_Type } from "../../../shared/gen/thanos/storepb/types_pb.ts";
import { create } from "@bufbuild/protobuf";
import { SeriesRequestSchema } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { XorIterator } from "../../../shared/chunkenc/xor.ts";
import { listCheckpoints, listSegments } from "../../../agent/tsdb/wal/wal.ts";

const H = 3600_000;
const RANGE = 2 * H;
const T0 = Math.floor(1_700_000_000_000 / RANGE) * RANGE + 1_234_567; // inside a range, not aligned
const STEP = 60_000;

const series = (i: number): Labels => labelsFrom({ __name__: i % 3 ? "rec:rate5m" : "ALERTS", job: `j${i % 4}`, i: String(i) });

/** Append `n` steps of 10 series from step `from` on, one commit per step. */
async function write(db: Tsdb, from: number, n: number): Promise<void> {
  for (let k = from; k < from + n; k++) {
    const a = db.appender();
    for (let i = 0; i < 10; i++) {
      if (i === 9 && k % 50 > 40) continue; // a series with gaps
      a.append(series(i), T0 + k * STEP, k * 10 + i, i === 9 && k % 50 === 40);
    }
    await a.commit();
  }
}

/** Every sample the querier returns: "labels t v" lines (stale as "stale"). */
async function dump(db: Tsdb, mint = -1e15, maxt = 1e15): Promise<string[]> {
  const r = await db.querier().select({ start: mint, end: maxt }, [newMatcher("=~", "__name__", ".+")]);
  const out: string[] = [];
  for (const s of r.series) {
    const it = s.iterator();
    while (it.next()) out.push(`${labelsString(s.labels)} ${it.at()} ${it.isStale() ? "stale" : it.value()}`);
    assert.is(it.err(), null);
  }
  return out;
}

function expected(from: number, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < 10; i++) {
    for (let k = from; k < from + n; k++) {
      if (i === 9 && k % 50 > 40) continue;
      out.push(`${labelsString(series(i))} ${T0 + k * STEP} ${i === 9 && k % 50 === 40 ? "stale" : k * 10 + i}`);
    }
  }
  return out.sort();
}

test("blocks are cut at block-range boundaries once the head spans 1.5 ranges; reads see everything once", async () => {
  const dir = tempDir("tsdb-").path;
  const db = await openTSDB(dir, { blockDurationMs: RANGE, checkIntervalMs: 0, walSegmentSize: 64 * 1024 });
  const cut: string[] = [];
  db.onBlock((b) => { cut.push(b.meta.ulid); });
  await write(db, 0, 7 * 60); // 7 h
  await db.compact();
  const metas = db.blocks();
  // 7 h from 20 min into a range: cuts until the head spans at most 1.5 ranges (3 blocks, head 1h20m).
  assert.equal(metas.length, 3);
  assert.ok(db.head.maxTime - db.head.minTime <= 1.5 * RANGE);
  assert.is(metas[0]!.minTime, T0, "the first block starts at the head's first sample (as Prometheus' first block does)");
  assert.is(metas[0]!.maxTime, Math.floor(T0 / RANGE) * RANGE + RANGE);
  // Later blocks start at the first sample after the cut (Prometheus' gc moves the head's min time up
  // to the data) and end on the next range boundary.
  const boundary = metas[0]!.maxTime;
  assert.is(metas[1]!.minTime, T0 + Math.ceil((boundary - T0) / STEP) * STEP);
  for (const m of metas.slice(1)) assert.is(m.maxTime % RANGE, 0);
  assert.equal(cut, metas.map((m) => m.ulid));
  const raw = readFileSync(join(dir, metas[0]!.ulid, "meta.json"));
  const m = parseBlockMeta(raw, "block");
  assert.equal(m.compaction, { level: 1, sources: [m.ulid] });
  assert.is(m.thanos, undefined, "no thanos section: the shipper adds it");
  assert.is(m.version, 1);
  assert.ok(db.head.minTime >= metas[1]!.maxTime, "the head keeps only data after the last block");
  assert.equal((await dump(db)).sort(), expected(0, 7 * 60));
  // A range straddling a block boundary and the head.
  const lo = metas[2]!.maxTime - 30 * STEP, hi = metas[2]!.maxTime + 30 * STEP;
  const inWindow = expected(0, 7 * 60).filter((l) => { const t = Number(l.split(" ").at(-2)); return t >= lo && t <= hi; });
  assert.equal((await dump(db, lo, hi)).sort(), inWindow);
  assert.ok(inWindow.length > 500);
  assert.is(db.stats().blocksCut, 3);
  await db.close();

  // Reopen: blocks + WAL replay give the same data, no duplicates.
  const db2 = await openTSDB(dir, { blockDurationMs: RANGE, checkIntervalMs: 0, walSegmentSize: 64 * 1024 });
  assert.equal((await dump(db2)).sort(), expected(0, 7 * 60));
  assert.ok(db2.stats().head.replayTooOld > 0 || db2.stats().replay.checkpoint !== null, "samples already in blocks were skipped or checkpointed away");
  await write(db2, 7 * 60, 60);
  await db2.compact();
  assert.equal((await dump(db2)).sort(), expected(0, 8 * 60));
  await db2.close();
});

test("WAL checkpoints: after cuts, old segments are checkpointed and deleted; replay still has everything", async () => {
  const dir = tempDir("tsdb-cp-").path;
  const o = { blockDurationMs: RANGE, checkIntervalMs: 0, walSegmentSize: 32 * 1024, walCompression: false };
  const db = await openTSDB(dir, o);
  await write(db, 0, 12 * 60);
  await db.compact();
  assert.ok(db.stats().checkpoints >= 1, `checkpoints: ${db.stats().checkpoints}`);
  const cps = listCheckpoints(join(dir, "wal"));
  assert.is(cps.length, 1);
  assert.ok(listSegments(join(dir, "wal"))[0]!.index > cps[0]!.index, "segments covered by the checkpoint are gone");
  const want = await dump(db);
  await db.close();
  const db2 = await openTSDB(dir, o);
  assert.equal(await dump(db2), want);
  assert.is(db2.stats().replay.checkpoint, cps[0]!.index);
  assert.is(db2.stats().head.replayUnknownRefs, 0, "every sample's series is in the checkpoint or later");
  await db2.close();
});

test("a series removed and created again keeps its samples through restarts and checkpoints (WAL ref aliases)", async () => {
  // Process 1 declares `comeback` twice (removed at the first cut, created again at the end); process 2
  // replays both declarations, cuts one block and checkpoints with the newer samples still in the head.
  // Prometheus 2.42 drops the second declaration there (its series is held under the first ref), so
  // process 3 would lose those samples as belonging to an unknown series.
  const dir = tempDir("tsdb-alias-").path;
  const o = { blockDurationMs: RANGE, checkIntervalMs: 0, walSegmentSize: 32 * 1024, walCompression: false };
  const base = Math.floor(T0 / RANGE) * RANGE;
  const x = labelsFrom({ __name__: "comeback" });
  const others = Array.from({ length: 20 }, (_, i) => labelsFrom({ __name__: "steady", i: String(i) }));
  const want: string[] = [];
  const put = async (db: Tsdb, k: number, withX: boolean) => {
    const a = db.appender();
    const t = base + k * STEP;
    for (const l of others) { a.append(l, t, k); want.push(`${labelsString(l)} ${t} ${k}`); }
    if (withX) { a.append(x, t, -k); want.push(`${labelsString(x)} ${t} ${-k}`); }
    await a.commit();
  };
  let db = await openTSDB(dir, o);
  for (let k = 0; k < 7 * 60; k++) await put(db, k, k < 30 || k >= 7 * 60 - 20);
  await db.compact();
  assert.is(db.blocks().length, 2);
  await db.close();
  db = await openTSDB(dir, o);
  assert.ok(db.stats().replay.aliases >= 1, "the WAL declares the series under two refs");
  // Enough WAL in process 2 that process 1's segments are in the older two thirds that get checkpointed.
  const many = Array.from({ length: 3000 }, (_, i) => labelsFrom({ __name__: "burst", i: String(i) }));
  for (let k = 7 * 60; k < 7 * 60 + 8; k++) {
    await put(db, k, false);
    const a = db.appender();
    for (const l of many) { a.append(l, base + k * STEP, 1); want.push(`${labelsString(l)} ${base + k * STEP} 1`); }
    await a.commit();
  }
  await db.compact();
  assert.is(db.blocks().length, 3);
  assert.ok(db.stats().checkpoints >= 1, "a checkpoint with the re-created series' samples still in the head");
  await db.close();
  db = await openTSDB(dir, o);
  assert.is(db.stats().head.replayUnknownRefs, 0);
  assert.equal((await dump(db)).sort(), want.sort());
  await db.close();
});

test("retention: blocks ending more than the retention before the newest block's end are deleted, after reads finish", async () => {
  const dir = tempDir("tsdb-ret-").path;
  const db = await openTSDB(dir, { blockDurationMs: RANGE, retentionMs: 4 * H, checkIntervalMs: 0 });
  await write(db, 0, 6 * 60);
  await db.compact();
  const first = db.blocks()[0]!;
  // A read in progress holds the blocks it started with.
  const it = db.reader.selectChunks(-1e15, 1e15, [newMatcher("=~", "__name__", ".+")]);
  await it.next();
  await write(db, 6 * 60, 6 * 60);
  await db.compact();
  const metas = db.blocks();
  assert.ok(!metas.some((m) => m.ulid === first.ulid), "the oldest block left the list");
  const newest = Math.max(...metas.map((m) => m.maxTime));
  for (const m of metas) assert.ok(newest - m.maxTime <= 4 * H, `block ${m.ulid} within retention`);
  assert.ok(existsSync(join(dir, first.ulid + ".tmp-for-deletion")), "renamed, files kept while read");
  let n = 1;
  for (;;) { const r = await it.next(); if (r.done) break; n++; }
  assert.is(n, 10);
  // Removal runs once the read released the block (closing its files first): wait for it.
  for (let k = 0; k < 200 && existsSync(join(dir, first.ulid + ".tmp-for-deletion")); k++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(!existsSync(join(dir, first.ulid + ".tmp-for-deletion")), "removed once the read finished");
  assert.ok(db.stats().blocksDeleted >= 1);
  await db.close();
});

test("lock file: held while open; a live owner refuses, a dead one is stale; tmp dirs of a crash are removed", async () => {
  const dir = tempDir("tsdb-lock-").path;
  const db = await openTSDB(dir, { checkIntervalMs: 0 });
  assert.is(readFileSync(join(dir, "lock"), "utf8"), String(process.pid));
  let err = "";
  try { await openTSDB(dir); } catch (e) { err = (e as Error).message; }
  assert.match(err, /already open in this process/);
  await db.close();
  assert.ok(!existsSync(join(dir, "lock")));
  // Another live process (our parent) holds it.
  writeFileSync(join(dir, "lock"), String(process.ppid));
  err = "";
  try { await openTSDB(dir); } catch (e) { err = (e as Error).message; }
  assert.match(err, new RegExp(`locked by running process ${process.ppid}`));
  // A dead pid, or an empty file (Prometheus' flock file): stale.
  writeFileSync(join(dir, "lock"), "999999999");
  mkdirSync(join(dir, "01ARZ3NDEKTSV4RRFFQ69G5FAV.tmp-for-creation", "chunks"), { recursive: true });
  mkdirSync(join(dir, "01ARZ3NDEKTSV4RRFFQ69G5FAW.tmp-for-deletion"), { recursive: true });
  mkdirSync(join(dir, "wal", "checkpoint.00000007.tmp"), { recursive: true });
  const logs: string[] = [];
  const log = { debug() {}, info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m), with() { return log; }, enabled: () => true };
  const db2 = await openTSDB(dir, { checkIntervalMs: 0, log });
  assert.ok(logs.includes("removing stale TSDB lock file"));
  assert.equal(readdirSync(dir).sort(), ["lock", "wal"]);
  assert.equal(readdirSync(join(dir, "wal")).filter((n) => n.startsWith("checkpoint")), []);
  await db2.close();
  writeFileSync(join(dir, "lock"), "");
  await (await openTSDB(dir, { checkIntervalMs: 0, noLockfile: true })).close();
  assert.ok(!existsSync(join(dir, "lock")), "no-lockfile: the stale file is removed and none is written");
});

test("a crash after a block was renamed but before the head was truncated: the block wins, no duplicates", async () => {
  const dir = tempDir("tsdb-crash-").path;
  const db = await openTSDB(dir, { blockDurationMs: RANGE, checkIntervalMs: 0 });
  await write(db, 0, 4 * 60);
  // Copy the state as it is before the cut (WAL only), then cut.
  const before = tempDir("tsdb-crash-copy-").path;
  await db.compact();
  assert.is(db.blocks().length, 1);
  const ulid = db.blocks()[0]!.ulid;
  const want = await dump(db);
  await db.close();
  // Rebuild "block renamed, WAL untouched": the WAL of a run that never cut, plus the block.
  const db0 = await openTSDB(before, { blockDurationMs: 100 * RANGE, checkIntervalMs: 0 });
  await write(db0, 0, 4 * 60);
  await db0.close();
  cpSync(join(dir, ulid), join(before, ulid), { recursive: true });
  const db2 = await openTSDB(before, { blockDurationMs: RANGE, checkIntervalMs: 0 });
  assert.equal(await dump(db2), want);
  assert.ok(db2.stats().head.replayTooOld > 0);
  await db2.close();
});

test("StoreAPI: external labels on every series, final-label order, skip_chunks, replica labels dropped; Info", async () => {
  const dir = tempDir("tsdb-store-").path;
  // "i" sorts between the stored labels: a set that is a prefix of another moves after its extensions.
  const ext = labelsFrom({ replica: "r1", rule: "a" });
  const db = await openTSDB(dir, { blockDurationMs: RANGE, checkIntervalMs: 0, externalLabels: ext });
  const a = db.appender();
  a.append(labelsFrom({ __name__: "x" }), T0, 1);
  a.append(labelsFrom({ __name__: "x", job: "j" }), T0, 2);
  a.append(labelsFrom({ __name__: "x", a: "1" }), T0, 3);
  await a.commit();
  await write(db, 1, 4 * 60);
  await db.compact();
  assert.ok(db.blocks().length >= 1);
  const ctx = { signal: new AbortController().signal };
  const req = (ms: [string, LabelMatcher_Type, string][], extra: Record<string, unknown> = {}) => create(SeriesRequestSchema, {
    minTime: BigInt(T0), maxTime: BigInt(T0 + 10 * H), matchers: ms.map(([name, type, value]) => ({ name, type, value })), ...extra,
  });
  const collect = async (r: ReturnType<typeof req>) => {
    const out: { labels: string; chunks: number; samples: number }[] = [];
    for await (const m of db.store.series(r, ctx)) {
      const v = (m as { result: { case: string; value: { labels: { name: string; value: string }[]; chunks: { raw: { data: Uint8Array } }[] } } }).result;
      if (v.case !== "series") continue;
      let n = 0;
      for (const c of v.value.chunks) { const it = new XorIterator(c.raw.data); while (it.next()) n++; }
      out.push({ labels: labelsString(v.value.labels), chunks: v.value.chunks.length, samples: n });
    }
    return out;
  };
  const xs = await collect(req([["__name__", LabelMatcher_Type.EQ, "x"]]));
  assert.equal(xs.map((s) => s.labels), [
    '{__name__="x", a="1", replica="r1", rule="a"}',
    '{__name__="x", job="j", replica="r1", rule="a"}',
    '{__name__="x", replica="r1", rule="a"}',
  ]);
  const all = await collect(req([["__name__", LabelMatcher_Type.RE, ".+"]]));
  for (let i = 1; i < all.length; i++) assert.ok(all[i - 1]!.labels < all[i]!.labels || all[i - 1]!.labels.length < all[i]!.labels.length, "sorted");
  const i3 = all.find((s) => s.labels.includes('i="3"'))!;
  assert.is(i3.samples, 4 * 60, "every sample, from blocks and head");
  assert.ok(i3.chunks >= 3);
  // A matcher on an external label is decided by the store.
  assert.equal((await collect(req([["__name__", LabelMatcher_Type.EQ, "x"], ["rule", LabelMatcher_Type.EQ, "b"]]))), []);
  assert.is((await collect(req([["__name__", LabelMatcher_Type.EQ, "x"], ["rule", LabelMatcher_Type.EQ, "a"]]))).length, 3);
  let err = "";
  try { await collect(req([["rule", LabelMatcher_Type.EQ, "a"]])); } catch (e) { err = (e as Error).message; }
  assert.match(err, /no matchers specified \(excluding external labels\)/);
  const skip = await collect(req([["__name__", LabelMatcher_Type.EQ, "x"]], { skipChunks: true }));
  assert.equal(skip.map((s) => [s.labels, s.chunks]), xs.map((s) => [s.labels, 0]));
  const norep = await collect(req([["__name__", LabelMatcher_Type.EQ, "x"]], { withoutReplicaLabels: ["replica"] }));
  assert.equal(norep.map((s) => s.labels), ['{__name__="x", a="1", rule="a"}', '{__name__="x", job="j", rule="a"}', '{__name__="x", rule="a"}']);
  const names = await db.store.labelNames({ start: BigInt(T0), end: BigInt(T0 + 10 * H), matchers: [], withoutReplicaLabels: ["replica"] } as never, ctx);
  assert.equal(names.names, ["__name__", "a", "i", "job", "rule"]);
  const vals = await db.store.labelValues({ label: "rule", start: BigInt(T0), end: BigInt(T0 + 10 * H), matchers: [{ name: "__name__", type: LabelMatcher_Type.EQ, value: "x" }], withoutReplicaLabels: [] } as never, ctx);
  assert.equal(vals.values, ["a"]);
  const jobs = await db.store.labelValues({ label: "job", start: BigInt(T0), end: BigInt(T0 + 10 * H), matchers: [{ name: "__name__", type: LabelMatcher_Type.EQ, value: "ALERTS" }], withoutReplicaLabels: [] } as never, ctx);
  assert.equal(jobs.values, ["j0", "j1", "j2", "j3"]);
  const info = await db.info.info({} as never, ctx);
  assert.is(info.ComponentType, "rule");
  assert.equal(info.labelSets, [{ labels: [{ name: "replica", value: "r1" }, { name: "rule", value: "a" }] }]);
  assert.is(info.store!.minTime, BigInt(T0));
  assert.is(info.store!.maxTime, (1n << 63n) - 1n);
  await db.close();
});

test.run();
