// Our block reader and writer against the real thing (promtool and Prometheus 2.42):
//  (1) blocks promtool backfills are dumped by our tool exactly as `promtool tsdb dump` dumps them;
//  (2) blocks our tool backfills pass `promtool tsdb analyze`, `promtool tsdb dump` prints the same
//      samples as for promtool's own blocks, and a Prometheus serving them answers query_range exactly
//      as a Prometheus serving promtool's blocks.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { createServer } from "node:http";
import { tempDir } from "../lib/proc.ts";
import { openLocalBlocks } from "../../agent/tsdb/local.ts";
import { promApi, promtool, promtoolBackfill, startPrometheus } from "../lib/prometheus.ts";

const run = promisify(execFile);
const ROOT = process.cwd();
const BUN = join(ROOT, "node_modules/.bin/bun");

async function tools(args: string[]): Promise<string> {
  const { stdout } = await run(BUN, [join(ROOT, "agent/main.ts"), "tools", ...args], { maxBuffer: 1 << 30 });
  return stdout;
}

// Deterministic data: counters with resets, gauges (tiny, huge, negative, NaN), classic histograms,
// gaps; 5 h at 60 s from a start that is not block-aligned, so several 2 h blocks are cut.
const T0 = 1_700_000_000; // s
const STEPS = 300;
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

function openMetrics(): { text: string; series: number; samples: number } {
  const out: string[] = [];
  let series = 0, samples = 0;
  const emit = (name: string, labels: string, gap: (i: number) => boolean, val: (i: number) => string) => {
    series++;
    for (let i = 0; i < STEPS; i++) {
      if (gap(i)) continue;
      out.push(`${name}{${labels}} ${val(i)} ${T0 + i * 60}`);
      samples++;
    }
  };
  out.push("# HELP http_requests Requests.", "# TYPE http_requests counter");
  for (let k = 0; k < 120; k++) {
    let c = 0;
    const resetAt = 50 + (k % 7) * 30;
    emit("http_requests_total", `job="api",instance="10.0.0.${k % 40}:9090",code="${[200, 404, 500][k % 3]}"`, (i) => k % 10 === 0 && i >= 100 && i < 140, (i) => {
      if (i === resetAt) c = 0;
      c += Math.floor(rnd() * 50);
      return String(c);
    });
  }
  out.push("# TYPE temperature gauge");
  for (let k = 0; k < 80; k++) {
    emit("temperature", `site="s${k}"`, (i) => k % 8 === 1 && i % 9 === 0, (i) => {
      const r = rnd();
      if (k % 20 === 3 && i % 17 === 0) return "NaN";
      if (k % 4 === 0) return String((r - 0.5) * 1e-5);
      if (k % 4 === 1) return String(Math.round(r * 1e9) * 1000);
      if (k % 4 === 2) return (r * 100 - 50).toFixed(3);
      return i % 50 === 0 ? "+Inf" : String(r);
    });
  }
  // Escapes: \" \\ \n are unescaped, any other (\t) is kept as written; non-ASCII as is.
  emit("temperature", 'site="odd\\tname \\"q\\" \\\\ \\n ☃"', () => false, (i) => String(i / 7));
  out.push("# TYPE req_duration_seconds histogram");
  const les = ["0.05", "0.1", "0.25", "0.5", "1", "+Inf"];
  for (let k = 0; k < 10; k++) {
    const counts = les.map(() => 0);
    let sum = 0;
    const rows: string[][] = les.map(() => []);
    const sums: string[] = [], cnts: string[] = [];
    for (let i = 0; i < STEPS; i++) {
      const n = Math.floor(rnd() * 20);
      for (let j = 0; j < n; j++) {
        const d = rnd() * 1.2;
        sum += d;
        les.forEach((le, b) => { if (le === "+Inf" || d <= Number(le)) counts[b]!++; });
      }
      les.forEach((_, b) => rows[b]!.push(String(counts[b])));
      sums.push(String(sum));
      cnts.push(String(counts[les.length - 1]));
    }
    les.forEach((le, b) => emit("req_duration_seconds_bucket", `instance="h${k}",le="${le}"`, () => false, (i) => rows[b]![i]!));
    emit("req_duration_seconds_sum", `instance="h${k}"`, () => false, (i) => sums[i]!);
    emit("req_duration_seconds_count", `instance="h${k}"`, () => false, (i) => cnts[i]!);
  }
  out.push("# EOF");
  return { text: out.join("\n") + "\n", series, samples };
}

const data = openMetrics();
const work = tempDir("tsdb-promtool-").path;
const omFile = join(work, "data.om");
const theirs = join(work, "theirs");
const ours = join(work, "ours");

test.before(async () => {
  writeFileSync(omFile, data.text);
  await promtoolBackfill(data.text, theirs);
  await tools(["tsdb", "create-blocks-from", "openmetrics", omFile, ours]);
  // promtool tsdb dump opens the directory as a DB and wants a WAL dir.
  mkdirSync(join(theirs, "wal"), { recursive: true });
  mkdirSync(join(ours, "wal"), { recursive: true });
});

const blocksIn = (d: string) => readdirSync(d).filter((n) => /^[0-9A-Z]{26}$/.test(n)).sort();

test("the data is what the brief asks for: a few hundred series over several blocks", () => {
  assert.ok(data.series >= 200, `${data.series} series`);
  assert.ok(blocksIn(theirs).length >= 3, `promtool cut ${blocksIn(theirs).length} blocks`);
  assert.is(blocksIn(ours).length, blocksIn(theirs).length);
});

test("(1) our dump of promtool's blocks equals promtool's dump, line for line", async () => {
  const want = (await promtool(["tsdb", "dump", theirs])).stdout;
  const lines = want.split("\n").length - 1;
  assert.is(lines, data.samples);
  // The formatting corners are really in there.
  for (const needle of [" NaN ", " +Inf ", "e-06 ", "e+11 ", 'le="+Inf"', 'site="odd\\\\tname \\"q\\" \\\\ \\n ☃"']) assert.ok(want.includes(needle), `no ${needle} in the dump`);
  const got = await tools(["tsdb", "dump", theirs]);
  assert.ok(got === want, firstDiff(got, want));
});

test("(1) with --min-time/--max-time (inclusive) and --match", async () => {
  const ms = (T0 + 100 * 60) * 1000, mx = (T0 + 250 * 60) * 1000;
  for (const args of [
    [`--min-time=${ms}`, `--max-time=${mx}`],
    [`--match={__name__="temperature",site=~"s1.*"}`],
    [`--match={code!="200",instance=~"10.0.0.(1|2).*"}`, `--min-time=${ms}`],
    [`--match={le=""}`, `--max-time=${ms}`],
  ]) {
    const want = (await promtool(["tsdb", "dump", ...args, theirs])).stdout;
    assert.ok(want.length > 0, args.join(" "));
    const got = await tools(["tsdb", "dump", ...args, theirs]);
    assert.ok(got === want, args.join(" ") + ": " + firstDiff(got, want));
  }
});

test("our analyze reads and CRC-checks every section of promtool's blocks, counting what promtool lists", async () => {
  const listed = (await promtool(["tsdb", "list", theirs])).stdout.split("\n").slice(1).filter(Boolean).map((l) => l.split(/\s+/));
  const out = await tools(["tsdb", "analyze", theirs]);
  for (const row of listed) {
    const [ulid, , , , samples, chunks, series] = row as [string, string, string, string, string, string, string];
    const sec = out.slice(out.indexOf(`Block ID: ${ulid}`));
    assert.ok(sec.length > 0, ulid);
    assert.match(sec, new RegExp(`Total Series: ${series}\n`));
    assert.match(sec, new RegExp(`Total Chunks: ${chunks} `));
    assert.match(sec, new RegExp(`Total Samples: ${samples} `));
    assert.match(sec, new RegExp(`Index checked: ${series} series entries, .* every CRC-32C matches`));
  }
});

test("our tsdb list prints exactly what promtool tsdb list prints, for its blocks and ours", async () => {
  for (const d of [theirs, ours]) {
    const want = (await promtool(["tsdb", "list", d])).stdout;
    assert.is(await tools(["tsdb", "list", d]), want);
  }
});

test("(2) our blocks pass promtool tsdb analyze", async () => {
  for (const b of blocksIn(ours)) {
    const { stdout } = await promtool(["tsdb", "analyze", ours, b]);
    assert.match(stdout, new RegExp(`Block ID: ${b}`));
    assert.match(stdout, /Series: \d+/);
  }
});

test("(2) promtool dumps our blocks exactly as it dumps its own", async () => {
  const want = (await promtool(["tsdb", "dump", theirs])).stdout;
  const got = (await promtool(["tsdb", "dump", ours])).stdout;
  assert.ok(got === want, firstDiff(got, want));
  // Block boundaries and stats match promtool's too.
  const list = async (d: string) => (await promtool(["tsdb", "list", d])).stdout.split("\n").slice(1).map((l) => l.split(/\s+/).slice(1, 7).join(" ")).sort();
  assert.equal(await list(ours), await list(theirs));
});

test("(2) Prometheus on our blocks answers query_range exactly like Prometheus on promtool's", async () => {
  // Copies: Prometheus writes into its data dir (WAL, lock, compactions).
  const a = join(work, "prom-theirs"), b = join(work, "prom-ours");
  cpSync(theirs, a, { recursive: true });
  cpSync(ours, b, { recursive: true });
  const [pa, pb] = await Promise.all([startPrometheus({ dataDir: a }), startPrometheus({ dataDir: b })]);
  try {
    const queries = [
      "http_requests_total",
      "rate(http_requests_total[5m])",
      "sum by (code) (increase(http_requests_total[10m]))",
      "temperature",
      "count_over_time(temperature[30m])",
      "histogram_quantile(0.9, sum by (le) (rate(req_duration_seconds_bucket[5m])))",
      "req_duration_seconds_sum / req_duration_seconds_count",
    ];
    for (const q of queries) {
      const params = { query: q, start: String(T0 - 600), end: String(T0 + STEPS * 60 + 600), step: "60" };
      const [ra, rb] = await Promise.all([promApi(pa.url, "/api/v1/query_range", params), promApi(pb.url, "/api/v1/query_range", params)]);
      assert.is(ra.status, "success", q);
      assert.ok(ra.data.result.length > 0, `${q}: no result from promtool's blocks`);
      assert.equal(rb, ra, q);
    }
  } finally {
    await Promise.all([pa.stop(), pb.stop()]);
  }
});

test("tombstones written by Prometheus' delete API, and blocks it rewrites on clean_tombstones, dump as promtool dumps them", async () => {
  const dir = join(work, "prom-deletes");
  cpSync(theirs, dir, { recursive: true });
  const post = async (base: string, path: string, params: [string, string][]) => {
    const u = new URL(path, base);
    for (const [k, v] of params) u.searchParams.append(k, v);
    const r = await fetch(u, { method: "POST" });
    assert.ok(r.status === 204 || r.status === 200, `${path}: HTTP ${r.status} ${await r.text()}`);
  };
  const tombstoneBytes = () => blocksIn(dir).map((b) => readFileSync(join(dir, b, "tombstones")).length);
  let p = await startPrometheus({ dataDir: dir });
  try {
    await post(p.url, "/api/v1/admin/tsdb/delete_series", [["match[]", 'temperature{site=~"s1.*"}'], ["start", String(T0 + 3600)], ["end", String(T0 + 7200)]]);
    await post(p.url, "/api/v1/admin/tsdb/delete_series", [["match[]", 'http_requests_total{code="500"}']]);
  } finally {
    await p.stop();
  }
  assert.ok(tombstoneBytes().some((n) => n > 9), "Prometheus wrote no tombstones");
  const want1 = (await promtool(["tsdb", "dump", dir])).stdout;
  assert.ok(want1.split("\n").length - 1 < data.samples, "the deletes removed nothing");
  assert.ok(!want1.includes('code="500"'));
  const got1 = await tools(["tsdb", "dump", dir]);
  assert.ok(got1 === want1, firstDiff(got1, want1));

  const before = blocksIn(dir);
  p = await startPrometheus({ dataDir: dir });
  try {
    await post(p.url, "/api/v1/admin/tsdb/clean_tombstones", []);
  } finally {
    await p.stop();
  }
  assert.not.equal(blocksIn(dir), before, "clean_tombstones rewrote no block");
  assert.ok(tombstoneBytes().every((n) => n === 9));
  const want2 = (await promtool(["tsdb", "dump", dir])).stdout;
  assert.is(want2, want1);
  const got2 = await tools(["tsdb", "dump", dir]);
  assert.ok(got2 === want2, firstDiff(got2, want2));
});

test("a block Prometheus writes from its head (snapshot of scraped data with stale markers) dumps as promtool dumps it", async () => {
  let scrapes = 0;
  const server = createServer((_req, res) => {
    scrapes++;
    const lines = [
      "# TYPE seen counter",
      `seen_total{path="/a\\"b\\\\c",unicode="żółw ☃"} ${scrapes}`,
      `g{i="nan"} NaN`,
      `g{i="big"} ${1e300 * scrapes}`,
      `g{i="tiny"} ${scrapes * 1e-300}`,
      ...(scrapes % 2 === 1 ? ["flappy 1"] : []), // gone on every other scrape: Prometheus writes stale markers
    ];
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end(lines.join("\n") + "\n");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const p = await startPrometheus({
    config: `global:\n  scrape_interval: 200ms\nscrape_configs:\n  - job_name: t\n    static_configs:\n      - targets: ["127.0.0.1:${port}"]\n`,
  });
  let snap: string;
  try {
    const deadline = Date.now() + 20_000;
    while (scrapes < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(scrapes >= 6, `only ${scrapes} scrapes`);
    await new Promise((r) => setTimeout(r, 400));
    const r = await fetch(`${p.url}/api/v1/admin/tsdb/snapshot`, { method: "POST" });
    const body = await r.json() as { data: { name: string } };
    snap = join(p.dataDir, "snapshots", body.data.name);
  } finally {
    await p.stop();
    server.close();
  }
  assert.ok(blocksIn(snap).length >= 1, "the snapshot holds no block");
  mkdirSync(join(snap, "wal"), { recursive: true });
  const want = (await promtool(["tsdb", "dump", snap])).stdout;
  const staleLines = want.split("\n").filter((l) => /^\{__name__="flappy", .*\} NaN /.test(l)).length;
  assert.ok(staleLines >= 2, "no stale markers in the dump");
  assert.match(want, /unicode="żółw ☃"/);
  const got = await tools(["tsdb", "dump", snap]);
  assert.ok(got === want, firstDiff(got, want));
  assert.match(await tools(["tsdb", "analyze", snap]), /every CRC-32C matches/);
  // The NaNs of `flappy` are Prometheus' staleness markers and our iterator says so; g{i="nan"} is not stale.
  const { querier, close } = await openLocalBlocks(snap);
  try {
    const r = await querier.select({ start: -Infinity, end: Infinity }, []);
    let stale = 0, nanNotStale = 0;
    for (const s of r.series) {
      const it = s.iterator();
      const name = s.labels.find((l) => l.name === "__name__")!.value;
      while (it.next()) {
        if (it.isStale()) { assert.is(name, "flappy"); stale++; }
        else if (Number.isNaN(it.value())) nanNotStale++;
      }
    }
    assert.is(stale, staleLines);
    assert.ok(nanNotStale >= 6);
  } finally {
    await close();
  }
});

function firstDiff(a: string, b: string): string {
  const x = a.split("\n"), y = b.split("\n");
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `line ${i + 1}: ours ${JSON.stringify(x[i])} vs promtool ${JSON.stringify(y[i])} (${x.length} vs ${y.length} lines)`;
  }
  return "equal";
}

test.run();
