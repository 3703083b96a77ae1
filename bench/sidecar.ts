// Series through the sidecar vs a direct remote read from the same Prometheus, same run.
//
//   npx tsx bench/sidecar.ts [series=10000] [interval_s=15] [rounds=3]
//
// Data: promtool-backfilled `bench_metric{i="…", job="bench"}`, `series` series over 2h at `interval_s`.
// Direct: POST /api/v1/read (STREAMED_XOR_CHUNKS), every frame CRC-checked and decoded (what any client
// must do at least). Sidecar: the real `bun agent/main.ts sidecar` process, Series over gRPC with a
// connect-node client decoding every response. The sidecar's peak RSS is VmHWM from /proc.
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { freePort, startProcess, tempDir, waitForHttp } from "../test/lib/proc.ts";
import { promtool, startPrometheus } from "../test/lib/prometheus.ts";
import { create } from "@bufbuild/protobuf";
import { SeriesRequestSchema, Store } from "../shared/gen/thanos/storepb/rpc_pb.ts";
import { connectSeries } from "../edge/querier/connect-stream.ts";
import { LabelMatcher_Type } from "../shared/gen/thanos/storepb/types_pb.ts";
import { LabelMatcher_Type as PromType } from "../shared/gen/prometheus/types_pb.ts";
import { remoteRead, newQuery } from "../agent/sidecar/remoteread.ts";
import { chunkSampleCount } from "../shared/store/limits.ts";

const nSeries = Number(process.argv[2] ?? 10_000);
const interval = Number(process.argv[3] ?? 15);
const rounds = Number(process.argv[4] ?? 3);
const root = process.cwd();

const end = Math.floor(Date.now() / 1000) - 3 * 3600;
const start = end - 7200 + interval;

async function writeData(file: string): Promise<void> {
  const out = createWriteStream(file);
  const write = (s: string) => new Promise<void>((r) => { if (out.write(s)) r(); else out.once("drain", () => r()); });
  await write("# TYPE bench_metric gauge\n");
  for (let s = 0; s < nSeries; s++) {
    let buf = "";
    for (let t = start; t <= end; t += interval) buf += `bench_metric{i="${s}",job="bench"} ${((t * 7 + s) % 1000) / 10} ${t}\n`;
    await write(buf);
  }
  await write("# EOF\n");
  await new Promise<void>((r) => out.end(() => r()));
}

/** User+system CPU (ms) a process used so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const dir = tempDir("bench-sidecar-").path;
const om = join(dir, "data.om");
const t0 = performance.now();
await writeData(om);
await promtool(["tsdb", "create-blocks-from", "openmetrics", om, join(dir, "tsdb")]);
console.log(`data: ${nSeries} series x 2h at ${interval}s, backfilled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const prom = await startPrometheus({
  dataDir: join(dir, "tsdb"),
  config: "global:\n  external_labels:\n    cluster: bench\n    replica: r1\n",
  args: ["--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h"],
});
const gp = await freePort(), hp = await freePort();
// SIDECAR_HOLD=1 starts Prometheus and the sidecar, prints their URLs and waits (probing by hand).
// SIDECAR_RUNTIME=node runs the same sidecar under Node (tsx) for comparison.
const runtime = process.env.SIDECAR_RUNTIME === "node" ? [join(root, "node_modules/.bin/tsx")] : [join(root, "node_modules/.bin/bun")];
// SIDECAR_RUNTIME_FLAGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof" profiles the sidecar.
const rtFlags = (process.env.SIDECAR_RUNTIME_FLAGS ?? "").split(" ").filter(Boolean);
const sc = startProcess(runtime[0]!, [...rtFlags, join(root, "agent/main.ts"), "sidecar", `--prometheus.url=${prom.url}`,
  `--tsdb.path=${join(dir, "tsdb")}`, `--grpc-address=127.0.0.1:${gp}`, `--http-address=127.0.0.1:${hp}`, "--log.level=warn"]);
try {
  await waitForHttp(`http://127.0.0.1:${hp}/-/ready`, sc, 30_000);
  const rssIdle = vmHWM(sc.child.pid!);
  if (process.env.SIDECAR_HOLD) {
    // Keep Prometheus and the sidecar up for probing by hand; SIGINT/SIGTERM tears them down.
    console.log(`holding: prometheus ${prom.url}; sidecar http://127.0.0.1:${hp} grpc 127.0.0.1:${gp} pid ${sc.child.pid}; mint=${start * 1000} maxt=${end * 1000}`);
    await new Promise<void>((r) => { process.once("SIGINT", () => r()); process.once("SIGTERM", () => r()); });
    await sc.stop(); await prom.stop();
    process.exit(0);
  }
  const client = createClient(Store, createGrpcTransport({ baseUrl: `http://127.0.0.1:${gp}` }));
  const connectClient = createClient(Store, createConnectTransport({ baseUrl: `http://127.0.0.1:${hp}`, httpVersion: "1.1" }));
  const mint = start * 1000, maxt = end * 1000;

  let chunkBytes = 0;
  async function direct(): Promise<{ series: number; samples: number }> {
    const res = await remoteRead(prom.url, newQuery({ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(maxt), matchers: [{ type: PromType.EQ, name: "__name__", value: "bench_metric" }] }));
    if (res.type !== "streamed") throw new Error("expected a streamed answer");
    let series = 0, samples = 0;
    for await (const f of res.frames) for (const s of f.chunkedSeries) { series++; for (const c of s.chunks) { samples += chunkSampleCount(c.type, c.data); chunkBytes += c.data.length; } }
    return { series, samples };
  }
  async function viaSidecar(c = client, responseBatchSize = 0n): Promise<{ series: number; samples: number }> {
    let series = 0, samples = 0;
    for await (const r of c.series({ minTime: BigInt(mint), maxTime: BigInt(maxt), responseBatchSize, matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "bench_metric" }] })) {
      const list = r.result.case === "series" ? [r.result.value] : r.result.case === "batch" ? r.result.value.series : [];
      for (const x of list) {
        series++;
        for (const c of x.chunks) samples += chunkSampleCount(c.raw!.type + 1, c.raw!.data);
      }
    }
    return { series, samples };
  }
  /** What the querier does: Connect with response_batch_size=256, decoded by its direct decoder. */
  async function viaQuerierClient(): Promise<{ series: number; samples: number }> {
    let series = 0, samples = 0;
    const req = create(SeriesRequestSchema, { minTime: BigInt(mint), maxTime: BigInt(maxt), responseBatchSize: 256n, matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "bench_metric" }] });
    for await (const r of connectSeries(`http://127.0.0.1:${hp}`, req, new AbortController().signal, { name: "sidecar" })) {
      const res = r.result!;
      const list = res.case === "series" ? [res.value] : res.case === "batch" ? res.value.series ?? [] : [];
      for (const x of list) {
        series++;
        for (const c of x.chunks ?? []) samples += chunkSampleCount((c.raw!.type ?? 0) + 1, c.raw!.data!);
      }
    }
    return { series, samples };
  }

  await direct(); await viaSidecar(); // warm-up (JIT, page cache)
  const td: number[] = [], ts: number[] = [], tc: number[] = [], tb: number[] = [], tq: number[] = [];
  let cpuGrpc = 0, cpuConnect = 0, clientDirect = 0, clientGrpc = 0, cpuBatch = 0, cpuQuerier = 0;
  const clientCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  let counts = { series: 0, samples: 0 };
  for (let r = 0; r < rounds; r++) {
    let k0 = clientCpu();
    let a = performance.now(); const d = await direct(); td.push(performance.now() - a);
    clientDirect += clientCpu() - k0;
    let c0 = cpuMs(sc.child.pid!);
    k0 = clientCpu();
    a = performance.now(); const s = await viaSidecar(); ts.push(performance.now() - a);
    clientGrpc += clientCpu() - k0;
    cpuGrpc += cpuMs(sc.child.pid!) - c0; c0 = cpuMs(sc.child.pid!);
    a = performance.now(); const sc2 = await viaSidecar(connectClient); tc.push(performance.now() - a);
    cpuConnect += cpuMs(sc.child.pid!) - c0;
    if (sc2.series !== s.series) throw new Error("connect answer differs");
    c0 = cpuMs(sc.child.pid!);
    a = performance.now(); const sb = await viaSidecar(client, 256n); tb.push(performance.now() - a);
    cpuBatch += cpuMs(sc.child.pid!) - c0; c0 = cpuMs(sc.child.pid!);
    a = performance.now(); const sq = await viaQuerierClient(); tq.push(performance.now() - a);
    cpuQuerier += cpuMs(sc.child.pid!) - c0;
    if (sb.series !== s.series || sb.samples !== s.samples || sq.series !== s.series || sq.samples !== s.samples) throw new Error("batched answers differ");
    if (d.series !== s.series || d.samples !== s.samples) throw new Error(`mismatch: direct ${JSON.stringify(d)} vs sidecar ${JSON.stringify(s)}`);
    counts = s;
  }
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!;
  const md = med(td), ms = med(ts), mc = med(tc);
  const rate = (n: number, msec: number) => `${(n / (msec / 1000) / 1e6).toFixed(2)} M/s`;
  console.log(`series=${counts.series} samples=${counts.samples} chunk bytes=${(chunkBytes / (rounds + 1) / 1e6).toFixed(1)} MB rounds=${rounds} (median)`);
  console.log(`direct remote read: ${md.toFixed(0)} ms  ${(counts.series / (md / 1000)).toFixed(0)} series/s  ${rate(counts.samples, md)} samples`);
  console.log(`through sidecar:    ${ms.toFixed(0)} ms  ${(counts.series / (ms / 1000)).toFixed(0)} series/s  ${rate(counts.samples, ms)} samples`);
  console.log(`via Connect (HTTP/1.1): ${mc.toFixed(0)} ms  ${(counts.series / (mc / 1000)).toFixed(0)} series/s  ${rate(counts.samples, mc)} samples (${(mc / md).toFixed(2)}x)`);
  const mn = (x: number[]) => Math.min(...x);
  console.log(`best rounds: direct ${mn(td).toFixed(0)} ms, sidecar gRPC ${mn(ts).toFixed(0)} ms (${(mn(ts) / mn(td)).toFixed(2)}x), Connect ${mn(tc).toFixed(0)} ms (${(mn(tc) / mn(td)).toFixed(2)}x)`);
  console.log(`ratio sidecar(gRPC)/direct: ${(ms / md).toFixed(2)}x   (all rounds direct ${td.map((x) => x.toFixed(0)).join(",")} ms; sidecar ${ts.map((x) => x.toFixed(0)).join(",")} ms)`);
  console.log(`gRPC, response_batch_size=256: ${med(tb).toFixed(0)} ms (${(med(tb) / md).toFixed(2)}x); Connect + the querier's direct decoder, batch 256: ${med(tq).toFixed(0)} ms (${(med(tq) / md).toFixed(2)}x)`);
  console.log(`sidecar CPU per Series call (user+sys, robust to machine load): gRPC ${(cpuGrpc / rounds).toFixed(0)} ms, Connect ${(cpuConnect / rounds).toFixed(0)} ms; batched: gRPC ${(cpuBatch / rounds).toFixed(0)} ms, Connect ${(cpuQuerier / rounds).toFixed(0)} ms`);
  console.log(`client CPU per call: direct remote read ${(clientDirect / rounds).toFixed(0)} ms, Series via sidecar gRPC ${(clientGrpc / rounds).toFixed(0)} ms`);
  console.log(`sidecar runtime: ${process.env.SIDECAR_RUNTIME === "node" ? "node (tsx)" : "bun"}`);
  console.log(`sidecar peak RSS (VmHWM): ${vmHWM(sc.child.pid!).toFixed(0)} MB (after startup: ${rssIdle.toFixed(0)} MB)`);
} finally {
  if (process.env.SIDECAR_SHOW_LOG) console.log(sc.output());
  await sc.stop();
  await prom.stop();
}
