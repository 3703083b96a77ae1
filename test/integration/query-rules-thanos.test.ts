// The querier's /api/v1/rules and /api/v1/alerts against Thanos' querier, both fronting the same HA
// pair of real Thanos rulers (same rule file, replica="a" / replica="b"; test/lib/thanos-rulers.ts),
// plus a Thanos querier stacked in front of ours (so our querier's own thanos.Rules, over gRPC, is
// read by Go's client).
//
// What is normalised: each group's own `evaluationTime` and `lastEvaluation` (Thanos' querier keeps
// them from whichever replica's answer arrived first, ours from the first endpoint), and the order of
// alert instances within a rule (a Thanos ruler sends them in Go map order, different at every call;
// both queriers pass them on as received). Everything else, rule timings and alert activeAt included,
// must be equal: both queriers keep the same replica's rule (the younger evaluation), provided no
// ruler evaluated while the answers were being fetched. So each attempt reads the rulers' own
// /api/v1/rules before and after, and an attempt during which a ruler evaluated is not compared (and
// retried); an attempt that is compared must be equal (test/lib/thanos-rulers.ts fetchQuiet).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startProcess, waitForHealthyStores, waitForHttp, type Proc } from "../lib/proc.ts";
import { thanosBinary } from "../lib/thanos.ts";
import { fetchQuiet, getJson, normaliseRules, startRulerHa, waitForAlerts, type RulerHa } from "../lib/thanos-rulers.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bun = join(root, "node_modules", ".bin", "bun");
const procs: Proc[] = [];
let ha: RulerHa;
let ours = "", thanos = "", stacked = "";

const start = (cmd: string, args: string[]) => { const p = startProcess(cmd, args, { cwd: root }); procs.push(p); return p; };

test.before(async () => {
  const bin = await thanosBinary();
  ha = await startRulerHa();
  const eps = ha.rulers.map((r) => `--endpoint=${r.grpc}`);
  const [th, oh, og, sh] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const tq = start(bin, ["query", ...eps, "--query.replica-label=replica", `--http-address=127.0.0.1:${th}`, `--grpc-address=127.0.0.1:${await freePort()}`, "--log.level=warn"]);
  const oq = start(bun, ["agent/main.ts", "query", ...eps, "--query.replica-label=replica", `--http-address=127.0.0.1:${oh}`, `--grpc-address=127.0.0.1:${og}`, "--log.level=warn"]);
  const sq = start(bin, ["query", `--endpoint=127.0.0.1:${og}`, "--query.replica-label=replica", `--http-address=127.0.0.1:${sh}`, `--grpc-address=127.0.0.1:${await freePort()}`, "--log.level=warn"]);
  thanos = `http://127.0.0.1:${th}`; ours = `http://127.0.0.1:${oh}`; stacked = `http://127.0.0.1:${sh}`;
  await waitForHttp(`${thanos}/-/ready`, tq, 60_000);
  await waitForHttp(`${ours}/-/ready`, oq, 60_000);
  await waitForHttp(`${stacked}/-/ready`, sq, 60_000);
  await waitForHealthyStores(thanos, 2, 60_000);
  await waitForHealthyStores(ours, 2, 60_000);
  await waitForHealthyStores(stacked, 1, 60_000);
  await waitForAlerts(ha.rulers);
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await ha?.stop();
});

const PATHS = (file: string) => [
  "/api/v1/rules",
  "/api/v1/rules?type=alert",
  "/api/v1/rules?type=RECORD",
  "/api/v1/rules?rule_name[]=DemoInstanceDown&rule_name[]=job:demo_up:sum",
  "/api/v1/rules?rule_group[]=demo-records",
  `/api/v1/rules?file[]=${encodeURIComponent(file)}`,
  "/api/v1/rules?file[]=nomatch.yml",
  `/api/v1/rules?match[]=${encodeURIComponent('{severity="page"}')}`,
  `/api/v1/rules?match[]=${encodeURIComponent('{cluster="demo"}')}&match[]=${encodeURIComponent('{severity=~"page|ticket"}')}`,
  "/api/v1/alerts",
];

test("/api/v1/rules and /api/v1/alerts: ours equal Thanos' querier's over the same HA rulers (and through a stacked Thanos querier)", async () => {
  const paths = PATHS(ha.ruleFile);
  const tries: number[] = [];
  const got: Record<string, any> = {};
  for (const path of paths) {
    const { answers: [o, t, s], tries: n } = await fetchQuiet(ha.rulers, [ours + path, thanos + path, stacked + path]);
    tries.push(n);
    assert.is(o.status, 200, `${path}: ours answered ${JSON.stringify(o.body)}`);
    assert.is(t.status, 200, path);
    // (Thanos writes an empty alert list as null; we write [] as Prometheus does: normaliseRules.)
    assert.fixture(normaliseRules(o.body), normaliseRules(t.body), `ours vs Thanos' querier: ${path}`);
    assert.fixture(normaliseRules(s!.body), normaliseRules(t!.body), `Thanos' querier in front of ours vs Thanos' querier: ${path}`);
    got[path] = o.body;
  }
  // The answers are not vacuous: what the rule file must give.
  const all = got["/api/v1/rules"].data.groups;
  assert.equal(all.map((g: any) => [g.name, g.rules.map((r: any) => `${r.name}:${r.state ?? r.health}`)]), [
    ["demo-alerts", ["DemoInstanceDown:pending", "DemoInstanceUp:firing", "DemoNeverFires:inactive"]],
    ["demo-records", ["demo:duplicate:err", "job:demo_up:sum:ok"]],
  ]);
  for (const g of all) {
    for (const r of g.rules) {
      assert.is(r.labels.cluster, "demo", "external labels kept");
      assert.is(r.labels.replica, undefined, "replica label dropped");
    }
  }
  assert.match(all[1].rules[0].lastError, /same labelset/);
  const alerts = got["/api/v1/alerts"].data.alerts;
  assert.equal(alerts.map((a: any) => `${a.labels.alertname} ${a.labels.instance} ${a.state}`).sort(), ["DemoInstanceDown host-2 pending", "DemoInstanceUp host-1 firing", "DemoInstanceUp host-3 firing"]);
  assert.equal(got["/api/v1/rules?file[]=nomatch.yml"].data.groups, []);
  console.log(`${paths.length} paths compared; attempts per path ${tries.join(",")} (an attempt during which a ruler evaluated is not compared)`);
});

test("dedup=false: both replicas' rules, told apart by their replica label", async () => {
  const { body } = await getJson(`${ours}/api/v1/rules?dedup=false`);
  assert.equal(body.data.groups[0].rules.map((r: any) => `${r.name} ${r.labels.replica}`), [
    "DemoInstanceDown a", "DemoInstanceDown b", "DemoInstanceUp a", "DemoInstanceUp b", "DemoNeverFires a", "DemoNeverFires b",
  ]);
});

test("a ruler down: a warning naming it under partial response, the error without", async () => {
  const b = ha.rulers[1]!;
  await b.proc.stop();
  const warn = await getJson(`${ours}/api/v1/rules`);
  assert.is(warn.status, 200);
  assert.equal(warn.body.data.groups.map((g: any) => g.rules.length), [3, 2]);
  assert.ok(warn.body.warnings?.some((w: string) => w.includes(b.grpc)), JSON.stringify(warn.body.warnings));
  const alerts = await getJson(`${ours}/api/v1/alerts`);
  assert.is(alerts.body.data.alerts.length, 3);
  assert.ok(alerts.body.warnings?.some((w: string) => w.includes(b.grpc)));
  const abort = await getJson(`${ours}/api/v1/rules?partial_response=false`);
  assert.is(abort.status, 500);
  assert.is(abort.body.errorType, "internal");
  assert.match(abort.body.error, new RegExp(`^error retrieving rules: .*${b.grpc.replace(/\./g, "\\.")}`));
});

test.run();
