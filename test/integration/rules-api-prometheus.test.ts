// /api/v1/rules and /api/v1/alerts data against a real Prometheus 2.42 evaluating the same rule file:
// same keys in the same order, same values, except the fields that depend on when each evaluated
// (lastEvaluation, evaluationTime, activeAt: checked for Go's time format only) and the
// partialResponseStrategy Thanos adds. Also: ALERTS samples Prometheus wrote sit on the slots our
// evalTimestamp gives for that file and group (the phase offset from the same path).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../lib/proc.ts";
import { promApi, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { Engine } from "../../shared/promql/engine.ts";
import { groupOffset } from "../../shared/rules/group.ts";
import { Manager } from "../../shared/rules/manager.ts";
import { engineQueryFunc } from "../../shared/rules/query.ts";
import { TestStorage } from "../../shared/promqltest/index.ts";
import { liveQuerier } from "../../shared/rules/unittest.ts";

const RULES = `
groups:
  - name: api-shape
    interval: 1s
    rules:
      - alert: Firing
        expr: vector(42) * on() group_left() label_replace(vector(1), "instance", "host:1", "", "")
        labels: {severity: page, value_label: "{{ $value }}"}
        annotations: {summary: "value {{ $value }}", description: "on {{ $labels.instance }}"}
      - alert: Pending
        expr: vector(0.000123)
        for: 1h
        keep_firing_for: 5m
      - alert: Inactive
        expr: vector(1) == 2
      - record: recorded:plain
        expr: vector(3)
      - record: recorded:labelled
        expr: vector(3)
        labels: {team: infra}
      - record: recorded:broken
        expr: label_replace(vector(1), "a", "$1", "b", "(")
  - name: second
    interval: 2s
    limit: 10
    rules:
      - record: second:one
        expr: vector(1)
`;

let prom: Prometheus | null = null;
let rulesFile = "";
let dir: { path: string; remove(): void } | null = null;

test.before(async () => {
  dir = tempDir("rules-api-");
  rulesFile = join(dir.path, "rules.yml");
  writeFileSync(rulesFile, RULES);
  prom = await startPrometheus({ config: `global:\n  evaluation_interval: 1s\nrule_files:\n  - ${rulesFile}\n` });
});

test.after(async () => {
  await prom?.stop();
  dir?.remove();
});

const GO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/;

/** Drop what depends on evaluation timing (after checking its format) and Thanos' extra field. */
function strip(v: unknown, path = ""): unknown {
  if (Array.isArray(v)) return v.map((x, i) => strip(x, `${path}[${i}]`));
  if (v === null || typeof v !== "object") return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === "lastEvaluation" || k === "activeAt") {
      assert.match(x as string, GO_TIME, `${path}.${k} = ${x}`);
      continue;
    }
    if (k === "evaluationTime") {
      assert.type(x, "number");
      continue;
    }
    if (k === "partialResponseStrategy") continue;
    out[k] = strip(x, `${path}.${k}`);
  }
  return out;
}

async function ours(): Promise<Manager> {
  const storage = new TestStorage();
  const mgr = new Manager({ queryFunc: engineQueryFunc(new Engine(), liveQuerier(storage)), appendable: storage, queryable: liveQuerier(storage), thanos: false });
  await mgr.update(1000, [{ file: rulesFile, content: RULES }]);
  const t = Date.now();
  for (let i = 0; i < 3; i++) for (const g of mgr.ruleGroups()) await g.eval(t + i * 1000);
  for (const g of mgr.ruleGroups()) await g.restoreForState(t + 2500);
  for (const g of mgr.ruleGroups()) await g.eval(t + 3000);
  return mgr;
}

test("/api/v1/rules and /api/v1/alerts: the same data as Prometheus 2.42's", async () => {
  // Wait until Prometheus evaluated every group a few times.
  let rules: any;
  for (let i = 0; i < 100; i++) {
    rules = await promApi(prom!.url, "/api/v1/rules");
    const evaluated = rules.data.groups.every((g: any) => g.rules.every((r: any) => r.health !== "unknown"));
    if (evaluated && i > 30) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const mgr = await ours();
  const want = strip(rules.data);
  const got = strip(JSON.parse(JSON.stringify(mgr.rulesJSON())));
  assert.equal(JSON.stringify(got, null, 1), JSON.stringify(want, null, 1));

  const alerts = await promApi(prom!.url, "/api/v1/alerts");
  const wantAlerts = (strip(alerts.data) as { alerts: { labels: Record<string, string> }[] }).alerts.sort((a, b) => JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1);
  const gotAlerts = (strip(JSON.parse(JSON.stringify(mgr.alertsJSON()))) as { alerts: { labels: Record<string, string> }[] }).alerts.sort((a, b) => JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1);
  assert.equal(JSON.stringify(gotAlerts, null, 1), JSON.stringify(wantAlerts, null, 1));
  // type filter as Prometheus
  const rec = await promApi(prom!.url, "/api/v1/rules", { type: "record" });
  assert.equal(JSON.stringify(strip(JSON.parse(JSON.stringify(mgr.rulesJSON({ type: "record" }))))), JSON.stringify(strip(rec.data)));
});

test("phase offset: Prometheus wrote its samples on the slots our evalTimestamp gives", async () => {
  const r = await promApi(prom!.url, "/api/v1/query", { query: "timestamp(recorded:plain) * 1000", time: String(Date.now() / 1000) });
  assert.is(r.status, "success");
  const ts = Math.round(Number(r.data.result[0].value[1]));
  assert.is(ts % 1000, groupOffset(rulesFile, "api-shape", 1000));
  const r2 = await promApi(prom!.url, "/api/v1/query", { query: "timestamp(second:one) * 1000", time: String(Date.now() / 1000) });
  assert.is(Math.round(Number(r2.data.result[0].value[1])) % 2000, groupOffset(rulesFile, "second", 2000));
});

test.run();
