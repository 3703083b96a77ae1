// Two rulers as an HA pair, a crash, a hung querier and reloads, with real processes: a Prometheus
// 2.42 scraping a target, our sidecar and querier in front of it, our rulers evaluating one rule file
// through that querier, a real Alertmanager 0.25.
//   - HA: rulers with --label replica="a" / "b" and --alert.label-drop=replica: a querier with
//     --query.replica-label replica returns one series per recorded series (two without dedup), and
//     Alertmanager holds one alert (one group) for an alert both rulers send;
//   - kill -9 of a ruler: every sample it had recorded before the kill is there after a restart on the
//     same --data-dir, served over its StoreAPI through the querier;
//   - a querier that accepts connections and never answers: with --query.timeout=1s every evaluation
//     fails after 1 s (counted in prometheus_rule_evaluation_failures_total, lastError says so) and the
//     group keeps its schedule (iterations every interval, none missed);
//   - reloads: POST /-/reload with a broken rule file answers 500 with the error and the old rules go
//     on; SIGHUP with a fixed file loads it.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { freePort, tempDir } from "../lib/proc.ts";
import {
  amAlerts, amGroups, eventually, metricValue, rawSamples, RestartablePrometheus, restartRuler, sleep, startAlertmanager, startQuerier,
  startRuler, startSidecar, Target, type Agent, type Alertmanager, type Ruler,
} from "../lib/rule-stack.ts";

const t = suite("ruler HA, crash, hung querier, reload");

const dir = tempDir("rule-ha-").path;
const ruleFile = join(dir, "rules.yml");
const RULES = `groups:
  - name: ha
    interval: 1s
    rules:
      - record: demo:temp:scaled
        expr: demo_temp * 2
      - alert: TempHigh
        expr: demo_temp > 50
        for: 2s
        labels: {severity: page}
        annotations: {summary: '{{ $labels.sensor }} at {{ $value }} in {{ $externalLabels.cluster }}'}
`;

let target: Target;
let am: Alertmanager;
let prom: RestartablePrometheus;
let sidecar: Agent, querier: Agent, haQuerier: Agent;
let rulerA: Ruler, rulerB: Ruler;
let hung: Server;
const hungSockets = new Set<Socket>();
let hungAccepted = 0;

t.before(async () => {
  target = new Target();
  target.set('demo_temp{sensor="i1"}', 20);
  target.set('demo_temp{sensor="i2"}', 70);
  await target.start();
  writeFileSync(ruleFile, RULES);
  am = await startAlertmanager();
  const cfg = join(dir, "prometheus.yml");
  writeFileSync(cfg, `global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: demo\n    static_configs: [{targets: ["127.0.0.1:${target.port}"]}]\n`);
  const promData = tempDir("rule-ha-prom-").path;
  prom = new RestartablePrometheus(await freePort(), promData, cfg);
  await prom.start();
  sidecar = await startSidecar(prom.url, promData);
  querier = await startQuerier([sidecar.url]);
  const common = [`--rule-file=${ruleFile}`, `--query=${querier.url}`, `--alertmanagers.url=${am.url}`, "--alert.label-drop=replica", '--label=cluster="c1"', "--resend-delay=1s", "--log.level=warn"];
  [rulerA, rulerB] = await Promise.all([
    startRuler([...common, '--label=replica="a"']),
    startRuler([...common, '--label=replica="b"']),
  ]);
  haQuerier = await startQuerier([rulerA.url, rulerB.url], ["--query.replica-label=replica"]);
  hung = createServer((s) => { hungAccepted++; hungSockets.add(s); s.on("error", () => {}); s.on("close", () => hungSockets.delete(s)); });
  await new Promise<void>((r) => hung.listen(0, "127.0.0.1", () => r()));
});

t.after(async () => {
  await Promise.all([rulerA?.proc.stop(), rulerB?.proc.stop(), haQuerier?.proc.stop(), querier?.proc.stop(), sidecar?.proc.stop()]);
  await Promise.all([prom?.stop(), am?.proc.stop(), target?.stop()]);
  for (const s of hungSockets) s.destroy();
  await new Promise<void>((r) => hung?.close(() => r()));
});

t("HA: the querier deduplicates the two rulers' recorded series by the replica label", async () => {
  const now = () => Date.now() / 1000;
  await eventually("both rulers recorded", async () => (await rawSamples(haQuerier.url, "demo:temp:scaled", 30, now(), { dedup: "false" })).length === 4);
  const raw = await rawSamples(haQuerier.url, "demo:temp:scaled", 30, now(), { dedup: "false" });
  assert.equal(raw.map((s) => `${s.metric.sensor} ${s.metric.replica} ${s.metric.cluster}`).sort(), ["i1 a c1", "i1 b c1", "i2 a c1", "i2 b c1"]);
  const dedup = await rawSamples(haQuerier.url, "demo:temp:scaled", 30, now());
  assert.equal(dedup.map((s) => s.metric).sort((x, y) => (x.sensor! < y.sensor! ? -1 : 1)), [
    { __name__: "demo:temp:scaled", cluster: "c1", job: "demo", instance: `127.0.0.1:${target.port}`, sensor: "i1" },
    { __name__: "demo:temp:scaled", cluster: "c1", job: "demo", instance: `127.0.0.1:${target.port}`, sensor: "i2" },
  ]);
  for (const s of dedup) for (const [, v] of s.values) assert.is(Number(v), s.metric.sensor === "i1" ? 40 : 140);
});

t("HA: Alertmanager holds one alert in one group for what both rulers send", async () => {
  const alerts = await eventually("the alert in Alertmanager", async () => {
    const a = (await amAlerts(am.url)).filter((x) => x.labels.alertname === "TempHigh");
    return a.length > 0 ? a : null;
  });
  // Both rulers sent it (their sender metrics say so) ...
  await eventually("both rulers sent", async () => (await metricValue(rulerA.url, "thanos_alert_sender_alerts_sent_total") ?? 0) > 0 && (await metricValue(rulerB.url, "thanos_alert_sender_alerts_sent_total") ?? 0) > 0);
  // ... and Alertmanager has one alert: the replica label was dropped, the external labels added.
  assert.is(alerts.length, 1);
  assert.equal(alerts[0]!.labels, { alertname: "TempHigh", cluster: "c1", instance: `127.0.0.1:${target.port}`, job: "demo", sensor: "i2", severity: "page" });
  assert.equal(alerts[0]!.annotations, { summary: "i2 at 70 in c1" });
  const groups = (await amGroups(am.url)).filter((g) => g.alerts.some((a) => a.labels.alertname === "TempHigh"));
  assert.is(groups.length, 1);
  assert.is(groups[0]!.alerts.length, 1);
});

t("kill -9: every sample recorded before the kill is served after a restart on the same data dir", async () => {
  const sel = 'demo:temp:scaled{replica="a"}';
  await sleep(3000);
  const before = await rawSamples(haQuerier.url, sel, 600, Date.now() / 1000, { dedup: "false" });
  const n = before.reduce((a, s) => a + s.values.length, 0);
  assert.ok(n >= 10, `only ${n} samples before the kill`);
  rulerA.proc.child.kill("SIGKILL");
  await rulerA.proc.exited;
  rulerA = await restartRuler(rulerA);
  const after = await eventually("ruler a serves again", async () => {
    const r = await rawSamples(haQuerier.url, sel, 600, Date.now() / 1000, { dedup: "false" });
    return r.length === before.length ? r : null;
  });
  for (const s of before) {
    const got = after.find((x) => x.metric.sensor === s.metric.sensor)!;
    const have = new Set(got.values.map(([ts, v]) => `${ts} ${v}`));
    for (const [ts, v] of s.values) assert.ok(have.has(`${ts} ${v}`), `sample ${ts} ${v} of ${s.metric.sensor} lost`);
  }
  // And it goes on recording after the restart.
  const last = Math.max(...before.flatMap((s) => s.values.map(([ts]) => ts)));
  await eventually("new samples after the restart", async () => (await rawSamples(haQuerier.url, sel, 60, Date.now() / 1000, { dedup: "false" }))
    .some((s) => s.values.some(([ts]) => ts > last + 2)));
});

t("a hung querier fails each evaluation at --query.timeout, counted, and the group keeps its schedule", async () => {
  const port = (hung.address() as { port: number }).port;
  const f = join(dir, "hung.yml");
  writeFileSync(f, "groups:\n  - name: hung\n    interval: 3s\n    rules:\n      - record: a\n        expr: sum(up)\n      - alert: B\n        expr: up == 0\n");
  const r = await startRuler([`--rule-file=${f}`, `--query=http://127.0.0.1:${port}`, "--query.timeout=1s", "--log.level=error"]);
  try {
    const group = { rule_group: `${f};hung` };
    await eventually("first failures", async () => (await metricValue(r.url, "prometheus_rule_evaluation_failures_total", group) ?? 0) >= 2, 15_000);
    const it0 = (await metricValue(r.url, "prometheus_rule_group_iterations_total", group))!;
    const f0 = (await metricValue(r.url, "prometheus_rule_evaluation_failures_total", group))!;
    await sleep(12_000);
    const it1 = (await metricValue(r.url, "prometheus_rule_group_iterations_total", group))!;
    const f1 = (await metricValue(r.url, "prometheus_rule_evaluation_failures_total", group))!;
    // Two rules of at most 1 s each in a 3 s interval: every tick runs, every evaluation fails.
    assert.ok(it1 - it0 >= 3 && it1 - it0 <= 5, `iterations went from ${it0} to ${it1} in 12 s`);
    assert.is(f1 - f0, 2 * (it1 - it0));
    assert.is(await metricValue(r.url, "prometheus_rule_group_iterations_missed_total", group), 0);
    const rules = await (await fetch(`${r.url}/api/v1/rules`)).json() as { data: { groups: { rules: { health: string; lastError: string }[] }[] } };
    for (const x of rules.data.groups[0]!.rules) {
      assert.is(x.health, "err");
      assert.is(x.lastError, "query timed out after 1s");
    }
    assert.ok(hungAccepted >= 1, "the ruler did connect to the hung querier");
  } finally {
    await r.proc.stop();
  }
});

t("reload: a broken file answers 500 and the old rules go on; SIGHUP loads the fixed file", async () => {
  const f = join(dir, "reload.yml");
  writeFileSync(f, "groups:\n  - name: r\n    interval: 1s\n    rules:\n      - record: one\n        expr: vector(1)\n");
  const r = await startRuler([`--rule-file=${f}`, `--query=${querier.url}`, "--log.level=error"]);
  try {
    const names = async () => ((await (await fetch(`${r.url}/api/v1/rules`)).json()) as { data: { groups: { rules: { name: string }[] }[] } }).data.groups.flatMap((g) => g.rules.map((x) => x.name));
    assert.equal(await names(), ["one"]);
    writeFileSync(f, "groups:\n  - name: r\n    rules:\n      - record: two\n        expr: sum(\n");
    const res = await fetch(`${r.url}/-/reload`, { method: "POST" });
    assert.is(res.status, 500);
    const body = await res.text();
    assert.match(body, /reload\.yml/);
    assert.match(body, /parse error|unexpected/);
    assert.equal(await names(), ["one"]);
    assert.is(await metricValue(r.url, "thanos_rule_config_last_reload_successful"), 0);
    const evals = (await metricValue(r.url, "prometheus_rule_evaluations_total"))!;
    await sleep(2500);
    assert.ok((await metricValue(r.url, "prometheus_rule_evaluations_total"))! > evals, "the old rules still run");
    writeFileSync(f, "groups:\n  - name: r\n    interval: 1s\n    rules:\n      - record: two\n        expr: vector(2)\n");
    r.proc.child.kill("SIGHUP");
    await eventually("SIGHUP reload", async () => JSON.stringify(await names()) === '["two"]', 10_000);
    assert.is(await metricValue(r.url, "thanos_rule_config_last_reload_successful"), 1);
    assert.is((await fetch(`${r.url}/-/reload`, { method: "POST" })).status, 200);
  } finally {
    await r.proc.stop();
  }
});

t.run();
