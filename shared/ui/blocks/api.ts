// The blocks page's API, shaped as Thanos' pkg/api/blocks (what its block viewer reads):
//
//   GET  /api/v1/blocks?view=global|loaded  {"status":"success","data":{"label":…,"blocks":[metadata.Meta…],
//                                            "refreshedAt":…,"err":null, + ours: "marks","partial","groups"}}
//   POST /api/v1/blocks/mark                 form id, action=DELETION|NO_COMPACTION (+ ours: NO_DOWNSAMPLE),
//                                            detail; 400 with Thanos' texts; refused with --disable-admin-operations
//   GET  /api/v1/status/flags                the component's flags (the page reads disable-admin-operations)
//
// Blocks are written as Thanos marshals metadata.Meta (thanosMetaGoValue). Additions Thanos' viewer
// ignores: per-block marks (deletion, no-compact, no-downsample with time, reason and details), the
// partial uploads, and per compaction group the planner's backlog (compactions and the blocks they take,
// blocks due for downsampling; replicas in one group when the compactor deduplicates), so the page can
// show what is waiting. `err` is the last refresh's error
// text (Thanos writes a Go error value, which marshals as {}).
//
// `views.global` is a periodic sync of the bucket (GlobalBlocks below); the compactor adds `loaded`, its
// own view after its filters.

import { Hono, type Context } from "hono";
import { type FetchResult, MetaFetcher, type MetaFilter } from "../../block/fetcher.ts";
import type { DeletionMark, MarkerKind, NoCompactMark, NoDownsampleMark } from "../../block/markers.ts";
import { compactionBacklog, downsampleJobs, groupBlocks } from "../../compact/progress.ts";
import { CodedError, errorMessage } from "../../encoding/errors.ts";
import { goJson, goJsonTime } from "../../encoding/gotext.ts";
import type { LogFn } from "../../block/log.ts";
import type { Bucket } from "../../objstore/bucket.ts";
import { thanosMetaGoValue, type BlockMeta } from "../../tsdb/meta.ts";
import { ulidParseError } from "../../tsdb/ulid.ts";

export interface BlockMarks { deletion?: DeletionMark; noCompact?: NoCompactMark; noDownsample?: NoDownsampleMark }

export interface BlocksView {
  blocks: readonly BlockMeta[];
  deletionMarks: ReadonlyMap<string, DeletionMark>;
  noCompactMarks: ReadonlyMap<string, NoCompactMark>;
  noDownsampleMarks: ReadonlyMap<string, NoDownsampleMark>;
  partial: readonly string[];
  /** ms; null before the first sync. */
  refreshedAt: number | null;
  err: string | null;
}

export const EMPTY_VIEW: BlocksView = {
  blocks: [], deletionMarks: new Map(), noCompactMarks: new Map(), noDownsampleMarks: new Map(), partial: [], refreshedAt: null, err: null,
};

export interface BlocksApiOptions {
  /** --label / --bucket-web-label: the external label whose value titles a stream. */
  label: string;
  /** /api/v1/status/flags (values as strings, as Thanos serves them). */
  flags: Record<string, string>;
  disableAdminOperations: boolean;
  views: { global: () => BlocksView; loaded?: () => BlocksView };
  /** Put a marker (the page's admin actions). */
  mark(id: string, kind: MarkerKind, detail: string): Promise<void>;
  /** Compaction ranges for the backlog (Thanos' levels); default 2h, 8h, 2d, 14d after 1h. */
  ranges?: readonly number[];
  /** The compactor's --deduplication.replica-label: replicas of a stream are one group in the backlog. */
  replicaLabels?: readonly string[];
}

const ACTIONS: Record<string, MarkerKind> = { DELETION: "deletion", NO_COMPACTION: "no-compact", NO_DOWNSAMPLE: "no-downsample" };
const DEFAULT_RANGES = [1, 2, 8, 48, 336].map((h) => h * 3600e3);

function json(c: Context, body: string) {
  return c.body(body, 200, { "Content-Type": "application/json" });
}

function apiError(c: Context, msg: string) {
  return c.body(goJson({ status: "error", errorType: "bad_data", error: msg }), 400, { "Content-Type": "application/json", "Cache-Control": "no-store" });
}

/** The per-group backlog of a view: what the planner would compact next, and blocks due for downsampling. */
export function viewGroups(v: BlocksView, ranges: readonly number[] = DEFAULT_RANGES, replicaLabels: readonly string[] = []): Record<string, unknown>[] {
  const strip = (m: BlockMeta): BlockMeta => {
    if (replicaLabels.length === 0 || !m.thanos) return m;
    const labels = { ...m.thanos.labels };
    for (const r of replicaLabels) delete labels[r];
    return { ...m, thanos: { ...m.thanos, labels } };
  };
  const live = v.blocks.filter((m) => !v.deletionMarks.has(m.ulid)).map(strip);
  const jobs = new Set(downsampleJobs(live, v.noDownsampleMarks).map((j) => j.meta.ulid));
  return groupBlocks(live).map((g) => {
    const b = compactionBacklog([g], ranges, v.noCompactMarks);
    return {
      key: g.key, labels: Object.fromEntries(g.labels.map((l) => [l.name, l.value])), resolution: g.resolution, blocks: g.metas.length,
      compactions: b.compactions, compactionBlocks: b.blocks, downsample: g.metas.filter((m) => jobs.has(m.ulid)).length,
    };
  });
}

/** The `data` of GET /api/v1/blocks. */
export function blocksData(label: string, v: BlocksView, ranges?: readonly number[], replicaLabels: readonly string[] = []): Record<string, unknown> {
  const marks: Record<string, Record<string, unknown>> = {};
  const put = (id: string, k: string, m: unknown) => { (marks[id] ??= {})[k] = m; };
  for (const [id, m] of v.deletionMarks) put(id, "deletion", m);
  for (const [id, m] of v.noCompactMarks) put(id, "noCompact", m);
  for (const [id, m] of v.noDownsampleMarks) put(id, "noDownsample", m);
  return {
    label,
    blocks: v.blocks.map(thanosMetaGoValue),
    refreshedAt: v.refreshedAt === null ? "0001-01-01T00:00:00Z" : goJsonTime(new Date(v.refreshedAt).toISOString()),
    err: v.err,
    marks,
    partial: [...v.partial].sort(),
    groups: viewGroups(v, ranges, replicaLabels),
    replicaLabels,
  };
}

/** The API as a hono app (mount it at the route prefix). */
export function blocksApi(o: BlocksApiOptions): Hono {
  const app = new Hono();
  app.get("/api/v1/blocks", (c) => {
    const v = c.req.query("view") === "loaded" ? (o.views.loaded?.() ?? EMPTY_VIEW) : o.views.global();
    return json(c, goJson({ status: "success", data: blocksData(o.label, v, o.ranges, o.replicaLabels) }));
  });
  app.post("/api/v1/blocks/mark", async (c) => {
    if (o.disableAdminOperations) return apiError(c, "Admin operations are disabled");
    const form = await c.req.parseBody().catch(() => ({} as Record<string, unknown>));
    const str = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : c.req.query(k) ?? "");
    const id = str("id"), action = str("action"), detail = str("detail");
    if (id === "") return apiError(c, "ID cannot be empty");
    if (action === "") return apiError(c, "Action cannot be empty");
    const bad = ulidParseError(id);
    if (bad) return apiError(c, `ULID ${JSON.stringify(id)} is not valid: ${bad}`);
    const kind = ACTIONS[action];
    if (!kind) return apiError(c, `not supported marker ${action}`);
    try {
      await o.mark(id, kind, detail);
    } catch (e) {
      return apiError(c, errorMessage(e));
    }
    return json(c, goJson({ status: "success" }));
  });
  app.get("/api/v1/status/flags", (c) => json(c, goJson({ status: "success", data: o.flags })));
  return app;
}

/**
 * The bucket as the page's global view: a sync through `filters` (Thanos: none for the compactor; time
 * range, label sharding and deduplication for `tools bucket web`) that also gathers every block's
 * marks. The previous view is kept when a refresh fails (its error is shown), as Thanos does.
 */
export class GlobalBlocks {
  private current: BlocksView = EMPTY_VIEW;
  private readonly fetcher: MetaFetcher;

  constructor(bkt: Bucket, filters: MetaFilter[], private readonly o: { concurrency?: number; now?: () => number } = {}) {
    this.fetcher = new MetaFetcher(bkt, { filters, concurrency: o.concurrency ?? 32, now: o.now });
  }

  view(): BlocksView { return this.current; }

  /** One sync; throws (after recording the error in the view) when it fails. */
  async refresh(): Promise<FetchResult> {
    const now = (this.o.now ?? Date.now)();
    try {
      const r = await this.fetcher.fetch();
      if (r.incomplete.length > 0) throw new CodedError("unavailable", `incomplete view: meta.json of ${r.incomplete.length} blocks could not be read: ${r.problems.join("; ")}`);
      this.current = {
        blocks: [...r.metas.values()].sort((a, b) => (a.ulid < b.ulid ? -1 : 1)),
        deletionMarks: r.deletionMarks, noCompactMarks: r.noCompactMarks, noDownsampleMarks: r.noDownsampleMarks,
        partial: [...r.partial.keys()], refreshedAt: now, err: null,
      };
      return r;
    } catch (e) {
      this.current = { ...this.current, refreshedAt: now, err: errorMessage(e) };
      throw e;
    }
  }

  /**
   * Refresh every `intervalMs` until `signal` aborts (the first one at once); a failed refresh is logged
   * and tried again after a minute (or the interval, if shorter), as Thanos' runutil.RetryWithLog does.
   */
  async run(o: { intervalMs: number; timeoutMs: number; signal: AbortSignal; log: LogFn }): Promise<void> {
    const sleep = (ms: number) => new Promise<void>((resolve) => {
      if (o.signal.aborted) return resolve();
      const done = () => { clearTimeout(t); resolve(); };
      const t = setTimeout(() => { o.signal.removeEventListener("abort", done); resolve(); }, ms);
      o.signal.addEventListener("abort", done, { once: true });
    });
    while (!o.signal.aborted) {
      let timer: unknown;
      try {
        await Promise.race([
          this.refresh(),
          new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new CodedError("timeout", `sync blocks for the blocks page: no answer after ${o.timeoutMs} ms`)), o.timeoutMs); }),
        ]);
      } catch (e) {
        o.log("error", "blocks page: refreshing the block metadata failed; retrying", { err: errorMessage(e) });
        clearTimeout(timer);
        await sleep(Math.min(60e3, o.intervalMs));
        continue;
      }
      clearTimeout(timer);
      await sleep(o.intervalMs);
    }
  }
}
