// Alerts from the rules engine reach a real Alertmanager 0.25 (read back with GET /api/v2/alerts):
//  (1) AlertSender's v2 payload is accepted as is: labels, annotations, startsAt, endsAt and
//      generatorURL come back unchanged; a resolved alert (endsAt in the past) leaves the active list;
//  (2) end to end: a Manager evaluating a rule every second, notify -> AlertQueue (external labels
//      overwriting, --alert.label-drop) -> send loop -> two Alertmanagers, one of them down: the alert
//      arrives with the right labels, and evaluation never waits for the dead one.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, requireBinary, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { AlertQueue, AlertSender, runSendLoop, toNotifierAlerts, type FetchLike } from "../../shared/alert/notifier.ts";
import type { Labels } from "../../shared/labels/labels.ts";
import { Engine } from "../../shared/promql/engine.ts";
import { Manager } from "../../shared/rules/manager.ts";
import { engineQueryFunc } from "../../shared/rules/query.ts";
import { TestStorage } from "../../shared/promqltest/index.ts";
import { liveQuerier } from "../../shared/rules/unittest.ts";

const lbl = (o: Record<string, string>): Labels => Object.entries(o).map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : 1));
const fetchLike: FetchLike = (url, init) => fetch(url, init);

let am: { url: string; proc: Proc; dir: { remove(): void } } | null = null;

async function startAlertmanager(): Promise<{ url: string; proc: Proc; dir: { remove(): void } }> {
  const dir = tempDir("am-");
  const port = await freePort();
  writeFileSync(join(dir.path, "am.yml"), "route:\n  receiver: 'null'\n  group_wait: 1h\nreceivers:\n  - name: 'null'\n");
  const proc = startProcess(requireBinary("prometheus-alertmanager"), [
    `--config.file=${join(dir.path, "am.yml")}`, `--storage.path=${dir.path}`, `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=", "--log.level=warn",
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 30_000);
  return { url, proc, dir };
}

async function amAlerts(url: string): Promise<any[]> {
  const r = await fetch(`${url}/api/v2/alerts`);
  assert.is(r.status, 200);
  return (await r.json()) as any[];
}

test.before(async () => { am = await startAlertmanager(); });
test.after(async () => { await am?.proc.stop(); am?.dir.remove(); });

test("our v2 payload is read by Alertmanager exactly as sent; resolved alerts leave the active list", async () => {
  const s = new AlertSender(() => [{ url: am!.url }], fetchLike);
  const now = Date.now();
  const startsAt = Math.floor(now / 1000) * 1000 - 60_000 + 123;
  const endsAt = startsAt + 4 * 60_000;
  await s.send([{
    labels: lbl({ alertname: "PayloadTest", instance: "a:80", "odd": "ü <&> \"q\"" }),
    annotations: lbl({ summary: "it is down", empty: "" }),
    startsAt, endsAt, generatorURL: "http://q:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
  }]);
  assert.equal(s.metrics.sent.get(new URL(am!.url).host), 1);
  const got = (await amAlerts(am!.url)).filter((a) => a.labels.alertname === "PayloadTest");
  assert.is(got.length, 1);
  const a = got[0];
  assert.equal(a.labels, { alertname: "PayloadTest", instance: "a:80", odd: "ü <&> \"q\"" });
  assert.equal(a.annotations, { summary: "it is down", empty: "" });
  assert.is(Date.parse(a.startsAt), startsAt);
  assert.is(Date.parse(a.endsAt), endsAt);
  assert.is(a.generatorURL, "http://q:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1");
  assert.is(a.status.state, "active");

  await s.send([{ labels: lbl({ alertname: "PayloadTest", instance: "a:80", odd: "ü <&> \"q\"" }), annotations: [], startsAt, endsAt: now - 1000, generatorURL: "" }]);
  assert.equal((await amAlerts(am!.url)).filter((a) => a.labels.alertname === "PayloadTest"), []);
});

test("end to end: rules manager -> queue -> two Alertmanagers (one down) with Thanos' label handling", async () => {
  const storage = new TestStorage();
  const deadPort = await freePort();
  const queue = new AlertQueue({ externalLabels: lbl({ cluster: "eu-1", replica: "r0" }), dropLabels: ["replica"] });
  const sender = new AlertSender(() => [{ url: `http://127.0.0.1:${deadPort}`, timeoutMs: 500 }, { url: am!.url }], fetchLike);
  const mgr = new Manager({
    queryFunc: engineQueryFunc(new Engine(), liveQuerier(storage)),
    appendable: storage,
    queryable: liveQuerier(storage),
    notify: (expr, alerts) => queue.push(toNotifierAlerts(alerts, expr, { alertQueryURL: "http://thanos-query:9090" })),
    externalLabels: lbl({ cluster: "eu-1", replica: "r0" }),
    resendDelay: 1000,
  });
  await mgr.update(1000, [{ file: "e2e.yml", content: `
groups:
  - name: e2e
    interval: 1s
    rules:
      - alert: EndToEnd
        expr: vector(42)
        labels: {severity: page, cluster: overwritten-by-external}
        annotations: {summary: "value {{ $value }} in {{ $externalLabels.cluster }}"}
` }]);
  const stop = new AbortController();
  const loop = runSendLoop(queue, sender, stop.signal);
  mgr.start();
  try {
    let got: any[] = [];
    for (let i = 0; i < 100 && got.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      got = (await amAlerts(am!.url)).filter((a) => a.labels.alertname === "EndToEnd");
    }
    assert.is(got.length, 1, "the alert reached Alertmanager");
    assert.equal(got[0].labels, { alertname: "EndToEnd", cluster: "eu-1", severity: "page" });
    assert.equal(got[0].annotations, { summary: "value 42 in eu-1" });
    assert.is(got[0].generatorURL, "http://thanos-query:9090/graph?g0.expr=vector%2842%29&g0.tab=1");
    const g = mgr.ruleGroups()[0]!;
    const evals = g.metrics.iterationsScheduled;
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(g.metrics.iterationsScheduled >= evals + 2, "evaluation went on while one Alertmanager was down");
    assert.is(g.metrics.iterationsMissed, 0);
    assert.ok((sender.metrics.errors.get(`127.0.0.1:${deadPort}`) ?? 0) >= 1);
    assert.ok(sender.metrics.dropped === 0);
  } finally {
    await mgr.stop();
    stop.abort();
    await loop;
  }
});

test.run();
