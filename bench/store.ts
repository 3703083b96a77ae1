// Store gateway benchmark: a bucket of 50 blocks (2 h each, 10k series, one 120-sample chunk per series
// per block) on a filesystem bucket; the store gateway (`bun agent/main.ts store`, gRPC) against
// Prometheus 2.42 serving copies of the same blocks from disk (remote read, streamed XOR chunks: the
// same raw chunks out). Both in the same run; cold = first call after the server is ready.
// Also: bytes fetched from the bucket per query vs chunk bytes returned, and memory per opened block.
//
//   bun bench/store.ts             (BLOCKS=50 SERIES=10000 RUNS=9 to change the shape)
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Encoding } from "../shared/chunkenc/chunk.ts";
import { XorAppender } from "../shared/chunkenc/xor.ts";
import { compareLabels, labelsFrom, type Labels } from "../shared/labels/labels.ts";
import { newUlid } from "../shared/tsdb/ulid.ts";
import { BlockWriter } from "../shared/tsdb/writer.ts";
import { DiskSink } from "../agent/tsdb/local.ts";
import { FilesystemBucket } from "../agent/objstore/fs.ts";
import { BucketStore } from "../shared/bucketstore/store.ts";
import { createGrpcClients } from "../agent/grpc/client.ts";
import { remoteRead, ResponseType } from "../shared/remote/read.ts";
import { LabelMatcher_Type } from "../shared/gen/thanos/storepb/types_pb.ts";
import { LabelMatcher_Type as PromType } from "../shared/gen/prometheus/types_pb.ts";

const BLOCKS = Number(process.env.BLOCKS ?? 50), SERIES = Number(process.env.SERIES ?? 10_000), RUNS = Number(process.env.RUNS ?? 9);
const STEP = 60_000, BLOCK = 2 * 3600_000;
const runtime = typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`;
const root = join(import.meta.dirname ?? ".", "..");
const work = mkdtempSync(join(tmpdir(), "bench-store-"));
const bucketDir = join(work, "bucket"), promDir = join(work, "prom");
const END = Math.floor((Date.now() - 86400_000) / BLOCK) * BLOCK;
const START = END - BLOCKS * BLOCK;
const gc = (): void => { if (typeof Bun !== "undefined") Bun.gc(true); else (globalThis as { gc?: () => void }).gc?.(); };
const heap = (): number => { gc(); gc(); const m = process.memoryUsage(); return typeof Bun !== "undefined" ? m.heapUsed : m.heapUsed + m.arrayBuffers; };
const mib = (n: number) => (n / 1048576).toFixed(2);
const ms = (n: number) => n.toFixed(1);
const median = (a: number[]) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]!; };

function labelsOf(k: number): Labels {
  return labelsFrom({ __name__: "bench_metric", instance: `i${k}`, job: `j${k % 10}`, zone: `z${k % 3}` });
}

async function writeBlocks(): Promise<void> {
  const series = Array.from({ length: SERIES }, (_, k) => labelsOf(k)).sort(compareLabels);
  const syms = new Set<string>();
  for (const s of series) for (const l of s) { syms.add(l.name); syms.add(l.value); }
  for (let b = 0; b < BLOCKS; b++) {
    const mint = START + b * BLOCK;
    const ulid = newUlid(mint + BLOCK);
    const w = new BlockWriter(new DiskSink(bucketDir, ulid), {
      ulid, minTime: mint, maxTime: mint + BLOCK,
      thanos: { labels: { cluster: "bench" }, downsample: { resolution: 0 }, source: "bench" },
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
}

async function freePort(): Promise<number> {
  return await new Promise((resolve) => { const s = createServer(); s.listen(0, "127.0.0.1", () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
}
async function waitReady(url: string, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try { if ((await fetch(url)).ok) return; } catch { /* not yet */ }
    if (Date.now() - t0 > ms) throw new Error(`${url} not ready after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
function start(cmd: string, args: string[]): ChildProcess {
  return spawn(cmd, args, { stdio: ["ignore", "ignore", "inherit"] });
}

type Q = { name: string; ms: [string, "=" | "=~", string][]; mint: number; maxt: number; batch?: number };
const queries: Q[] = [
  { name: "selective (1 series, last 24h = 12 blocks)", ms: [["__name__", "=", "bench_metric"], ["instance", "=", "i1234"]], mint: END - 86400_000, maxt: END },
  { name: "broad (1000 series, last 24h = 12 blocks)", ms: [["__name__", "=", "bench_metric"], ["job", "=", "j3"]], mint: END - 86400_000, maxt: END },
  // Prometheus packs many series per remote-read frame; response_batch_size is the StoreAPI's equivalent.
  { name: "broad, response_batch_size 100", ms: [["__name__", "=", "bench_metric"], ["job", "=", "j4"]], mint: END - 86400_000, maxt: END, batch: 100 },
];
const OPS = { "=": LabelMatcher_Type.EQ, "=~": LabelMatcher_Type.RE } as const;
const POPS = { "=": PromType.EQ, "=~": PromType.RE } as const;

async function metric(http: string, name: string): Promise<number> {
  const t = await (await fetch(`${http}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(t);
  return m ? Number(m[1]) : NaN;
}

async function main(): Promise<void> {
  console.log(`# store gateway benchmark, ${runtime}, ${BLOCKS} blocks x ${SERIES} series, ${new Date().toISOString()}`);
  let t0 = performance.now();
  await writeBlocks();
  console.log(`wrote ${BLOCKS} blocks in ${ms(performance.now() - t0)} ms`);
  cpSync(bucketDir, promDir, { recursive: true });

  // Memory per opened block (in process): heap before and after opening every block.
  {
    const before = heap();
    const rss0 = process.memoryUsage().rss;
    const s = new BucketStore({ bucket: new FilesystemBucket(bucketDir), bucketIndexMaxStaleMs: 0 });
    t0 = performance.now();
    const r = await s.sync();
    const openMs = performance.now() - t0;
    const after = heap();
    const rss1 = process.memoryUsage().rss;
    console.log(`open ${r.loaded} blocks in process: ${ms(openMs)} ms; heap +${mib(after - before)} MiB = ${mib((after - before) / r.loaded)} MiB per block; ` +
      `RSS +${mib(rss1 - rss0)} MiB = ${mib((rss1 - rss0) / r.loaded)} MiB per block; index-header bytes held ${mib(s.headerBytes() / r.loaded)} MiB per block`);
    (globalThis as { keep?: unknown }).keep = s;
  }

  const cfg = join(work, "bucket.yml");
  writeFileSync(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${bucketDir}\n`);
  const [pp, hp, gp] = [await freePort(), await freePort(), await freePort()];
  const pcfg = join(work, "prometheus.yml");
  writeFileSync(pcfg, "global:\n  external_labels:\n    cluster: bench\n");
  t0 = performance.now();
  const prom = start("/usr/bin/prometheus", [`--config.file=${pcfg}`, `--storage.tsdb.path=${promDir}`, "--storage.tsdb.retention.time=100y",
    "--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h", `--web.listen-address=127.0.0.1:${pp}`, "--log.level=error"]);
  const store = start(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "store", `--objstore.config-file=${cfg}`,
    `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, "--log.level=warn", "--bucket-index.max-stale=0s"]);
  try {
    await Promise.all([
      waitReady(`http://127.0.0.1:${pp}/-/ready`).then(() => console.log(`prometheus ready in ${ms(performance.now() - t0)} ms`)),
      waitReady(`http://127.0.0.1:${hp}/-/ready`).then(() => console.log(`store gateway ready (${BLOCKS} headers opened) in ${ms(performance.now() - t0)} ms`)),
    ]);
    const gw = createGrpcClients(`127.0.0.1:${gp}`);
    const http = `http://127.0.0.1:${hp}`;
    // Connections up before timing (no data touched): cold means cold caches, not a new TCP/HTTP2 session.
    await gw.info.info({});
    await fetch(`http://127.0.0.1:${pp}/api/v1/status/buildinfo`).then((r) => r.text());
    const viaStore = async (q: Q) => {
      let series = 0, samples = 0, bytes = 0;
      for await (const r of gw.store.series({ minTime: BigInt(q.mint), maxTime: BigInt(q.maxt), responseBatchSize: BigInt(q.batch ?? 0), matchers: q.ms.map(([n, o, v]) => ({ name: n, type: OPS[o], value: v })) })) {
        const list = r.result.case === "series" ? [r.result.value] : r.result.case === "batch" ? r.result.value.series : [];
        for (const s of list) {
          series++;
          for (const c of s.chunks) { bytes += c.raw!.data.length; samples += (c.raw!.data[0]! << 8) | c.raw!.data[1]!; }
        }
      }
      return { series, samples, bytes };
    };
    const viaProm = async (q: Q) => {
      const res = await remoteRead((u, i) => fetch(u, i), `http://127.0.0.1:${pp}/api/v1/read`, {
        queries: [{ startTimestampMs: BigInt(q.mint), endTimestampMs: BigInt(q.maxt), matchers: q.ms.map(([n, o, v]) => ({ name: n, type: POPS[o], value: v })) }],
        acceptedResponseTypes: [ResponseType.STREAMED_XOR_CHUNKS],
      });
      if (res.type !== "chunked") throw new Error("expected streamed chunks");
      let series = 0, samples = 0, bytes = 0;
      for await (const f of res.frames) for (const s of f.chunkedSeries) {
        series++;
        for (const c of s.chunks) { bytes += c.data.length; samples += (c.data[0]! << 8) | c.data[1]!; }
      }
      return { series, samples, bytes };
    };
    const rows: string[] = [];
    for (const q of queries) {
      const f0 = await metric(http, "thanos_bucket_store_fetched_bytes");
      let t = performance.now();
      const a = await viaStore(q);
      const coldStore = performance.now() - t;
      const fetched = (await metric(http, "thanos_bucket_store_fetched_bytes")) - f0;
      t = performance.now();
      const b = await viaProm(q);
      const coldProm = performance.now() - t;
      if (a.series !== b.series || a.samples !== b.samples) throw new Error(`${q.name}: store ${JSON.stringify(a)} vs prometheus ${JSON.stringify(b)}`);
      const ws: number[] = [], wp: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        t = performance.now(); await viaStore(q); ws.push(performance.now() - t);
        t = performance.now(); await viaProm(q); wp.push(performance.now() - t);
      }
      const f1 = await metric(http, "thanos_bucket_store_fetched_bytes");
      rows.push(`| ${q.name} | ${a.series} | ${a.samples} | ${ms(coldStore)} | ${ms(coldProm)} | ${(coldStore / coldProm).toFixed(2)} | ${ms(median(ws))} | ${ms(median(wp))} | ${(median(ws) / median(wp)).toFixed(2)} | ${fetched} / ${a.bytes} = ${(fetched / a.bytes).toFixed(2)} | ${f1 - f0 - fetched} |`);
    }
    console.log("\n| query | series | samples | cold store ms | cold prom ms | cold ratio | warm store ms (median) | warm prom ms (median) | warm ratio | bucket bytes fetched / chunk bytes returned (cold) | bytes fetched by warm runs |");
    console.log("|---|---|---|---|---|---|---|---|---|---|---|");
    for (const r of rows) console.log(r);
    gw.close();
  } finally {
    prom.kill("SIGTERM");
    store.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
