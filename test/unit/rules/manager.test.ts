// The Manager's schedule, reloads, per-evaluation deadline, metrics and API data, on a fake clock.
// (Evaluation semantics are checked against Prometheus' own code in
// test/integration/rules-engine-prometheus.test.ts; these cover what that oracle cannot drive:
// Group.run's ticker, Manager.Update, the deadline we add.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Labels } from "../../../shared/labels/labels.ts";
import { newMatcher } from "../../../shared/labels/matcher.ts";
import { Engine } from "../../../shared/promql/engine.ts";
import { RulesRequest_Type, AlertState as PbAlertState, type RulesRequest } from "../../../shared/gen/thanos/rulespb/rpc_pb.ts";
import { PartialResponseStrategy as PbStrategy } from "../../../shared/gen/thanos/storepb/types_pb.ts";
import { groupOffset, type Clock } from "../../../shared/rules/group.ts";
import { Manager, RulesLoadError } from "../../../shared/rules/manager.ts";
import { engineQueryFunc, type QueryFunc } from "../../../shared/rules/query.ts";
import { TestStorage } from "../../../shared/promqltest/index.ts";
import { liveQuerier } from "../../../shared/rules/unittest.ts";

/** A clock that moves only when told; sleepers wake in time order. */
class FakeClock implements Clock {
  private sleepers: { at: number; resolve: () => void }[] = [];
  constructor(public t: number) {}
  now(): number { return this.t; }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const s = { at: this.t + Math.max(0, ms), resolve };
      this.sleepers.push(s);
      signal?.addEventListener("abort", () => { this.sleepers = this.sleepers.filter((x) => x !== s); resolve(); }, { once: true });
    });
  }
  /** Advance to `to`, waking sleepers in order and letting each woken task run before the next. */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      await settle();
      this.sleepers.sort((a, b) => a.at - b.at);
      const s = this.sleepers[0];
      if (!s || s.at > to) break;
      this.sleepers.shift();
      this.t = Math.max(this.t, s.at);
      s.resolve();
    }
    this.t = to;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

const M = 60_000;
const lbl = (o: Record<string, string>): Labels => Object.entries(o).map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : 1));

function setup(opts: { clock: FakeClock; query?: QueryFunc; queryTimeout?: number; external?: Labels }) {
  const storage = new TestStorage();
  const engine = new Engine();
  const mgr = new Manager({
    queryFunc: opts.query ?? engineQueryFunc(engine, liveQuerier(storage)),
    appendable: storage,
    queryable: liveQuerier(storage),
    clock: opts.clock,
    queryTimeout: opts.queryTimeout,
    externalLabels: opts.external ?? [],
  });
  return { storage, mgr };
}

function samplesOf(storage: TestStorage, name: string): { t: number; v: number; stale: boolean }[] {
  const s = storage.series().find((x) => x.labels.some((l) => l.name === "__name__" && l.value === name));
  return s ? s.ts.map((t, i) => ({ t, v: s.vs[i]!, stale: s.stale?.[i] === true })) : [];
}

const FILE = "rules/a.yml";
const RULES = `
groups:
  - name: g
    rules:
      - record: one
        expr: vector(1)
      - alert: Always
        expr: vector(1)
        labels: {severity: page}
`;

test("schedule: first evaluation at the group's slot after start, then every interval, at the slot times", async () => {
  const start = 1_700_000_000_000;
  const clock = new FakeClock(start);
  const { storage, mgr } = setup({ clock });
  await mgr.update(M, [{ file: FILE, content: RULES }]);
  mgr.start();
  const off = groupOffset(FILE, "g", M);
  const slot0 = start - ((start - off) % M) + M; // EvalTimestamp(now) + interval
  await clock.advanceTo(slot0 - 1);
  assert.equal(samplesOf(storage, "one"), []);
  await clock.advanceTo(slot0 + 3 * M);
  assert.equal(samplesOf(storage, "one").map((s) => s.t), [slot0, slot0 + M, slot0 + 2 * M, slot0 + 3 * M]);
  assert.ok(slot0 % M === off, "samples sit at the phase offset");
  const gm = mgr.metrics.groupMetrics()[0]!;
  assert.is(gm.ruleGroup, `${FILE};g`);
  assert.is(gm.iterationsScheduled, 4);
  assert.is(gm.evalTotal, 8);
  assert.is(gm.evalFailures, 0);
  assert.is(gm.rules, 2);
  assert.is(gm.intervalSeconds, 60);
  // ALERTS appear only after the `for` state was restored, i.e. after the 2nd evaluation.
  assert.equal(samplesOf(storage, "ALERTS").map((s) => s.t), [slot0 + 2 * M, slot0 + 3 * M]);
  await mgr.stop();
});

test("schedule: an evaluation overrunning its interval skips the ticks it covered and counts them missed", async () => {
  const start = 1_700_000_000_000;
  const clock = new FakeClock(start);
  let calls = 0;
  const query: QueryFunc = async (_e, t) => {
    calls++;
    if (calls === 3) clock.t += 150_000; // the third query takes 2.5 intervals
    return [{ metric: [], t, v: 1 }];
  };
  const { storage, mgr } = setup({ clock, query, queryTimeout: Infinity });
  await mgr.update(M, [{ file: FILE, content: "groups:\n  - name: g\n    rules:\n      - record: one\n        expr: vector(1)\n" }]);
  mgr.start();
  const off = groupOffset(FILE, "g", M);
  const slot0 = start - ((start - off) % M) + M;
  await clock.advanceTo(slot0 + 6 * M);
  const ts = samplesOf(storage, "one").map((s) => (s.t - slot0) / M);
  // evaluations at slots 0, 1, 2 (which took until 2+2.5), then 4 (3 was missed), 5, 6
  assert.equal(ts, [0, 1, 2, 4, 5, 6]);
  const gm = mgr.metrics.groupMetrics()[0]!;
  assert.is(gm.iterationsMissed, 1);
  assert.is(gm.iterationsScheduled, 7);
  await mgr.stop();
});

test("a hung query fails only its rule's evaluation, is counted, and the group goes on", async () => {
  const clock = new FakeClock(0);
  const query: QueryFunc = (expr, t) => (expr === "vector(2)" ? new Promise(() => {}) : Promise.resolve([{ metric: [], t, v: 1 }]));
  const { storage, mgr } = setup({ clock, query, queryTimeout: 30 });
  await mgr.update(M, [{ file: FILE, content: "groups:\n  - name: g\n    rules:\n      - record: hangs\n        expr: vector(2)\n      - record: fine\n        expr: vector(1)\n" }]);
  const g = mgr.ruleGroups()[0]!;
  const t0 = Date.now();
  await g.eval(M);
  await g.eval(2 * M);
  assert.ok(Date.now() - t0 < 2000);
  assert.is(g.rules[0]!.health, "err");
  assert.is(g.rules[0]!.lastError, "query timed out after 30ms");
  assert.is(g.rules[1]!.health, "ok");
  assert.equal(samplesOf(storage, "fine").map((s) => s.t), [M, 2 * M]);
  assert.equal(samplesOf(storage, "hangs"), []);
  assert.is(g.metrics.evalFailures, 2);
  assert.is(g.metrics.evalTotal, 4);
});

test("the query function gets an aborted signal at the deadline", async () => {
  const clock = new FakeClock(0);
  let seen: AbortSignal | null = null;
  const query: QueryFunc = (_e, _t, signal) => { seen = signal; return new Promise(() => {}); };
  const { mgr } = setup({ clock, query, queryTimeout: 20 });
  await mgr.update(M, [{ file: FILE, content: "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: vector(1)\n" }]);
  await mgr.ruleGroups()[0]!.eval(0);
  assert.ok(seen !== null && (seen as AbortSignal).aborted);
});

test("reload: unchanged groups keep running as is, changed ones keep their state, a bad file keeps the old rules", async () => {
  const clock = new FakeClock(0);
  const { storage, mgr } = setup({ clock });
  const v1 = "groups:\n  - name: same\n    rules:\n      - record: s\n        expr: vector(1)\n  - name: changed\n    rules:\n      - alert: A\n        expr: vector(1)\n        for: 5m\n";
  await mgr.update(M, [{ file: FILE, content: v1 }]);
  const [changed, same] = mgr.ruleGroups();
  assert.is(same!.name, "same");
  await changed!.eval(M);
  const activeAt = [...(changed!.rules[0] as any).active.values()][0].activeAt;
  assert.is(activeAt, M);

  const v2 = v1.replace("for: 5m", "for: 10m");
  await mgr.update(M, [{ file: FILE, content: v2 }]);
  const [changed2, same2] = mgr.ruleGroups();
  assert.ok(same2 === same, "unchanged group object kept");
  assert.ok(changed2 !== changed, "changed group replaced");
  assert.is([...(changed2!.rules[0] as any).active.values()][0].activeAt, M, "alert state copied");

  let err: unknown;
  try {
    await mgr.update(M, [{ file: FILE, content: "groups:\n  - name: x\n    rules:\n      - record: bad name\n        expr: up\n" }]);
  } catch (e) { err = e; }
  assert.ok(err instanceof RulesLoadError);
  assert.is((err as RulesLoadError).errors[0], `${FILE}: 4:17: group "x", rule 1, "bad name": invalid recording rule name: bad name`);
  assert.is((err as RulesLoadError).code, "bad_data");
  assert.is(mgr.ruleGroups().length, 2, "old rules still there");
  assert.is(mgr.reloadStatus.successful, false);
  void storage;
});

test("reload: a removed group's series are marked stale two intervals after it stops", async () => {
  const start = 10 * M;
  const clock = new FakeClock(start);
  const { storage, mgr } = setup({ clock });
  await mgr.update(M, [{ file: FILE, content: "groups:\n  - name: gone\n    rules:\n      - record: gone_series\n        expr: vector(1)\n" }]);
  mgr.start();
  await clock.advanceTo(start + 3 * M);
  const before = samplesOf(storage, "gone_series");
  assert.ok(before.length >= 2);
  assert.ok(before.every((s) => !s.stale));
  const removedAt = clock.now();
  await mgr.update(M, []);
  assert.equal(mgr.metrics.groupMetrics(), [], "its metrics are gone");
  await clock.advanceTo(removedAt + 2 * M - 1);
  assert.ok(samplesOf(storage, "gone_series").every((s) => !s.stale));
  await clock.advanceTo(removedAt + 2 * M + 1);
  const after = samplesOf(storage, "gone_series");
  assert.equal(after.at(-1), { t: removedAt, v: NaN, stale: true });
  await mgr.stop();
});

test("API data: Prometheus' shapes, Thanos' partialResponseStrategy and external labels, filters", async () => {
  const clock = new FakeClock(0);
  const { mgr } = setup({ clock, external: lbl({ replica: "a", cluster: "eu" }) });
  await mgr.update(M, [{ file: FILE, content: `
groups:
  - name: alerts
    partial_response_strategy: warn
    rules:
      - alert: Always
        expr: vector(1)
        for: 5m
        labels: {severity: page, cluster: mine, tmpl: "{{ $value }}"}
        annotations: {summary: "s"}
      - alert: Never
        expr: vector(1) == 0
  - name: records
    rules:
      - record: one
        expr: vector(1)
` }]);
  for (const g of mgr.ruleGroups()) { await g.eval(M); }
  const j = mgr.rulesJSON();
  assert.equal(j.groups.map((g) => [g.name, g.partialResponseStrategy]), [["alerts", "WARN"], ["records", "ABORT"]]);
  const a = j.groups[0]!.rules[0] as any;
  assert.is(a.duration, 300);
  assert.equal(Object.keys(a), ["state", "name", "query", "duration", "keepFiringFor", "labels", "annotations", "alerts", "health", "evaluationTime", "lastEvaluation", "type"]);
  assert.is(a.state, "pending");
  assert.is(a.type, "alerting");
  assert.is(a.health, "ok");
  // external labels added to rule labels, overwriting (Thanos' enrichRulesWithExtLabels)
  assert.equal(a.labels, { cluster: "eu", replica: "a", severity: "page", tmpl: "{{ $value }}" });
  assert.equal(a.alerts, [{ labels: { alertname: "Always", cluster: "mine", severity: "page", tmpl: "1" }, annotations: { summary: "s" }, state: "pending", activeAt: "1970-01-01T00:01:00Z", value: "1e+00", partialResponseStrategy: "WARN" }]);
  const r = j.groups[1]!.rules[0] as any;
  assert.equal(Object.keys(r), ["name", "query", "labels", "health", "evaluationTime", "lastEvaluation", "type"]);
  assert.equal(r.labels, { cluster: "eu", replica: "a" });
  assert.is(j.groups[0]!.lastEvaluation, "0001-01-01T00:00:00Z", "never run by the scheduler");

  assert.equal(mgr.rulesJSON({ type: "record" }).groups.map((g) => [g.name, g.rules.length]), [["alerts", 0], ["records", 1]]);
  assert.equal(mgr.rulesJSON({ ruleName: ["Never"] }).groups.map((g) => g.rules.map((r) => r.name)), [["Never"]]);
  assert.equal(mgr.rulesJSON({ ruleGroup: ["records"] }).groups.map((g) => g.name), ["records"]);
  assert.equal(mgr.rulesJSON({ file: ["other.yml"] }).groups, []);
  // match[]: only non-templated labels count
  assert.equal(mgr.rulesJSON({ matchers: [[newMatcher("=", "severity", "page")]] }).groups.map((g) => g.rules.map((r) => r.name)), [["Always"]]);
  assert.equal(mgr.rulesJSON({ matchers: [[newMatcher("=", "tmpl", "{{ $value }}")]] }).groups, []);
  assert.throws(() => mgr.rulesJSON({ type: "alerts" }), /not supported value/);

  assert.equal(mgr.alertsJSON().alerts.map((x) => x.labels.alertname), ["Always"]);

  const got: any[] = [];
  for await (const resp of mgr.rulesImpl().rules({ type: RulesRequest_Type.ALERT } as RulesRequest, { signal: new AbortController().signal })) got.push(resp);
  assert.is(got.length, 2);
  const pg = got[0].result.value;
  assert.is(pg.PartialResponseStrategy, PbStrategy.WARN);
  assert.is(pg.rules.length, 2);
  const pa = pg.rules[0].result.value;
  assert.is(pa.state, PbAlertState.PENDING);
  assert.is(pa.alerts[0].value, "1e+00");
  assert.equal(pa.alerts[0].activeAt.seconds, 60n);
  assert.equal(pg.lastEvaluation.seconds, -62135596800n);
  assert.equal(got[1].result.value.rules, [], "type ALERT leaves recording rules out");
});

test("restore off for groups loaded after the first successful load; restore on for the first", async () => {
  const clock = new FakeClock(0);
  const { mgr } = setup({ clock });
  await mgr.update(M, [{ file: FILE, content: RULES }]);
  assert.is(mgr.ruleGroups()[0]!.shouldRestore, true);
  assert.is((mgr.ruleGroups()[0]!.rules[1] as any).restored, false);
  await mgr.update(M, [{ file: "b.yml", content: RULES }, { file: FILE, content: RULES }]);
  const b = mgr.ruleGroups().find((g) => g.file === "b.yml")!;
  assert.is(b.shouldRestore, false);
  assert.is((b.rules[1] as any).restored, true);
});

test.run();
