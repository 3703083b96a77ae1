// The store gateway benchmark's data sets and queries (bench/store.ts runs them; bench/store-profile.ts
// profiles one query against one store). See bench/store.ts for what each data set is.
import { cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { Encoding } from "../shared/chunkenc/chunk.ts";
import { XorAppender } from "../shared/chunkenc/xor.ts";
import { compareLabels, labelsFrom, type Labels } from "../shared/labels/labels.ts";
import { newUlid } from "../shared/tsdb/ulid.ts";
import { BlockWriter } from "../shared/tsdb/writer.ts";
import { openBlock } from "../shared/tsdb/block.ts";
import { downsampleBlock, RES_1H, RES_5M } from "../shared/compact/downsample.ts";
import { DiskSink, localBlockFiles } from "../agent/tsdb/local.ts";
import { promtool } from "../test/lib/prometheus.ts";
import { generateBenchDataset, generateDataset, openMetricsChunks, T0 } from "../test/promql/data.ts";
import { benchQueries } from "./queryset.ts";

const H = 3600_000, BLOCK = 2 * H;

// ---------- queries ----------

export type Kind = "range" | "instant" | "series" | "labels" | "values";
export interface Query {
  name: string;
  kind: Kind;
  /** PromQL (range/instant), match[] (series; labels/values optional), label name (values). */
  q: string;
  start?: number; end?: number; step?: number; time?: number;
  /** Thanos/our querier parameter; Prometheus cannot answer queries with one > 0. */
  res?: string;
  /** One of the queries timed cold. */
  cold?: boolean;
}

export function params(q: Query): { path: string; body: URLSearchParams } {
  const b = new URLSearchParams();
  const s = (ms: number) => String(ms / 1000);
  if (q.res) b.set("max_source_resolution", q.res);
  switch (q.kind) {
    case "range": b.set("query", q.q); b.set("start", s(q.start!)); b.set("end", s(q.end!)); b.set("step", s(q.step!)); return { path: "/api/v1/query_range", body: b };
    case "instant": b.set("query", q.q); b.set("time", s(q.time!)); return { path: "/api/v1/query", body: b };
    case "series": b.append("match[]", q.q); b.set("start", s(q.start!)); b.set("end", s(q.end!)); return { path: "/api/v1/series", body: b };
    case "labels": if (q.q) b.append("match[]", q.q); b.set("start", s(q.start!)); b.set("end", s(q.end!)); return { path: "/api/v1/labels", body: b };
    case "values": {
      const [name, match] = q.q.split(" ", 2) as [string, string | undefined];
      if (match) b.append("match[]", match);
      b.set("start", s(q.start!)); b.set("end", s(q.end!));
      return { path: `/api/v1/label/${name}/values?${b}`, body: new URLSearchParams() };
    }
  }
}

// ---------- datasets ----------

export interface Dataset {
  name: string;
  describe: string;
  /** Blocks directory: every block a ULID directory (meta.json with a thanos section). */
  blocks: string;
  /** Prometheus can serve it (raw only). */
  prom: boolean;
  queries: Query[];
}

function withThanosMeta(blockDir: string): void {
  const p = join(blockDir, "meta.json");
  const m = JSON.parse(readFileSync(p, "utf8"));
  m.thanos ??= { labels: {}, downsample: { resolution: 0 }, source: "bench" };
  writeFileSync(p, JSON.stringify(m, null, "\t"));
}

async function promqlDataset(work: string): Promise<Dataset> {
  const HOURS = 6;
  const om = join(work, "data.om");
  const bench = generateBenchDataset(10_000, HOURS);
  const corpus = generateDataset({ hours: HOURS });
  const out = createWriteStream(om);
  // Families must not interleave: the corpus families first, then the bench counters, then EOF.
  for (const ds of [corpus, bench]) {
    for (const c of openMetricsChunks(ds)) {
      if (c === "# EOF\n") continue;
      if (!out.write(c)) await once(out, "drain");
    }
  }
  out.end("# EOF\n");
  await once(out, "finish");
  const nSeries = bench.series.length + corpus.series.length;
  const blocks = join(work, "blocks");
  await promtool(["tsdb", "create-blocks-from", "openmetrics", om, blocks]);
  const ids = readdirSync(blocks).filter((f) => /^[0-9A-Z]{26}$/.test(f));
  for (const id of ids) withThanosMeta(join(blocks, id));
  const { queries: qs, mid } = benchQueries(HOURS);
  const end = T0 + HOURS * H;
  const queries: Query[] = [];
  const coldNames = new Set(["sum(rate(bench_requests_total[5m]))", 'bench_requests_total{instance="host-5"}', "count(bench_requests_total)"]);
  for (const q of qs) {
    const cold = coldNames.has(q.query);
    // Each of the 14 queries as a range query (the set's own step) and as an instant query (at the middle).
    const step = q.kind === "range" ? q.step! : 60_000;
    queries.push({ name: `range ${q.query}`, kind: "range", q: q.query, start: T0, end, step, cold: cold && q.kind === "range" });
    queries.push({ name: `instant ${q.query}`, kind: "instant", q: q.query, time: mid, cold: cold && q.kind === "instant" });
  }
  queries.push(
    { name: "series {job=\"job3\"} (1000 series), 6 h", kind: "series", q: 'bench_requests_total{job="job3"}', start: T0, end, cold: true },
    { name: "series {instance=\"host-5\"} (100 series), 1 h", kind: "series", q: 'bench_requests_total{instance="host-5"}', start: mid - H, end: mid },
    { name: "series {__name__=~\"http_.*|up\"}, 6 h", kind: "series", q: '{__name__=~"http_.*|up"}', start: T0, end },
    { name: "labels, 6 h", kind: "labels", q: "", start: T0, end, cold: true },
    { name: "labels {job=\"job3\"}, 6 h", kind: "labels", q: 'bench_requests_total{job="job3"}', start: T0, end },
    { name: "values of instance, 6 h", kind: "values", q: "instance", start: T0, end },
    { name: "values of id {job=\"job3\"}, 1 h", kind: "values", q: 'id bench_requests_total{job="job3"}', start: mid - H, end: mid },
  );
  return {
    name: "promql", blocks, prom: true, queries,
    describe: `PromQL benchmark data: ${nSeries} series (10 000 bench counters at 15 s + ${corpus.series.length} corpus series) over 6 h, promtool backfill, ${ids.length} blocks`,
  };
}

async function blocks50Dataset(work: string): Promise<Dataset> {
  const NB = Number(process.env.BLOCKS ?? 50), SERIES = 10_000, STEP = 60_000;
  const END = Math.floor((Date.now() - 86400_000) / BLOCK) * BLOCK, START = END - NB * BLOCK;
  const blocks = join(work, "blocks");
  mkdirSync(blocks, { recursive: true });
  const labelsOf = (k: number): Labels => labelsFrom({ __name__: "bench_metric", instance: `i${k}`, job: `j${k % 10}`, zone: `z${k % 3}` });
  const series = Array.from({ length: SERIES }, (_, k) => labelsOf(k)).sort(compareLabels);
  const syms = new Set<string>();
  for (const s of series) for (const l of s) { syms.add(l.name); syms.add(l.value); }
  for (let b = 0; b < NB; b++) {
    const mint = START + b * BLOCK;
    const ulid = newUlid(mint + BLOCK);
    const w = new BlockWriter(new DiskSink(blocks, ulid), {
      ulid, minTime: mint, maxTime: mint + BLOCK,
      thanos: { labels: {}, downsample: { resolution: 0 }, source: "bench" },
    });
    await w.start(syms);
    for (let i = 0; i < series.length; i++) {
      const a = new XorAppender();
      let v = i * 10;
      for (let j = 0; j < 120; j++) { v += (j * 7 + i + b) % 13; a.append(mint + j * STEP, v); }
      await w.addSeries(series[i]!, [{ minTime: mint, maxTime: mint + 119 * STEP, encoding: Encoding.XOR, data: a.bytes() }]);
    }
    await w.finish();
  }
  const day = END - 24 * H;
  const queries: Query[] = [
    { name: "range selective {instance=\"i1234\"}, 24 h (12 blocks), step 60 s", kind: "range", q: 'bench_metric{instance="i1234"}', start: day, end: END - STEP, step: STEP, cold: true },
    { name: "range sum(rate({job=\"j3\"}[5m])) (1000 series), 24 h, step 5m", kind: "range", q: 'sum(rate(bench_metric{job="j3"}[5m]))', start: day, end: END - STEP, step: 300_000, cold: true },
    { name: "range sum by (zone) (rate({job=\"j4\"}[10m])), all 100 h, step 30m", kind: "range", q: 'sum by (zone) (rate(bench_metric{job="j4"}[10m]))', start: START + 10 * 60_000, end: END - STEP, step: 1_800_000 },
    { name: "instant count(bench_metric) (10k series, 1 block)", kind: "instant", q: "count(bench_metric)", time: END - 30 * 60_000, cold: true },
    { name: "instant selective max_over_time({instance=\"i77\"}[24h])", kind: "instant", q: 'max_over_time(bench_metric{instance="i77"}[24h])', time: END - 60_000 },
    { name: "instant sum by (zone) (increase(bench_metric[1h]))", kind: "instant", q: "sum by (zone) (increase(bench_metric[1h]))", time: END - 30 * 60_000 },
    { name: "series {job=\"j5\"} (1000 series), 24 h", kind: "series", q: 'bench_metric{job="j5"}', start: day, end: END, cold: true },
    { name: "series {instance=\"i42\"}, all 100 h", kind: "series", q: 'bench_metric{instance="i42"}', start: START, end: END },
    { name: "labels, all 100 h", kind: "labels", q: "", start: START, end: END, cold: true },
    { name: "values of instance, 24 h", kind: "values", q: "instance", start: day, end: END },
  ];
  return { name: "blocks50", blocks, prom: true, queries, describe: `${NB} blocks x 2 h x ${SERIES} series, 60 s, one 120-sample chunk per series per block (our block writer)` };
}

async function downsampledDataset(work: string): Promise<Dataset> {
  const SERIES = 2000, DAYS = 8, STEP = 60_000, SPAN = 48 * H;
  const END = Math.floor((Date.now() - 2 * 86400_000) / SPAN) * SPAN, START = END - DAYS * 24 * H;
  const raw = join(work, "raw"), blocks = join(work, "blocks");
  mkdirSync(raw, { recursive: true });
  mkdirSync(blocks, { recursive: true });
  const labelsOf = (k: number): Labels => labelsFrom({ __name__: "ds_requests_total", instance: `h${k}`, job: `j${k % 10}` });
  const series = Array.from({ length: SERIES }, (_, k) => labelsOf(k)).sort(compareLabels);
  const syms = new Set<string>();
  for (const s of series) for (const l of s) { syms.add(l.name); syms.add(l.value); }
  const vals = new Float64Array(SERIES);
  for (let mint = START; mint < END; mint += SPAN) {
    const ulid = newUlid(mint + SPAN);
    const w = new BlockWriter(new DiskSink(raw, ulid), {
      ulid, minTime: mint, maxTime: mint + SPAN, thanos: { labels: {}, downsample: { resolution: 0 }, source: "bench" },
    });
    await w.start(syms);
    for (let i = 0; i < series.length; i++) {
      const chunks: { minTime: number; maxTime: number; encoding: number; data: Uint8Array }[] = [];
      let a = new XorAppender(), first = mint;
      for (let t = mint; t < mint + SPAN; t += STEP) {
        if (a.numSamples() >= 120) { chunks.push({ minTime: first, maxTime: t - STEP, encoding: Encoding.XOR, data: a.bytes() }); a = new XorAppender(); first = t; }
        vals[i] += ((t / STEP) * 7 + i) % 11;
        if ((t / STEP + i) % 5000 === 0) vals[i] = 0; // a counter reset now and then
        a.append(t, vals[i]!);
      }
      chunks.push({ minTime: first, maxTime: mint + SPAN - STEP, encoding: Encoding.XOR, data: a.bytes() });
      await w.addSeries(series[i]!, chunks);
    }
    await w.finish();
    cpSync(join(raw, ulid), join(blocks, ulid), { recursive: true });
    const src = localBlockFiles(join(raw, ulid));
    const u5 = newUlid(mint + SPAN);
    await downsampleBlock(await openBlock(src), RES_5M, new DiskSink(blocks, u5), { ulid: u5 });
    await src.close();
    const f5 = localBlockFiles(join(blocks, u5));
    const u1 = newUlid(mint + SPAN);
    await downsampleBlock(await openBlock(f5), RES_1H, new DiskSink(blocks, u1), { ulid: u1 });
    await f5.close();
  }
  const queries: Query[] = [];
  for (const [res, label] of [["0s", "raw"], ["5m", "5m"], ["1h", "1h"]] as const) {
    queries.push(
      { name: `[${label}] range sum by (job) (rate([1h])), 8 d, step 1h`, kind: "range", q: "sum by (job) (rate(ds_requests_total[1h]))", start: START + 2 * H, end: END - H, step: H, res, cold: res !== "0s" },
      { name: `[${label}] range max_over_time({instance="h7"}[2h]), 8 d, step 30m`, kind: "range", q: 'max_over_time(ds_requests_total{instance="h7"}[2h])', start: START + 2 * H, end: END - H, step: 1_800_000, res },
      { name: `[${label}] instant sum(increase([1d]))`, kind: "instant", q: "sum(increase(ds_requests_total[1d]))", time: END - H, res, cold: res === "1h" },
    );
  }
  // The raw-resolution queries can also be asked of Prometheus; downsampled ones are checked against T+T.
  return {
    name: "downsampled", blocks, prom: false, queries,
    describe: `${SERIES} series x ${DAYS} days at 60 s: ${DAYS / 2} raw 48 h blocks, each downsampled to 5m and 1h by shared/compact/downsample.ts (${(DAYS / 2) * 3} blocks)`,
  };
}

/** A dataset built in `dir`, or the one built there by an earlier run (--data DIR keeps them). */
export async function dataset(name: string, dir: string): Promise<Dataset> {
  const saved = join(dir, "dataset.json");
  if (existsSync(saved)) return JSON.parse(readFileSync(saved, "utf8")) as Dataset;
  mkdirSync(dir, { recursive: true });
  const ds = name === "promql" ? await promqlDataset(dir) : name === "blocks50" ? await blocks50Dataset(dir) : name === "downsampled" ? await downsampledDataset(dir) : null;
  if (!ds) throw new Error(`unknown dataset ${name}`);
  writeFileSync(saved, JSON.stringify(ds));
  return ds;
}

