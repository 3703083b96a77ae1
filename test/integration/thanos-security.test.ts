// Drop-in with a real Thanos v0.41.0 (test/lib/thanos.ts, built once and cached) on one real
// Prometheus 2.42, with certificates made by openssl in the test:
// - snappy: a Thanos querier started with --grpc-compression=snappy reads our sidecar, and our querier
//   with --grpc-compression=snappy reads a Thanos sidecar (whose answers then come snappy-compressed);
// - mTLS with Thanos' flags: a Thanos querier (--grpc-client-tls-*) reads our sidecar and our store
//   gateway (--grpc-server-tls-cert/-key/-client-ca), and our querier reads a Thanos sidecar over mTLS;
// - refusals: a Thanos querier without a client certificate, or with one from another CA, and our own
//   gRPC client the same ways, get nothing from our sidecar (no series, no label names); a wrong basic-auth
//   password on our querier's --http.config gets 401 and no data.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { createGrpcClients } from "../../agent/grpc/client.ts";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { uploadBlockDir } from "../../agent/objstore/block.ts";
import { bcryptHash } from "../../shared/encoding/bcrypt.ts";
import { errorMessage } from "../../shared/encoding/errors.ts";
import { LabelNamesRequestSchema, SeriesRequestSchema } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { LabelMatcher_Type } from "../../shared/gen/thanos/storepb/types_pb.ts";
import { makeCa, makeCert } from "../lib/certs.ts";
import { freePort, startProcess, tempDir, waitForHttp, waitForHealthyStores, type Proc } from "../lib/proc.ts";
import { promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { thanosBinary } from "../lib/thanos.ts";

const root = process.cwd();
const bun = join(root, "node_modules/.bin/bun");
const dir = tempDir("thanos-security-").path;
const procs: Proc[] = [];
let thanos = "";
let prom: Prometheus;

const ca = makeCa(dir, "ca");
const otherCa = makeCa(dir, "otherca");
const server = makeCert(dir, ca, "server", { server: true, cn: "localhost" });
const client = makeCert(dir, ca, "client");
const intruder = makeCert(dir, otherCa, "intruder");
const serverTls = [`--grpc-server-tls-cert=${server.cert}`, `--grpc-server-tls-key=${server.key}`, `--grpc-server-tls-client-ca=${ca.cert}`];
const clientTls = (cert: { cert: string; key: string } | null) => [
  "--grpc-client-tls-secure", `--grpc-client-tls-ca=${ca.cert}`, "--grpc-client-server-name=localhost",
  ...(cert ? [`--grpc-client-tls-cert=${cert.cert}`, `--grpc-client-tls-key=${cert.key}`] : []),
];

function start(cmd: string, args: string[]): Proc {
  const p = startProcess(cmd, args, { cwd: root });
  procs.push(p);
  return p;
}

interface Ports { http: number; grpc: number }
async function ports(): Promise<Ports> { return { http: await freePort(), grpc: await freePort() }; }

async function ourSidecar(extra: string[]): Promise<Ports> {
  const p = await ports();
  const proc = start(bun, ["agent/main.ts", "sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${prom.dataDir}`, `--http-address=127.0.0.1:${p.http}`,
    `--grpc-address=127.0.0.1:${p.grpc}`, "--prometheus.get_config_interval=2s", "--log.level=warn", ...extra]);
  await waitForHttp(`http://127.0.0.1:${p.http}/-/ready`, proc, 30_000);
  return p;
}

async function thanosSidecar(extra: string[]): Promise<Ports> {
  const p = await ports();
  const proc = start(thanos, ["sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${prom.dataDir}`, `--http-address=127.0.0.1:${p.http}`,
    `--grpc-address=127.0.0.1:${p.grpc}`, "--log.level=warn", ...extra]);
  await waitForHttp(`http://127.0.0.1:${p.http}/-/ready`, proc, 30_000);
  return p;
}

async function thanosQuerier(endpoints: string[], extra: string[]): Promise<string> {
  const p = await ports();
  const proc = start(thanos, ["query", ...endpoints.map((e) => `--endpoint=${e}`), `--http-address=127.0.0.1:${p.http}`, `--grpc-address=127.0.0.1:${p.grpc}`,
    "--log.level=warn", ...extra]);
  await waitForHttp(`http://127.0.0.1:${p.http}/-/ready`, proc, 30_000);
  return `http://127.0.0.1:${p.http}`;
}

async function ourQuerier(endpoints: string[], extra: string[], headers: Record<string, string> = {}): Promise<string> {
  const p = await ports();
  const proc = start(bun, ["agent/main.ts", "query", ...endpoints.map((e) => `--endpoint=${e}`), `--http-address=127.0.0.1:${p.http}`,
    "--store.info-ttl=1s", "--log.level=warn", ...extra]);
  const url = `http://127.0.0.1:${p.http}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/-/ready`, { headers })).ok) break;
    } catch { /* not listening yet */ }
    if (i > 300 || proc.child.exitCode !== null) throw new Error(`our querier did not get ready: ${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return url;
}

interface QueryResult { status: string; data: { result: { metric: Record<string, string> }[] }; warnings?: string[] }
async function query(base: string, q: string, headers: Record<string, string> = {}): Promise<QueryResult> {
  const r = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: q, dedup: "false" })}`, { headers });
  return await r.json() as QueryResult;
}
async function labelNames(base: string): Promise<string[]> {
  const r = await (await fetch(`${base}/api/v1/labels`)).json() as { data?: string[] };
  return r.data ?? [];
}

const H = 3600;
const hEnd = Math.floor(Date.now() / 1000 / 7200) * 7200 - 3 * H;
const hStart = hEnd - 2 * H + 15;
let sidecarTls: Ports, sidecarPlain: Ports, storeTls: Ports, thanosTls: Ports, thanosPlain: Ports;

test.before(async () => {
  thanos = await thanosBinary();
  prom = await startPrometheus({
    config: "global:\n  scrape_interval: 1s\n  external_labels: {cluster: c1, replica: a}\nscrape_configs:\n  - job_name: t\n    static_configs: [{targets: ['127.0.0.1:1']}]\n",
  });
  // A bucket with one block for the store gateway.
  let om = "# TYPE history_gauge gauge\n";
  for (let t = hStart; t <= hEnd; t += 60) om += `history_gauge{k="v"} ${t % 13} ${t}\n`;
  const blocks = join(dir, "blocks");
  mkdirSync(blocks);
  await promtoolBackfill(om + "# EOF\n", blocks);
  const bucketDir = join(dir, "bucket");
  mkdirSync(bucketDir);
  const bkt = new FilesystemBucket(bucketDir);
  for (const id of readdirSync(blocks).filter((d) => /^[0-9A-Z]{26}$/.test(d))) {
    const meta = JSON.parse(readFileSync(join(blocks, id, "meta.json"), "utf8"));
    meta.thanos = { labels: { cluster: "c1", store: "gw" }, downsample: { resolution: 0 }, source: "test" };
    await uploadBlockDir(bkt, join(blocks, id), { meta: new TextEncoder().encode(JSON.stringify(meta)) });
  }
  const bucketYml = join(dir, "bucket.yml");
  writeFileSync(bucketYml, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
  const storePorts = await ports();
  const store = start(bun, ["agent/main.ts", "store", `--objstore.config-file=${bucketYml}`, `--http-address=127.0.0.1:${storePorts.http}`,
    `--grpc-address=127.0.0.1:${storePorts.grpc}`, "--log.level=warn", ...serverTls]);
  [sidecarTls, sidecarPlain, thanosTls, thanosPlain] = await Promise.all([ourSidecar(serverTls), ourSidecar([]), thanosSidecar(serverTls), thanosSidecar([])]);
  await waitForHttp(`http://127.0.0.1:${storePorts.http}/-/ready`, store, 30_000);
  storeTls = storePorts;
  for (let i = 0; i < 100; i++) {
    if ((await query(prom.url, "up")).data.result.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await prom?.stop();
});

test("snappy: a Thanos querier with --grpc-compression=snappy reads our sidecar", async () => {
  const q = await thanosQuerier([`127.0.0.1:${sidecarPlain.grpc}`], ["--grpc-compression=snappy"]);
  await waitForHealthyStores(q, 1, 20_000);
  const r = await query(q, "up");
  assert.is(r.status, "success", JSON.stringify(r));
  assert.equal(r.data.result.map((s) => s.metric.replica), ["a"]);
  assert.ok((await labelNames(q)).includes("replica"));
});

test("snappy: our querier with --grpc-compression=snappy reads a Thanos sidecar (answers in snappy too)", async () => {
  const q = await ourQuerier([`127.0.0.1:${thanosPlain.grpc}`], ["--grpc-compression=snappy"]);
  await waitForHealthyStores(q, 1, 20_000);
  const r = await query(q, "up");
  assert.is(r.status, "success", JSON.stringify(r));
  assert.equal(r.data.result.map((s) => s.metric.replica), ["a"]);
  assert.equal(r.warnings ?? [], []);
});

test("mTLS: a Thanos querier with Thanos' client flags reads our sidecar and our store gateway", async () => {
  const q = await thanosQuerier([`127.0.0.1:${sidecarTls.grpc}`, `127.0.0.1:${storeTls.grpc}`], clientTls(client));
  await waitForHealthyStores(q, 2, 20_000);
  const r = await query(q, "up");
  assert.equal(r.data.result.map((s) => s.metric.replica), ["a"]);
  const h = await (await fetch(`${q}/api/v1/query_range?${new URLSearchParams({ query: "history_gauge", start: String(hStart), end: String(hEnd), step: "600" })}`)).json() as QueryResult;
  assert.is(h.status, "success");
  assert.equal(h.data.result.map((s) => s.metric.store), ["gw"]);
});

test("mTLS: our querier with the same flags reads a Thanos sidecar", async () => {
  const q = await ourQuerier([`127.0.0.1:${thanosTls.grpc}`], clientTls(client));
  await waitForHealthyStores(q, 1, 20_000);
  const r = await query(q, "up");
  assert.equal(r.data.result.map((s) => s.metric.replica), ["a"]);
  assert.equal(r.warnings ?? [], []);
});

test("refused: Thanos querier without a client certificate, or with one from another CA, gets no series and no label names", async () => {
  const [none, other] = await Promise.all([
    thanosQuerier([`127.0.0.1:${sidecarTls.grpc}`], clientTls(null)),
    thanosQuerier([`127.0.0.1:${sidecarTls.grpc}`], [...clientTls(intruder)]),
  ]);
  await new Promise((r) => setTimeout(r, 3000)); // time for their endpoint checks to fail
  for (const q of [none, other]) {
    const st = await (await fetch(`${q}/api/v1/stores`)).json() as { data: Record<string, { lastError: string | null }[]> | null };
    const healthy = Object.values(st.data ?? {}).flat().filter((s) => s.lastError === null);
    assert.is(healthy.length, 0, JSON.stringify(st));
    const r = await query(q, "up");
    assert.equal(r.data.result, []);
    assert.not.ok((await labelNames(q)).includes("replica"));
  }
});

test("refused: our gRPC client without a certificate, with another CA's, or in plaintext learns nothing", async () => {
  const target = `127.0.0.1:${sidecarTls.grpc}`;
  const req = create(SeriesRequestSchema, { minTime: 0n, maxTime: BigInt(Date.now() + 60_000), matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "up" }] });
  const attempt = async (c: ReturnType<typeof createGrpcClients>): Promise<string> => {
    try {
      let n = 0;
      for await (const _ of c.store.series(req, { timeoutMs: 5000 })) n++;
      const names = await c.store.labelNames(create(LabelNamesRequestSchema, { start: 0n, end: BigInt(Date.now() + 60_000) }), { timeoutMs: 5000 });
      return `got ${n} messages and ${names.names.length} label names`;
    } catch (e) {
      return `refused: ${errorMessage(e)}`;
    } finally {
      c.close();
    }
  };
  const tls = (cert?: { cert: string; key: string }) => ({ skipVerify: false, caFile: ca.cert, serverName: "localhost", certFile: cert?.cert, keyFile: cert?.key });
  const ok = await attempt(createGrpcClients(target, { tls: tls(client) }));
  assert.match(ok, /^got [1-9]\d* messages and [1-9]\d* label names$/, ok);
  for (const [what, c] of [
    ["no certificate", createGrpcClients(target, { tls: tls() })],
    ["another CA", createGrpcClients(target, { tls: tls(intruder) })],
    ["plaintext", createGrpcClients(target, {})],
  ] as const) {
    const r = await attempt(c);
    assert.match(r, /^refused: /, `${what}: ${r}`);
  }
});

test("refused: a wrong basic-auth password on our querier's --http.config gets 401 and no data", async () => {
  const cfg = join(dir, "web.yml");
  writeFileSync(cfg, `basic_auth_users:\n  ops: ${bcryptHash("correct horse", 4, new Uint8Array(16).fill(3))}\n`);
  const auth = (p: string) => ({ authorization: `Basic ${Buffer.from(`ops:${p}`).toString("base64")}` });
  const q = await ourQuerier([`127.0.0.1:${sidecarPlain.grpc}`], [`--http.config=${cfg}`], auth("correct horse"));
  for (const path of ["/api/v1/query?query=up", "/api/v1/labels", "/api/v1/stores", "/graph", "/metrics"]) {
    for (const h of [{}, auth("wrong")]) {
      const r = await fetch(`${q}${path}`, { headers: h });
      const body = await r.text();
      assert.is(r.status, 401, path);
      assert.is(body, "Unauthorized\n");
    }
  }
  for (let i = 0; i < 50; i++) {
    const r = await query(q, "up", auth("correct horse"));
    if (r.data.result.length > 0) break;
    await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal((await query(q, "up", auth("correct horse"))).data.result.map((s) => s.metric.replica), ["a"]);
});

test.run();
