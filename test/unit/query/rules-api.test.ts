// The querier's /api/v1/rules and /api/v1/alerts over real rules engines (shared/rules Manager over
// TestStorage): an HA pair of rulers (external labels replica=a / replica=b) reached over Connect
// (mountStoreApi + the fan-out's remote client) and in-process, a ruler that fails, a querier stacked
// behind a querier. What is checked is what Thanos' querier does with the same groups (see
// rules-merge.test.ts for its own cases, and the integration tests for a real Thanos querier).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Hono } from "hono";
import { CodedError } from "../../../shared/encoding/errors.ts";
import { Engine } from "../../../shared/promql/engine.ts";
import { Manager } from "../../../shared/rules/manager.ts";
import { engineQueryFunc } from "../../../shared/rules/query.ts";
import type { Clock } from "../../../shared/rules/group.ts";
import { liveQuerier } from "../../../shared/rules/unittest.ts";
import { TestStorage, loadSeries } from "../../../shared/promqltest/index.ts";
import { createQuerierApp } from "../../../shared/query/app.ts";
import { ProxyStore } from "../../../shared/query/proxy.ts";
import { remoteStore } from "../../../shared/query/remote.ts";
import { endpointFromServices, type StoreEndpoint } from "../../../shared/query/store.ts";
import { mountStoreApi } from "../../../shared/rpc/server.ts";
import type { InfoImpl, RulesImpl, StoreImpl } from "../../../shared/rpc/store.ts";

const T = 1_700_000_000_000;
const RULES = `
groups:
  - name: alerts
    partial_response_strategy: warn
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 5m
        labels: {severity: page}
        annotations: {summary: "{{ $labels.instance }} is down"}
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {team: "{{ $value }}"}
      - alert: Never
        expr: up > 5
  - name: records
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
`;

const emptyStore: StoreImpl = {
  series: async function* () {},
  labelNames: async () => ({ names: [] }),
  labelValues: async () => ({ values: [] }),
};

/** A ruler: a Manager over its own storage, evaluated once at `ts` with the clock at `now`. */
async function ruler(replica: string, ts: number, now: number): Promise<{ rules: RulesImpl; info: InfoImpl; store: StoreImpl }> {
  const storage = new TestStorage();
  loadSeries(storage, [{ series: 'up{job="api", instance="x"}', values: "0x80" }, { series: 'up{job="api", instance="y"}', values: "1x80" }], 15_000, T - 600_000);
  const clock: Clock = { now: () => now, sleep: async () => {} };
  const ext = [{ name: "cluster", value: "c1" }, { name: "replica", value: replica }];
  const mgr = new Manager({ queryFunc: engineQueryFunc(new Engine(), liveQuerier(storage)), appendable: storage, queryable: liveQuerier(storage), clock, externalLabels: ext });
  await mgr.update(60_000, [{ file: "rules.yml", content: RULES }]);
  for (const g of mgr.ruleGroups()) await g.eval(ts);
  return {
    rules: mgr.rulesImpl(),
    store: emptyStore,
    info: { info: async () => ({ labelSets: [{ labels: ext }], ComponentType: "rule", rules: {} }) },
  };
}

/** A ruler served over Connect on its own hono app, reached through the fan-out's remote client. */
function overConnect(name: string, s: { rules: RulesImpl; info: InfoImpl; store: StoreImpl }): StoreEndpoint {
  const app = new Hono();
  mountStoreApi(app, s);
  return remoteStore(`http://${name}`, { name, fetch: async (i, init) => await app.fetch(new Request(i, init)) });
}

const failing: StoreEndpoint = {
  ...endpointFromServices("ruler-down", {
    store: emptyStore,
    info: { info: async () => ({ labelSets: [], ComponentType: "rule", rules: {} }) },
  }),
  rules: () => (async function* () { throw new CodedError("unavailable", "connection refused"); })(),
};

async function get(app: Hono, path: string): Promise<{ status: number; body: any }> {
  const r = await app.request(path);
  return { status: r.status, body: await r.json() };
}

let rulerA: Awaited<ReturnType<typeof ruler>>, rulerB: Awaited<ReturnType<typeof ruler>>;

test.before(async () => {
  // b evaluated 15 s later (and its clock is later): its rules are the younger ones and win.
  rulerA = await ruler("a", T, T + 1000);
  rulerB = await ruler("b", T + 15_000, T + 16_000);
});

function querier(extra: StoreEndpoint[] = []): Hono {
  const proxy = new ProxyStore([overConnect("ruler-a", rulerA), endpointFromServices("ruler-b", rulerB), ...extra]);
  return createQuerierApp({ proxy, replicaLabels: ["replica"], ui: false });
}

test("rules: the HA pair merged into one set of groups, replica label gone, the younger replica's rules kept", async () => {
  const { status, body } = await get(querier(), "/api/v1/rules");
  assert.is(status, 200);
  assert.is(body.status, "success");
  assert.is(body.warnings, undefined);
  const gs = body.data.groups;
  assert.equal(gs.map((g: any) => [g.file, g.name, g.partialResponseStrategy, g.interval, g.limit]), [["rules.yml", "alerts", "WARN", 60, 0], ["rules.yml", "records", "ABORT", 60, 0]]);
  // Thanos sorts the rules of a group (alerting first, then by name, labels, query).
  assert.equal(gs[0].rules.map((r: any) => r.name), ["AlwaysFiring", "InstanceDown", "Never"]);
  assert.equal(Object.keys(gs[0]), ["name", "file", "rules", "interval", "evaluationTime", "lastEvaluation", "limit", "partialResponseStrategy"]);
  const down = gs[0].rules[1];
  assert.equal(Object.keys(down), ["state", "name", "query", "duration", "labels", "annotations", "alerts", "health", "evaluationTime", "lastEvaluation", "keepFiringFor", "type"]);
  assert.equal(down.labels, { cluster: "c1", severity: "page" });
  assert.is(down.state, "pending");
  assert.is(down.duration, 300);
  assert.is(down.query, "up == 0");
  assert.is(down.lastEvaluation, new Date(T + 16_000).toISOString().replace(".000Z", "Z"));
  assert.equal(down.alerts, [{
    labels: { alertname: "InstanceDown", instance: "x", job: "api", severity: "page" },
    annotations: { summary: "x is down" },
    state: "pending",
    activeAt: new Date(T + 15_000).toISOString().replace(".000Z", "Z"),
    value: "0e+00",
    partialResponseStrategy: "WARN",
  }]);
  const always = gs[0].rules[0];
  assert.is(always.state, "firing");
  // A templated rule label stays as written; the instance has it expanded.
  assert.equal(always.labels, { cluster: "c1", team: "{{ $value }}" });
  assert.equal(always.alerts[0].labels, { alertname: "AlwaysFiring", team: "1" });
  assert.is(gs[0].rules[2].state, "inactive");
  assert.equal(gs[0].rules[2].alerts, []);
  const rec = gs[1].rules[0];
  assert.equal(Object.keys(rec), ["name", "query", "labels", "health", "evaluationTime", "lastEvaluation", "type"]);
  assert.equal(rec, { ...rec, name: "job:up:sum", query: "sum by (job) (up)", labels: { cluster: "c1" }, health: "ok", type: "recording" });
});

test("rules: dedup=false keeps each replica's rules (told apart by their replica label)", async () => {
  const { body } = await get(querier(), "/api/v1/rules?dedup=false");
  const alerts = body.data.groups[0].rules;
  assert.equal(alerts.map((r: any) => `${r.name} ${r.labels.replica}`), ["AlwaysFiring a", "AlwaysFiring b", "InstanceDown a", "InstanceDown b", "Never a", "Never b"]);
  // replicaLabels[] overrides the flag: with another label nothing collapses either.
  const other = await get(querier(), "/api/v1/rules?replicaLabels[]=cluster");
  assert.is(other.body.data.groups[0].rules.length, 6);
});

test("rules: type, rule_name[], rule_group[], file[], match[] filters (Thanos' semantics)", async () => {
  const q = querier();
  const rec = (await get(q, "/api/v1/rules?type=record")).body.data.groups;
  // The rulers filter by type; the alert group stays, empty (as from Thanos' rulers).
  assert.equal(rec.map((g: any) => [g.name, g.rules.length]), [["alerts", 0], ["records", 1]]);
  assert.equal((await get(q, "/api/v1/rules?type=ALERT")).body.data.groups.map((g: any) => [g.name, g.rules.length]), [["alerts", 3], ["records", 0]]);
  assert.equal((await get(q, "/api/v1/rules?rule_name[]=Never&rule_name[]=job:up:sum")).body.data.groups.map((g: any) => g.rules.map((r: any) => r.name)), [["Never"], ["job:up:sum"]]);
  assert.equal((await get(q, "/api/v1/rules?rule_group[]=records")).body.data.groups.map((g: any) => g.name), ["records"]);
  assert.equal((await get(q, "/api/v1/rules?file[]=other.yml")).body.data.groups, []);
  assert.equal((await get(q, '/api/v1/rules?match[]={severity="page"}')).body.data.groups.map((g: any) => g.rules.map((r: any) => r.name)), [["InstanceDown"]]);
  // Templated label values never match.
  assert.equal((await get(q, `/api/v1/rules?match[]=${encodeURIComponent('{team="{{ $value }}"}')}`)).body.data.groups, []);
  // Every matcher of every set must hold.
  assert.equal((await get(q, '/api/v1/rules?match[]={cluster="c1"}&match[]={severity="page"}')).body.data.groups.map((g: any) => g.rules.map((r: any) => r.name)), [["InstanceDown"]]);
  const bad = await get(q, "/api/v1/rules?type=foo");
  assert.equal([bad.status, bad.body.errorType, bad.body.error], [400, "bad_data", "invalid rules parameter type='foo'"]);
  const badMatch = await get(q, "/api/v1/rules?match[]={");
  assert.equal([badMatch.status, badMatch.body.errorType], [400, "bad_data"]);
  assert.is((await q.request("/api/v1/rules", { method: "POST" })).status, 405);
});

test("alerts: pending and firing instances of the merged rules, once", async () => {
  const { status, body } = await get(querier(), "/api/v1/alerts");
  assert.is(status, 200);
  assert.equal(body.data.alerts.map((a: any) => [a.labels.alertname, a.state, a.activeAt]), [
    ["AlwaysFiring", "firing", new Date(T + 15_000).toISOString().replace(".000Z", "Z")],
    ["InstanceDown", "pending", new Date(T + 15_000).toISOString().replace(".000Z", "Z")],
  ]);
  assert.equal(Object.keys(body.data), ["alerts"]);
  const both = await get(querier(), "/api/v1/alerts?dedup=false");
  assert.is(both.body.data.alerts.length, 4);
});

test("partial response: a ruler down is a warning naming it (WARN), the error under ABORT", async () => {
  const q = querier([failing]);
  const warn = await get(q, "/api/v1/rules");
  assert.is(warn.status, 200);
  assert.is(warn.body.data.groups.length, 2);
  assert.is(warn.body.warnings.length, 1);
  assert.match(warn.body.warnings[0], /Rules from store ruler-down: connection refused/);
  const alerts = await get(q, "/api/v1/alerts");
  assert.is(alerts.body.data.alerts.length, 2);
  assert.match(alerts.body.warnings[0], /ruler-down/);
  const abort = await get(q, "/api/v1/rules?partial_response=false");
  assert.is(abort.status, 500);
  assert.is(abort.body.errorType, "internal");
  assert.match(abort.body.error, /^error retrieving rules: .*ruler-down.*connection refused/);
  // --rule.partial-response=false: ABORT unless the request says otherwise.
  const strict = createQuerierApp({ proxy: new ProxyStore([failing]), rulePartialResponseDefault: false, ui: false });
  assert.is((await get(strict, "/api/v1/alerts")).status, 500);
  assert.is((await get(strict, "/api/v1/alerts?partial_response=true")).status, 200);
});

test("no rulers: empty groups and alerts; stores without the Rules API are not asked", async () => {
  const store = endpointFromServices("sidecar", { store: emptyStore, info: { info: async () => ({ labelSets: [], ComponentType: "sidecar", store: { minTime: 0n, maxTime: 1n } }) } });
  const q = createQuerierApp({ proxy: new ProxyStore([store]), ui: false });
  assert.equal((await get(q, "/api/v1/rules")).body, { status: "success", data: { groups: [] } });
  assert.equal((await get(q, "/api/v1/alerts")).body, { status: "success", data: { alerts: [] } });
});

test("a querier behind a querier: the inner one's thanos.Rules (unmerged) merges to the same answer", async () => {
  const inner = querier();
  const outer = createQuerierApp({
    proxy: new ProxyStore([remoteStore("http://inner", { name: "inner", fetch: async (i, init) => await inner.fetch(new Request(i, init)) })]),
    replicaLabels: ["replica"], ui: false,
  });
  for (const path of ["/api/v1/rules", "/api/v1/alerts", "/api/v1/rules?type=record", "/api/v1/rules?dedup=false"]) {
    const a = await (await inner.request(path)).text(), b = await (await outer.request(path)).text();
    assert.is(b, a, path);
  }
});

test.run();
