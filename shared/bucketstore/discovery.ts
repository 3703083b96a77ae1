// Which blocks a bucket holds, without listing the bucket on every request.
//
// The truth is the listing: a block is a "<ULID>/" folder whose meta.json exists (no meta.json = an
// upload in progress, since uploaders write it last). Listing is one LIST plus one GET per block, too slow
// to do per request on a large bucket, so writers also maintain a bucket index: one JSON object
// ("bucket-index.json" at the bucket root) with every block's meta.json (minus the file list) and every
// deletion mark. Readers fetch that one object, at most once per TTL, and fall back to the listing when it
// is missing, unreadable or older than they accept. Design notes: docs/bucket-index.md.

import { CodedError, errorMessage } from "../encoding/errors.ts";
import { isNotFound, type Bucket } from "../objstore/bucket.ts";
import { DELETION_MARK_FILE, iterBlockDirs, META_FILE } from "../objstore/block.ts";
import { type BlockMeta, parseBlockMeta } from "../tsdb/meta.ts";
import { isUlid, ulidTime } from "../tsdb/ulid.ts";

export const BUCKET_INDEX_FILE = "bucket-index.json";
export const BUCKET_INDEX_VERSION = 1;
/** An index larger than this is refused (a Worker must not hold an unbounded JSON document). */
export const MAX_BUCKET_INDEX_BYTES = 64 << 20;

/** Thanos' deletion-mark.json: deletion_time is Unix seconds. */
export interface DeletionMark { id: string; deletion_time: number; version: number; details?: string }

export interface BucketIndex {
  version: number;
  /** Unix ms of the last write. */
  updated_at: number;
  /** meta.json of every visible block, sorted by ULID, without `thanos.files`. */
  blocks: BlockMeta[];
  deletion_marks: DeletionMark[];
}

export interface Discovered {
  metas: BlockMeta[];
  marks: Map<string, DeletionMark>;
  source: "index" | "listing";
  /** Blocks skipped because their meta.json or mark could not be read (named, with the reason). */
  problems: string[];
  /** The index's updated_at when source is "index". */
  indexUpdatedAt?: number;
  /** Why the listing was used although an index was wanted ("no bucket index", "… old", "unreadable: …"). */
  fallback?: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

function slimMeta(m: BlockMeta): BlockMeta {
  if (!m.thanos?.files) return m;
  const { files: _files, ...thanos } = m.thanos;
  return { ...m, thanos: thanos as BlockMeta["thanos"] & object };
}

export function parseDeletionMark(b: Uint8Array, what: string): DeletionMark {
  let j: unknown;
  try { j = JSON.parse(dec.decode(b)); } catch (e) {
    throw new CodedError("corrupt", `${what}: not valid JSON: ${errorMessage(e)}`);
  }
  const m = j as Partial<DeletionMark>;
  if (typeof m !== "object" || m === null || typeof m.id !== "string" || !isUlid(m.id)) throw new CodedError("corrupt", `${what}: "id" is not a ULID`);
  if (typeof m.deletion_time !== "number" || !Number.isFinite(m.deletion_time)) throw new CodedError("corrupt", `${what}: "deletion_time" is not a number`);
  return { id: m.id, deletion_time: m.deletion_time, version: typeof m.version === "number" ? m.version : 1, details: m.details };
}

export function encodeBucketIndex(idx: BucketIndex): Uint8Array {
  return enc.encode(JSON.stringify(idx));
}

export function parseBucketIndex(b: Uint8Array, what = BUCKET_INDEX_FILE): BucketIndex {
  if (b.length > MAX_BUCKET_INDEX_BYTES) throw new CodedError("resource_exhausted", `${what}: ${b.length} bytes is over the ${MAX_BUCKET_INDEX_BYTES}-byte limit`);
  let j: unknown;
  try { j = JSON.parse(dec.decode(b)); } catch (e) {
    throw new CodedError("corrupt", `${what}: not valid JSON: ${errorMessage(e)}`);
  }
  const o = j as Partial<BucketIndex>;
  if (typeof o !== "object" || o === null) throw new CodedError("corrupt", `${what}: not a JSON object`);
  if (o.version !== BUCKET_INDEX_VERSION) throw new CodedError("corrupt", `${what}: unsupported version ${JSON.stringify(o.version)} (want ${BUCKET_INDEX_VERSION})`);
  if (typeof o.updated_at !== "number") throw new CodedError("corrupt", `${what}: "updated_at" is not a number`);
  if (!Array.isArray(o.blocks) || !Array.isArray(o.deletion_marks)) throw new CodedError("corrupt", `${what}: "blocks" or "deletion_marks" is not a list`);
  const blocks = o.blocks.map((m, i) => parseBlockMeta(enc.encode(JSON.stringify(m)), `${what} block ${i}`));
  const marks = o.deletion_marks.map((m, i) => parseDeletionMark(enc.encode(JSON.stringify(m)), `${what} deletion mark ${i}`));
  return { version: BUCKET_INDEX_VERSION, updated_at: o.updated_at, blocks, deletion_marks: marks };
}

/** The bucket index object, or null when there is none. Unreadable or corrupt: a CodedError. */
export async function readBucketIndex(bkt: Bucket): Promise<BucketIndex | null> {
  let b: Uint8Array;
  try {
    b = await bkt.get(BUCKET_INDEX_FILE);
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
  return parseBucketIndex(b, `${BUCKET_INDEX_FILE} in bucket ${bkt.name}`);
}

/**
 * Every visible block and deletion mark by listing: one LIST, then per block a GET of meta.json and,
 * when present, of deletion-mark.json (`concurrency` at a time). Blocks whose meta.json is missing are
 * uploads in progress and silently skipped; unreadable ones are named in `problems`.
 */
export async function listBucketBlocks(bkt: Bucket, opts: { concurrency?: number } = {}): Promise<Discovered> {
  const ids: string[] = [];
  for await (const id of iterBlockDirs(bkt)) ids.push(id);
  const metas: (BlockMeta | null)[] = new Array(ids.length).fill(null);
  const marks = new Map<string, DeletionMark>();
  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      const id = ids[i]!;
      try {
        const mb = await bkt.get(`${id}/${META_FILE}`);
        const m = parseBlockMeta(mb, `block ${id} ${META_FILE}`);
        if (m.ulid !== id) throw new CodedError("corrupt", `block ${id} ${META_FILE}: names block ${m.ulid}`);
        metas[i] = slimMeta(m);
      } catch (e) {
        if (!isNotFound(e)) problems.push(`block ${id}: ${errorMessage(e)}`);
        continue;
      }
      try {
        marks.set(id, parseDeletionMark(await bkt.get(`${id}/${DELETION_MARK_FILE}`), `block ${id} ${DELETION_MARK_FILE}`));
      } catch (e) {
        if (!isNotFound(e)) problems.push(`block ${id}: ${errorMessage(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 16) }, worker));
  return { metas: metas.filter((m): m is BlockMeta => m !== null), marks, source: "listing", problems };
}

/** Rebuild the index from a listing and write it. */
export async function rebuildBucketIndex(bkt: Bucket, now = Date.now()): Promise<{ index: BucketIndex; problems: string[] }> {
  const d = await listBucketBlocks(bkt);
  const index: BucketIndex = {
    version: BUCKET_INDEX_VERSION, updated_at: now,
    blocks: d.metas.sort((a, b) => (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0)),
    deletion_marks: [...d.marks.values()].sort((a, b) => (a.id < b.id ? -1 : 1)),
  };
  await bkt.upload(BUCKET_INDEX_FILE, encodeBucketIndex(index));
  return { index, problems: d.problems };
}

export interface UpdateBucketIndexOptions {
  /** Blocks just uploaded (their meta.json as written). */
  add?: BlockMeta[];
  /** Blocks just deleted. */
  remove?: string[];
  /** Deletion marks just written. */
  marks?: DeletionMark[];
  now?: number;
  /**
   * Wait before reading the index back to check the change survived (ms; default 100-400, jittered).
   * Two writers (two sidecars shipping at once) can each read the old index and overwrite the other's
   * addition; the read-back catches that and writes again.
   */
  verifyDelayMs?: number;
  /** Write attempts before giving up (default 5). */
  attempts?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => { setTimeout(() => r(), ms); });
}

/** True when `idx` reflects the change (added blocks and marks present, removed blocks gone). */
function hasChange(idx: BucketIndex, o: UpdateBucketIndexOptions): boolean {
  const blocks = new Set(idx.blocks.map((m) => m.ulid));
  const marks = new Set(idx.deletion_marks.map((m) => m.id));
  return (o.add ?? []).every((m) => blocks.has(m.ulid)) &&
    (o.marks ?? []).every((m) => marks.has(m.id) || !blocks.has(m.id)) &&
    (o.remove ?? []).every((id) => !blocks.has(id));
}

/**
 * What a writer calls after changing the bucket (the shipper after an upload; later the compactor):
 * read-modify-write of the index. A missing or unreadable index is rebuilt from a listing instead.
 *
 * Object stores offer no lock here, and several sidecars write the same index: a write that lands
 * between another writer's read and write is lost (seen in the e2e stack: a shipped block invisible to
 * the store gateway). So after writing, the index is read back after a short jittered pause, and the
 * change is applied again if a concurrent writer's version replaced it; each retry starts from that
 * newer version, so both writers' blocks end up in it. A persistent failure throws (the caller logs it:
 * the block is still found by listing once the index is older than --bucket-index.max-stale).
 */
export async function updateBucketIndex(bkt: Bucket, opts: UpdateBucketIndexOptions = {}): Promise<BucketIndex> {
  const attempts = opts.attempts ?? 5;
  for (let i = 1; ; i++) {
    const written = await updateOnce(bkt, opts);
    const delay = opts.verifyDelayMs ?? 100 + Math.floor(Math.random() * 300);
    if (delay > 0) await sleep(delay);
    let now: BucketIndex | null = null;
    try { now = await readBucketIndex(bkt); } catch { now = null; }
    if (now && hasChange(now, opts)) return now.updated_at === written.updated_at ? written : now;
    if (i >= attempts) {
      throw new CodedError("unavailable", `bucket index: the change (${(opts.add ?? []).length} added, ${(opts.remove ?? []).length} removed) did not survive ${attempts} writes: other writers keep replacing ${BUCKET_INDEX_FILE}`);
    }
  }
}

async function updateOnce(bkt: Bucket, opts: UpdateBucketIndexOptions): Promise<BucketIndex> {
  const now = opts.now ?? Date.now();
  let idx: BucketIndex | null = null;
  try { idx = await readBucketIndex(bkt); } catch { idx = null; }
  if (!idx) return (await rebuildBucketIndex(bkt, now)).index;
  const blocks = new Map(idx.blocks.map((m) => [m.ulid, m]));
  const marks = new Map(idx.deletion_marks.map((m) => [m.id, m]));
  for (const m of opts.add ?? []) blocks.set(m.ulid, slimMeta(m));
  for (const m of opts.marks ?? []) marks.set(m.id, m);
  for (const id of opts.remove ?? []) { blocks.delete(id); marks.delete(id); }
  const next: BucketIndex = {
    version: BUCKET_INDEX_VERSION, updated_at: now,
    blocks: [...blocks.values()].sort((a, b) => (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0)),
    deletion_marks: [...marks.values()].filter((m) => blocks.has(m.id)).sort((a, b) => (a.id < b.id ? -1 : 1)),
  };
  await bkt.upload(BUCKET_INDEX_FILE, encodeBucketIndex(next));
  return next;
}

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
}

/** Blocks and marks from the index when usable, else from a listing (reason in problems). */
export async function discoverBlocks(bkt: Bucket, o: DiscoverOptions): Promise<Discovered> {
  if (o.indexMaxStaleMs > 0) {
    let why = "";
    try {
      const idx = await readBucketIndex(bkt);
      if (!idx) why = "no bucket index";
      else if (o.now - idx.updated_at > o.indexMaxStaleMs) why = `bucket index is ${Math.round((o.now - idx.updated_at) / 1000)}s old (max ${Math.round(o.indexMaxStaleMs / 1000)}s)`;
      else if (o.lastListedAt !== undefined && o.now - o.lastListedAt > o.indexMaxStaleMs) why = `last listing ${Math.round((o.now - o.lastListedAt) / 1000)}s ago (listed at least every ${Math.round(o.indexMaxStaleMs / 1000)}s, for blocks a racing index writer dropped)`;
      else return { metas: idx.blocks, marks: new Map(idx.deletion_marks.map((m) => [m.id, m])), source: "index", problems: [], indexUpdatedAt: idx.updated_at };
    } catch (e) {
      why = `bucket index unreadable: ${errorMessage(e)}`;
    }
    const d = await listBucketBlocks(bkt);
    d.fallback = why;
    return d;
  }
  return listBucketBlocks(bkt);
}

export interface BlockFilterOptions {
  now: number;
  /** Blocks whose ULID time is younger than this are ignored (uploads may still be settling). */
  consistencyDelayMs: number;
  /** Blocks with a deletion mark older than this are ignored. */
  ignoreDeletionMarksDelayMs: number;
  /** Serve only blocks overlapping [minTime, maxTime]. */
  minTime: number;
  maxTime: number;
}

/**
 * Thanos' meta filters for the store gateway: time range (--min-time/--max-time), consistency delay
 * (by ULID time; Thanos exempts blocks made by the compactor or repair, which are complete when
 * visible), deletion marks past --ignore-deletion-marks-delay.
 */
export function filterBlocks(d: Discovered, o: BlockFilterOptions): BlockMeta[] {
  return d.metas.filter((m) => {
    if (m.maxTime <= o.minTime || m.minTime > o.maxTime) return false;
    const src = m.thanos?.source ?? "";
    if (src !== "compactor" && src !== "bucket.repair" && o.now - ulidTime(m.ulid) < o.consistencyDelayMs) return false;
    const mark = d.marks.get(m.ulid);
    if (mark && o.now - mark.deletion_time * 1000 >= o.ignoreDeletionMarksDelayMs) return false;
    return true;
  });
}
