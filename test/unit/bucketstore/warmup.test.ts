// The store gateway's warm-up (shared/bucketstore/warmup.ts): its synthetic blocks answer every call it
// makes with data (a warm-up answering nothing would warm nothing), and run() stops at its call count
// and its time budget.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { warmUpStore } from "../../../shared/bucketstore/warmup.ts";

test("every warm-up call finds data: series with chunks (raw and aggregates), names, values", async () => {
  const w = await warmUpStore();
  const ctx = { signal: new AbortController().signal };
  assert.is(w.store.loadedBlocks().length, 4);
  for (const r of w.requests.series) {
    let series = 0, chunks = 0;
    for await (const m of w.store.series(r, ctx)) {
      if (m.result?.case !== "series") continue;
      series++;
      chunks += m.result.value.chunks?.length ?? 0;
    }
    const what = JSON.stringify(r.matchers.map((m) => [m.name, m.value]));
    assert.ok(series > 0, `series for ${what}`);
    if (!r.skipChunks) assert.ok(chunks >= series, `chunks for ${what}`);
    let bytes = 0;
    for await (const b of w.store.seriesEnveloped(r, ctx, { reuse: false })) bytes += b.length;
    assert.ok(bytes > 100, `enveloped answer for ${what}`);
  }
  // The downsampled requests reach the 5m block: their chunks are aggregates.
  const ds = w.requests.series.find((r) => r.maxResolutionWindow > 0n)!;
  for await (const m of w.store.series(ds, ctx)) {
    if (m.result?.case === "series") { const c0 = m.result.value.chunks?.[0]; assert.ok(c0?.counter ?? c0?.count, "an aggregate chunk"); break; }
  }
  for (const r of w.requests.labelNames) assert.ok((await w.store.labelNames(r, ctx)).names!.includes("instance"));
  for (const r of w.requests.labelValues) assert.ok((await w.store.labelValues(r, ctx)).values!.length > 0);
});

test("run() makes whole rounds up to the count, and stops at the budget", async () => {
  const w = await warmUpStore();
  let n = 0;
  const counting = { series: async () => { n++; }, labelNames: async () => { n++; }, labelValues: async () => { n++; } };
  const round = w.requests.series.length + w.requests.labelNames.length + w.requests.labelValues.length;
  assert.is(await w.run(counting, 25, 10_000), Math.ceil(25 / round) * round);
  assert.is(n, Math.ceil(25 / round) * round);
  const slow = { ...counting, series: () => new Promise<void>((r) => setTimeout(r, 20)) };
  const t0 = Date.now();
  const made = await w.run(slow, 1_000_000, 200);
  assert.ok(made < 1_000_000 && Date.now() - t0 < 1500, `stopped after ${made} calls, ${Date.now() - t0} ms`);
});

test.run();
