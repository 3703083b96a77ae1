// A bucket that fails on purpose: every Nth call of the chosen operations throws a transient
// ("unavailable") error. Used to prove that block uploads are atomic and retried, here and in the
// sidecar/store-gateway tests.

import { CodedError, type ErrorCode } from "../encoding/errors.ts";
import type { Bucket, IterOptions, ObjectAttributes, UploadData } from "./bucket.ts";

export type BucketOp = "get" | "getRange" | "exists" | "attributes" | "iter" | "upload" | "delete";

export interface FaultOptions {
  /** Fail every Nth counted call (1 = every call). 0 disables failures. */
  failEvery: number;
  /** Operations that count and fail (default: all). */
  ops?: BucketOp[];
  /** Only calls on keys (or listing prefixes) matching this count and fail. */
  keys?: (key: string) => boolean;
  /**
   * How a failing call fails:
   * - "before": throws without touching the bucket (a request that never arrived);
   * - "after": performs the call, then throws (the reply was lost: the operation did happen);
   * - "midway": uploads pass the inner bucket a body that breaks after half its bytes (a connection
   *   reset during the upload); other operations behave as "before".
   */
  mode?: "before" | "after" | "midway";
  /** Error code thrown (default "unavailable", i.e. transient). */
  code?: ErrorCode;
}

export class FaultyBucket implements Bucket {
  readonly name: string;
  /** Counted calls so far and how many of them failed. */
  calls = 0;
  failures = 0;
  readonly log: string[] = [];

  constructor(private readonly inner: Bucket, public opts: FaultOptions) {
    this.name = inner.name;
  }

  /** Whether this call should fail; counts it when it is one of the chosen operations. */
  private shouldFail(op: BucketOp, key: string): boolean {
    if (this.opts.ops && !this.opts.ops.includes(op)) return false;
    if (this.opts.keys && !this.opts.keys(key)) return false;
    this.calls++;
    const n = this.opts.failEvery;
    const fail = n > 0 && this.calls % n === 0;
    if (fail) { this.failures++; this.log.push(`${op} ${key}`); }
    return fail;
  }

  private fault(op: BucketOp, key: string): CodedError {
    return new CodedError(this.opts.code ?? "unavailable", `${op} ${key} in bucket ${this.name}: injected fault (call ${this.calls})`);
  }

  private async run<T>(op: BucketOp, key: string, call: () => Promise<T>): Promise<T> {
    if (!this.shouldFail(op, key)) return call();
    if (this.opts.mode === "after") { await call(); }
    throw this.fault(op, key);
  }

  get(key: string) { return this.run("get", key, () => this.inner.get(key)); }
  getRange(key: string, off: number, len: number) { return this.run("getRange", key, () => this.inner.getRange(key, off, len)); }
  exists(key: string) { return this.run("exists", key, () => this.inner.exists(key)); }
  attributes(key: string): Promise<ObjectAttributes> { return this.run("attributes", key, () => this.inner.attributes(key)); }
  delete(key: string) { return this.run("delete", key, () => this.inner.delete(key)); }

  async upload(key: string, data: UploadData): Promise<void> {
    if (!this.shouldFail("upload", key)) return this.inner.upload(key, data);
    if (this.opts.mode === "after") { await this.inner.upload(key, data); throw this.fault("upload", key); }
    if (this.opts.mode === "midway") {
      const err = this.fault("upload", key);
      await this.inner.upload(key, breakMidway(data, err));
      throw err; // only reached if the inner bucket swallowed the body error, which would be a bug there
    }
    throw this.fault("upload", key);
  }

  async *iter(prefix: string, opts?: IterOptions): AsyncIterable<string> {
    if (!this.shouldFail("iter", prefix)) { yield* this.inner.iter(prefix, opts); return; }
    // A listing that breaks after its first entry, the awkward case for resuming.
    let n = 0;
    for await (const k of this.inner.iter(prefix, opts)) {
      if (n++ === 1) break;
      yield k;
    }
    throw this.fault("iter", prefix);
  }
}

async function* breakMidway(data: UploadData, err: Error): AsyncGenerator<Uint8Array> {
  if (data instanceof Uint8Array) {
    yield data.subarray(0, data.length >> 1);
    throw err;
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const p of data) { parts.push(p); total += p.length; }
  let left = total >> 1;
  for (const p of parts) {
    if (left <= 0) break;
    const q = p.subarray(0, Math.min(left, p.length));
    left -= q.length;
    yield q;
  }
  throw err;
}
