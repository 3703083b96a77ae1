// The stateless ruler (--remote-write.config-file) against the real thing. A source Prometheus 2.42
// scrapes a target and evaluates a rule file; our ruler evaluates the same file through our querier
// (over the source's sidecar and a receiver's sidecar) and writes what it records, ALERTS and
// ALERTS_FOR_STATE by remote write to a second Prometheus 2.42 started with
// --web.enable-remote-write-receiver. Then:
//   - the receiver holds our recorded samples, each equal to the source's instant query of the rule's
//     expression at its time, with our --label added (Prometheus' external-label rule);
//   - the receiver's ALERTS / ALERTS_FOR_STATE equal the source Prometheus' own, step for step;
//   - no StoreAPI is served (Info has the Rules API only; Series is unimplemented);
//   - restart mid-for, with the source Prometheus restarted alongside: our ruler restores `for` state
//     by reading ALERTS_FOR_STATE back through the querier (--restore-ignored-label drops the label
//     remote write added), and the alert fires at the same step as in the source Prometheus.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, ConnectError, Code } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { freePort, tempDir } from "../lib/proc.ts";
import {
  eventually, instantQuery, metricValue, rawSamples, RestartablePrometheus, restartRuler, sleep, startQuerier, startRuler, startSidecar,
  Target, type Agent, type RawSeries, type Ruler,
} from "../lib/rule-stack.ts";
import { evalTimestamp } from "../../shared/rules/group.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";

const t = suite("stateless ruler: remote write to Prometheus 2.42");

const dir = tempDir("rule-sl-").path;
const ruleFile = join(dir, "rules.yml");
const RULES = `groups:
  - name: live
    interval: 2s
    rules:
      - record: demo:temp:scaled
        expr: demo_temp * 2
      - record: demo:temp:max
        expr: max by (job) (demo_temp)
      - alert: TempHigh
        expr: demo_temp > 50
        for: 6s
        labels: {severity: '{{ if gt $value 80.0 }}critical{{ else }}warning{{ end }}'}
  - name: restart
    interval: 4s
    rules:
      - alert: LongFor
        expr: demo_gate > 0
        for: 40s
`;

let target: Target;
let source: RestartablePrometheus, receiver: RestartablePrometheus;
let sourceSidecar: Agent, receiverSidecar: Agent, querier: Agent;
let ruler: Ruler;

const nextSlot = (group: string, iv: number) => evalTimestamp(ruleFile, group, iv, Date.now()) + iv;
async function afterSlot(group: string, iv: number, ms: number): Promise<void> {
  await sleep(nextSlot(group, iv) + ms - Date.now());
}

t.before(async () => {
  target = new Target();
  for (const s of ["i1", "i2"]) target.set(`demo_temp{sensor="${s}"}`, 20);
  target.set("demo_gate", 0);
  await target.start();
  writeFileSync(ruleFile, RULES);
  const srcCfg = join(dir, "source.yml"), rcvCfg = join(dir, "receiver.yml");
  writeFileSync(srcCfg, `global: {scrape_interval: 1s, evaluation_interval: 2s}\nrule_files: [${JSON.stringify(ruleFile)}]\nscrape_configs:\n  - job_name: demo\n    static_configs: [{targets: ["127.0.0.1:${target.port}"]}]\n`);
  writeFileSync(rcvCfg, "global: {scrape_interval: 1m}\n");
  const srcData = tempDir("rule-sl-src-").path, rcvData = tempDir("rule-sl-rcv-").path;
  source = new RestartablePrometheus(await freePort(), srcData, srcCfg, ["--rules.alert.for-grace-period=4s"]);
  receiver = new RestartablePrometheus(await freePort(), rcvData, rcvCfg, ["--web.enable-remote-write-receiver"]);
  await Promise.all([source.start(), receiver.start()]);
  [sourceSidecar, receiverSidecar] = await Promise.all([startSidecar(source.url, srcData), startSidecar(receiver.url, rcvData)]);
  querier = await startQuerier([sourceSidecar.url, receiverSidecar.url]);
  const rw = join(dir, "remote-write.yml");
  writeFileSync(rw, `remote_write:\n  - url: ${receiver.url}/api/v1/write\n    name: receiver\n    queue_config: {batch_send_deadline: 100ms}\n`);
  ruler = await startRuler([`--rule-file=${ruleFile}`, `--query=${querier.url}`, `--remote-write.config-file=${rw}`, '--label=cluster="c1"',
    "--restore-ignored-label=cluster", "--for-grace-period=4s", "--log.level=warn"]);
});

t.after(async () => {
  await Promise.all([ruler?.proc.stop(), querier?.proc.stop(), sourceSidecar?.proc.stop(), receiverSidecar?.proc.stop()]);
  await Promise.all([source?.stop(), receiver?.stop(), target?.stop()]);
});

const key = (m: Record<string, string>) => JSON.stringify(Object.entries(m).filter(([k]) => k !== "cluster").sort(([a], [b]) => (a < b ? -1 : 1)));
const samples = (xs: RawSeries[]) => xs.flatMap((s) => s.values.map(([ts, v]) => `${key(s.metric)} ${Math.round(ts * 1000)} ${v}`));

t("recorded series and alerts arrive by remote write, equal to the source Prometheus'", async () => {
  await eventually("first samples in the receiver", async () => (await rawSamples(receiver.url, "demo:temp:scaled", 60, Date.now() / 1000)).length > 0, 30_000);
  await sleep(4000); // past the restore (ALERTS from the third evaluation on)
  await afterSlot("live", 2000, 500);
  target.set('demo_temp{sensor="i1"}', 60);
  target.set('demo_temp{sensor="i2"}', 90);
  await sleep(10_000);
  await afterSlot("live", 2000, 500);
  target.set('demo_temp{sensor="i1"}', 20);
  await sleep(5000);
  const now = Date.now() / 1000;
  // Recorded samples: the receiver's raw samples against the source's instant queries.
  let compared = 0;
  for (const [record, expr] of [["demo:temp:scaled", "demo_temp * 2"], ["demo:temp:max", "max by (job) (demo_temp)"]] as const) {
    const ours = await rawSamples(receiver.url, record, 300, now);
    for (const s of ours) {
      assert.is(s.metric.cluster, "c1", "the --label is added to what is written");
      for (const [ts, v] of s.values) {
        const m = { ...s.metric };
        delete m.__name__;
        const want = (await instantQuery(source.url, expr, ts)).find((x) => key(x.metric) === key(m));
        assert.ok(want, `${record}${key(m)} at ${ts}: the source has no such series`);
        assert.is(v, want!.value[1], `${record}${key(m)} at ${ts}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 20, `only ${compared} samples compared`);
  // ALERTS and ALERTS_FOR_STATE step for step (TempHigh fired while both were up).
  for (const name of ['ALERTS{alertname="TempHigh"}', 'ALERTS_FOR_STATE{alertname="TempHigh"}']) {
    const a = samples(await rawSamples(receiver.url, name, 300, now));
    const b = samples(await rawSamples(source.url, name, 300, now));
    const tsOf = (x: string) => Number(x.split(" ").at(-2));
    const lo = Math.min(...a.map(tsOf)), hi = Math.min(Math.max(...a.map(tsOf)), Math.max(...b.map(tsOf)));
    const w = (xs: string[]) => xs.filter((x) => tsOf(x) >= lo && tsOf(x) <= hi).sort();
    assert.ok(w(a).length >= 6, `${name}: ${w(a).length} samples`);
    assert.equal(w(a), w(b), name);
  }
  assert.is(await metricValue(ruler.url, "prometheus_remote_storage_samples_failed_total"), 0);
  assert.ok((await metricValue(ruler.url, "prometheus_remote_storage_samples_total"))! > compared);
});

t("no StoreAPI in stateless mode: Info has the Rules API only, Series is unimplemented", async () => {
  const tr = createGrpcTransport({ baseUrl: `http://${ruler.grpc}` });
  const info = await createClient(Info, tr).info({});
  assert.is(info.ComponentType, "rule");
  assert.ok(info.rules);
  assert.is(info.store, undefined);
  try {
    for await (const _ of createClient(Store, tr).series({ matchers: [{ type: 0, name: "__name__", value: "x" }], minTime: 0n, maxTime: 1n })) { /* none */ }
    assert.unreachable("Series answered");
  } catch (e) {
    assert.is(ConnectError.from(e).code, Code.Unimplemented);
  }
});

t("restart mid-for: the state read back through the querier, the alert fires at the source's step", async () => {
  const G = 4000;
  await afterSlot("restart", G, 500);
  target.set("demo_gate", 1);
  const s0 = nextSlot("restart", G);
  await sleep(s0 + 2 * G + G / 2 - Date.now());
  await Promise.all([ruler.proc.stop(), source.stop()]);
  await sleep(s0 + 5 * G + 200 - Date.now());
  await Promise.all([source.start(), (async () => { ruler = await restartRuler(ruler); })()]);
  assert.ok(Date.now() < s0 + 6 * G, "both up before the next slot");
  const firing = async (base: string) => {
    const r = await rawSamples(base, 'ALERTS{alertname="LongFor",alertstate="firing"}', 120, Date.now() / 1000);
    return r[0]?.values[0]?.[0];
  };
  const ours = await eventually("our LongFor firing (in the receiver)", () => firing(receiver.url), 60_000, 500);
  const theirs = await eventually("the source's LongFor firing", () => firing(source.url), 20_000, 500);
  assert.is(ours, theirs, "fired at the same step");
  assert.ok(ours * 1000 >= s0 + 5 * G + 40_000 - 1, "the downtime was not counted towards for");
});

t.run();
