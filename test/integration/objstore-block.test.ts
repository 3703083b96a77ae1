// Real Prometheus blocks (made by promtool) through a bucket and back: upload from disk with injected
// faults and retries, ranged download into a new directory, and promtool's own dump of both directories
// must agree (the oracle), as must every shipped file byte for byte.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { downloadBlock, uploadBlockDir } from "../../agent/objstore/block.ts";
import { errorCode } from "../../shared/encoding/errors.ts";
import { listAll } from "../../shared/objstore/bucket.ts";
import { listBlocks } from "../../shared/objstore/block.ts";
import { bucketBlockFiles } from "../../shared/objstore/blockfiles.ts";
import { bucketSource } from "../../shared/objstore/source.ts";
import { openBlock } from "../../shared/tsdb/block.ts";
import { FaultyBucket } from "../../shared/objstore/faulty.ts";
import { tempDir } from "../lib/proc.ts";
import { promtool, promtoolBackfill } from "../lib/prometheus.ts";

const noSleep = async () => {};

function openMetrics(): string {
  const lines = ["# HELP load A gauge.", "# TYPE load gauge"];
  const t0 = 1_700_000_000; // seconds, as OpenMetrics wants
  for (let s = 0; s < 40; s++) {
    for (let i = 0; i < 3 * 240; i++) lines.push(`load{instance="i${s}",job="j${s % 3}"} ${Math.sin(i / 10 + s) * 100} ${t0 + i * 15}`);
  }
  lines.push("# EOF");
  return lines.join("\n") + "\n";
}

test("promtool blocks survive upload (with faults) and ranged download unchanged", async () => {
  const work = tempDir("objstore-block-");
  const src = join(work.path, "src"), dst = join(work.path, "dst");
  await promtoolBackfill(openMetrics(), src);
  const ulids = readdirSync(src).filter((n) => /^[0-9A-Z]{26}$/.test(n)).sort();
  assert.ok(ulids.length >= 2, `promtool made ${ulids.length} blocks`);

  const fs = new FilesystemBucket(join(work.path, "bucket"));
  // Without retries, a fault leaves nothing visible.
  const once = new FaultyBucket(fs, { failEvery: 2, ops: ["upload"] });
  try {
    await uploadBlockDir(once, join(src, ulids[0]!), { attempts: 1 });
    assert.unreachable("upload should fail");
  } catch (e) { assert.is(errorCode(e), "unavailable"); }
  assert.equal(await listBlocks(fs), []);
  try {
    await downloadBlock(fs, ulids[0]!, dst);
    assert.unreachable("download of an invisible block");
  } catch (e) { assert.is(errorCode(e), "not_found"); }

  // With retries every block arrives, though every third upload call fails.
  const flaky = new FaultyBucket(fs, { failEvery: 3, ops: ["upload"] });
  for (const u of ulids) {
    const { skipped } = await uploadBlockDir(flaky, join(src, u), { attempts: 4, sleep: noSleep });
    assert.ok(skipped.every((s) => s === "tombstones"), `skipped ${skipped}`);
  }
  assert.ok(flaky.failures > 0);
  assert.equal(await listBlocks(fs), ulids);

  // Download in 4 KiB ranges through a bucket failing every 5th range read.
  const reads = new FaultyBucket(fs, { failEvery: 5, ops: ["getRange"] });
  for (const u of ulids) await downloadBlock(reads, u, dst, { rangeBytes: 4096, sleep: noSleep });
  assert.ok(reads.failures > 5, `${reads.failures} injected read faults`);
  for (const u of ulids) {
    for (const key of await listAll(fs, u, { recursive: true })) {
      const rel = key.slice(u.length + 1);
      assert.equal(readFileSync(join(dst, u, ...rel.split("/"))), readFileSync(join(src, u, ...rel.split("/"))), `${u}/${rel}`);
    }
    assert.not.ok(existsSync(join(dst, u, "tombstones")) && !existsSync(join(src, u, "tombstones")));
  }
  assert.equal(readdirSync(dst).sort(), ulids, "no temp directories left behind");

  // The oracle: promtool reads the downloaded blocks exactly as the originals. (promtool 2.42's dump
  // opens the directory as a TSDB and wants a WAL directory, even an empty one.)
  mkdirSync(join(src, "wal"), { recursive: true });
  mkdirSync(join(dst, "wal"), { recursive: true });
  const a = (await promtool(["tsdb", "dump", src])).stdout;
  const b = (await promtool(["tsdb", "dump", dst])).stdout;
  assert.ok(a.split("\n").length > 40 * 700, `dump has ${a.split("\n").length} lines`);
  assert.ok(a === b, "promtool tsdb dump differs between the original and the downloaded blocks");

  // Read in place from the bucket (the store gateway's way): the block opens over ranged reads, and its
  // series count matches promtool's meta.json.
  for (const u of ulids) {
    const block = await openBlock(bucketBlockFiles(fs, u));
    const meta = JSON.parse(readFileSync(join(src, u, "meta.json"), "utf8"));
    assert.is(block.ulid, u);
    assert.is(block.meta.stats?.numSeries, meta.stats.numSeries);
  }
  assert.is((await bucketSource(fs, `${ulids[0]}/index`).size()) > 0, true);
  work.remove();
});

test.run();
