// The fan-out (shared/query) over in-memory stores: merge order, identical chunks dropped, store
// selection by time/external labels/storeMatch[], partial response, per-store deadline, limits,
// cancellation, Info caching, hints, downsampled aggregates, HA dedup through the engine.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode, errorMessage } from "../../../shared/encoding/errors.ts";
import { newMatcher } from "../../../shared/labels/matcher.ts";
import { labelsString } from "../../../shared/labels/labels.ts";
import { Engine } from "../../../shared/promql/engine.ts";
import { ProxyStore, seriesRequest, type MergedSeries } from "../../../shared/query/proxy.ts";
import { dynamicLookbackDelta, FanoutQuerier, maxResolutionFromSelectHints, maxSourceResolution } from "../../../shared/query/querier.ts";
import { matchersToPb } from "../../../shared/query/store.ts";
import { PartialResponseStrategy } from "../../../shared/gen/thanos/storepb/types_pb.ts";
import { MAX_INT64 } from "../../../shared/rpc/time.ts";
import { FixStore, sampled } from "./fixture.ts";

const M = (name: string, value: string, type: "=" | "=~" | "!=" = "=") => newMatcher(type, name, value);
const S = 15_000;

async function collect(proxy: ProxyStore, matchers = [M("__name__", "up")], extra: { strategy?: PartialResponseStrategy; signal?: AbortSignal; storeMatchers?: ReturnType<typeof M>[][]; mint?: number; maxt?: number } = {}) {
  const warnings: string[] = [];
  const out: MergedSeries[] = [];
  const req = seriesRequest({ minTime: BigInt(extra.mint ?? 0), maxTime: BigInt(extra.maxt ?? 10_000_000), matchers: matchersToPb(matchers), partialResponseStrategy: extra.strategy ?? PartialResponseStrategy.WARN });
  for await (const s of proxy.fanoutSeries(req, { warnings, signal: extra.signal, storeMatchers: extra.storeMatchers })) out.push(s);
  return { out, warnings, names: out.map((s) => labelsString(s.labels)) };
}

test("k-way merge keeps label order across stores; equal series merge, identical chunks kept once", async () => {
  const shared = sampled({ __name__: "up", job: "b" }, 0, 300 * S, S, (t) => t);
  const a = new FixStore("a", [sampled({ __name__: "up", job: "a" }, 0, 100 * S, S, () => 1), shared, sampled({ __name__: "up", job: "d" }, 0, S, S, () => 4)]);
  const b = new FixStore("b", [shared, sampled({ __name__: "up", job: "c" }, 0, S, S, () => 3)]);
  const r = await collect(new ProxyStore([a, b]));
  assert.equal(r.names, ['{__name__="up", job="a"}', '{__name__="up", job="b"}', '{__name__="up", job="c"}', '{__name__="up", job="d"}']);
  // 301 samples = chunks of 120, 120, 61 in each store; the copies from b are the same bytes.
  assert.is(r.out[1]!.chunks.length, 3);
  assert.equal(r.warnings, []);
});

test("series with the same labels but different chunks are merged by time, through the engine", async () => {
  const a = new FixStore("a", [sampled({ __name__: "up" }, 0, 10 * S, S, (t) => t / 1000)]);
  const b = new FixStore("b", [sampled({ __name__: "up" }, 20 * S, 30 * S, S, (t) => t / 1000)]);
  const proxy = new ProxyStore([a, b]);
  const res = await new Engine().rangeQuery(new FanoutQuerier(proxy), "up", 0, 30 * S, S);
  assert.is(res.value.type, "matrix");
  const m = res.value as { series: { ts: number[]; vs: number[] }[] };
  assert.is(m.series.length, 1);
  // Samples at 0..10 and 20..30 steps; the 5-minute lookback fills the 9 steps between with the t=10S value.
  assert.is(m.series[0]!.ts.length, 31);
  assert.is(m.series[0]!.vs[15], 10 * S / 1000);
  assert.is(m.series[0]!.vs[25], 25 * S / 1000);
});

test("a series sent as back-to-back slices (as the StoreAPI allows) is one series to the engine", async () => {
  const data = [sampled({ __name__: "up", job: "a" }, 0, 300 * S, S, (t) => t / 1000), sampled({ __name__: "up", job: "b" }, 0, 300 * S, S, () => 2)];
  const split = new FixStore("split", data, { split: true });
  const whole = new FixStore("whole", data);
  const e = new Engine();
  for (const q of ["up", "rate(up[5m])", "count(up)"]) {
    const a = await e.rangeQuery(new FanoutQuerier(new ProxyStore([split])), q, 0, 300 * S, 60_000);
    const b = await e.rangeQuery(new FanoutQuerier(new ProxyStore([whole])), q, 0, 300 * S, 60_000);
    assert.equal(a.value, b.value, q);
  }
});

test("stores are chosen by time range, external labels and storeMatch[] (__address__)", async () => {
  const mk = (name: string, cluster: string, mint: number, maxt: number) =>
    new FixStore(name, [sampled({ __name__: "up" }, mint, maxt, S, () => 1)], { ext: { cluster } });
  const old = mk("old", "eu", 0, 10 * S), eu = mk("eu", "eu", 100 * S, 200 * S), us = mk("us", "us", 100 * S, 200 * S);
  const proxy = new ProxyStore([old, eu, us]);
  await collect(proxy, [M("__name__", "up"), M("cluster", "eu")], { mint: 50 * S, maxt: 300 * S });
  assert.equal([old.calls.series.length, eu.calls.series.length, us.calls.series.length], [0, 1, 0]);
  const r = await collect(proxy, [M("__name__", "up"), M("cluster", "e.*|u.*", "=~")], { mint: 0, maxt: 300 * S, storeMatchers: [[M("__address__", "us")], [M("__address__", "ol.*", "=~")]] });
  assert.equal([old.calls.series.length, eu.calls.series.length, us.calls.series.length], [1, 1, 1]);
  assert.equal(r.names, ['{__name__="up", cluster="eu"}', '{__name__="up", cluster="us"}']);
});

test("Info is cached for its TTL, refreshed after; a store whose Info fails is still asked", async () => {
  let now = 1_000_000;
  const a = new FixStore("a", [sampled({ __name__: "up" }, 0, S, S, () => 1)]);
  const dead = new FixStore("dead", [], { infoFails: true, fail: new Error("connection refused") });
  const proxy = new ProxyStore([a, dead], { infoTtlMs: 30_000, infoRetryMs: 5_000, now: () => now });
  await collect(proxy);
  await collect(proxy);
  assert.is(a.calls.info, 1);
  now += 31_000;
  const r = await collect(proxy);
  assert.is(a.calls.info, 2);
  assert.is(dead.calls.series.length, 3);
  assert.is(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /store dead/);
  const st = await proxy.status();
  assert.equal(st.map((s) => [s.name, s.healthy, s.lastError !== null]), [["a", true, false], ["dead", false, true]]);
  assert.match(st[1]!.lastError!, /connection refused/);
});

test("a store whose Info hangs after answering once does not delay queries: its stale Info is used", async () => {
  let now = 1_000_000;
  const a = new FixStore("a", [sampled({ __name__: "up" }, 0, S, S, () => 1)]);
  const proxy = new ProxyStore([a], { infoTtlMs: 1000, infoTimeoutMs: 300, now: () => now });
  await collect(proxy);
  (a.o as { infoHang?: boolean }).infoHang = true;
  now += 5000;
  const t0 = Date.now();
  const r = await collect(proxy);
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
  assert.equal(r.names, ['{__name__="up"}']);
  assert.is(a.calls.info, 2);
});

test("a store whose stale Info would leave it out is asked for Info again first (an empty ruler that has data now)", async () => {
  let now = 1_000_000;
  const data: ReturnType<typeof sampled>[] = [];
  const ruler = new FixStore("ruler", data, { minTime: Number.POSITIVE_INFINITY, maxTime: Number.POSITIVE_INFINITY });
  const info = ruler.info.bind(ruler);
  ruler.info = async (signal) => { await new Promise((r) => setTimeout(r, 30)); return info(signal); }; // Info takes a round trip
  const proxy = new ProxyStore([ruler], { infoTtlMs: 1000, now: () => now });
  assert.equal((await collect(proxy)).names, [], "empty: left out by its Info");
  assert.is(ruler.calls.series.length, 0);
  data.push(sampled({ __name__: "up" }, 0, S, S, () => 1));
  (ruler.o as { minTime?: number }).minTime = 0;
  now += 1500;
  assert.equal((await collect(proxy)).names, ['{__name__="up"}'], "asked as soon as its Info is stale");
  assert.is(ruler.calls.info, 2);
});

test("an empty store's Info is asked again before each query would leave it out, whatever its age (worker threads each hold Info)", async () => {
  const now = 1_000_000;
  const data: ReturnType<typeof sampled>[] = [];
  // What an empty ruler's Info says on the wire, read as ms: min and max time MaxInt64.
  const ruler = new FixStore("ruler", data, { minTime: Number(MAX_INT64), maxTime: Number(MAX_INT64) });
  const proxy = new ProxyStore([ruler], { infoTtlMs: 30_000, now: () => now });
  assert.equal((await collect(proxy)).names, [], "empty: left out by its Info");
  assert.is(ruler.calls.info, 1);
  data.push(sampled({ __name__: "up" }, 0, S, S, () => 1));
  (ruler.o as { minTime?: number }).minTime = 0;
  assert.equal((await collect(proxy)).names, ['{__name__="up"}'], "seen at once, not after the 30 s TTL");
  assert.is(ruler.calls.info, 2);
  await collect(proxy);
  assert.is(ruler.calls.info, 2, "a store with data keeps its Info for the TTL");
});

test("a store whose Info failed is not asked for Info on every query (only after the retry delay)", async () => {
  let now = 1_000_000;
  const dead = new FixStore("dead", [], { infoFails: true, fail: new Error("connection refused") });
  const proxy = new ProxyStore([dead], { infoRetryMs: 5_000, now: () => now });
  await collect(proxy);
  await collect(proxy);
  assert.is(dead.calls.info, 1);
  now += 5_000;
  await collect(proxy);
  assert.is(dead.calls.info, 2);
});

test("partial response: WARN keeps what arrived plus a warning naming the store; ABORT fails naming it", async () => {
  const good = new FixStore("good", [sampled({ __name__: "up", i: "1" }, 0, S, S, () => 1)]);
  const bad = new FixStore("bad", [sampled({ __name__: "up", i: "0" }, 0, S, S, () => 1), sampled({ __name__: "up", i: "2" }, 0, S, S, () => 1)], { fail: new Error("stream reset"), failAfter: 1 });
  const proxy = new ProxyStore([good, bad]);
  const r = await collect(proxy);
  assert.equal(r.names, ['{__name__="up", i="0"}', '{__name__="up", i="1"}']);
  assert.equal(r.warnings, ["Series from store bad: stream reset"]);
  try {
    await collect(proxy, undefined, { strategy: PartialResponseStrategy.ABORT });
    assert.unreachable("ABORT answered");
  } catch (e) {
    assert.is(errorCode(e), "unavailable");
    assert.is(errorMessage(e), "Series from store bad: stream reset");
  }
});

test("per-store deadline: a hung store becomes a warning (WARN) or a timeout error (ABORT), and its stream is aborted", async () => {
  const good = new FixStore("good", [sampled({ __name__: "up" }, 0, S, S, () => 1)]);
  const hung = new FixStore("hung", [sampled({ __name__: "up", h: "1" }, 0, S, S, () => 1)], { hang: true });
  const proxy = new ProxyStore([good, hung], { storeTimeoutMs: 50 });
  const t0 = Date.now();
  const r = await collect(proxy);
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(r.names, ['{__name__="up"}']);
  assert.equal(r.warnings, ["Series from store hung: timed out after 50 ms"]);
  assert.ok(hung.aborted >= 1);
  try {
    await collect(proxy, undefined, { strategy: PartialResponseStrategy.ABORT });
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "timeout");
  }
});

test("limits: series per store and samples per request fail the request whatever the strategy", async () => {
  const many = new FixStore("many", Array.from({ length: 20 }, (_, i) => sampled({ __name__: "up", i: String(i).padStart(2, "0") }, 0, 9 * S, S, () => 1)));
  try {
    await collect(new ProxyStore([many], { maxSeriesPerStore: 10 }));
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "resource_exhausted");
    assert.match(errorMessage(e), /store many: exceeded series limit: limit 10 violated \(got 11\)/);
  }
  try {
    await collect(new ProxyStore([many], { maxSamples: 150 }));
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "resource_exhausted");
    assert.match(errorMessage(e), /exceeded samples limit: limit 150 violated \(got 160\)/);
  }
});

test("the caller's abort cancels every store stream", async () => {
  const a = new FixStore("a", [sampled({ __name__: "up" }, 0, S, S, () => 1)], { hang: true });
  const b = new FixStore("b", [sampled({ __name__: "up" }, 0, S, S, () => 2)], { hang: true });
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 30);
  try {
    await collect(new ProxyStore([a, b]), undefined, { signal: ctl.signal });
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "canceled");
  }
  assert.is(a.aborted, 1);
  assert.is(b.aborted, 1);
});

test("select hints reach the stores: step, range, func, grouping, max_resolution_window, aggregates", async () => {
  const a = new FixStore("a", [sampled({ __name__: "x", job: "j" }, 0, 100 * S, S, (t) => t)]);
  const proxy = new ProxyStore([a]);
  await new Engine().rangeQuery(new FanoutQuerier(proxy, { maxResolutionMs: 300_000 }), "sum by (job) (rate(x[5m]))", 50 * S, 100 * S, 60_000);
  const r = a.calls.series[0]!;
  assert.is(r.step, 60_000n);
  assert.is(r.range, 300_000n);
  // Thanos' maxResolutionFromSelectHints: rate needs two samples, so at most range/2 = 150s.
  assert.is(r.maxResolutionWindow, 150_000n);
  assert.is(r.queryHints?.func?.name, "rate");
  assert.equal(r.aggregates, [5]); // COUNTER
  // Grouping travels for a selector directly under an aggregation (the engine's rule, as Prometheus').
  await new Engine().instantQuery(new FanoutQuerier(proxy), "sum by (job) (x)", 100 * S);
  const g = a.calls.series[1]!;
  assert.equal(g.queryHints?.grouping?.labels, ["job"]);
  assert.is(g.queryHints?.grouping?.by, true);
  assert.is(g.queryHints?.func?.name, "sum");
  assert.is(maxSourceResolution("auto", 600_000, 0, () => 0), 120_000);
  assert.is(maxSourceResolution("1h", 0, 0, () => 3_600_000), 3_600_000);
  assert.is(maxSourceResolution("", 0, 7, () => 0), 7);
  assert.is(maxResolutionFromSelectHints(3_600_000, 7_200_000, "rate"), 3_600_000);
  assert.is(maxResolutionFromSelectHints(3_600_000, 3_600_000, "increase"), 1_800_000);
  assert.is(maxResolutionFromSelectHints(3_600_000, 300_000, "max_over_time"), 3_600_000);
  assert.is(maxResolutionFromSelectHints(3_600_000, 0, "rate"), 3_600_000);
  // Thanos' LookbackDeltaFactory with the default 5m (flag unset is the same): 1h data looks back 1h.
  for (const ld of [0, 300_000]) {
    assert.is(dynamicLookbackDelta(ld, 0), ld);
    assert.is(dynamicLookbackDelta(ld, 120_000), 300_000);
    assert.is(dynamicLookbackDelta(ld, 300_000), 300_000);
    assert.is(dynamicLookbackDelta(ld, 300_001), 3_600_000);
    assert.is(dynamicLookbackDelta(ld, 3_600_000), 3_600_000);
  }
  assert.is(dynamicLookbackDelta(7_200_000, 3_600_000), 7_200_000); // a longer configured delta stays
});

test("downsampled chunks: avg reads sum/count, max_over_time reads max, min_over_time reads min", async () => {
  // 5-minute windows of 20 samples each, values 0..N-1 (per-sample index).
  const idx = (t: number) => t / S;
  const store = new FixStore("down", [sampled({ __name__: "d" }, 0, 119 * S, S, idx)], { downsample: 300_000 });
  const q = new FanoutQuerier(new ProxyStore([store]), { maxResolutionMs: 300_000 });
  const e = new Engine();
  const at = 119 * S; // last window [100..119] ends at sample 119
  const max = await e.instantQuery(q, "max_over_time(d[5m])", at);
  const min = await e.instantQuery(q, "min_over_time(d[5m])", at);
  const avg = await e.instantQuery(q, "d", at);
  const v = (r: typeof max) => (r.value as { samples: { v: number }[] }).samples[0]!.v;
  // The window containing t=at: samples 100..119 -> max 119, avg 109.5; the 5m range (at-300s, at]
  // also holds the previous window's point (t=99S: min 80).
  assert.is(v(max), 119);
  assert.is(v(min), 80);
  assert.is(v(avg), 109.5);
});

test("HA pair: dedup=true equals the single-replica truth despite gaps on either side; dedup=false keeps both", async () => {
  const f = (t: number) => t / 1000; // a counter going up 1/s
  const end = 400 * S;
  const a = new FixStore("a", [sampled({ __name__: "c_total", job: "j" }, 0, end, S, f, [[100 * S, 140 * S]])], { ext: { cluster: "x", replica: "a" } });
  const b = new FixStore("b", [sampled({ __name__: "c_total", job: "j" }, 0, end, S, f, [[250 * S, 300 * S]])], { ext: { cluster: "x", replica: "b" } });
  const truth = new FixStore("truth", [sampled({ __name__: "c_total", job: "j" }, 0, end, S, f)], { ext: { cluster: "x" } });
  const e = new Engine();
  const q = (stores: FixStore[], dedup = true) => new FanoutQuerier(new ProxyStore(stores), { replicaLabels: ["replica"], dedup });
  for (const query of ["c_total", "rate(c_total[1m])", "increase(c_total[2m])"]) {
    const got = await e.rangeQuery(q([a, b]), query, 0, end, 30_000);
    const want = await e.rangeQuery(q([truth]), query, 0, end, 30_000);
    assert.equal(got.value, want.value, query);
  }
  const both = await e.instantQuery(q([a, b], false), "c_total", end);
  assert.equal((both.value as { samples: { metric: unknown }[] }).samples.map((s) => labelsString(s.metric as never)), [
    '{__name__="c_total", cluster="x", job="j", replica="a"}', '{__name__="c_total", cluster="x", job="j", replica="b"}',
  ]);
  const names = await q([a, b]).labelNames(0, end, []);
  assert.equal(names.names, ["__name__", "cluster", "job"]);
  assert.equal((await q([a, b], false).labelValues("replica", 0, end, [])).values, ["a", "b"]);
});

test.run();
