// Demo stack figures: seeding rate (3 days of the demo workload into a memory and a filesystem bucket),
// time from launch to a ready querier (first start with seeding, second start reusing the data), and
// query latency through the whole stack over the seeded 3 days.
//   bun bench/demo.ts        npx tsx bench/demo.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryBucket } from "../shared/objstore/memory.ts";
import { FilesystemBucket } from "../agent/objstore/fs.ts";
import { seedHistory } from "../agent/demo/seed.ts";
import { startStack } from "../agent/demo/stack.ts";

const runtime = (process.versions as Record<string, string | undefined>).bun ? `Bun ${process.versions.bun}` : `Node ${process.versions.node}`;
console.log(`# demo bench on ${runtime}`);

const DAY = 86_400_000;
const end = Math.floor(Date.now() / 1000) * 1000;
const replicas = [{ labels: { cluster: "demo", replica: "a" }, offsetMs: 0 }, { labels: { cluster: "demo", replica: "b" }, offsetMs: 7000 }];

for (const kind of ["memory", "filesystem"] as const) {
  const dir = mkdtempSync(join(tmpdir(), "bench-demo-"));
  const bkt = kind === "memory" ? new MemoryBucket("bench") : new FilesystemBucket(dir);
  const runs: number[] = [];
  let samples = 0, blocks = 0;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const metas = await seedHistory(bkt, { startMs: end - 3 * DAY, endMs: end, stepMs: 30_000, replicas });
    runs.push(performance.now() - t0);
    samples = metas.reduce((n, m) => n + m.stats.numSamples, 0);
    blocks = metas.length;
  }
  rmSync(dir, { recursive: true, force: true });
  const best = Math.min(...runs);
  console.log(`seed 3 days @30s, 2 replicas -> ${kind} bucket: ${blocks} blocks, ${samples} samples, best of 3 ${best.toFixed(0)} ms (${(samples / best / 1000).toFixed(2)} M samples/s), runs ${runs.map((r) => r.toFixed(0)).join("/")} ms`);
}

const dataDir = mkdtempSync(join(tmpdir(), "bench-demo-stack-"));
const quiet = () => {};
for (const label of ["first start (seeds 3 days)", "second start (reuses data)"]) {
  const t0 = performance.now();
  const s = await startStack({ dataDir, ports: "free", seed: { durationMs: 3 * DAY, stepMs: 30_000 }, onLine: quiet });
  const ready = performance.now() - t0;
  console.log(`stack ${label}: querier ready after ${ready.toFixed(0)} ms`);
  if (label.startsWith("second")) {
    const api = s.urls.api;
    const now = Math.floor(Date.now() / 1000);
    for (const [name, q, start, step] of [
      ["3 days, step 10m", "sum by (code) (rate(http_requests_total[5m]))", now - 3 * 86400, 600],
      ["3 days, step 10m, p90 by handler", "histogram_quantile(0.9, sum by (handler, le) (rate(http_request_duration_seconds_bucket[5m])))", now - 3 * 86400, 600],
      ["1 hour, step 15s", "sum by (code) (rate(http_requests_total[5m]))", now - 3600, 15],
    ] as const) {
      const times: number[] = [];
      for (let i = 0; i < 6; i++) {
        const body = new URLSearchParams({ query: q, start: String(start), end: String(now), step: String(step) });
        const t1 = performance.now();
        const r = await fetch(`${api}/query_range`, { method: "POST", body });
        const j = await r.json() as { status: string };
        if (j.status !== "success") throw new Error(`${q}: ${JSON.stringify(j)}`);
        times.push(performance.now() - t1);
      }
      const warm = times.slice(1).sort((a, b) => a - b);
      console.log(`query_range ${name}: first ${times[0]!.toFixed(0)} ms, then median ${warm[Math.floor(warm.length / 2)]!.toFixed(0)} ms (5 runs)`);
    }
  }
  const t2 = performance.now();
  await s.stop();
  console.log(`stack stop: ${(performance.now() - t2).toFixed(0)} ms`);
}
rmSync(dataDir, { recursive: true, force: true });
