// `bun run agent compact …`: Thanos' compactor. Parses Thanos' flags, builds the bucket, the data
// directory and the metrics, and runs shared/compact/compactor.ts: once by default, or with --wait every
// --wait-interval while serving /metrics, /-/healthy and /-/ready on --http-address.

import { join } from "node:path";
import { Hono } from "hono";
import { errorMessage } from "../../shared/encoding/errors.ts";
import { goDuration } from "../../shared/encoding/gotext.ts";
import { gatherNoCompactMarks, gatherNoDownsampleMarks, ignoreDeletionMarkFilter, parseSelectorRelabelConfig } from "../../shared/block/fetcher.ts";
import type { LogFn } from "../../shared/block/log.ts";
import { markBlockLogged } from "../../shared/block/markers.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { blocksApp } from "../../shared/ui/blocks/app.ts";
import { type BlocksView, GlobalBlocks } from "../../shared/ui/blocks/api.ts";
import { checkRetention, Compactor, DEFAULT_CONFIG, runCompactor, type CompactorConfig } from "../../shared/compact/compactor.ts";
import { compactionRanges } from "../../shared/compact/planner.ts";
import { withRetries } from "../../shared/objstore/retry.ts";
import { FlagError, type FlagSpec, flagsHelp, flagsMap, nonNegInt, parseAddress, parseDurationMs, parseFlags, parseTimeOrDuration, pathOrContent, type ParsedFlags } from "../flags.ts";
import { HTTP_FLAGS, WEB_FLAGS } from "../http.ts";
import { HTTP_CONFIG_FLAG } from "../tls/flags.ts";
import { listenWeb } from "../web/listen.ts";
import { routePrefix, withRoutePrefix } from "../prefix.ts";
import { newLogger, parseLevel } from "../log.ts";
import { CONTENT_TYPE, Registry } from "../metrics.ts";
import { bucketFromFlags, OBJSTORE_FLAGS } from "../objstore/factory.ts";
import { compactorMetrics, runtimeGc } from "./metrics.ts";
import { DiskMetaCache, DiskWorkspace } from "./workspace.ts";

export const COMPACT_FLAGS: FlagSpec[] = [
  { name: "data-dir", help: "Data directory in which to cache blocks and process compactions.", default: "./data" },
  ...OBJSTORE_FLAGS,
  ...HTTP_FLAGS,
  HTTP_CONFIG_FLAG,
  { name: "wait", short: "w", boolean: true, help: "Do not exit after all compactions have been processed and wait for new work." },
  { name: "wait-interval", help: "Wait interval between consecutive compaction runs and bucket refreshes. Only works when --wait flag specified.", default: "5m" },
  { name: "consistency-delay", help: "Minimum age of fresh (non-compacted) blocks before they are being processed. Malformed blocks older than the maximum of consistency-delay and 48h0m0s will be removed.", default: "30m" },
  { name: "delete-delay", help: "Time before a block marked for deletion is deleted from bucket. If delete-delay is 0, blocks are deleted straight away.", default: "48h" },
  { name: "retention.resolution-raw", help: "How long to retain raw samples in bucket. Setting this to 0d will retain samples of this resolution forever", default: "0d" },
  { name: "retention.resolution-5m", help: "How long to retain samples of resolution 1 (5 minutes) in bucket. Setting this to 0d will retain samples of this resolution forever", default: "0d" },
  { name: "retention.resolution-1h", help: "How long to retain samples of resolution 2 (1 hour) in bucket. Setting this to 0d will retain samples of this resolution forever", default: "0d" },
  { name: "downsampling.disable", boolean: true, help: "Disables downsampling. This is not recommended as querying long time ranges without non-downsampled data is not efficient." },
  { name: "downsample.concurrency", help: "Number of goroutines to use when downsampling blocks.", default: "1" },
  { name: "block-discovery-strategy", help: "One of concurrent, recursive (both list the bucket root and read each block's meta.json here).", default: "concurrent" },
  { name: "block-meta-fetch-concurrency", help: "Number of goroutines to use when fetching block metadata from object storage.", default: "32" },
  { name: "block-files-concurrency", help: "Number of goroutines to use when fetching/uploading block files from object storage.", default: "1" },
  { name: "compact.cleanup-interval", help: "How often we should clean up partially uploaded blocks and blocks with deletion mark in the background when --wait has been enabled. 0s disables it.", default: "5m" },
  { name: "compact.progress-interval", help: "Frequency of calculating the compaction progress in the background when --wait has been enabled. 0s disables it.", default: "5m" },
  { name: "compact.concurrency", help: "Number of goroutines to use when compacting groups.", default: "1" },
  { name: "compact.blocks-fetch-concurrency", help: "Number of goroutines to use when download block during compaction.", default: "1" },
  { name: "deduplication.replica-label", repeatable: true, help: "Label to treat as a replica indicator of blocks that can be deduplicated (repeated flag or comma separated). This process is irreversible." },
  { name: "deduplication.func", help: "Deduplication algorithm for merging overlapping blocks: \"\" (1:1 deduplication of samples) or penalty (needs a replica label).", default: "" },
  { name: "min-time", help: "Start of time range limit to compact: RFC3339 or a duration relative to now (e.g. -1d).", default: "0000-01-01T00:00:00Z" },
  { name: "max-time", help: "End of time range limit to compact: RFC3339 or a duration relative to now.", default: "9999-12-31T23:59:59Z" },
  { name: "selector.relabel-config-file", help: "Path to YAML file with relabeling configuration that allows selecting blocks (keep, drop, hashmod)." },
  { name: "selector.relabel-config", help: "Alternative to 'selector.relabel-config-file' flag (mutually exclusive): the YAML itself." },
  { name: "hash-func", help: "Hash function for the files of produced blocks: \"\" (none) or SHA256 (lets a later download skip files it already has).", default: "" },
  { name: "web.disable", boolean: true, help: "Disable Block Viewer UI." },
  ...WEB_FLAGS,
  { name: "bucket-web-label", help: "External block label to use as group title in the bucket web UI" },
  { name: "block-viewer.global.sync-block-interval", help: "Repeat interval for syncing the blocks between local and remote view for /global Block Viewer UI.", default: "1m" },
  { name: "block-viewer.global.sync-block-timeout", help: "Maximum time for syncing the blocks between local and remote view for /global Block Viewer UI.", default: "5m" },
  { name: "log.level", help: "Log filtering level: debug, info, warn, error.", default: "info" },
  { name: "log.format", help: "Log format to use (logfmt).", default: "logfmt" },
  // Hidden in Thanos.
  { name: "debug.halt-on-error", boolean: true, hidden: true, help: "Halt the process if a critical compaction error is detected.", default: "true" },
  { name: "debug.accept-malformed-index", boolean: true, hidden: true, help: "Compaction and downsampling index verification will ignore out of order label names." },
  { name: "debug.max-compaction-level", hidden: true, help: "Maximum compaction level, default is 4: 0=1h, 1=2h, 2=8h, 3=48h, 4=336h", default: "4" },
  { name: "compact.enable-vertical-compaction", boolean: true, hidden: true, help: "Allow overlaps and perform irreversible vertical compaction (forced on by --deduplication.replica-label)." },
  { name: "compact.block-max-index-size", hidden: true, help: "Maximum index size for the resulted block during any compaction (the largest input is marked no-compact beyond).", default: "64GB" },
  { name: "compact.skip-block-with-out-of-order-chunks", boolean: true, hidden: true, help: "Mark blocks containing index with out-of-order chunks for no compact instead of halting the compaction." },
];

const HELP = `usage: bun run agent compact [flags]

Compacts, deduplicates, downsamples and applies retention to the blocks of an object store bucket, as
Thanos' compactor does. Runs once, or keeps running with --wait.

flags:
${flagsHelp(COMPACT_FLAGS)}`;

function posInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new FlagError(`--${flag}: ${JSON.stringify(v)} is not a positive integer`);
  return n;
}

/** alecthomas/units Base2Bytes as kingpin parses it: KB, MB, GB… are powers of 1024. */
export function parseBase2Bytes(flag: string, s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB|PB|PiB)?$/i.exec(s.trim());
  if (!m) throw new FlagError(`--${flag}: ${JSON.stringify(s)} is not a size such as 64GB`);
  const exp: Record<string, number> = { b: 0, kb: 1, kib: 1, mb: 2, mib: 2, gb: 3, gib: 3, tb: 4, tib: 4, pb: 5, pib: 5 };
  return Math.floor(Number(m[1]) * 1024 ** exp[(m[2] ?? "B").toLowerCase()]!);
}

/**
 * The blocks page (shared/ui/blocks/) on the compactor's --http-address, as Thanos' compactor serves its
 * block viewer: `/blocks` the whole bucket (synced every --block-viewer.global.sync-block-interval, with
 * marks), `/loaded` the compactor's own view after its filters (its last sync).
 */
function mountBlocksPage(app: Hono, ctx: { compactor: Compactor; bucket: Bucket; flags: ParsedFlags; log: LogFn; signal: AbortSignal }): void {
  const f = ctx.flags;
  const global = new GlobalBlocks(ctx.bucket, [ignoreDeletionMarkFilter(Number.POSITIVE_INFINITY), gatherNoCompactMarks(), gatherNoDownsampleMarks()]);
  const c = ctx.compactor;
  const loaded = (): BlocksView => ({
    blocks: [...c.metas.values()], deletionMarks: c.deletionMarks, noCompactMarks: c.noCompact, noDownsampleMarks: c.noDownsample,
    partial: [...c.partial.keys()], refreshedAt: c.lastSyncAt, err: c.halted ? `halted: ${errorMessage(c.halted)}` : null,
  });
  const page = blocksApp({
    title: "thanots compactor",
    label: f.get("bucket-web-label") ?? "",
    flags: flagsMap(COMPACT_FLAGS, f),
    disableAdminOperations: f.bool("disable-admin-operations"),
    views: { global: () => global.view(), loaded },
    ranges: c.cfg.ranges,
    replicaLabels: c.cfg.replicaLabels,
    mark: async (id, kind, detail) => {
      await markBlockLogged(ctx.bucket, id, kind, { details: detail }, ctx.log);
      await global.refresh().catch(() => {});
    },
  });
  app.route("/", page);
  void global.run({
    intervalMs: parseDurationMs("block-viewer.global.sync-block-interval", f.get("block-viewer.global.sync-block-interval")!),
    timeoutMs: parseDurationMs("block-viewer.global.sync-block-timeout", f.get("block-viewer.global.sync-block-timeout")!),
    signal: ctx.signal, log: ctx.log,
  });
}

export interface ParsedCompactFlags {
  cfg: CompactorConfig;
  dataDir: string;
  wait: boolean;
  waitIntervalMs: number;
  cleanupIntervalMs: number;
  progressIntervalMs: number;
  haltOnError: boolean;
  http: { hostname: string; port: number };
  webDisabled: boolean;
  routePrefix: string;
  logLevel: ReturnType<typeof parseLevel>;
}

export async function parseCompactFlags(argv: string[]): Promise<{ f: ReturnType<typeof parseFlags>; p: ParsedCompactFlags }> {
  const f = parseFlags("compact", COMPACT_FLAGS, argv);
  if (f.positionals.length) throw new FlagError(`compact: unexpected argument ${JSON.stringify(f.positionals[0])}`);
  let logLevel;
  try { logLevel = parseLevel(f.get("log.level")!); } catch (e) { throw new FlagError(`--log.level: ${errorMessage(e)}`); }
  if (f.get("log.format") !== "logfmt") throw new FlagError(`--log.format: only logfmt is supported, got ${JSON.stringify(f.get("log.format"))}`);
  const dedupFunc = f.get("deduplication.func")!;
  if (dedupFunc !== "" && dedupFunc !== "penalty") throw new FlagError(`--deduplication.func: enum value must be one of penalty,, got '${dedupFunc}'`);
  const hashFunc = f.get("hash-func")!;
  if (hashFunc !== "" && hashFunc !== "SHA256") throw new FlagError(`--hash-func: enum value must be one of SHA256,, got '${hashFunc}'`);
  const strategy = f.get("block-discovery-strategy")!;
  if (strategy !== "concurrent" && strategy !== "recursive") throw new FlagError(`--block-discovery-strategy: unknown sync strategy ${strategy}`);
  const replicaLabels = f.all("deduplication.replica-label").flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean);
  const sel = await pathOrContent(f, "selector.relabel-config");
  const relabel = parseSelectorRelabelConfig(sel.text, sel.what);
  let ranges: number[];
  try { ranges = compactionRanges(nonNegInt("debug.max-compaction-level", f.get("debug.max-compaction-level")!)); } catch (e) { throw new FlagError(`get compaction levels: ${errorMessage(e)}`); }
  const retention = {
    raw: parseDurationMs("retention.resolution-raw", f.get("retention.resolution-raw")!),
    fiveMin: parseDurationMs("retention.resolution-5m", f.get("retention.resolution-5m")!),
    oneHour: parseDurationMs("retention.resolution-1h", f.get("retention.resolution-1h")!),
  };
  const downsamplingDisabled = f.bool("downsampling.disable");
  const bad = checkRetention(retention, downsamplingDisabled);
  if (bad) throw new FlagError(bad);
  const cfg: CompactorConfig = {
    ...DEFAULT_CONFIG,
    ranges,
    consistencyDelayMs: parseDurationMs("consistency-delay", f.get("consistency-delay")!),
    deleteDelayMs: parseDurationMs("delete-delay", f.get("delete-delay")!),
    retention,
    downsamplingDisabled,
    downsampleConcurrency: posInt("downsample.concurrency", f.get("downsample.concurrency")!),
    compactConcurrency: posInt("compact.concurrency", f.get("compact.concurrency")!),
    blocksFetchConcurrency: posInt("compact.blocks-fetch-concurrency", f.get("compact.blocks-fetch-concurrency")!),
    blockFilesConcurrency: posInt("block-files-concurrency", f.get("block-files-concurrency")!),
    blockMetaFetchConcurrency: posInt("block-meta-fetch-concurrency", f.get("block-meta-fetch-concurrency")!),
    replicaLabels,
    dedupFunc: dedupFunc as "" | "penalty",
    verticalCompaction: f.bool("compact.enable-vertical-compaction"),
    minTime: parseTimeOrDuration("min-time", f.get("min-time")!),
    maxTime: parseTimeOrDuration("max-time", f.get("max-time")!),
    relabel,
    hashFunc: hashFunc as "" | "SHA256",
    maxIndexBytes: parseBase2Bytes("compact.block-max-index-size", f.get("compact.block-max-index-size")!),
    acceptMalformedIndex: f.bool("debug.accept-malformed-index"),
    skipBlocksWithOutOfOrderChunks: f.bool("compact.skip-block-with-out-of-order-chunks"),
  };
  if (cfg.dedupFunc === "penalty" && replicaLabels.length === 0) throw new FlagError("penalty based deduplication needs at least one replica label specified");
  return {
    f,
    p: {
      cfg,
      dataDir: f.get("data-dir")!,
      wait: f.bool("wait"),
      waitIntervalMs: parseDurationMs("wait-interval", f.get("wait-interval")!),
      cleanupIntervalMs: parseDurationMs("compact.cleanup-interval", f.get("compact.cleanup-interval")!),
      progressIntervalMs: parseDurationMs("compact.progress-interval", f.get("compact.progress-interval")!),
      haltOnError: f.bool("debug.halt-on-error"),
      http: parseAddress("http-address", f.get("http-address")!),
      webDisabled: f.bool("web.disable"),
      routePrefix: routePrefix(f.get("web.route-prefix"), f.get("web.external-prefix")),
      logLevel,
    },
  };
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) { console.log(HELP); return 0; }
  const { f, p } = await parseCompactFlags(argv);
  const logger = newLogger({ level: p.logLevel }).with({ component: "compact" });
  const log = (lv: "debug" | "info" | "warn" | "error", msg: string, kv?: Record<string, unknown>) => logger[lv](msg, kv as Record<string, string>);
  const configured = await bucketFromFlags(f, "compact");
  if (!configured) throw new FlagError("compact: --objstore.config-file or --objstore.config is required");
  // Transient bucket failures are retried per request (as Thanos' objstore clients do); what still
  // fails becomes a retry error of the iteration.
  const bucket = withRetries(configured, {
    onRetry: (what, attempt, err, delay) => log("debug", "retrying bucket request", { what, attempt, delay_ms: delay, err: errorMessage(err) }),
  });
  if (p.cfg.replicaLabels.length > 0) log("info", "deduplication.replica-label specified, enabling vertical compaction", { dedupReplicaLabels: p.cfg.replicaLabels.join(",") });
  if (p.cfg.verticalCompaction || p.cfg.replicaLabels.length > 0) log("info", "vertical compaction is enabled", { "compact.enable-vertical-compaction": String(p.cfg.verticalCompaction) });
  if (p.cfg.ranges.length < 5) log("warn", "Max compaction level is lower than should be", { current: p.cfg.ranges.length - 1, default: 4 });
  for (const [k, v] of [["raw samples", p.cfg.retention.raw], ["5 min aggregated samples", p.cfg.retention.fiveMin], ["1 hour aggregated samples", p.cfg.retention.oneHour]] as const) {
    if (v > 0) log("info", `retention policy of ${k} is enabled`, { duration: goDuration(v) });
  }

  const reg = new Registry();
  const metrics = compactorMetrics(reg, p.cfg.deleteDelayMs, p.cfg.consistencyDelayMs);
  const collect = runtimeGc();
  const compactor = new Compactor(p.cfg, {
    bkt: bucket, ws: new DiskWorkspace(p.dataDir, collect), log, metrics,
    metaCache: new DiskMetaCache(join(p.dataDir, "meta-syncer")),
    collect,
  });

  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  let http: { close(): Promise<void> } | null = null;
  try {
    if (p.wait) {
      let ready = false;
      const app = new Hono();
      app.get("/metrics", (c) => c.body(reg.render(), 200, { "Content-Type": CONTENT_TYPE }));
      app.get("/-/healthy", (c) => c.text("OK\n"));
      app.get("/-/ready", (c) => (ready ? c.text("OK\n") : c.text("not ready\n", 503)));
      if (!p.webDisabled) mountBlocksPage(app, { compactor, bucket, flags: f, log, signal: ac.signal });
      const srv = await listenWeb(withRoutePrefix(app.fetch, p.routePrefix, ""), p.http.hostname, p.http.port, f.get("http.config"), logger);
      http = srv;
      log("info", "listening for requests and metrics", { address: `${p.http.hostname}:${srv.port}` });
      ready = true;
    }
    log("info", "starting compact node");
    await runCompactor(compactor, {
      wait: p.wait, waitIntervalMs: p.waitIntervalMs, haltOnError: p.haltOnError, signal: ac.signal,
      cleanupIntervalMs: p.cleanupIntervalMs, progressIntervalMs: p.progressIntervalMs,
    }, { log, metrics });
    return 0;
  } catch (e) {
    log("error", "compaction failed", { err: errorMessage(e) });
    return 1;
  } finally {
    ac.abort(); // ends the blocks page's refresh loop too
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await http?.close();
  }
}
