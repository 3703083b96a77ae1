// The object storage seam: every runtime's bucket (memory, filesystem, S3, R2) implements this, and
// everything above it (block upload, store gateway range reads, compactor) sees only this.
//
// Semantics every implementation follows (checked by one contract suite, test/unit/objstore/contract.ts):
// - Keys are "/"-separated object names without a leading "/" ("01H.../chunks/000001").
// - A missing key is a CodedError "not_found" (recognise it with `isNotFound(e)`), never an empty result.
// - `iter(prefix)` treats `prefix` as a directory, as Thanos' objstore does: "01H..." and "01H.../" list the
//   same entries. Non-recursive listings yield objects and sub-"directories" (ending in "/") directly below
//   it; recursive listings yield every object below it. Names are full keys, sorted in byte (UTF-8) order,
//   which is the order S3 and R2 list in. A "directory" exists only while an object is below it.
// - `getRange(key, off, len)` returns bytes [off, min(off+len, size)); `len` -1 means "to the end" (Thanos'
//   convention). Reading at exactly the end gives an empty array; starting past the end is "bad_data".
// - `upload` replaces the object atomically: readers see the old object or the whole new one, never a
//   prefix of it. An upload from an async iterable is consumed once, so only wrappers that can replay the
//   data (byte arrays) retry it.
// - Errors say what was done, on which bucket and key. Transient failures (5xx, resets, timeouts) carry
//   the code "unavailable", which is what `withRetries` retries on; 4xx-like failures never do.

import { concatBytes } from "../encoding/bytes.ts";
import { CodedError, errorCode } from "../encoding/errors.ts";

export interface ObjectAttributes {
  size: number;
  lastModified: Date;
}

export interface IterOptions {
  recursive?: boolean;
}

export type UploadData = Uint8Array | AsyncIterable<Uint8Array>;

export interface Bucket {
  /** For messages and metrics: "fs:/data/bucket", "s3:thanos", "mem:test". */
  readonly name: string;
  get(key: string): Promise<Uint8Array>;
  getRange(key: string, off: number, len: number): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
  attributes(key: string): Promise<ObjectAttributes>;
  iter(prefix: string, opts?: IterOptions): AsyncIterable<string>;
  upload(key: string, data: UploadData): Promise<void>;
  /** Deleting a missing key succeeds, as DELETE does on S3 and R2 (no extra request to find out). */
  delete(key: string): Promise<void>;
}

export const DIR_DELIM = "/";

export function notFound(bucket: string, key: string, op = "get"): CodedError {
  return new CodedError("not_found", `${op} ${key} in bucket ${bucket}: object not found`);
}

export function isNotFound(e: unknown): boolean {
  return errorCode(e) === "not_found";
}

/** Errors worth retrying: the dependency did not answer or answered 5xx. */
export function isTransient(e: unknown): boolean {
  const c = errorCode(e);
  return c === "unavailable" || c === "timeout";
}

/** Rejects keys no backend can store the same way: empty, leading "/", empty or dot segments. */
export function checkKey(bucket: string, key: string, op: string): void {
  if (typeof key !== "string" || key === "") throw new CodedError("bad_data", `${op} in bucket ${bucket}: empty object key`);
  if (key.startsWith("/") || key.endsWith("/")) {
    throw new CodedError("bad_data", `${op} ${JSON.stringify(key)} in bucket ${bucket}: object key must not start or end with "/"`);
  }
  for (const seg of key.split("/")) {
    if (seg === "" || seg === "." || seg === "..") {
      throw new CodedError("bad_data", `${op} ${JSON.stringify(key)} in bucket ${bucket}: object key has an empty, "." or ".." segment`);
    }
  }
}

/** Validates getRange arguments (integers, offset >= 0, length >= 0 or -1 for "to the end"). */
export function checkRange(bucket: string, key: string, off: number, len: number): void {
  if (!Number.isSafeInteger(off) || off < 0 || !Number.isSafeInteger(len) || len < -1) {
    throw new CodedError("bad_data", `get range of ${key} in bucket ${bucket}: invalid range offset ${off} length ${len}`);
  }
}

export function rangePastEnd(bucket: string, key: string, off: number, size: number): CodedError {
  return new CodedError("bad_data", `get range of ${key} in bucket ${bucket}: offset ${off} is past the end of the object (size ${size})`);
}

/** Directory form of a listing prefix: "" stays "", "a" and "a/" become "a/". */
export function dirPrefix(prefix: string): string {
  if (prefix === "" || prefix === DIR_DELIM) return "";
  return prefix.endsWith(DIR_DELIM) ? prefix : prefix + DIR_DELIM;
}

/**
 * Byte-order (UTF-8) comparison of keys. JS `<` compares UTF-16 code units, which disagrees with UTF-8
 * order only when a surrogate pair meets a BMP character at or above U+E000; S3 and R2 list in UTF-8 order.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff, ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1; // a surrogate (code point >= U+10000) sorts after any BMP char
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Sorted listing entries from a sorted list of full keys below `dir` (already in directory form):
 * the building block for buckets that hold all keys (memory) or list flat pages (S3 without delimiter).
 */
export function listingEntries(keys: Iterable<string>, dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  let lastDir = "";
  for (const k of keys) {
    if (!k.startsWith(dir)) continue;
    if (recursive) { out.push(k); continue; }
    const slash = k.indexOf(DIR_DELIM, dir.length);
    if (slash < 0) { out.push(k); continue; }
    const d = k.slice(0, slash + 1);
    if (d !== lastDir) { out.push(d); lastDir = d; }
  }
  return out.sort(compareKeys);
}

/** All listing entries, for callers that want an array. */
export async function listAll(bkt: Bucket, prefix: string, opts?: IterOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const k of bkt.iter(prefix, opts)) out.push(k);
  return out;
}

/** Concatenates an upload body into one array, failing beyond `limit` bytes instead of exhausting memory. */
export async function collectBytes(data: UploadData, limit = Number.MAX_SAFE_INTEGER, what = "upload body"): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const p of data) {
    total += p.length;
    if (total > limit) throw new CodedError("resource_exhausted", `${what}: more than ${limit} bytes`);
    parts.push(p);
  }
  return concatBytes(parts, total);
}

export { concatBytes };

/**
 * Re-chunks an upload body into pieces of exactly `size` bytes (the last may be shorter, or empty when the
 * body is): what multipart uploads need. Holds at most one piece plus one incoming chunk, and allocates
 * only what arrives (a small body does not cost a part-sized buffer).
 */
export async function* fixedChunks(data: UploadData, size: number): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) {
    if (data.length === 0) { yield data; return; }
    for (let o = 0; o < data.length; o += size) yield data.subarray(o, Math.min(o + size, data.length));
    return;
  }
  let pending: Uint8Array[] = [];
  let total = 0, any = false;
  for await (const p of data) {
    if (p.length === 0) continue;
    pending.push(p);
    total += p.length;
    while (total >= size) {
      const out = new Uint8Array(size);
      let o = 0;
      while (o < size) {
        const head = pending[0]!;
        const n = Math.min(size - o, head.length);
        out.set(head.subarray(0, n), o);
        o += n;
        if (n === head.length) pending.shift();
        else pending[0] = head.subarray(n);
      }
      total -= size;
      any = true;
      yield out;
    }
  }
  if (total > 0 || !any) yield concatBytes(pending, total);
  pending = [];
}
