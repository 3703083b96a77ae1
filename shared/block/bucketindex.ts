// The bucket index: one JSON object ("bucket-index.json" at the bucket root) with every visible block's
// meta.json (minus the file list) and every deletion mark, so readers (the store gateway, a Worker) learn
// what a bucket holds with one GET instead of a LIST plus a GET per block. The listing stays the truth
// (shared/block/listing.ts); every writer (shipper, compactor, bucket tools) updates the index after it
// changes the bucket. Design notes: docs/bucket-index.md.

import { CodedError, errorMessage } from "../encoding/errors.ts";
import { isNotFound, type Bucket } from "../objstore/bucket.ts";
import { type BlockMeta, parseBlockMeta } from "../tsdb/meta.ts";
import { listBucketBlocks } from "./listing.ts";
import { type DeletionMark, parseMarker } from "./markers.ts";

export const BUCKET_INDEX_FILE = "bucket-index.json";
export const BUCKET_INDEX_VERSION = 1;
/** An index larger than this is refused (a Worker must not hold an unbounded JSON document). */
export const MAX_BUCKET_INDEX_BYTES = 64 << 20;

export interface BucketIndex {
  version: number;
  /** Unix ms of the last write. */
  updated_at: number;
  /** meta.json of every visible block, sorted by ULID, without `thanos.files`. */
  blocks: BlockMeta[];
  deletion_marks: DeletionMark[];
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** meta.json without `thanos.files` (the bulk of a meta.json, only needed by tools verifying uploads). */
export function slimMeta(m: BlockMeta): BlockMeta {
  if (!m.thanos?.files) return m;
  const { files: _files, ...thanos } = m.thanos;
  return { ...m, thanos: thanos as BlockMeta["thanos"] & object };
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
  const marks = o.deletion_marks.map((m, i) => parseMarker("deletion", enc.encode(JSON.stringify(m)), `${what} deletion mark ${i}`));
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

/** Rebuild the index from a listing and write it. */
export async function rebuildBucketIndex(bkt: Bucket, now = Date.now()): Promise<{ index: BucketIndex; problems: string[] }> {
  const d = await listBucketBlocks(bkt, { deletionMarks: true });
  const index: BucketIndex = {
    version: BUCKET_INDEX_VERSION, updated_at: now,
    blocks: d.metas.map(slimMeta).sort((a, b) => (a.ulid < b.ulid ? -1 : a.ulid > b.ulid ? 1 : 0)),
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

