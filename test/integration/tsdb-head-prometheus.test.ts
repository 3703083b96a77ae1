// The ruler's TSDB against the real thing. The PromQL test dataset (plus series with staleness markers)
// goes in through the Appender API with 2 h blocks, so one block is cut and the rest stays in the head
// and its WAL. Then:
//   - our Querier returns exactly the written samples (value bits, staleness markers);
//   - promtool tsdb analyze accepts the block; promtool tsdb dump (Prometheus' block AND WAL readers)
//     prints exactly the written samples;
//   - a real Prometheus 2.42 started on a copy of the directory loads the block and replays our WAL,
//     and every query of the PromQL corpus answers there as our engine answers over our Querier;
//   - our StoreAPI passes the StoreAPI contract suite (gRPC; Connect JSON) with that Prometheus' remote
//     read as the oracle.
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { serve } from "@hono/node-server";
import { storeApiApp } from "../../shared/rpc/server.ts";
import { tempDir } from "../lib/proc.ts";
import { promApi, promtool, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { openTSDB, type Tsdb } from "../../agent/tsdb/db.ts";
import { startGrpcServer, type GrpcServer } from "../../agent/grpc/server.ts";
import { Engine } from "../../shared/promql/engine.ts";
import { labelsFrom, labelsString } from "../../shared/labels/labels.ts";
import { newMatcher } from "../../shared/labels/matcher.ts";
import type { MemorySeries } from "../../shared/storage/memory.ts";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { generateDataset, T0 } from "../promql/data.ts";
import { diff, DIFF_MODES as MODES, modeLabel, ourQuery, promQuery, readCorpus, readKnown, tieRelaxed } from "../promql/compare.ts";
import { addStoreApiContract, type M, promRemoteReadOracle, selector, type StoreApiFixture } from "../lib/storeapi-contract.ts";

const root = process.cwd();
const H = 3600_000;
const ext = labelsFrom({ ruler: "eu-1", rule_replica: "r0" });

/** The dataset plus series that go stale and come back (markers written as flags, not NaN payloads). */
function data(): MemorySeries[] {
  const ds = generateDataset();
  const out = [...ds.series];
  for (let i = 0; i < 3; i++) {
    const ts: number[] = [], vs: number[] = [], stale: boolean[] = [];
    for (let t = T0 + i * 1000; t < T0 + 4 * H; t += 30_000) {
      const k = (t - T0) / 30_000;
      const phase = Math.floor(k / 40) % 3;
      if (phase === 2) continue; // absent
      ts.push(t); vs.push(k * (i + 1));
      stale.push(phase === 1 && k % 40 === 39); // the last sample before an absence is a marker
    }
    out.push({ labels: labelsFrom({ __name__: "recorded:stale", id: String(i), job: "rules" }), ts, vs, stale });
  }
  return out;
}

const series = data();
let dir = "";
let db: Tsdb;
let prom: Prometheus;
let grpc: GrpcServer;
/** The same StoreAPI over Connect (hono on Node), for the Connect JSON case. */
let http: { url: string; close(): Promise<void> };

/** Every sample in time order, one commit per minute of data. */
async function writeAll(d: Tsdb): Promise<number> {
  const rows: { s: number; i: number; t: number }[] = [];
  series.forEach((s, si) => s.ts.forEach((t, i) => rows.push({ s: si, i, t })));
  rows.sort((a, b) => a.t - b.t || a.s - b.s);
  let app = d.appender();
  let minute = Math.floor(rows[0]!.t / 60_000);
  for (const r of rows) {
    const m = Math.floor(r.t / 60_000);
    if (m !== minute) { await app.commit(); app = d.appender(); minute = m; }
    const s = series[r.s]!;
    app.append(s.labels, r.t, s.vs[r.i]!, s.stale?.[r.i] === true);
  }
  await app.commit();
  return rows.length;
}

function sampleKey(labels: string, t: number, v: number | "stale"): string {
  return `${labels} ${t} ${typeof v === "number" && Number.isNaN(v) ? "NaN" : v}`;
}

const want = new Set<string>();
for (const s of series) s.ts.forEach((t, i) => want.add(sampleKey(labelsString(s.labels), t, s.stale?.[i] ? "stale" : s.vs[i]!)));

const t = suite("ruler TSDB vs promtool and Prometheus 2.42");

t.before(async () => {
  dir = tempDir("tsdb-prom-").path;
  const opts = { blockDurationMs: 2 * H, externalLabels: ext, checkIntervalMs: 0 };
  const d = await openTSDB(dir, opts);
  const n = await writeAll(d);
  assert.is(n, want.size);
  await d.compact();
  // Jittered scrapes start a little before T0: a tiny block for [first sample, T0), then [T0, T0 + 2 h);
  // the last 2 h stay in the head and its WAL.
  assert.equal(d.blocks().map((b) => b.maxTime), [T0, T0 + 2 * H]);
  await d.close();
  // Prometheus gets a copy: it writes its own files (chunks_head, a new WAL segment) into the directory.
  const promDir = tempDir("tsdb-prom-copy-").path;
  cpSync(dir, promDir, { recursive: true });
  rmSync(join(promDir, "lock"), { force: true });
  [prom, db] = await Promise.all([startPrometheus({ dataDir: promDir }), openTSDB(dir, opts)]);
  grpc = await startGrpcServer({ store: db.store, info: db.info });
  const app = storeApiApp({ store: db.store, info: db.info });
  const srv = await new Promise<ReturnType<typeof serve>>((resolve) => { const x = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(x)); });
  http = { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`, close: () => new Promise<void>((r) => srv.close(() => r())) };
});

t.after(async () => {
  await grpc?.close();
  await http?.close();
  await db?.close();
  await prom?.stop();
});

t("our Querier returns exactly the written samples, staleness markers included", async () => {
  const got = new Set<string>();
  const r = await db.querier().select({ start: T0 - H, end: T0 + 5 * H }, [newMatcher("=~", "__name__", ".+")]);
  for (const s of r.series) {
    const it = s.iterator();
    while (it.next()) {
      const k = sampleKey(labelsString(s.labels), it.at(), it.isStale() ? "stale" : it.value());
      assert.ok(!got.has(k), `duplicate ${k}`);
      got.add(k);
    }
  }
  assert.is(got.size, want.size);
  for (const k of want) assert.ok(got.has(k), `missing ${k}`);
});

t("promtool tsdb analyze accepts the block; promtool tsdb dump (block + WAL) prints exactly the samples", async () => {
  const blocks = readdirSync(dir).filter((n) => /^[0-9A-Z]{26}$/.test(n));
  assert.is(blocks.length, 2);
  for (const b of blocks) {
    const an = await promtool(["tsdb", "analyze", dir, b]);
    assert.match(an.stdout, new RegExp(`Block ID: ${b}`));
    assert.match(an.stdout, /Series: \d+/);
  }
  const { stdout } = await promtool(["tsdb", "dump", dir]);
  const stale = new Set(series.flatMap((s) => s.ts.filter((_, i) => s.stale?.[i]).map((x) => `${labelsString(s.labels)} ${x}`)));
  let n = 0;
  for (const line of stdout.split("\n")) {
    if (!line) continue;
    const m = /^(\{.*\}) (\S+) (-?\d+)$/.exec(line)!;
    assert.ok(m, line);
    const ts = Number(m[3]);
    const v = m[2] === "NaN" && stale.has(`${m[1]} ${ts}`) ? "stale" : m[2] === "NaN" ? NaN : m[2] === "+Inf" ? Infinity : m[2] === "-Inf" ? -Infinity : Number(m[2]);
    const key = sampleKey(m[1]!, ts, v);
    // promtool prints values with %g: compare with the same rounding when the exact text differs.
    if (!want.has(key)) {
      const close = [...want].find((w) => w.startsWith(`${m[1]} ${ts} `) && Math.abs(Number(w.split(" ").at(-1)) - (v as number)) <= 1e-5 * Math.abs(v as number));
      assert.ok(close, `promtool printed a sample we did not write: ${line}`);
    }
    n++;
  }
  assert.is(n, want.size, "promtool dump has every sample once");
});

t("a real Prometheus serving our directory (block + replayed WAL) answers the PromQL corpus as our engine over our Querier", async () => {
  // Prometheus replayed our WAL into its head: it must hold as many series as we do.
  const head = await promApi(prom.url, "/api/v1/status/tsdb");
  assert.is(head.status, "success");
  const count = await promApi(prom.url, "/api/v1/query", { query: "count({__name__=~\".+\"})", time: String((T0 + 3 * H) / 1000) });
  assert.ok(Number(count.data.result[0].value[1]) > 100, "Prometheus sees the series of the replayed WAL");
  const engine = new Engine();
  const corpus = readCorpus(join(root, "test/promql/corpus.txt"));
  const extra = ["recorded:stale", "count_over_time(recorded:stale[10m])", "last_over_time(recorded:stale[1h])", "timestamp(recorded:stale)", "absent(recorded:stale{id=\"9\"})"];
  const queries = [...corpus, ...extra];
  const known = readKnown(join(root, "test/known-differences.txt"));
  const q = db.querier();
  const failures = new Map<string, string>();
  let i = 0, runs = 0, ok = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (i < queries.length) {
      const query = queries[i++]!;
      for (const m of MODES) {
        const [w, g] = await Promise.all([promQuery(prom.url, query, m), ourQuery(engine, q, query, m)]);
        runs++;
        if (w.status === "success") ok++;
        let d = diff(query, w, g);
        if (d !== null && tieRelaxed(query, m, w, g)) d = null;
        if (d !== null && !failures.has(query)) failures.set(query, `${modeLabel(m)}: ${d}`);
      }
    }
  }));
  const unexpected = [...failures].filter(([x]) => !known.has(x));
  for (const [x, d] of unexpected) console.log(`MISMATCH ${x}\n    ${d}`);
  console.log(`  ${queries.length} queries, ${runs} evaluations (${ok} successful in Prometheus), ${failures.size} differ`);
  assert.ok(ok > runs * 0.8, "most evaluations succeed (is the data loaded?)");
  assert.equal(unexpected.map(([x]) => x), []);
});

async function oracleNames(ms: M[], mint: number, maxt: number): Promise<string[]> {
  return (await promApi(prom.url, "/api/v1/labels", { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data;
}
async function oracleValues(name: string, ms: M[], mint: number, maxt: number): Promise<string[]> {
  return (await promApi(prom.url, `/api/v1/label/${name}/values`, { "match[]": selector(ms), start: (mint / 1000).toFixed(3), end: (maxt / 1000).toFixed(3) })).data;
}

let fx: StoreApiFixture | null = null;
addStoreApiContract(t, () => {
  if (fx) return fx;
  const tr = createGrpcTransport({ baseUrl: `http://${grpc.address}` });
  fx = {
    store: createClient(Store, tr),
    info: createClient(Info, tr),
    externalLabels: ext,
    oracle: (ms, mint, maxt) => promRemoteReadOracle(prom.url, ms, mint, maxt),
    oracleLabelNames: oracleNames,
    oracleLabelValues: oracleValues,
    oldest: T0,
    json: createClient(Store, createConnectTransport({ baseUrl: http.url, httpVersion: "1.1", useBinaryFormat: false })),
    cases: [
      { ms: [["__name__", "=", "http_requests_total"]], mint: T0, maxt: T0 + 4 * H },
      { ms: [["__name__", "=~", "http_.*|up"], ["job", "=", "api"]], mint: T0 + H, maxt: T0 + 3 * H },
      { ms: [["__name__", "=", "memory_bytes"], ["replica", "!=", "a"]], mint: T0, maxt: T0 + 4 * H },
      { ms: [["__name__", "=", "recorded:stale"]], mint: T0 + 2 * H - 600_000, maxt: T0 + 2 * H + 600_000 },
      { ms: [["job", "=", "batch"], ["id", "=~", "[0-3]|"]], mint: T0 + 30 * 60_000, maxt: T0 + 3.5 * H },
      { ms: [["__name__", "=", "odd_values"]], mint: T0 + 2 * H, maxt: T0 + 5 * H },
      { ms: [["__name__", "=", "temperature"], ["replica", "=", ""]], mint: T0, maxt: T0 + 4 * H },
      { ms: [["__name__", "=~", ".+_count"], ["instance", "=~", "api-.*"]], mint: T0 + 2 * H - 30_000, maxt: T0 + 2 * H + 30_000 },
    ],
  };
  return fx;
}, { json: true });

t.run();
