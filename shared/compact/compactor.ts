// The bucket compactor: Thanos' `compact` main loop (cmd/thanos/compact.go compactMainFn, pkg/compact
// BucketCompactor, Group.compact, downsampleBucket), over a Bucket and a Workspace.
//
// One iteration:
//   1. compaction, repeated until no group asks for a rerun:
//        sync metas -> delete blocks marked longer ago than --delete-delay -> mark duplicates (blocks whose
//        sources another block covers) for deletion -> groups -> each group with >= 2 blocks on
//        --compact.concurrency workers: plan, download, check, compact, upload, mark the inputs;
//   2. downsampling, two passes (the second makes 1h blocks from 5m blocks the first pass made);
//   3. retention marks;
//   4. aborted partial uploads deleted.
// Retention runs only when compaction and downsampling succeeded, as in Thanos.
//
// Bucket protocol, so a crash at any point leaves nothing half-done visible: a new block is uploaded
// chunks -> index -> meta.json last; only then are its inputs marked for deletion; a marked block is
// deleted after --delete-delay, meta.json first and the mark last. A crash between upload and marking is
// repaired by the deduplicate filter (the inputs' sources are covered by the new block) and garbage
// collection. Every change also goes into the bucket index (docs/bucket-index.md).

import { errorCode, errorMessage } from "../encoding/errors.ts";
import type { Bucket } from "../objstore/bucket.ts";
import { uploadBlock, META_FILE } from "../objstore/block.ts";
import { rebuildBucketIndex, updateBucketIndex, type UpdateBucketIndexOptions } from "../block/bucketindex.ts";
import {
  consistencyDelayFilter, deduplicateFilter, gatherNoCompactMarks, gatherNoDownsampleMarks, ignoreDeletionMarkFilter, labelShardFilter,
  MetaFetcher, type MetaCache, type MetaFilter, replicaLabelRemover, syncedLogFields, timePartitionFilter,
} from "../block/fetcher.ts";
import { anyHealthError, criticalError, type HealthStats, indexHealthStats, indexStatsOf, issue347Error, outOfOrderChunksError, outOfOrderLabelsError } from "../block/health.ts";
import { overlappingBlocks, overlapsString } from "../block/overlaps.ts";
import { type DeletionMark, markBlockLogged, type MarkerKind, MARKER_FILES, type NoCompactMark, type NoDownsampleMark } from "../block/markers.ts";
import type { RelabelConfig } from "../labels/relabel.ts";
import { encodeBlockMeta, type BlockMeta, type ThanosMeta } from "../tsdb/meta.ts";
import { newUlid } from "../tsdb/ulid.ts";
import { compactBlocks } from "./blocks.ts";
import { applyRetention, cleanAbortedPartialUploads, deleteMarkedBlocks, type Retention } from "./clean.ts";
import { downsampleBlock } from "./downsample.ts";
import { combineErrors, haltError, isHaltError, isRetryError, retryError, wrapError } from "./errors.ts";
import { byMinTime, groupBlocks, labelsRecord, type Group } from "./group.ts";
import type { LogFn } from "../block/log.ts";
import { type MergeMode } from "./merge.ts";
import type { CompactorMetrics } from "./metrics.ts";
import { newPlanner, type Planner } from "./planner.ts";
import { compactionBacklog, downsampleBacklog, downsampleJobs, retentionBacklog } from "./progress.ts";
import type { HashFunc, LocalBlock, Workspace } from "./workspace.ts";

export interface CompactorConfig {
  /** Compaction ranges (Thanos levels, ms): compactionRanges(--debug.max-compaction-level). */
  ranges: number[];
  consistencyDelayMs: number;
  deleteDelayMs: number;
  retention: Retention;
  downsamplingDisabled: boolean;
  downsampleConcurrency: number;
  compactConcurrency: number;
  blocksFetchConcurrency: number;
  blockFilesConcurrency: number;
  blockMetaFetchConcurrency: number;
  replicaLabels: string[];
  /** "" (Prometheus' compacting merge) or "penalty". */
  dedupFunc: "" | "penalty";
  /** --compact.enable-vertical-compaction; forced on by replica labels. */
  verticalCompaction: boolean;
  minTime: number;
  maxTime: number;
  relabel: RelabelConfig[];
  hashFunc: HashFunc;
  maxIndexBytes: number;
  acceptMalformedIndex: boolean;
  skipBlocksWithOutOfOrderChunks: boolean;
  /** Update bucket-index.json after every change (default true). */
  bucketIndex?: boolean;
  /** Pause before verifying a bucket index write (tests: 0). */
  bucketIndexVerifyDelayMs?: number;
}

/** Thanos' --min-time / --max-time defaults (0000-01-01T00:00:00Z, 9999-12-31T23:59:59Z). */
export const THANOS_MIN_TIME = -62167219200000;
export const THANOS_MAX_TIME = 253402300799000;

export const DEFAULT_CONFIG: CompactorConfig = {
  ranges: [1, 2, 8, 48, 336].map((h) => h * 3600e3),
  consistencyDelayMs: 30 * 60e3,
  deleteDelayMs: 48 * 3600e3,
  retention: { raw: 0, fiveMin: 0, oneHour: 0 },
  downsamplingDisabled: false,
  downsampleConcurrency: 1,
  compactConcurrency: 1,
  blocksFetchConcurrency: 1,
  blockFilesConcurrency: 1,
  blockMetaFetchConcurrency: 32,
  replicaLabels: [],
  dedupFunc: "",
  verticalCompaction: false,
  minTime: THANOS_MIN_TIME,
  maxTime: THANOS_MAX_TIME,
  relabel: [],
  hashFunc: "",
  maxIndexBytes: 64 * 1024 ** 3,
  acceptMalformedIndex: false,
  skipBlocksWithOutOfOrderChunks: false,
};

export interface CompactorDeps {
  bkt: Bucket;
  ws: Workspace;
  log: LogFn;
  metrics: CompactorMetrics;
  /** Disk cache of meta.json files (<data-dir>/meta-syncer). */
  metaCache?: MetaCache;
  now?: () => number;
  /** A full garbage collection of the runtime, run every few thousand series of a compaction (see CompactOptions.collect). */
  collect?: () => void;
  /**
   * Meta filters instead of the compactor's (the bucket tools reuse the compactor's steps with the
   * filters Thanos gives them: cleanup, retention, the standalone downsampler).
   */
  filters?: MetaFilter[];
}

/** Thanos' startup checks of --retention.* against downsampling. Returns an error message or null. */
export function checkRetention(r: Retention, downsamplingDisabled: boolean): string | null {
  if (r.raw !== 0 && !downsamplingDisabled && r.raw < 40 * 3600e3) {
    return "raw resolution must be higher than the minimum block size after which 5m resolution downsampling will occur (40 hours)";
  }
  if (r.fiveMin !== 0 && !downsamplingDisabled && r.fiveMin < 10 * 86400e3) {
    return "5m resolution retention must be higher than the minimum block size after which 1h resolution downsampling will occur (10 days)";
  }
  return null;
}

/** Ordered like Go's metadata.Thanos struct, the way Thanos writes meta.json. */
function orderThanos(t: ThanosMeta): ThanosMeta {
  const keys = ["version", "labels", "downsample", "source", "segment_files", "files", "rewrites", "index_stats", "extensions", "upload_time"];
  const o: Record<string, unknown> = {};
  for (const k of keys) if (t[k] !== undefined) o[k] = t[k];
  for (const k of Object.keys(t)) if (!(k in o) && t[k] !== undefined) o[k] = t[k];
  return o as ThanosMeta;
}

export class Compactor {
  readonly cfg: CompactorConfig;
  private readonly fetcher: MetaFetcher;
  private readonly now: () => number;
  /** The last sync's view. */
  metas = new Map<string, BlockMeta>();
  partial = new Map<string, string>();
  deletionMarks = new Map<string, DeletionMark>();
  noCompact = new Map<string, NoCompactMark>();
  noDownsample = new Map<string, NoDownsampleMark>();
  private duplicates: string[] = [];
  private readonly planner: Planner;
  readonly merge: MergeMode;
  private readonly vertical: boolean;
  /** Set when a halt error happened (the caller decides to halt or exit). */
  halted: Error | null = null;
  /** When the last successful sync finished (ms), or null. */
  lastSyncAt: number | null = null;

  constructor(cfg: Partial<CompactorConfig>, private readonly d: CompactorDeps) {
    this.cfg = { ...DEFAULT_CONFIG, ...cfg };
    this.now = d.now ?? Date.now;
    this.vertical = this.cfg.verticalCompaction || this.cfg.replicaLabels.length > 0;
    if (this.cfg.dedupFunc === "penalty" && this.cfg.replicaLabels.length === 0) {
      throw new Error("penalty based deduplication needs at least one replica label specified");
    }
    this.merge = this.cfg.dedupFunc === "penalty" ? "penalty" : "compact";
    const filters: MetaFilter[] = d.filters ?? [
      timePartitionFilter(this.cfg.minTime, this.cfg.maxTime),
      labelShardFilter(this.cfg.relabel),
      consistencyDelayFilter(this.cfg.consistencyDelayMs),
      ignoreDeletionMarkFilter(this.cfg.deleteDelayMs / 2),
      replicaLabelRemover(this.cfg.replicaLabels),
      deduplicateFilter(),
      gatherNoCompactMarks(),
    ];
    if (!this.cfg.downsamplingDisabled && !d.filters) filters.push(gatherNoDownsampleMarks());
    this.fetcher = new MetaFetcher(d.bkt, { filters, concurrency: this.cfg.blockMetaFetchConcurrency, cache: d.metaCache, now: this.now });
    this.planner = newPlanner({
      ranges: this.cfg.ranges,
      noCompactMarks: () => this.noCompact,
      maxIndexBytes: this.cfg.maxIndexBytes,
      verticalCompaction: this.vertical,
      hooks: {
        markNoCompact: async (id, reason, details) => { await this.mark(id, "no-compact", details, reason); },
        indexSize: async (id) => (await d.bkt.attributes(`${id}/index`)).size,
      },
    });
  }

  private log(level: "debug" | "info" | "warn" | "error", msg: string, kv?: Record<string, unknown>): void { this.d.log(level, msg, kv); }

  // -------------------------------------------------------------------------------------------
  // Sync and marks

  /** Fetch every block's meta through the filters; an incomplete view is a retry error. */
  async syncMetas(): Promise<void> {
    this.d.metrics.metaSyncs.inc();
    const t0 = this.now();
    let r;
    try {
      r = await this.fetcher.fetch();
    } catch (e) {
      this.d.metrics.metaSyncFailures.inc();
      throw retryError("sync: fetch block metas", e);
    }
    for (const [state, n] of r.synced) this.d.metrics.metaSynced.set(n, { state });
    for (const p of r.problems) this.log("warn", "block metadata", { problem: p });
    if (r.incomplete.length > 0) {
      this.d.metrics.metaSyncFailures.inc();
      throw retryError(`sync: incomplete view: meta.json of ${r.incomplete.length} blocks could not be read (${r.incomplete.slice(0, 3).join(", ")}${r.incomplete.length > 3 ? ", …" : ""})`);
    }
    this.metas = r.metas;
    this.lastSyncAt = this.now();
    this.partial = r.partial;
    this.deletionMarks = r.deletionMarks;
    this.noCompact = r.noCompactMarks;
    this.noDownsample = r.noDownsampleMarks;
    this.duplicates = r.duplicates;
    const ms = this.now() - t0;
    this.log("info", "successfully synchronized block metadata", { component: "block.BaseFetcher", ...syncedLogFields(r, ms) });
  }

  private pendingIndex: { add: BlockMeta[]; remove: string[]; marks: DeletionMark[] } = { add: [], remove: [], marks: [] };

  /** Queue a bucket index change; flushIndex() writes the queue in one update. */
  private async indexUpdate(o: UpdateBucketIndexOptions): Promise<void> {
    if (this.cfg.bucketIndex === false) return;
    this.pendingIndex.add.push(...(o.add ?? []));
    this.pendingIndex.remove.push(...(o.remove ?? []));
    this.pendingIndex.marks.push(...(o.marks ?? []));
  }

  /**
   * Write the queued changes to bucket-index.json (once per compaction round, not per block: each update
   * is a read-modify-write). When this compactor sees the whole bucket, the index is also rebuilt from a
   * listing at the end of every iteration, so the write is not held up verifying against racing writers.
   */
  async flushIndex(): Promise<void> {
    const p = this.pendingIndex;
    if (p.add.length + p.remove.length + p.marks.length === 0) return;
    this.pendingIndex = { add: [], remove: [], marks: [] };
    try {
      await updateBucketIndex(this.d.bkt, { ...p, now: this.now(), verifyDelayMs: this.cfg.bucketIndexVerifyDelayMs ?? (this.sharded() ? undefined : 0) });
    } catch (e) {
      // The changes are in the bucket already; readers find them by listing at the latest after
      // --bucket-index.max-stale, and the next full rebuild puts them in the index.
      this.log("warn", "could not update the bucket index", { err: errorMessage(e) });
    }
  }

  /** Does this compactor see only part of the bucket (time or label sharding)? */
  private sharded(): boolean {
    return this.cfg.relabel.length > 0 || this.cfg.minTime > THANOS_MIN_TIME || this.cfg.maxTime < THANOS_MAX_TIME;
  }

  /** Put a marker, counting and logging it as Thanos does; returns whether a new marker was written. */
  private async mark(id: string, kind: MarkerKind, details: string, reason?: string, index = true): Promise<DeletionMark | null> {
    const m = await markBlockLogged(this.d.bkt, id, kind, { details, reason, now: this.now() }, (lv, msg, kv) => this.log(lv, msg, { ...kv, ...(reason && lv === "info" ? { reason } : {}) }));
    if (!m) return null;
    this.d.metrics.blocksMarked.inc({ marker: MARKER_FILES[kind], reason: kind === "deletion" ? "" : reason ?? "" });
    if (kind === "no-compact") this.noCompact.set(id, m as unknown as NoCompactMark);
    if (kind === "deletion") {
      this.deletionMarks.set(id, m as DeletionMark);
      if (index) await this.indexUpdate({ marks: [m as DeletionMark] });
    }
    return kind === "deletion" ? (m as DeletionMark) : null;
  }

  /** Blocks marked longer ago than --delete-delay, deleted. */
  async deleteMarked(): Promise<Set<string>> {
    const r = await deleteMarkedBlocks(this.d.bkt, this.deletionMarks.values(), this.cfg.deleteDelayMs, this.now(), {
      log: this.d.log,
      counters: { cleaned: () => this.d.metrics.blocksCleaned.inc(), failed: () => this.d.metrics.blockCleanupFailures.inc() },
    });
    if (r.deleted.length > 0) {
      for (const id of r.deleted) { this.deletionMarks.delete(id); this.metas.delete(id); }
      await this.indexUpdate({ remove: r.deleted });
    }
    if (r.errors.length > 0) throw retryError("cleaning marked blocks", combineErrors(r.errors));
    return new Set(r.deleted);
  }

  /** Thanos Syncer.GarbageCollect: mark blocks the deduplicate filter found covered by another. */
  private async garbageCollect(justDeleted: Set<string>): Promise<void> {
    const t0 = this.now();
    const marks: DeletionMark[] = [];
    for (const id of this.duplicates) {
      if (this.deletionMarks.has(id) || justDeleted.has(id)) continue;
      this.log("info", "marking outdated block for deletion", { block: id });
      try {
        const m = await this.mark(id, "deletion", "outdated block", undefined, false);
        if (m) marks.push(m);
      } catch (e) {
        this.d.metrics.garbageCollectionFailures.inc();
        throw retryError(`garbage: mark block ${id} for deletion`, e);
      }
      this.metas.delete(id);
      this.d.metrics.garbageCollectedBlocks.inc();
    }
    if (marks.length > 0) await this.indexUpdate({ marks });
    this.d.metrics.garbageCollections.inc();
    this.d.metrics.garbageCollectionDuration.observe((this.now() - t0) / 1000);
  }

  // -------------------------------------------------------------------------------------------
  // Compaction

  /** BucketCompactor.Compact: compact every group until no group has work left. */
  async compactAll(): Promise<void> {
    for (;;) {
      this.log("info", "start sync of metas");
      await this.syncMetas();
      const deleted = await this.deleteMarked();
      this.log("info", "start of garbage collection");
      await this.garbageCollect(deleted);
      const groups = groupBlocks(this.metas.values());
      await this.cleanWorkDir("compact", new Set(groups.flatMap((g) => g.metas.map((m) => `${g.key}/${m.ulid}`))), new Set(groups.map((g) => g.key)));
      this.log("info", "start of compactions");
      let rerun = false;
      const errors: Error[] = [];
      const todo = groups.filter((g) => g.metas.length > 1);
      let next = 0;
      const worker = async () => {
        while (next < todo.length && errors.length === 0) {
          const g = todo[next++]!;
          try {
            if (await this.compactGroup(g)) rerun = true;
          } catch (e) {
            errors.push(wrapError(`group ${g.key}`, e));
          }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, this.cfg.compactConcurrency) }, worker));
      await this.flushIndex();
      if (errors.length > 0) throw combineErrors(errors);
      if (!rerun) break;
    }
    await this.d.ws.remove("compact");
    this.log("info", "compaction iterations done");
  }

  /** Delete what is not a current group block under a working directory (Thanos runutil.DeleteAll). */
  private async cleanWorkDir(root: string, keep: Set<string>, keepDirs: Set<string>): Promise<void> {
    try {
      for (const name of await this.d.ws.list(root)) {
        if (!keepDirs.has(name)) { await this.d.ws.remove(`${root}/${name}`); continue; }
        for (const sub of await this.d.ws.list(`${root}/${name}`)) if (!keep.has(`${name}/${sub}`)) await this.d.ws.remove(`${root}/${name}/${sub}`);
      }
    } catch (e) {
      this.log("warn", "failed deleting non-compaction group directories/files, some disk space usage might have leaked. Continuing", { err: errorMessage(e), dir: root });
    }
  }

  /** tsdb.OverlappingBlocks over the metas sorted by minTime: Overlaps.String(), or null. */
  private static overlaps(metas: BlockMeta[]): string | null {
    const o = overlappingBlocks([...metas].sort(byMinTime));
    return o.length > 0 ? overlapsString(o) : null;
  }

  /** Thanos Group.Compact: one planned compaction of a group. Returns whether to run the group again. */
  async compactGroup(g: Group): Promise<boolean> {
    const res = { resolution: String(g.resolution) };
    const m = this.d.metrics;
    m.groupCompactionRunsStarted.inc(res);
    const dir = `compact/${g.key}`;
    try {
      const rerun = await this.compactGroupOnce(g, dir, res);
      m.groupCompactionRunsCompleted.inc(res);
      await this.d.ws.remove(dir).catch((e) => this.log("error", "failed to remove compaction group work directory", { path: dir, err: errorMessage(e) }));
      return rerun;
    } catch (e) {
      // The working directory stays, so the next run may not have to download everything again.
      m.groupCompactionFailures.inc(res);
      throw e;
    }
  }

  private async compactGroupOnce(g: Group, dir: string, res: Record<string, string>): Promise<boolean> {
    const glog = (level: "debug" | "info" | "warn" | "error", msg: string, kv: Record<string, unknown> = {}) =>
      this.log(level, msg, { group: `${g.resolution}@${JSON.stringify(labelsRecord(g.labels))}`, groupKey: g.key, ...kv });
    const overlapping = Compactor.overlaps(g.metas);
    if (overlapping && !this.vertical) throw haltError(`pre compaction overlap check: overlaps found while gathering blocks. ${overlapping}`);
    let plan: BlockMeta[];
    try {
      plan = await this.planner.plan(g.metas);
    } catch (e) {
      throw wrapError("plan compaction", e);
    }
    if (plan.length === 0) return false;
    const planStr = `[${plan.map((p) => `${p.ulid} (min time: ${p.minTime}, max time: ${p.maxTime})`).join(" ")}]`;
    glog("info", "compaction available and planned", { plan: planStr });
    // Thanos #183: duplicate sources in a plan would duplicate chunks.
    const seen = new Set<string>();
    for (const p of plan) for (const s of p.compaction.sources) {
      if (seen.has(s)) {
        if (!this.vertical) throw haltError(`failed to run pre compaction callback for plan: ${planStr}: overlapping sources detected for plan ${planStr}`);
        glog("warn", "overlapping sources detected for plan", { duplicated_block: s, to_compact_blocks: planStr });
      }
      seen.add(s);
    }

    // Download and check the inputs.
    let t0 = this.now();
    const opened: LocalBlock[] = [];
    try {
      let next = 0;
      const errs: Error[] = [];
      const fetchOne = async (p: BlockMeta) => {
        const bdir = `${dir}/${p.ulid}`;
        try {
          await this.d.ws.download(this.d.bkt, p, bdir, { concurrency: this.cfg.blockFilesConcurrency });
        } catch (e) {
          throw retryError(`download block ${p.ulid}`, e);
        }
        const lb = await this.d.ws.open(bdir, { sequential: true }).catch((e) => { throw wrapError(`gather index issues for block ${bdir}`, e); });
        opened.push(lb);
      };
      // Thanos' input checks (GatherIndexHealthStats), gathered while the compaction reads each input
      // instead of in a separate pass first; an unhealthy input fails the group before anything is
      // uploaded, with the outcome Thanos gives it.
      const checkInputs = async (stats: HealthStats[]): Promise<void> => {
        for (let i = 0; i < stats.length; i++) {
          const p = plan[i]!, st = stats[i]!, bdir = `${dir}/${p.ulid}`;
          const crit = criticalError(st);
          if (crit) throw haltError(`block with not healthy index found ${bdir}; Compaction level ${p.compaction.level}; Labels: ${JSON.stringify(p.thanos?.labels ?? {})}: ${crit}`);
          const ooo = outOfOrderChunksError(st);
          if (ooo) {
            if (this.cfg.skipBlocksWithOutOfOrderChunks) {
              await this.mark(p.ulid, "no-compact", "OutofOrderChunk: marking block with out-of-order series/chunks to as no compact to unblock compaction", "block-index-out-of-order-chunk");
              throw Object.assign(new Error(`blocks with out-of-order chunks are dropped from compaction: ${bdir}: ${ooo}`), { outOfOrderMarked: true });
            }
            throw new Error(`blocks with out-of-order chunks are dropped from compaction: ${bdir}: ${ooo}`);
          }
          const i347 = issue347Error(st);
          if (i347) throw haltError(`invalid, but reparable block ${bdir}: ${i347} (the automatic repair of issue 347 is not implemented; repair the block with Thanos' tools bucket verify --repair)`);
          const ool = outOfOrderLabelsError(st);
          if (ool && !this.cfg.acceptMalformedIndex) throw new Error(`block id ${p.ulid}, try running with --debug.accept-malformed-index: ${ool}`);
        }
      };
      const worker = async () => {
        while (next < plan.length && errs.length === 0) {
          const p = plan[next++]!;
          try { await fetchOne(p); } catch (e) { errs.push(e as Error); }
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, this.cfg.blocksFetchConcurrency) }, worker));
      if (errs.length > 0) throw errs[0]!;
      this.d.collect?.();
      glog("info", "downloaded and verified blocks; compacting blocks", { duration_ms: this.now() - t0, plan: planStr });

      // Compact, in plan order.
      t0 = this.now();
      const byId = new Map(opened.map((o) => [o.block.ulid, o.block]));
      const inputs = plan.map((p) => byId.get(p.ulid)!);
      const ulid = newUlid(this.now());
      let meta: BlockMeta | null;
      const inputHealth: HealthStats[] = [];
      try {
        try {
          const r = await compactBlocks(inputs, this.d.ws.sink(dir, ulid), {
            ulid, mode: this.merge, inputHealth, collect: this.d.collect,
            thanos: { labels: labelsRecord(g.labels), downsample: { resolution: g.resolution }, source: "compactor", ...(g.extensions ? { extensions: g.extensions } : {}) },
          });
          meta = r.meta;
        } catch (e) {
          await checkInputs(inputHealth);
          if ((e as { healthCheck?: boolean }).healthCheck) throw wrapError("gather index issues of an input block", e);
          throw haltError(`compact blocks [${plan.map((p) => `${dir}/${p.ulid}`).join(" ")}]`, e);
        }
        await checkInputs(inputHealth);
      } catch (e) {
        await this.d.ws.remove(`${dir}/${ulid}`).catch(() => {});
        if ((e as { outOfOrderMarked?: boolean }).outOfOrderMarked) { glog("warn", "marked a block with out-of-order chunks no-compact", { err: (e as Error).message }); return true; }
        throw e;
      }
      for (const o of opened.splice(0)) await o.close();
      if (meta === null) {
        glog("info", "no compacted blocks, deleting source blocks", { blocks: planStr });
        for (const p of plan) {
          if (p.stats.numSamples !== 0) continue;
          await this.d.ws.remove(`${dir}/${p.ulid}`);
          try { await this.mark(p.ulid, "deletion", "source of compacted block"); } catch (e) {
            glog("warn", "failed to mark for deletion an empty block found during compaction", { block: p.ulid, err: errorMessage(e) });
          }
        }
        return true;
      }
      this.d.metrics.groupCompactions.inc(res);
      if (overlapping) this.d.metrics.groupVerticalCompactions.inc(res);
      glog("info", "compacted blocks", { new: ulid, duration_ms: this.now() - t0, overlapping_blocks: overlapping !== null, blocks: planStr });

      // Check the result, finish its meta.json, check it overlaps nothing, upload.
      const bdir = `${dir}/${ulid}`;
      const out = await this.d.ws.open(bdir, { sequential: true });
      this.d.collect?.();
      let stats;
      try {
        stats = await indexHealthStats(out.block.index, meta.minTime, meta.maxTime, this.d.collect);
      } catch (e) {
        await out.close();
        if (!this.cfg.acceptMalformedIndex) throw haltError(`invalid result block ${bdir}`, e);
      }
      await out.close();
      if (stats) {
        const bad = anyHealthError(stats);
        if (bad && !this.cfg.acceptMalformedIndex) throw haltError(`invalid result block ${bdir}: ${bad}`);
      }
      meta.thanos = orderThanos({ ...meta.thanos!, ...(stats ? { index_stats: indexStatsOf(stats) } : {}) });
      if (Object.keys(meta.thanos.index_stats ?? {}).length === 0) delete meta.thanos.index_stats;
      delete meta.thanos.files;
      await this.d.ws.writeMeta(bdir, meta);
      if (!this.vertical) {
        const planned = new Set(plan.map((p) => p.ulid));
        const ov = Compactor.overlaps([...g.metas.filter((x) => !planned.has(x.ulid)), meta]);
        if (ov) throw haltError(`resulted compacted block ${bdir} overlaps with something: overlaps found while gathering blocks. ${ov}`);
      }
      t0 = this.now();
      try {
        await this.upload(bdir, meta);
      } catch (e) {
        throw retryError(`upload of ${ulid} failed`, e);
      }
      this.d.collect?.();
      glog("info", "uploaded block", { result_block: ulid, duration_ms: this.now() - t0 });

      // Mark the inputs for deletion, so the next planning does not see them.
      const marks: DeletionMark[] = [];
      for (const p of plan) {
        await this.d.ws.remove(`${dir}/${p.ulid}`);
        glog("info", "marking compacted block for deletion", { old_block: p.ulid });
        try {
          const mk = await this.mark(p.ulid, "deletion", "source of compacted block", undefined, false);
          if (mk) marks.push(mk);
        } catch (e) {
          throw retryError("mark old block for deletion from bucket", e);
        }
        this.d.metrics.garbageCollectedBlocks.inc();
      }
      if (marks.length > 0) await this.indexUpdate({ marks });
      glog("info", "finished compacting blocks", { result_blocks: ulid, source_blocks: planStr });
      return true;
    } finally {
      for (const o of opened) await o.close().catch(() => {});
    }
  }

  /**
   * Thanos block.Upload: file stats (and hashes) into meta.thanos.files, upload_time set, chunks, index,
   * then meta.json last; then the block goes into the bucket index.
   */
  async upload(dir: string, meta: BlockMeta): Promise<BlockMeta> {
    const { upload, files } = await this.d.ws.blockFiles(dir, this.cfg.hashFunc);
    const final: BlockMeta = { ...meta, thanos: orderThanos({ ...meta.thanos!, files, upload_time: new Date(this.now()).toISOString() }) };
    await uploadBlock(this.d.bkt, meta.ulid, [...upload, { path: META_FILE, data: encodeBlockMeta(final) }], { attempts: 3 });
    await this.indexUpdate({ add: [final] });
    return final;
  }

  // -------------------------------------------------------------------------------------------
  // Downsampling, retention, partial uploads

  /** One downsampling pass over the last sync's blocks (Thanos downsampleBucket). */
  async downsamplePass(): Promise<void> {
    const jobs = downsampleJobs(this.metas.values(), this.noDownsample);
    const keep = new Set([...this.metas.keys()]);
    try {
      for (const name of await this.d.ws.list("downsample")) if (!keep.has(name)) await this.d.ws.remove(`downsample/${name}`);
    } catch (e) {
      this.log("warn", "failed deleting potentially outdated directories/files, some disk space usage might have leaked. Continuing", { err: errorMessage(e), dir: "downsample" });
    }
    const errs: Error[] = [];
    let next = 0;
    const worker = async () => {
      while (next < jobs.length && errs.length === 0) {
        const j = jobs[next++]!;
        const res = { resolution: String(j.meta.thanos?.downsample?.resolution ?? 0) };
        try {
          await this.downsampleOne(j.meta, j.resolution);
        } catch (e) {
          this.d.metrics.downsampleFailures.inc(res);
          errs.push(wrapError(j.resolution === 300000 ? "downsampling to 5 min" : "downsampling to 60 min", e));
        }
        this.d.metrics.downsamples.inc(res);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.cfg.downsampleConcurrency) }, worker));
    await this.flushIndex();
    if (errs.length > 0) throw combineErrors(errs);
    await this.d.ws.remove("downsample");
  }

  private async downsampleOne(m: BlockMeta, resolution: number): Promise<void> {
    const t0 = this.now();
    const bdir = `downsample/${m.ulid}`;
    try {
      await this.d.ws.download(this.d.bkt, m, bdir, { concurrency: this.cfg.blockFilesConcurrency });
    } catch (e) {
      throw retryError(`download block ${m.ulid}`, e);
    }
    this.log("info", "downloaded block", { id: m.ulid, duration_ms: this.now() - t0 });
    const src = await this.d.ws.open(bdir);
    let out: BlockMeta | null;
    const ulid = newUlid(this.now());
    try {
      const bad = anyHealthError(await indexHealthStats(src.block.index, m.minTime, m.maxTime));
      if (bad && !this.cfg.acceptMalformedIndex) throw new Error(`input block index not valid: ${bad}`);
      // The source's meta as the fetcher sees it (replica labels removed), as Thanos downsamples it.
      const block = { ...src.block, meta: m, ulid: m.ulid };
      const t1 = this.now();
      out = await downsampleBlock(block, resolution, this.d.ws.sink("downsample", ulid), { ulid });
      this.d.metrics.downsampleDuration.observe((this.now() - t1) / 1000, { resolution: String(m.thanos?.downsample?.resolution ?? 0) });
    } finally {
      await src.close();
    }
    if (out === null) {
      this.log("info", "downsampled block has no samples; nothing uploaded", { from: m.ulid, resolution });
      await this.d.ws.remove(bdir);
      return;
    }
    this.log("info", "downsampled block", { from: m.ulid, to: ulid, duration_ms: this.now() - t0 });
    const odir = `downsample/${ulid}`;
    const ob = await this.d.ws.open(odir, { sequential: true });
    let stats;
    try {
      stats = await indexHealthStats(ob.block.index, m.minTime, m.maxTime);
    } finally {
      await ob.close();
    }
    const bad = anyHealthError(stats);
    if (bad && !this.cfg.acceptMalformedIndex) throw new Error(`output block index not valid: ${bad}`);
    const meta: BlockMeta = { ...out, thanos: orderThanos({ ...out.thanos!, source: "compactor", index_stats: indexStatsOf(stats) }) };
    if (Object.keys(meta.thanos!.index_stats ?? {}).length === 0) delete meta.thanos!.index_stats;
    delete meta.thanos!.files;
    await this.d.ws.writeMeta(odir, meta);
    try {
      await this.upload(odir, meta);
    } catch (e) {
      throw retryError(`upload downsampled block ${ulid}`, e);
    }
    this.log("info", "uploaded block", { id: ulid, duration_ms: this.now() - t0 });
    await this.d.ws.remove(bdir).catch(() => {});
    await this.d.ws.remove(odir).catch(() => {});
  }

  /** Retention marks over the last sync's blocks. */
  async applyRetention(): Promise<void> {
    this.log("info", "start optional retention");
    const marks = await applyRetention(this.d.bkt, this.metas.values(), this.cfg.retention, this.now(), {
      log: this.d.log,
      marked: () => this.d.metrics.blocksMarked.inc({ marker: MARKER_FILES.deletion, reason: "" }),
    }).catch((e) => { throw retryError("retention failed: delete block", e); });
    for (const mk of marks) this.deletionMarks.set(mk.id, mk);
    if (marks.length > 0) await this.indexUpdate({ marks });
    await this.flushIndex();
    this.log("info", "optional retention apply done");
  }

  /** Aborted partial uploads (and interrupted deletions) deleted, from the last sync's view. */
  async cleanPartial(): Promise<void> {
    this.log("info", "started cleaning of aborted partial uploads");
    const deleted = await cleanAbortedPartialUploads(this.d.bkt, [...this.partial.keys()], this.deletionMarks, this.now(), {
      log: this.d.log,
      deleteDelayMs: this.cfg.deleteDelayMs,
      counters: {
        attempted: () => this.d.metrics.partialUploadDeleteAttempts.inc(),
        cleaned: () => this.d.metrics.blocksCleaned.inc(),
        failed: () => this.d.metrics.blockCleanupFailures.inc(),
      },
    });
    for (const id of deleted) this.partial.delete(id);
    this.d.metrics.cleanupLoops.inc();
    this.log("info", "cleaning of aborted partial uploads done");
  }

  /** One full iteration (Thanos compactMainFn). Throws halt, retry or plain errors. */
  async runOnce(): Promise<void> {
    try {
      await this.compactAll();
    } catch (e) {
      await this.flushIndex();
      throw wrapError("compaction", e);
    }
    if (!this.cfg.downsamplingDisabled) {
      this.log("info", "start first pass of downsampling");
      await this.syncMetas().catch((e) => { throw wrapError("sync before first pass of downsampling", e); });
      await this.downsamplePass().catch((e) => { throw wrapError("first pass of downsampling failed", e); });
      this.log("info", "start second pass of downsampling");
      await this.syncMetas().catch((e) => { throw wrapError("sync before second pass of downsampling", e); });
      await this.downsamplePass().catch((e) => { throw wrapError("second pass of downsampling failed", e); });
      this.log("info", "downsampling iterations done");
    } else {
      this.log("info", "downsampling was explicitly disabled");
    }
    await this.syncMetas().catch((e) => { throw wrapError("sync before retention", e); });
    await this.applyRetention();
    await this.cleanPartial();
    await this.refreshBucketIndex();
  }

  /**
   * Rebuild bucket-index.json from a listing, when this compactor sees the whole bucket (no time or
   * label sharding): it repairs any change a racing writer's index update lost.
   */
  async refreshBucketIndex(): Promise<void> {
    if (this.cfg.bucketIndex === false) return;
    await this.flushIndex();
    if (this.sharded()) return;
    try {
      const r = await rebuildBucketIndex(this.d.bkt, this.now());
      for (const p of r.problems) this.log("warn", "bucket index rebuild", { problem: p });
    } catch (e) {
      this.log("warn", "could not rebuild the bucket index", { err: errorMessage(e) });
    }
  }

  /** Thanos' progress calculators: sync, then the thanos_compact_todo_* gauges. */
  async progress(): Promise<void> {
    await this.syncMetas();
    const groups = groupBlocks(this.metas.values());
    const c = compactionBacklog(groups, this.cfg.ranges, new Map());
    this.d.metrics.todoCompactions.set(c.compactions);
    this.d.metrics.todoCompactionBlocks.set(c.blocks);
    this.d.metrics.todoDeletionBlocks.set(retentionBacklog(this.metas.values(), this.cfg.retention, this.now()));
    if (!this.cfg.downsamplingDisabled) this.d.metrics.todoDownsampleBlocks.set(downsampleBacklog(this.metas.values()));
  }
}

export interface RunOptions {
  wait: boolean;
  waitIntervalMs: number;
  haltOnError: boolean;
  signal: AbortSignal;
  /** Background loops with --wait (0 = off). */
  cleanupIntervalMs?: number;
  progressIntervalMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export const defaultSleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  if (signal.aborted) return resolve();
  const t = setTimeout(() => { signal.removeEventListener("abort", done); resolve(); }, ms);
  const done = () => { clearTimeout(t); resolve(); };
  signal.addEventListener("abort", done, { once: true });
});

/**
 * Thanos' run loop. One-shot: one iteration, errors thrown (the process exits non-zero). With --wait:
 * an iteration every --wait-interval; a halt error with --debug.halt-on-error stops all work but keeps
 * the process (and its HTTP server) up with thanos_compact_halted = 1; a retry error is logged and the
 * next interval runs; any other error is thrown.
 */
export async function runCompactor(c: Compactor, o: RunOptions, deps: { log: LogFn; metrics: CompactorMetrics }): Promise<void> {
  const sleep = o.sleep ?? defaultSleep;
  if (!o.wait) { await c.runOnce(); return; }
  // Background loops stop with the main loop, whichever way it ends.
  const inner = new AbortController();
  const stop = () => inner.abort();
  o.signal.addEventListener("abort", stop, { once: true });
  const background: Promise<void>[] = [];
  let busy = Promise.resolve();
  const exclusive = (f: () => Promise<void>) => { const p = busy.then(f, f); busy = p.catch(() => {}); return p; };
  const loop = (interval: number | undefined, name: string, f: () => Promise<void>) => {
    if (!interval || interval <= 0) return;
    background.push((async () => {
      while (!inner.signal.aborted && c.halted === null) {
        await sleep(interval, inner.signal);
        if (inner.signal.aborted || c.halted !== null) return;
        try { await exclusive(f); } catch (e) {
          if (isRetryError(e)) { deps.log("error", "retriable error", { err: errorMessage(e), loop: name }); deps.metrics.retries.inc(); continue; }
          deps.log("error", `${name} failed`, { err: errorMessage(e) });
        }
      }
    })());
  };
  loop(o.cleanupIntervalMs, "cleanup", async () => { await c.syncMetas(); await c.cleanPartial(); });
  loop(o.progressIntervalMs, "progress", () => c.progress());
  try {
    while (!o.signal.aborted) {
      try {
        await exclusive(() => c.runOnce());
        deps.metrics.iterations.inc();
      } catch (e) {
        if (isHaltError(e)) {
          if (!o.haltOnError) throw wrapError("critical error detected", e);
          deps.log("error", "critical error detected; halting", { err: errorMessage(e) });
          deps.metrics.halted.set(1);
          c.halted = e as Error;
          // Halted: stay up doing nothing until stopped.
          await new Promise<void>((r) => { if (o.signal.aborted) r(); else o.signal.addEventListener("abort", () => r(), { once: true }); });
          return;
        }
        if (isRetryError(e)) {
          deps.log("error", "retriable error", { err: errorMessage(e), code: errorCode(e) });
          deps.metrics.retries.inc();
        } else {
          throw wrapError("error executing compaction", e);
        }
      }
      await sleep(o.waitIntervalMs, o.signal);
    }
  } finally {
    inner.abort();
    o.signal.removeEventListener("abort", stop);
    await Promise.allSettled(background);
  }
}

