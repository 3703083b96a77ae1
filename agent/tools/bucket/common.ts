// What every `tools bucket <command>` shares: Thanos' common flags (objstore, logging), the flag
// parsing with --help, the logfmt logger, the bucket, and a metadata sync that logs as Thanos' block
// fetcher does ("successfully synchronized block metadata … cached=N returned=N partial=N").

import { tmpdir } from "node:os";
import { join } from "node:path";
import { Compactor, DEFAULT_CONFIG, type CompactorConfig } from "../../../shared/compact/compactor.ts";
import { errorMessage } from "../../../shared/encoding/errors.ts";
import { goDuration } from "../../../shared/encoding/gotext.ts";
import { type FetchResult, MetaFetcher, type MetaFilter, parseSelectorRelabelConfig, syncedLogFields } from "../../../shared/block/fetcher.ts";
import type { LogFn } from "../../../shared/block/log.ts";
import type { RelabelConfig } from "../../../shared/labels/relabel.ts";
import type { Bucket } from "../../../shared/objstore/bucket.ts";
import { Hono } from "hono";
import { FlagError, flagsHelp, parseAddress, parseFlags, pathOrContent, type FlagSpec, type ParsedFlags } from "../../flags.ts";
import { listenWeb } from "../../web/listen.ts";
import { withRoutePrefix } from "../../prefix.ts";
import { PROGRAM } from "../../program.ts";
import { newLogger, parseLevel, type Logger } from "../../log.ts";
import { compactorMetrics, runtimeGc } from "../../compact/metrics.ts";
import { DiskWorkspace } from "../../compact/workspace.ts";
import { CONTENT_TYPE, Registry } from "../../metrics.ts";
import { bucketFromFlags, OBJSTORE_FLAGS } from "../../objstore/factory.ts";

export const COMMON_FLAGS: FlagSpec[] = [
  ...OBJSTORE_FLAGS,
  { name: "log.level", help: "Log filtering level: debug, info, warn, error.", default: "info" },
  { name: "log.format", help: "Log format to use (logfmt).", default: "logfmt" },
  { name: "help", short: "h", boolean: true, help: "Show this help." },
];

export const SELECTOR_FLAGS: FlagSpec[] = [
  { name: "selector.relabel-config-file", help: "Path to YAML file with relabeling configuration that allows selecting blocks to act on based on their external labels (keep, drop, hashmod). It follows thanos sharding relabel-config syntax." },
  { name: "selector.relabel-config", help: "Alternative to 'selector.relabel-config-file' flag (mutually exclusive): the YAML itself." },
];

/** The sync flags Thanos' cleanup and retention share. */
export const SYNC_FLAGS: FlagSpec[] = [
  { name: "delete-delay", help: "Time before a block marked for deletion is deleted from bucket.", default: "48h" },
  { name: "consistency-delay", help: "Minimum age of fresh (non-compacted) blocks before they are being processed. Malformed blocks older than the maximum of consistency-delay and 48h0m0s will be removed.", default: "30m" },
  { name: "block-sync-concurrency", help: "Number of goroutines to use when syncing block metadata from object storage.", default: "20" },
];

const CONTEXT_KEYS = ["component", "verifiers", "verifier"];

export interface Tool {
  f: ParsedFlags;
  bkt: Bucket;
  logger: Logger;
  log: LogFn;
}

/** Parse the flags (printing --help), make the logger and the bucket. Returns null after --help. */
export async function setupTool(name: string, summary: string, specs: FlagSpec[], argv: string[]): Promise<Tool | null> {
  const all = [...specs, ...COMMON_FLAGS];
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(`usage: ${PROGRAM} tools bucket ${name} [flags]\n\n${summary}\n\nflags:\n${flagsHelp(all)}`);
    return null;
  }
  const f = parseFlags(`tools bucket ${name}`, all, argv);
  if (f.positionals.length) throw new FlagError(`tools bucket ${name}: unexpected argument ${JSON.stringify(f.positionals[0])}`);
  let level;
  try { level = parseLevel(f.get("log.level")!); } catch (e) { throw new FlagError(`--log.level: ${errorMessage(e)}`); }
  if (f.get("log.format") !== "logfmt") throw new FlagError(`--log.format: only logfmt is supported, got ${JSON.stringify(f.get("log.format"))}`);
  const logger = newLogger({ level });
  // Fields Thanos puts in the logger's context come before msg, as in its lines.
  const log: LogFn = (lv, msg, kv) => {
    if (!kv || !CONTEXT_KEYS.some((k) => k in kv)) return logger[lv](msg, kv as Record<string, string>);
    const ctx: Record<string, string> = {}, rest: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(kv)) (CONTEXT_KEYS.includes(k) ? ctx : rest)[k] = v as string;
    logger.with(ctx)[lv](msg, rest as Record<string, string>);
  };
  log("info", "loading bucket configuration");
  const bkt = await bucketFromFlags(f, `tools bucket ${name}`);
  if (!bkt) throw new FlagError(`tools bucket ${name}: --objstore.config-file or --objstore.config is required`);
  return { f, bkt, logger, log };
}

/** --selector.relabel-config[-file] parsed as Thanos does (keep, drop, hashmod). */
export async function selectorRelabel(f: ParsedFlags): Promise<RelabelConfig[]> {
  const { text, what } = await pathOrContent(f, "selector.relabel-config");
  return parseSelectorRelabelConfig(text, what);
}

/**
 * One metadata sync through `filters`, logged as Thanos' BaseFetcher logs it. A meta.json that could not
 * be read (the bucket failed) fails the sync ("incomplete view"), as in Thanos.
 */
export async function syncMetas(t: Tool, filters: MetaFilter[], o: { concurrency?: number; timeoutMs?: number; indexMaxStaleMs?: number } = {}): Promise<FetchResult> {
  const t0 = performance.now();
  const fetch = new MetaFetcher(t.bkt, { filters, concurrency: o.concurrency ?? 32, indexMaxStaleMs: o.indexMaxStaleMs }).fetch();
  const r = o.timeoutMs ? await withTimeout(fetch, o.timeoutMs, "sync block metadata") : await fetch;
  for (const p of r.problems) t.log("warn", "block metadata", { problem: p });
  if (r.incomplete.length > 0) throw new Error(`incomplete view: meta.json of ${r.incomplete.length} blocks could not be read: ${r.problems.join("; ")}`);
  const ms = performance.now() - t0;
  t.logger.with({ component: "block.BaseFetcher" }).info("successfully synchronized block metadata", syncedLogFields(r, Math.round(ms), Math.floor(ms)));
  return r;
}

/** `p`, or an error naming `what` after `ms` (Thanos' --timeout: "context deadline exceeded"). */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: context deadline exceeded (--timeout ${goDuration(ms)})`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Thanos logs "exiting" when a command ends well. */
export function done(t: Tool): number {
  t.log("info", "exiting");
  return 0;
}

/**
 * The compactor's machinery for a tool that does one of its steps (cleanup, retention, downsampling)
 * with the filters Thanos gives that tool. Metrics go to `reg` (served only by the downsampler).
 */
export function toolCompactor(t: Tool, cfg: Partial<CompactorConfig>, filters: MetaFilter[], o: { dataDir?: string; reg?: Registry } = {}): Compactor {
  const full = { ...DEFAULT_CONFIG, ...cfg };
  const collect = runtimeGc();
  return new Compactor(full, {
    bkt: t.bkt, log: t.log, filters, collect,
    ws: new DiskWorkspace(o.dataDir ?? join(tmpdir(), "thanots-bucket-tool"), collect),
    metrics: compactorMetrics(o.reg ?? new Registry(), full.deleteDelayMs, full.consistencyDelayMs),
  });
}

/**
 * Serve `app` (under the route `prefix`) plus /metrics (of `reg`), /-/healthy and /-/ready on
 * --http-address while `work` runs (given a signal that SIGTERM or SIGINT aborts); for the long-running
 * tools (downsample, web).
 */
export async function serveWhile(t: Tool, app: Hono, reg: Registry, work: (signal: AbortSignal) => Promise<void>, prefix = ""): Promise<number> {
  const http = parseAddress("http-address", t.f.get("http-address")!);
  let ready = false;
  const root = new Hono();
  root.get("/metrics", (c) => c.body(reg.render(), 200, { "Content-Type": CONTENT_TYPE }));
  root.get("/-/healthy", (c) => c.text("OK\n"));
  root.get("/-/ready", (c) => (ready ? c.text("OK\n") : c.text("not ready\n", 503)));
  root.route("/", app);
  const srv = await listenWeb(withRoutePrefix(root.fetch, prefix, ""), http.hostname, http.port, t.f.get("http.config"), t.logger);
  t.log("info", "listening for requests and metrics", { address: `${http.hostname}:${srv.port}` });
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  ready = true;
  try {
    await work(ac.signal);
  } finally {
    ac.abort();
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await srv.close();
  }
  return done(t);
}
