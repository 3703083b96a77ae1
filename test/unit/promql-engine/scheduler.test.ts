// Evaluations sharing one thread take turns oldest first (shared/promql/scheduler.ts): a long query
// that arrived first is not slowed by every later one (round-robin would give it 1/N of the thread),
// later ones run while it waits for its stores, and answers stay exactly what they are alone.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, type PromValue } from "../../../shared/promql/engine.ts";
import { EvalScheduler } from "../../../shared/promql/scheduler.ts";
import { MemoryQuerier, type MemorySeries } from "../../../shared/storage/memory.ts";
import { labelsFrom } from "../../../shared/labels/labels.ts";
import type { Querier } from "../../../shared/storage/types.ts";

test("the scheduler resumes the oldest waiter first, one per macrotask", async () => {
  const s = new EvalScheduler();
  const order: number[] = [];
  const ps = [5, 1, 3, 2, 4].map((p) => s.yield(p).then(() => order.push(p)));
  assert.is(s.pending, 5);
  await Promise.all(ps);
  assert.equal(order, [1, 2, 3, 4, 5]);
  assert.is(s.pending, 0);
  assert.ok(s.next() < s.next(), "priorities grow with arrival");
});

test("a waiter that arrives later but is older goes before the younger ones still waiting", async () => {
  const s = new EvalScheduler();
  const order: number[] = [];
  const young = [10, 11, 12].map((p) => s.yield(p).then(() => { order.push(p); }));
  // After the first resume, an older evaluation yields: it goes next.
  await young[0];
  await s.yield(1).then(() => order.push(1));
  await Promise.all(young);
  assert.equal(order, [10, 1, 11, 12]);
});

// 150 series x 2 h at 15 s: a range query over it evaluates for long enough to yield many times.
const T0 = 1_700_000_000_000;
function data(name: string, n: number): MemorySeries[] {
  return Array.from({ length: n }, (_, i) => {
    const ts: number[] = [], vs: number[] = [];
    for (let k = 0; k < 480; k++) { ts.push(T0 + k * 15_000); vs.push(i + k); }
    return { labels: labelsFrom({ __name__: name, i: String(i) }), ts, vs };
  });
}
const q: Querier = new MemoryQuerier([...data("big", 150), ...data("small", 5)]);
const BIG = "sum by (i) (rate(big[5m])) * 2 + on(i) group_left sum by (i) (rate(big[10m]))";
const SMALL = "rate(small[5m])";

async function race(order: "arrival" | "round-robin"): Promise<{ first: string; big: PromValue; small: PromValue[] }> {
  const e = new Engine({ evalOrder: order });
  const done: string[] = [];
  const big = e.rangeQuery(q, BIG, T0, T0 + 7200_000, 15_000).then((r) => { done.push("big"); return r.value; });
  // Later arrivals, each small, keep coming while the big one evaluates.
  const small: Promise<PromValue>[] = [];
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 1));
    small.push(e.rangeQuery(q, SMALL, T0, T0 + 7200_000, 60_000).then((r) => { done.push("small"); return r.value; }));
  }
  const [b, s] = await Promise.all([big, Promise.all(small)]);
  return { first: done[0]!, big: b, small: s };
}

test("arrival order: the first query finishes first although 20 small ones came after it", async () => {
  const alone = await new Engine().rangeQuery(q, BIG, T0, T0 + 7200_000, 15_000);
  const aloneSmall = await new Engine().rangeQuery(q, SMALL, T0, T0 + 7200_000, 60_000);
  const a = await race("arrival");
  assert.is(a.first, "big");
  assert.equal(a.big, alone.value, "the same answer as alone");
  for (const s of a.small) assert.equal(s, aloneSmall.value);
  // The contrast that makes the test mean something: taking turns round-robin, the small ones
  // overtake it.
  const rr = await race("round-robin");
  assert.is(rr.first, "small");
  assert.equal(rr.big, alone.value);
});

test.run();
