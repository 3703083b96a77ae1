// Engine behaviour that the differential test cannot reach through promtool backfill: staleness
// markers, configurable lookback, the hints handed to the Querier, limits, timeout and cancellation.
// Expected values follow from Prometheus 2.42's documented semantics (lookback window
// [t-5m, t] inclusive on both ends, a stale marker ends a series, range windows [t-r, t]).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Engine, TOO_MANY_SAMPLES, type PromValue } from "../../../shared/promql/engine.ts";
import { MemoryQuerier, type MemorySeries } from "../../../shared/storage/memory.ts";
import { labelsFrom, type Labels } from "../../../shared/labels/labels.ts";
import { newMatcher, type Matcher } from "../../../shared/labels/matcher.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import type { Querier, SelectHints, SelectResult } from "../../../shared/storage/types.ts";

const S = 1000, M = 60_000;

function series(labels: Record<string, string>, points: [number, number | "stale"][]): MemorySeries {
  return {
    labels: labelsFrom(labels),
    ts: points.map((p) => p[0]),
    vs: points.map((p) => (p[1] === "stale" ? NaN : p[1])),
    stale: points.map((p) => p[1] === "stale"),
  };
}

function vec(v: PromValue): [string, number][] {
  assert.is(v.type, "vector");
  if (v.type !== "vector") return [];
  return v.samples.map((s) => [s.metric.map((l) => `${l.name}=${l.value}`).join(","), s.v]);
}

function mat(v: PromValue): Record<string, [number, number][]> {
  assert.is(v.type, "matrix");
  const out: Record<string, [number, number][]> = {};
  if (v.type === "matrix") for (const s of v.series) out[s.metric.map((l) => `${l.name}=${l.value}`).join(",")] = s.ts.map((t, i) => [t, s.vs[i]!]);
  return out;
}

async function rejects(p: Promise<unknown>, code: string, message?: string | RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    assert.is(errorCode(e), code, `error code of ${(e as Error).message}`);
    if (typeof message === "string") assert.is((e as Error).message, message);
    else if (message) assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected a ${code} error`);
}

// A series scraped every 15s from 0 to 10m, marked stale at 10m15s, back at 20m.
const flap = series({ __name__: "flap", job: "a" }, [
  ...Array.from({ length: 41 }, (_, i) => [i * 15 * S, i] as [number, number]),
  [10 * M + 15 * S, "stale"],
  [20 * M, 100],
  [20 * M + 15 * S, 101],
]);
const q = new MemoryQuerier([flap, series({ __name__: "other", job: "b" }, [[0, 1], [5 * M, 2]])]);
const engine = new Engine();

test("staleness: a stale marker ends the series at once, not after the lookback", async () => {
  assert.equal(vec((await engine.instantQuery(q, "flap", 10 * M + 14 * S)).value), [["__name__=flap,job=a", 40]]);
  assert.equal(vec((await engine.instantQuery(q, "flap", 10 * M + 15 * S)).value), []);
  assert.equal(vec((await engine.instantQuery(q, "flap", 12 * M)).value), []);
  assert.equal(vec((await engine.instantQuery(q, "flap", 20 * M)).value), [["__name__=flap,job=a", 100]]);
});

test("staleness: range query shows the gap; range functions skip the marker", async () => {
  const r = mat((await engine.rangeQuery(q, "flap", 9 * M, 21 * M, M)).value);
  assert.equal(r["__name__=flap,job=a"]!.map((p) => p[0]), [9 * M, 10 * M, 20 * M, 21 * M]);
  // Window [10m15s - 1m, 10m15s] holds 4 real samples (9m15s..10m) plus the marker, which is not counted.
  assert.equal(vec((await engine.instantQuery(q, "count_over_time(flap[1m])", 10 * M + 15 * S)).value), [["job=a", 4]]);
  assert.equal(vec((await engine.instantQuery(q, "last_over_time(flap[1m])", 10 * M + 30 * S)).value), [["__name__=flap,job=a", 40]]);
  assert.equal(vec((await engine.instantQuery(q, "timestamp(flap)", 10 * M + 10 * S)).value), [["job=a", 600]]);
  assert.equal(vec((await engine.instantQuery(q, "absent(flap)", 11 * M)).value), [["", 1]]);
});

test("lookback: 5m by default, inclusive at exactly t-5m (2.42), configurable per engine and per query", async () => {
  assert.equal(vec((await engine.instantQuery(q, "other", 10 * M)).value), [["__name__=other,job=b", 2]]);
  assert.equal(vec((await engine.instantQuery(q, "other", 10 * M + 1)).value), []);
  const short = new Engine({ lookbackDelta: M });
  assert.equal(vec((await short.instantQuery(q, "other", 6 * M)).value), [["__name__=other,job=b", 2]]);
  assert.equal(vec((await short.instantQuery(q, "other", 6 * M + 1)).value), []);
  assert.equal(vec((await engine.instantQuery(q, "other", 6 * M + 1, { lookbackDelta: M })).value), []);
});

test("@ and offset pick the sample at the modified time; scalar and string results", async () => {
  assert.equal(vec((await engine.instantQuery(q, "flap @ 60", 20 * M)).value), [["__name__=flap,job=a", 4]]);
  assert.equal(vec((await engine.instantQuery(q, "flap offset 9m", 10 * M)).value), [["__name__=flap,job=a", 4]]);
  assert.equal((await engine.instantQuery(q, "1 + 2", 5 * S)).value, { type: "scalar", t: 5 * S, v: 3 });
  assert.equal((await engine.instantQuery(q, '"hello"', 5 * S)).value, { type: "string", t: 5 * S, v: "hello" });
  const r = mat((await engine.rangeQuery(q, "time()", 0, 2 * M, M)).value);
  assert.equal(r[""], [[0, 0], [M, 60], [2 * M, 120]]);
});

test("errors: range query over a range vector, duplicate label sets, many-to-many", async () => {
  await rejects(engine.rangeQuery(q, "flap[5m]", 0, M, M), "bad_data", 'invalid expression type "range vector" for range query, must be Scalar or instant Vector');
  await rejects(engine.instantQuery(q, "nosuch(", 0), "bad_data");
  await rejects(engine.instantQuery(q, 'label_replace(rate({job=~"a|b"}[5m]), "job", "x", "job", ".*")', 5 * M), "execution", "vector cannot contain metrics with the same labelset");
  await rejects(engine.instantQuery(q, 'vector(1) + on() group_left {__name__=~"flap|other"}', 5 * M), "execution",
    'found duplicate series for the match group {} on the right hand-side of the operation: [{__name__="other", job="b"}, {__name__="flap", job="a"}];many-to-many matching not allowed: matching labels must be unique on one side');
});

test("limits: max samples gives Prometheus' error text; timeout; cancellation", async () => {
  const small = new Engine({ maxSamples: 10 });
  await rejects(small.rangeQuery(q, "flap", 0, 10 * M, 15 * S), "resource_exhausted", TOO_MANY_SAMPLES);
  await rejects(small.instantQuery(q, "count_over_time(flap[10m])", 10 * M), "resource_exhausted", TOO_MANY_SAMPLES);
  assert.equal(vec((await small.instantQuery(q, "flap", 5 * M)).value), [["__name__=flap,job=a", 20]]);
  // Huge step counts are refused before anything is allocated, with the default limit too.
  await rejects(engine.rangeQuery(q, "1", 0, 1e12, 1), "resource_exhausted", TOO_MANY_SAMPLES);
  await rejects(engine.instantQuery(q, "max_over_time(flap[1000d:1ms])", 10 * M), "resource_exhausted", TOO_MANY_SAMPLES);

  const slowQ: Querier = {
    select: (h, m) => new Promise((resolve, reject) => {
      const t = setTimeout(() => resolve(q.select(h, m)), 200);
      h.signal?.addEventListener("abort", () => { clearTimeout(t); reject(new Error("aborted")); }, { once: true });
    }),
    labelNames: q.labelNames.bind(q),
    labelValues: q.labelValues.bind(q),
  };
  const ac = new AbortController();
  const p = engine.instantQuery(slowQ, "flap", 5 * M, { signal: ac.signal });
  setTimeout(() => ac.abort(), 10);
  await rejects(p, "canceled", /canceled/);
  await rejects(engine.instantQuery(q, "flap", 5 * M, { signal: AbortSignal.abort() }), "canceled");

  const hurried = new Engine({ timeoutMs: 50 });
  await rejects(hurried.instantQuery(slowQ, "flap", 5 * M), "timeout", /timed out/);
  // A store that never answers: the deadline still ends the query.
  const stuck: Querier = { select: () => new Promise(() => {}), labelNames: q.labelNames.bind(q), labelValues: q.labelValues.bind(q) };
  const t0 = Date.now();
  await rejects(hurried.instantQuery(stuck, "flap", 5 * M), "timeout", "query timed out in query execution");
  assert.ok(Date.now() - t0 < 1000);
});

test("cancellation and timeout also interrupt a long evaluation (it yields to the event loop)", async () => {
  const big: MemorySeries[] = [];
  for (let i = 0; i < 300; i++) {
    const ts = Array.from({ length: 6000 }, (_, k) => k * S);
    big.push({ labels: labelsFrom({ __name__: "big", i: String(i) }), ts, vs: ts.map((t) => t / 1000 + i) });
  }
  const bq = new MemoryQuerier(big);
  const ac = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ac.abort(), 30);
  await rejects(engine.rangeQuery(bq, "sum(rate(big[1m]))", 0, 6000 * S, S, { signal: ac.signal }), "canceled");
  assert.ok(Date.now() - t0 < 1000, `canceled after ${Date.now() - t0} ms`);
  const t1 = Date.now();
  await rejects(new Engine({ timeoutMs: 30 }).rangeQuery(bq, "sum(rate(big[1m]))", 0, 6000 * S, S), "timeout");
  assert.ok(Date.now() - t1 < 1000, `timed out after ${Date.now() - t1} ms`);
});

test("hints: every selector is selected first, with Prometheus-like time range and function/grouping", async () => {
  const seen: { hints: SelectHints; matchers: string }[] = [];
  const rec: Querier = {
    async select(h: SelectHints, m: Matcher[]): Promise<SelectResult> {
      seen.push({ hints: h, matchers: m.map((x) => `${x.name}${x.type}${x.value}`).join(",") });
      return await q.select(h, m);
    },
    labelNames: q.labelNames.bind(q),
    labelValues: q.labelValues.bind(q),
  };
  await engine.rangeQuery(rec, 'sum by (job) (rate(flap{job="a"}[5m] offset 1m)) + other', 20 * M, 30 * M, M);
  assert.is(seen.length, 2);
  const byName = Object.fromEntries(seen.map((s) => [s.matchers, s.hints]));
  const h1 = byName["job=a,__name__=flap"] ?? byName["__name__=flap,job=a"]!;
  assert.ok(h1, JSON.stringify(seen.map((s) => s.matchers)));
  assert.is(h1.start, 20 * M - 5 * M - M);
  assert.is(h1.end, 30 * M - M);
  assert.is(h1.range, 5 * M);
  assert.is(h1.step, M);
  assert.is(h1.func, "rate");
  // Prometheus sets grouping only when the selector's direct parent is the aggregation.
  assert.is(h1.grouping, undefined);
  const h2 = byName["__name__=other"]!;
  assert.is(h2.start, 20 * M - 5 * M);
  assert.is(h2.end, 30 * M);
  assert.is(h2.range, 0);
  assert.is(h2.func, undefined); // a binary operator between the selector and sum() clears it

  seen.length = 0;
  await engine.instantQuery(rec, "sum without (job) (flap)", 20 * M);
  assert.is(seen[0]!.hints.func, "sum");
  assert.equal(seen[0]!.hints.grouping, ["job"]);
  assert.is(seen[0]!.hints.by, false);
  assert.is(seen[0]!.hints.start, 15 * M);
  assert.is(seen[0]!.hints.end, 20 * M);
});

test("MemoryQuerier: sorted output, matchers applied, bad input rejected", async () => {
  const m = new MemoryQuerier([
    series({ __name__: "x", b: "2" }, [[0, 1]]),
    series({ __name__: "x", a: "1" }, [[0, 1]]),
    series({ __name__: "y" }, [[0, 1]]),
  ]);
  const r = await m.select({ start: 0, end: 1 }, [newMatcher("=", "__name__", "x")]);
  assert.equal(r.series.map((s) => s.labels.map((l: Labels[number]) => l.name + "=" + l.value).join(",")), ["__name__=x,a=1", "__name__=x,b=2"]);
  assert.equal((await m.labelValues("__name__", 0, 1, [])).values, ["x", "y"]);
  assert.equal((await m.labelNames(0, 1, [newMatcher("=~", "a", ".+")])).names, ["__name__", "a"]);
  const it = r.series[0]!.iterator();
  assert.ok(it.seek(0));
  assert.is(it.at(), 0);
  assert.not.ok(it.next());
  assert.throws(() => new MemoryQuerier([series({ a: "1" }, [[5, 1], [5, 2]])]), /not after/);
  assert.throws(() => new MemoryQuerier([series({ a: "1" }, [[5, 1]]), series({ a: "1" }, [[6, 1]])]), /duplicate label set/);
});

test.run();
