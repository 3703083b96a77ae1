// The store gateway as a Worker over an R2 binding (edge/store/worker.ts under `wrangler dev`, R2
// emulated on disk): promtool blocks uploaded into R2 through the Worker, then the StoreAPI contract over
// Connect and gRPC-Web against Prometheus 2.42 serving copies of the same blocks.
import { suite } from "uvu";
import { cpSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { type Proc, startWranglerDev, tempDir } from "../lib/proc.ts";
import { promApi, promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { addStoreApiContract, type M, promRemoteReadOracle, selector, type StoreApiFixture } from "../lib/storeapi-contract.ts";
import { HttpBucket } from "../../edge/worker-test/protocol.ts";
import { uploadBlockDir } from "../../agent/objstore/block.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const ext = labelsFrom({ cluster: "eu-1", replica: "r1" });
const H = 3600;
const hEnd = Math.floor(Date.now() / 1000 / 7200) * 7200 - 3 * H;
const hStart = hEnd - 6 * H + 15;
let om = "# TYPE demo_gauge gauge\n";
const gauges = ['a="1"', 'a="1",b="2"', 'a="2"', 'a="3",le="0.5"'];
for (const [i, g] of gauges.entries()) for (let t = hStart; t <= hEnd; t += 15) om += `demo_gauge{${g}} ${Math.sin(t / 600 + i).toFixed(4)} ${t}\n`;
om += "# TYPE demo_counter counter\n";
for (let n = 0; n < 20; n++) for (let t = hStart; t <= hEnd; t += 15) om += `demo_counter_total{instance="i${n}",job="j"} ${(t - hStart) * (n + 1)} ${t}\n`;
om += "# EOF\n";
const hMinMs = hStart * 1000, hMaxMs = hEnd * 1000;

let worker: Proc | undefined;
let prom: Prometheus | undefined;
let base = "";
let ready: Promise<void> | null = null;
function setup(): Promise<void> {
  return (ready ??= (async () => {
    const blocks = tempDir("store-r2-blocks-").path;
    await promtoolBackfill(om, blocks);
    const promDir = tempDir("store-r2-prom-").path;
    cpSync(blocks, promDir, { recursive: true });
    const p = startPrometheus({ dataDir: promDir, config: "global:\n  external_labels:\n    cluster: eu-1\n    replica: r1\n" });
    ({ proc: worker, url: base } = await startWranglerDev({
      args: ["-c", "edge/worker-test/store.wrangler.toml", "--persist-to", tempDir("store-r2-").path], cwd: root, readyPath: "/health",
    }));
    const bkt = new HttpBucket(`${base}/bucket`);
    for (const id of readdirSync(blocks)) {
      if (!/^[0-9A-Z]{26}$/.test(id)) continue;
      const meta = JSON.parse(readFileSync(join(blocks, id, "meta.json"), "utf8"));
      meta.thanos = { labels: { cluster: "eu-1", replica: "r1" }, downsample: { resolution: 0 }, source: "test" };
      await uploadBlockDir(bkt, join(blocks, id), { meta: new TextEncoder().encode(JSON.stringify(meta)) });
    }
    prom = await p;
  })());
}

const oracleNames = async (ms: M[], mint: number, maxt: number) =>
  (await promApi(prom!.url, "/api/v1/labels", { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data;
const oracleValues = async (name: string, ms: M[], mint: number, maxt: number) =>
  (await promApi(prom!.url, `/api/v1/label/${name}/values`, { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data;

function fixture(mk: typeof createConnectTransport): StoreApiFixture {
  const t = mk({ baseUrl: base, httpVersion: "1.1", useBinaryFormat: true });
  return {
    store: createClient(Store, t), info: createClient(Info, t), externalLabels: ext,
    oracle: (ms, mint, maxt) => promRemoteReadOracle(prom!.url, ms, mint, maxt),
    oracleLabelNames: oracleNames, oracleLabelValues: oracleValues,
    oldest: hMinMs, infoMaxTime: hMaxMs,
    json: createClient(Store, createConnectTransport({ baseUrl: base, httpVersion: "1.1", useBinaryFormat: false })),
    cases: [
      { ms: [["__name__", "=", "demo_gauge"]], mint: hMinMs, maxt: hMaxMs },
      { ms: [["__name__", "=~", "demo_.*"], ["instance", "=~", "i1.*|"]], mint: hMinMs + 1_800_000, maxt: hMaxMs - 1_800_000 },
      { ms: [["__name__", "=", "demo_gauge"], ["b", "!=", "2"]], mint: hMinMs, maxt: hMaxMs },
      { ms: [["job", "=", "j"], ["instance", "!~", "i[0-4]"]], mint: hMaxMs - 600_000, maxt: hMaxMs + 3_600_000 },
    ],
  };
}

const fx: Record<string, StoreApiFixture> = {};
for (const [name, mk] of [["Connect", createConnectTransport], ["gRPC-Web", createGrpcWebTransport as unknown as typeof createConnectTransport]] as const) {
  const t = suite(`store gateway Worker on R2 (wrangler dev), ${name}`);
  t.before(async () => { await setup(); fx[name] = fixture(mk); });
  addStoreApiContract(t, () => fx[name]!, { json: name === "Connect" });
  if (name === "gRPC-Web") t.after(async () => { await worker?.stop(); await prom?.stop(); });
  t.run();
}
