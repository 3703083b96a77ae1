// `bun run agent store …`: the store gateway. A StoreAPI over every block in the bucket, served on gRPC
// (our HTTP/2, agent/grpc/h2server.ts, for Go Thanos queriers and grpc clients) and on the HTTP port (Connect + gRPC-Web, with
// /metrics, /-/healthy, /-/ready). Blocks are re-discovered every --sync-block-duration.

import { Hono } from "hono";
import { errorMessage } from "../../shared/encoding/errors.ts";
import { BucketStore } from "../../shared/bucketstore/store.ts";
import { bucketStoreServices } from "../../shared/bucketstore/services.ts";
import type { StoreApiServices } from "../../shared/rpc/store.ts";
import { mountStoreApi } from "../../shared/rpc/server.ts";
import { bearerToken, FlagError, type FlagSpec, flagsHelp, nonNegInt, parseAddress, parseBytes, parseDurationMs, parseFlags, parseTimeOrDuration } from "../flags.ts";
import { newLogger, parseLevel } from "../log.ts";
import { CONTENT_TYPE, Registry } from "../metrics.ts";
import { bucketFromFlags, OBJSTORE_FLAGS } from "../objstore/factory.ts";
import { startGrpcServer } from "../grpc/server.ts";
import { directBodyWriter } from "../http.ts";
import { GRPC_SERVER_TLS_FLAGS, HTTP_CONFIG_FLAG, serverTlsFromFlags } from "../tls/flags.ts";
import { listenWeb } from "../web/listen.ts";
import { startGcPacer } from "../gc.ts";
import { warmUp } from "./warmup.ts";
import { FileHeaderCache } from "./header-cache.ts";
import { PROGRAM } from "../program.ts";

export const STORE_TOKEN_ENV = "THANOTS_STORE_BEARER_TOKEN";

export const STORE_FLAGS: FlagSpec[] = [
  ...OBJSTORE_FLAGS,
  { name: "grpc-address", help: "listen host:port for gRPC (StoreAPI)", default: "0.0.0.0:10901" },
  { name: "http-address", help: "listen host:port for HTTP: /metrics, /-/healthy, /-/ready and the StoreAPI over Connect/gRPC-Web", default: "0.0.0.0:10902" },
  { name: "min-time", help: "serve only blocks after this time: RFC3339 or a duration relative to now (e.g. -2w)", default: "0000-01-01T00:00:00Z" },
  { name: "max-time", help: "serve only blocks before this time: RFC3339 or a duration relative to now (e.g. -1d)", default: "9999-12-31T23:59:59Z" },
  { name: "consistency-delay", help: "ignore blocks younger than this (by ULID time), giving uploads time to settle", default: "0s" },
  { name: "ignore-deletion-marks-delay", help: "ignore blocks marked for deletion longer ago than this", default: "24h" },
  { name: "sync-block-duration", help: "how often to re-discover blocks in the bucket", default: "15m" },
  { name: "bucket-index.max-stale", help: "use bucket-index.json when younger than this, else list the bucket (0s: always list)", default: "1h" },
  { name: "data-dir", help: "directory for index headers saved across restarts (none: rebuilt from the bucket at every start)" },
  { name: "index-cache-size", help: "bytes of index ranges (postings, series) cached in memory, e.g. 250MB", default: "250MB" },
  { name: "chunks-cache-size", help: "bytes of chunk ranges cached in memory", default: "250MB" },
  { name: "store.label-values-cache-size", help: "bytes of label values kept for LabelValues calls without matchers (each block's values decoded, and merged answers); 0 = none", default: "16MB" },
  { name: "store.warmup-calls", help: "before taking queries, make about this many Series/LabelNames/LabelValues calls (half in process, half over a loopback gRPC server) against synthetic blocks in memory, so the first real queries do not run unoptimised JavaScript (ours; 0 = none)", default: "600" },
  { name: "store.series-gap", help: "series entries closer than this in the index are read in one GET", default: "64KiB" },
  { name: "store.chunks-gap", help: "chunks closer than this in a segment are read in one GET", default: "16KiB" },
  { name: "store.limits.request-series", help: "max series per Series request (ResourceExhausted beyond). 0 = no limit", default: "0" },
  { name: "store.limits.request-samples", help: "max samples per Series request (exact, from chunk headers). 0 = no limit", default: "0" },
  { name: "store.limits.request-chunk-bytes", help: "max bytes of chunks fetched per Series request. 0 = no limit", default: "0" },
  { name: "store.grpc.series-max-concurrency", help: "concurrent Series calls; more wait in line", default: "20" },
  { name: "grpc-server.bearer-token-file", help: `file holding a bearer token every StoreAPI call must present; or set $${STORE_TOKEN_ENV}` },
  { name: "log.level", help: "debug, info, warn or error", default: "info" },
  ...GRPC_SERVER_TLS_FLAGS,
  HTTP_CONFIG_FLAG,
];

const HELP = `usage: ${PROGRAM} store [flags]

Store gateway: the Thanos StoreAPI over every block in the bucket, read by range (nothing downloaded).

flags:
${flagsHelp(STORE_FLAGS)}`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) { console.log(HELP); return 0; }
  const f = parseFlags("store", STORE_FLAGS, argv);
  if (f.positionals.length) throw new FlagError(`store: unexpected argument ${JSON.stringify(f.positionals[0])}`);
  let level;
  try { level = parseLevel(f.get("log.level")!); } catch (e) { throw new FlagError(`--log.level: ${(e as Error).message}`); }
  const log = newLogger({ level }).with({ component: "store" });
  const token = await bearerToken("grpc-server.bearer-token-file", f.get("grpc-server.bearer-token-file"), STORE_TOKEN_ENV);
  const bucket = await bucketFromFlags(f, "store");
  if (!bucket) throw new FlagError("store: --objstore.config-file or --objstore.config is required");
  const grpcAddr = parseAddress("grpc-address", f.get("grpc-address")!);
  const httpAddr = parseAddress("http-address", f.get("http-address")!);
  const grpcTls = serverTlsFromFlags(f);
  const syncEvery = parseDurationMs("sync-block-duration", f.get("sync-block-duration")!);

  const store = new BucketStore({
    bucket,
    minTime: parseTimeOrDuration("min-time", f.get("min-time")!),
    maxTime: parseTimeOrDuration("max-time", f.get("max-time")!),
    consistencyDelayMs: parseDurationMs("consistency-delay", f.get("consistency-delay")!),
    ignoreDeletionMarksDelayMs: parseDurationMs("ignore-deletion-marks-delay", f.get("ignore-deletion-marks-delay")!),
    bucketIndexMaxStaleMs: parseDurationMs("bucket-index.max-stale", f.get("bucket-index.max-stale")!),
    indexCacheBytes: parseBytes("index-cache-size", f.get("index-cache-size")!),
    chunksCacheBytes: parseBytes("chunks-cache-size", f.get("chunks-cache-size")!),
    labelValuesCacheBytes: parseBytes("store.label-values-cache-size", f.get("store.label-values-cache-size")!),
    seriesGapBytes: parseBytes("store.series-gap", f.get("store.series-gap")!),
    chunksGapBytes: parseBytes("store.chunks-gap", f.get("store.chunks-gap")!),
    maxSeries: nonNegInt("store.limits.request-series", f.get("store.limits.request-series")!),
    maxSamples: nonNegInt("store.limits.request-samples", f.get("store.limits.request-samples")!),
    maxChunkBytes: nonNegInt("store.limits.request-chunk-bytes", f.get("store.limits.request-chunk-bytes")!),
    maxConcurrency: nonNegInt("store.grpc.series-max-concurrency", f.get("store.grpc.series-max-concurrency")!),
    preEncode: true,
    headerCache: f.get("data-dir") ? new FileHeaderCache(f.get("data-dir")!) : undefined,
    log: (lv, msg, kv) => log[lv](msg, kv as Record<string, string>),
  });

  const reg = new Registry();
  const blocksLoaded = reg.gauge("thanos_bucket_store_blocks_loaded", "Blocks currently opened by the store gateway.");
  const syncs = reg.counter("thanos_bucket_store_syncs_total", "Block syncs with the bucket.", ["result"]);
  const reqs = reg.gauge("thanos_objstore_bucket_operations", "Bucket requests made by the store gateway since start.", ["operation"]);
  const fetched = reg.gauge("thanos_bucket_store_fetched_bytes", "Bytes fetched from the bucket since start.");
  const seriesCalls = reg.gauge("thanos_bucket_store_series_requests", "Series calls served since start.");
  const warnings = reg.gauge("thanos_bucket_store_block_warnings", "Per-block failures turned into warnings or errors since start.");
  reg.onCollect(() => {
    const s = store.stats;
    blocksLoaded.set(store.loadedBlocks().length);
    reqs.set(s.gets, { operation: "get" }); reqs.set(s.rangeGets, { operation: "get_range" });
    reqs.set(s.heads, { operation: "attributes" }); reqs.set(s.lists, { operation: "iter" }); reqs.set(s.existsCalls, { operation: "exists" });
    fetched.set(s.bytesFetched);
    seriesCalls.set(store.counters.seriesCalls);
    warnings.set(store.counters.blockWarnings);
  });

  let ready = false;
  const services: StoreApiServices = bucketStoreServices(store);
  const app = new Hono();
  app.get("/metrics", (c) => c.body(reg.render(), 200, { "Content-Type": CONTENT_TYPE }));
  app.get("/-/healthy", (c) => c.text("OK\n"));
  app.get("/-/ready", (c) => (ready ? c.text("OK\n") : c.text("not ready: initial block sync running\n", 503)));
  mountStoreApi(app, services, { token, bodyWriter: directBodyWriter() ?? undefined });
  const http = await listenWeb(app.fetch, httpAddr.hostname, httpAddr.port, f.get("http.config"), log);
  log.info("listening for HTTP", { address: `${httpAddr.hostname}:${http.port}` });

  const doSync = async () => {
    try {
      const r = await store.sync();
      syncs.inc({ result: "ok" });
      log.info("synced blocks", { source: r.source, loaded: r.loaded, added: r.added.length, dropped: r.dropped.length, failed: r.failed.length });
      for (const p of r.failed) log.warn("block not served", { problem: p });
    } catch (e) {
      syncs.inc({ result: "error" });
      log.error("block sync failed; keeping the blocks already open", { err: errorMessage(e) });
    }
  };
  const warmCalls = nonNegInt("store.warmup-calls", f.get("store.warmup-calls")!);
  await Promise.all([doSync(), warmCalls > 0 ? warmUp(warmCalls).then((r) => {
    if (r.error) log.warn("warm-up failed; the first queries will be slower", { err: r.error, calls: String(r.calls) });
    else log.info("warmed up", { calls: String(r.calls), ms: r.ms.toFixed(0) });
  }) : undefined]);
  const grpc = await startGrpcServer(services, { host: grpcAddr.hostname, port: grpcAddr.port, token, tls: grpcTls, log });
  log.info("listening for gRPC", { address: grpc.address });
  ready = true;
  const timer = setInterval(() => { void doSync(); }, Math.max(1000, syncEvery));
  const pacer = await startGcPacer();

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  clearInterval(timer);
  pacer.stop();
  log.info("shutting down");
  await Promise.all([grpc.close(), http.close()]);
  return 0;
}
