import { FilesystemBucket } from "../../../agent/objstore/fs.ts";
import { tempDir } from "../../lib/proc.ts";
import { bucketContract } from "./contract.ts";

const dir = tempDir("objstore-fs-");
let n = 0;
bucketContract("filesystem", async () => new FilesystemBucket(`${dir.path}/b${n++}`), { after: async () => dir.remove() });

// Filesystem specifics: readers racing writers, and uploads racing the cleanup of emptied directories.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, writeFileSync, mkdirSync } from "node:fs";
import { listAll } from "../../../shared/objstore/bucket.ts";

test("readers never see a partial object while it is rewritten", async () => {
  const b = new FilesystemBucket(`${dir.path}/race`);
  const SIZE = 256 << 10;
  const A = new Uint8Array(SIZE).fill(0xaa), B = new Uint8Array(SIZE).fill(0xbb);
  async function* slow(x: Uint8Array) { for (let o = 0; o < x.length; o += 65536) { yield x.subarray(o, o + 65536); await new Promise((r) => setTimeout(r, 0)); } }
  await b.upload("obj", A);
  let writing = true, reads = 0;
  const writer = (async () => {
    for (let i = 0; i < 12; i++) await b.upload("obj", slow(i % 2 ? A : B));
    writing = false;
  })();
  while (writing) {
    const got = await b.get("obj");
    assert.is(got.length, SIZE);
    const w = new Uint32Array(got.buffer, got.byteOffset, SIZE / 4), first = w[0];
    for (let i = 1; i < w.length; i++) if (w[i] !== first) assert.unreachable(`a read mixed two versions at byte ${i * 4}`);
    reads++;
  }
  await writer;
  assert.ok(reads > 5, `${reads} reads`);
  assert.equal(readdirSync(`${dir.path}/race`), ["obj"], "no temp files left");
});

test("uploads into a directory survive a concurrent delete of its last object", async () => {
  const b = new FilesystemBucket(`${dir.path}/cleanup`);
  for (let i = 0; i < 30; i++) {
    await b.upload(`d/e/x${i}`, new Uint8Array([1]));
    await Promise.all([b.delete(`d/e/x${i}`), b.upload(`d/e/y${i}`, new Uint8Array([2]))]);
    assert.is(await b.exists(`d/e/y${i}`), true);
    await b.delete(`d/e/y${i}`);
  }
  assert.not.ok(existsSync(`${dir.path}/cleanup/d`), "emptied directories are removed");
});

test("temp files of interrupted uploads and empty directories are not listed", async () => {
  const root = `${dir.path}/leftovers`;
  mkdirSync(`${root}/blk/chunks`, { recursive: true });
  mkdirSync(`${root}/empty/deeper`, { recursive: true });
  writeFileSync(`${root}/blk/.thanots-tmp-0123abcd`, "partial");
  writeFileSync(`${root}/blk/chunks/.thanots-tmp-4567`, "partial");
  writeFileSync(`${root}/blk/index`, "i");
  const b = new FilesystemBucket(root);
  assert.equal(await listAll(b, ""), ["blk/"]);
  assert.equal(await listAll(b, "", { recursive: true }), ["blk/index"]);
  try { await b.get("blk/.thanots-tmp-0123abcd"); assert.unreachable(); } catch (e) { assert.match((e as Error).message, "reserved"); }
});

test.run();
