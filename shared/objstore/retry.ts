// Retries for transient bucket failures, usable around any bucket.
// Only "unavailable"/"timeout" errors are retried (5xx, connection resets, timeouts): a not_found or a
// 4xx-like error is an answer, and retrying it would only delay the caller.

import { CodedError, errorMessage } from "../encoding/errors.ts";
import { type Bucket, type IterOptions, type ObjectAttributes, type UploadData, compareKeys, isTransient } from "./bucket.ts";

export interface RetryOptions {
  /** Total attempts including the first (default 5). */
  attempts?: number;
  /** First backoff (default 100 ms); doubles per attempt up to maxDelayMs (default 5 s), with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (what: string, attempt: number, err: unknown, delayMs: number) => void;
  signal?: AbortSignal;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => { setTimeout(() => r(), ms); });

/** The delay before retry number `attempt` (1-based): capped exponential, jittered to 50-100 %. */
export function backoffDelay(attempt: number, base: number, max: number, rnd = Math.random()): number {
  const d = Math.min(max, base * 2 ** Math.min(attempt - 1, 30));
  return Math.round(d * (0.5 + rnd / 2));
}

/** Runs fn until it succeeds, fails with a non-transient error, or attempts run out. */
export async function retry<T>(what: string, fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 5);
  const base = opts.baseDelayMs ?? 100, max = opts.maxDelayMs ?? 5000;
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isTransient(e)) throw e;
      if (attempt >= attempts) {
        throw new CodedError("unavailable", `${what}: giving up after ${attempt} attempts: ${errorMessage(e)}`, { cause: e });
      }
      if (opts.signal?.aborted) throw new CodedError("canceled", `${what}: canceled while retrying: ${errorMessage(e)}`, { cause: e });
      const delay = backoffDelay(attempt, base, max);
      opts.onRetry?.(what, attempt, e, delay);
      await sleep(delay);
    }
  }
}

/** A bucket whose operations retry transient failures. */
export function withRetries(inner: Bucket, opts: RetryOptions = {}): Bucket {
  return new RetryBucket(inner, opts);
}

class RetryBucket implements Bucket {
  readonly name: string;
  constructor(private readonly inner: Bucket, private readonly opts: RetryOptions) {
    this.name = inner.name;
  }
  get(key: string): Promise<Uint8Array> {
    return retry(`get ${key} in bucket ${this.name}`, () => this.inner.get(key), this.opts);
  }
  getRange(key: string, off: number, len: number): Promise<Uint8Array> {
    return retry(`get range ${off}+${len} of ${key} in bucket ${this.name}`, () => this.inner.getRange(key, off, len), this.opts);
  }
  exists(key: string): Promise<boolean> {
    return retry(`exists ${key} in bucket ${this.name}`, () => this.inner.exists(key), this.opts);
  }
  attributes(key: string): Promise<ObjectAttributes> {
    return retry(`attributes of ${key} in bucket ${this.name}`, () => this.inner.attributes(key), this.opts);
  }
  delete(key: string): Promise<void> {
    return retry(`delete ${key} in bucket ${this.name}`, () => this.inner.delete(key), this.opts);
  }
  upload(key: string, data: UploadData): Promise<void> {
    // An async iterable is consumed by the first attempt; it cannot be replayed, so it is not retried.
    // (uploadBlock retries such files itself by reopening them.)
    if (!(data instanceof Uint8Array)) return this.inner.upload(key, data);
    return retry(`upload ${key} to bucket ${this.name}`, () => this.inner.upload(key, data), this.opts);
  }
  async *iter(prefix: string, opts?: IterOptions): AsyncIterable<string> {
    // Listings are sorted, so a listing that fails halfway resumes after the last name it yielded.
    let last: string | undefined;
    const attempts = Math.max(1, this.opts.attempts ?? 5);
    const sleep = this.opts.sleep ?? defaultSleep;
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const k of this.inner.iter(prefix, opts)) {
          if (last !== undefined && compareKeys(k, last) <= 0) continue;
          last = k;
          yield k;
        }
        return;
      } catch (e) {
        const what = `list ${prefix || "(root)"} in bucket ${this.name}`;
        if (!isTransient(e)) throw e;
        if (attempt >= attempts) throw new CodedError("unavailable", `${what}: giving up after ${attempt} attempts: ${errorMessage(e)}`, { cause: e });
        const delay = backoffDelay(attempt, this.opts.baseDelayMs ?? 100, this.opts.maxDelayMs ?? 5000);
        this.opts.onRetry?.(what, attempt, e, delay);
        await sleep(delay);
      }
    }
  }
}
