// One contract suite for every Bucket implementation (memory, filesystem, S3 via s3rver, R2 under
// wrangler dev, the HTTP proxy). The expected behaviour is the object-store semantics Thanos relies on
// (see shared/objstore/bucket.ts); the cases are the awkward ones: object ends, empty objects, >1000 keys
// (S3 and R2 paginate at 1000), delimiters, typed not-found, binary bytes, interrupted uploads.

import { readFileSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { type Bucket, listAll } from "../../../shared/objstore/bucket.ts";
import { FaultyBucket } from "../../../shared/objstore/faulty.ts";
import { type BlockFile, deleteBlock, listBlocks, readBlockFiles, uploadBlock } from "../../../shared/objstore/block.ts";
import { bucketSource } from "../../../shared/objstore/source.ts";

export interface ContractOptions {
  /** Name of this implementation in known-failing.txt (e.g. "s3rver"). */
  knownAs?: string;
  /** Objects in the pagination case (default 1100: over S3's and R2's 1000-per-page). */
  manyKeys?: number;
  /** Called once after all cases. */
  after?: () => Promise<void>;
  before?: () => Promise<void>;
  /**
   * Stores each key with its own name as content, faster than one upload per call (a server-side bulk
   * path); listings are still read through the bucket under test.
   */
  seed?: (b: Bucket, keys: string[]) => Promise<void>;
}

/** Registers and runs the suite. `fresh(test)` gives an empty bucket (or an empty prefix of one) per case. */
export function bucketContract(impl: string, fresh: (test: string) => Promise<Bucket>, opts: ContractOptions = {}): void {
  const su = suite(`bucket contract: ${impl}`);
  const timing = typeof process !== "undefined" && !!process.env.OBJSTORE_TIMING;
  // Cases report their duration with OBJSTORE_TIMING=1 (to keep the slow servers' runs under budget).
  const s = Object.assign((name: string, fn: () => Promise<void>) => su(name, async () => {
    const t0 = Date.now();
    await fn();
    if (timing) console.log(`  ${impl} / ${name}: ${Date.now() - t0} ms`);
  }), { run: () => su.run() });
  if (opts.before) su.before(opts.before);
  if (opts.after) su.after(opts.after);
  const known = knownFailing(opts.knownAs);
  const enc = (x: string) => new TextEncoder().encode(x);
  const dec = (b: Uint8Array) => new TextDecoder().decode(b);

  /** The error code a call fails with ("no error" when it succeeds); with `message`, the error's message. */
  async function code(p: Promise<unknown>, message = false): Promise<string | undefined> {
    try { await p; } catch (e) { return message ? (e as Error).message : errorCode(e) ?? `uncoded: ${(e as Error).message}`; }
    return "no error";
  }
  function bytes(n: number, seed = 1): Uint8Array {
    const b = new Uint8Array(n);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < n; i++) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b[i] = x & 0xff; }
    return b;
  }
  async function* chunked(b: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
    let o = 0, i = 0;
    while (o < b.length) { const n = sizes[i++ % sizes.length]!; yield b.slice(o, o + n); o += n; }
  }

  s("missing keys are a typed not_found; exists is false", async () => {
    const b = await fresh("missing");
    assert.is(await code(b.get("nope/x")), "not_found");
    assert.is(await code(b.getRange("nope/x", 0, 10)), "not_found");
    assert.is(await code(b.attributes("nope")), "not_found");
    assert.is(await code(b.delete("nope")), "no error", "deleting a missing key succeeds (S3 and R2 semantics)");
    assert.is(await b.exists("nope"), false);
    await b.upload("dir/obj", enc("x"));
    assert.is(await b.exists("dir"), false, "a directory is not an object");
    assert.is(await code(b.get("dir")), "not_found");
    assert.match(await code(b.get("nope/x"), true) ?? "", "nope/x", "the error names the key");
  });

  s("binary round trip, attributes, overwrite", async () => {
    const b = await fresh("roundtrip");
    const all = new Uint8Array(256 * 4);
    for (let i = 0; i < all.length; i++) all[i] = i & 0xff;
    await b.upload("bin/all-bytes", all);
    assert.equal(await b.get("bin/all-bytes"), all);
    const big = bytes(300_000, 7);
    await b.upload("bin/big", big);
    assert.equal(await b.get("bin/big"), big);
    const a = await b.attributes("bin/big");
    assert.is(a.size, 300_000);
    assert.ok(a.lastModified instanceof Date && Math.abs(a.lastModified.getTime() - Date.now()) < 10 * 60_000, `lastModified ${a.lastModified}`);
    assert.is(await b.exists("bin/big"), true);
    await b.upload("bin/big", enc("replaced"));
    assert.is(dec(await b.get("bin/big")), "replaced");
    assert.is((await b.attributes("bin/big")).size, 8);
  });

  s("empty objects", async () => {
    const b = await fresh("empty");
    await b.upload("e/empty", new Uint8Array(0));
    assert.is((await b.get("e/empty")).length, 0);
    assert.is((await b.attributes("e/empty")).size, 0);
    assert.is(await b.exists("e/empty"), true);
    assert.is((await b.getRange("e/empty", 0, 10)).length, 0);
    assert.is((await b.getRange("e/empty", 0, -1)).length, 0);
    assert.is(await code(b.getRange("e/empty", 1, 1)), "bad_data");
    await b.upload("e/empty-stream", (async function* () { /* no chunks */ })());
    assert.is((await b.get("e/empty-stream")).length, 0);
    assert.equal(await listAll(b, "e"), ["e/empty", "e/empty-stream"]);
  });

  s("ranged reads at the ends and past them", async () => {
    const b = await fresh("range");
    const d = bytes(1000, 3);
    await b.upload("r/obj", d);
    const cases: [number, number, number, number][] = [
      // off, len, expected start, expected end
      [0, 10, 0, 10], [990, 10, 990, 1000], [995, 10, 995, 1000], [999, 1, 999, 1000],
      [1000, 5, 1000, 1000], [0, -1, 0, 1000], [500, -1, 500, 1000], [1000, -1, 1000, 1000],
      [0, 1000, 0, 1000], [0, 5000, 0, 1000], [123, 0, 123, 123], [0, 1, 0, 1],
    ];
    for (const [off, len, s0, e0] of cases) {
      assert.equal(await b.getRange("r/obj", off, len), d.slice(s0, e0), `getRange(${off}, ${len})`);
    }
    assert.is(await code(b.getRange("r/obj", 1001, 1)), "bad_data");
    assert.is(await code(b.getRange("r/obj", 5000, -1)), "bad_data");
    assert.is(await code(b.getRange("r/obj", -1, 1)), "bad_data");
    const src = bucketSource(b, "r/obj");
    assert.is(await src.size(), 1000);
    assert.equal(await src.read(998, 2), d.slice(998));
    assert.is(await code(src.read(999, 2)), "corrupt");
    assert.is(await code(src.read(2000, 2)), "corrupt");
  });

  s("streamed uploads of odd-sized chunks", async () => {
    const b = await fresh("stream");
    const d = bytes(200_003, 11);
    await b.upload("s/obj", chunked(d, [1, 7, 65536, 3, 100_000]));
    assert.equal(await b.get("s/obj"), d);
    assert.is((await b.attributes("s/obj")).size, d.length);
  });

  s("listing: directory semantics, delimiters, sorting, recursion", async () => {
    const b = await fresh("list");
    const keys = ["a/b/c", "a/b/d", "a/bc", "a/b-c", "a/x", "b", "c/d/e/f", "a0"];
    for (const k of keys) await b.upload(k, enc(k));
    if (known.has("deep-common-prefix")) assert.equal(await listAll(b, ""), ["a/", "a0", "b"], known.get("deep-common-prefix"));
    else assert.equal(await listAll(b, ""), ["a/", "a0", "b", "c/"]);
    assert.equal(await listAll(b, "a"), ["a/b-c", "a/b/", "a/bc", "a/x"]);
    assert.equal(await listAll(b, "a/"), ["a/b-c", "a/b/", "a/bc", "a/x"]);
    assert.equal(await listAll(b, "a/b"), ["a/b/c", "a/b/d"]);
    if (!known.has("deep-common-prefix")) assert.equal(await listAll(b, "c"), ["c/d/"]);
    assert.equal(await listAll(b, "", { recursive: true }), ["a/b-c", "a/b/c", "a/b/d", "a/bc", "a/x", "a0", "b", "c/d/e/f"]);
    assert.equal(await listAll(b, "a", { recursive: true }), ["a/b-c", "a/b/c", "a/b/d", "a/bc", "a/x"]);
    assert.equal(await listAll(b, "nothing"), []);
    assert.equal(await listAll(b, "nothing", { recursive: true }), []);
    assert.equal(await listAll(b, "b"), [], "listing an object's name as a directory finds nothing");
    // A directory disappears with its last object.
    await b.delete("c/d/e/f");
    assert.equal(await listAll(b, ""), ["a/", "a0", "b"]);
    await b.delete("a/b/c");
    await b.delete("a/b/d");
    assert.equal(await listAll(b, "a"), ["a/b-c", "a/bc", "a/x"]);
  });

  s("non-ASCII keys list in byte order", async () => {
    const b = await fresh("utf8");
    const keys = ["u/z", "u/é", "u/ü x", "u/\u{1F600}", "u/\uFF5E", "u/A"];
    for (const k of keys) await b.upload(k, enc(k));
    // UTF-8 byte order (what S3 and R2 use): A < z < é (C3 A9) < ü (C3 BC) < ～ (EF BD 9E) < 😀 (F0 ...).
    assert.equal(await listAll(b, "u"), ["u/A", "u/z", "u/é", "u/ü x", "u/\uFF5E", "u/\u{1F600}"]);
    assert.is(dec(await b.get("u/\u{1F600}")), "u/\u{1F600}");
  });

  s("many keys: listings past one 1000-key page", async () => {
    const b = await fresh("many");
    const n = opts.manyKeys ?? 1100;
    const half = n >> 1;
    const keys: string[] = [];
    for (let i = 0; i < half; i++) keys.push(`m/d${String(i).padStart(4, "0")}/o`);
    for (let i = half; i < n; i++) keys.push(`m/f${String(i).padStart(4, "0")}`);
    if (opts.seed) {
      await opts.seed(b, keys);
      assert.ok(await b.exists(keys[0]!), "seeded keys are visible through the bucket");
    } else {
      const queue = [...keys];
      await Promise.all(Array.from({ length: 16 }, async () => {
        for (let k = queue.shift(); k !== undefined; k = queue.shift()) await b.upload(k, enc(k));
      }));
    }
    const flat = await listAll(b, "m");
    assert.is(flat.length, n);
    assert.equal(flat, keys.map((k) => (k.endsWith("/o") ? k.slice(0, -1) : k)));
    const deep = await listAll(b, "m", { recursive: true });
    assert.equal(deep, keys);
  });

  // Blocks: what the sidecar and compactor depend on.
  const ULID = "01HZZZZZZZZZZZZZZZZZZZZZZZ";
  const blockFiles = (): BlockFile[] => [
    { path: "meta.json", data: enc(JSON.stringify({ ulid: ULID, version: 1, minTime: 0, maxTime: 1 })) },
    { path: "index", data: bytes(5000, 21) },
    { path: "chunks/000001", data: () => chunked(bytes(70_000, 22), [4096]) },
    { path: "chunks/000002", data: bytes(3000, 23) },
  ];

  s("block upload order: chunks, index, meta.json last; delete removes meta.json first", async () => {
    const b = await fresh("block-order");
    const rec = new FaultyBucket(b, { failEvery: 0 });
    const order: string[] = [];
    const spy: Bucket = Object.create(rec);
    spy.upload = (k, d) => { order.push(`put ${k}`); return rec.upload(k, d); };
    spy.delete = (k) => { order.push(`del ${k}`); return rec.delete(k); };
    await uploadBlock(spy, ULID, blockFiles());
    assert.equal(order, [`put ${ULID}/chunks/000001`, `put ${ULID}/chunks/000002`, `put ${ULID}/index`, `put ${ULID}/meta.json`]);
    assert.equal(await listBlocks(b), [ULID]);
    const got = await readBlockFiles(b, ULID);
    assert.equal([...got.keys()].sort(), ["chunks/000001", "chunks/000002", "index", "meta.json"]);
    assert.equal(got.get("chunks/000001"), bytes(70_000, 22));
    order.length = 0;
    assert.is(await deleteBlock(spy, ULID), 4);
    assert.is(order[0], `del ${ULID}/meta.json`);
    assert.equal(await listAll(b, "", { recursive: true }), []);
    assert.is(await deleteBlock(spy, ULID), 0, "deleting a deleted block succeeds");
  });

  s("faulty bucket: a failed block upload leaves no visible block; retries complete it", async () => {
    const b = await fresh("block-faulty");
    // Every 3rd upload fails and nothing retries: the index upload fails, so meta.json is never written.
    const f = new FaultyBucket(b, { failEvery: 3, ops: ["upload"] });
    assert.is(await code(uploadBlock(f, ULID, blockFiles(), { attempts: 1 })), "unavailable");
    assert.equal(await listBlocks(b), []);
    assert.is(await b.exists(`${ULID}/meta.json`), false);
    assert.equal(await listAll(b, ULID, { recursive: true }), [], "partial files were cleaned up");
    // Same fault rate, with retries (no real sleeping): the block arrives whole.
    const g = new FaultyBucket(b, { failEvery: 2, ops: ["upload"] });
    await uploadBlock(g, ULID, blockFiles(), { attempts: 3, sleep: async () => {} });
    assert.ok(g.failures >= 2, `injected ${g.failures} faults`);
    assert.equal(await listBlocks(b), [ULID]);
    assert.equal(await b.get(`${ULID}/chunks/000001`), bytes(70_000, 22));
    // Lost acknowledgements ("after"): the retried upload is idempotent.
    await deleteBlock(b, ULID);
    const h = new FaultyBucket(b, { failEvery: 2, ops: ["upload"], mode: "after" });
    await uploadBlock(h, ULID, blockFiles(), { attempts: 2, sleep: async () => {} });
    assert.equal(await listBlocks(b), [ULID]);
    assert.equal((await readBlockFiles(b, ULID)).get("index"), bytes(5000, 21));
    await deleteBlock(b, ULID);
  });

  s("an upload broken midway leaves the previous object, never a prefix", async () => {
    const b = await fresh("midway");
    await b.upload("w/obj", enc("old contents"));
    const f = new FaultyBucket(b, { failEvery: 1, ops: ["upload"], mode: "midway" });
    assert.is(await code(f.upload("w/obj", bytes(100_000, 5))), "unavailable");
    assert.is(dec(await b.get("w/obj")), "old contents");
    assert.is(await code(f.upload("w/new", chunked(bytes(100_000, 6), [10_000]))), "unavailable");
    assert.is(await b.exists("w/new"), false);
    assert.equal(await listAll(b, "w"), ["w/obj"]);
  });

  s.run();
}

/** check -> reason, for this implementation, from known-failing.txt beside this file. */
function knownFailing(impl: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!impl) return out;
  const text = readFileSync(new URL("./known-failing.txt", import.meta.url), "utf8");
  for (const line of text.split("\n")) {
    const m = /^(\S+) (\S+) (.+)$/.exec(line.trim());
    if (m && !line.startsWith("#") && m[1] === impl) out.set(m[2]!, m[3]!);
  }
  return out;
}
