// The sidecar against a real Prometheus 2.42 (external labels cluster/replica, 5m blocks, scraping
// a target on loopback, plus promtool-backfilled history): the StoreAPI contract over gRPC, Connect and
// gRPC-Web, the SAMPLES fallback, limits, auth, an independent grpc-js client, and partial response
// once Prometheus is stopped. Sidecars run as real `bun agent/main.ts sidecar` processes.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { createServer } from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promApi, promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { labelsFrom, labelsString } from "../../shared/labels/labels.ts";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { ReadRequest_ResponseType } from "../../shared/gen/prometheus/remote_pb.ts";
import { remoteRead } from "../../shared/remote/read.ts";
import {
  addStoreApiContract, assertPartialResponse, collectSeries, type M, promRemoteReadOracle, selector, seriesRequest,
  type StoreApiFixture,
} from "../lib/storeapi-contract.ts";

const root = process.cwd(); // npm test runs from the repo root
const ext = labelsFrom({ cluster: "eu-1", replica: "r1" });

// History: 2h of 15s samples ending an hour ago. Label sets include strict prefixes of each other
// ({a="1"} and {a="1", b="2"}): with external labels attached their order flips, which the sidecar must fix.
const now = Math.floor(Date.now() / 1000);
const hEnd = now - 3600, hStart = hEnd - 7200 + 15;
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

let dataDir = "";
let scrapes = 0;
let target: ReturnType<typeof createServer>;
let prom: Prometheus;
let plain: Sidecar, samples: Sidecar, guarded: Sidecar;
let liveMax = 0, liveMin = 0;
const hMinMs = hStart * 1000, hMaxMs = hEnd * 1000;
const token = "s3cret-token";

interface Sidecar { proc: Proc; http: string; grpc: string }
async function startSidecar(args: string[], env: Record<string, string> = {}): Promise<Sidecar> {
  const hp = await freePort(), gp = await freePort();
  const proc = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "sidecar",
    `--prometheus.url=${prom.url}`, `--tsdb.path=${dataDir}`, `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`,
    "--prometheus.ready_timeout=30s", "--log.level=warn", ...args], { env });
  await waitForHttp(`http://127.0.0.1:${hp}/-/ready`, proc, 30_000);
  return { proc, http: `http://127.0.0.1:${hp}`, grpc: `http://127.0.0.1:${gp}` };
}

let setupDone: Promise<void> | null = null;
function setup(): Promise<void> {
  return (setupDone ??= (async () => {
    dataDir = tempDir("sidecar-prom-").path;
    await promtoolBackfill(om, dataDir);
    // Something live to scrape on loopback: a counter that moves every scrape.
    target = createServer((_req, res) => {
      scrapes++;
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      // path="/b" disappears after the third scrape, so Prometheus writes a staleness marker for it.
      const b = scrapes <= 3 ? `live_requests_total{path="/b"} ${scrapes * 2}\n` : "";
      res.end(`# TYPE live_requests_total counter\nlive_requests_total{path="/a"} ${scrapes}\n${b}`);
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", () => r()));
    const targetPort = (target.address() as { port: number }).port;
    prom = await startPrometheus({
      dataDir,
      config: `global:\n  scrape_interval: 1s\n  external_labels:\n    cluster: eu-1\n    replica: r1\nscrape_configs:\n  - job_name: live\n    static_configs:\n      - targets: ["127.0.0.1:${targetPort}"]\n`,
      args: ["--storage.tsdb.min-block-duration=5m", "--storage.tsdb.max-block-duration=5m", "--web.enable-lifecycle"],
    });
    [plain, samples, guarded] = await Promise.all([
      startSidecar([]),
      startSidecar(["--prometheus.remote-read-accept=samples"]),
      startSidecar(["--store.limits.request-series=10", "--store.limits.request-samples=4000"], { THANOTS_SIDECAR_BEARER_TOKEN: token }),
    ]);
    // Prometheus applies discovered targets after up to 5 s; wait for a few scrapes, then freeze "now"
    // for the live cases.
    for (let i = 0; scrapes < 6; i++) {
      if (i > 300) throw new Error("Prometheus did not scrape the loopback target within 30 s");
      await new Promise((r) => setTimeout(r, 100));
    }
    liveMax = Date.now() - 1500;
    liveMin = liveMax - 60_000;
  })());
}

type Transport = ReturnType<typeof createGrpcTransport>;
const transports = {
  grpc: (s: Sidecar, h?: Record<string, string>) => createGrpcTransport({ baseUrl: s.grpc, interceptors: h ? [withHeaders(h)] : [] }),
  connect: (s: Sidecar, h?: Record<string, string>) => createConnectTransport({ baseUrl: s.http, httpVersion: "1.1", interceptors: h ? [withHeaders(h)] : [] }),
  grpcWeb: (s: Sidecar, h?: Record<string, string>) => createGrpcWebTransport({ baseUrl: s.http, httpVersion: "1.1", interceptors: h ? [withHeaders(h)] : [] }),
};
function withHeaders(h: Record<string, string>) {
  return (next: any) => async (req: any) => { for (const [k, v] of Object.entries(h)) req.header.set(k, v); return await next(req); };
}

async function oracleNames(ms: M[], mint: number, maxt: number): Promise<string[]> {
  const r = await promApi(prom.url, "/api/v1/labels", { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) });
  return r.data;
}
async function oracleValues(name: string, ms: M[], mint: number, maxt: number): Promise<string[]> {
  const r = await promApi(prom.url, `/api/v1/label/${name}/values`, { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) });
  return r.data;
}

function fixture(s: Sidecar, mk: (s: Sidecar, h?: Record<string, string>) => Transport, opts: { limits?: boolean; auth?: boolean; json?: boolean } = {}): StoreApiFixture {
  const h = opts.auth ? { authorization: `Bearer ${token}` } : undefined;
  const t = mk(s, h);
  const fx: StoreApiFixture = {
    store: createClient(Store, t),
    info: createClient(Info, t),
    externalLabels: ext,
    oracle: (ms, mint, maxt) => promRemoteReadOracle(prom.url, ms, mint, maxt),
    oracleLabelNames: oracleNames,
    oracleLabelValues: oracleValues,
    oldest: hMinMs,
    cases: [
      { ms: [["__name__", "=", "demo_gauge"]], mint: hMinMs, maxt: hMaxMs },
      { ms: [["__name__", "=~", "demo_.*"], ["instance", "=~", "i1.*|"]], mint: hMinMs + 1_800_000, maxt: hMaxMs - 1_800_000 },
      { ms: [["__name__", "=", "demo_gauge"], ["b", "!=", "2"]], mint: hMinMs, maxt: hMaxMs },
      { ms: [["__name__", "=", "demo_gauge"], ["b", "=", ""]], mint: hMinMs + 1, maxt: hMaxMs - 1 },
      { ms: [["job", "=", "j"], ["instance", "!~", "i[0-4]"]], mint: hMaxMs - 600_000, maxt: hMaxMs + 3_600_000 },
      { ms: [["__name__", "=", "up"]], mint: liveMin, maxt: liveMax },
      { ms: [["__name__", "=", "live_requests_total"]], mint: liveMin, maxt: liveMax },
      { ms: [["__name__", "=~", "live_requests_total|demo_gauge"], ["code", "=~", "2..|"]], mint: hMinMs, maxt: liveMax },
    ],
  };
  if (opts.json) fx.json = createClient(Store, createConnectTransport({ baseUrl: s.http, httpVersion: "1.1", useBinaryFormat: false, interceptors: h ? [withHeaders(h)] : [] }));
  if (opts.limits) {
    fx.limited = {
      store: createClient(Store, t),
      // 40 series > 10; over the last minute only one 120-sample chunk each, so under the samples limit.
      overSeries: { ms: [["__name__", "=", "demo_counter_total"]], mint: hMaxMs - 60_000, maxt: hMaxMs },
      // 10 series x 480 samples > 4000.
      overSamples: { ms: [["__name__", "=", "demo_counter_total"], ["instance", "=~", "i[0-9]"]], mint: hMinMs, maxt: hMaxMs },
      under: { ms: [["__name__", "=", "demo_gauge"]], mint: hMinMs, maxt: hMaxMs }, // 6 series x 480 samples
    };
  }
  if (opts.auth) {
    fx.auth = {
      without: createClient(Store, mk(s)),
      wrongToken: createClient(Store, mk(s, { authorization: "Bearer nope" })),
      withToken: createClient(Store, mk(s, h)),
    };
  }
  return fx;
}

for (const [name, pick, mk, opts] of [
  ["sidecar over gRPC (streamed chunks)", () => plain, transports.grpc, {}],
  ["sidecar over Connect (streamed chunks), and Connect JSON", () => plain, transports.connect, { json: true }],
  ["sidecar over gRPC-Web, SAMPLES fallback, and Connect JSON", () => samples, transports.grpcWeb, { json: true }],
  ["sidecar with limits and bearer token, over gRPC", () => guarded, transports.grpc, { limits: true, auth: true }],
  ["sidecar with limits and bearer token, over Connect and Connect JSON", () => guarded, transports.connect, { limits: true, auth: true, json: true }],
  ["sidecar with limits and bearer token, over gRPC-Web", () => guarded, transports.grpcWeb, { limits: true, auth: true }],
] as const) {
  const t = suite(name);
  t.before(setup);
  let made: StoreApiFixture | null = null;
  const fx = () => (made ??= fixture(pick(), mk, opts));
  // The limited store's other cases would exceed its 10-series limit: it runs the contract on the first.
  addStoreApiContract(t, () => (opts.limits ? { ...fx(), cases: fx().cases.slice(0, 1) } : fx()), opts);
  t.run();
}

const misc = suite("sidecar: grpc-js interop, metrics, health");
misc.before(setup);

misc("grpc-js with descriptors loaded from proto/ gets the same Series as connect-node", async () => {
  const def = protoLoader.loadSync("thanos/storepb/rpc.proto", { includeDirs: [join(root, "proto")], keepCase: true, longs: String, enums: Number, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.thanos.Store(plain.grpc.replace("http://", ""), grpc.credentials.createInsecure());
  try {
    const ms: M[] = [["__name__", "=", "demo_gauge"]];
    const got = await new Promise<any[]>((resolve, reject) => {
      const out: any[] = [];
      const call = client.Series({ min_time: String(hMinMs), max_time: String(hMaxMs), matchers: ms.map(([name, , value]) => ({ type: 0, name, value })) });
      call.on("data", (r: any) => out.push(r));
      call.on("error", reject);
      call.on("end", () => resolve(out));
    });
    const viaConnect = await collectSeries(createClient(Store, transports.grpc(plain)), seriesRequest(ms, hMinMs, hMaxMs));
    const series = got.filter((r) => r.series).map((r) => r.series);
    assert.equal(series.map((s: any) => labelsString(s.labels)), viaConnect.raw.map(labelsString));
    // Same chunk bytes through both clients.
    const c = createClient(Store, transports.grpc(plain));
    let i = 0;
    for await (const r of c.series(seriesRequest(ms, hMinMs, hMaxMs))) {
      if (r.result.case !== "series") continue;
      const want = r.result.value.chunks.map((x) => Buffer.from(x.raw!.data).toString("hex"));
      assert.equal(series[i].chunks.map((x: any) => Buffer.from(x.raw.data).toString("hex")), want);
      i++;
    }
    assert.is(i, series.length);
  } finally {
    client.close();
  }
});

misc("response_batch_size: batches of at most N series on every protocol and answer type, flattening to the unbatched answer", async () => {
  const ms: M[] = [["__name__", "=~", "demo_.*"]];
  const flat = (r: { labels: { name: string; value: string }[]; chunks: { minTime: bigint; maxTime: bigint; raw?: { data: Uint8Array } }[] }) =>
    `${labelsString(r.labels)} ${r.chunks.map((c) => `${c.minTime}-${c.maxTime}:${Buffer.from(c.raw?.data ?? []).toString("hex")}`).join(",")}`;
  for (const [sc, mk] of [[plain, transports.grpc], [plain, transports.connect], [plain, transports.grpcWeb], [samples, transports.connect]] as const) {
    for (const skipChunks of [false, true]) {
      const c = createClient(Store, mk(sc));
      const want: string[] = [];
      for await (const r of c.series(seriesRequest(ms, hMinMs, hMaxMs, { skipChunks }))) {
        assert.is(r.result.case, "series");
        if (r.result.case === "series") want.push(flat(r.result.value));
      }
      assert.is(want.length, gauges.length + 40);
      const got: string[] = [];
      let batches = 0;
      for await (const r of c.series(seriesRequest(ms, hMinMs, hMaxMs, { skipChunks, responseBatchSize: 4n }))) {
        assert.is(r.result.case, "batch");
        if (r.result.case !== "batch") continue;
        batches++;
        assert.ok(r.result.value.series.length >= 1 && r.result.value.series.length <= 4, `batch of ${r.result.value.series.length}`);
        for (const x of r.result.value.series) got.push(flat(x));
      }
      assert.is(batches, Math.ceil(want.length / 4));
      assert.equal(got, want);
    }
  }
});

misc("/metrics counts StoreAPI requests by code and shows the last external-label refresh; health endpoints", async () => {
  const text = await (await fetch(`${plain.http}/metrics`)).text();
  assert.match(text, /thanos_sidecar_grpc_requests_total\{method="Series",code="OK"\} \d+/);
  assert.match(text, /thanos_sidecar_grpc_requests_total\{method="Series",code="InvalidArgument"\} \d+/);
  assert.match(text, /thanos_sidecar_last_heartbeat_success_time_seconds \d/);
  assert.match(text, /thanos_sidecar_remote_read_duration_seconds_count [1-9]/);
  const g = await (await fetch(`${guarded.http}/metrics`)).text();
  assert.match(g, /code="Unauthenticated"\} [1-9]/);
  assert.match(g, /code="ResourceExhausted"\} [1-9]/);
  assert.ok(!g.includes(token) && !guarded.proc.output().includes(token), "the token appears in no metric or log");
  assert.is((await fetch(`${plain.http}/-/healthy`)).status, 200);
  assert.is((await fetch(`${plain.http}/-/ready`)).status, 200);
});

misc("staleness markers survive streamed chunks and the SAMPLES fallback (Bun sidecar), matching remote read", async () => {
  const ms: M[] = [["__name__", "=", "live_requests_total"], ["path", "=", "/b"]];
  const want = await promRemoteReadOracle(prom.url, ms, liveMin, liveMax);
  assert.is(want.length, 1);
  assert.is(want[0]!.vs.at(-1), "stale", "Prometheus recorded a staleness marker");
  for (const s of [plain, samples]) {
    const got = await collectSeries(createClient(Store, transports.grpc(s)), seriesRequest(ms, liveMin, liveMax));
    assert.equal(got.series.map((x) => x.vs), want.map((x) => x.vs));
  }
});

misc("clients that cancel mid-stream leave the sidecar answering (30 cancels, then full answers on every protocol)", async () => {
  // Prometheus allows 10 concurrent remote reads (--storage.remote.read-concurrent-limit): a read left
  // open per cancel would make later calls wait or fail. (A smoke test: this answer is small enough that
  // Prometheus may have finished sending before the cancel arrives.)
  const ms: M[] = [["__name__", "=~", "demo_.*"]];
  for (let i = 0; i < 30; i++) {
    const mk = [transports.grpc, transports.connect, transports.grpcWeb][i % 3]!;
    const c = createClient(Store, mk(plain));
    const ctl = new AbortController();
    let n = 0;
    try {
      for await (const r of c.series(seriesRequest(ms, hMinMs, hMaxMs), { signal: ctl.signal })) {
        if (r.result.case === "series" && ++n === 2) ctl.abort();
      }
    } catch { /* canceled */ }
    assert.ok(n >= 2);
  }
  for (const mk of [transports.grpc, transports.connect, transports.grpcWeb]) {
    const got = await collectSeries(createClient(Store, mk(plain)), seriesRequest(ms, hMinMs, hMaxMs));
    assert.is(got.raw.length, gauges.length + 40);
  }
});

misc("external labels are re-read periodically: a Prometheus config reload shows up in Info and Series", async () => {
  const s = await startSidecar(["--prometheus.get_config_interval=200ms"]);
  try {
    const cfgArg = prom.proc.child.spawnargs.find((a) => a.startsWith("--config.file="))!;
    const cfgFile = cfgArg.slice("--config.file=".length);
    const before = readFileSync(cfgFile, "utf8");
    writeFileSync(cfgFile, before.replace("replica: r1", "replica: r2"));
    const r = await fetch(`${prom.url}/-/reload`, { method: "POST" });
    assert.is(r.status, 200);
    const info = createClient(Info, transports.grpc(s));
    let labels = "";
    for (let i = 0; i < 50 && !labels.includes("r2"); i++) {
      labels = JSON.stringify((await info.info({})).labelSets[0]?.labels.map((l) => [l.name, l.value]));
      if (!labels.includes("r2")) await new Promise((res) => setTimeout(res, 100));
    }
    assert.is(labels, JSON.stringify([["cluster", "eu-1"], ["replica", "r2"]]));
    const got = await collectSeries(createClient(Store, transports.grpc(s)), seriesRequest([["__name__", "=", "demo_gauge"], ["replica", "=", "r2"]], hMinMs, hMaxMs));
    assert.is(got.raw.length, gauges.length);
    for (const ls of got.raw) assert.ok(ls.some((l) => l.name === "replica" && l.value === "r2"), labelsString(ls));
  } finally {
    await s.proc.stop();
  }
});

misc("remote read over whole block ranges: a window cutting chunks gets Prometheus' own whole chunks, only those overlapping it", async () => {
  // Prometheus' answer over the whole history, streamed (nothing cut, nothing re-encoded): the reference.
  const ms: M[] = [["__name__", "=", "demo_counter_total"], ["instance", "=", "i3"]];
  const streamed = async (mint: number, maxt: number) => {
    const res = await remoteRead((u, init) => fetch(u, init), `${prom.url}/api/v1/read`, {
      queries: [{ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(maxt), matchers: ms.map(([name, , value]) => ({ type: 0, name, value })) }],
      acceptedResponseTypes: [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS],
    });
    assert.is(res.type, "chunked");
    const out: { min: number; max: number; hex: string }[] = [];
    if (res.type === "chunked") for await (const m of res.frames) for (const cs of m.chunkedSeries) for (const c of cs.chunks) out.push({ min: Number(c.minTimeMs), max: Number(c.maxTimeMs), hex: Buffer.from(c.data).toString("hex") });
    return out;
  };
  const whole = await streamed(hMinMs - 3 * 3600_000, hMaxMs + 3 * 3600_000);
  assert.ok(whole.length >= 4, `${whole.length} chunks over the history`);
  // A window from inside one chunk to inside a later one (5 min blocks here: chunks end at 5 min multiples).
  const c0 = whole[1]!, c1 = whole[3]!;
  const mint = c0.min + 30_000, maxt = c1.max - 30_000;
  const exact = await streamed(mint, maxt);
  assert.ok(exact.some((c, i) => c.hex !== whole.find((w) => w.min <= c.min && w.max >= c.max)?.hex) || exact[0]!.min !== c0.min,
    "Prometheus trims (re-encodes) chunks a window cuts: the case this avoids");
  const c = createClient(Store, transports.grpc(plain));
  const got: { min: number; max: number; hex: string }[] = [];
  for await (const r of c.series(seriesRequest(ms, mint, maxt))) {
    if (r.result.case !== "series") continue;
    for (const x of r.result.value.chunks) got.push({ min: Number(x.minTime), max: Number(x.maxTime), hex: Buffer.from(x.raw!.data).toString("hex") });
  }
  // Exactly Prometheus' untrimmed chunks that overlap the window, byte for byte.
  assert.equal(got, whole.filter((w) => w.max >= mint && w.min <= maxt));
  // And the samples in the window are Prometheus' answer to that exact window (SAMPLES, its own trimming).
  const samplesGot = await collectSeries(c, seriesRequest(ms, mint, maxt));
  assert.equal(samplesGot.series.map((x) => [x.ts, x.vs]), (await promRemoteReadOracle(prom.url, ms, mint, maxt)).map((x) => [x.ts, x.vs]));
  // A series whose chunks all lie outside the window, but inside the widened ranges, is not in the answer.
  const none = await collectSeries(c, seriesRequest(ms, hMaxMs + 60_000, hMaxMs + 120_000));
  assert.equal(none.raw, []);
  assert.equal(await promRemoteReadOracle(prom.url, ms, hMaxMs + 60_000, hMaxMs + 120_000), []);
});

misc("partial response once Prometheus is stopped: WARN is a warning frame, ABORT an Unavailable error", async () => {
  await prom.stop();
  const c = createClient(Store, transports.grpc(plain));
  await assertPartialResponse(c, [["__name__", "=", "demo_gauge"]], hMinMs, hMaxMs);
});

misc.after(async () => {
  await Promise.all([plain.proc.stop(), samples.proc.stop(), guarded.proc.stop(), prom.stop()]);
  target.close();
});

misc.run();
