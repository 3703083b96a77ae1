// `bun run agent sidecar …`: a StoreAPI beside one Prometheus, and its blocks shipped to the bucket.
//
// Startup order (as Thanos): HTTP up at once (/-/healthy answers, /-/ready says 503) -> Prometheus ready
// -> external labels read (and, when uploading, required and block durations checked) -> gRPC up and
// /-/ready 200 -> periodic refresh of external labels and time range, and the shipper loop.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";
import { labelsString, type Labels } from "../../shared/labels/labels.ts";
import { ReadRequest_ResponseType } from "../../shared/gen/prometheus/remote_pb.ts";
import { isBlockId } from "../../shared/objstore/block.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { Hono } from "hono";
import { GrpcStatus } from "../../shared/encoding/errors.ts";
import type { CallOutcome, StoreApiServices } from "../../shared/rpc/store.ts";
import { mountStoreApi } from "../../shared/rpc/server.ts";
import { bearerToken, flagsHelp, parseDurationMs } from "../flags.ts";
import { directBodyWriter, type Listening } from "../http.ts";
import { startGrpcServer } from "../grpc/server.ts";
import { newLogger, type Logger } from "../log.ts";
import { CONTENT_TYPE, type Counter, Registry } from "../metrics.ts";
import { parseSidecarFlags, SIDECAR_FLAGS, TOKEN_ENV, type SidecarConfig } from "./flags.ts";
import { PromClient } from "../prom/client.ts";
import { Shipper } from "../shipper/shipper.ts";
import { SidecarStore } from "./store.ts";
import { listenWeb } from "../web/listen.ts";
import { PROGRAM } from "../program.ts";

const HELP = `usage: ${PROGRAM} sidecar [flags]

StoreAPI beside a Prometheus (remote read) and, with --objstore.config-file, its blocks shipped to the bucket.

flags:
${flagsHelp(SIDECAR_FLAGS)}

Auth: with --grpc-server.bearer-token-file or $${TOKEN_ENV}, every StoreAPI call (gRPC and Connect) must send
"authorization: Bearer <token>"; others get Unauthenticated. /metrics and the health endpoints stay open.`;

/**
 * Oldest sample time Prometheus can have, for Info's min time: Prometheus' own gauge, as Thanos' sidecar
 * reads it (PromClient.lowestTimestamp); where the gauge is missing, the oldest block under --tsdb.path, else the
 * head's minTime.
 */
async function oldestData(cfg: SidecarConfig, prom: PromClient, log: Logger): Promise<number | null> {
  try {
    const lowest = await prom.lowestTimestamp();
    if (lowest !== null) return lowest;
    log.debug("Prometheus has no prometheus_tsdb_lowest_timestamp_seconds; looking at blocks and head instead");
  } catch (e) {
    log.debug("cannot read Prometheus' lowest timestamp; looking at blocks and head instead", { err: errorMessage(e) });
  }
  let oldest = Infinity;
  try {
    for (const d of await readdir(cfg.tsdbPath)) {
      if (!isBlockId(d)) continue;
      try {
        const m = JSON.parse(await readFile(join(cfg.tsdbPath, d, "meta.json"), "utf8")) as { minTime?: number };
        if (typeof m.minTime === "number" && m.minTime < oldest) oldest = m.minTime;
      } catch { /* block being written or deleted */ }
    }
  } catch (e) {
    log.debug("cannot list --tsdb.path for the oldest block; using the head only", { dir: cfg.tsdbPath, err: errorMessage(e) });
  }
  try {
    const h = await prom.headStats();
    // An empty head reports MaxInt64 as minTime.
    if (h.minTime < 8e18 && h.minTime < oldest) oldest = h.minTime;
  } catch (e) {
    log.debug("cannot read head stats", { err: errorMessage(e) });
  }
  return Number.isFinite(oldest) ? oldest : null;
}

async function checkBlockDurations(prom: PromClient): Promise<void> {
  const f = await prom.flags();
  const min = f["storage.tsdb.min-block-duration"], max = f["storage.tsdb.max-block-duration"];
  if (min === undefined || max === undefined) return;
  const minMs = parseDurationMs("storage.tsdb.min-block-duration", min);
  const maxMs = parseDurationMs("storage.tsdb.max-block-duration", max);
  if (minMs !== maxMs) {
    throw new CodedError("bad_data",
      `Prometheus runs with --storage.tsdb.min-block-duration=${min} and --storage.tsdb.max-block-duration=${max}: ` +
      `with uploads, Prometheus must not compact blocks itself (the bucket's compactor does, and compacted local blocks would be uploaded twice). ` +
      `Restart Prometheus with both set to the same value, e.g. --storage.tsdb.max-block-duration=${min}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const cfg = parseSidecarFlags(argv);
  if (cfg.help) { console.log(HELP); return 0; }
  const log = newLogger({ level: cfg.logLevel }).with({ component: "sidecar" });

  const token = await bearerToken("grpc-server.bearer-token-file", cfg.bearerTokenFile, TOKEN_ENV);

  const reg = new Registry();
  const m = {
    requests: reg.counter("thanos_sidecar_grpc_requests_total", "StoreAPI calls by method and RPC status code.", ["method", "code"]),
    remoteReadSeconds: reg.histogram("thanos_sidecar_remote_read_duration_seconds", "Time to stream a Series answer from Prometheus' remote read."),
    remoteReadErrors: reg.counter("thanos_sidecar_remote_read_errors_total", "Series calls that failed while reading from Prometheus."),
    outOfOrder: reg.counter("thanos_sidecar_series_out_of_order_total", "Series sent out of label order (stored labels clash with external labels)."),
    heartbeat: reg.gauge("thanos_sidecar_last_heartbeat_success_time_seconds", "Unix time (s) of the last successful read of Prometheus' external labels."),
    promUp: reg.gauge("thanos_sidecar_prometheus_up", "1 when the last config read from Prometheus succeeded."),
    minTime: reg.gauge("thanos_sidecar_min_time_milliseconds", "Oldest time this sidecar serves (Info min time)."),
  };

  const prom = new PromClient(cfg.promUrl, { timeoutMs: cfg.configTimeoutMs, userAgent: "thanots-sidecar" });
  let ext: Labels = [];
  let minTime = cfg.minTime;
  let ready = false;

  const accept = cfg.accept.map((a) => (a === "streamed" ? ReadRequest_ResponseType.STREAMED_XOR_CHUNKS : ReadRequest_ResponseType.SAMPLES));
  const store = new SidecarStore({
    prom, externalLabels: () => ext, minTime: () => minTime, maxSeries: cfg.maxSeries, maxSamples: cfg.maxSamples,
    accept, log, metrics: m, afterLargeAnswer: collectGarbageSoon(),
  });
  const services: StoreApiServices = { store, info: store };
  // The shared server stack on both ports: the same auth, call counting and error mapping for every
  // call, the fast path (store.seriesEnveloped) included. No compression: XOR chunks barely compress,
  // and gzip per message cost a third of a Series call's CPU in profiles.
  const serve = { token, observe: countCalls(m.requests, log) };

  const listeners: Listening[] = [];
  const timers: ReturnType<typeof setInterval>[] = [];
  const stop = new AbortController();
  let exitCode = 0;
  const done = new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve(), { once: true }));
  const onSignal = (sig: string) => { log.info("shutting down", { signal: sig }); stop.abort(); };
  process.once("SIGTERM", () => onSignal("SIGTERM"));
  process.once("SIGINT", () => onSignal("SIGINT"));

  try {
    const app = new Hono();
    app.get("/metrics", (c) => c.body(reg.render(), 200, { "Content-Type": CONTENT_TYPE }));
    app.get("/-/healthy", (c) => c.text("OK\n"));
    app.get("/-/ready", (c) => (ready ? c.text("OK\n") : c.text("not ready: waiting for Prometheus and its external labels\n", 503)));
    mountStoreApi(app, services, { ...serve, bodyWriter: directBodyWriter() ?? undefined });
    const h = await listenWeb(app.fetch, cfg.http.hostname, cfg.http.port, cfg.httpConfig, log);
    listeners.push(h);
    log.info("HTTP listening", { address: `${cfg.http.hostname}:${h.port}` });

    await prom.waitReady(cfg.readyTimeoutMs, stop.signal, (n) => {
      if (n % 10 === 1) log.info("waiting for Prometheus to be ready", { url: cfg.promUrl });
    });

    // Initial external labels: retried until the ready timeout, as a Prometheus may answer /-/ready a
    // moment before its config API.
    const deadline = Date.now() + cfg.readyTimeoutMs;
    for (;;) {
      try { ext = await prom.externalLabels(stop.signal); break; } catch (e) {
        if (Date.now() > deadline || stop.signal.aborted) throw e;
        log.warn("reading external labels from Prometheus failed; retrying", { err: errorMessage(e) });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    m.heartbeat.set(Date.now() / 1000);
    m.promUp.set(1);
    log.info("external labels", { labels: labelsString(ext) });

    let shipper: Shipper | null = null;
    if (cfg.objstoreConfigFile) {
      if (ext.length === 0) {
        throw new CodedError("bad_data",
          `Prometheus ${cfg.promUrl} has no external labels, but --objstore.config-file asks for uploads: blocks from ` +
          `different Prometheus servers would be indistinguishable in the bucket. Set global.external_labels in its config ` +
          `(e.g. cluster and replica) and restart it`);
      }
      await checkBlockDurations(prom);
      const { bucketFromConfigFile } = await import("../objstore/factory.ts");
      const bucket: Bucket = await bucketFromConfigFile(cfg.objstoreConfigFile);
      shipper = new Shipper({ dir: cfg.tsdbPath, bucket, externalLabels: () => ext, source: "sidecar", uploadCompacted: cfg.uploadCompacted, log, registry: reg });
      log.info("shipper enabled", { bucket: bucket.name, dir: cfg.tsdbPath, uploadCompacted: cfg.uploadCompacted });
    }

    const refreshMin = async () => {
      const oldest = await oldestData(cfg, prom, log);
      minTime = Math.max(cfg.minTime, oldest ?? cfg.minTime);
      m.minTime.set(minTime);
    };
    await refreshMin();

    const g = await startGrpcServer(services, { ...serve, host: cfg.grpc.hostname, port: cfg.grpc.port, compression: false, tls: cfg.grpcTls, log });
    listeners.push(g);
    log.info("gRPC listening", { address: g.address });
    ready = true;

    timers.push(setInterval(async () => {
      try {
        const next = await prom.externalLabels(stop.signal);
        if (labelsString(next) !== labelsString(ext)) log.info("external labels changed", { from: labelsString(ext), to: labelsString(next) });
        if (next.length === 0 && shipper) log.warn("Prometheus dropped its external labels; keeping the previous ones for uploads");
        else ext = next;
        m.heartbeat.set(Date.now() / 1000);
        m.promUp.set(1);
        await refreshMin();
      } catch (e) {
        m.promUp.set(0);
        log.warn("refreshing external labels from Prometheus failed", { err: errorMessage(e) });
      }
    }, cfg.configIntervalMs));

    if (shipper) {
      const sh = shipper;
      const tick = async () => {
        try {
          const r = await sh.sync();
          if (r.uploaded || r.failed) log.info("shipper sync", { uploaded: r.uploaded, failed: r.failed });
        } catch (e) {
          log.error("shipper sync failed", { err: errorMessage(e) });
        }
      };
      void tick();
      timers.push(setInterval(tick, cfg.shipperIntervalMs));
    }
    await done;
  } catch (e) {
    if (!stop.signal.aborted) throw e;
  } finally {
    ready = false;
    for (const t of timers) clearInterval(t);
    await Promise.all(listeners.map((l) => l.close().catch(() => {})));
  }
  return exitCode;
}

/** thanos_sidecar_grpc_requests_total{method, code} for every StoreAPI call; refused tokens logged (never the value). */
function countCalls(requests: Counter, log: Logger): (c: CallOutcome) => void {
  const names = new Map<number, string>(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));
  return (c) => {
    requests.inc({ method: c.method, code: names.get(c.status) ?? String(c.status) });
    if (c.status === GrpcStatus.Unauthenticated) log.warn("StoreAPI call refused: missing or wrong bearer token", { method: c.method });
  };
}

/** Below this RSS the collection after a large answer is skipped (a sidecar at rest uses ~65 MB). */
const GC_RSS_FLOOR = 96 * 1024 * 1024;

/**
 * On Bun, a full garbage collection right after a large Series answer (16 MB or more streamed from
 * Prometheus), at most one pending, when the process holds more than GC_RSS_FLOOR. JavaScriptCore sizes
 * its heap for the machine's RAM and collects what a large answer leaves behind (socket read buffers
 * inside the runtime, decoded frames: 35-50 MB per 10k series x 2 h by bun:jsc heapStats) only once the
 * heap has about doubled, so under back-to-back calls the sidecar's RSS peaked at 170-200 MB with
 * nothing of it live. Collecting after each large answer keeps the peak near 135-145 MB, for 15-20 ms
 * of CPU per such call (~15 %), spent after the answer has been sent. Elsewhere: nothing.
 */
function collectGarbageSoon(): (() => void) | undefined {
  const bun = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun;
  if (!bun) return undefined;
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    setTimeout(() => {
      pending = false;
      if (process.memoryUsage.rss() > GC_RSS_FLOOR) bun.gc(true);
    }, 0);
  };
}
