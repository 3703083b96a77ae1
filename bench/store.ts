// Store gateway benchmark: our store gateway beside Thanos v0.41.0's on the same filesystem bucket, in the
// same run, each behind a Thanos querier and ours behind our querier too, with Prometheus 2.42 serving
// copies of the same (raw) blocks from disk as the floor. Every query goes through the querier HTTP APIs
// (PromQL range and instant, /api/v1/series, /api/v1/labels, /api/v1/label/<name>/values).
//
// Paths, each with its own store process (so each one's caches and JIT see only its own queries):
//   prom      Prometheus over the blocks (raw datasets only)
//   T+T       Thanos querier -> Thanos store gateway (gRPC)
//   T+O       Thanos querier -> our store gateway (gRPC)
//   O+O       our querier -> our store gateway (gRPC)
//   O+O/c     our querier -> our store gateway over Connect (HTTP/1.1, the store's HTTP port)
//   O+T       our querier -> Thanos store gateway (downsampled data only: the reference for O+O there)
//
// Cold = the first query after the store and querier processes started (fresh processes, empty caches,
// header files already on disk from the first start; the page cache is warm for every side alike).
// Warm = median of --runs further calls, paths alternating. Every answer is compared with the path of
// the same engine: T+O with T+T (Thanos' querier runs Prometheus 3's engine, whose answers differ from
// Prometheus 2.42's in rate() extrapolation and float sums), O+O and O+O/c with Prometheus, or with O+T
// for downsampled data (which Prometheus cannot read).
// Also per path: bucket bytes fetched by the cold query, and peak RSS (VmHWM) of each store process.
//
// Datasets:
//   promql       the PromQL benchmark data (test/promql/data.ts generateBenchDataset: 10k counters at 15 s
//                over 6 h, promtool backfill) plus the corpus data set over the same 6 h; the 14 queries of
//                bench/queryset.ts, each as range and as instant query, plus series and label calls
//   blocks50     50 blocks x 2 h x 10k series (our block writer, one 120-sample chunk per series per block)
//   downsampled  2k series x 8 days at 60 s, four 48 h raw blocks, each downsampled to 5m and 1h by
//                shared/compact/downsample.ts; queries with max_source_resolution 0, 5m and 1h
//
//   bun bench/store.ts [--dataset promql,blocks50,downsampled] [--runs 5] [--no-cold] [--only regex] [--data DIR]
//   (--data DIR: build each dataset once under DIR and reuse it in later runs)
//   THANOS_BIN=/path/to/thanos to use a given Thanos (default: test/lib/thanos.ts thanosBinary()).
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForHealthyStores, waitForHttp, type Proc } from "../test/lib/proc.ts";
import { thanosBinary } from "../test/lib/thanos.ts";
import { type Dataset, dataset, params, type Query } from "./store-data.ts";

const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : def; };
const RUNS = Number(opt("runs", "5"));
const DATASETS = opt("dataset", "promql,blocks50,downsampled").split(",");
const COLD = !argv.includes("--no-cold");
const ONLY = argv.includes("--only") ? new RegExp(opt("only", "")) : null;
const PATHS_ARG = opt("paths", "");
const DATA = opt("data", "");
const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const runtime = typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`;
const bun = join(root, "node_modules/.bin/bun");

// ---------- processes ----------

interface Path {
  name: string;
  /** Querier (or Prometheus) base URL. */
  url: string;
  procs: Proc[];
  /** The store process (for RSS) and its metrics URL, when there is one. */
  store?: { proc: Proc; metrics: string; kind: "ours" | "thanos" };
  peakRss: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function vmHWM(pid: number | undefined): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch { return NaN; }
}

async function fetchedBytes(p: Path): Promise<number> {
  if (!p.store) return NaN;
  const t = await (await fetch(p.store.metrics)).text();
  if (p.store.kind === "ours") {
    const m = /^thanos_bucket_store_fetched_bytes (\S+)$/m.exec(t);
    return m ? Number(m[1]) : NaN;
  }
  let n = 0;
  for (const m of t.matchAll(/^thanos_objstore_bucket_operation_fetched_bytes_total\{[^}]*\} (\S+)$/gm)) n += Number(m[1]);
  return n;
}

async function makePaths(ds: Dataset, work: string, thanos: string): Promise<Path[]> {
  const bucket = join(work, "bucket");
  cpSync(ds.blocks, bucket, { recursive: true });
  const cfg = join(work, "bucket.yml");
  writeFileSync(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${bucket}\n`);
  const paths: Path[] = [];
  const mk = (name: string, store: "ours" | "thanos" | null, querier: "ours" | "thanos" | "prom", transport: "grpc" | "connect" = "grpc") => {
    const p: Path = {
      name, url: "", procs: [], peakRss: 0,
      async start() {
        const [sh, sg, qh, qg] = [await freePort(), await freePort(), await freePort(), await freePort()];
        if (querier === "prom") {
          const dir = join(work, "prom");
          cpSync(ds.blocks, dir, { recursive: true, force: false, errorOnExist: false });
          const pcfg = join(work, "prometheus.yml");
          writeFileSync(pcfg, "global:\n  scrape_interval: 15s\n");
          const proc = startProcess("/usr/bin/prometheus", [`--config.file=${pcfg}`, `--storage.tsdb.path=${dir}`, "--storage.tsdb.retention.time=100y",
            "--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h", `--web.listen-address=127.0.0.1:${qh}`, "--log.level=error"]);
          p.procs = [proc];
          p.url = `http://127.0.0.1:${qh}`;
          await waitForHttp(`${p.url}/-/ready`, proc, 120_000);
          return;
        }
        const dataDir = join(work, `data-${name.replace(/\W/g, "_")}`);
        mkdirSync(dataDir, { recursive: true });
        const sproc = store === "thanos"
          ? startProcess(thanos, ["store", `--objstore.config-file=${cfg}`, `--data-dir=${dataDir}`, `--grpc-address=127.0.0.1:${sg}`,
            `--http-address=127.0.0.1:${sh}`, "--log.level=warn"])
          : startProcess(bun, [join(root, "agent/main.ts"), "store", `--objstore.config-file=${cfg}`, `--data-dir=${dataDir}`,
            `--grpc-address=127.0.0.1:${sg}`, `--http-address=127.0.0.1:${sh}`, "--log.level=warn"], { cwd: root });
        p.store = { proc: sproc, metrics: `http://127.0.0.1:${sh}/metrics`, kind: store! };
        await waitForHttp(`http://127.0.0.1:${sh}/-/ready`, sproc, 300_000);
        const endpoint = transport === "connect" ? `http://127.0.0.1:${sh}` : `127.0.0.1:${sg}`;
        const qproc = querier === "thanos"
          ? startProcess(thanos, ["query", `--endpoint=${endpoint}`, `--http-address=127.0.0.1:${qh}`, `--grpc-address=127.0.0.1:${qg}`, "--log.level=warn"])
          : startProcess(bun, [join(root, "agent/main.ts"), "query", `--endpoint=${endpoint}`, `--http-address=127.0.0.1:${qh}`, "--log.level=warn"], { cwd: root });
        p.procs = [sproc, qproc];
        p.url = `http://127.0.0.1:${qh}`;
        await waitForHttp(`${p.url}/-/ready`, qproc, 60_000);
        await waitForHealthyStores(p.url, 1, 60_000);
      },
      async stop() {
        if (p.store) p.peakRss = Math.max(p.peakRss, vmHWM(p.store.proc.child.pid));
        await Promise.all(p.procs.map((x) => x.stop()));
        p.procs = [];
      },
    };
    paths.push(p);
  };
  if (ds.prom) mk("prom", null, "prom");
  mk("T+T", "thanos", "thanos");
  if (!ds.prom) mk("O+T", "thanos", "ours");
  mk("T+O", "ours", "thanos");
  mk("O+O", "ours", "ours");
  mk("O+O/c", "ours", "ours", "connect");
  const want = PATHS_ARG ? new Set(PATHS_ARG.split(",")) : null;
  return want ? paths.filter((p) => want.has(p.name) || p.name === "prom" || p.name === "T+T" || p.name === "O+T") : paths;
}

// ---------- answers ----------

interface Answer { ms: number; norm: string[]; summary: string }

async function ask(base: string, q: Query): Promise<Answer> {
  const { path, body } = params(q);
  const t0 = performance.now();
  const r = q.kind === "values" ? await fetch(base + path) : await fetch(base + path, { method: "POST", body });
  const text = await r.text();
  const ms = performance.now() - t0;
  let j: { status: string; data?: unknown; error?: string; warnings?: string[] };
  try { j = JSON.parse(text); } catch { throw new Error(`${base}${path} ${q.q}: HTTP ${r.status}: ${text.slice(0, 300)}`); }
  if (j.status !== "success") throw new Error(`${base}${path} ${q.q}: ${text.slice(0, 300)}`);
  // PromQL annotations (Thanos' engine adds "PromQL info: ..." for rate() over a non-_total name) are not
  // store failures; any other warning is a partial answer, which must not be timed as a full one.
  const warnings = (j.warnings ?? []).filter((w) => !w.startsWith("PromQL info:"));
  if (warnings.length) throw new Error(`${base}${path} ${q.q}: warnings ${JSON.stringify(warnings).slice(0, 300)}`);
  return { ms, ...normalize(q, j.data) };
}

/** A comparable form of an answer (results sorted by labels) and a short summary. */
function normalize(q: Query, data: unknown): { norm: string[]; summary: string } {
  if (q.kind === "range" || q.kind === "instant") {
    const d = data as { resultType: string; result: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[] | [number, string] };
    if (d.resultType === "scalar") return { norm: [String((d.result as [number, string])[1])], summary: "scalar" };
    const rs = (d.result as { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[]).map((s) => {
      const m = JSON.stringify(Object.entries(s.metric).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      const pts = s.values ?? (s.value ? [s.value] : []);
      return { m, v: pts.map(([t, v]) => `${t}:${v}`).join(","), n: pts.length };
    }).sort((a, b) => (a.m < b.m ? -1 : a.m > b.m ? 1 : 0));
    return { norm: rs.map((r) => r.m + "=" + r.v), summary: `${rs.length} series, ${rs.reduce((n, r) => n + r.n, 0)} points` };
  }
  if (q.kind === "series") {
    const rs = (data as Record<string, string>[]).map((s) => JSON.stringify(Object.entries(s).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))).sort();
    return { norm: rs, summary: `${rs.length} series` };
  }
  const vs = [...(data as string[])].sort();
  return { norm: vs, summary: `${vs.length} values` };
}

/**
 * Equal answers: same label sets and timestamps, values equal to 1e-9 relative. Thanos' engine (from
 * Prometheus 3) sums with Kahan compensation, Prometheus 2.42 does not: sums differ in the last digits.
 */
function sameAnswer(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const [ma, va = ""] = a[i]!.split("=", 2), [mb, vb = ""] = b[i]!.split("=", 2);
    if (ma !== mb) return false;
    const pa = va.split(","), pb = vb.split(",");
    if (pa.length !== pb.length) return false;
    for (let k = 0; k < pa.length; k++) {
      const [ta, xa] = pa[k]!.split(":"), [tb, xb] = pb[k]!.split(":");
      if (ta !== tb) return false;
      const x = Number(xa), y = Number(xb);
      if (xa === xb || (Number.isNaN(x) && Number.isNaN(y))) continue;
      if (!(Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)))) return false;
    }
  }
  return true;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

// ---------- run ----------

const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-");
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "-");
const kb = (n: number) => (Number.isFinite(n) ? (n / 1024).toFixed(0) : "-");

async function runDataset(ds: Dataset, work: string, thanos: string): Promise<void> {
  console.log(`\n## ${ds.name}: ${ds.describe}`);
  const paths = await makePaths(ds, work, thanos);
  const names = paths.map((p) => p.name);
  const queries = ds.queries.filter((q) => !ONLY || ONLY.test(q.name));
  // Each path is checked against the one with the same engine: Thanos' querier (Prometheus 3's engine)
  // over our store against it over Thanos' store; our querier (Prometheus 2.42's semantics) against
  // Prometheus, or for downsampled data (which Prometheus cannot read) against our querier over
  // Thanos' store (O+T).
  const promOk = (q: Query) => ds.prom && !(q.res && q.res !== "0s");
  const refFor = (q: Query, who: string) => (who.startsWith("T+") ? "T+T" : promOk(q) ? "prom" : "O+T");
  const active = (q: Query) => paths.filter((p) => p.name !== "prom" || promOk(q));
  let t0 = performance.now();
  const startAll = async () => { await Promise.all(paths.map((p) => p.start())); };
  const stopAll = async () => { await Promise.all(paths.map((p) => p.stop())); };
  await startAll();
  console.log(`first start (index headers built) of every path: ${f1(performance.now() - t0)} ms; load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);

  const mismatches: string[] = [];
  const check = (q: Query, answers: Map<string, Answer>) => {
    for (const [who, a] of answers) {
      const r = refFor(q, who), ref = answers.get(r);
      if (who === r || who === "prom" || who === "T+T" || who === "O+T" || !ref) continue;
      if (!sameAnswer(a.norm, ref.norm)) mismatches.push(`${q.name} via ${who}: ${a.summary} vs ${r} ${ref.summary}`);
    }
  };

  // Cold: fresh processes for every cold query; each path asked once, in a rotating order.
  const cold = new Map<string, Map<string, { ms: number; bytes: number }>>();
  if (COLD) {
    let rot = 0;
    for (const q of queries.filter((x) => x.cold)) {
      await stopAll();
      await startAll();
      const row = new Map<string, { ms: number; bytes: number }>();
      const ps = active(q);
      const order = ps.map((_, i) => ps[(i + rot) % ps.length]!);
      rot++;
      const answers = new Map<string, Answer>();
      for (const p of order) {
        const b0 = await fetchedBytes(p);
        const a = await ask(p.url, q);
        const b1 = await fetchedBytes(p);
        answers.set(p.name, a);
        row.set(p.name, { ms: a.ms, bytes: b1 - b0 });
      }
      check(q, answers);
      cold.set(q.name, row);
    }
  }

  // Warm: one warm-up per path, then RUNS rounds alternating the paths.
  const warm = new Map<string, Map<string, number>>();
  t0 = performance.now();
  for (const q of queries) {
    const ps = active(q);
    const answers = new Map<string, Answer>();
    for (const p of ps) answers.set(p.name, await ask(p.url, q));
    check(q, answers);
    const times = new Map<string, number[]>(ps.map((p) => [p.name, []]));
    for (let i = 0; i < RUNS; i++) {
      for (let k = 0; k < ps.length; k++) {
        const p = ps[(k + i) % ps.length]!;
        times.get(p.name)!.push((await ask(p.url, q)).ms);
      }
    }
    warm.set(q.name, new Map([...times].map(([k, v]) => [k, median(v)])));
  }
  const warmLoad = loadavg()[0]!;
  await stopAll();

  // Tables.
  const ours = ["T+O", "O+O", "O+O/c"].filter((n) => names.includes(n));
  const hdr = ["query", ...names.map((n) => `${n} ms`), ...ours.map((n) => `${n} / T+T`)];
  const table = (title: string, rows: [string, Map<string, number>][]) => {
    console.log(`\n${title}\n\n| ${hdr.join(" | ")} |\n|${hdr.map(() => "---").join("|")}|`);
    const ratios = new Map<string, number[]>(ours.map((n) => [n, []]));
    for (const [name, r] of rows) {
      const tt = r.get("T+T")!;
      const cells = [name, ...names.map((n) => f1(r.get(n) ?? NaN)), ...ours.map((n) => { const x = (r.get(n) ?? NaN) / tt; if (Number.isFinite(x)) ratios.get(n)!.push(x); return f2(x); })];
      console.log(`| ${cells.join(" | ")} |`);
    }
    for (const [n, xs] of ratios) if (xs.length) console.log(`${n} / T+T over ${xs.length} queries: median ${f2(median(xs))}x, best ${f2(Math.min(...xs))}x, worst ${f2(Math.max(...xs))}x`);
    if (names.includes("prom")) {
      for (const n of ["T+T", ...ours]) {
        const xs = rows.map(([, r]) => (r.get(n) ?? NaN) / (r.get("prom") ?? NaN)).filter(Number.isFinite);
        if (xs.length) console.log(`${n} / prom: median ${f2(median(xs))}x`);
      }
    }
  };
  if (COLD) {
    table(`cold (first query after start), ms:`, [...cold].map(([k, r]) => [k, new Map([...r].map(([n, x]) => [n, x.ms]))]));
    console.log(`\nbucket bytes fetched by the cold query (KiB):\n\n| query | ${names.filter((n) => n !== "prom").join(" | ")} |\n|---|${names.filter((n) => n !== "prom").map(() => "---").join("|")}|`);
    for (const [k, r] of cold) console.log(`| ${k} | ${names.filter((n) => n !== "prom").map((n) => kb(r.get(n)?.bytes ?? NaN)).join(" | ")} |`);
  }
  table(`warm (median of ${RUNS}), ms; load average at the end ${warmLoad.toFixed(2)}:`, [...warm]);
  console.log(`\npeak RSS (VmHWM) of each store process, MiB: ${paths.filter((p) => p.store).map((p) => `${p.name} ${p.peakRss.toFixed(0)}`).join(", ")}`);
  console.log(mismatches.length ? `\nANSWERS DIFFER (${mismatches.length}):\n${mismatches.map((m) => "  " + m).join("\n")}`
    : `\nevery answer equal to its reference (T+O to T+T; O+O and O+O/c to Prometheus, or to O+T for downsampled data)`);
}

async function main(): Promise<void> {
  const thanos = await thanosBinary();
  console.log(`# store gateway benchmark, ${runtime}, ${new Date().toISOString()}, load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  console.log(`# Thanos: ${thanos}`);
  for (const name of DATASETS) {
    const work = tempDir(`bench-store-${name}-`);
    const t0 = performance.now();
    const ds = await dataset(name, DATA ? join(DATA, name) : work.path);
    console.log(`\n(${name}: data ready in ${f1((performance.now() - t0) / 1000)} s)`);
    await runDataset(ds, work.path, thanos);
    work.remove();
  }
}

await main();
process.exit(0);
