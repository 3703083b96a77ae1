// The store gateway (`bun agent/main.ts store`) over blocks written by promtool and uploaded to a
// filesystem bucket and to S3 (s3rver), against a real Prometheus 2.42 serving copies of the same blocks:
// the StoreAPI contract over gRPC, Connect and Connect JSON, plus limits and a bearer token (--grpc-server.bearer-token-file)
// on a third gateway. Two backfills overlap in time for one metric (interleaved timestamps), so the store must
// merge overlapping blocks of one stream.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promApi, promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { addStoreApiContract, collectSeries, type M, promRemoteReadOracle, selector, seriesRequest, type StoreApiFixture } from "../lib/storeapi-contract.ts";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { uploadBlockDir } from "../../agent/objstore/block.ts";
import { S3Bucket } from "../../shared/objstore/s3.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { startS3rver, type S3Server } from "../unit/objstore/s3rver.ts";

const root = process.cwd();
const ext = labelsFrom({ cluster: "eu-1", replica: "r1" });

// 6 h of 15 s samples ending 3 h ago (promtool cuts 2 h blocks), plus an overlapping backfill.
const H = 3600;
const hEnd = Math.floor(Date.now() / 1000 / 7200) * 7200 - 3 * H;
const hStart = hEnd - 6 * H + 15;
let om = "# TYPE demo_gauge gauge\n";
const gauges = ['a="1"', 'a="1",b="2"', 'a="1",b="2",zone="x"', 'a="2"', 'a="2",b="3"', 'a="3",le="0.5"'];
for (const [i, g] of gauges.entries()) {
  for (let t = hStart; t <= hEnd; t += 15) om += `demo_gauge{${g}} ${t === hStart + 150 && i === 0 ? "NaN" : Math.sin(t / 600 + i).toFixed(4)} ${t}\n`;
}
om += "# TYPE demo_counter counter\n";
for (let n = 0; n < 40; n++) {
  for (let t = hStart; t <= hEnd; t += 15) om += `demo_counter_total{instance="i${n}",job="j"} ${(t - hStart) * (n + 1)} ${t}\n`;
}
om += "# TYPE demo_overlap gauge\n";
for (let t = hStart; t <= hEnd; t += 30) om += `demo_overlap{k="v"} ${t % 7} ${t}\n`;
om += "# EOF\n";
// Second backfill: the same series at the timestamps in between, over the middle 2 h.
let om2 = "# TYPE demo_overlap gauge\n";
for (let t = hStart + 2 * H + 15; t <= hStart + 4 * H; t += 30) om2 += `demo_overlap{k="v"} ${t % 11} ${t}\n`;
om2 += "# EOF\n";

const hMinMs = hStart * 1000, hMaxMs = hEnd * 1000;
let prom: Prometheus;
let s3: S3Server;
interface Gw { proc: Proc; http: string; grpc: string }
const gws: Gw[] = [];
let fsGw: Gw, s3Gw: Gw, guardedGw: Gw;
/** The guarded gateway's token, in the file given to --grpc-server.bearer-token-file. */
const token = "store-s3cret";
let blockCount = 0;
let fsCfgFile = "";

async function startStore(cfg: string, args: string[] = []): Promise<Gw> {
  const dir = tempDir("store-cfg-").path;
  const file = join(dir, "bucket.yml");
  writeFileSync(file, cfg);
  if (cfg.includes("FILESYSTEM")) fsCfgFile = file;
  const hp = await freePort(), gp = await freePort();
  const proc = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "store",
    `--objstore.config-file=${file}`, `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, ...(args.some((a) => a.startsWith("--log.level")) ? [] : ["--log.level=warn"]), ...args]);
  const gw = { proc, http: `http://127.0.0.1:${hp}`, grpc: `http://127.0.0.1:${gp}` };
  gws.push(gw);
  await waitForHttp(`${gw.http}/-/ready`, proc, 30_000);
  return gw;
}

async function uploadAll(bkt: Bucket, blocksDir: string): Promise<number> {
  let n = 0;
  for (const id of readdirSync(blocksDir)) {
    if (!/^[0-9A-Z]{26}$/.test(id)) continue;
    const meta = JSON.parse(readFileSync(join(blocksDir, id, "meta.json"), "utf8"));
    meta.thanos = { labels: { cluster: "eu-1", replica: "r1" }, downsample: { resolution: 0 }, source: "test" };
    await uploadBlockDir(bkt, join(blocksDir, id), { meta: new TextEncoder().encode(JSON.stringify(meta)) });
    n++;
  }
  return n;
}

let setupDone: Promise<void> | null = null;
function setup(): Promise<void> {
  return (setupDone ??= (async () => {
    const blocks = tempDir("store-blocks-").path;
    await promtoolBackfill(om, blocks);
    await promtoolBackfill(om2, blocks);
    // Prometheus gets a copy: it may compact the overlapping blocks in its own directory.
    const promDir = tempDir("store-prom-").path;
    cpSync(blocks, promDir, { recursive: true });
    const bucketDir = tempDir("store-bucket-").path;
    blockCount = await uploadAll(new FilesystemBucket(bucketDir), blocks);
    s3 = await startS3rver(["thanos"]);
    const creds = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
    const s3b = new S3Bucket({ bucket: "thanos", endpoint: s3.endpoint, region: "us-east-1", credentials: creds, forcePathStyle: true });
    await uploadAll(s3b, blocks);
    s3b.destroy();
    const port = new URL(s3.endpoint).port;
    const fsCfg = `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`;
    [prom, fsGw, s3Gw, guardedGw] = await Promise.all([
      startPrometheus({ dataDir: promDir, config: "global:\n  external_labels:\n    cluster: eu-1\n    replica: r1\n" }),
      startStore(fsCfg),
      startStore(`type: S3\nconfig:\n  bucket: thanos\n  endpoint: 127.0.0.1:${port}\n  insecure: true\n  access_key: S3RVER\n  secret_key: S3RVER\n  bucket_lookup_type: path\n`),
      startStore(fsCfg, ["--store.limits.request-series=10", "--store.limits.request-samples=4000", `--grpc-server.bearer-token-file=${tokenFile()}`, "--log.level=info"]),
    ]);
  })());
}

async function oracleNames(ms: M[], mint: number, maxt: number): Promise<string[]> {
  return (await promApi(prom.url, "/api/v1/labels", { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data;
}
async function oracleValues(name: string, ms: M[], mint: number, maxt: number): Promise<string[]> {
  return (await promApi(prom.url, `/api/v1/label/${name}/values`, { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data;
}

function tokenFile(): string {
  const f = join(tempDir("store-token-").path, "token");
  writeFileSync(f, `${token}\n`);
  return f;
}

type Mk = (gw: Gw, headers?: Record<string, string>) => ReturnType<typeof createGrpcTransport>;
const withHeaders = (h?: Record<string, string>): Interceptor[] => (h ? [(next) => async (req) => { for (const [k, v] of Object.entries(h)) req.header.set(k, v); return await next(req); }] : []);
const grpcT: Mk = (gw, h) => createGrpcTransport({ baseUrl: gw.grpc, interceptors: withHeaders(h) });
const connectT: Mk = (gw, h) => createConnectTransport({ baseUrl: gw.http, httpVersion: "1.1", interceptors: withHeaders(h) });

/** A fixture over fsGw or s3Gw; `guarded` adds the limits and auth parts over guardedGw (same bucket as fsGw). */
function fixture(gw: Gw, mk: Mk, guarded = false): StoreApiFixture {
  const t = mk(gw);
  const fx: StoreApiFixture = {
    store: createClient(Store, t),
    info: createClient(Info, t),
    externalLabels: ext,
    oracle: (ms, mint, maxt) => promRemoteReadOracle(prom.url, ms, mint, maxt),
    oracleLabelNames: oracleNames,
    oracleLabelValues: oracleValues,
    oldest: hMinMs,
    infoMaxTime: hMaxMs,
    cases: [
      { ms: [["__name__", "=", "demo_gauge"]], mint: hMinMs, maxt: hMaxMs },
      { ms: [["__name__", "=~", "demo_.*"], ["instance", "=~", "i1.*|"]], mint: hMinMs + 1_800_000, maxt: hMaxMs - 1_800_000 },
      { ms: [["__name__", "=", "demo_gauge"], ["b", "!=", "2"]], mint: hMinMs, maxt: hMaxMs },
      { ms: [["__name__", "=", "demo_gauge"], ["b", "=", ""]], mint: hMinMs + 1, maxt: hMaxMs - 1 },
      { ms: [["job", "=", "j"], ["instance", "!~", "i[0-4]"]], mint: hMaxMs - 600_000, maxt: hMaxMs + 3_600_000 },
      { ms: [["__name__", "=", "demo_overlap"]], mint: hMinMs, maxt: hMaxMs },
      { ms: [["__name__", "=", "demo_overlap"]], mint: hMinMs + 2 * 3_600_000 - 60_000, maxt: hMinMs + 3 * 3_600_000 },
      { ms: [["__name__", "=~", "demo_counter_total|demo_gauge"], ["a", "=~", "1|"]], mint: hMinMs + 7_000_000, maxt: hMinMs + 7_400_000 },
    ],
  };
  // Connect JSON (application/connect+json) on the same gateway's HTTP port.
  fx.json = createClient(Store, createConnectTransport({ baseUrl: gw.http, httpVersion: "1.1", useBinaryFormat: false }));
  if (guarded) {
    const bearer = { authorization: `Bearer ${token}` };
    fx.limited = {
      store: createClient(Store, mk(guardedGw, bearer)),
      overSeries: { ms: [["__name__", "=", "demo_counter_total"]], mint: hMaxMs - 60_000, maxt: hMaxMs },
      overSamples: { ms: [["__name__", "=", "demo_counter_total"], ["instance", "=~", "i[0-9]"]], mint: hMinMs, maxt: hMaxMs },
      under: { ms: [["__name__", "=", "demo_gauge"], ["a", "=", "2"]], mint: hMaxMs - 1_800_000, maxt: hMaxMs },
    };
    fx.auth = {
      without: createClient(Store, mk(guardedGw)),
      wrongToken: createClient(Store, mk(guardedGw, { authorization: "Bearer nope" })),
      withToken: createClient(Store, mk(guardedGw, bearer)),
    };
  }
  return fx;
}

const fixtures: Record<string, StoreApiFixture> = {};
for (const [name, gw, mk, guarded] of [
  ["filesystem bucket, gRPC; limits and bearer token", () => fsGw, grpcT, true],
  ["filesystem bucket, Connect; limits and bearer token", () => fsGw, connectT, true],
  ["S3 (s3rver), gRPC", () => s3Gw, grpcT, false],
] as const) {
  const t = suite(`store gateway: ${name}`);
  t.before(async () => { await setup(); fixtures[name] = fixture(gw(), mk, guarded); });
  addStoreApiContract(t, () => fixtures[name]!, { limits: guarded, auth: guarded, json: true });
  t.run();
}

const extra = suite("store gateway: blocks, overlap, Info");
extra.before(setup);
extra("the bucket holds several promtool blocks, overlapping ones among them; Info covers them all", async () => {
  assert.ok(blockCount >= 4, `${blockCount} blocks uploaded`);
  const info = await createClient(Info, grpcT(fsGw)).info({});
  assert.is(info.ComponentType, "store");
  assert.is(Number(info.store!.minTime), hMinMs);
  assert.equal(info.store!.tsdbInfos.length, 1);
  assert.equal(info.store!.tsdbInfos[0]!.labels!.labels.map((l) => l.name), ["cluster", "replica"]);
});
extra("the store warmed up (--store.warmup-calls, default 600) before it listened for gRPC", () => {
  const out = guardedGw.proc.output();
  const m = /msg="warmed up" calls=(\d+) ms=(\d+)/.exec(out);
  assert.ok(m, out.slice(-2000));
  assert.ok(Number(m![1]) > 0, m![0]); // 600 unless its 5 s budget ran out first (a loaded machine)
  assert.ok(out.indexOf("warmed up") < out.indexOf("listening for gRPC"), "warm-up before the gRPC listener");
  assert.not.match(out, "warm-up failed");
});
extra("overlapping blocks of one stream come back as one series with every sample once, in time order", async () => {
  const ms: M[] = [["__name__", "=", "demo_overlap"]];
  const got = await collectSeries(createClient(Store, grpcT(fsGw)), seriesRequest(ms, hMinMs, hMaxMs));
  const want = await promRemoteReadOracle(prom.url, ms, hMinMs, hMaxMs);
  assert.is(got.series.length, 1);
  assert.equal(got.series[0]!.ts, want[0]!.ts);
  // The overlap doubles the sample rate in the middle two hours: 6h/30s + 2h/30s samples.
  assert.ok(want[0]!.ts.length > (6 * 3600) / 30, `${want[0]!.ts.length} samples`);
});
extra("raw chunks carry their xxhash64", async () => {
  let n = 0;
  for await (const r of createClient(Store, grpcT(fsGw)).series(seriesRequest([["__name__", "=", "demo_gauge"]], hMinMs, hMaxMs))) {
    if (r.result.case !== "series") continue;
    for (const c of r.result.value.chunks) { assert.is(typeof c.raw?.hash, "bigint"); n++; }
  }
  assert.ok(n > 0);
});
extra("tools bucket index writes bucket-index.json; tools bucket ls lists the same blocks from it and by listing", async () => {
  const bun = join(root, "node_modules/.bin/bun");
  const run = (args: string[]) => execFileSync(bun, [join(root, "agent/main.ts"), "tools", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  assert.match(run(["bucket", "index", `--objstore.config-file=${fsCfgFile}`]), new RegExp(`${blockCount} blocks, 0 deletion marks`));
  const listed = run(["bucket", "ls", `--objstore.config-file=${fsCfgFile}`]).trim().split("\n");
  assert.is(listed.length, blockCount);
  const wide = run(["bucket", "ls", "-o", "wide", "--bucket-index", `--objstore.config-file=${fsCfgFile}`]).trim().split("\n");
  // Thanos' wide form: "<ULID> -- <from> - <until> Diff: <range>, Compaction: <level>, Downsample: <res>, Source: <source>".
  assert.equal(wide.map((l) => l.split(" ")[0]), listed);
  for (const l of wide) assert.match(l, /^[0-9A-Z]{26} -- \S+ - \S+ Diff: \S+, Compaction: 1, Downsample: 0, Source: test$/);
});
extra.after(async () => {
  for (const g of gws) await g.proc.stop();
  await prom?.stop();
  await s3?.stop();
});
extra.run();
