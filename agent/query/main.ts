// `bun run agent query`: the Prometheus HTTP API and PromQL over local blocks (read-only) and/or a
// fan-out of StoreAPI endpoints with HA deduplication.
// Flags follow Thanos' `thanos query` where they exist there.
import { bearerToken, type FlagSpec, flagsHelp, parseAddress, parseFlags, FlagError } from "../flags.ts";
import { newLogger, parseLevel } from "../log.ts";
import { parseDuration } from "../../shared/promql/parser.ts";
import { parseTokens } from "../../shared/query/config.ts";
import { startQueryServer } from "./server.ts";
import { clientTlsFromFlags, compressionFromFlags, GRPC_CLIENT_FLAGS, GRPC_SERVER_TLS_FLAGS, HTTP_CONFIG_FLAG, serverTlsFromFlags } from "../tls/flags.ts";
import { parseResolverType } from "../discovery/dns.ts";
import { routePrefix } from "../prefix.ts";
import { readFile } from "node:fs/promises";
import { PROGRAM } from "../program.ts";

export const STORE_TOKENS_ENV = "THANOTS_STORE_TOKENS";
export const QUERY_TOKEN_ENV = "THANOTS_QUERY_BEARER_TOKEN";

function countFlag(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new FlagError(`query: --${name}: ${JSON.stringify(v)} is not a non-negative integer`);
  return n;
}

async function fileText(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new FlagError(`query: --${flag}: reading ${path}: ${(e as Error).message}`);
  }
}

export const FLAGS: FlagSpec[] = [
  { name: "http-address", help: "listen host:port for the HTTP API", default: "0.0.0.0:10902" },
  { name: "grpc-address", help: "also serve the querier's StoreAPI (its fan-out over every data source, local blocks included) as gRPC (HTTP/2) on host:port, for Go Thanos queriers (Connect/gRPC-Web are on the HTTP port)" },
  { name: "objstore.config-file", help: "with --endpoint: Thanos objstore YAML; the bucket's blocks become one more store, read in-process (the store gateway's bucket store)" },
  { name: "tsdb.path", help: "TSDB directory whose blocks to serve read-only (e.g. a Prometheus --storage.tsdb.path)" },
  { name: "query.lookback-delta", help: "how far back to look for a sample of an instant vector selector", default: "5m" },
  { name: "query.max-samples", help: "most samples a single query may hold in memory", default: "50000000" },
  { name: "query.timeout", help: "longest a query may run (its wait in the queue included)", default: "2m" },
  { name: "query.max-concurrent", help: "most queries (/api/v1/query, /api/v1/query_range) evaluated at once; the others wait in arrival order. 0 = no limit", default: "20" },
  { name: "query.max-queued", help: "most queries waiting for a slot; one more is answered 503 \"too many queries\" at once. 0 = none wait", default: "256" },
  { name: "query.max-concurrent-select", help: "most selects (store fan-outs) one query has in flight. 0 = no limit", default: "4" },
  { name: "query.workers", help: "worker threads that evaluate queries and series calls (each with its own store clients); 0 = on the main thread. Default: one per core when the querier fans out (an endpoint or a bucket; over --tsdb.path alone, 0)" },
  { name: "query.warmup-queries", help: "before its first query, each thread that evaluates queries answers about this many requests of its own (PromQL, series, labels) over synthetic blocks served on a loopback port, so real queries do not run unoptimised JavaScript (ours; 0 = none)", default: "150" },
  { name: "endpoint", help: "StoreAPI endpoint to fan queries out to (repeatable): host:port or grpc://host:port (gRPC, as Thanos), dns+host:port, dnssrv+_grpc._tcp.name, dnssrvnoa+_grpc._tcp.name (re-resolved every --store.sd-dns-interval), or http(s)://host:port[/path] (Connect/gRPC-Web, e.g. a sidecar's HTTP port)", repeatable: true },
  { name: "endpoint-strict", help: "static endpoint that is always kept and asked, shown down while unreachable (repeatable; no DNS forms)", repeatable: true },
  { name: "endpoint-group", help: "DNS name (or host:port) of an HA group of StoreAPIs queried as one, round-robin, retried on the next on Unavailable (repeatable)", repeatable: true },
  { name: "endpoint-group-strict", help: "as --endpoint-group, always kept (repeatable)", repeatable: true },
  { name: "store.sd-files", help: "Prometheus file-SD files (JSON/YAML, * allowed in the file name) listing endpoints; re-read on change and every --store.sd-interval (repeatable)", repeatable: true },
  { name: "store.sd-interval", help: "fallback re-read interval of --store.sd-files", default: "5m" },
  { name: "store.sd-dns-interval", help: "interval between DNS resolutions of dns+/dnssrv+/dnssrvnoa+ endpoints", default: "30s" },
  { name: "store.sd-dns-resolver", help: "golang (hosts file, then DNS) or miekgdns (DNS servers only)", default: "golang" },
  { name: "web.route-prefix", help: "prefix for the API and UI endpoints, e.g. /thanos (default: --web.external-prefix)" },
  { name: "web.external-prefix", help: "prefix under which a reverse proxy exposes the UI; also the default route prefix" },
  { name: "endpoint.tokens-file", help: `JSON file {"<endpoint URL>": "<bearer token>"} for endpoints that require a token (or $${STORE_TOKENS_ENV})` },
  { name: "endpoint.protocol", help: "connect or grpc-web", default: "connect" },
  { name: "query.replica-label", help: "label telling HA replicas apart; series differing only in it are deduplicated; repeatable", repeatable: true },
  { name: "deduplication.func", help: "penalty (switch replica only at a gap; counter-aware) or chain (merge by timestamp, for aligned replicas)", default: "penalty" },
  { name: "query.partial-response", help: "answer with what the healthy stores have, plus warnings, when some fail (partial_response default)", boolean: true, default: "true" },
  { name: "rule.partial-response", help: "the same for /api/v1/rules and /api/v1/alerts: a ruler that fails is a warning, not an error (--no-rule.partial-response: an error)", boolean: true, default: "true" },
  { name: "query.auto-downsampling", help: "use max_source_resolution=auto when a request does not say", boolean: true },
  { name: "query.dynamic-lookback-delta", help: "look back as far as the resolution a query may read (1h for 1h data) unless it sets lookback_delta", boolean: true, default: "true" },
  { name: "store.response-timeout", help: "deadline of one store's call; a store past it is a partial-response warning. 0s = none", default: "0s" },
  { name: "store.info-ttl", help: "how long a store's Info (label sets, time range) is trusted", default: "30s" },
  { name: "store.limits.request-series", help: "most series one store may send for one request; 0 = no limit", default: "0" },
  { name: "store.limits.request-samples", help: "most samples one request may gather from all stores; 0 = no limit", default: "0" },
  { name: "http.bearer-token-file", help: `file holding a bearer token required by /api/* and the StoreAPI (or $${QUERY_TOKEN_ENV})` },
  { name: "log.level", help: "debug, info, warn or error", default: "info" },
  ...GRPC_CLIENT_FLAGS,
  ...GRPC_SERVER_TLS_FLAGS,
  HTTP_CONFIG_FLAG,
  { name: "help", help: "show this help", boolean: true },
];

function durationFlag(name: string, v: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new FlagError(`query: --${name}: ${(e as Error).message}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("query", FLAGS, argv);
  if (f.bool("help")) {
    console.log(`usage: ${PROGRAM} query [flags]\n\n${flagsHelp(FLAGS)}`);
    return 0;
  }
  const log = newLogger({ level: parseLevel(f.get("log.level")!) }).with({ component: "query" });
  const addr = parseAddress("http-address", f.get("http-address")!);
  const maxSamples = Number(f.get("query.max-samples"));
  if (!Number.isInteger(maxSamples) || maxSamples <= 0) throw new FlagError(`query: --query.max-samples: ${JSON.stringify(f.get("query.max-samples"))} is not a positive integer`);
  const tsdbPath = f.get("tsdb.path");
  const endpoints = f.all("endpoint");
  const discovery = {
    strict: f.all("endpoint-strict"), groups: f.all("endpoint-group"), strictGroups: f.all("endpoint-group-strict"), sdFiles: f.all("store.sd-files"),
  };
  const anyEndpoint = endpoints.length + discovery.strict.length + discovery.groups.length + discovery.strictGroups.length + discovery.sdFiles.length > 0;
  if (tsdbPath === undefined && !anyEndpoint && f.get("objstore.config-file") === undefined) {
    throw new FlagError("query: no data source: give --tsdb.path, --endpoint (or --endpoint-strict, --endpoint-group, --store.sd-files) and/or --objstore.config-file");
  }
  const route = routePrefix(f.get("web.route-prefix"), f.get("web.external-prefix"));
  const dedupFunc = f.get("deduplication.func")!;
  if (dedupFunc !== "penalty" && dedupFunc !== "chain") throw new FlagError(`query: --deduplication.func: ${JSON.stringify(dedupFunc)}: want penalty or chain`);
  const protocol = f.get("endpoint.protocol")!;
  if (protocol !== "connect" && protocol !== "grpc-web") throw new FlagError(`query: --endpoint.protocol: ${JSON.stringify(protocol)}: want connect or grpc-web`);
  const tokensFile = f.get("endpoint.tokens-file");
  const storeTokens = parseTokens(tokensFile !== undefined ? await fileText("endpoint.tokens-file", tokensFile) : process.env[STORE_TOKENS_ENV],
    tokensFile !== undefined ? `--endpoint.tokens-file ${tokensFile}` : `$${STORE_TOKENS_ENV}`);
  const httpToken = await bearerToken("http.bearer-token-file", f.get("http.bearer-token-file"), QUERY_TOKEN_ENV);
  const srv = await startQueryServer({
    hostname: addr.hostname,
    port: addr.port,
    tsdbPath,
    lookbackDeltaMs: durationFlag("query.lookback-delta", f.get("query.lookback-delta")!),
    maxSamples,
    timeoutMs: durationFlag("query.timeout", f.get("query.timeout")!),
    maxConcurrent: countFlag("query.max-concurrent", f.get("query.max-concurrent")!),
    maxQueued: countFlag("query.max-queued", f.get("query.max-queued")!),
    maxConcurrentSelect: countFlag("query.max-concurrent-select", f.get("query.max-concurrent-select")!),
    workers: f.get("query.workers") !== undefined ? countFlag("query.workers", f.get("query.workers")!) : undefined,
    warmupQueries: countFlag("query.warmup-queries", f.get("query.warmup-queries")!),
    endpoints,
    storeTokens,
    protocol,
    replicaLabels: f.all("query.replica-label"),
    dedupFunc,
    partialResponse: f.bool("query.partial-response"),
    rulePartialResponse: f.bool("rule.partial-response"),
    autoDownsampling: f.bool("query.auto-downsampling"),
    dynamicLookbackDelta: f.bool("query.dynamic-lookback-delta"),
    storeTimeoutMs: durationFlag("store.response-timeout", f.get("store.response-timeout")!),
    infoTtlMs: durationFlag("store.info-ttl", f.get("store.info-ttl")!),
    maxSeriesPerStore: countFlag("store.limits.request-series", f.get("store.limits.request-series")!),
    maxStoreSamples: countFlag("store.limits.request-samples", f.get("store.limits.request-samples")!),
    httpToken,
    objstoreConfigFile: f.get("objstore.config-file"),
    grpcAddress: f.get("grpc-address") !== undefined ? parseAddress("grpc-address", f.get("grpc-address")!) : undefined,
    ...discovery,
    sdIntervalMs: durationFlag("store.sd-interval", f.get("store.sd-interval")!),
    dnsIntervalMs: durationFlag("store.sd-dns-interval", f.get("store.sd-dns-interval")!),
    dnsResolver: (() => { try { return parseResolverType(f.get("store.sd-dns-resolver")!); } catch (e) { throw new FlagError((e as Error).message); } })(),
    routePrefix: route,
    grpcClientTls: clientTlsFromFlags(f),
    grpcCompression: compressionFromFlags(f),
    grpcServerTls: serverTlsFromFlags(f),
    httpConfig: f.get("http.config"),
    logLevel: f.get("log.level"),
    evalOrder: process.env.THANOTS_EVAL_ORDER === "round-robin" ? "round-robin" : undefined,
    log,
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  log.info("shutting down");
  await srv.close();
  return 0;
}
