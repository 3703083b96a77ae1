// What the ruler process serves and ships, with real processes:
//   - its StoreAPI (gRPC port, and Connect on the HTTP port) joins the StoreAPI contract suite: after
//     it recorded rules for a while (a series going stale in between), it is stopped, a Prometheus 2.42
//     is started on a copy of its --data-dir (the oracle, through remote read), and the ruler is
//     started again on its directory with a querier that does not answer, so its data stays put;
//   - Info says component "rule" with the Rules API, and thanos.Rules/Rules streams its groups;
//   - shipping: a ruler with 10 s blocks and --objstore.config-file uploads its blocks with source
//     "ruler" and its --label set; our store gateway over that bucket serves exactly the samples the
//     ruler itself serves for those blocks' time range.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promApi, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import {
  AGENT, BUN, eventually, rawSamples, RestartablePrometheus, restartRuler, sleep, startQuerier, startRuler, startSidecar, Target,
  type Agent, type Ruler,
} from "../lib/rule-stack.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { Rules } from "../../shared/gen/thanos/rulespb/rpc_pb.ts";
import { addStoreApiContract, promRemoteReadOracle, selector, type M, type StoreApiFixture } from "../lib/storeapi-contract.ts";

const t = suite("ruler StoreAPI, Rules API and shipping");

const dir = tempDir("rule-store-").path;
const ruleFile = join(dir, "rules.yml");
const RULES = `groups:
  - name: store
    interval: 1s
    rules:
      - record: demo:temp:scaled
        expr: demo_temp * 2
      - record: demo:temp:by_zone
        expr: sum by (zone) (demo_temp)
      - record: demo:const
        expr: vector(3)
        labels: {kind: const, le: "0.5"}
      - alert: Hot
        expr: demo_temp > 50
        labels: {severity: page}
`;
const ext = labelsFrom({ cluster: "c1", replica: "r0" });

let target: Target;
let prom: RestartablePrometheus;
let sidecar: Agent, querier: Agent;
let ruler: Ruler;
let oracleProm: Prometheus;
let oldest = 0, newest = 0;

t.before(async () => {
  target = new Target();
  target.set('demo_temp{sensor="i1",zone="a"}', 20);
  target.set('demo_temp{sensor="i2",zone="a"}', 70);
  target.set('demo_temp{sensor="i3",zone="b"}', 30);
  await target.start();
  writeFileSync(ruleFile, RULES);
  const cfg = join(dir, "prometheus.yml");
  writeFileSync(cfg, `global: {scrape_interval: 1s}\nscrape_configs:\n  - job_name: demo\n    static_configs: [{targets: ["127.0.0.1:${target.port}"]}]\n`);
  const promData = tempDir("rule-store-prom-").path;
  prom = new RestartablePrometheus(await freePort(), promData, cfg);
  await prom.start();
  sidecar = await startSidecar(prom.url, promData);
  querier = await startQuerier([sidecar.url]);
  ruler = await startRuler([`--rule-file=${ruleFile}`, `--query=${querier.url}`, '--label=cluster="c1"', '--label=replica="r0"', "--log.level=warn"]);
  await sleep(8000);
  target.delete('demo_temp{sensor="i3",zone="b"}'); // its recorded series go stale
  await sleep(8000);
  await ruler.proc.stop();
  // The oracle: Prometheus on a copy of the ruler's directory (it replays our WAL).
  const copy = tempDir("rule-store-copy-").path;
  cpSync(ruler.dataDir, copy, { recursive: true });
  rmSync(join(copy, "lock"), { force: true });
  oracleProm = await startPrometheus({ dataDir: copy });
  // The ruler again, on its own directory, with a querier that is not there: nothing new is written.
  const dead = await freePort();
  ruler = await restartRuler({ ...ruler, args: ruler.args.map((a) => (a.startsWith("--query=") ? `--query=http://127.0.0.1:${dead}` : a)) });
  const all = await promRemoteReadOracle(oracleProm.url, [["__name__", "=~", ".+"]], 0, Date.now() + 60_000);
  const ts = all.flatMap((s) => s.ts);
  oldest = Math.min(...ts);
  newest = Math.max(...ts);
});

t.after(async () => {
  await Promise.all([ruler?.proc.stop(), querier?.proc.stop(), sidecar?.proc.stop()]);
  await Promise.all([prom?.stop(), oracleProm?.stop(), target?.stop()]);
});

t("the data set has what the contract needs: recorded series, ALERTS, and staleness markers", async () => {
  const stale = await promRemoteReadOracle(oracleProm.url, [["__name__", "=", "demo:temp:scaled"], ["sensor", "=", "i3"]], oldest, newest);
  assert.is(stale.length, 1);
  assert.is(stale[0]!.vs.at(-1), "stale", "the vanished sensor's series ends with a staleness marker");
  const alerts = await promRemoteReadOracle(oracleProm.url, [["__name__", "=", "ALERTS"]], oldest, newest);
  assert.ok(alerts.length >= 1);
  assert.ok(newest - oldest > 10_000);
});

async function oracleNames(ms: M[], mint: number, maxt: number): Promise<string[]> {
  return (await promApi(oracleProm.url, "/api/v1/labels", { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data;
}
async function oracleValues(name: string, ms: M[], mint: number, maxt: number): Promise<string[]> {
  return (await promApi(oracleProm.url, `/api/v1/label/${name}/values`, { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data;
}

function fixture(transport: "grpc" | "connect"): () => StoreApiFixture {
  let fx: StoreApiFixture | null = null;
  return () => {
    if (fx) return fx;
    const tr = transport === "grpc" ? createGrpcTransport({ baseUrl: `http://${ruler.grpc}` }) : createConnectTransport({ baseUrl: ruler.url, httpVersion: "1.1" });
    const mid = Math.round((oldest + newest) / 2);
    fx = {
      store: createClient(Store, tr),
      info: createClient(Info, tr),
      externalLabels: ext,
      oracle: (ms, mint, maxt) => promRemoteReadOracle(oracleProm.url, ms, mint, maxt),
      oracleLabelNames: oracleNames,
      oracleLabelValues: oracleValues,
      oldest,
      cases: [
        { ms: [["__name__", "=", "demo:temp:scaled"]], mint: oldest, maxt: newest },
        { ms: [["__name__", "=~", "demo:.*"], ["zone", "=", "a"]], mint: oldest + 2000, maxt: newest - 2000 },
        { ms: [["__name__", "=", "demo:const"], ["le", "=", "0.5"]], mint: oldest, maxt: newest },
        { ms: [["sensor", "=~", "i[13]"]], mint: mid - 3000, maxt: mid + 3000 },
        { ms: [["__name__", "=~", "ALERTS.*"], ["alertname", "!=", ""]], mint: oldest, maxt: newest },
        { ms: [["__name__", "=", "demo:temp:by_zone"], ["zone", "!=", "a"]], mint: oldest, maxt: newest },
      ],
    };
    return fx;
  };
}

addStoreApiContract(t, fixture("grpc"));

t("the same Series answers over Connect on the HTTP port", async () => {
  const g = fixture("grpc")(), c = fixture("connect")();
  const req = { matchers: [{ type: 0, name: "__name__", value: "demo:temp:scaled" }], minTime: BigInt(oldest), maxTime: BigInt(newest) };
  const names = async (cl: typeof g.store) => { const out: string[] = []; for await (const r of cl.series(req)) if (r.result.case === "series") out.push(JSON.stringify(r.result.value.labels)); return out; };
  assert.equal(await names(c.store), await names(g.store));
});

t("Info: component rule with the Rules API; thanos.Rules/Rules streams the groups", async () => {
  const tr = createGrpcTransport({ baseUrl: `http://${ruler.grpc}` });
  const info = await createClient(Info, tr).info({});
  assert.is(info.ComponentType, "rule");
  assert.ok(info.rules, "rules info present");
  assert.ok(info.store, "store info present");
  const groups = [];
  for await (const r of createClient(Rules, tr).rules({})) if (r.result.case === "group") groups.push(r.result.value);
  assert.is(groups.length, 1);
  assert.is(groups[0]!.name, "store");
  assert.is(groups[0]!.file, ruleFile);
  assert.equal(groups[0]!.rules.map((r) => (r.result.case === "recording" || r.result.case === "alert" ? r.result.value.name : "")), ["demo:temp:scaled", "demo:temp:by_zone", "demo:const", "Hot"]);
  const rec = groups[0]!.rules[0]!.result;
  assert.is(rec.case, "recording");
  if (rec.case === "recording") assert.equal(rec.value.labels!.labels.map((l) => `${l.name}=${l.value}`), ["cluster=c1", "replica=r0"]);
});

t("shipping: blocks cut by the ruler reach the bucket with source ruler and are served by the store gateway", async () => {
  const bucketDir = tempDir("rule-bucket-").path;
  const cfg = join(dir, "bucket.yml");
  writeFileSync(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
  const shipper = await startRuler([`--rule-file=${ruleFile}`, `--query=${querier.url}`, '--label=cluster="c1"', '--label=replica="s"',
    "--tsdb.block-duration=10s", `--objstore.config-file=${cfg}`, "--log.level=warn"]);
  let gw: Proc | null = null, gwQuerier: Agent | null = null, selfQuerier: Agent | null = null;
  try {
    const metas = await eventually("two blocks in the bucket", async () => {
      const ids = existsSync(bucketDir) ? readdirSync(bucketDir).filter((n) => /^[0-9A-Z]{26}$/.test(n) && existsSync(join(bucketDir, n, "meta.json"))) : [];
      return ids.length >= 2 ? ids.map((id) => JSON.parse(readFileSync(join(bucketDir, id, "meta.json"), "utf8"))) : null;
    }, 90_000, 1000);
    for (const m of metas) {
      assert.is(m.thanos.source, "ruler");
      assert.equal(m.thanos.labels, { cluster: "c1", replica: "s" });
      assert.equal(m.thanos.downsample, { resolution: 0 });
      assert.is(m.maxTime - m.minTime <= 10_000, true);
      assert.ok(m.stats.numSamples > 0);
    }
    const minT = Math.min(...metas.map((m) => m.minTime)), maxT = Math.max(...metas.map((m) => m.maxTime));
    const hp = await freePort(), gp = await freePort();
    gw = startProcess(BUN, [AGENT, "store", `--objstore.config-file=${cfg}`, `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, "--log.level=warn"]);
    await waitForHttp(`http://127.0.0.1:${hp}/-/ready`, gw, 30_000);
    [gwQuerier, selfQuerier] = await Promise.all([startQuerier([`http://127.0.0.1:${hp}`]), startQuerier([shipper.url])]);
    const within = (xs: Awaited<ReturnType<typeof rawSamples>>) => xs
      .map((s) => ({ m: JSON.stringify(s.metric), v: s.values.filter(([ts]) => ts * 1000 >= minT && ts * 1000 < maxT).map((x) => x.join(" ")) }))
      .filter((s) => s.v.length > 0).sort((a, b) => (a.m < b.m ? -1 : 1));
    const at = maxT / 1000 + 0.001, range = Math.ceil((maxT - minT) / 1000) + 2;
    for (const sel of ["demo:temp:scaled", "demo:const", "ALERTS"]) {
      const fromGw = within(await rawSamples(gwQuerier.url, sel, range, at));
      const fromRuler = within(await rawSamples(selfQuerier.url, sel, range, at));
      assert.ok(fromGw.length > 0, `${sel}: nothing from the store gateway`);
      assert.equal(fromGw, fromRuler, sel);
    }
  } finally {
    await Promise.all([shipper.proc.stop(), gw?.stop(), gwQuerier?.proc.stop(), selfQuerier?.proc.stop()]);
  }
});

t.run();
