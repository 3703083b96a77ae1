// The sidecar's remote-read client, raw socket (agent/prom/rawhttp.ts) vs Bun's fetch, on the same
// Prometheus in the same run:
//
//   bun bench/rrclient.ts [series=10000] [hours=2] [rounds=8]
//
// Data: the PromQL bench dataset (test/promql/data.ts: counters over 10 000 series at 15 s), backfilled
// by promtool 2.42 into a real Prometheus 2.42. Each call is what the sidecar does before encoding:
// remoteRead (STREAMED_XOR_CHUNKS) of every series, frames split and CRC-checked (readFrameGroups).
// Printed per client: median wall and CPU of this process per call (process.cpuUsage: all threads,
// Bun's HTTP thread included), frames and bytes (which must agree between the two), and the ratio.
// Must run under Bun (the raw client needs Bun's sockets).
import { join } from "node:path";
import { tempDir } from "../test/lib/proc.ts";
import { promtool, startPrometheus } from "../test/lib/prometheus.ts";
import { T0 } from "../test/promql/data.ts";
import { PromClient } from "../agent/prom/client.ts";
import { writeBenchOpenMetrics } from "./stack.ts";
import { rawHttpPost } from "../agent/prom/rawhttp.ts";

const [SERIES, HOURS, ROUNDS] = [Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 2), Number(process.argv[4] ?? 8)];
const raw = rawHttpPost();
if (!raw) {
  console.error("bench/rrclient.ts: run it with bun (the raw client needs Bun's sockets)");
  process.exit(2);
}

const dir = tempDir("bench-rrclient-").path;
const om = join(dir, "data.om");
await writeBenchOpenMetrics(om, SERIES, HOURS);
await promtool(["tsdb", "create-blocks-from", "openmetrics", om, join(dir, "tsdb")]);
const prom = await startPrometheus({ dataDir: join(dir, "tsdb"), config: "global:\n  scrape_interval: 15s\n  external_labels:\n    cluster: bench\n    replica: a\n" });

const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
// Two windows: all of the data (from before its first sample: whole chunks, as a range query over
// everything asks), and one starting 500 s into it, as most queries ask (Prometheus then answers more
// slowly, and its frames trickle in: a different load for the client).
const WINDOWS = [
  { name: "whole data", mint: T0 - 300_000 },
  { name: "from 500 s in", mint: T0 + 500_000 },
];
const query = (mint: number) => ({ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(T0 + HOURS * 3600_000), matchers: [{ type: 0, name: "__name__", value: "bench_requests_total" }] });
async function call(client: "raw" | "fetch", mint: number): Promise<{ wall: number; cpu: number; frames: number; bytes: number }> {
  const c0 = cpu(), t0 = performance.now();
  const r = await new PromClient(prom.url, { remoteReadPost: client === "fetch" ? (u, i) => fetch(u, i) : raw! }).remoteRead(query(mint));
  if (r.type !== "chunked") throw new Error(`${client}: expected a streamed answer`);
  let frames = 0, bytes = 0;
  for await (const g of r.payloadBatches) for (const p of g) { frames++; bytes += p.length; }
  return { wall: performance.now() - t0, cpu: cpu() - c0, frames, bytes };
}

try {
  for (const w of WINDOWS) {
    const res: Record<"raw" | "fetch", { wall: number[]; cpu: number[]; frames: number; bytes: number }> = {
      raw: { wall: [], cpu: [], frames: 0, bytes: 0 }, fetch: { wall: [], cpu: [], frames: 0, bytes: 0 },
    };
    for (let r = 0; r < ROUNDS + 1; r++) {
      for (const k of r % 2 ? ["fetch", "raw"] as const : ["raw", "fetch"] as const) {
        const x = await call(k, w.mint);
        if (r === 0) continue; // warm-up
        res[k].wall.push(x.wall); res[k].cpu.push(x.cpu); res[k].frames = x.frames; res[k].bytes = x.bytes;
      }
    }
    if (res.raw.frames !== res.fetch.frames || res.raw.bytes !== res.fetch.bytes) throw new Error(`clients disagree: ${JSON.stringify(res)}`);
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
    console.log(`remote read of ${SERIES} series, ${w.name}: ${res.raw.frames} frames, ${(res.raw.bytes / 1e6).toFixed(1)} MB of payload per call, ${ROUNDS} rounds (median)`);
    for (const k of ["fetch", "raw"] as const) {
      console.log(`  ${k === "raw" ? "raw socket (rawhttp.ts)" : "Bun fetch"}`.padEnd(28) + `wall ${med(res[k].wall).toFixed(1).padStart(7)} ms   CPU ${med(res[k].cpu).toFixed(1).padStart(7)} ms per call`);
    }
    console.log(`  raw/fetch: wall ${(med(res.raw.wall) / med(res.fetch.wall)).toFixed(2)}x, CPU ${(med(res.raw.cpu) / med(res.fetch.cpu)).toFixed(2)}x`);
  }
  console.log(`Bun ${(globalThis as { Bun?: { version: string } }).Bun?.version}; load average ${(await import("node:fs")).readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
} finally {
  await prom.stop();
}
