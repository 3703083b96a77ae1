// The admission gate (shared/query/gate.ts), also the per-query select limit: arrival order, a freed
// slot handed to the oldest waiter (never to a newcomer), a wait bounded by the holders ahead, a full
// queue refused at once with "too many queries" (503 unavailable through the one error table), and a
// waiter whose client went away (or whose deadline passed) leaving the queue.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Gate } from "../../../shared/query/gate.ts";
import { errorCode, errorStatus } from "../../../shared/encoding/errors.ts";

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Enter and note the order of admissions in `log`. */
function enter(g: Gate, name: string, log: string[], signal?: AbortSignal, deadline?: number) {
  const p = g.enter(signal, deadline).then((release) => { log.push(name); return release; });
  p.catch(() => {}); // a rejection is asserted where it is expected
  return p;
}

test("admission is in arrival order and a freed slot goes to the oldest waiter", async () => {
  const g = new Gate({ maxConcurrent: 2, maxQueued: 10 });
  const log: string[] = [];
  const a = await enter(g, "a", log), b = await enter(g, "b", log);
  const waiters = ["c", "d", "e", "f"].map((n) => enter(g, n, log));
  await tick();
  assert.equal(log, ["a", "b"]);
  assert.equal(g.stats(), { maxConcurrent: 2, maxQueued: 10, inFlight: 2, queued: 4, total: 2, refused: 0 });
  b();
  const c = await waiters[0]!;
  assert.equal(log, ["a", "b", "c"]);
  // A newcomer while others wait queues behind them even when a slot frees right after it arrives.
  const late = enter(g, "late", log);
  a();
  c();
  const d = await waiters[1]!, e = await waiters[2]!;
  assert.equal(log, ["a", "b", "c", "d", "e"]);
  d();
  const f = await waiters[3]!;
  e();
  const l = await late;
  assert.equal(log, ["a", "b", "c", "d", "e", "f", "late"]);
  f();
  l();
  assert.equal(g.stats().inFlight, 0);
  assert.equal(g.stats().queued, 0);
  assert.equal(g.stats().total, 7);
});

test("a waiter's wait is bounded by the holders ahead of it", async () => {
  // One slot, holders that each keep it 20 ms: the k-th waiter is in after about k holdings, whatever
  // arrives after it.
  const g = new Gate({ maxConcurrent: 1, maxQueued: 100 });
  const admitted: number[] = [];
  const t0 = Date.now();
  const run = async (i: number) => {
    const release = await g.enter();
    admitted.push(i);
    await new Promise((r) => setTimeout(r, 20));
    release();
  };
  const first = Array.from({ length: 5 }, (_, i) => run(i));
  // A burst of later arrivals must not get ahead of the first five.
  await tick();
  const later = Array.from({ length: 20 }, (_, i) => run(100 + i));
  await Promise.all(first);
  const firstDone = Date.now() - t0;
  assert.equal(admitted.slice(0, 5), [0, 1, 2, 3, 4]);
  assert.ok(firstDone < 5 * 20 + 150, `the first five were through after ${firstDone} ms`);
  await Promise.all(later);
  assert.equal(admitted.slice(5), Array.from({ length: 20 }, (_, i) => 100 + i));
});

test("a full queue refuses at once with too many queries, 503 unavailable", async () => {
  const g = new Gate({ maxConcurrent: 1, maxQueued: 2, what: "queries", flags: { concurrent: "query.max-concurrent", queued: "query.max-queued" } });
  const log: string[] = [];
  const a = await enter(g, "a", log);
  const b = enter(g, "b", log), c = enter(g, "c", log);
  const t0 = Date.now();
  try {
    await g.enter();
    assert.unreachable("a third waiter was queued");
  } catch (e) {
    assert.is(errorCode(e), "overloaded");
    assert.is((e as Error).message, "too many queries: 1 running and 2 waiting (--query.max-concurrent=1, --query.max-queued=2); try again later");
    assert.equal(errorStatus(e), { grpc: 14, http: 503, errorType: "unavailable" });
  }
  assert.ok(Date.now() - t0 < 50, "refused without waiting");
  assert.is(g.stats().refused, 1);
  a();
  (await b)();
  (await c)();
  assert.equal(log, ["a", "b", "c"]);
  // maxQueued 0: nobody waits.
  const none = new Gate({ maxConcurrent: 1, maxQueued: 0 });
  const r = await none.enter();
  try { await none.enter(); assert.unreachable(); } catch (e) { assert.is(errorCode(e), "overloaded"); }
  r();
  (await none.enter())();
});

test("a waiter whose client goes away leaves the queue; the slot goes to the next", async () => {
  const g = new Gate({ maxConcurrent: 1, maxQueued: 5 });
  const log: string[] = [];
  const a = await enter(g, "a", log);
  const ctl = new AbortController();
  const b = enter(g, "b", log, ctl.signal);
  const c = enter(g, "c", log);
  await tick();
  assert.is(g.stats().queued, 2);
  ctl.abort();
  try {
    await b;
    assert.unreachable("an aborted waiter was admitted");
  } catch (e) {
    assert.is(errorCode(e), "canceled");
  }
  assert.is(g.stats().queued, 1, "the aborted waiter left at once");
  a();
  (await c)();
  assert.equal(log, ["a", "c"]);
  assert.is(g.stats().inFlight, 0);
  // Already aborted: refused without queueing.
  const gone = new AbortController();
  gone.abort();
  try { await g.enter(gone.signal); assert.unreachable(); } catch (e) { assert.is(errorCode(e), "canceled"); }
});

test("a waiter past its deadline leaves with a timeout", async () => {
  const g = new Gate({ maxConcurrent: 1, maxQueued: 5 });
  const a = await g.enter();
  const t0 = Date.now();
  try {
    await g.enter(undefined, Date.now() + 30);
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "timeout");
    assert.ok(Date.now() - t0 >= 25);
  }
  assert.is(g.stats().queued, 0);
  a();
  assert.is(g.stats().inFlight, 0);
});

test("release is idempotent; no limit admits everyone", async () => {
  const g = new Gate({ maxConcurrent: 1, maxQueued: 5 });
  const a = await g.enter();
  a();
  a();
  assert.is(g.stats().inFlight, 0);
  const b = await g.enter();
  const c = g.enter();
  a(); // a stale release must not free b's slot
  await tick();
  assert.is(g.stats().inFlight, 1);
  assert.is(g.stats().queued, 1);
  b();
  (await c)();
  const open = new Gate({ maxConcurrent: 0, maxQueued: 0 });
  const all = await Promise.all(Array.from({ length: 50 }, () => open.enter()));
  assert.is(open.stats().inFlight, 50);
  for (const r of all) r();
});

test("many departures do not let the queue grow without bound", async () => {
  const g = new Gate({ maxConcurrent: 1, maxQueued: 3 });
  const a = await g.enter();
  for (let i = 0; i < 5000; i++) {
    const ctl = new AbortController();
    const p = g.enter(ctl.signal);
    p.catch(() => {});
    ctl.abort();
    await p.catch(() => {});
  }
  assert.is(g.stats().queued, 0);
  assert.ok((g as unknown as { q: unknown[] }).q.length < 200, "departed waiters are dropped");
  a();
  (await g.enter())();
});

/** What FanoutQuerier does around a select: hold a slot of `g` while `f` runs. */
async function run<T>(g: Gate, f: () => Promise<T>): Promise<T> {
  const release = await g.enter();
  try {
    return await f();
  } finally {
    release();
  }
}

test("the select limit (a Gate with no queue bound): at most N at once, in order", async () => {
  const s = new Gate({ maxConcurrent: 2, maxQueued: Infinity });
  let running = 0, most = 0;
  const order: number[] = [];
  await Promise.all(Array.from({ length: 8 }, (_, i) => run(s, async () => {
    order.push(i);
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    return i;
  })));
  assert.is(most, 2);
  assert.equal(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  // A failing task frees its slot.
  const t = new Gate({ maxConcurrent: 1, maxQueued: Infinity });
  try { await run(t, async () => { throw new Error("boom"); }); } catch { /* expected */ }
  assert.is(await run(t, async () => 7), 7);
});

test.run();
