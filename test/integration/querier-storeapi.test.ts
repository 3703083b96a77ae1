// The querier as a StoreAPI (`bun agent/main.ts query … --grpc-address`), through the StoreAPI contract:
//   - the fan-out over a sidecar (`query --endpoint <sidecar gRPC>`), the oracle being the Prometheus
//     2.42 behind the sidecar;
//   - local blocks (`query --tsdb.path DIR`): promtool-made blocks carrying Thanos external labels in
//     their meta.json, the oracle a real Prometheus 2.42 serving the same directory (min = max block
//     duration, so it never compacts the blocks under the querier).
// Each over gRPC (--grpc-address), Connect and Connect JSON (the HTTP port); a second querier of each kind
// with --store.limits.request-series/-samples and --http.bearer-token-file gives the limits and auth cases.
// The data has label sets that are strict prefixes of others ({a="1"}, {a="1", b="2"}): once external labels
// are attached their order flips, which every store must put right.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { freePort, startProcess, tempDir, waitForHealthyStores, waitForHttp, type Proc } from "../lib/proc.ts";
import { promApi, promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { addStoreApiContract, type M, promRemoteReadOracle, selector, type StoreApiFixture } from "../lib/storeapi-contract.ts";

const root = process.cwd();
const bun = join(root, "node_modules/.bin/bun");
const extSidecar = labelsFrom({ cluster: "eu-1", replica: "r1" });
const extBlocks = labelsFrom({ cluster: "eu-2", replica: "b0" });

// 6 h of 15 s samples ending 3 h before a 2 h boundary (promtool cuts 2 h blocks).
const H = 3600;
const hEnd = Math.floor(Date.now() / 1000 / 7200) * 7200 - 3 * H;
const hStart = hEnd - 6 * H + 15;
const hMinMs = hStart * 1000, hMaxMs = hEnd * 1000;
let om = "# TYPE demo_gauge gauge\n";
const gauges = ['a="1"', 'a="1",b="2"', 'a="1",b="2",zone="x"', 'a="2"', 'a="2",b="3"', 'a="3",le="0.5"'];
for (const [i, g] of gauges.entries()) {
  for (let t = hStart; t <= hEnd; t += 15) om += `demo_gauge{${g}} ${t === hStart + 150 && i === 0 ? "NaN" : Math.sin(t / 600 + i).toFixed(4)} ${t}\n`;
}
om += "# TYPE demo_counter counter\n";
for (let n = 0; n < 40; n++) {
  for (let t = hStart; t <= hEnd; t += 15) om += `demo_counter_total{instance="i${n}",job="j"} ${(t - hStart) * (n + 1)} ${t}\n`;
}
om += "# EOF\n";

const token = "querier-s3cret";
const limits = ["--store.limits.request-series=10", "--store.limits.request-samples=4000"];
interface Srv { proc: Proc; http: string; grpc: string }
const procs: Proc[] = [];
let promSidecar: Prometheus, promBlocks: Prometheus;
let sidecar: Srv, overSidecar: Srv, overSidecarGuarded: Srv, overBlocks: Srv, overBlocksGuarded: Srv;

async function start(component: string, args: string[], ready = "/-/ready"): Promise<Srv> {
  const hp = await freePort(), gp = await freePort();
  const proc = startProcess(bun, [join(root, "agent/main.ts"), component, `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, "--log.level=warn", ...args]);
  procs.push(proc);
  const s = { proc, http: `http://127.0.0.1:${hp}`, grpc: `http://127.0.0.1:${gp}` };
  await waitForHttp(`${s.http}${ready}`, proc, 30_000);
  return s;
}

function tokenFile(): string {
  const f = join(tempDir("querier-token-").path, "token");
  writeFileSync(f, `${token}\n`);
  return f;
}

const promConfig = (ext: Record<string, string>) => `global:\n  external_labels:\n${Object.entries(ext).map(([k, v]) => `    ${k}: ${v}\n`).join("")}`;
// Prometheus must not compact the backfilled blocks: the querier over local blocks reads the same directory.
const noCompaction = ["--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h"];

let setupDone: Promise<void> | null = null;
function setup(): Promise<void> {
  return (setupDone ??= (async () => {
    const sidecarDir = tempDir("querier-sidecar-prom-").path;
    const blocksDir = tempDir("querier-blocks-").path;
    await Promise.all([promtoolBackfill(om, sidecarDir), promtoolBackfill(om, blocksDir)]);
    // The local blocks carry Thanos labels, as blocks a sidecar or compactor wrote do.
    let blocks = 0;
    for (const id of readdirSync(blocksDir)) {
      if (!/^[0-9A-Z]{26}$/.test(id)) continue;
      const file = join(blocksDir, id, "meta.json");
      const meta = JSON.parse(readFileSync(file, "utf8"));
      meta.thanos = { labels: { cluster: "eu-2", replica: "b0" }, downsample: { resolution: 0 }, source: "test" };
      writeFileSync(file, JSON.stringify(meta));
      blocks++;
    }
    assert.ok(blocks >= 3, `${blocks} promtool blocks`);
    [promSidecar, promBlocks] = await Promise.all([
      startPrometheus({ dataDir: sidecarDir, config: promConfig({ cluster: "eu-1", replica: "r1" }), args: noCompaction }),
      startPrometheus({ dataDir: blocksDir, config: promConfig({ cluster: "eu-2", replica: "b0" }), args: noCompaction }),
    ]);
    const guard = [...limits, `--http.bearer-token-file=${tokenFile()}`];
    [sidecar, overBlocks, overBlocksGuarded] = await Promise.all([
      start("sidecar", [`--prometheus.url=${promSidecar.url}`, `--tsdb.path=${sidecarDir}`, "--prometheus.ready_timeout=30s"]),
      start("query", [`--tsdb.path=${blocksDir}`]),
      start("query", [`--tsdb.path=${blocksDir}`, ...guard]),
    ]);
    const endpoint = `--endpoint=${sidecar.grpc.replace("http://", "")}`;
    [overSidecar, overSidecarGuarded] = await Promise.all([start("query", [endpoint]), start("query", [endpoint, ...guard])]);
    await Promise.all([
      waitForHealthyStores(overSidecar.http, 1),
      waitForHealthyStores(overBlocks.http, 1),
      // The guarded queriers answer /api/* only with the token: their stores are checked through Info below.
    ]);
  })());
}

const withHeaders = (h?: Record<string, string>): Interceptor[] => (h ? [(next) => async (req) => { for (const [k, v] of Object.entries(h)) req.header.set(k, v); return await next(req); }] : []);
type Mk = (s: Srv, h?: Record<string, string>) => ReturnType<typeof createGrpcTransport>;
const grpcT: Mk = (s, h) => createGrpcTransport({ baseUrl: s.grpc, interceptors: withHeaders(h) });
const connectT: Mk = (s, h) => createConnectTransport({ baseUrl: s.http, httpVersion: "1.1", interceptors: withHeaders(h) });
const jsonT: Mk = (s, h) => createConnectTransport({ baseUrl: s.http, httpVersion: "1.1", useBinaryFormat: false, interceptors: withHeaders(h) });

const oracleOf = (p: () => Prometheus) => ({
  oracle: (ms: M[], mint: number, maxt: number) => promRemoteReadOracle(p().url, ms, mint, maxt),
  oracleLabelNames: async (ms: M[], mint: number, maxt: number): Promise<string[]> =>
    (await promApi(p().url, "/api/v1/labels", { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data,
  oracleLabelValues: async (name: string, ms: M[], mint: number, maxt: number): Promise<string[]> =>
    (await promApi(p().url, `/api/v1/label/${name}/values`, { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data,
});

const cases: StoreApiFixture["cases"] = [
  { ms: [["__name__", "=", "demo_gauge"]], mint: hMinMs, maxt: hMaxMs },
  { ms: [["__name__", "=~", "demo_.*"], ["instance", "=~", "i1.*|"]], mint: hMinMs + 1_800_000, maxt: hMaxMs - 1_800_000 },
  { ms: [["__name__", "=", "demo_gauge"], ["b", "!=", "2"]], mint: hMinMs, maxt: hMaxMs },
  { ms: [["__name__", "=", "demo_gauge"], ["b", "=", ""]], mint: hMinMs + 1, maxt: hMaxMs - 1 },
  { ms: [["job", "=", "j"], ["instance", "!~", "i[0-4]"]], mint: hMaxMs - 600_000, maxt: hMaxMs + 3_600_000 },
  { ms: [["__name__", "=~", "demo_counter_total|demo_gauge"], ["a", "=~", "1|"]], mint: hMinMs + 7_000_000, maxt: hMinMs + 7_400_000 },
];

interface Kind { plain: () => Srv; guarded: () => Srv; prom: () => Prometheus; ext: typeof extSidecar; closedMaxTime: boolean }
const kinds: Record<"sidecar" | "blocks", Kind> = {
  sidecar: { plain: () => overSidecar, guarded: () => overSidecarGuarded, prom: () => promSidecar, ext: extSidecar, closedMaxTime: false },
  blocks: { plain: () => overBlocks, guarded: () => overBlocksGuarded, prom: () => promBlocks, ext: extBlocks, closedMaxTime: true },
};

function fixture(k: Kind, mk: Mk, guarded: boolean): StoreApiFixture {
  const s = k.plain(), t = mk(s);
  const fx: StoreApiFixture = {
    store: createClient(Store, t),
    info: createClient(Info, t),
    externalLabels: k.ext,
    ...oracleOf(k.prom),
    oldest: hMinMs,
    // Blocks end where their data ends; a sidecar's Prometheus keeps going (open max time).
    infoMaxTime: k.closedMaxTime ? hMaxMs : undefined,
    cases,
    json: createClient(Store, jsonT(s)),
  };
  if (guarded) {
    const g = k.guarded(), bearer = { authorization: `Bearer ${token}` };
    fx.limited = {
      store: createClient(Store, mk(g, bearer)),
      // 40 series > 10; over the last minute one chunk each.
      overSeries: { ms: [["__name__", "=", "demo_counter_total"]], mint: hMaxMs - 60_000, maxt: hMaxMs },
      // 10 series x 1440 samples > 4000.
      overSamples: { ms: [["__name__", "=", "demo_counter_total"], ["instance", "=~", "i[0-9]"]], mint: hMinMs, maxt: hMaxMs },
      under: { ms: [["__name__", "=", "demo_gauge"], ["a", "=", "2"]], mint: hMaxMs - 1_800_000, maxt: hMaxMs },
    };
    fx.auth = {
      without: createClient(Store, mk(g)),
      wrongToken: createClient(Store, mk(g, { authorization: "Bearer nope" })),
      withToken: createClient(Store, mk(g, bearer)),
    };
  }
  return fx;
}

const fixtures: Record<string, StoreApiFixture> = {};
for (const [name, kind, mk, guarded] of [
  ["querier over a sidecar (--endpoint), gRPC; Connect JSON", "sidecar", grpcT, false],
  ["querier over a sidecar (--endpoint), Connect; limits and bearer token", "sidecar", connectT, true],
  ["querier over a sidecar (--endpoint), gRPC; limits and bearer token", "sidecar", grpcT, true],
  ["querier over local blocks (--tsdb.path), gRPC; Connect JSON", "blocks", grpcT, false],
  ["querier over local blocks (--tsdb.path), Connect; limits and bearer token", "blocks", connectT, true],
  ["querier over local blocks (--tsdb.path), gRPC; limits and bearer token", "blocks", grpcT, true],
] as const) {
  const t = suite(name);
  t.before(async () => { await setup(); fixtures[name] = fixture(kinds[kind], mk, guarded); });
  addStoreApiContract(t, () => fixtures[name]!, { limits: guarded, auth: guarded, json: !guarded });
  t.run();
}

const extra = suite("querier as a StoreAPI: Info, and the HTTP API behind the same token");
extra.before(setup);
extra("Info names the querier and covers its stores' data", async () => {
  for (const k of Object.values(kinds)) {
    const info = await createClient(Info, grpcT(k.plain())).info({});
    assert.is(info.ComponentType, "query");
    assert.ok(Number(info.store!.minTime) <= hMinMs);
  }
});
extra("the local-blocks querier's HTTP API requires the token too, and answers with it", async () => {
  const q = `${overBlocksGuarded.http}/api/v1/query?query=${encodeURIComponent("count(demo_gauge)")}&time=${hEnd}`;
  assert.is((await fetch(q)).status, 401);
  const r = await fetch(q, { headers: { authorization: `Bearer ${token}` } });
  assert.is(r.status, 200);
  const body = await r.json() as { data: { result: { value: [number, string] }[] } };
  assert.is(body.data.result[0]!.value[1], String(gauges.length));
});
extra.after(async () => {
  for (const p of procs) await p.stop();
  await promSidecar?.stop();
  await promBlocks?.stop();
});
extra.run();
