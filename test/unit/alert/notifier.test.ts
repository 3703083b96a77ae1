// Alert notification: the Alertmanager payload, the queue (capacity, oldest dropped, batches), label
// processing in Thanos' order, and the sender (several Alertmanagers, one success is enough, a hung
// one times out and never blocks pushing). Live delivery to a real Alertmanager is in
// test/integration/rules-alertmanager.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import type { Labels } from "../../../shared/labels/labels.ts";
import { parseRelabelConfigs } from "../../../shared/labels/relabel.ts";
import {
  AlertQueue, AlertSender, alertsPayload, alertsURL, queryEscape, tableLink, toNotifierAlerts, type FetchLike, type NotifierAlert,
} from "../../../shared/alert/notifier.ts";
import type { Alert } from "../../../shared/rules/alerting.ts";

const lbl = (o: Record<string, string>): Labels => Object.entries(o).map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : 1));

function alert(state: Alert["state"], extra: Partial<Alert> = {}): Alert {
  return {
    state, labels: lbl({ alertname: "A", job: "x" }), annotations: lbl({ summary: "s" }), value: 1,
    activeAt: 1_000, firedAt: state === "pending" ? null : 2_000, resolvedAt: null, lastSentAt: 2_000, validUntil: 242_000, keepFiringSince: null, ...extra,
  };
}

const na = (labels: Record<string, string>): NotifierAlert => ({ labels: lbl(labels), annotations: [], startsAt: 0, endsAt: 0, generatorURL: "" });

test("query escaping and the generator URL as Go's url.QueryEscape and Thanos' template", () => {
  assert.is(queryEscape('sum(rate(x{a="b c"}[5m])) > 0.5/é'), "sum%28rate%28x%7Ba%3D%22b+c%22%7D%5B5m%5D%29%29+%3E+0.5%2F%C3%A9");
  assert.is(tableLink("/graph?g0.expr={{.Expr}}&g0.tab=1", "up == 0"), "/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
  assert.is(tableLink("/explore?q={{ .Expr }}", "a"), "/explore?q=a");
});

test("toNotifierAlerts: pending skipped, startsAt = FiredAt, endsAt = ResolvedAt or ValidUntil", () => {
  const out = toNotifierAlerts([alert("pending"), alert("firing"), alert("inactive", { resolvedAt: 300_000 })], "up == 0", { alertQueryURL: "http://q:9090" });
  assert.equal(out.map((a) => [a.startsAt, a.endsAt]), [[2_000, 242_000], [2_000, 300_000]]);
  assert.is(out[0]!.generatorURL, "http://q:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
});

test("payload: Alertmanager v2 PostableAlerts with RFC3339 millisecond times, v1 with Go's time format", () => {
  const a: NotifierAlert = { labels: lbl({ alertname: "A", b: "<&>" }), annotations: lbl({ s: "x" }), startsAt: 1_700_000_000_000, endsAt: 1_700_000_240_500, generatorURL: "http://x/graph" };
  assert.is(alertsPayload([a]), '[{"annotations":{"s":"x"},"endsAt":"2023-11-14T22:17:20.500Z","startsAt":"2023-11-14T22:13:20.000Z","generatorURL":"http://x/graph","labels":{"alertname":"A","b":"<&>"}}]');
  assert.is(alertsPayload([{ ...a, annotations: [], generatorURL: "" }]), '[{"endsAt":"2023-11-14T22:17:20.500Z","startsAt":"2023-11-14T22:13:20.000Z","labels":{"alertname":"A","b":"<&>"}}]');
  assert.is(alertsPayload([a], "v1"), '[{"labels":{"alertname":"A","b":"<&>"},"annotations":{"s":"x"},"startsAt":"2023-11-14T22:13:20Z","endsAt":"2023-11-14T22:17:20.5Z","generatorURL":"http://x/graph"}]');
});

test("queue: external labels overwrite (Thanos), dropped labels go first, relabelling last", () => {
  const q = new AlertQueue({
    externalLabels: lbl({ cluster: "eu", replica: "a" }),
    dropLabels: ["replica"],
    relabelConfigs: parseRelabelConfigs("- source_labels: [severity]\n  regex: debug\n  action: drop\n- target_label: team\n  replacement: sre\n"),
  });
  assert.equal(q.processLabels(lbl({ alertname: "A", cluster: "mine", replica: "b", severity: "page" })), lbl({ alertname: "A", cluster: "eu", severity: "page", team: "sre" }));
  assert.is(q.processLabels(lbl({ alertname: "A", severity: "debug" })), null);
  q.push([na({ alertname: "A", severity: "debug" }), na({ alertname: "B" })]);
  assert.is(q.length, 1);
  assert.equal(q.metrics, { pushed: 2, popped: 0, dropped: 0 });
});

test("queue: full queue drops the oldest, batches of at most maxBatchSize, pop waits and aborts", async () => {
  const q = new AlertQueue({ capacity: 5, maxBatchSize: 2 });
  q.push([1, 2, 3].map((i) => na({ alertname: `a${i}` })));
  q.push([4, 5, 6, 7].map((i) => na({ alertname: `a${i}` })));
  assert.is(q.metrics.dropped, 2);
  const names = async () => (await q.pop()).map((a) => a.labels[0]!.value);
  assert.equal(await names(), ["a3", "a4"]);
  assert.equal(await names(), ["a5", "a6"]);
  assert.equal(await names(), ["a7"]);
  q.push([...Array(8)].map((_, i) => na({ alertname: `b${i}` })));
  assert.is(q.length, 5, "a push larger than the capacity keeps its newest");
  while (q.length > 0) await q.pop();
  const waiting = q.pop();
  setTimeout(() => q.push([na({ alertname: "late" })]), 5);
  assert.equal((await waiting).map((a) => a.labels[0]!.value), ["late"]);
  const ctl = new AbortController();
  const aborted = q.pop(ctl.signal);
  ctl.abort();
  assert.equal(await aborted, []);
});

test("sender: every Alertmanager gets the batch; one success is enough; all failing counts dropped", async () => {
  const calls: string[] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push(`${url} ${init.headers["Content-Type"]}`);
    if (url.includes("down")) throw new Error("connection refused");
    return { status: url.includes("bad") ? 500 : 200, statusText: "x" };
  };
  let ams = [{ url: "http://am1:9093" }, { url: "http://down:9093/" }, { url: "http://am2:9093/prefix/", version: "v1" as const }];
  const s = new AlertSender(() => ams, fetch);
  await s.send([na({ alertname: "A" })]);
  assert.equal(calls.sort(), [
    "http://am1:9093/api/v2/alerts application/json",
    "http://am2:9093/prefix/api/v1/alerts application/json",
    "http://down:9093/api/v2/alerts application/json",
  ]);
  assert.equal(s.metrics.sent.get("am1:9093"), 1);
  assert.equal(s.metrics.errors.get("down:9093"), 1);
  assert.is(s.metrics.dropped, 0);
  ams = [{ url: "http://down:9093" }, { url: "http://bad:9093" }];
  await s.send([na({ alertname: "A" }), na({ alertname: "B" })]);
  assert.is(s.metrics.dropped, 2);
});

test("sender: a hung Alertmanager times out; pushing never waits for it", async () => {
  const fetch: FetchLike = (url, init) => new Promise((resolve, reject) => {
    if (url.includes("ok")) return resolve({ status: 200 });
    init.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
  });
  const s = new AlertSender(() => [{ url: "http://hung:9093", timeoutMs: 50 }, { url: "http://ok:9093" }], fetch);
  const q = new AlertQueue();
  const t0 = Date.now();
  const sending = s.send([na({ alertname: "A" })]);
  for (let i = 0; i < 1000; i++) q.push([na({ alertname: `x${i}` })]);
  assert.ok(Date.now() - t0 < 50, "pushes did not wait");
  await sending;
  assert.ok(Date.now() - t0 >= 45);
  assert.equal(s.metrics.errors.get("hung:9093"), 1);
  assert.equal(s.metrics.sent.get("ok:9093"), 1);
});

test("alertsURL joins the path prefix like Go's path.Join", () => {
  assert.is(alertsURL("http://a:9093", "v2"), "http://a:9093/api/v2/alerts");
  assert.is(alertsURL("http://u:p@a:9093/x/../y//", "v2"), "http://u:p@a:9093/y/api/v2/alerts");
});

test.run();
