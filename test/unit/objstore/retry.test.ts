// Retry policy, the faulty wrapper itself, and block-upload argument checks.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { CodedError, errorCode } from "../../../shared/encoding/errors.ts";
import { listAll } from "../../../shared/objstore/bucket.ts";
import { deleteBlock, isBlockId, listBlocks, uploadBlock, uploadOrder } from "../../../shared/objstore/block.ts";
import { FaultyBucket } from "../../../shared/objstore/faulty.ts";
import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { backoffDelay, retry, withRetries } from "../../../shared/objstore/retry.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const noSleep = async () => {};

/** The error a call fails with; a call that succeeds fails the test. */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try { await p; } catch (e) { return e; }
  assert.unreachable("expected the call to fail");
  return undefined;
}

test("backoff doubles from the base, is capped, and is jittered to 50-100 %", () => {
  assert.is(backoffDelay(1, 100, 5000, 1), 100);
  assert.is(backoffDelay(2, 100, 5000, 1), 200);
  assert.is(backoffDelay(4, 100, 5000, 1), 800);
  assert.is(backoffDelay(10, 100, 5000, 1), 5000);
  assert.is(backoffDelay(200, 100, 5000, 1), 5000);
  assert.is(backoffDelay(3, 100, 5000, 0), 200);
});

test("retry: transient errors are retried with growing delays; others are not", async () => {
  const delays: number[] = [];
  let calls = 0;
  const v = await retry("op", async () => {
    if (++calls < 4) throw new CodedError("unavailable", "HTTP 503");
    return 42;
  }, { sleep: async (ms) => { delays.push(ms); }, baseDelayMs: 10, maxDelayMs: 25 });
  assert.is(v, 42);
  assert.is(calls, 4);
  assert.is(delays.length, 3);
  assert.ok(delays[0]! >= 5 && delays[0]! <= 10 && delays[2]! <= 25, String(delays));
  for (const code of ["not_found", "bad_data", "unauthenticated"] as const) {
    let n = 0;
    const e = await rejection(retry("op", async () => { n++; throw new CodedError(code, "no"); }, { sleep: noSleep }));
    assert.is(errorCode(e), code);
    assert.is(n, 1, `${code} is not retried`);
  }
  let n = 0;
  const e = await rejection(retry("get k", async () => { n++; throw new CodedError("unavailable", "reset"); }, { attempts: 3, sleep: noSleep }));
  assert.is(errorCode(e), "unavailable");
  assert.match((e as Error).message, "get k: giving up after 3 attempts: reset");
  assert.is(n, 3);
});

test("faulty bucket fails exactly every Nth counted call, in each mode", async () => {
  const m = new MemoryBucket();
  const f = new FaultyBucket(m, { failEvery: 3, ops: ["upload"] });
  const results: string[] = [];
  for (let i = 0; i < 6; i++) {
    try { await f.upload(`k${i}`, enc("v")); results.push("ok"); } catch (e) { results.push(errorCode(e)!); }
  }
  assert.equal(results, ["ok", "ok", "unavailable", "ok", "ok", "unavailable"]);
  assert.equal(await listAll(m, ""), ["k0", "k1", "k3", "k4"], "'before' faults never reach the bucket");
  await f.get("k0"); // not a counted op
  assert.is(f.calls, 6);
  const after = new FaultyBucket(m, { failEvery: 1, ops: ["upload"], mode: "after", code: "internal" });
  assert.is(errorCode(await rejection(after.upload("k9", enc("v")))), "internal");
  assert.is(await m.exists("k9"), true, "'after' faults happen after the write");
});

test("withRetries: reads retry through faults; listings resume without duplicates; streamed uploads are not replayed", async () => {
  const m = new MemoryBucket();
  for (const k of ["a/1", "a/2", "a/3", "b"]) await m.upload(k, enc(k));
  const f = new FaultyBucket(m, { failEvery: 2 });
  const r = withRetries(f, { sleep: noSleep });
  for (const k of ["a/1", "a/2", "a/3", "b"]) assert.is(new TextDecoder().decode(await r.get(k)), k);
  const lf = new FaultyBucket(m, { failEvery: 1, ops: ["iter"] });
  let listings = 0;
  const lr = withRetries({ ...lf, name: lf.name, iter: (p: string, o?: { recursive?: boolean }) => { listings++; return listings < 3 ? lf.iter(p, o) : m.iter(p, o); } } as unknown as MemoryBucket, { sleep: noSleep });
  assert.equal(await listAll(lr, "", { recursive: true }), ["a/1", "a/2", "a/3", "b"]);
  assert.is(listings, 3);
  const uf = new FaultyBucket(m, { failEvery: 1, ops: ["upload"] });
  async function* body() { yield enc("x"); }
  assert.is(errorCode(await rejection(withRetries(uf, { sleep: noSleep }).upload("s", body()))), "unavailable");
  assert.is(uf.calls, 1, "an async iterable body is sent once");
});

test("uploadBlock checks its arguments before writing anything", async () => {
  const m = new MemoryBucket();
  const id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  assert.ok(isBlockId(id));
  assert.not.ok(isBlockId("01arz3ndektsv4rrffq69g5fav"));
  assert.not.ok(isBlockId("81ARZ3NDEKTSV4RRFFQ69G5FAV"), "first char above 7 overflows 128 bits");
  const meta = enc(JSON.stringify({ ulid: id }));
  const cases: [string, Parameters<typeof uploadBlock>[2], string][] = [
    ["not-a-ulid", [{ path: "meta.json", data: meta }, { path: "index", data: enc("") }], "not a block ULID"],
    [id, [{ path: "index", data: enc("") }], "no meta.json"],
    [id, [{ path: "meta.json", data: meta }], "no index"],
    [id, [{ path: "meta.json", data: enc("{") }, { path: "index", data: enc("") }], "not JSON"],
    [id, [{ path: "meta.json", data: enc('{"ulid":"01BX5ZZKBKACTAV9WEVGEMMVRZ"}') }, { path: "index", data: enc("") }], "names block"],
    [id, [{ path: "meta.json", data: meta }, { path: "index", data: enc("") }, { path: "index", data: enc("") }], "given twice"],
  ];
  for (const [u, files, msg] of cases) {
    try {
      await uploadBlock(m, u, files);
      assert.unreachable(msg);
    } catch (e) {
      assert.is(errorCode(e), "bad_data");
      assert.match((e as Error).message, msg);
    }
  }
  assert.is(m.size, 0);
  assert.equal(uploadOrder([
    { path: "meta.json", data: meta }, { path: "tombstones", data: meta }, { path: "index", data: meta },
    { path: "chunks/000010", data: meta }, { path: "chunks/000002", data: meta },
  ]).map((f) => f.path), ["chunks/000002", "chunks/000010", "index", "tombstones", "meta.json"]);
});

test("a meta.json upload whose reply is lost, then fails for good, leaves no visible block", async () => {
  const m = new MemoryBucket();
  const id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  const f = new FaultyBucket(m, { failEvery: 1, ops: ["upload"], mode: "after", keys: (k) => k.endsWith("/meta.json") });
  try {
    await uploadBlock(f, id, [{ path: "meta.json", data: enc(JSON.stringify({ ulid: id })) }, { path: "index", data: enc("i") }], { attempts: 2, sleep: noSleep });
    assert.unreachable();
  } catch (e) { assert.is(errorCode(e), "unavailable"); }
  assert.is(f.failures, 2, "meta.json was stored twice, each time reported as failed");
  assert.equal(await listBlocks(m), []);
  assert.is(m.size, 0);
});

test("listBlocks ignores partial uploads and non-block directories; deleteBlock leaves neighbours alone", async () => {
  const m = new MemoryBucket();
  const a = "01ARZ3NDEKTSV4RRFFQ69G5FAV", b = "01BX5ZZKBKACTAV9WEVGEMMVRZ";
  for (const id of [a, b]) await uploadBlock(m, id, [{ path: "meta.json", data: enc(JSON.stringify({ ulid: id })) }, { path: "index", data: enc("i") }]);
  await m.upload("01CZZZZZZZZZZZZZZZZZZZZZZZ/index", enc("partial: no meta.json"));
  await m.upload("debug/meta.json", enc("{}"));
  assert.equal(await listBlocks(m), [a, b]);
  await m.upload(`${a}/deletion-mark.json`, enc("{}"));
  assert.is(await deleteBlock(m, a), 3);
  assert.equal(await listBlocks(m), [b]);
  assert.equal(await listAll(m, "", { recursive: true }), [`${b}/index`, `${b}/meta.json`, "01CZZZZZZZZZZZZZZZZZZZZZZZ/index", "debug/meta.json"]);
});

test.run();
