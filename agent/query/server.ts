// The querier on Bun (or Node): the querier app of shared/query/app.ts (the Prometheus query API with
// Thanos' parameters, /api/v1/stores, the UI, the fan-out's own StoreAPI) over every data source given:
// StoreAPI endpoints, a bucket, local blocks; plus the gRPC StoreAPI listener and metrics.

import { CodedError } from "../../shared/encoding/errors.ts";
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
  log: Logger;
}

export interface RunningQuery {
  port: number;
  close(): Promise<void>;
}

/**
 * The querier: the HTTP API and UI over the fan-out of every data source (remote StoreAPIs, the bucket,
 * the local blocks as one more store), the fan-out itself served as a StoreAPI (Connect and gRPC-Web on
 * the HTTP port, gRPC on --grpc-address) behind the same bearer token as /api/*. With only --tsdb.path,
 * PromQL reads the blocks directly (no fan-out per query; what bench/promql.ts measures against
 * Prometheus), and the fan-out over them is the StoreAPI, like any other data source's.
 */
export async function startQueryServer(cfg: QueryConfig): Promise<RunningQuery> {
  const sources = [...(cfg.endpoints ?? []), ...(cfg.strict ?? []), ...(cfg.groups ?? []), ...(cfg.strictGroups ?? [])];
  const discovered = sources.length > 0 || (cfg.sdFiles ?? []).length > 0;
  if (!discovered && cfg.objstoreConfigFile === undefined && cfg.tsdbPath === undefined) {
    throw new CodedError("bad_data", "query: no data source: give --tsdb.path, --endpoint (or --endpoint-strict, --endpoint-group, --store.sd-files) and/or --objstore.config-file");
  }
  const extra: StoreEndpoint[] = [];
  let local: Awaited<ReturnType<typeof openLocalBlocks>> | null = null;
  if (cfg.tsdbPath !== undefined) {
    local = await openLocalBlocks(cfg.tsdbPath);
    cfg.log.info("opened local blocks", { path: cfg.tsdbPath, blocks: local.blocks.length });
    extra.push(blocksEndpoint(`tsdb ${cfg.tsdbPath}`, local.querier));
  }
  if (cfg.objstoreConfigFile !== undefined) {
    const bkt = await bucketFromConfigFile(cfg.objstoreConfigFile);
    extra.push(bucketStoreEndpoint(bkt));
    cfg.log.info("bucket blocks served in-process", { bucket: bkt.name });
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
  }, { extraStores: extra });
  const factory: StoreFactory = (t) => {
    const token = tokens[t.source] ?? tokens[t.name];
    if (t.transport === "grpc") {
      const cl = createGrpcClients(t.target, { token, tls: cfg.grpcClientTls, compression: cfg.grpcCompression });
      return { endpoint: storeFromClients(t.name, cl), close: () => cl.close() };
    }
    return { endpoint: remoteStore(t.target, { name: t.name, token, protocol: cfg.protocol }), close: () => {} };
  };
  const discovery = discovered
    ? await startDiscovery({
      flags: { endpoints: cfg.endpoints, strict: cfg.strict, groups: cfg.groups, strictGroups: cfg.strictGroups },
      sdFiles: cfg.sdFiles, sdIntervalMs: cfg.sdIntervalMs, dnsIntervalMs: cfg.dnsIntervalMs,
      resolver: nodeResolver(cfg.dnsResolver ?? "golang"), factory, apply: (eps) => c.proxy.setEndpoints(eps), fixed: extra, log: cfg.log,
    })
    : null;
  const app = createQuerierApp({
    ...c.app,
    proxy: c.proxy,
    ...(localOnly ? { querier: () => localOnly.querier, dynamicLookbackDelta: false } : { dynamicLookbackDelta: cfg.dynamicLookbackDelta ?? true }),
    buildInfo: { version: "0.1.0", branch: "main", goVersion: runtimeVersion() },
    compress: fastCompressor,
  });
  const fetchFn = cfg.autoDownsampling ? autoResolution(app.fetch) : app.fetch;
  let grpc: GrpcServer | null = null;
  if (cfg.grpcAddress) {
    grpc = await startGrpcServer({ store: c.proxy, info: c.proxy, rules: c.proxy }, { host: cfg.grpcAddress.hostname, port: cfg.grpcAddress.port, token: cfg.httpToken, tls: cfg.grpcServerTls, log: cfg.log });
    cfg.log.info("listening for gRPC (StoreAPI of the querier)", { address: grpc.address });
  }
  const listening = await listenWeb(withMetrics(withRoutePrefix(fetchFn, cfg.routePrefix ?? ""), () => c.proxy.status()), cfg.hostname, cfg.port, cfg.httpConfig, cfg.log);
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
      await local?.close();
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

