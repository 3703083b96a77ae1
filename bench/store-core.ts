// The store gateway's core without a transport: BucketStore.seriesEnveloped / labelNames / labelValues
// called in process over a filesystem bucket of a bench/store-data.ts data set, to split a Series call's
// time between the store and the wire (bench/store.ts times the whole path). Prints, per request, the
// first call (cold: fresh store, nothing cached) and the median of --n warm calls, and the bytes written.
//
//   bun bench/store-core.ts --data /tmp/store-data [--dataset promql|downsampled] [--n 20] [--only REGEX]
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { FilesystemBucket } from "../agent/objstore/fs.ts";
import { BucketStore } from "../shared/bucketstore/store.ts";
import { readdirSync, readFileSync } from "node:fs";
import { Aggr, LabelNamesRequestSchema, LabelValuesRequestSchema, SeriesRequestSchema, type SeriesRequest } from "../shared/gen/thanos/storepb/rpc_pb.ts";
import { LabelMatcher_Type } from "../shared/gen/thanos/storepb/types_pb.ts";
import { dataset } from "./store-data.ts";

const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : def; };
const N = Number(opt("n", "20"));
const data = opt("data", "");
if (!data) throw new Error("--data DIR is required");
const ds = await dataset(opt("dataset", "promql"), join(data, opt("dataset", "promql")));
const T0 = 1_699_999_200_000, H = 3600_000;
const eq = (name: string, value: string) => ({ name, value, type: LabelMatcher_Type.EQ });
const series = (name: string, ms: ReturnType<typeof eq>[], mint: number, maxt: number, extra: { skipChunks?: boolean } = {}) =>
  ({ name, req: create(SeriesRequestSchema, { minTime: BigInt(mint), maxTime: BigInt(maxt), matchers: ms, responseBatchSize: 64n, ...extra }) });
const promqlReqs = () => [
  series("broad: all 10k, 5 min (instant count)", [eq("__name__", "bench_requests_total")], T0 + 3 * H - 300_000, T0 + 3 * H),
  series("broad: all 10k, 6 h", [eq("__name__", "bench_requests_total")], T0, T0 + 6 * H),
  series("1000 series, 5 min", [eq("__name__", "bench_requests_total"), eq("job", "job1")], T0 + 3 * H - 300_000, T0 + 3 * H),
  series("100 series, 5 min", [eq("__name__", "bench_requests_total"), eq("instance", "host-5")], T0 + 3 * H - 300_000, T0 + 3 * H),
  series("1 series, 6 h", [eq("__name__", "bench_requests_total"), eq("id", "42")], T0, T0 + 6 * H),
  series("skip chunks, 1000 series, 6 h", [eq("__name__", "bench_requests_total"), eq("job", "job3")], T0, T0 + 6 * H, { skipChunks: true }),
];
// The downsampled data set: what a Thanos querier asks for `rate(ds_requests_total[1h])` over 8 days at
// each max_source_resolution (its max_resolution_window, and only the counter aggregate).
function span(): { start: number; end: number } {
  const metas = readdirSync(ds.blocks).filter((d) => /^[0-9A-Z]{26}$/.test(d)).map((d) => JSON.parse(readFileSync(join(ds.blocks, d, "meta.json"), "utf8")) as { minTime: number; maxTime: number });
  return { start: Math.min(...metas.map((m) => m.minTime)), end: Math.max(...metas.map((m) => m.maxTime)) };
}
const downsampledReqs = () => {
  const all = span(), start = all.start + H, end = all.end - H;
  const rate = (res: string, window: number) => ({ name: `[${res}] rate() over 2000 series, 8 d`, req: create(SeriesRequestSchema, {
    minTime: BigInt(start), maxTime: BigInt(end), matchers: [eq("__name__", "ds_requests_total")], maxResolutionWindow: BigInt(window),
    aggregates: window ? [Aggr.COUNTER] : [], responseBatchSize: 64n }) });
  return [rate("raw", 0), rate("5m", 300_000), rate("1h", 3_600_000)];
};
// blocks50: the selective calls, where the cost is per block (one series in each of 12 or 50 blocks).
const blocks50Reqs = () => {
  const { start, end } = span();
  return [
    series("selective: 1 series, 24 h (12 blocks)", [eq("__name__", "bench_metric"), eq("instance", "i1234")], end - 24 * H, end),
    series("selective: 1 series, all 100 h (50 blocks)", [eq("__name__", "bench_metric"), eq("instance", "i42")], start, end),
    series("selective, skip chunks, 50 blocks", [eq("__name__", "bench_metric"), eq("instance", "i42")], start, end, { skipChunks: true }),
    series("1000 series, 24 h (12 blocks)", [eq("__name__", "bench_metric"), eq("job", "j5")], end - 24 * H, end),
  ];
};
const reqs = ds.name === "downsampled" ? downsampledReqs() : ds.name === "blocks50" ? blocks50Reqs() : promqlReqs();

function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; }
const ctx = { signal: new AbortController().signal };

async function once(store: BucketStore, req: SeriesRequest): Promise<{ ms: number; cpu: number; bytes: number }> {
  const t0 = performance.now(), c0 = process.cpuUsage();
  let bytes = 0;
  for await (const b of store.seriesEnveloped(req, ctx, { reuse: true })) bytes += b.length;
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpu: (c.user + c.system) / 1000, bytes };
}

console.log(`# store core (in process), ${typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`}, ${ds.describe}`);
const only = argv.includes("--only") ? new RegExp(opt("only", "")) : null;
for (const r of reqs.filter((x) => !only || only.test(x.name))) {
  const store = new BucketStore({ bucket: new FilesystemBucket(join(ds.blocks)), bucketIndexMaxStaleMs: 0 });
  await store.sync();
  const cold = await once(store, r.req);
  const ts: number[] = [], cs: number[] = [];
  for (let i = 0; i < N; i++) { const x = await once(store, r.req); ts.push(x.ms); cs.push(x.cpu); }
  console.log(`${r.name.padEnd(40)} cold ${cold.ms.toFixed(1).padStart(7)} ms (cpu ${cold.cpu.toFixed(1)})  warm ${median(ts).toFixed(2).padStart(7)} ms (cpu ${median(cs).toFixed(2)})  ${(cold.bytes / 1024).toFixed(0)} KiB out`);
}
if (!only && ds.name === "promql") {
  const store = new BucketStore({ bucket: new FilesystemBucket(join(ds.blocks)), bucketIndexMaxStaleMs: 0 });
  await store.sync();
  const ln = create(LabelNamesRequestSchema, { start: BigInt(T0), end: BigInt(T0 + 6 * H) });
  const lv = create(LabelValuesRequestSchema, { label: "instance", start: BigInt(T0), end: BigInt(T0 + 6 * H) });
  const lvm = create(LabelValuesRequestSchema, { label: "id", start: BigInt(T0), end: BigInt(T0 + H), matchers: [eq("__name__", "bench_requests_total"), eq("job", "job3")] });
  for (const [name, f] of [["label names", () => store.labelNames(ln, ctx)], ["label values instance", () => store.labelValues(lv, ctx)], ["label values id {job=job3}", () => store.labelValues(lvm, ctx)]] as const) {
    let t0 = performance.now();
    await f();
    const cold = performance.now() - t0;
    const ts: number[] = [];
    for (let i = 0; i < N; i++) { t0 = performance.now(); await f(); ts.push(performance.now() - t0); }
    console.log(`${name.padEnd(40)} cold ${cold.toFixed(1).padStart(7)} ms  warm ${median(ts).toFixed(2).padStart(7)} ms`);
  }
}
