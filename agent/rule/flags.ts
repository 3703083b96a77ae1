// `bun run agent rule` flags: Thanos v0.41.0's names and defaults (cmd/thanos/rule.go, config.go), and
// their parsing into one RuleConfig. Flag values that name files (--query.config-file, ...) are read
// here, so a bad file stops the start with its name in the error.

import { readFileSync } from "node:fs";
import { errorMessage } from "../../shared/encoding/errors.ts";
import { compareStrings, type Label, type Labels } from "../../shared/labels/labels.ts";
import { parseRelabelConfigs, type RelabelConfig } from "../../shared/labels/relabel.ts";
import {
  EMPTY_CLIENT, endpointURLs, parseAlertingConfig, parseQueryConfig, type HttpClientConfig, type HttpEndpointsConfig,
} from "../../shared/clientconfig/config.ts";
import { ALERTMANAGER_PORT, parseHttpTarget, type HttpTarget } from "../../shared/discovery/endpoint.ts";
import { checkFileSdPattern } from "../../shared/discovery/filesd.ts";
import { FlagError, type FlagSpec, nonNegInt, parseAddress, parseFlags, type ParsedFlags } from "../flags.ts";
import { parseLevel, type Level } from "../log.ts";
import { OBJSTORE_FLAGS } from "../objstore/factory.ts";
import { normalizePrefix } from "../prefix.ts";
import { GRPC_SERVER_TLS_FLAGS, HTTP_CONFIG_FLAG } from "../tls/flags.ts";

export const TOKEN_ENV = "THANOTS_RULE_BEARER_TOKEN";

export const RULE_FLAGS: FlagSpec[] = [
  { name: "http-address", help: "listen host:port for HTTP: the rules API, /metrics, /-/reload, health, and the StoreAPI over Connect/gRPC-Web", default: "0.0.0.0:10902" },
  { name: "grpc-address", help: "listen host:port for gRPC: StoreAPI (stateful mode), Info and Rules", default: "0.0.0.0:10901" },
  { name: "web.route-prefix", help: "prefix of the HTTP API, /-/reload and the Connect StoreAPI; /metrics and health stay at the root", default: "" },
  { name: "web.external-prefix", help: "accepted for compatibility (it prefixes links of the UI, which the ruler does not serve)", default: "" },
  { name: "label", help: `external label name="value" on everything this ruler produces (series over the StoreAPI, block meta.json, remote write, alerts, $externalLabels)`, repeatable: true },
  { name: "data-dir", help: "TSDB directory (stateful mode)", default: "data/" },
  { name: "tsdb.block-duration", help: "block duration of the TSDB (minimum = maximum: no local compaction)", default: "2h" },
  { name: "tsdb.retention", help: "how long blocks stay on local disk (0: forever)", default: "48h" },
  { name: "tsdb.no-lockfile", help: "do not create a lock file in --data-dir (a stale one is still removed)", boolean: true },
  { name: "tsdb.wal-compression", help: "snappy-compress WAL records", boolean: true, default: "true" },
  { name: "tsdb.wal-sync", help: "when a rule's samples count as written: write (in the kernel: survives kill -9, as Prometheus) or fsync (on disk: survives power loss too; slower)", default: "write" },
  { name: "rule-file", help: "rule files; Go globs; repeatable. Re-read on SIGHUP or POST /-/reload", repeatable: true, default: "rules/" },
  { name: "eval-interval", help: "default evaluation interval of a group", default: "1m" },
  { name: "resend-delay", help: "minimum time before an alert is sent again to Alertmanager", default: "1m" },
  { name: "for-outage-tolerance", help: "longest outage after which the 'for' state of alerts is still restored", default: "1h" },
  { name: "for-grace-period", help: "minimum time between a restore and an alert firing (alerts with 'for' at least this long)", default: "10m" },
  { name: "restore-ignored-label", help: "label names removed from ALERTS_FOR_STATE read back from the queriers (stateless mode); repeatable", repeatable: true },
  { name: "rule-concurrent-evaluation", help: "accepted for compatibility; rules of a group run one after another as in Prometheus 2.42 (groups run concurrently)", default: "1" },
  { name: "query", help: "querier HTTP address: http(s)://host:port[/prefix] or host:port, with dns+ / dnssrv+ before the scheme or the host; repeatable", repeatable: true },
  { name: "query.config-file", help: "YAML list of query clients (http_config, static_configs, file_sd_configs, scheme, path_prefix); excludes --query and --query.sd-files" },
  { name: "query.config", help: "content of --query.config-file" },
  { name: "query.sd-files", help: "file SD files with querier addresses; globs; repeatable", repeatable: true },
  { name: "query.sd-interval", help: "how often --query.sd-files are re-read", default: "5m" },
  { name: "query.sd-dns-interval", help: "how often dns+ / dnssrv+ addresses are resolved", default: "30s" },
  { name: "query.http-method", help: "GET or POST", default: "POST" },
  { name: "query.default-step", help: "accepted for compatibility: Thanos restores 'for' state in stateless mode with range queries at this step; we read the raw ALERTS_FOR_STATE samples instead (the exact downtime, as Prometheus)", default: "1s" },
  { name: "query.only-prometheus-params", help: "send only query and time (no dedup, partial_response, ...)", boolean: true },
  { name: "query.timeout", help: "deadline of one rule evaluation's query; past it the evaluation fails (counted) and the group goes on. Default: half the group's interval, at most 2m. 0s: none" },
  { name: "alertmanagers.url", help: "Alertmanager URL (scheme required; dns+/dnssrv+ prefixes; user:pass@ is basic auth; the path is a prefix); repeatable", repeatable: true },
  { name: "alertmanagers.config-file", help: "YAML alerting configuration (alertmanagers: [...]); excludes --alertmanagers.url" },
  { name: "alertmanagers.config", help: "content of --alertmanagers.config-file" },
  { name: "alertmanagers.send-timeout", help: "timeout of one POST to an Alertmanager", default: "10s" },
  { name: "alertmanagers.sd-dns-interval", help: "how often dns+ Alertmanager addresses are resolved", default: "30s" },
  { name: "alert.query-url", help: "querier URL put in alerts' generatorURL (and $externalURL)", default: "" },
  { name: "alert.query-template", help: "generatorURL path template; {{.Expr}} is the URL-escaped expression", default: "/graph?g0.expr={{.Expr}}&g0.tab=1" },
  { name: "alert.label-drop", help: "label dropped from alerts before sending (e.g. the replica label, so Alertmanager deduplicates HA rulers); repeatable", repeatable: true },
  { name: "alert.relabel-config-file", help: "YAML alert relabelling configs" },
  { name: "alert.relabel-config", help: "content of --alert.relabel-config-file" },
  { name: "remote-write.config-file", help: "Prometheus remote_write YAML: stateless mode (no TSDB, no StoreAPI; results go by remote write)" },
  { name: "remote-write.config", help: "content of --remote-write.config-file" },
  ...OBJSTORE_FLAGS,
  { name: "shipper.upload-compacted", help: "also upload blocks of compaction level > 1", boolean: true },
  { name: "store.limits.request-series", help: "max series per StoreAPI Series call. 0 = no limit", default: "0" },
  { name: "store.limits.request-samples", help: "max samples per StoreAPI Series call. 0 = no limit", default: "0" },
  { name: "grpc-server.bearer-token-file", help: `file holding a bearer token every StoreAPI/Rules call must present; or set $${TOKEN_ENV}` },
  { name: "log.level", help: "debug, info, warn or error", default: "info" },
  ...GRPC_SERVER_TLS_FLAGS,
  HTTP_CONFIG_FLAG,
];

/** Go's time.ParseDuration and Prometheus' model.ParseDuration together: 90s, 1.5h, 2h45m, 1d, 500ms. */
export function parseGoDuration(flag: string, s: string): number {
  if (s === "0") return 0;
  const m = /^(-)?((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h|d|w|y))+)$/.exec(s);
  if (!m) throw new FlagError(`--${flag}: ${JSON.stringify(s)} is not a duration such as 30s, 1.5m or 2h45m`);
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, y: 365 * 86400e3 };
  let total = 0;
  for (const p of m[2]!.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d|w|y)/g)) total += Number(p[1]) * unit[p[2]!]!;
  total = Math.round(total);
  return m[1] ? -total : total;
}

/** Go's strconv.Unquote for the quoted forms a --label value takes ("...", `...`). */
function goUnquote(s: string): string {
  if (s.length >= 2 && s[0] === "`" && s.at(-1) === "`") {
    const inner = s.slice(1, -1);
    if (inner.includes("`")) throw new Error("invalid syntax");
    return inner.replace(/\r/g, "");
  }
  if (s.length < 2 || s[0] !== '"' || s.at(-1) !== '"') throw new Error("invalid syntax");
  const body = s.slice(1, -1);
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '"' || c === "\n") throw new Error("invalid syntax");
    if (c !== "\\") { out += c; continue; }
    const e = body[++i];
    const simple: Record<string, string> = { a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", "\\": "\\", '"': '"' };
    if (e !== undefined && e in simple) { out += simple[e]; continue; }
    const hex = (n: number) => {
      const h = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw new Error("invalid syntax");
      i += n;
      return parseInt(h, 16);
    };
    if (e === "x") { out += String.fromCharCode(hex(2)); continue; }
    if (e === "u") { out += String.fromCodePoint(hex(4)); continue; }
    if (e === "U") { out += String.fromCodePoint(hex(8)); continue; }
    if (e !== undefined && /[0-7]/.test(e)) {
      const o = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(o)) throw new Error("invalid syntax");
      i += 2;
      out += String.fromCharCode(parseInt(o, 8));
      continue;
    }
    throw new Error("invalid syntax");
  }
  return out;
}

/** Thanos' parseFlagLabels: name="value" pairs, sorted by name. */
export function parseFlagLabels(values: readonly string[]): Labels {
  const out: Label[] = [];
  for (const l of values) {
    const i = l.indexOf("=");
    if (i < 0) throw new FlagError(`--label: unrecognized label ${JSON.stringify(l)}`);
    const name = l.slice(0, i);
    if (name === "") throw new FlagError(`--label: unsupported format for label ${l}`);
    let value: string;
    try { value = goUnquote(l.slice(i + 1)); } catch (e) { throw new FlagError(`--label: unquote label value of ${JSON.stringify(l)}: ${(e as Error).message} (write name="value")`); }
    out.push({ name, value });
  }
  out.sort((a, b) => compareStrings(a.name, b.name));
  for (let i = 1; i < out.length; i++) if (out[i]!.name === out[i - 1]!.name) throw new FlagError(`--label: label ${out[i]!.name} given twice`);
  return out;
}

/** extflag.PathOrContent: --x-file or --x (not both); "" when neither. */
function pathOrContent(f: ReturnType<typeof parseFlags>, name: string): { text: string; from: string } {
  const file = f.get(`${name}-file`), content = f.get(name);
  if (file !== undefined && content !== undefined) throw new FlagError(`both --${name}-file and --${name} are set; give one of them`);
  if (file !== undefined && file !== "") {
    try { return { text: readFileSync(file, "utf8"), from: file }; } catch (e) { throw new FlagError(`--${name}-file: read ${file}: ${errorMessage(e)}`); }
  }
  return { text: content ?? "", from: `--${name}` };
}

/** One HTTP client's peers: address forms (shared/discovery/endpoint.ts), auth, file SD. */
export interface TargetGroupConfig {
  name: string;
  client: HttpClientConfig;
  targets: HttpTarget[];
  fileSd?: { files: string[]; refreshMs: number; endpoints: HttpEndpointsConfig };
}

export interface AlertmanagerGroupConfig extends TargetGroupConfig {
  timeoutMs: number;
  apiVersion: "v1" | "v2";
}

function withUrlAuth(client: HttpClientConfig, targets: HttpTarget[]): HttpClientConfig {
  const ba = targets.find((t) => t.basicAuth)?.basicAuth;
  return ba && !client.basicAuth ? { ...client, basicAuth: { username: ba.username, password: ba.password, passwordFile: "" } } : client;
}

function fileSdOf(files: { files: string[]; refreshInterval: number }[], endpoints: HttpEndpointsConfig, flag: string): TargetGroupConfig["fileSd"] {
  const all = files.flatMap((f) => f.files);
  if (all.length === 0) return undefined;
  for (const p of all) checkFileSdPattern(flag, p);
  return { files: all, refreshMs: Math.min(...files.map((f) => f.refreshInterval)), endpoints };
}

export interface RuleConfig {
  http: { hostname: string; port: number };
  grpc: { hostname: string; port: number };
  routePrefix: string;
  externalPrefix: string;
  labels: Labels;
  dataDir: string;
  blockDurationMs: number;
  retentionMs: number;
  noLockfile: boolean;
  walCompression: boolean;
  walSync: "write" | "fsync";
  ruleFiles: string[];
  evalIntervalMs: number;
  resendDelayMs: number;
  outageToleranceMs: number;
  forGracePeriodMs: number;
  restoreIgnoredLabels: string[];
  concurrentEval: number;
  /** Query clients, tried in random order (each: its addresses, auth, file SD). */
  query: TargetGroupConfig[];
  queryDnsIntervalMs: number;
  queryMethod: "GET" | "POST";
  queryDefaultStepMs: number;
  onlyPrometheusParams: boolean;
  /** undefined: the engine's default; Infinity: none. */
  queryTimeoutMs: number | undefined;
  alertmanagers: AlertmanagerGroupConfig[];
  amDnsIntervalMs: number;
  alertQueryURL: string;
  alertQueryTemplate: string;
  alertLabelDrop: string[];
  alertRelabel: RelabelConfig[];
  remoteWrite: { text: string; from: string } | null;
  objstore: boolean;
  /** The parsed flags (for the objstore factory). */
  parsed: ParsedFlags;
  uploadCompacted: boolean;
  maxSeries: number;
  maxSamples: number;
  bearerTokenFile: string | undefined;
  logLevel: Level;
  /** Every flag with its value (for /api/v1/status/flags). */
  flags: Record<string, string>;
}

function wrap<T>(flag: string, f: () => T): T {
  try { return f(); } catch (e) {
    if (e instanceof FlagError) throw e;
    throw new FlagError(`${flag}: ${errorMessage(e)}`);
  }
}

export function parseRuleFlags(argv: string[]): RuleConfig {
  const f = parseFlags("rule", RULE_FLAGS, argv);
  if (f.positionals.length) throw new FlagError(`rule: unexpected argument ${JSON.stringify(f.positionals[0])}`);
  let logLevel: Level;
  try { logLevel = parseLevel(f.get("log.level")!); } catch (e) { throw new FlagError(`--log.level: ${(e as Error).message}`); }
  const dur = (n: string) => parseGoDuration(n, f.get(n)!);

  // Queriers: --query / --query.sd-files, or --query.config* (Thanos' rules).
  const addrs = f.all("query");
  const seen = new Set<string>();
  for (const a of addrs) {
    if (seen.has(a)) throw new FlagError(`Address ${a} is duplicated for --query flag.`);
    seen.add(a);
  }
  const qc = pathOrContent(f, "query.config");
  const sdFiles = f.all("query.sd-files");
  if (sdFiles.length === 0 && addrs.length === 0 && qc.text.trim() === "") throw new FlagError("rule: no query configuration parameter was given (--query, --query.sd-files or --query.config-file)");
  if ((sdFiles.length > 0 || addrs.length > 0) && qc.text.trim() !== "") throw new FlagError("--query/--query.sd-files and --query.config* parameters cannot be defined at the same time");
  const sdInterval = dur("query.sd-interval");
  let query: TargetGroupConfig[];
  if (qc.text.trim() !== "") {
    query = wrap(qc.from, () => parseQueryConfig(qc.text).flatMap((c, i): TargetGroupConfig[] => {
      if (c.grpcEndpoints.length > 0) throw new FlagError(`${qc.from}: grpc_config (Thanos' gRPC query API) is not supported; give the queriers' HTTP addresses in static_configs`);
      if (!c.http) return [];
      const targets = endpointURLs(c.http.endpoints).map((u) => parseHttpTarget(u, { flag: "query.config" }));
      return [{ name: `query.config[${i}]`, client: c.http.client, targets, fileSd: fileSdOf(c.http.endpoints.fileSD, c.http.endpoints, "query.config") }];
    }));
  } else {
    query = addrs.map((a) => {
      const targets = [parseHttpTarget(a, { flag: "query" })];
      return { name: a, client: withUrlAuth({ ...EMPTY_CLIENT }, targets), targets };
    });
    if (sdFiles.length > 0) {
      const endpoints: HttpEndpointsConfig = { staticAddresses: [], fileSD: [], scheme: "http", pathPrefix: "" };
      query.push({ name: "query.sd-files", client: { ...EMPTY_CLIENT }, targets: [], fileSd: fileSdOf([{ files: sdFiles, refreshInterval: sdInterval }], endpoints, "query.sd-files") });
    }
  }
  const method = f.get("query.http-method")!;
  if (method !== "GET" && method !== "POST") throw new FlagError(`--query.http-method: ${JSON.stringify(method)}: want GET or POST`);

  // Alertmanagers.
  const sendTimeout = dur("alertmanagers.send-timeout");
  const ac = pathOrContent(f, "alertmanagers.config");
  const amURLs = f.all("alertmanagers.url");
  if (ac.text.trim() !== "" && amURLs.length > 0) throw new FlagError("--alertmanagers.url and --alertmanagers.config* parameters cannot be defined at the same time");
  const amOpts = { defaultPort: ALERTMANAGER_PORT };
  const alertmanagers: AlertmanagerGroupConfig[] = ac.text.trim() !== ""
    ? wrap(ac.from, () => parseAlertingConfig(ac.text).map((c, i) => {
      const targets = endpointURLs(c.endpoints).map((u) => parseHttpTarget(u, { flag: "alertmanagers.config", ...amOpts }));
      return { name: `alertmanagers[${i}]`, client: c.client, targets, fileSd: fileSdOf(c.endpoints.fileSD, c.endpoints, "alertmanagers.config"), timeoutMs: c.timeout, apiVersion: c.apiVersion };
    }))
    : amURLs.map((u) => {
      const targets = [parseHttpTarget(u, { flag: "alertmanagers.url", requireScheme: true, ...amOpts })];
      return { name: u, client: withUrlAuth({ ...EMPTY_CLIENT }, targets), targets, timeoutMs: sendTimeout, apiVersion: "v2" as const };
    });

  const rc = pathOrContent(f, "alert.relabel-config");
  const alertRelabel = rc.text.trim() !== "" ? wrap(rc.from, () => parseRelabelConfigs(rc.text)) : [];

  const tmpl = f.get("alert.query-template")!;
  const queryURL = f.get("alert.query-url")!;

  const rw = pathOrContent(f, "remote-write.config");
  const qt = f.get("query.timeout");
  let queryTimeoutMs: number | undefined;
  if (qt !== undefined) {
    const ms = parseGoDuration("query.timeout", qt);
    queryTimeoutMs = ms <= 0 ? Infinity : ms;
  }
  const evalIntervalMs = dur("eval-interval");
  if (evalIntervalMs <= 0) throw new FlagError(`--eval-interval: ${f.get("eval-interval")} must be positive`);
  const concurrent = Number(f.get("rule-concurrent-evaluation"));
  if (!Number.isSafeInteger(concurrent) || concurrent < 1) throw new FlagError(`--rule-concurrent-evaluation: ${JSON.stringify(f.get("rule-concurrent-evaluation"))} is not a positive integer`);
  const walSync = f.get("tsdb.wal-sync")!;
  if (walSync !== "write" && walSync !== "fsync") throw new FlagError(`--tsdb.wal-sync: ${JSON.stringify(walSync)}: want write or fsync`);
  // Thanos' ruler takes only --web.route-prefix (its querier defaults it to the external prefix).
  const prefix = normalizePrefix(f.get("web.route-prefix") ?? "");

  const flags: Record<string, string> = {};
  for (const s of RULE_FLAGS) {
    const v = s.repeatable ? f.all(s.name).join(",") : f.get(s.name);
    if (v !== undefined) flags[s.name] = /password|secret|token|config$/.test(s.name) && v !== "" && !s.name.endsWith("-file") ? "<secret>" : v;
  }

  return {
    http: parseAddress("http-address", f.get("http-address")!),
    grpc: parseAddress("grpc-address", f.get("grpc-address")!),
    routePrefix: prefix,
    externalPrefix: f.get("web.external-prefix") ?? "",
    labels: parseFlagLabels(f.all("label")),
    dataDir: f.get("data-dir")!,
    blockDurationMs: dur("tsdb.block-duration"),
    retentionMs: dur("tsdb.retention"),
    noLockfile: f.bool("tsdb.no-lockfile"),
    walCompression: f.bool("tsdb.wal-compression"),
    walSync: walSync as "write" | "fsync",
    ruleFiles: f.all("rule-file"),
    evalIntervalMs,
    resendDelayMs: dur("resend-delay"),
    outageToleranceMs: dur("for-outage-tolerance"),
    forGracePeriodMs: dur("for-grace-period"),
    restoreIgnoredLabels: f.all("restore-ignored-label"),
    concurrentEval: concurrent,
    query,
    queryDnsIntervalMs: dur("query.sd-dns-interval"),
    queryMethod: method,
    queryDefaultStepMs: dur("query.default-step"),
    onlyPrometheusParams: f.bool("query.only-prometheus-params"),
    queryTimeoutMs,
    alertmanagers,
    amDnsIntervalMs: dur("alertmanagers.sd-dns-interval"),
    alertQueryURL: queryURL,
    alertQueryTemplate: tmpl,
    alertLabelDrop: f.all("alert.label-drop"),
    alertRelabel,
    remoteWrite: rw.text.trim() !== "" ? rw : null,
    objstore: f.get("objstore.config-file") !== undefined || f.get("objstore.config") !== undefined,
    parsed: f,
    uploadCompacted: f.bool("shipper.upload-compacted"),
    maxSeries: nonNegInt("store.limits.request-series", f.get("store.limits.request-series")!),
    maxSamples: nonNegInt("store.limits.request-samples", f.get("store.limits.request-samples")!),
    bearerTokenFile: f.get("grpc-server.bearer-token-file"),
    logLevel,
    flags,
  };
}

