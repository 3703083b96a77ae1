// The block metadata fetcher: which blocks a bucket holds (the bucket index when fresh enough, else a
// listing) and Thanos' meta filters over them (pkg/block/fetcher.go, pkg/compact/compact.go). One copy for
// every reader: the store gateway runs time range, consistency delay and deletion marks; the compactor
// runs them all in Thanos' order:
//
//   1. time partition (--min-time/--max-time)          5. replica label remover
//   2. label sharding (--selector.relabel-config)      6. deduplicate (sources covered by another block)
//   3. consistency delay                               7. gather no-compact marks
//   4. ignore deletion marks (after a delay)           8. gather no-downsample marks
//
// Filters remove blocks from the map and record why in `synced` (the states of Thanos'
// thanos_blocks_meta_synced gauge: "time-excluded", "label-excluded", "too-fresh", "marked-for-deletion",
// "duplicate", …); gathering filters also collect what the compactor needs (marks, duplicate ids).

import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import { goDuration } from "../encoding/gotext.ts";
import type { Bucket } from "../objstore/bucket.ts";
import { compareStrings, labelsHash, type Label } from "../labels/labels.ts";
import type { BlockMeta } from "../tsdb/meta.ts";
import { parseBlockMeta } from "../tsdb/meta.ts";
import { ulidTime } from "../tsdb/ulid.ts";
import { readBucketIndex } from "./bucketindex.ts";
import { type Discovered, listBucketBlocks } from "./listing.ts";
import { type DeletionMark, MARKER_FILES, type MarkerKind, type MarkerOf, type NoCompactMark, type NoDownsampleMark, readMarker } from "./markers.ts";
import { parseRelabelConfigs, relabel, type RelabelConfig } from "../labels/relabel.ts";

export type { Discovered };

export interface DiscoverOptions {
  /** Use the bucket index when present and younger than this (ms); 0 = always list. */
  indexMaxStaleMs: number;
  now: number;
  /**
   * When this reader last listed the bucket (ms). A listing older than indexMaxStaleMs forces a new one
   * even with a fresh index: an index that writers keep refreshing never goes stale, so a block a racing
   * writer dropped from it would otherwise stay invisible for good.
   */
  lastListedAt?: number;
  /** Listing: meta.json GETs in flight (default 32). */
  concurrency?: number;
}

/** Blocks and marks from the index when usable, else from a listing (the reason in `fallback`). */
export async function discoverBlocks(bkt: Bucket, o: DiscoverOptions): Promise<Discovered> {
  if (o.indexMaxStaleMs > 0) {
    let why = "";
    try {
      const idx = await readBucketIndex(bkt);
      if (!idx) why = "no bucket index";
      else if (o.now - idx.updated_at > o.indexMaxStaleMs) why = `bucket index is ${Math.round((o.now - idx.updated_at) / 1000)}s old (max ${Math.round(o.indexMaxStaleMs / 1000)}s)`;
      else if (o.lastListedAt !== undefined && o.now - o.lastListedAt > o.indexMaxStaleMs) why = `last listing ${Math.round((o.now - o.lastListedAt) / 1000)}s ago (listed at least every ${Math.round(o.indexMaxStaleMs / 1000)}s, for blocks a racing index writer dropped)`;
      else {
        return {
          metas: idx.blocks, marks: new Map(idx.deletion_marks.map((m) => [m.id, m])), marksKnown: true, source: "index",
          partial: new Map(), problems: [], incomplete: [], indexUpdatedAt: idx.updated_at,
        };
      }
    } catch (e) {
      why = `bucket index unreadable: ${errorMessage(e)}`;
    }
    const d = await listBucketBlocks(bkt, { concurrency: o.concurrency });
    d.fallback = why;
    return d;
  }
  return listBucketBlocks(bkt, { concurrency: o.concurrency });
}

// ---------------------------------------------------------------------------------------------
// Filters

/** State names of Thanos' thanos_blocks_meta_synced gauge. */
export const SyncedState = {
  Loaded: "loaded", NoMeta: "no-meta-json", Corrupted: "corrupted-meta-json", Failed: "failed",
  TimeExcluded: "time-excluded", LabelExcluded: "label-excluded", TooFresh: "too-fresh",
  MarkedForDeletion: "marked-for-deletion", Duplicate: "duplicate",
  MarkedForNoCompaction: "marked-for-no-compact", MarkedForNoDownsample: "marked-for-no-downsample",
} as const;

export interface FilterContext {
  readonly bkt: Bucket;
  readonly now: number;
  /** Marks known from discovery (bucket index, or a listing that read them). */
  readonly discovered: Discovered;
  /** Mark reads in flight. */
  readonly concurrency: number;
  /** Blocks removed or noted, by state. */
  readonly synced: Map<string, number>;
  /** Blocks whose meta was modified, by kind ("replica-label-removed"). */
  readonly modified: Map<string, number>;
  /** Every deletion mark of a block that reached the deletion-mark filter (also those still kept). */
  readonly deletionMarks: Map<string, DeletionMark>;
  readonly noCompactMarks: Map<string, NoCompactMark>;
  readonly noDownsampleMarks: Map<string, NoDownsampleMark>;
  /** Blocks the deduplicate filter found covered by another (the compactor garbage-collects them). */
  readonly duplicates: string[];
  /** Things worth a log line (partial markers, blocks left without labels). */
  readonly warnings: string[];
}

export interface MetaFilter {
  readonly name: string;
  filter(metas: Map<string, BlockMeta>, ctx: FilterContext): Promise<void>;
}

function count(m: Map<string, number>, k: string, by = 1): void { m.set(k, (m.get(k) ?? 0) + by); }

/** Keep blocks overlapping [minTime, maxTime] (inclusive on both sides, as Thanos compares). */
export function timePartitionFilter(minTime: number, maxTime: number): MetaFilter {
  return {
    name: "time-partition",
    async filter(metas, ctx) {
      for (const [id, m] of metas) {
        if (m.maxTime >= minTime && m.minTime <= maxTime) continue;
        count(ctx.synced, SyncedState.TimeExcluded);
        metas.delete(id);
      }
    },
  };
}

/** Special label carrying the block's ULID during label sharding. */
export const BLOCK_ID_LABEL = "__block_id";

/** Relabel actions a block selector may use (Thanos' SelectorSupportedRelabelActions). */
const SELECTOR_RELABEL_ACTIONS: ReadonlySet<string> = new Set(["keep", "drop", "hashmod"]);

/**
 * --selector.relabel-config as Thanos' block.ParseRelabelConfig reads it: Prometheus 3.x relabelling
 * (what Thanos v0.41 links), yaml.v2 non-strict, only keep, drop and hashmod; errors name `what`.
 */
export function parseSelectorRelabelConfig(text: string, what = "--selector.relabel-config"): RelabelConfig[] {
  try {
    return parseRelabelConfigs(text, { prometheus3: true, strict: false, wrapErrors: true, actions: SELECTOR_RELABEL_ACTIONS });
  } catch (e) {
    throw new CodedError("bad_data", `${what}: ${errorMessage(e)}`, { cause: e });
  }
}

/** Thanos' LabelShardedMetaFilter: relabel {__block_id, external labels}; dropped blocks are excluded. */
export function labelShardFilter(rules: readonly RelabelConfig[]): MetaFilter {
  return {
    name: "label-shard",
    async filter(metas, ctx) {
      if (rules.length === 0) return;
      for (const [id, m] of metas) {
        const ls: Label[] = [{ name: BLOCK_ID_LABEL, value: id }, ...externalLabels(m)].sort((a, b) => compareStrings(a.name, b.name));
        if (relabel(ls, rules) !== null) continue;
        count(ctx.synced, SyncedState.LabelExcluded);
        metas.delete(id);
      }
    },
  };
}

/** Sources whose blocks are complete when visible: exempt from the consistency delay. */
const CONSISTENT_SOURCES = new Set(["compactor", "compactor.repair", "bucket.repair"]);

/** Upload time (ms) from thanos.upload_time, or null when absent or unparseable. */
export function uploadTime(m: BlockMeta): number | null {
  const u = m.thanos?.upload_time;
  if (typeof u !== "string" || u === "" || u.startsWith("0001-01-01")) return null;
  const t = Date.parse(u);
  return Number.isFinite(t) ? t : null;
}

/**
 * Thanos' ConsistencyDelayMetaFilter: a block is too fresh while younger than the delay, by
 * thanos.upload_time when set, else by its ULID time; blocks made by the compactor or a repair are exempt.
 */
export function consistencyDelayFilter(delayMs: number): MetaFilter {
  return {
    name: "consistency-delay",
    async filter(metas, ctx) {
      if (delayMs <= 0) return;
      for (const [id, m] of metas) {
        const up = uploadTime(m);
        const tooFresh = up !== null ? ctx.now - up < delayMs : ctx.now - ulidTime(id) < delayMs;
        if (!tooFresh || CONSISTENT_SOURCES.has(m.thanos?.source ?? "")) continue;
        count(ctx.synced, SyncedState.TooFresh);
        metas.delete(id);
      }
    },
  };
}

/** Run fn over ids, `n` at a time; the first error is thrown after all finished. */
async function eachLimit(ids: string[], n: number, fn: (id: string) => Promise<void>): Promise<void> {
  let next = 0;
  let err: unknown = null;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try { await fn(id); } catch (e) { err ??= e; }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, worker));
  if (err !== null) throw err;
}

/**
 * Read one kind of marker for each block (from discovery when it knows deletion marks). A corrupt or
 * partially uploaded marker is skipped with a warning, as Thanos does; a bucket failure fails the sync.
 */
async function gatherMarks<K extends MarkerKind>(metas: Map<string, BlockMeta>, ctx: FilterContext, kind: K, got: (id: string, m: MarkerOf[K]) => void): Promise<void> {
  if (kind === "deletion" && ctx.discovered.marksKnown) {
    for (const id of metas.keys()) {
      const m = ctx.discovered.marks.get(id);
      if (m) got(id, m as MarkerOf[K]);
    }
    return;
  }
  const present = ctx.discovered.markers;
  const file = MARKER_FILES[kind];
  // The block folder listings said which markers exist: only those are fetched.
  const ids = [...metas.keys()].filter((id) => !present || present.get(id)?.has(file) !== false);
  await eachLimit(ids, ctx.concurrency, async (id) => {
    let m: MarkerOf[K] | null;
    try {
      m = await readMarker(ctx.bkt, id, kind);
    } catch (e) {
      if (errorCode(e) === "corrupt") { ctx.warnings.push(`block ${id}: ignoring unreadable ${kind} mark: ${errorMessage(e)}`); return; }
      throw new CodedError(errorCode(e) ?? "unavailable", `filter blocks marked for ${kind === "deletion" ? "deletion" : kind === "no-compact" ? "no compaction" : "no downsampling"}: block ${id}: ${errorMessage(e)}`, { cause: e });
    }
    if (m) got(id, m);
  });
}

/**
 * Thanos' IgnoreDeletionMarkFilter: records every deletion mark, and drops blocks marked longer ago than
 * `delayMs` (the compactor uses --delete-delay/2: a marked block stays visible until its replacement is
 * surely seen; the store gateway uses --ignore-deletion-marks-delay).
 */
export function ignoreDeletionMarkFilter(delayMs: number): MetaFilter {
  return {
    name: "ignore-deletion-marks",
    async filter(metas, ctx) {
      const seen = new Map<string, DeletionMark>();
      await gatherMarks(metas, ctx, "deletion", (id, m) => { seen.set(id, m); });
      for (const [id, m] of seen) {
        ctx.deletionMarks.set(id, m);
        if ((ctx.now - m.deletion_time * 1000) / 1000 > delayMs / 1000) {
          count(ctx.synced, SyncedState.MarkedForDeletion);
          metas.delete(id);
        }
      }
    },
  };
}

/**
 * Thanos' ReplicaLabelRemover: drop the replica labels from each block's external labels (on a copy of
 * the meta), so the replicas of one stream fall into one compaction group. A block left without labels
 * gets `<first replica label>="deduped"`.
 */
export function replicaLabelRemover(replicaLabels: readonly string[]): MetaFilter {
  return {
    name: "replica-label-remover",
    async filter(metas, ctx) {
      if (replicaLabels.length === 0) return;
      for (const [id, m] of metas) {
        const l = { ...(m.thanos?.labels ?? {}) };
        for (const r of replicaLabels) {
          if (r in l) { delete l[r]; count(ctx.modified, "replica-label-removed"); }
        }
        if (Object.keys(l).length === 0) {
          ctx.warnings.push(`block ${id}: no external labels left after removing replica labels; using ${replicaLabels[0]}="deduped"`);
          l[replicaLabels[0]!] = "deduped";
        }
        const thanos = m.thanos ?? { labels: {}, downsample: { resolution: 0 }, source: "" };
        metas.set(id, { ...m, thanos: { ...thanos, labels: l } });
      }
    },
  };
}

/** External labels as a sorted label set, empty values kept (Go labels.FromMap). */
export function externalLabels(m: BlockMeta): Label[] {
  return Object.entries(m.thanos?.labels ?? {}).map(([name, value]) => ({ name, value })).sort((a, b) => compareStrings(a.name, b.name));
}

/** Resolution in ms (0 = raw). */
export function resolution(m: BlockMeta): number {
  return m.thanos?.downsample?.resolution ?? 0;
}

/**
 * Thanos' compaction group key: "<resolution>@<labels hash>", the hash being Prometheus' labels.Hash
 * (xxhash64) of the external labels, printed as an unsigned decimal.
 */
export function groupKey(m: BlockMeta): string {
  return `${resolution(m)}@${labelsHash(externalLabels(m))}`;
}

/** Does `outer` contain every ULID of `inner`? */
function containsAll(outer: readonly string[], inner: readonly string[]): boolean {
  const s = new Set(outer);
  return inner.every((x) => s.has(x));
}

/**
 * Thanos' DefaultDeduplicateFilter: within each group, a block whose compaction.sources are all covered
 * by a block with more sources (or, on equal counts, a lower ULID) is a duplicate: left out, and its id
 * recorded for garbage collection.
 */
export function deduplicateFilter(): MetaFilter {
  return {
    name: "deduplicate",
    async filter(metas, ctx) {
      const groups = new Map<string, BlockMeta[]>();
      for (const m of metas.values()) {
        const k = groupKey(m);
        const g = groups.get(k);
        if (g) g.push(m); else groups.set(k, [m]);
      }
      for (const g of groups.values()) {
        g.sort((a, b) => {
          const d = b.compaction.sources.length - a.compaction.sources.length;
          return d !== 0 ? d : a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0;
        });
        const covering: BlockMeta[] = [];
        for (const child of g) {
          if (covering.some((p) => containsAll(p.compaction.sources, child.compaction.sources))) {
            ctx.duplicates.push(child.ulid);
            count(ctx.synced, SyncedState.Duplicate);
            metas.delete(child.ulid);
          } else {
            covering.push(child);
          }
        }
      }
    },
  };
}

/** Thanos' GatherNoCompactionMarkFilter: keeps every block, collects no-compact-mark.json. */
export function gatherNoCompactMarks(): MetaFilter {
  return {
    name: "gather-no-compact-marks",
    async filter(metas, ctx) {
      await gatherMarks(metas, ctx, "no-compact", (id, m) => { ctx.noCompactMarks.set(id, m); count(ctx.synced, SyncedState.MarkedForNoCompaction); });
    },
  };
}

/** Thanos' GatherNoDownsampleMarkFilter: keeps every block, collects no-downsample-mark.json. */
export function gatherNoDownsampleMarks(): MetaFilter {
  return {
    name: "gather-no-downsample-marks",
    async filter(metas, ctx) {
      await gatherMarks(metas, ctx, "no-downsample", (id, m) => { ctx.noDownsampleMarks.set(id, m); count(ctx.synced, SyncedState.MarkedForNoDownsample); });
    },
  };
}

export interface FilterRun {
  metas: Map<string, BlockMeta>;
  ctx: FilterContext;
}

/** Run filters in order over the discovered blocks. */
export async function runFilters(bkt: Bucket, d: Discovered, filters: readonly MetaFilter[], o: { now: number; concurrency?: number }): Promise<FilterRun> {
  const metas = new Map(d.metas.map((m) => [m.ulid, m]));
  const ctx: FilterContext = {
    bkt, now: o.now, discovered: d, concurrency: o.concurrency ?? 32,
    synced: new Map(), modified: new Map(), deletionMarks: new Map(), noCompactMarks: new Map(), noDownsampleMarks: new Map(),
    duplicates: [], warnings: [],
  };
  for (const f of filters) await f.filter(metas, ctx);
  return { metas, ctx };
}

export interface BlockFilterOptions {
  now: number;
  /** Blocks younger than this (by upload time, else ULID time) are ignored; compactor output is exempt. */
  consistencyDelayMs: number;
  /** Blocks with a deletion mark older than this are ignored. */
  ignoreDeletionMarksDelayMs: number;
  /** Serve only blocks overlapping [minTime, maxTime]. */
  minTime: number;
  maxTime: number;
}

/** The store gateway's filters (time range, consistency delay, deletion marks), in Thanos' order. */
export async function filterBlocks(bkt: Bucket, d: Discovered, o: BlockFilterOptions): Promise<BlockMeta[]> {
  const r = await runFilters(bkt, d, [
    timePartitionFilter(o.minTime, o.maxTime),
    consistencyDelayFilter(o.consistencyDelayMs),
    ignoreDeletionMarkFilter(o.ignoreDeletionMarksDelayMs),
  ], { now: o.now });
  return [...r.metas.values()];
}

// ---------------------------------------------------------------------------------------------
// The fetcher

/** A disk cache of meta.json files (Thanos: <data-dir>/meta-syncer/<ulid>/meta.json). */
export interface MetaCache {
  loadAll(): Promise<Map<string, Uint8Array>>;
  save(id: string, bytes: Uint8Array): Promise<void>;
  /** Drop cached metas of blocks not in `keep`. */
  prune(keep: ReadonlySet<string>): Promise<void>;
}

export interface FetchResult {
  /** Blocks that passed the filters. */
  metas: Map<string, BlockMeta>;
  /** Block folders without a usable meta.json (id -> why). */
  partial: Map<string, string>;
  /** Problems worth a log line (corrupt metas, unreadable markers, fetch failures). */
  problems: string[];
  /** Blocks whose meta.json could not be fetched: the view is incomplete and must not be acted on. */
  incomplete: string[];
  deletionMarks: Map<string, DeletionMark>;
  noCompactMarks: Map<string, NoCompactMark>;
  noDownsampleMarks: Map<string, NoDownsampleMark>;
  duplicates: string[];
  /** thanos_blocks_meta_synced by state, thanos_blocks_meta_modified by kind. */
  synced: Map<string, number>;
  modified: Map<string, number>;
  source: "index" | "listing";
  /** Every block with a readable meta.json, before the filters (Thanos' "cached" count). */
  all: BlockMeta[];
}

/**
 * The fields of Thanos' BaseFetcher line "successfully synchronized block metadata" after a sync that
 * took `ms` (as the caller rounds it); `durationMs` is the duration_ms field when rounded differently.
 */
export function syncedLogFields(r: FetchResult, ms: number, durationMs = ms): { duration: string; duration_ms: number; cached: number; returned: number; partial: number } {
  return { duration: goDuration(ms), duration_ms: durationMs, cached: r.all.length, returned: r.metas.size, partial: r.partial.size };
}

export interface MetaFetcherOptions {
  filters: MetaFilter[];
  /** meta.json and marker reads in flight (Thanos --block-meta-fetch-concurrency, default 32). */
  concurrency?: number;
  cache?: MetaCache;
  /** Use a bucket index younger than this (ms) instead of listing; 0 (default) = always list. */
  indexMaxStaleMs?: number;
  now?: () => number;
}

/**
 * Fetches every block's meta.json and runs the filters. Metas of blocks already seen are kept in memory
 * (and in the disk cache when given): blocks are immutable once visible, so a re-sync costs one LIST and
 * one HEAD per block, as with Thanos' fetcher.
 */
export class MetaFetcher {
  private cached = new Map<string, BlockMeta>();
  private diskLoaded = false;
  private lastListedAt: number | undefined;

  constructor(private readonly bkt: Bucket, private readonly o: MetaFetcherOptions) {}

  private async loadDisk(): Promise<void> {
    if (this.diskLoaded || !this.o.cache) return;
    this.diskLoaded = true;
    for (const [id, b] of await this.o.cache.loadAll()) {
      try {
        const m = parseBlockMeta(b, `cached meta.json of block ${id}`);
        if (m.ulid === id) this.cached.set(id, m);
      } catch { /* a broken cache entry is refetched */ }
    }
  }

  async fetch(): Promise<FetchResult> {
    const now = (this.o.now ?? Date.now)();
    await this.loadDisk();
    let d: Discovered;
    const indexMaxStaleMs = this.o.indexMaxStaleMs ?? 0;
    if (indexMaxStaleMs > 0) {
      this.lastListedAt ??= now;
      d = await discoverBlocks(this.bkt, { indexMaxStaleMs, now, lastListedAt: this.lastListedAt, concurrency: this.o.concurrency });
      if (d.source === "listing") this.lastListedAt = now;
    } else {
      const saves: Promise<void>[] = [];
      d = await listBucketBlocks(this.bkt, {
        concurrency: this.o.concurrency,
        deletionMarks: false,
        folders: true,
        known: (id) => this.cached.get(id),
        onFetched: (m, b) => { if (this.o.cache) saves.push(this.o.cache.save(m.ulid, b).catch(() => undefined)); },
      });
      await Promise.all(saves);
      if (d.incomplete.length === 0) {
        // Only a complete view replaces the cache (as in Thanos), so a failed GET does not evict a block.
        this.cached = new Map(d.metas.map((m) => [m.ulid, m]));
        await this.o.cache?.prune(new Set(this.cached.keys())).catch(() => undefined);
      }
    }
    const r = await runFilters(this.bkt, d, this.o.filters, { now, concurrency: this.o.concurrency });
    const synced = r.ctx.synced;
    let noMeta = 0, corrupted = 0;
    for (const why of d.partial.values()) (why.startsWith("no ") ? noMeta++ : corrupted++);
    synced.set(SyncedState.NoMeta, noMeta);
    synced.set(SyncedState.Corrupted, corrupted);
    synced.set(SyncedState.Failed, d.incomplete.length);
    synced.set(SyncedState.Loaded, r.metas.size);
    return {
      metas: r.metas, partial: d.partial, problems: [...d.problems, ...r.ctx.warnings], incomplete: d.incomplete,
      deletionMarks: r.ctx.deletionMarks, noCompactMarks: r.ctx.noCompactMarks, noDownsampleMarks: r.ctx.noDownsampleMarks,
      duplicates: r.ctx.duplicates, synced, modified: r.ctx.modified, source: d.source, all: d.metas,
    };
  }
}
