// SidecarStore decisions that need no Prometheus: matchers contradicting external labels answer empty
// without a request (the Prometheus here is unreachable, so any request would surface), partial-response
// strategies, request validation, Info.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create } from "@bufbuild/protobuf";
import { SidecarStore } from "../../../agent/sidecar/store.ts";
import { PromClient } from "../../../agent/prom/client.ts";
import { nopLogger } from "../../../agent/log.ts";
import { labelsFrom } from "../../../shared/labels/labels.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { LabelNamesRequestSchema, LabelValuesRequestSchema, SeriesRequestSchema, type SeriesResponse } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { LabelMatcher_Type, PartialResponseStrategy } from "../../../shared/gen/thanos/storepb/types_pb.ts";

// Port 1 on loopback: connection refused at once.
const store = new SidecarStore({
  prom: new PromClient("http://127.0.0.1:1", { timeoutMs: 2000 }),
  externalLabels: () => labelsFrom({ cluster: "eu", replica: "r1" }),
  minTime: () => 1000,
  log: nopLogger,
});
const EQ = LabelMatcher_Type.EQ;
const ctx = { signal: new AbortController().signal };

async function all(it: AsyncIterable<SeriesResponse>): Promise<SeriesResponse[]> {
  const out: SeriesResponse[] = [];
  for await (const r of it) out.push(r);
  return out;
}

test("a matcher contradicting the external labels answers empty without asking Prometheus", async () => {
  for (const skipChunks of [false, true]) {
    const req = create(SeriesRequestSchema, { minTime: 0n, maxTime: 10_000n, skipChunks, partialResponseStrategy: PartialResponseStrategy.ABORT,
      matchers: [{ type: EQ, name: "__name__", value: "up" }, { type: EQ, name: "cluster", value: "us" }] });
    assert.equal(await all(store.series(req, ctx)), []);
  }
  const ln = await store.labelNames(create(LabelNamesRequestSchema, { end: 10_000n, partialResponseStrategy: PartialResponseStrategy.ABORT,
    matchers: [{ type: LabelMatcher_Type.NRE, name: "replica", value: "r.*" }] }), ctx);
  assert.equal(ln.names, []);
  const lv = await store.labelValues(create(LabelValuesRequestSchema, { label: "cluster", end: 10_000n }), ctx);
  assert.equal(lv.values, ["eu"]);
});

test("Prometheus unreachable: WARN gives one warning frame naming it, ABORT an unavailable error", async () => {
  const base = { minTime: 0n, maxTime: 10_000n, matchers: [{ type: EQ, name: "__name__", value: "up" }, { type: EQ, name: "cluster", value: "eu" }] };
  const warn = await all(store.series(create(SeriesRequestSchema, base), ctx));
  assert.is(warn.length, 1);
  assert.is(warn[0]!.result.case, "warning");
  assert.match(String(warn[0]!.result.value), /^sidecar: Series from Prometheus http:\/\/127\.0\.0\.1:1\//);
  try { await all(store.series(create(SeriesRequestSchema, { ...base, partialResponseStrategy: PartialResponseStrategy.ABORT }), ctx)); assert.unreachable(); } catch (e) {
    assert.is(errorCode(e), "unavailable");
  }
  try { await all(store.series(create(SeriesRequestSchema, { ...base, partialResponseDisabled: true }), ctx)); assert.unreachable(); } catch (e) {
    assert.is(errorCode(e), "unavailable");
  }
  const ln = await store.labelNames(create(LabelNamesRequestSchema, { end: 10_000n }), ctx);
  assert.is(ln.warnings.length, 1);
});

test("request errors are never partial: only external-label matchers, bad regex, empty label name", async () => {
  const cases: [() => Promise<unknown>, RegExp][] = [
    [() => all(store.series(create(SeriesRequestSchema, { maxTime: 1n, matchers: [{ type: EQ, name: "cluster", value: "eu" }] }), ctx)), /no matchers specified \(excluding external labels\)/],
    [() => all(store.series(create(SeriesRequestSchema, { maxTime: 1n, matchers: [{ type: LabelMatcher_Type.RE, name: "a", value: "(" }] }), ctx)), /\(/],
    [() => store.labelValues(create(LabelValuesRequestSchema, { label: "" }), ctx), /label name is empty/],
  ];
  for (const [f, re] of cases) {
    try { await f(); assert.unreachable(String(re)); } catch (e) {
      assert.is(errorCode(e), "bad_data");
      assert.match((e as Error).message, re);
    }
  }
});

test("Info: external labels as the one label set, min time from the store, open max time, capabilities", async () => {
  const i = await store.info();
  assert.equal(i.labelSets.map((s) => s.labels.map((l) => [l.name, l.value])), [[["cluster", "eu"], ["replica", "r1"]]]);
  assert.is(i.ComponentType, "sidecar");
  assert.is(i.store!.minTime, 1000n);
  assert.is(i.store!.maxTime, (1n << 63n) - 1n);
  assert.is(i.store!.supportsWithoutReplicaLabels, true);
  assert.is(i.store!.supportsSharding, false);
});

test.run();
