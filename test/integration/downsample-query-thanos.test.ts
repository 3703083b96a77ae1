// Downsampled answers against the real Thanos (v0.41.0, test/lib/thanos.ts): one raw block of 12 days
// plus a newer 2h raw block, downsampled by `thanos compact` (raw -> 5m -> 1h) into one bucket and by
// our downsampler into another. Then, at max_source_resolution 5m and 1h (and auto):
//   A  Thanos querier -> Thanos store gateway -> Thanos' bucket          (the reference)
//   B  Thanos querier -> our store gateway    -> our bucket              (our blocks + store, Thanos' engine)
//   C  our querier    -> our store gateway    -> our bucket              (everything ours)
//   D  our querier    -> our store gateway    -> Thanos' bucket          (our reader over Thanos' blocks)
// B must equal A exactly; D must equal C exactly; C must equal A exactly too, except where Thanos'
// engine (Prometheus 3.x) and ours (Prometheus 2.42) compute differently: avg_over_time (3.x divides a
// Kahan sum, 2.42 keeps an incremental Kahan mean) and sum() (3.x adds with Kahan compensation) may
// differ in the last bits of a double; those are compared to 1e-12 relative and counted.
// The data are small integers (exact sums) at timestamps never on a whole second (no sample on a range
// boundary, which 2.42 and 3.x treat differently), counters stay high through their resets (rate's
// zero-point extrapolation, which 3.x changed, never applies). The 2h block continues the 12-day one.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { DiskSink, localBlockFiles } from "../../agent/tsdb/local.ts";
import { downsampleBlock, RES_1H, RES_5M } from "../../shared/compact/downsample.ts";
import { openBlock } from "../../shared/tsdb/block.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";
import { writeRawBlock } from "../lib/downsample-data.ts";
import { freePort, startProcess, tempDir, waitForHealthyStores, waitForHttp, type Proc } from "../lib/proc.ts";
import { thanosBinary } from "../lib/thanos.ts";

const run = promisify(execFile);
const root = process.cwd();
const bun = join(root, "node_modules/.bin/bun");
const dir = tempDir("downsample-query-").path;
const H = 3600_000, D = 24 * H;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % (2 * H));
const END = T0 + 12 * D + 2 * H;
const procs: Proc[] = [];

interface Metas { ulid: string; res: number; minTime: number; maxTime: number }
function metas(bucket: string): Metas[] {
  return readdirSync(bucket).filter((d) => existsSync(join(bucket, d, "meta.json"))).map((d) => {
    const m = JSON.parse(readFileSync(join(bucket, d, "meta.json"), "utf8")) as { ulid: string; minTime: number; maxTime: number; thanos: { downsample: { resolution: number } } };
    return { ulid: m.ulid, res: m.thanos.downsample.resolution, minTime: m.minTime, maxTime: m.maxTime };
  }).sort((a, b) => a.res - b.res || a.minTime - b.minTime);
}

function bucketYml(name: string, path: string): string {
  const f = join(dir, `${name}.yml`);
  writeFileSync(f, `type: FILESYSTEM\nconfig:\n  directory: ${path}\n`);
  return f;
}

async function oursDownsample(bucket: string, from: string, res: number): Promise<string> {
  const files = localBlockFiles(join(bucket, from));
  try {
    const u = newUlid();
    const m = await downsampleBlock(await openBlock(files), res, new DiskSink(bucket, u), { ulid: u });
    assert.ok(m, `no ${res} block from ${from}`);
    return u;
  } finally {
    await files.close();
  }
}

const start = (cmd: string, args: string[]) => { const p = startProcess(cmd, args, { cwd: root }); procs.push(p); return p; };

let A = "", B = "", C = "", Dq = "";

test("set up: raw blocks, Thanos' and our downsampling, stores and queriers", async () => {
  const thanos = await thanosBinary();
  const tb = join(dir, "thanos-bucket"), ob = join(dir, "our-bucket");
  mkdirSync(tb);
  // 30 series over 12 days at ~1 min (0.5M samples), and a newer 2h block that stays raw (gap filling).
  const ext = { cluster: "ds", replica: "r0" };
  const u1 = newUlid(T0), u2 = newUlid(T0 + 12 * D);
  const gen = { seed: 5, series: 30, mint: T0, maxt: END, interval: 60_000, awkward: false, integers: true, ext };
  await writeRawBlock(new DiskSink(tb, u1), { ...gen, ulid: u1, keep: [T0, T0 + 12 * D] });
  await writeRawBlock(new DiskSink(tb, u2), { ...gen, ulid: u2, keep: [T0 + 12 * D, END] });
  await run("cp", ["-r", tb, ob]);
  // Thanos' compactor, one shot: downsampling pass 1 (raw -> 5m), pass 2 (5m -> 1h).
  await run(thanos, ["compact", `--data-dir=${join(dir, "compact")}`, `--objstore.config-file=${bucketYml("tb", tb)}`, "--consistency-delay=0s", "--log.level=warn"], { maxBuffer: 1 << 24, timeout: 300_000 });
  const tm = metas(tb);
  assert.equal(tm.map((m) => m.res), [0, 0, RES_5M, RES_1H], JSON.stringify(tm));
  // Ours: the same two passes over the same raw block.
  const raw = metas(ob).find((m) => m.maxTime - m.minTime >= 40 * H)!;
  const u5 = await oursDownsample(ob, raw.ulid, RES_5M);
  await oursDownsample(ob, u5, RES_1H);
  assert.equal(metas(ob).map((m) => [m.res, m.minTime, m.maxTime]), tm.map((m) => [m.res, m.minTime, m.maxTime]));

  const ports = async (n: number) => Promise.all(Array.from({ length: n }, () => freePort()));
  const [tsH, tsG, osH, osG, otH, otG] = await ports(6);
  const ts = start(thanos, ["store", `--objstore.config-file=${bucketYml("tb", tb)}`, `--data-dir=${join(dir, "thanos-store")}`,
    `--grpc-address=127.0.0.1:${tsG}`, `--http-address=127.0.0.1:${tsH}`, "--log.level=warn"]);
  const os = start(bun, ["agent/main.ts", "store", `--objstore.config-file=${bucketYml("ob", ob)}`,
    `--grpc-address=127.0.0.1:${osG}`, `--http-address=127.0.0.1:${osH}`, "--log.level=warn"]);
  const ot = start(bun, ["agent/main.ts", "store", `--objstore.config-file=${bucketYml("tb", tb)}`,
    `--grpc-address=127.0.0.1:${otG}`, `--http-address=127.0.0.1:${otH}`, "--log.level=warn"]);
  await waitForHttp(`http://127.0.0.1:${tsH}/-/ready`, ts, 60_000);
  await waitForHttp(`http://127.0.0.1:${osH}/-/ready`, os, 60_000);
  await waitForHttp(`http://127.0.0.1:${otH}/-/ready`, ot, 60_000);
  const thanosQuery = async (store: number) => {
    const [h, g] = await ports(2);
    const p = start(thanos, ["query", `--endpoint=127.0.0.1:${store}`, `--http-address=127.0.0.1:${h}`, `--grpc-address=127.0.0.1:${g}`, "--log.level=warn"]);
    await waitForHttp(`http://127.0.0.1:${h}/-/ready`, p);
    await waitForHealthyStores(`http://127.0.0.1:${h}`, 1, 30_000);
    return `http://127.0.0.1:${h}`;
  };
  const ourQuery = async (args: string[], stores: number) => {
    const [h] = await ports(1);
    const p = start(bun, ["agent/main.ts", "query", `--http-address=127.0.0.1:${h}`, "--log.level=warn", ...args]);
    await waitForHttp(`http://127.0.0.1:${h}/-/ready`, p);
    await waitForHealthyStores(`http://127.0.0.1:${h}`, stores, 30_000);
    return `http://127.0.0.1:${h}`;
  };
  A = await thanosQuery(tsG);
  B = await thanosQuery(osG);
  C = await ourQuery([`--endpoint=grpc://127.0.0.1:${osG}`], 1);
  Dq = await ourQuery([`--endpoint=grpc://127.0.0.1:${otG}`], 1);
});

// Which queries read through which aggregate: counter (rate/increase/resets), min, max, count, sum,
// and the average (bare selectors, avg_over_time, sum()).
const QUERIES = [
  "rate(ds_requests_total[2h])", "increase(ds_requests_total[3h])", "rate(ds_requests_total[30m])",
  "sum by (job) (rate(ds_requests_total[2h]))", "resets(ds_requests_total[6h])", "irate(ds_requests_total[2h])",
  "max_over_time(ds_temperature[2h])", "min_over_time(ds_temperature[2h])", "count_over_time(ds_temperature[2h])",
  "sum_over_time(ds_temperature[2h])", "avg_over_time(ds_temperature[2h])",
  "ds_temperature", "ds_requests_total", "sum(ds_temperature)", "max by (job) (ds_requests_total)",
];
/** Engine-level float differences between Prometheus 3.x (Thanos) and 2.42 (ours): see the header. */
const ENGINE_FLOAT = /^(avg_over_time|sum\(|sum by)/;
/**
 * On raw data (max_source_resolution 0: what `auto` means for an instant query) Thanos reads counters
 * through the counter-resets iterator too; ours keeps Prometheus' semantics there (resets() counts
 * resets, rate() extrapolates from the raw values), so those answers are not compared with Thanos'.
 */
const COUNTER_FUNC = /\b(rate|irate|increase|resets)\(/;

type Result = { status: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[] } };

type Kind = "range" | "range at :30" | "instant" | "instant in the past";
const KINDS: Kind[] = ["range", "range at :30", "instant", "instant in the past"];

/**
 * Range queries at whole hours and at half past (where the latest 1h point is 30 minutes old: only the
 * dynamic lookback delta finds it), an instant query in the newer raw block and one 5 days back.
 */
async function ask(base: string, q: string, res: string, kind: Kind): Promise<Result> {
  const at = (ms: number) => String(ms / 1000);
  const p: Record<string, string> =
    kind === "range" ? { query: q, start: at(T0 + 6 * H), end: at(END), step: "3600", max_source_resolution: res }
    : kind === "range at :30" ? { query: q, start: at(T0 + 6.5 * H), end: at(END), step: "7200", max_source_resolution: res }
    : kind === "instant" ? { query: q, time: at(END - 30 * 60_000), max_source_resolution: res }
    : { query: q, time: at(T0 + 5 * D + 30 * 60_000), max_source_resolution: res };
  const r = await fetch(`${base}/api/v1/${kind.startsWith("range") ? "query_range" : "query"}`, { method: "POST", body: new URLSearchParams(p) });
  return await r.json() as Result;
}

function norm(r: Result): Map<string, [number, string][]> {
  const m = new Map<string, [number, string][]>();
  for (const s of r.data?.result ?? []) {
    const k = JSON.stringify(Object.entries(s.metric).sort());
    m.set(k, s.values ?? (s.value ? [s.value] : []));
  }
  return m;
}

/** Differences of `got` from `want` (labels, timestamps, values); `tol` > 0 allows relative float error. */
function diff(got: Result, want: Result, tol = 0): { exact: number; close: number; bad: string[] } {
  const out = { exact: 0, close: 0, bad: [] as string[] };
  if (got.status !== "success" || want.status !== "success") {
    if (got.status !== want.status || got.error !== want.error) out.bad.push(`status ${got.status} ${got.error ?? ""} vs ${want.status} ${want.error ?? ""}`);
    return out;
  }
  const g = norm(got), w = norm(want);
  if (JSON.stringify([...g.keys()].sort()) !== JSON.stringify([...w.keys()].sort())) {
    out.bad.push(`series differ: ${[...g.keys()].length} vs ${[...w.keys()].length}`);
    return out;
  }
  for (const [k, wv] of w) {
    const gv = g.get(k)!;
    if (gv.length !== wv.length) { out.bad.push(`${k}: ${gv.length} points vs ${wv.length}`); continue; }
    for (let i = 0; i < wv.length; i++) {
      const [gt, gs] = gv[i]!, [wt, ws] = wv[i]!;
      if (gt !== wt) { out.bad.push(`${k} point ${i}: t ${gt} vs ${wt}`); break; }
      if (gs === ws) { out.exact++; continue; }
      const a = Number(gs), b = Number(ws);
      if (tol > 0 && Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b))) { out.close++; continue; }
      out.bad.push(`${k} @${wt}: ${gs} vs ${ws}`);
    }
  }
  return out;
}

for (const res of ["5m", "1h", "auto"]) {
  test(`max_source_resolution=${res}: Thanos over our blocks = Thanos over Thanos'; ours = Thanos`, async () => {
    let points = 0, close = 0, skipped = 0;
    const problems: string[] = [];
    for (const q of QUERIES) {
      for (const kind of KINDS) {
        const a = await ask(A, q, res, kind);
        assert.is(a.status, "success", `${q}: ${a.error}`);
        assert.ok((a.data?.result.length ?? 0) > 0 || q.startsWith("resets"), `reference answer to ${q} (${kind}) is empty`);
        const [b, c, d] = await Promise.all([ask(B, q, res, kind), ask(C, q, res, kind), ask(Dq, q, res, kind)]);
        const raw = res === "auto" && kind.startsWith("instant");
        const ab = diff(b, a), dc = diff(d, c), ca = diff(c, a, ENGINE_FLOAT.test(q) ? 1e-12 : 0);
        const checks = [["Thanos querier over our store+blocks vs reference", ab], ["our querier over Thanos' blocks vs over ours", dc]] as [string, typeof ab][];
        if (raw && COUNTER_FUNC.test(q)) skipped++;
        else checks.push(["our querier vs reference", ca]);
        for (const [who, r] of checks) {
          if (r.bad.length) problems.push(`${q} (${kind}, ${res}) ${who}: ${r.bad.slice(0, 3).join("; ")}${r.bad.length > 3 ? ` (+${r.bad.length - 3})` : ""}`);
        }
        if (!(raw && COUNTER_FUNC.test(q))) { points += ca.exact + ca.close; close += ca.close; }
      }
    }
    console.log(`max_source_resolution=${res}: ours vs Thanos on ${points} points, ${points - close} identical, ${close} within 1e-12 (engine float rounding)` +
      (skipped ? `; ${skipped} raw-data counter answers not compared (see COUNTER_FUNC)` : ""));
    assert.equal(problems, []);
  });
}

test("the resolution really used: 1h answers differ from 5m answers; half past the hour only the dynamic lookback finds 1h points", async () => {
  const h = norm(await ask(A, "ds_temperature", "1h", "range")), m = norm(await ask(A, "ds_temperature", "5m", "range"));
  assert.not.equal([...h.values()], [...m.values()]);
  for (const base of [A, C]) {
    const withLookback = await ask(base, "ds_temperature", "1h", "range at :30");
    const pts = (withLookback.data?.result ?? []).reduce((n, s) => n + (s.values?.length ?? 0), 0);
    assert.ok(pts > 1000, `${base}: ${pts} points`);
    // The same query with a 5m lookback_delta given finds no 1h point 30 minutes back.
    const body = new URLSearchParams({ query: "ds_temperature", start: String((T0 + 6.5 * H) / 1000), end: String((T0 + 11 * D) / 1000), step: "7200", max_source_resolution: "1h", lookback_delta: "5m" });
    const r = await (await fetch(`${base}/api/v1/query_range`, { method: "POST", body })).json() as Result;
    assert.is((r.data?.result ?? []).length, 0, `${base}: lookback_delta=5m over 1h data`);
  }
});

test("stop processes", async () => {
  for (const p of procs.reverse()) await p.stop();
});

test.run();
