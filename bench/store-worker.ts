// Store gateway Worker memory: edge/store/worker.ts under `wrangler dev` (workerd, R2 emulated on disk)
// with BLOCKS blocks of 10k series uploaded into R2 through the Worker; then a broad Series query (1000
// series over every block) and the workerd process' peak RSS (VmHWM from /proc) before and after it.
// workerd's RSS includes the runtime itself and wrangler's local R2 emulation running in the same
// process, so it is an upper bound for the isolate.
//
//   bun bench/store-worker.ts       (BLOCKS=12)
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { createServer } from "node:net";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Encoding } from "../shared/chunkenc/chunk.ts";
import { XorAppender } from "../shared/chunkenc/xor.ts";
import { compareLabels, labelsFrom } from "../shared/labels/labels.ts";
import { newUlid } from "../shared/tsdb/ulid.ts";
import { BlockWriter } from "../shared/tsdb/writer.ts";
import { DiskSink } from "../agent/tsdb/local.ts";
import { uploadBlockDir } from "../agent/objstore/block.ts";
import { HttpBucket } from "../edge/worker-test/protocol.ts";
import { Store } from "../shared/gen/thanos/storepb/rpc_pb.ts";
import { LabelMatcher_Type } from "../shared/gen/thanos/storepb/types_pb.ts";

const BLOCKS = Number(process.env.BLOCKS ?? 12), SERIES = 10_000, BLOCK = 7_200_000;
const root = join(import.meta.dirname ?? ".", "..");
const work = mkdtempSync(join(tmpdir(), "bench-store-worker-"));
const END = Math.floor((Date.now() - 86400_000) / BLOCK) * BLOCK, START = END - BLOCKS * BLOCK;

async function freePort(): Promise<number> {
  return await new Promise((resolve) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
}
function hwm(pid: number): { rss: number; hwm: number } {
  const st = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)![1]) / 1024;
  return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
}
function workerdPid(parent: number): number {
  const all = execFileSync("ps", ["-eo", "pid=,ppid=,comm="], { encoding: "utf8" }).trim().split("\n").map((l) => l.trim().split(/\s+/));
  const kids = (p: number): number[] => all.filter((r) => Number(r[1]) === p).map((r) => Number(r[0]));
  const stack = [parent];
  while (stack.length) {
    const p = stack.pop()!;
    const row = all.find((r) => Number(r[0]) === p);
    if (row && row[2]!.startsWith("workerd")) return p;
    stack.push(...kids(p));
  }
  throw new Error("no workerd process under wrangler");
}

const series = Array.from({ length: SERIES }, (_, k) => labelsFrom({ __name__: "bench_metric", instance: `i${k}`, job: `j${k % 10}`, zone: `z${k % 3}` })).sort(compareLabels);
const syms = new Set<string>();
for (const s of series) for (const l of s) { syms.add(l.name); syms.add(l.value); }
for (let b = 0; b < BLOCKS; b++) {
  const mint = START + b * BLOCK, ulid = newUlid(mint + BLOCK);
  const w = new BlockWriter(new DiskSink(work, ulid), { ulid, minTime: mint, maxTime: mint + BLOCK, thanos: { labels: { cluster: "bench" }, downsample: { resolution: 0 }, source: "bench" } });
  await w.start(syms);
  for (let i = 0; i < SERIES; i++) {
    const a = new XorAppender();
    let v = i;
    for (let j = 0; j < 120; j++) { v += (j * 7 + i + b) % 13; a.append(mint + j * 60_000, v); }
    await w.addSeries(series[i]!, [{ minTime: mint, maxTime: mint + 119 * 60_000, encoding: Encoding.XOR, data: a.bytes() }]);
  }
  await w.finish();
}
const port = await freePort(), insp = await freePort();
const wr = spawn(join(root, "node_modules/.bin/wrangler"), ["dev", "-c", "edge/worker-test/store.wrangler.toml", "--ip", "127.0.0.1", "--port", String(port),
  "--inspector-port", String(insp), "--persist-to", join(work, "r2")],
  { cwd: root, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" } });
try {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) { try { if ((await fetch(`${base}/health`)).ok) break; } catch { /* starting */ } if (i > 600) throw new Error("wrangler dev did not start"); await new Promise((r) => setTimeout(r, 100)); }
  const bkt = new HttpBucket(`${base}/bucket`);
  for (const id of readdirSync(work)) if (/^[0-9A-Z]{26}$/.test(id)) await uploadBlockDir(bkt, join(work, id));
  const pid = workerdPid(wr.pid!);
  const before = hwm(pid);
  const c = createClient(Store, createConnectTransport({ baseUrl: base, httpVersion: "1.1", useBinaryFormat: true }));
  const run = async () => {
    let n = 0, t = performance.now();
    for await (const r of c.series({ minTime: BigInt(START), maxTime: BigInt(END), responseBatchSize: 100n, matchers: [{ type: LabelMatcher_Type.EQ, name: "job", value: "j3" }] })) {
      if (r.result.case === "batch") n += r.result.value.series.length;
      if (r.result.case === "series") n++;
    }
    return { n, ms: performance.now() - t };
  };
  const first = await run();
  const afterFirst = hwm(pid);
  const second = await run();
  const after = hwm(pid);
  console.log(`# store Worker under wrangler dev, ${BLOCKS} blocks x ${SERIES} series, ${new Date().toISOString()}`);
  console.log(`workerd RSS before queries ${before.rss.toFixed(1)} MiB (peak so far ${before.hwm.toFixed(1)} MiB, includes the uploads through the Worker)`);
  console.log(`broad query (job="j3", ${first.n} series x ${BLOCKS} blocks): first ${first.ms.toFixed(0)} ms (sync + ${BLOCKS} headers + reads), RSS ${afterFirst.rss.toFixed(1)} MiB; second ${second.ms.toFixed(0)} ms, RSS ${after.rss.toFixed(1)} MiB, peak ${after.hwm.toFixed(1)} MiB`);
} finally {
  wr.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 1000));
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
