// The querier (`bun agent query`) with every endpoint form Thanos users write, against two real
// Prometheus 2.42 servers (external labels replica=a / b) and our sidecars:
//   host:port, grpc://, http://, dns+localhost:port (a real lookup through the system resolver),
//   dnssrv+ and dnssrvnoa+ (through a small DNS server on loopback: test/lib/dns-server.ts, reached with
//   THANOTS_DNS_SERVERS), --endpoint-group (one store over an HA pair), --endpoint-strict (a dead one
//   stays listed, down), DNS re-resolution adding a store, and --store.sd-files adding one within seconds.
// Each querier answers `up` from the stores it should have. Also: the sidecar's min time is Prometheus'
// prometheus_tsdb_lowest_timestamp_seconds (as Thanos' sidecar reads it), and a range older than it is
// not asked of the sidecar.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { startDnsServer, type DnsServer } from "../lib/dns-server.ts";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { startPrometheus, type Prometheus } from "../lib/prometheus.ts";

const root = process.cwd();
const bun = join(root, "node_modules/.bin/bun");

function promConfig(replica: string): string {
  // `up` of an unreachable target is a series too (value 0): data without a second server to scrape.
  return `global:\n  scrape_interval: 1s\n  external_labels: {cluster: c1, replica: ${replica}}\nscrape_configs:\n  - job_name: t\n    static_configs: [{targets: ["127.0.0.1:1"]}]\n`;
}

interface Sidecar { proc: Proc; http: number; grpc: number }
let promA: Prometheus, promB: Prometheus, a: Sidecar, b: Sidecar, dns: DnsServer;
const procs: Proc[] = [];

async function sidecar(prom: Prometheus): Promise<Sidecar> {
  const http = await freePort(), grpc = await freePort();
  const proc = startProcess(bun, [join(root, "agent/main.ts"), "sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${prom.dataDir}`,
    `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${grpc}`, "--prometheus.get_config_interval=1s", "--log.level=warn"]);
  procs.push(proc);
  await waitForHttp(`http://127.0.0.1:${http}/-/ready`, proc, 30_000);
  return { proc, http, grpc };
}

async function querier(args: string[], env: Record<string, string> = {}): Promise<{ url: string; proc: Proc }> {
  const port = await freePort();
  const proc = startProcess(bun, [join(root, "agent/main.ts"), "query", ...args, "--store.info-ttl=1s", `--http-address=127.0.0.1:${port}`, "--log.level=warn"],
    { env: { THANOTS_DNS_SERVERS: `127.0.0.1:${dns.port}`, ...env } });
  procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 30_000);
  return { url, proc };
}

interface StoreRow { name: string; healthy: boolean; lastError: string | null; minTime: number; labelSets: Record<string, string>[] }
async function stores(url: string): Promise<StoreRow[]> {
  const r = await (await fetch(`${url}/api/v1/stores`)).json() as { data: Record<string, StoreRow[]> };
  return Object.values(r.data).flat().sort((x, y) => x.name.localeCompare(y.name));
}

/** Replica labels of `up` through the querier, without dedup (so each store's series shows). */
async function replicas(url: string): Promise<string[]> {
  const r = await (await fetch(`${url}/api/v1/query?query=up&dedup=false`)).json() as { data: { result: { metric: Record<string, string> }[] } };
  return r.data.result.map((s) => s.metric.replica!).sort();
}

async function eventually<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v: T;
  for (;;) {
    try {
      v = await f();
      if (ok(v)) return v;
    } catch (e) {
      v = e as T;
    }
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test.before(async () => {
  [promA, promB] = await Promise.all([startPrometheus({ config: promConfig("a") }), startPrometheus({ config: promConfig("b") })]);
  [a, b] = await Promise.all([sidecar(promA), sidecar(promB)]);
  dns = await startDnsServer();
  dns.table.a.set("a.stores.test", ["127.0.0.1"]);
  dns.table.a.set("b.stores.test", ["127.0.0.1"]);
  dns.table.srv.set("_grpc._tcp.stores.test", [{ target: "a.stores.test", port: a.grpc }, { target: "b.stores.test", port: b.grpc }]);
  dns.table.srv.set("_grpc._tcp.noa.test", [{ target: "localhost.", port: a.grpc }, { target: "127.0.0.1", port: b.grpc }]);
  dns.table.srv.set("_grpc._tcp.dyn.test", [{ target: "a.stores.test", port: a.grpc }]);
  // Both have scraped at least once.
  for (const p of [promA, promB]) await eventually("first scrape", async () => (await (await fetch(`${p.url}/api/v1/query?query=up`)).json() as { data: { result: unknown[] } }).data.result.length, (n) => n > 0);
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await Promise.all([promA?.stop(), promB?.stop()]);
  await dns?.close();
});

test("static forms: host:port (gRPC, as Thanos), grpc://, http://, each with its name in /api/v1/stores", async () => {
  const q = await querier([`--endpoint=127.0.0.1:${a.grpc}`, `--endpoint=grpc://127.0.0.1:${b.grpc}`, `--endpoint=http://127.0.0.1:${b.http}`]);
  const st = await eventually("stores healthy", () => stores(q.url), (s) => s.length === 3 && s.every((x) => x.healthy));
  assert.equal(st.map((s) => s.name), [`127.0.0.1:${a.grpc}`, `grpc://127.0.0.1:${b.grpc}`, `http://127.0.0.1:${b.http}`].sort());
  assert.equal(await replicas(q.url), ["a", "b"]);
  await q.proc.stop();
});

test("dns+localhost:port: a real lookup through the system resolver", async () => {
  const q = await querier([`--endpoint=dns+localhost:${a.grpc}`], { THANOTS_DNS_SERVERS: "" });
  const st = await eventually("resolved", () => stores(q.url), (s) => s.length >= 1 && s.every((x) => x.healthy));
  assert.ok(st.some((s) => s.name === `127.0.0.1:${a.grpc}` || s.name === `[::1]:${a.grpc}`), JSON.stringify(st));
  assert.equal([...new Set(await replicas(q.url))], ["a"]);
  await q.proc.stop();
});

test("dnssrv+ (ports from the records, A lookups of the targets) and dnssrvnoa+ (targets as they are)", async () => {
  const q = await querier(["--endpoint=dnssrv+_grpc._tcp.stores.test"]);
  const st = await eventually("SRV resolved", () => stores(q.url), (s) => s.length === 2 && s.every((x) => x.healthy));
  assert.equal(st.map((s) => s.name), [`127.0.0.1:${a.grpc}`, `127.0.0.1:${b.grpc}`].sort());
  assert.equal(await replicas(q.url), ["a", "b"]);
  await q.proc.stop();
  const n = await querier(["--endpoint=dnssrvnoa+_grpc._tcp.noa.test"]);
  const sn = await eventually("SRV (no A) resolved", () => stores(n.url), (s) => s.length === 2 && s.every((x) => x.healthy));
  assert.equal(sn.map((s) => s.name), [`127.0.0.1:${b.grpc}`, `localhost:${a.grpc}`]);
  assert.equal(await replicas(n.url), ["a", "b"]);
  await n.proc.stop();
});

test("DNS re-resolution every --store.sd-dns-interval adds (and drops) stores", async () => {
  dns.table.srv.set("_grpc._tcp.dyn.test", [{ target: "a.stores.test", port: a.grpc }]);
  const q = await querier(["--endpoint=dnssrv+_grpc._tcp.dyn.test", "--store.sd-dns-interval=1s"]);
  await eventually("one store", () => stores(q.url), (s) => s.length === 1 && s[0]!.healthy);
  assert.equal(await replicas(q.url), ["a"]);
  dns.table.srv.set("_grpc._tcp.dyn.test", [{ target: "a.stores.test", port: a.grpc }, { target: "b.stores.test", port: b.grpc }]);
  await eventually("second store added", () => replicas(q.url), (r) => r.join() === "a,b");
  dns.table.srv.set("_grpc._tcp.dyn.test", [{ target: "b.stores.test", port: b.grpc }]);
  await eventually("first store dropped", () => stores(q.url), (s) => s.length === 1 && s[0]!.name === `127.0.0.1:${b.grpc}`);
  assert.equal(await replicas(q.url), ["b"]);
  await q.proc.stop();
});

test("--endpoint-group: an HA pair as one store, asked round-robin; --endpoint-strict: a dead one stays listed, down", async () => {
  const dead = await freePort();
  const q = await querier(["--endpoint-group=dnssrv+_grpc._tcp.stores.test", `--endpoint-strict=127.0.0.1:${dead}`]);
  const st = await eventually("group healthy", () => stores(q.url), (s) => s.length === 2 && s.some((x) => x.name === "dnssrv+_grpc._tcp.stores.test" && x.healthy));
  const strict = st.find((s) => s.name === `127.0.0.1:${dead}`)!;
  assert.is(strict.healthy, false);
  assert.ok(strict.lastError && strict.lastError.length > 0);
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = await (await fetch(`${q.url}/api/v1/query?query=up&dedup=false`)).json() as { data: { result: { metric: Record<string, string> }[] }; warnings?: string[] };
    assert.is(r.data.result.length, 1, "a group is one store: one replica per call");
    seen.add(r.data.result[0]!.metric.replica!);
    assert.ok((r.warnings ?? []).some((w) => w.includes(`127.0.0.1:${dead}`)), "the strict dead endpoint is asked (a partial-response warning names it)");
  }
  assert.equal([...seen].sort(), ["a", "b"]);
  await q.proc.stop();
});

test("--store.sd-files: a store added to the file shows in /api/v1/stores and answers within seconds", async () => {
  const dir = tempDir("filesd-").path;
  writeFileSync(join(dir, "a.json"), JSON.stringify([{ targets: [`127.0.0.1:${a.grpc}`] }]));
  const q = await querier([`--store.sd-files=${join(dir, "*.json")}`]);
  await eventually("file store", () => stores(q.url), (s) => s.length === 1 && s[0]!.healthy);
  const t0 = Date.now();
  // Written elsewhere and renamed into place, as config management does.
  writeFileSync(join(dir, "b.json.tmp"), JSON.stringify([{ targets: [`127.0.0.1:${b.grpc}`], labels: { team: "x" } }]));
  renameSync(join(dir, "b.json.tmp"), join(dir, "b.json"));
  await eventually("second store from the new file", () => stores(q.url), (s) => s.length === 2 && s.every((x) => x.healthy), 10_000);
  const took = Date.now() - t0;
  assert.ok(took < 5000, `took ${took} ms`);
  assert.equal(await replicas(q.url), ["a", "b"]);
  // A broken file keeps its previous targets (Prometheus' rule).
  writeFileSync(join(dir, "b.json"), "[{");
  await new Promise((r) => setTimeout(r, 1500));
  assert.is((await stores(q.url)).length, 2);
  await q.proc.stop();
});

test("the sidecar's min time is Prometheus' lowest timestamp; older ranges are not asked of it", async () => {
  const metrics = await (await fetch(`${promA.url}/metrics`)).text();
  const lowest = Number(/^prometheus_tsdb_lowest_timestamp_seconds (\S+)$/m.exec(metrics)![1]) * 1000;
  assert.ok(lowest > Date.now() - 3600_000 && lowest <= Date.now(), `lowest ${lowest}`);
  const q = await querier([`--endpoint=127.0.0.1:${a.grpc}`]);
  const st = await eventually("store", () => stores(q.url), (s) => s.length === 1 && s[0]!.healthy);
  assert.is(st[0]!.minTime, Math.trunc(lowest));
  const seriesCalls = async () => {
    const m = await (await fetch(`http://127.0.0.1:${a.http}/metrics`)).text();
    return [...m.matchAll(/^thanos_sidecar_grpc_requests_total\{[^}]*method="Series"[^}]*\} (\d+)/gm)].reduce((s, x) => s + Number(x[1]), 0);
  };
  const before = await seriesCalls();
  const end = (lowest - 3600_000) / 1000, start = end - 3600;
  const r = await (await fetch(`${q.url}/api/v1/query_range?query=up&start=${start}&end=${end}&step=60`)).json() as { status: string; data: { result: unknown[] } };
  assert.is(r.status, "success");
  assert.is(r.data.result.length, 0);
  assert.is(await seriesCalls(), before, "a range before the sidecar's min time must not reach it");
  await fetch(`${q.url}/api/v1/query?query=up`);
  assert.ok((await seriesCalls()) > before, "a current query does reach it");
  await q.proc.stop();
});

test.run();
