// `tools tsdb create-blocks-from rules` against `promtool tsdb create-blocks-from rules` 2.42: both
// query the same real Prometheus (serving 6 h of backfilled data) with the same rule files from the
// same directory (the phase offset comes from the file path), and `promtool tsdb dump` of the two
// output directories must be identical; both write one block per rule and 2 h window.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { tempDir } from "../lib/proc.ts";
import { promtool, promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";

const run = promisify(execFile);
const ROOT = process.cwd();
const BUN = join(ROOT, "node_modules/.bin/bun");

// 6 h of data at 30 s from a start that is not block-aligned: counters (with a reset), gauges with NaN.
const T0 = 1_700_003_000; // s
const STEPS = 720;

function openMetrics(): string {
  const out: string[] = ["# TYPE requests counter"];
  for (let k = 0; k < 6; k++) {
    let c = 0;
    for (let i = 0; i < STEPS; i++) {
      if (i === 300 + k * 10) c = 0;
      c += (i * 7 + k * 13) % 17;
      out.push(`requests_total{job="${k % 2 ? "api" : "web"}",instance="i${k}",code="${k % 3 === 0 ? 500 : 200}"} ${c} ${T0 + i * 30}`);
    }
  }
  out.push("# TYPE temperature gauge");
  for (let k = 0; k < 3; k++) {
    for (let i = 0; i < STEPS; i++) {
      if (k === 2 && i > 200 && i < 260) continue; // a gap
      const v = k === 1 && i % 50 === 0 ? "NaN" : String(Math.round(Math.sin(i / 20 + k) * 1000) / 10);
      out.push(`temperature{room="r${k}"} ${v} ${T0 + i * 30}`);
    }
  }
  out.push("# EOF");
  return out.join("\n") + "\n";
}

const RULES = `
groups:
  - name: rates
    interval: 1m
    rules:
      - record: job:requests:rate5m
        expr: sum by (job) (rate(requests_total[5m]))
      - record: job:errors:ratio
        expr: sum by (job) (rate(requests_total{code="500"}[5m])) / sum by (job) (rate(requests_total[5m]))
        labels: {team: infra}
  - name: gauges
    interval: 30s
    rules:
      - record: room:temperature:max10m
        expr: max_over_time(temperature[10m])
        labels: {source: backfill}
      - record: r0:temperature
        expr: temperature{room="r0"}
        labels: {room: ""}
      - record: temperature:count
        expr: count(temperature)
  - name: default-interval
    rules:
      - record: instance:requests:increase
        expr: increase(requests_total[2m])
`;

let prom: Prometheus | null = null;
let dir: { path: string; remove(): void } | null = null;

test.before(async () => {
  dir = tempDir("rules-backfill-");
  const data = join(dir.path, "prom");
  mkdirSync(data);
  await promtoolBackfill(openMetrics(), data);
  prom = await startPrometheus({ dataDir: data });
  writeFileSync(join(dir.path, "backfill.rules.yml"), RULES);
  writeFileSync(join(dir.path, "alerts.rules.yml"), "groups:\n  - name: a\n    rules:\n      - alert: HighTemp\n        expr: temperature > 50\n");
});

test.after(async () => {
  await prom?.stop();
  dir?.remove();
});

async function both(args: string[], files: string[]): Promise<{ promtool: string; ours: string; promtoolBlocks: number; ourBlocks: number }> {
  const d1 = join(dir!.path, `out-promtool-${args.join("").replace(/\W/g, "")}`), d2 = join(dir!.path, `out-ours-${args.join("").replace(/\W/g, "")}`);
  const common = ["--url", prom!.url, ...args];
  await run("promtool", ["tsdb", "create-blocks-from", "rules", ...common, "--output-dir", d1, ...files], { cwd: dir!.path, maxBuffer: 1 << 26 });
  const o = await run(BUN, [join(ROOT, "agent/main.ts"), "tools", "tsdb", "create-blocks-from", "rules", ...common, "--output-dir", d2, ...files], { cwd: dir!.path, maxBuffer: 1 << 26 });
  void o;
  // promtool tsdb dump opens the directory as a read-only TSDB, which wants a wal/ directory.
  const dump = async (d: string) => {
    mkdirSync(join(d, "wal"), { recursive: true });
    return (await promtool(["tsdb", "dump", d])).stdout;
  };
  return {
    promtool: await dump(d1), ours: await dump(d2),
    promtoolBlocks: readdirSync(d1).filter((x) => /^[0-9A-Z]{26}$/.test(x)).length,
    ourBlocks: readdirSync(d2).filter((x) => /^[0-9A-Z]{26}$/.test(x)).length,
  };
}

test("recording rules over 6 h: promtool tsdb dump of both outputs is identical", async () => {
  const r = await both(["--start", String(T0 + 17), "--end", String(T0 + STEPS * 30 + 600)], ["backfill.rules.yml"]);
  const lines = r.promtool.split("\n").filter(Boolean);
  assert.ok(lines.length > 2000, `only ${lines.length} samples`);
  assert.ok(r.promtool.includes('{__name__="job:errors:ratio", job="api", team="infra"}'));
  assert.ok(r.promtool.includes('{__name__="room:temperature:max10m", room="r1", source="backfill"}'));
  assert.ok(r.promtool.includes('{__name__="r0:temperature"} '), "label removal by an empty rule label");
  assert.is(r.ours, r.promtool);
  assert.is(r.ourBlocks, r.promtoolBlocks);
});

test("RFC3339 times, --eval-interval, a window ending mid-block", async () => {
  const start = new Date((T0 + 3600) * 1000).toISOString().replace(".000Z", "Z");
  const end = new Date((T0 + 4 * 3600 + 123) * 1000).toISOString().replace(".000Z", "+00:00");
  const r = await both(["--start", start, "--end", end, "--eval-interval", "45s"], ["backfill.rules.yml"]);
  assert.ok(r.promtool.length > 1000);
  assert.is(r.ours, r.promtool);
  assert.is(r.ourBlocks, r.promtoolBlocks);
});

test("promtool 2.42 also backfills alerting rules' expressions under the alert's name; we do not", async () => {
  const r = await both(["--start", String(T0), "--end", String(T0 + 3600)], ["alerts.rules.yml"]);
  assert.ok(r.promtool.includes('{__name__="HighTemp", room="r0"}'), "promtool wrote the alert's expression");
  assert.is(r.ours, "");
});

test.run();
