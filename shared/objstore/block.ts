// Blocks in a bucket, laid out as Thanos does: "<ULID>/meta.json", "<ULID>/index", "<ULID>/chunks/000001"…
//
// Visibility rule shared with every reader (store gateway, compactor, bucket tools): a block exists once
// its meta.json does. So uploads write chunks, then the index, then meta.json LAST, and deletion removes
// meta.json FIRST; any failure in between leaves at worst files without meta.json, which readers ignore
// (Thanos' compactor cleans such partial uploads after a grace period).

import { CodedError, errorMessage } from "../encoding/errors.ts";
import { type Bucket, type UploadData, DIR_DELIM, compareKeys } from "./bucket.ts";
import { type RetryOptions, retry } from "./retry.ts";

export const META_FILE = "meta.json";
export const INDEX_FILE = "index";
export const CHUNKS_DIR = "chunks";
export const DELETION_MARK_FILE = "deletion-mark.json";

export interface BlockFile {
  /** Path inside the block, "/"-separated: "meta.json", "index", "chunks/000001". */
  path: string;
  /**
   * The bytes, or a function opening them as a stream. A function is called again for each retry, so a
   * file streamed from disk can be re-sent after a failure.
   */
  data: Uint8Array | (() => UploadData);
}

export interface UploadBlockOptions extends RetryOptions {
  /** Called after each file is stored (progress, logs). */
  onFile?: (key: string) => void;
}

const ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function isBlockId(s: string): boolean {
  return ULID_RE.test(s);
}

/** chunks/* in name order, then index, then any other file, meta.json last. */
export function uploadOrder(files: BlockFile[]): BlockFile[] {
  const rank = (p: string) => (p.startsWith(CHUNKS_DIR + DIR_DELIM) ? 0 : p === INDEX_FILE ? 1 : p === META_FILE ? 3 : 2);
  return [...files].sort((a, b) => rank(a.path) - rank(b.path) || compareKeys(a.path, b.path));
}

/**
 * Uploads one block. Each file is retried on transient errors; if one still fails, the files already
 * stored are deleted (best effort) and meta.json is never written, so the block never becomes visible
 * half-uploaded.
 */
export async function uploadBlock(bkt: Bucket, ulid: string, files: BlockFile[], opts: UploadBlockOptions = {}): Promise<void> {
  const what = `upload block ${ulid} to bucket ${bkt.name}`;
  if (!isBlockId(ulid)) throw new CodedError("bad_data", `${what}: ${JSON.stringify(ulid)} is not a block ULID`);
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new CodedError("bad_data", `${what}: file ${f.path} given twice`);
    seen.add(f.path);
  }
  const meta = files.find((f) => f.path === META_FILE);
  if (!meta) throw new CodedError("bad_data", `${what}: no ${META_FILE} among the files`);
  if (!seen.has(INDEX_FILE)) throw new CodedError("bad_data", `${what}: no ${INDEX_FILE} among the files`);
  if (meta.data instanceof Uint8Array) checkMetaUlid(meta.data, ulid, what);

  const stored: string[] = [];
  let metaTried = false;
  try {
    for (const f of uploadOrder(files)) {
      const key = `${ulid}/${f.path}`;
      if (f.path === META_FILE) metaTried = true;
      await retry(`${what}: file ${f.path}`, () => bkt.upload(key, typeof f.data === "function" ? f.data() : f.data), opts);
      stored.push(key);
      opts.onFile?.(key);
    }
  } catch (e) {
    // meta.json is last, so it is not among `stored` unless everything succeeded. But a meta.json upload
    // that "failed" may still have landed (the reply was lost): delete it first, so the block is not left
    // visible while its other files go.
    if (metaTried) {
      try { await bkt.delete(`${ulid}/${META_FILE}`); } catch { /* best effort */ }
    }
    for (const key of stored) {
      try { await bkt.delete(key); } catch { /* best effort: without meta.json the leftovers are invisible */ }
    }
    throw e instanceof CodedError ? e : new CodedError("unavailable", `${what}: ${errorMessage(e)}`, { cause: e });
  }
}

function checkMetaUlid(bytes: Uint8Array, ulid: string, what: string): void {
  let m: unknown;
  try {
    m = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new CodedError("bad_data", `${what}: ${META_FILE} is not JSON: ${errorMessage(e)}`);
  }
  const got = (m as { ulid?: unknown } | null)?.ulid;
  if (got !== ulid) throw new CodedError("bad_data", `${what}: ${META_FILE} names block ${JSON.stringify(got)}, not ${ulid}`);
}

/**
 * Deletes a block: meta.json first (the block disappears for readers), then every other file, and a
 * deletion mark last (so a compactor that crashes midway still knows the block was being deleted).
 * Idempotent: deleting a block that is already gone, fully or partly, succeeds. Returns the number of
 * objects deleted.
 */
export async function deleteBlock(bkt: Bucket, ulid: string, opts: RetryOptions = {}): Promise<number> {
  const what = `delete block ${ulid} from bucket ${bkt.name}`;
  if (!isBlockId(ulid)) throw new CodedError("bad_data", `${what}: ${JSON.stringify(ulid)} is not a block ULID`);
  let n = 0;
  const del = async (key: string) => {
    await retry(`${what}: ${key}`, () => bkt.delete(key), opts);
    n++;
  };
  // Deleting a missing object succeeds on every bucket, so only count meta.json when it was there.
  const meta = `${ulid}/${META_FILE}`;
  if (await retry(`${what}: ${META_FILE}`, () => bkt.exists(meta), opts)) await del(meta);
  const keys: string[] = [];
  await retry(`${what}: listing`, async () => {
    keys.length = 0;
    for await (const k of bkt.iter(ulid, { recursive: true })) keys.push(k);
  }, opts);
  const mark = `${ulid}/${DELETION_MARK_FILE}`;
  for (const k of keys) if (k !== mark && k !== `${ulid}/${META_FILE}`) await del(k);
  if (keys.includes(mark)) await del(mark);
  return n;
}

/** Block ids with a directory in the bucket, visible or not (partial uploads included). */
export async function* iterBlockDirs(bkt: Bucket): AsyncGenerator<string> {
  for await (const k of bkt.iter("")) {
    if (!k.endsWith(DIR_DELIM)) continue;
    const id = k.slice(0, -1);
    if (isBlockId(id)) yield id;
  }
}

/** Visible blocks: ids whose meta.json exists, in id (= time of creation) order. */
export async function listBlocks(bkt: Bucket): Promise<string[]> {
  const out: string[] = [];
  for await (const id of iterBlockDirs(bkt)) {
    if (await bkt.exists(`${id}/${META_FILE}`)) out.push(id);
  }
  return out;
}

/** Every file of a block as (path inside the block, bytes); for downloads into memory and tests. */
export async function readBlockFiles(bkt: Bucket, ulid: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const k of bkt.iter(ulid, { recursive: true })) out.set(k.slice(ulid.length + 1), await bkt.get(k));
  return out;
}
