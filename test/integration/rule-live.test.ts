// The ruler live against the real thing. A Prometheus 2.42 scrapes a target the test drives and
// evaluates a rule file; our ruler evaluates the SAME file (same absolute path, so the same phase
// offsets) through our querier over that Prometheus' sidecar. Prometheus sends its alerts to one
// Alertmanager 0.25, our ruler to another. Then:
//   1. every sample our ruler recorded equals Prometheus' instant query of the rule's expression at
//      that timestamp (and Prometheus recorded at the same timestamps);
//   2. ALERTS and ALERTS_FOR_STATE are sample for sample the same in both (pending -> firing ->
//      resolved at the same evaluation steps), templated labels included;
//   3. both Alertmanagers hold the same alerts: labels, annotations, startsAt, generatorURL;
//   4. restart mid-`for`: Prometheus and our ruler are both stopped between the same two evaluations
//      of a group with a 40 s `for` and started again together; after each restores its `for` state
//      from its own TSDB, the alert fires at the same evaluation step in both, with the same
//      ALERTS_FOR_STATE values.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, tempDir } from "../lib/proc.ts";
import {
  amAlerts, eventually, instantQuery, rawSamples, rawSamplesComplete, RestartablePrometheus, restartRuler, sleep, startAlertmanager, startQuerier,
  startRuler, startSidecar, Target, type Agent, type Alertmanager, type RawSeries, type Ruler,
} from "../lib/rule-stack.ts";
import { evalTimestamp } from "../../shared/rules/group.ts";

const t = suite("ruler live vs Prometheus 2.42 + Alertmanager 0.25");

const EXTERNAL_URL = "http://prometheus.example:9090";
const dir = tempDir("rule-live-").path;
const ruleFile = join(dir, "rules.yml");
const RULES = `groups:
  - name: live
    interval: 2s
    rules:
      - record: demo:temp:max
        expr: max by (job) (demo_temp)
      - record: demo:temp:scaled
        expr: demo_temp * 2
        labels: {source: rule}
      - record: demo:requests:rate10s
        expr: rate(demo_requests_total[10s])
      - alert: TempHigh
        expr: demo_temp > 50
        for: 6s
        labels:
          severity: '{{ if gt $value 80.0 }}critical{{ else }}warning{{ end }}'
          team: ops
        annotations:
          summary: '{{ $labels.sensor }} is at {{ $value | humanize }} degrees'
          description: '{{ printf "%.2f" $value }} on {{ $labels.job }} ({{ len $labels }} labels) {{ $externalURL }}'
      - alert: Always
        expr: vector(1)
        labels: {severity: info}
  - name: restart
    interval: 4s
    rules:
      - alert: LongFor
        expr: demo_gate > 0
        for: 40s
        annotations: {summary: 'gate {{ $value }}'}
`;

let target: Target;
let am1: Alertmanager, am2: Alertmanager;
let prom: RestartablePrometheus;
let sidecar: Agent, querier: Agent, rulerQuerier: Agent;
let ruler: Ruler;
let counterTimer: ReturnType<typeof setInterval>;

/** The next evaluation slot of a group after `now` (ms), from the same phase offset both compute. */
function nextSlot(group: string, intervalMs: number, now = Date.now()): number {
  return evalTimestamp(ruleFile, group, intervalMs, now) + intervalMs;
}

/** Wait until `ms` after the group's next slot (so a change lands well between two evaluations). */
async function afterSlot(group: string, intervalMs: number, ms: number): Promise<number> {
  const slot = nextSlot(group, intervalMs);
  await sleep(slot + ms - Date.now());
  return slot;
}

t.before(async () => {
  target = new Target();
  for (const s of ["i1", "i2", "i3"]) target.set(`demo_temp{sensor="${s}"}`, 20);
  target.set("demo_gate", 0);
  let c = 0;
  counterTimer = setInterval(() => { c += 0.7; target.set("demo_requests_total", Math.round(c * 10) / 10); }, 100);
  await target.start();
  writeFileSync(ruleFile, RULES);
  [am1, am2] = await Promise.all([startAlertmanager(), startAlertmanager()]);
  const cfg = join(dir, "prometheus.yml");
  writeFileSync(cfg, `global: {scrape_interval: 1s, evaluation_interval: 2s}
rule_files: [${JSON.stringify(ruleFile)}]
alerting:
  alertmanagers: [{static_configs: [{targets: ["${new URL(am2.url).host}"]}]}]
scrape_configs:
  - job_name: demo
    static_configs: [{targets: ["127.0.0.1:${target.port}"]}]
`);
  const promData = tempDir("rule-live-prom-").path;
  prom = new RestartablePrometheus(await freePort(), promData, cfg, [`--web.external-url=${EXTERNAL_URL}`, "--rules.alert.for-grace-period=4s"]);
  await prom.start();
  sidecar = await startSidecar(prom.url, promData);
  querier = await startQuerier([sidecar.url]);
  ruler = await startRuler([
    `--rule-file=${ruleFile}`, `--query=${querier.url}`, `--alertmanagers.url=${am1.url}`, `--alert.query-url=${EXTERNAL_URL}`,
    "--eval-interval=2s", "--for-grace-period=4s", "--log.level=warn",
  ]);
  rulerQuerier = await startQuerier([ruler.url]);
});

t.after(async () => {
  clearInterval(counterTimer);
  await Promise.all([ruler?.proc.stop(), rulerQuerier?.proc.stop(), querier?.proc.stop(), sidecar?.proc.stop()]);
  await Promise.all([prom?.stop(), am1?.proc.stop(), am2?.proc.stop(), target?.stop()]);
});

const key = (m: Record<string, string>) => JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const sample = (s: RawSeries) => s.values.map(([ts, v]) => `${key(s.metric)} ${Math.round(ts * 1000)} ${v}`);

let firstOurEval = 0;

t("alerts go pending, fire and resolve; our ruler records and alerts as Prometheus does", async () => {
  // Let our ruler get past its restore (ALERTS are written from the third evaluation on).
  firstOurEval = await eventually("our first recorded sample", async () => {
    const r = await rawSamples(rulerQuerier.url, "demo:temp:max", 60, Date.now() / 1000);
    return r[0]?.values[0]?.[0] !== undefined ? Math.round(r[0].values[0][0] * 1000) : 0;
  });
  await sleep(firstOurEval + 3 * 2000 - Date.now());
  await afterSlot("live", 2000, 500);
  target.set('demo_temp{sensor="i1"}', 60);
  target.set('demo_temp{sensor="i2"}', 90.25);
  // pending at the next slot, firing 6 s later (4 evaluations in all), then a little more.
  await sleep(10_500);
  await afterSlot("live", 2000, 500);
  target.set('demo_temp{sensor="i1"}', 20);
  await sleep(6_000);
});

t("every sample our ruler recorded equals Prometheus' instant query of the expression at its time", async () => {
  const now = Date.now() / 1000;
  const rules: { record: string; expr: string; labels: Record<string, string> }[] = [
    { record: "demo:temp:max", expr: "max by (job) (demo_temp)", labels: {} },
    { record: "demo:temp:scaled", expr: "demo_temp * 2", labels: { source: "rule" } },
    { record: "demo:requests:rate10s", expr: "rate(demo_requests_total[10s])", labels: {} },
  ];
  let compared = 0;
  for (const r of rules) {
    // Retried while the querier cannot read the ruler (a partial answer throws), so a store that is
    // briefly slow to answer on a loaded machine is not taken for a ruler that recorded nothing.
    const ours = await eventually(`${r.record}: recorded samples through the querier`, async () => {
      const got = await rawSamplesComplete(rulerQuerier.url, r.record, 300, now);
      return got.length > 0 ? got : null;
    }, 15_000);
    assert.ok(ours.length > 0, `${r.record}: nothing recorded`);
    const byTs = new Map<number, Map<string, string>>();
    for (const s of ours) {
      for (const [ts, v] of s.values) {
        const t = Math.round(ts * 1000);
        if (!byTs.has(t)) byTs.set(t, new Map());
        const m = { ...s.metric };
        delete m.__name__;
        for (const k of Object.keys(r.labels)) delete m[k];
        byTs.get(t)!.set(key(m), v);
      }
    }
    for (const [ts, got] of byTs) {
      const want = new Map((await instantQuery(prom.url, r.expr, ts / 1000)).map((x) => [key(x.metric), x.value[1]]));
      assert.equal([...got].sort(), [...want].sort(), `${r.record} at ${new Date(ts).toISOString()}`);
      compared += got.size;
    }
    // Prometheus recorded the same rule at the same timestamps (the same phase offset).
    const promTs = new Set((await rawSamples(prom.url, r.record, 300, now)).flatMap((s) => s.values.map(([x]) => Math.round(x * 1000))));
    for (const ts of byTs.keys()) assert.ok(promTs.has(ts), `${r.record}: Prometheus has no sample at our ${ts}`);
  }
  assert.ok(compared > 50, `only ${compared} samples compared`);
});

t("ALERTS and ALERTS_FOR_STATE: the same samples at the same steps in both", async () => {
  const now = Date.now() / 1000;
  for (const name of ["ALERTS", "ALERTS_FOR_STATE"]) {
    const ours = (await rawSamples(rulerQuerier.url, name, 300, now)).flatMap(sample);
    const theirs = (await rawSamples(prom.url, name, 300, now)).flatMap(sample);
    const tsOf = (s: string) => Number(s.split(" ").at(-2));
    const from = Math.min(...ours.map(tsOf));
    const to = Math.min(Math.max(...ours.map(tsOf)), Math.max(...theirs.map(tsOf)));
    // Always's ALERTS_FOR_STATE holds when each process started: not comparable.
    const inWin = (xs: string[]) => xs.filter((s) => tsOf(s) >= from && tsOf(s) <= to && !(name === "ALERTS_FOR_STATE" && s.includes('"Always"'))).sort();
    const a = inWin(ours), b = inWin(theirs);
    assert.ok(a.length > 10, `${name}: only ${a.length} samples`);
    assert.equal(a, b, name);
  }
  // The transitions did happen: pending and firing for both sensors, i2 critical, i1 resolved.
  const alerts = await rawSamples(rulerQuerier.url, 'ALERTS{alertname="TempHigh"}', 300, now);
  const states = new Set(alerts.map((s) => `${s.metric.sensor} ${s.metric.alertstate} ${s.metric.severity}`));
  for (const x of ["i1 pending warning", "i1 firing warning", "i2 pending critical", "i2 firing critical"]) assert.ok(states.has(x), `missing ${x} in ${[...states]}`);
  const i1 = alerts.filter((s) => s.metric.sensor === "i1").flatMap((s) => s.values.map(([x]) => x));
  const i2 = alerts.filter((s) => s.metric.sensor === "i2").flatMap((s) => s.values.map(([x]) => x));
  assert.ok(Math.max(...i1) < Math.max(...i2) - 4, "i1 resolved while i2 kept firing");
});

t("both Alertmanagers hold the same alerts: labels, annotations, startsAt, generatorURL", async () => {
  // Prometheus sends its first notifications before its Alertmanager discovery has run, so the
  // "Always" alert of its first evaluation reaches Alertmanager only at the resend a minute later:
  // compare the TempHigh alerts, which fired while both were up.
  const norm = (as: Awaited<ReturnType<typeof amAlerts>>) => as
    .filter((a) => a.labels.alertname === "TempHigh")
    .map((a) => ({ labels: a.labels, annotations: a.annotations, generatorURL: a.generatorURL, startsAt: a.startsAt }))
    .sort((x, y) => (key(x.labels) < key(y.labels) ? -1 : 1));
  const all = await amAlerts(am1.url);
  assert.equal(all.map((a) => a.labels.sensor ?? a.labels.alertname).sort(), ["Always", "i2"], "i1 resolved, i2 firing, Always firing");
  const always = all.find((a) => a.labels.alertname === "Always")!;
  assert.equal(always.labels, { alertname: "Always", severity: "info" });
  assert.is(always.generatorURL, `${EXTERNAL_URL}/graph?g0.expr=vector%281%29&g0.tab=1`);
  const ours = norm(all);
  const theirs = norm(await amAlerts(am2.url));
  assert.equal(ours, theirs);
  const i2 = ours.find((a) => a.labels.sensor === "i2")!;
  assert.equal(i2.labels, { alertname: "TempHigh", job: "demo", instance: i2.labels.instance!, sensor: "i2", severity: "critical", team: "ops" });
  assert.is(i2.annotations.summary, "i2 is at 90.25 degrees");
  assert.is(i2.annotations.description, `90.25 on demo (4 labels) ${EXTERNAL_URL}`);
  assert.is(i2.generatorURL, `${EXTERNAL_URL}/graph?g0.expr=demo_temp+%3E+50&g0.tab=1`);
});

t("restart mid-for: stopped and started with Prometheus, the alert fires at the same step", async () => {
  const G = 4000;
  await afterSlot("restart", G, 500);
  target.set("demo_gate", 1);
  // Pending from the next slot on; let both write ALERTS_FOR_STATE for 3 evaluations, then stop both
  // half-way between two evaluations.
  const s0 = nextSlot("restart", G);
  await sleep(s0 + 2 * G + G / 2 - Date.now());
  await Promise.all([ruler.proc.stop(), prom.stop()]);
  // Down for 3 slots; start again just after a slot, so both evaluate first at the same next slot.
  await sleep(s0 + 5 * G + 200 - Date.now());
  await Promise.all([prom.start(), (async () => { ruler = await restartRuler(ruler); })()]);
  assert.ok(Date.now() < s0 + 6 * G, "both up before the next slot");
  // Restored at the second evaluation after the restart; the alert was pending 8 s of its 40 s: it
  // fires 32 s after the restore, at the first slot from then on (see the file comment).
  const firing = async (base: string) => {
    const r = await rawSamples(base, 'ALERTS{alertname="LongFor",alertstate="firing"}', 120, Date.now() / 1000);
    return r[0]?.values[0]?.[0];
  };
  const ourFire = await eventually("our LongFor firing", () => firing(rulerQuerier.url), 60_000, 500);
  const promFire = await eventually("Prometheus' LongFor firing", () => firing(prom.url), 20_000, 500);
  assert.is(ourFire, promFire, "fired at the same step");
  assert.ok(ourFire * 1000 >= s0 + 5 * G + 40_000 - 1, `fired at ${ourFire * 1000 - s0} ms after first pending: the downtime was not counted`);
  const fs = async (base: string) => (await rawSamples(base, 'ALERTS_FOR_STATE{alertname="LongFor"}', 120, ourFire)).flatMap(sample).filter((s) => Number(s.split(" ").at(-2)) > s0 + 5 * G);
  assert.equal(await fs(rulerQuerier.url), await fs(prom.url), "ALERTS_FOR_STATE after the restore");
});

t.run();
