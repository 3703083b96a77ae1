// Blocks on disk: DiskSink writes through a temp dir, openLocalBlocks finds block dirs (skipping the
// WAL, unfinished temp dirs and non-block entries) and reads them with positional file reads.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../lib/proc.ts";
import { DiskSink, openLocalBlocks } from "../../../agent/tsdb/local.ts";
import { writeBlock } from "../../../shared/tsdb/writer.ts";
import { parseBlockMeta } from "../../../shared/tsdb/meta.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { chunksOf, makeSeries } from "./helpers.ts";

test("write two blocks to disk, open the TSDB dir, read every sample back", async () => {
  const dir = tempDir("tsdb-local-").path;
  const a = makeSeries(30, 200), b = makeSeries(30, 200, a[0]!.ts[199]! + 15_000);
  const thanos = { labels: { replica: "r1" }, downsample: { resolution: 0 }, source: "sidecar" };
  const u1 = newUlid(), u2 = newUlid();
  await writeBlock(new DiskSink(dir, u1), a.map((s) => ({ labels: s.labels, chunks: chunksOf(s.ts, s.vs) })), { ulid: u1, thanos });
  await writeBlock(new DiskSink(dir, u2), b.map((s) => ({ labels: s.labels, chunks: chunksOf(s.ts, s.vs) })), { ulid: u2 });
  mkdirSync(join(dir, "wal"));
  mkdirSync(join(dir, "chunks_head"));
  mkdirSync(join(dir, newUlid() + ".tmp-for-creation"));
  writeFileSync(join(dir, "lock"), "");
  assert.equal(readdirSync(join(dir, u1)).sort(), ["chunks", "index", "meta.json", "tombstones"]);
  const meta = parseBlockMeta(readFileSync(join(dir, u1, "meta.json")), u1);
  assert.equal(meta.thanos!.labels, { replica: "r1" });
  assert.is(meta.thanos!.source, "sidecar");
  assert.equal(meta.thanos!.segment_files, ["000001"]);
  assert.equal(meta.thanos!.files!.map((f) => f.rel_path), ["chunks/000001", "index", "meta.json"]);
  assert.is(meta.thanos!.files![0]!.size_bytes, readFileSync(join(dir, u1, "chunks/000001")).length);
  assert.is(meta.thanos!.files![1]!.size_bytes, readFileSync(join(dir, u1, "index")).length);
  assert.is(meta.thanos!.files![2]!.size_bytes, undefined);

  const { querier, blocks, close } = await openLocalBlocks(dir);
  try {
    assert.is(blocks.length, 2);
    const r = await querier.select({ start: -Infinity, end: Infinity }, []);
    assert.is(r.series.length, 30);
    for (const s of r.series) {
      const it = s.iterator();
      let n = 0;
      while (it.next()) n++;
      assert.is(n, 400);
    }
  } finally {
    await close();
  }
});

test("a failed write leaves no block behind; a missing dir is not_found", async () => {
  const dir = tempDir("tsdb-local-").path;
  const u = newUlid();
  const s = makeSeries(2, 10);
  try {
    await writeBlock(new DiskSink(dir, u), [...s].reverse().map((x) => ({ labels: x.labels, chunks: chunksOf(x.ts, x.vs) })), { ulid: u });
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "bad_data");
  }
  assert.not.ok(existsSync(join(dir, u)));
  assert.not.ok(existsSync(join(dir, u + ".tmp-for-creation")));
  try { await openLocalBlocks(join(dir, "nope")); assert.unreachable(); } catch (e) { assert.is(errorCode(e), "not_found"); }
});

test.run();
