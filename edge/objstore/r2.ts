// Bucket over a Cloudflare R2 binding (Workers). The binding's type is declared structurally here, so
// this file typechecks without @cloudflare/workers-types (the main tsconfig uses Bun's types) and the
// real `R2Bucket` from workers-types is assignable to it.
//
// Worker memory is 128 MiB, so streamed uploads are cut into parts of `partSize` (default 16 MiB; R2,
// like S3, wants equal parts of at least 5 MiB but the last) and sent as a multipart upload when they do
// not fit in one part; at most two parts are held at once.

import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";
import {
  type Bucket, type IterOptions, type ObjectAttributes, type UploadData,
  DIR_DELIM, checkKey, checkRange, compareKeys, dirPrefix, fixedChunks, rangePastEnd,
} from "../../shared/objstore/bucket.ts";
import { MIN_PART_SIZE } from "../../shared/objstore/config.ts";

export interface R2ObjectLike {
  key: string;
  size: number;
  uploaded: Date;
}
export interface R2ObjectBodyLike extends R2ObjectLike {
  arrayBuffer(): Promise<ArrayBuffer>;
}
export interface R2MultipartUploadLike {
  uploadPart(partNumber: number, value: ArrayBuffer | ArrayBufferView): Promise<{ partNumber: number; etag: string }>;
  complete(parts: { partNumber: number; etag: string }[]): Promise<unknown>;
  abort(): Promise<void>;
}
export interface R2BucketLike {
  head(key: string): Promise<R2ObjectLike | null>;
  get(key: string, options?: { range?: { offset: number; length?: number } }): Promise<R2ObjectBodyLike | R2ObjectLike | null>;
  put(key: string, value: ArrayBuffer | ArrayBufferView): Promise<unknown>;
  delete(keys: string | string[]): Promise<void>;
  list(options?: { prefix?: string; delimiter?: string; cursor?: string; limit?: number }): Promise<{
    objects: R2ObjectLike[]; delimitedPrefixes: string[]; truncated: boolean; cursor?: string;
  }>;
  createMultipartUpload(key: string): Promise<R2MultipartUploadLike>;
}

export class R2Bucket implements Bucket {
  readonly name: string;
  private readonly partSize: number;

  constructor(private readonly r2: R2BucketLike, opts: { name?: string; partSize?: number } = {}) {
    this.name = `r2:${opts.name ?? "binding"}`;
    this.partSize = Math.max(MIN_PART_SIZE, opts.partSize ?? 16 * 1024 * 1024);
  }

  private fail(e: unknown, op: string, key: string): never {
    if (e instanceof CodedError) throw e;
    // The binding throws plain Errors ("get: ... (10001)"); they are R2 or network trouble, not answers.
    throw new CodedError("unavailable", `${op} ${key} in bucket ${this.name}: ${errorMessage(e)}`, { cause: e });
  }

  async get(key: string): Promise<Uint8Array> {
    checkKey(this.name, key, "get");
    let o;
    try { o = await this.r2.get(key); } catch (e) { this.fail(e, "get", key); }
    if (!o) throw new CodedError("not_found", `get ${key} in bucket ${this.name}: object not found`);
    return new Uint8Array(await (o as R2ObjectBodyLike).arrayBuffer());
  }

  async getRange(key: string, off: number, len: number): Promise<Uint8Array> {
    checkRange(this.name, key, off, len);
    checkKey(this.name, key, "get range of");
    if (len === 0) {
      const { size } = await this.attributes(key);
      if (off > size) throw rangePastEnd(this.name, key, off, size);
      return new Uint8Array(0);
    }
    let o;
    try {
      o = await this.r2.get(key, { range: len < 0 ? { offset: off } : { offset: off, length: len } });
    } catch (e) {
      // R2 refuses ranges starting at or past the end (and any range of an empty object) with an error,
      // not a 416 we could tell apart: look at the size to say which it was.
      const size = await this.r2.head(key).then((h) => (h ? h.size : -1), () => -2);
      if (size === -1) throw new CodedError("not_found", `get range of ${key} in bucket ${this.name}: object not found`);
      if (size >= 0 && off >= size) {
        if (off > size) throw rangePastEnd(this.name, key, off, size);
        return new Uint8Array(0);
      }
      this.fail(e, "get range of", key);
    }
    if (!o) throw new CodedError("not_found", `get range of ${key} in bucket ${this.name}: object not found`);
    return new Uint8Array(await (o as R2ObjectBodyLike).arrayBuffer());
  }

  async exists(key: string): Promise<boolean> {
    checkKey(this.name, key, "exists");
    try { return (await this.r2.head(key)) !== null; } catch (e) { this.fail(e, "exists", key); }
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    checkKey(this.name, key, "attributes of");
    let h;
    try { h = await this.r2.head(key); } catch (e) { this.fail(e, "attributes of", key); }
    if (!h) throw new CodedError("not_found", `attributes of ${key} in bucket ${this.name}: object not found`);
    return { size: h.size, lastModified: new Date(h.uploaded) };
  }

  async *iter(prefix: string, opts?: IterOptions): AsyncIterable<string> {
    const dir = dirPrefix(prefix);
    const recursive = opts?.recursive ?? false;
    let cursor: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.r2.list({ prefix: dir, delimiter: recursive ? undefined : DIR_DELIM, cursor, limit: 1000 });
      } catch (e) { this.fail(e, "list", dir || "(root)"); }
      const names = page.objects.map((o) => o.key).filter((k) => k !== dir);
      names.push(...page.delimitedPrefixes);
      yield* names.sort(compareKeys);
      if (!page.truncated || !page.cursor) return;
      cursor = page.cursor;
    }
  }

  async upload(key: string, data: UploadData): Promise<void> {
    checkKey(this.name, key, "upload");
    if (data instanceof Uint8Array && data.length <= this.partSize) {
      try { await this.r2.put(key, data); } catch (e) { this.fail(e, "upload", key); }
      return;
    }
    const parts = fixedChunks(data, this.partSize)[Symbol.asyncIterator]();
    const first = await parts.next();
    const second = first.done ? first : await parts.next();
    if (second.done) {
      try { await this.r2.put(key, first.done ? new Uint8Array(0) : first.value); } catch (e) { this.fail(e, "upload", key); }
      return;
    }
    let mp: R2MultipartUploadLike;
    try { mp = await this.r2.createMultipartUpload(key); } catch (e) { this.fail(e, "upload", key); }
    try {
      const done: { partNumber: number; etag: string }[] = [];
      let n = 0;
      done.push(await mp.uploadPart(++n, first.value as Uint8Array));
      done.push(await mp.uploadPart(++n, second.value));
      for (let r = await parts.next(); !r.done; r = await parts.next()) if (r.value.length > 0) done.push(await mp.uploadPart(++n, r.value));
      await mp.complete(done);
    } catch (e) {
      await mp.abort().catch(() => undefined);
      this.fail(e, "upload", key);
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(this.name, key, "delete");
    try { await this.r2.delete(key); } catch (e) { this.fail(e, "delete", key); }
  }
}
