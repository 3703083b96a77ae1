// `bun run agent rule …` (or `thanots rule`): the ruler. Thanos' `thanos rule` flags; the rules engine is shared/rules
// (Prometheus 2.42 semantics), this file parses flags, builds the adapters and starts the servers:
//
//   queriers (HTTP, shared/rules/httpquery.ts) <- rules Manager -> TSDB (agent/tsdb, stateful)
//                                                      |          or remote write (stateless)
//                                                      +-> alert queue -> Alertmanagers (shared/alert)
//   served: StoreAPI over the TSDB + Info + thanos.Rules (gRPC port; Connect/gRPC-Web on the HTTP
//   port), /api/v1/rules, /api/v1/alerts, /-/reload, /metrics; blocks shipped to the bucket.
//
// Startup as Thanos: the first rule load failing stops the process; later reloads (SIGHUP, POST
// /-/reload) that fail keep the old rules running and answer 500 with the error.

import { readFileSync } from "node:fs";
import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";
import { labelsString } from "../../shared/labels/labels.ts";
import { AlertQueue, AlertSender, runSendLoop, toNotifierAlerts, type AlertmanagerEndpoint, type FetchLike } from "../../shared/alert/notifier.ts";
import type { HttpClientConfig } from "../../shared/clientconfig/config.ts";
import { ALERTMANAGER_PORT } from "../../shared/discovery/endpoint.ts";
import { Manager, RulesLoadError } from "../../shared/rules/manager.ts";
import { httpQueryFunc, restoreQuerier, type HttpQueryOptions, type QueryClient, type QueryFetch } from "../../shared/rules/httpquery.ts";
import type { RuleLogger } from "../../shared/rules/group.ts";
import { parseRemoteWriteConfig, RemoteWriteQueue, RemoteWriteStorage, type ParsedRemoteWrite, type WriteFetch } from "../../shared/remote/write.ts";
import type { InfoImpl, StoreApiServices } from "../../shared/rpc/store.ts";
import type { Appendable } from "../../shared/storage/appender.ts";
import type { Querier } from "../../shared/storage/types.ts";
import { FlagError, flagsHelp } from "../flags.ts";
import type { Listening } from "../http.ts";
import { listenWeb } from "../web/listen.ts";
import { serverTlsFromFlags } from "../tls/flags.ts";
import { withRoutePrefix } from "../prefix.ts";
import { PROGRAM } from "../program.ts";
import { startGrpcServer, type GrpcServer } from "../grpc/server.ts";
import { newLogger, type Logger } from "../log.ts";
import { Registry } from "../metrics.ts";
import { bucketFromFlags } from "../objstore/factory.ts";
import { Shipper } from "../shipper/shipper.ts";
import { nodeResolver } from "../discovery/dns.ts";
import { openTSDB, type Tsdb } from "../tsdb/db.ts";
import { parseRuleFlags, RULE_FLAGS, TOKEN_ENV } from "./flags.ts";
import { HttpTargets } from "./targets.ts";
import { ruleFiles } from "./glob.ts";
import { ruleHttpApp } from "./http.ts";
import { registerRuleMetrics } from "./metrics.ts";
import { startGcPacer } from "../gc.ts";

const HELP = `usage: ${PROGRAM} rule [flags]

Ruler: evaluates Prometheus recording and alerting rules against queriers (the global view), keeps what
it records in its own TSDB (served over the StoreAPI, shipped to the bucket with --objstore.config-file)
or sends it by remote write (--remote-write.config-file: stateless), and sends alerts to Alertmanager.

flags:
${flagsHelp(RULE_FLAGS)}`;

/** Headers for an HTTP client config (credential files are read at each request, as Prometheus does). */
function authHeaders(c: HttpClientConfig, what: string): () => Record<string, string> {
  const readFile = (p: string) => {
    try { return readFileSync(p, "utf8").trim(); } catch (e) { throw new CodedError("unavailable", `${what}: read ${p}: ${errorMessage(e)}`); }
  };
  return (): Record<string, string> => {
    if (c.basicAuth) {
      const pw = c.basicAuth.passwordFile ? readFile(c.basicAuth.passwordFile) : c.basicAuth.password;
      return { Authorization: "Basic " + Buffer.from(`${c.basicAuth.username}:${pw}`).toString("base64") };
    }
    const tok = c.bearerTokenFile ? readFile(c.bearerTokenFile) : c.bearerToken;
    return tok ? { Authorization: `Bearer ${tok}` } : {};
  };
}

/**
 * fetch for one HTTP client config: its auth headers added; its tls_config through Bun's fetch `tls`
 * option (CA, client certificate, insecure_skip_verify; elsewhere than Bun TLS settings are ignored, said
 * once); proxy_url is not supported (said once).
 */
function clientFetch(c: HttpClientConfig, what: string, log: Logger): (url: string, init: RequestInit) => Promise<Response> {
  const headers = authHeaders(c, what);
  const bun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
  if (c.proxyURL) log.warn("proxy_url is not supported: requests go direct", { for: what });
  let tls: Record<string, unknown> | undefined;
  if (c.tls) {
    if (!bun) log.warn("tls_config needs Bun: the system's trust store is used and no client certificate is sent", { for: what });
    else {
      const read = (p: string) => { try { return readFileSync(p, "utf8"); } catch (e) { throw new FlagError(`${what}: tls_config: read ${p}: ${errorMessage(e)}`); } };
      if (!!c.tls.certFile !== !!c.tls.keyFile) throw new FlagError(`${what}: tls_config: cert_file and key_file go together`);
      tls = { rejectUnauthorized: !c.tls.insecureSkipVerify };
      if (c.tls.caFile) tls.ca = read(c.tls.caFile);
      if (c.tls.certFile) { tls.cert = read(c.tls.certFile); tls.key = read(c.tls.keyFile); }
      if (c.tls.serverName) tls.serverName = c.tls.serverName;
    }
  }
  return (url, init) => fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers() }, ...(tls ? { tls } : {}) } as RequestInit);
}

function ruleLogger(log: Logger): RuleLogger {
  const kv = (o?: Record<string, unknown>) => o as Record<string, never> | undefined;
  return {
    debug: (m, o) => log.debug(m, kv(o)),
    info: (m, o) => log.info(m, kv(o)),
    warn: (m, o) => log.warn(m, kv(o)),
    error: (m, o) => log.error(m, kv(o)),
  };
}

/** The remote write queues of a stateless ruler (auth files read at each request). */
function remoteWriteQueues(entries: ParsedRemoteWrite[], log: Logger): RemoteWriteQueue[] {
  return entries.map((e) => {
    if (e.auth.unsupported.length > 0) log.warn("remote write: settings not supported, ignored", { url: e.url, fields: e.auth.unsupported.join(",") });
    const client: HttpClientConfig = {
      basicAuth: e.auth.basicAuth, bearerToken: "", bearerTokenFile: "", proxyURL: "", tls: null,
    };
    const basic = authHeaders(client, "remote write");
    const az = e.auth.authorization;
    const headers = (): Record<string, string> => {
      if (az) {
        const cred = az.credentialsFile ? readFileSync(az.credentialsFile, "utf8").trim() : az.credentials;
        return { Authorization: `${az.type} ${cred}` };
      }
      return basic();
    };
    const fetchFn: WriteFetch = async (url, init) => {
      const res = await fetch(url, { ...init, headers: { ...init.headers, ...headers() }, body: init.body as unknown as BodyInit });
      return { status: res.status, statusText: res.statusText, headers: res.headers, text: () => res.text() };
    };
    return new RemoteWriteQueue(e, fetchFn, { warn: (m, kv) => log.warn(m, kv as Record<string, never>) });
  });
}

/** Info for a stateless ruler: the Rules API only (no StoreAPI). */
function rulesOnlyInfo(): InfoImpl {
  return { info: async () => ({ labelSets: [], ComponentType: "rule", rules: {} }) };
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) { console.log(HELP); return 0; }
  const cfg = parseRuleFlags(argv);
  const log = newLogger({ level: cfg.logLevel }).with({ component: "rule" });
  const reg = new Registry();

  let token = process.env[TOKEN_ENV] || undefined;
  if (cfg.bearerTokenFile) {
    try { token = readFileSync(cfg.bearerTokenFile, "utf8").trim(); } catch (e) { throw new FlagError(`--grpc-server.bearer-token-file: read ${cfg.bearerTokenFile}: ${errorMessage(e)}`); }
    if (!token) throw new FlagError(`--grpc-server.bearer-token-file: ${cfg.bearerTokenFile} is empty`);
  }
  if (cfg.concurrentEval > 1) log.info("--rule-concurrent-evaluation > 1 has no effect: the rules of a group run one after another (Prometheus 2.42); groups run concurrently");

  const resolver = nodeResolver();
  const queryTargets = new HttpTargets(cfg.query, { flag: "query", resolver, dnsIntervalMs: cfg.queryDnsIntervalMs, log });
  const amTargets = new HttpTargets(cfg.alertmanagers, { flag: "alertmanagers.url", resolver, dnsIntervalMs: cfg.amDnsIntervalMs, log, defaultPort: ALERTMANAGER_PORT });
  const clients: QueryClient[] = cfg.query.map((g, i) => {
    const f = clientFetch(g.client, `query ${g.name}`, log);
    return {
      urls: () => queryTargets.urls(i),
      fetch: async (url, init) => { const res = await f(url, init); return { status: res.status, text: () => res.text() }; },
    };
  });
  if (cfg.alertmanagers.length === 0) log.warn("no alertmanager configured");
  const rwEntries = cfg.remoteWrite ? (() => {
    try { return parseRemoteWriteConfig(cfg.remoteWrite.text); } catch (e) { throw new FlagError(`${cfg.remoteWrite.from}: ${errorMessage(e)}`); }
  })() : [];
  const stateless = rwEntries.length > 0;
  if (cfg.remoteWrite && !stateless) log.info("remote write configuration has no remote_write entries: running with a local TSDB");

  const fetchQ: QueryFetch = async (url, init) => {
    const res = await fetch(url, init);
    return { status: res.status, text: () => res.text() };
  };
  await Promise.all([queryTargets.start(), amTargets.start()]);
  const warnings = { WARN: 0, ABORT: 0 };
  const queryOpts: HttpQueryOptions = {
    clients: () => clients,
    fetch: fetchQ,
    method: cfg.queryMethod,
    onlyPrometheusParams: cfg.onlyPrometheusParams,
    onWarnings: (ws, expr, s) => { warnings[s]++; log.warn("query answered with warnings", { warnings: ws.join(", "), query: expr }); },
    onError: (url, err, expr) => log.error("query failed", { url, err, query: expr }),
  };

  // ---- storage ----
  let db: Tsdb | null = null;
  let appendable: Appendable;
  let queryable: Querier;
  let queues: RemoteWriteQueue[] = [];
  if (stateless) {
    queues = remoteWriteQueues(rwEntries, log);
    for (const q of queues) q.start();
    appendable = new RemoteWriteStorage(queues, cfg.labels);
    queryable = restoreQuerier({ ...queryOpts, stepMs: cfg.queryDefaultStepMs, ignoredLabels: cfg.restoreIgnoredLabels });
    log.info("stateless mode: results go by remote write", { endpoints: rwEntries.map((e) => e.url).join(",") });
  } else {
    db = await openTSDB(cfg.dataDir, {
      blockDurationMs: cfg.blockDurationMs,
      retentionMs: cfg.retentionMs,
      externalLabels: cfg.labels,
      walCompression: cfg.walCompression,
      walSync: cfg.walSync,
      noLockfile: cfg.noLockfile,
      log: log.with({ subcomponent: "tsdb" }),
      component: "rule",
      maxSeries: cfg.maxSeries,
      maxSamples: cfg.maxSamples,
      infoExtra: () => ({ rules: {} }),
    });
    appendable = db;
    queryable = db.querier();
  }

  // ---- alerts ----
  const queue = new AlertQueue({ externalLabels: cfg.labels, dropLabels: cfg.alertLabelDrop, relabelConfigs: cfg.alertRelabel });
  // One sender over every Alertmanager of every group (Thanos' Sender); each endpoint carries its group's transport.
  const amFetches: FetchLike[] = cfg.alertmanagers.map((g) => {
    const f = clientFetch(g.client, `alertmanagers ${g.name}`, log);
    return async (url, init) => {
      const res = await f(url, init as RequestInit);
      return { status: res.status, statusText: res.statusText, text: () => res.text() };
    };
  });
  const amEndpoints = (): AlertmanagerEndpoint[] => {
    const seen = new Set<string>();
    const out: AlertmanagerEndpoint[] = [];
    cfg.alertmanagers.forEach((g, i) => {
      for (const url of amTargets.urls(i)) {
        if (seen.has(url)) continue;
        seen.add(url);
        out.push({ url, version: g.apiVersion, timeoutMs: g.timeoutMs, fetch: amFetches[i] });
      }
    });
    return out;
  };
  // Every endpoint carries its own fetch: the sender's plain one is only a fallback.
  const plainFetch: FetchLike = async (url, init) => {
    const res = await fetch(url, init);
    return { status: res.status, statusText: res.statusText, text: () => res.text() };
  };
  const sender = new AlertSender(amEndpoints, plainFetch, { warn: (m, kv) => log.warn(m, kv as Record<string, never>) });

  // ---- rules ----
  const manager = new Manager({
    queryFuncFor: (s) => httpQueryFunc(queryOpts, s),
    appendable,
    queryable,
    notify: (expr, alerts) => queue.push(toNotifierAlerts(alerts, expr, { alertQueryURL: cfg.alertQueryURL, queryTemplate: cfg.alertQueryTemplate })),
    externalLabels: cfg.labels,
    externalURL: cfg.alertQueryURL,
    outageTolerance: cfg.outageToleranceMs,
    forGracePeriod: cfg.forGracePeriodMs,
    resendDelay: cfg.resendDelayMs,
    queryTimeout: cfg.queryTimeoutMs,
    logger: ruleLogger(log.with({ subcomponent: "rules" })),
  });

  /** Thanos' reloadRules: glob, read, update; errors of a glob are reported but do not stop the update. */
  const reload = async (): Promise<void> => {
    const { files, errors } = ruleFiles(cfg.ruleFiles);
    log.info("reload rule files", { numFiles: files.length });
    const inputs = [];
    try {
      for (const f of files) inputs.push({ file: f, content: readFileSync(f, "utf8") });
    } catch (e) {
      manager.reloadStatus.successful = false;
      throw new CodedError("bad_data", `reloading rules failed: ${errorMessage(e)}`);
    }
    try {
      await manager.update(cfg.evalIntervalMs, inputs);
    } catch (e) {
      throw new CodedError("bad_data", `reloading rules failed: ${errorMessage(e)}`);
    }
    if (errors.length > 0) throw new CodedError("bad_data", errors.join("; "));
  };

  registerRuleMetrics(reg, { manager, db, queue, sender, queues, warnings });

  // ---- serving ----
  const services: StoreApiServices = { info: db ? db.info : rulesOnlyInfo(), rules: manager.rulesImpl() };
  if (db) services.store = db.store;
  let ready = false;
  const listeners: { close(): Promise<void> }[] = [];
  const stopCtl = new AbortController();
  const timers: ReturnType<typeof setInterval>[] = [];
  let stopGc = () => {};
  const cleanup = async () => {
    ready = false;
    stopGc();
    for (const t of timers) clearInterval(t);
    queryTargets.stop();
    amTargets.stop();
    await manager.stop().catch((e) => log.error("stopping the rules manager", { err: errorMessage(e) }));
    stopCtl.abort();
    await Promise.all(queues.map((q) => q.stop(10_000)));
    await Promise.all(listeners.map((l) => l.close().catch(() => {})));
    if (db) await db.close().catch((e) => log.error("closing the TSDB", { err: errorMessage(e) }));
  };

  try {
    const app = ruleHttpApp({
      manager, registry: reg, services, token, flags: cfg.flags,
      ready: () => ready,
      reload,
    });
    const http: Listening = await listenWeb(withRoutePrefix(app.fetch, cfg.routePrefix, ""), cfg.http.hostname, cfg.http.port, cfg.parsed.get("http.config"), log);
    listeners.push(http);
    log.info("listening for HTTP", { address: `${cfg.http.hostname}:${http.port}` });

    try {
      await reload();
    } catch (e) {
      // Thanos: the first load failing stops the ruler.
      if (e instanceof RulesLoadError || errorMessage(e).startsWith("reloading rules failed")) throw new CodedError("bad_data", `initialize rules failed: ${errorMessage(e)}`);
      log.error("rule files", { err: errorMessage(e) });
    }
    manager.start();
    void runSendLoop(queue, sender, stopCtl.signal);
    const pacer = await startGcPacer();
    stopGc = () => pacer.stop();

    if (db && cfg.objstore) {
      const bucket = await bucketFromFlags(cfg.parsed, "rule");
      if (bucket) {
        if (cfg.labels.length === 0) log.warn("shipping blocks without --label: blocks of different rulers cannot be told apart in the bucket");
        const sh = new Shipper({ dir: cfg.dataDir, bucket, externalLabels: () => cfg.labels, source: "ruler", uploadCompacted: cfg.uploadCompacted, log: log.with({ subcomponent: "shipper" }), registry: reg });
        const sync = async () => {
          try {
            const r = await sh.sync();
            if (r.uploaded || r.failed) log.info("shipper sync", { uploaded: r.uploaded, failed: r.failed });
          } catch (e) {
            log.warn("shipper sync failed", { err: errorMessage(e) });
          }
        };
        db.onBlock(() => sync());
        void sync();
        timers.push(setInterval(sync, 30_000));
        log.info("shipping blocks", { bucket: bucket.name, labels: labelsString(cfg.labels) });
      }
    } else if (!db && cfg.objstore) {
      log.warn("--objstore.config-file has no effect in stateless mode (no local blocks)");
    } else {
      log.info("no supported bucket was configured, uploads will be disabled");
    }

    const grpc: GrpcServer = await startGrpcServer(services, { host: cfg.grpc.hostname, port: cfg.grpc.port, token, tls: serverTlsFromFlags(cfg.parsed), log });
    listeners.push(grpc);
    log.info("listening for gRPC", { address: grpc.address });
    ready = true;
    log.info("starting rule node", { labels: labelsString(cfg.labels), stateless });

    process.on("SIGHUP", () => {
      reload().then(() => log.info("rules reloaded (SIGHUP)")).catch((e) => log.error("reload rules by sighup failed", { err: errorMessage(e) }));
    });
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => { log.info("shutting down", { signal: sig }); resolve(); };
      process.once("SIGTERM", () => stop("SIGTERM"));
      process.once("SIGINT", () => stop("SIGINT"));
    });
  } finally {
    await cleanup();
  }
  return 0;
}
