// The querier on Bun (or Node): the querier app of shared/query/app.ts (the Prometheus query API with
// Thanos' parameters, /api/v1/stores, the UI, the fan-out's own StoreAPI) over every data source given:
// StoreAPI endpoints, a bucket, local blocks; plus the gRPC StoreAPI listener and metrics. Queries are
// admitted on the main thread (--query.max-concurrent, --query.max-queued; shared/query/admission.ts) and
// evaluated on worker threads (--query.workers; agent/query/pool.ts, worker.ts) that build the same app.

import { CodedError } from "../../shared/encoding/errors.ts";
import { openLocalBlocks } from "../tsdb/local.ts";
import { createQuerierApp } from "../../shared/query/app.ts";
import { fastCompressor } from "./compress.ts";
import { withMetrics } from "./metrics.ts";
import { buildQuerier, checkEndpointTokens, defaultQuerierSettings } from "../../shared/query/config.ts";
import { blocksEndpoint } from "../../shared/query/blocks.ts";
import type { StoreEndpoint } from "../../shared/query/store.ts";
import type { DedupAlgorithm } from "../../shared/dedup/dedup.ts";
import { storeFromClients, withBatch } from "../../shared/query/remote.ts";
import { DEFAULT_CLIENT_READ_MAX_BYTES } from "../../shared/rpc/client.ts";
import { grpcSeries } from "../grpc/series.ts";
import { createGrpcClients } from "../grpc/client.ts";
import { startGrpcServer, type GrpcServer } from "../grpc/server.ts";
import { bucketStoreEndpoint } from "../../shared/query/bucket.ts";
import { bucketFromConfigFile } from "../objstore/factory.ts";
import type { Logger } from "../log.ts";
import { remoteStore } from "../../shared/query/remote.ts";
import type { StoreFactory } from "../../shared/discovery/endpointset.ts";
import { nodeResolver, type ResolverType } from "../discovery/dns.ts";
import { startDiscovery } from "../discovery/stores.ts";
import type { ClientTlsConfig } from "../tls/client.ts";
import type { ServerTlsConfig } from "../tls/server.ts";
import { listenWeb } from "../web/listen.ts";
import { withRoutePrefix } from "../prefix.ts";
import { availableParallelism } from "node:os";
import type { QuerierAppOptions } from "../../shared/query/app.ts";
import type { BuiltQuerier } from "../../shared/query/config.ts";
import { startQueryPool, type RunningPool } from "./pool.ts";
import { logWarmUp, warmUpQuerier } from "./warmup.ts";

export interface QueryConfig {
  hostname: string;
  port: number;
  /** Prometheus-style TSDB dir (block dirs; WAL/head ignored). */
  tsdbPath?: string;
  lookbackDeltaMs: number;
  maxSamples: number;
  timeoutMs: number;
  /** --query.max-concurrent, --query.max-queued, --query.max-concurrent-select (defaults 20, 256, 4). */
  maxConcurrent?: number;
  maxQueued?: number;
  maxConcurrentSelect?: number;
  /** --query.workers: worker threads evaluating queries; 0 = the main thread; default one per core (with remote stores or a bucket). */
  workers?: number;
  /** --query.warmup-queries: requests each evaluating thread answers of its own before its first query (agent/query/warmup.ts); default 0 here, 150 from the flag. */
  warmupQueries?: number;
  /** Turn order of evaluations sharing a thread (EngineOptions.evalOrder; $THANOTS_EVAL_ORDER, for benches). */
  evalOrder?: "arrival" | "round-robin";
  /** StoreAPI URLs to fan out to (empty: local blocks only, no fan-out). */
  endpoints?: string[];
  /** Bearer token per endpoint (URL or grpc://host:port). */
  storeTokens?: Record<string, string>;
  protocol?: "connect" | "grpc-web";
  replicaLabels?: string[];
  dedupFunc?: DedupAlgorithm;
  partialResponse?: boolean;
  /** --rule.partial-response (default true). */
  rulePartialResponse?: boolean;
  autoDownsampling?: boolean;
  /** --query.dynamic-lookback-delta (default true). */
  dynamicLookbackDelta?: boolean;
  storeTimeoutMs?: number;
  infoTtlMs?: number;
  maxSeriesPerStore?: number;
  maxStoreSamples?: number;
  /** Bearer token required by /api/* and the StoreAPI. */
  httpToken?: string;
  /** Thanos objstore YAML: the bucket's blocks as an in-process store. */
  objstoreConfigFile?: string;
  /** Also serve the fan-out as a gRPC StoreAPI (HTTP/2) here, for Go Thanos queriers. */
  grpcAddress?: { hostname: string; port: number };
  /** --endpoint-strict, --endpoint-group, --endpoint-group-strict, --store.sd-files (shared/discovery). */
  strict?: string[];
  groups?: string[];
  strictGroups?: string[];
  sdFiles?: string[];
  sdIntervalMs?: number;
  dnsIntervalMs?: number;
  dnsResolver?: ResolverType;
  /** --web.route-prefix (normalised: "" or "/x"). */
  routePrefix?: string;
  /** gRPC clients: TLS and --grpc-compression. */
  grpcClientTls?: ClientTlsConfig | null;
  grpcCompression?: "snappy" | "none";
  /** TLS of our own gRPC server (--grpc-address). */
  grpcServerTls?: ServerTlsConfig | null;
  /** --http.config */
  httpConfig?: string;
  /** --log.level, for worker threads (they build their own logger). */
  logLevel?: string;
  log: Logger;
}

export interface RunningQuery {
  port: number;
  close(): Promise<void>;
}

/** Every endpoint flag's targets (the static ones) and whether any discovery is configured. */
function endpointSources(cfg: QueryConfig): { sources: string[]; discovered: boolean } {
  const sources = [...(cfg.endpoints ?? []), ...(cfg.strict ?? []), ...(cfg.groups ?? []), ...(cfg.strictGroups ?? [])];
  return { sources, discovered: sources.length > 0 || (cfg.sdFiles ?? []).length > 0 };
}

export interface FanoutCore {
  c: BuiltQuerier;
  /** The fixed stores: the local blocks, the bucket. */
  extra: StoreEndpoint[];
  factory: StoreFactory;
  /** Only --tsdb.path: PromQL reads the blocks directly (see startQueryServer). */
  localOnly: Awaited<ReturnType<typeof openLocalBlocks>> | null;
  discovered: boolean;
  closeLocal(): Promise<void>;
}

/** What the main thread and each query worker build alike: the fan-out over the fixed stores and a store factory. */
export async function fanoutCore(cfg: QueryConfig, log: Logger): Promise<FanoutCore> {
  const { sources, discovered } = endpointSources(cfg);
  const extra: StoreEndpoint[] = [];
  let local: Awaited<ReturnType<typeof openLocalBlocks>> | null = null;
  if (cfg.tsdbPath !== undefined) {
    local = await openLocalBlocks(cfg.tsdbPath);
    log.info("opened local blocks", { path: cfg.tsdbPath, blocks: local.blocks.length });
    extra.push(blocksEndpoint(`tsdb ${cfg.tsdbPath}`, local.querier));
  }
  if (cfg.objstoreConfigFile !== undefined) {
    const bkt = await bucketFromConfigFile(cfg.objstoreConfigFile);
    extra.push(bucketStoreEndpoint(bkt));
    log.info("bucket blocks served in-process", { bucket: bkt.name });
  }
  const localOnly = local !== null && !discovered && cfg.objstoreConfigFile === undefined ? local : null;
  // Every endpoint form (shared/discovery): gRPC targets over HTTP/2 (TLS and compression as the
  // --grpc-client-* flags say), http(s) targets over Connect/gRPC-Web; DNS forms and file SD kept up to date.
  const tokens = cfg.storeTokens ?? {};
  checkEndpointTokens({ ...defaultQuerierSettings(), endpoints: sources, endpointTokens: tokens }, "query: --endpoint.tokens-file", "the --endpoint flags");
  const c = buildQuerier({
    endpoints: [],
    endpointTokens: {},
    protocol: cfg.protocol ?? "connect",
    replicaLabels: cfg.replicaLabels ?? [],
    dedupFunc: cfg.dedupFunc ?? "penalty",
    partialResponse: cfg.partialResponse ?? true,
    rulePartialResponse: cfg.rulePartialResponse ?? true,
    queryToken: cfg.httpToken,
    storeTimeoutMs: cfg.storeTimeoutMs ?? 0,
    infoTtlMs: cfg.infoTtlMs ?? 30_000,
    maxSeriesPerStore: cfg.maxSeriesPerStore ?? 0,
    maxStoreSamples: cfg.maxStoreSamples ?? 0,
    lookbackDeltaMs: cfg.lookbackDeltaMs,
    queryTimeoutMs: cfg.timeoutMs,
    maxSamples: cfg.maxSamples,
    maxConcurrent: cfg.maxConcurrent,
    maxQueued: cfg.maxQueued,
    maxConcurrentSelect: cfg.maxConcurrentSelect,
  }, { extraStores: extra });
  if (cfg.evalOrder) c.app.engineOptions = { ...c.app.engineOptions, evalOrder: cfg.evalOrder };
  const factory: StoreFactory = (t) => {
    const token = tokens[t.source] ?? tokens[t.name];
    if (t.transport === "grpc") {
      const cl = createGrpcClients(t.target, { token, tls: cfg.grpcClientTls, compression: cfg.grpcCompression });
      const endpoint = storeFromClients(t.name, cl);
      // Series through the direct decoder (agent/grpc/series.ts); with snappy requests, the generic client.
      if (cfg.grpcCompression !== "snappy") {
        endpoint.series = (req, signal) => grpcSeries(withBatch(req), signal, { name: t.name, call: cl.call, baseUrl: cl.baseUrl, token, readMaxBytes: DEFAULT_CLIENT_READ_MAX_BYTES });
      }
      return { endpoint, close: () => cl.close() };
    }
    return { endpoint: remoteStore(t.target, { name: t.name, token, protocol: cfg.protocol }), close: () => {} };
  };
  return { c, extra, factory, localOnly, discovered, closeLocal: async () => { await local?.close(); } };
}

/** The querier app's options both threads use (the main thread adds the gate and the offload). */
export function appOptions(cfg: QueryConfig, core: FanoutCore): QuerierAppOptions {
  const { c, localOnly } = core;
  return {
    ...c.app,
    proxy: c.proxy,
    ...(localOnly ? { querier: () => localOnly.querier, dynamicLookbackDelta: false } : { dynamicLookbackDelta: cfg.dynamicLookbackDelta ?? true }),
    buildInfo: { version: "0.1.0", branch: "main", goVersion: runtimeVersion() },
    compress: fastCompressor,
  };
}

/**
 * The querier: the HTTP API and UI over the fan-out of every data source (remote StoreAPIs, the bucket,
 * the local blocks as one more store), the fan-out itself served as a StoreAPI (Connect and gRPC-Web on
 * the HTTP port, gRPC on --grpc-address) behind the same bearer token as /api/*. With only --tsdb.path,
 * PromQL reads the blocks directly (no fan-out per query; what bench/promql.ts measures against
 * Prometheus), and the fan-out over them is the StoreAPI, like any other data source's.
 * Queries pass the admission gate on this thread and run on the worker pool when there is one.
 */
export async function startQueryServer(cfg: QueryConfig): Promise<RunningQuery> {
  const { discovered } = endpointSources(cfg);
  if (!discovered && cfg.objstoreConfigFile === undefined && cfg.tsdbPath === undefined) {
    throw new CodedError("bad_data", "query: no data source: give --tsdb.path, --endpoint (or --endpoint-strict, --endpoint-group, --store.sd-files) and/or --objstore.config-file");
  }
  const core = await fanoutCore(cfg, cfg.log);
  // --query.workers, else one per core when the querier fans out (over local blocks alone the main
  // thread evaluates: each worker would open the blocks again).
  const cores = availableParallelism();
  const fansOut = discovered || cfg.objstoreConfigFile !== undefined;
  const nWorkers = cfg.workers ?? (fansOut && cores > 1 ? cores : 0);
  const pool = nWorkers > 0 ? startQueryPool(cfg, nWorkers) : null;
  try {
    return await serve(cfg, core, pool);
  } catch (e) {
    // A bad endpoint flag or a port in use: the worker threads must not keep the process alive.
    await pool?.close();
    await core.closeLocal();
    throw e;
  }
}

async function serve(cfg: QueryConfig, core: FanoutCore, pool: RunningPool | null): Promise<RunningQuery> {
  const { c, extra, factory, localOnly, discovered } = core;
  const discovery = discovered
    ? await startDiscovery({
      flags: { endpoints: cfg.endpoints, strict: cfg.strict, groups: cfg.groups, strictGroups: cfg.strictGroups },
      sdFiles: cfg.sdFiles, sdIntervalMs: cfg.sdIntervalMs, dnsIntervalMs: cfg.dnsIntervalMs,
      resolver: nodeResolver(cfg.dnsResolver ?? "golang"), factory, fixed: extra, log: cfg.log,
      apply: (eps, desired) => { c.proxy.setEndpoints(eps); pool?.setEndpoints(desired); },
    })
    : null;
  // Logged once the flags are known to be good, so a usage error is the first line on stderr.
  if (pool) cfg.log.info("queries run on worker threads", { workers: pool.stats().workers });
  // The main thread warms up before it listens (once the flags are known to be good), beside the
  // workers (which warm themselves up before they take their first request): without workers it
  // evaluates; with them it still serves the label calls, the hand-off and the fan-out's gRPC client. Measured with workers, warming only them: after
  // 100 requests, /api/v1/labels took 1.96 ms and a 100-series /api/v1/series 2.71 ms, against 1.43 and
  // 1.69 ms with the main thread warmed up (--query.workers=0).
  if ((cfg.warmupQueries ?? 0) > 0 && !core.localOnly) await logWarmUp(cfg.log, await warmUpQuerier(cfg, cfg.log, cfg.warmupQueries!));
  const app = createQuerierApp({ ...appOptions(cfg, core), offload: pool ? (r) => pool.fetch(r) : undefined, ready: pool ? () => pool.ready() : undefined });
  const fetchFn = cfg.autoDownsampling ? autoResolution(app.fetch) : app.fetch;
  let grpc: GrpcServer | null = null;
  if (cfg.grpcAddress) {
    grpc = await startGrpcServer({ store: c.proxy, info: c.proxy, rules: c.proxy }, { host: cfg.grpcAddress.hostname, port: cfg.grpcAddress.port, token: cfg.httpToken, tls: cfg.grpcServerTls, log: cfg.log });
    cfg.log.info("listening for gRPC (StoreAPI of the querier)", { address: grpc.address });
  }
  const listening = await listenWeb(withMetrics(withRoutePrefix(fetchFn, cfg.routePrefix ?? ""), () => c.proxy.status(), { gate: c.app.gate, pool: pool ?? undefined }), cfg.hostname, cfg.port, cfg.httpConfig, cfg.log);
  cfg.log.info(localOnly ? "listening for HTTP (local blocks)" : "listening for HTTP (fan-out)", {
    address: `${cfg.hostname}:${listening.port}`, stores: c.proxy.endpoints.map((e) => e.name).join(","), prefix: cfg.routePrefix || "/",
    replica_labels: (cfg.replicaLabels ?? []).join(","), dedup: cfg.dedupFunc ?? "penalty",
  });
  return {
    port: listening.port,
    close: async () => {
      await listening.close();
      await grpc?.close();
      discovery?.stop();
      await pool?.close();
      await core.closeLocal();
    },
  };
}

/** --query.auto-downsampling: requests without max_source_resolution get `auto`. */
function autoResolution(f: (r: Request) => Response | Promise<Response>): (r: Request) => Response | Promise<Response> {
  return (r) => {
    const u = new URL(r.url);
    if (!u.pathname.startsWith("/api/v1/query") || u.searchParams.has("max_source_resolution")) return f(r);
    u.searchParams.set("max_source_resolution", "auto");
    return f(new Request(u, r));
  };
}

function runtimeVersion(): string {
  const g = globalThis as { Bun?: { version: string }; process?: { version?: string } };
  return g.Bun ? `bun${g.Bun.version}` : `node${g.process?.version ?? ""}`;
}

