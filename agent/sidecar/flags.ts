// The sidecar's flags (Thanos names and defaults where Thanos has the flag) and their value parsing.

import { FlagError, type FlagSpec, nonNegInt, parseAddress, parseDurationMs, parseFlags, parseTimeOrDuration } from "../flags.ts";
import { parseLevel, type Level } from "../log.ts";
import { GRPC_SERVER_TLS_FLAGS, HTTP_CONFIG_FLAG, serverTlsFromFlags } from "../tls/flags.ts";
import type { ServerTlsConfig } from "../tls/server.ts";

export const TOKEN_ENV = "THANOTS_SIDECAR_BEARER_TOKEN";

export const SIDECAR_FLAGS: FlagSpec[] = [
  { name: "prometheus.url", help: "URL of the Prometheus this sidecar serves", default: "http://localhost:9090" },
  { name: "prometheus.ready_timeout", help: "how long to wait for Prometheus to be ready at startup", default: "10m" },
  { name: "prometheus.get_config_interval", help: "how often to re-read Prometheus' config (external labels) and head time range", default: "30s" },
  { name: "prometheus.get_config_timeout", help: "timeout of each request to Prometheus' status APIs", default: "5s" },
  { name: "prometheus.remote-read-accept", help: "remote read response types to accept, in order: streamed,samples (samples only: force the SAMPLES fallback)", default: "streamed,samples" },
  { name: "tsdb.path", help: "Prometheus' --storage.tsdb.path (blocks to upload, oldest block time for Info)", default: "./data" },
  { name: "objstore.config-file", help: "Thanos objstore YAML; when given, completed blocks are uploaded to that bucket" },
  { name: "shipper.upload-compacted", help: "also upload compacted blocks (level > 1); for migrating existing data", boolean: true },
  { name: "shipper.sync-interval", help: "how often the shipper scans --tsdb.path for new blocks", default: "30s" },
  { name: "grpc-address", help: "listen host:port for gRPC (StoreAPI for Go Thanos queriers and grpc clients)", default: "0.0.0.0:10901" },
  { name: "http-address", help: "listen host:port for HTTP: /metrics, /-/healthy, /-/ready and the StoreAPI over Connect/gRPC-Web", default: "0.0.0.0:10902" },
  { name: "min-time", help: "serve only data after this time: RFC3339 or a duration relative to now (e.g. -2d)", default: "0000-01-01T00:00:00Z" },
  { name: "store.limits.request-series", help: "max series per Series request; exceeding it fails the call (ResourceExhausted). 0 = no limit", default: "0" },
  { name: "store.limits.request-samples", help: "max samples per Series request (counted exactly from chunk headers); exceeding it fails the call. 0 = no limit", default: "0" },
  { name: "grpc-server.bearer-token-file", help: `file holding a bearer token every StoreAPI call must present (Authorization: Bearer …); or set $${TOKEN_ENV}` },
  { name: "log.level", help: "debug, info, warn or error", default: "info" },
  ...GRPC_SERVER_TLS_FLAGS,
  HTTP_CONFIG_FLAG,
];

export interface SidecarConfig {
  promUrl: string;
  readyTimeoutMs: number;
  configIntervalMs: number;
  configTimeoutMs: number;
  accept: ("streamed" | "samples")[];
  tsdbPath: string;
  objstoreConfigFile?: string;
  uploadCompacted: boolean;
  shipperIntervalMs: number;
  grpc: { hostname: string; port: number };
  http: { hostname: string; port: number };
  minTime: number;
  maxSeries: number;
  maxSamples: number;
  bearerTokenFile?: string;
  logLevel: Level;
  help: boolean;
  /** gRPC server TLS (--grpc-server-tls-*), null: plaintext. */
  grpcTls: ServerTlsConfig | null;
  /** --http.config */
  httpConfig?: string;
}

export function parseSidecarFlags(argv: string[]): SidecarConfig {
  const help = argv.includes("--help") || argv.includes("-h");
  const f = parseFlags("sidecar", SIDECAR_FLAGS, argv.filter((a) => a !== "--help" && a !== "-h"));
  if (f.positionals.length) throw new FlagError(`sidecar: unexpected argument ${JSON.stringify(f.positionals[0])}`);
  const url = f.get("prometheus.url")!;
  try { new URL(url); } catch { throw new FlagError(`--prometheus.url: ${JSON.stringify(url)} is not a URL`); }
  const accept = f.get("prometheus.remote-read-accept")!.split(",").map((s) => s.trim());
  for (const a of accept) if (a !== "streamed" && a !== "samples") throw new FlagError(`--prometheus.remote-read-accept: ${JSON.stringify(a)} is not streamed or samples`);
  let logLevel: Level;
  try { logLevel = parseLevel(f.get("log.level")!); } catch (e) { throw new FlagError(`--log.level: ${(e as Error).message}`); }
  return {
    promUrl: url,
    readyTimeoutMs: parseDurationMs("prometheus.ready_timeout", f.get("prometheus.ready_timeout")!),
    configIntervalMs: parseDurationMs("prometheus.get_config_interval", f.get("prometheus.get_config_interval")!),
    configTimeoutMs: parseDurationMs("prometheus.get_config_timeout", f.get("prometheus.get_config_timeout")!),
    accept: accept as ("streamed" | "samples")[],
    tsdbPath: f.get("tsdb.path")!,
    objstoreConfigFile: f.get("objstore.config-file"),
    uploadCompacted: f.bool("shipper.upload-compacted"),
    shipperIntervalMs: parseDurationMs("shipper.sync-interval", f.get("shipper.sync-interval")!),
    grpc: parseAddress("grpc-address", f.get("grpc-address")!),
    http: parseAddress("http-address", f.get("http-address")!),
    minTime: parseTimeOrDuration("min-time", f.get("min-time")!),
    maxSeries: nonNegInt("store.limits.request-series", f.get("store.limits.request-series")!),
    maxSamples: nonNegInt("store.limits.request-samples", f.get("store.limits.request-samples")!),
    bearerTokenFile: f.get("grpc-server.bearer-token-file"),
    logLevel,
    help,
    grpcTls: serverTlsFromFlags(f),
    httpConfig: f.get("http.config"),
  };
}
