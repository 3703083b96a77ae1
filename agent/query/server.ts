// The querier's HTTP side: the Prometheus query API (shared/api) over a set of data sources, served on
// Bun (Bun.serve) or Node (@hono/node-server). With only --tsdb.path the API reads the local blocks
// directly; with --endpoint the querier app (edge/querier) fans out to the StoreAPIs, the local blocks
// (if any) being one more store, and adds dedup, partial response, /api/v1/stores and its own StoreAPI.

import { Engine } from "../../shared/promql/engine.ts";
import type { Querier } from "../../shared/storage/types.ts";
import { createQueryApi, type RequestContext } from "../../shared/api/query-api.ts";
import { mountUi } from "../../shared/ui/app.ts";
import { openLocalBlocks } from "../tsdb/local.ts";
import { createQuerierApp } from "../../shared/query/app.ts";
import { fastCompressor } from "./compress.ts";
import { withMetrics } from "./metrics.ts";
import { buildQuerier, checkEndpointTokens, defaultQuerierSettings } from "../../shared/query/config.ts";
import { blocksEndpoint } from "../../shared/query/blocks.ts";
import type { StoreEndpoint } from "../../shared/query/store.ts";
import type { DedupAlgorithm } from "../../shared/dedup/dedup.ts";
import { storeFromClients } from "../../shared/query/remote.ts";
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

export interface QueryConfig {
  hostname: string;
  port: number;
  /** Prometheus-style TSDB dir (block dirs; WAL/head ignored). */
  tsdbPath?: string;
  lookbackDeltaMs: number;
  maxSamples: number;
  timeoutMs: number;
  /** StoreAPI URLs to fan out to (empty: local blocks only, no fan-out). */
  endpoints?: string[];
  /** Bearer token per endpoint (URL or grpc://host:port). */
  storeTokens?: Record<string, string>;
  protocol?: "connect" | "grpc-web";
  replicaLabels?: string[];
  dedupFunc?: DedupAlgorithm;
  partialResponse?: boolean;
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
  log: Logger;
}

/** A source of data for queries: something that can hand out a Querier per request. */
export interface QuerySource {
  name: string;
  querier(ctx: RequestContext): Querier | Promise<Querier>;
  close(): Promise<void>;
}

export interface RunningQuery {
  port: number;
  close(): Promise<void>;
}

export async function localTsdbSource(dir: string): Promise<QuerySource & { blocks: number }> {
  const local = await openLocalBlocks(dir);
  return { name: `tsdb ${dir}`, blocks: local.blocks.length, querier: () => local.querier, close: () => local.close() };
}

export async function startQueryServer(cfg: QueryConfig): Promise<RunningQuery> {
  const anyEndpoint = [cfg.endpoints, cfg.strict, cfg.groups, cfg.strictGroups, cfg.sdFiles].some((l) => l !== undefined && l.length > 0);
  if (anyEndpoint || cfg.objstoreConfigFile !== undefined) return await startFanoutServer(cfg);
  const sources: QuerySource[] = [];
  if (cfg.tsdbPath !== undefined) {
    const src = await localTsdbSource(cfg.tsdbPath);
    cfg.log.info("opened local blocks", { path: cfg.tsdbPath, blocks: src.blocks });
    sources.push(src);
  }
  if (sources.length !== 1) {
    throw Object.assign(new Error("query: exactly one data source is supported so far (give --tsdb.path)"), { code: "bad_data" });
  }
  const engine = new Engine({ lookbackDelta: cfg.lookbackDeltaMs, maxSamples: cfg.maxSamples, timeoutMs: cfg.timeoutMs });
  const api = createQueryApi({
    engine,
    querier: (ctx) => sources[0]!.querier(ctx),
    buildInfo: { version: "0.1.0", branch: "main", goVersion: runtimeVersion() },
    compress: fastCompressor,
  });
  mountUi(api); // the query page at `/` (shared/ui)
  const listening = await listenWeb(withMetrics(withRoutePrefix(api.fetch, cfg.routePrefix ?? "")), cfg.hostname, cfg.port, cfg.httpConfig, cfg.log);
  cfg.log.info("listening for HTTP", { address: `${cfg.hostname}:${listening.port}` });
  return {
    port: listening.port,
    close: async () => {
      await listening.close();
      await Promise.all(sources.map((s) => s.close()));
    },
  };
}

/** --endpoint given: the querier app over remote stores plus the local blocks as one more store. */
async function startFanoutServer(cfg: QueryConfig): Promise<RunningQuery> {
  const extra: StoreEndpoint[] = [];
  let closeLocal = async () => {};
  if (cfg.tsdbPath !== undefined) {
    const local = await openLocalBlocks(cfg.tsdbPath);
    cfg.log.info("opened local blocks", { path: cfg.tsdbPath, blocks: local.blocks.length });
    extra.push(blocksEndpoint(`tsdb ${cfg.tsdbPath}`, local.querier));
    closeLocal = () => local.close();
  }
  if (cfg.objstoreConfigFile !== undefined) {
    const bkt = await bucketFromConfigFile(cfg.objstoreConfigFile);
    extra.push(bucketStoreEndpoint(bkt));
    cfg.log.info("bucket blocks served in-process", { bucket: bkt.name });
  }
  // Every endpoint form (shared/discovery): gRPC targets over HTTP/2 (TLS and compression as the
  // --grpc-client-* flags say), http(s) targets over Connect/gRPC-Web; DNS forms and file SD kept up to date.
  const tokens = cfg.storeTokens ?? {};
  const sources = [...(cfg.endpoints ?? []), ...(cfg.strict ?? []), ...(cfg.groups ?? []), ...(cfg.strictGroups ?? [])];
  checkEndpointTokens({ ...defaultQuerierSettings(), endpoints: sources, endpointTokens: tokens }, "query: --endpoint.tokens-file", "the --endpoint flags");
  const c = buildQuerier({
    endpoints: [],
    endpointTokens: {},
    protocol: cfg.protocol ?? "connect",
    replicaLabels: cfg.replicaLabels ?? [],
    dedupFunc: cfg.dedupFunc ?? "penalty",
    partialResponse: cfg.partialResponse ?? true,
    queryToken: cfg.httpToken,
    storeTimeoutMs: cfg.storeTimeoutMs ?? 0,
    infoTtlMs: cfg.infoTtlMs ?? 30_000,
    maxSeriesPerStore: cfg.maxSeriesPerStore ?? 0,
    maxStoreSamples: cfg.maxStoreSamples ?? 0,
    lookbackDeltaMs: cfg.lookbackDeltaMs,
    queryTimeoutMs: cfg.timeoutMs,
    maxSamples: cfg.maxSamples,
  }, { extraStores: extra });
  const factory: StoreFactory = (t) => {
    const token = tokens[t.source] ?? tokens[t.name];
    if (t.transport === "grpc") {
      const cl = createGrpcClients(t.target, { token, tls: cfg.grpcClientTls, compression: cfg.grpcCompression });
      return { endpoint: storeFromClients(t.name, cl), close: () => cl.close() };
    }
    return { endpoint: remoteStore(t.target, { name: t.name, token, protocol: cfg.protocol }), close: () => {} };
  };
  const discovery = await startDiscovery({
    flags: { endpoints: cfg.endpoints, strict: cfg.strict, groups: cfg.groups, strictGroups: cfg.strictGroups },
    sdFiles: cfg.sdFiles, sdIntervalMs: cfg.sdIntervalMs, dnsIntervalMs: cfg.dnsIntervalMs,
    resolver: nodeResolver(cfg.dnsResolver ?? "golang"), factory, apply: (eps) => c.proxy.setEndpoints(eps), fixed: extra, log: cfg.log,
  });
  const app = createQuerierApp({
    ...c.app,
    proxy: c.proxy,
    dynamicLookbackDelta: cfg.dynamicLookbackDelta ?? true,
    buildInfo: { version: "0.1.0", branch: "main", goVersion: runtimeVersion() },
    compress: fastCompressor,
  });
  const fetchFn = cfg.autoDownsampling ? autoResolution(app.fetch) : app.fetch;
  let grpc: GrpcServer | null = null;
  if (cfg.grpcAddress) {
    grpc = await startGrpcServer({ store: c.proxy, info: c.proxy }, { host: cfg.grpcAddress.hostname, port: cfg.grpcAddress.port, token: cfg.httpToken, tls: cfg.grpcServerTls, log: cfg.log });
    cfg.log.info("listening for gRPC (StoreAPI of the fan-out)", { address: grpc.address });
  }
  const listening = await listenWeb(withMetrics(withRoutePrefix(fetchFn, cfg.routePrefix ?? ""), () => c.proxy.status()), cfg.hostname, cfg.port, cfg.httpConfig, cfg.log);
  cfg.log.info("listening for HTTP (fan-out)", {
    address: `${cfg.hostname}:${listening.port}`, stores: c.proxy.endpoints.map((e) => e.name).join(","), prefix: cfg.routePrefix || "/",
    replica_labels: (cfg.replicaLabels ?? []).join(","), dedup: cfg.dedupFunc ?? "penalty",
  });
  return {
    port: listening.port,
    close: async () => {
      await listening.close();
      await grpc?.close();
      discovery.stop();
      await closeLocal();
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

