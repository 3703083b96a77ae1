// S3 API bucket over @aws-sdk/client-s3: AWS, MinIO, R2's S3 API, s3rver. Uses only what the SDK
// offers on every runtime (fetch-based on Workers/Deno via its browser build, Node's HTTP module on Node/Bun), so
// the same file serves the agent and the edge.
//
// Two SDK defaults are overridden on purpose:
// - requestChecksumCalculation "WHEN_REQUIRED": with the default ("WHEN_SUPPORTED") a streamed body is
//   sent with aws-chunked framing, which S3-compatible servers that do not understand it (s3rver, some
//   MinIO versions) store verbatim inside the object: silent corruption.
// - responseChecksumValidation "WHEN_REQUIRED": ranged GETs cannot be validated against a whole-object
//   checksum anyway, and validation buffers the body.

import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { CodedError, type ErrorCode, errorMessage } from "../encoding/errors.ts";
import {
  type Bucket, type IterOptions, type ObjectAttributes, type UploadData,
  DIR_DELIM, checkKey, checkRange, collectBytes, compareKeys, dirPrefix, fixedChunks, rangePastEnd,
} from "./bucket.ts";
import { MIN_PART_SIZE, type S3BucketConfig } from "./config.ts";

const MAX_PUT = 5 * 1024 * 1024 * 1024;

export interface S3BucketOptions {
  bucket: string;
  /** Full URL ("http://127.0.0.1:9000"); omit for AWS. */
  endpoint?: string;
  region?: string;
  /** Omit to use the runtime's default credential chain (environment, profiles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Path-style URLs (endpoint/bucket/key): what MinIO, s3rver and most non-AWS servers want. */
  forcePathStyle?: boolean;
  /** Bodies larger than this go up as multipart uploads of this part size (default 64 MiB, min 5 MiB). */
  partSize?: number;
  disableMultipart?: boolean;
  /** Attempts per request inside the SDK (its own retry for throttling and 5xx); default 3. */
  maxAttempts?: number;
  /**
   * Where the SDK uses Node's HTTP module (Node, Bun, Deno): give up on a connection attempt after connectTimeoutMs
   * (default 10 s), and on a request whose socket stays silent for idleTimeoutMs (default 120 s, Thanos'
   * response_header_timeout). Not a whole-request limit, which would cut large uploads on slow links.
   * Timeouts are "unavailable" errors, so retried. The fetch-based build (Workers) ignores them.
   */
  connectTimeoutMs?: number;
  idleTimeoutMs?: number;
  /** Replace the SDK's HTTP handler (e.g. a custom fetch on Workers); the timeouts above then do not apply. */
  requestHandler?: S3ClientConfig["requestHandler"];
}

export class S3Bucket implements Bucket {
  readonly name: string;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly partSize: number;
  private readonly disableMultipart: boolean;

  constructor(opts: S3BucketOptions) {
    this.bucket = opts.bucket;
    this.name = `s3:${opts.bucket}`;
    this.partSize = Math.max(MIN_PART_SIZE, opts.partSize ?? 64 * 1024 * 1024);
    this.disableMultipart = opts.disableMultipart ?? false;
    this.client = new S3Client({
      region: opts.region ?? "us-east-1",
      endpoint: opts.endpoint,
      forcePathStyle: opts.forcePathStyle ?? false,
      credentials: opts.credentials,
      maxAttempts: opts.maxAttempts ?? 3,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: opts.requestHandler ?? {
        connectionTimeout: opts.connectTimeoutMs ?? 10_000,
        socketTimeout: opts.idleTimeoutMs ?? 120_000,
      },
    });
  }

  /** Close keep-alive sockets (Node), so a test process can exit. */
  destroy(): void {
    this.client.destroy();
  }

  async get(key: string): Promise<Uint8Array> {
    checkKey(this.name, key, "get");
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await body(r.Body);
    } catch (e) { throw this.error(e, "get", key); }
  }

  async getRange(key: string, off: number, len: number): Promise<Uint8Array> {
    checkRange(this.name, key, off, len);
    checkKey(this.name, key, "get range of");
    if (len === 0) {
      const { size } = await this.attributes(key);
      if (off > size) throw rangePastEnd(this.name, key, off, size);
      return new Uint8Array(0);
    }
    const range = len < 0 ? `bytes=${off}-` : `bytes=${off}-${off + len - 1}`;
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range }));
      // s3rver answers a range of an empty object with 206 "bytes 0-0/0" and a Content-Length of 1 it never
      // sends; reading that body waits for a socket timeout. The total in Content-Range says it is empty.
      const total = contentRangeTotal(r.ContentRange);
      if (total !== undefined && off >= total) {
        discard(r.Body);
        if (off > total) throw rangePastEnd(this.name, key, off, total);
        return new Uint8Array(0);
      }
      let b = await body(r.Body);
      // Servers that get Range wrong (s3rver serves "bytes=0-0" as the whole object; others ignore Range
      // and answer 200) send more than asked: cut the requested range out of what arrived.
      const start = r.$metadata.httpStatusCode === 200 && !r.ContentRange ? 0 : contentRangeStart(r.ContentRange) ?? off;
      if (start > off) throw new CodedError("unavailable", `get range of ${key} in bucket ${this.name}: asked for bytes from ${off}, server sent from ${start}`);
      if (start !== off || (len >= 0 && b.length > len)) b = b.slice(off - start, len < 0 ? undefined : off - start + len);
      return b;
    } catch (e) {
      // 416: the range starts at or past the end. At exactly the end that is an empty read for us.
      if (status(e) === 416 || (e as { name?: string }).name === "InvalidRange") {
        const { size } = await this.attributes(key);
        if (off > size) throw rangePastEnd(this.name, key, off, size);
        return new Uint8Array(0);
      }
      const err = this.error(e, "get range of", key);
      // A transport failure in the middle of a ranged read of an empty object (see above, for servers
      // without a Content-Range total) is worth a HEAD: an empty object makes it an empty read.
      if (err.code === "unavailable" && status(e) === undefined) {
        const size = await this.attributes(key).then((a) => a.size, () => -1);
        if (size === 0) {
          if (off > 0) throw rangePastEnd(this.name, key, off, 0);
          return new Uint8Array(0);
        }
      }
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    checkKey(this.name, key, "exists");
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (e) {
      const err = this.error(e, "exists", key);
      if (err.code === "not_found") return false;
      throw err;
    }
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    checkKey(this.name, key, "attributes of");
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: r.ContentLength ?? 0, lastModified: r.LastModified ?? new Date(0) };
    } catch (e) { throw this.error(e, "attributes of", key); }
  }

  async *iter(prefix: string, opts?: IterOptions): AsyncIterable<string> {
    const dir = dirPrefix(prefix);
    const recursive = opts?.recursive ?? false;
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({
          Bucket: this.bucket, Prefix: dir, Delimiter: recursive ? undefined : DIR_DELIM, ContinuationToken: token,
        }));
      } catch (e) { throw this.error(e, "list", dir || "(root)"); }
      // Within a page S3 returns objects and common prefixes in two lists; pages follow each other in key
      // order, so merging each page keeps the whole listing sorted.
      const names: string[] = [];
      for (const o of page.Contents ?? []) if (o.Key !== undefined && o.Key !== dir) names.push(o.Key);
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) names.push(p.Prefix);
      names.sort(compareKeys);
      yield* names;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async upload(key: string, data: UploadData): Promise<void> {
    checkKey(this.name, key, "upload");
    try {
      if (data instanceof Uint8Array && data.length <= this.partSize) {
        await this.put(key, data);
        return;
      }
      if (this.disableMultipart) {
        // One PUT, so the whole body in memory, up to S3's 5 GiB single-PUT limit.
        await this.put(key, await collectBytes(data, MAX_PUT, `upload ${key} to bucket ${this.name} (multipart disabled)`));
        return;
      }
      // Read one part ahead: a body that fits in one part is a plain PUT, a larger one goes multipart,
      // holding at most two parts in memory.
      const parts = fixedChunks(data, this.partSize)[Symbol.asyncIterator]();
      const first = await parts.next();
      const firstPart = first.done ? new Uint8Array(0) : first.value;
      const second = first.done ? first : await parts.next();
      if (second.done) {
        await this.put(key, firstPart);
        return;
      }
      await this.multipart(key, firstPart, second.value, parts);
    } catch (e) {
      if (e instanceof CodedError) throw e;
      throw this.error(e, "upload", key);
    }
  }

  private async put(key: string, b: Uint8Array): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: b, ContentLength: b.length }));
  }

  private async multipart(key: string, p1: Uint8Array, p2: Uint8Array, rest: AsyncIterator<Uint8Array>): Promise<void> {
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    if (!UploadId) throw new CodedError("internal", `upload ${key} to bucket ${this.name}: no upload id in CreateMultipartUpload reply`);
    const done: { ETag: string; PartNumber: number }[] = [];
    try {
      let n = 0;
      const send = async (b: Uint8Array) => {
        const PartNumber = ++n;
        const r = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId, PartNumber, Body: b, ContentLength: b.length }));
        done.push({ ETag: r.ETag ?? "", PartNumber });
      };
      await send(p1);
      await send(p2);
      for (let r = await rest.next(); !r.done; r = await rest.next()) if (r.value.length > 0) await send(r.value);
      await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId, MultipartUpload: { Parts: done } }));
    } catch (e) {
      // Without Complete nothing becomes visible; Abort frees the stored parts.
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId })).catch(() => undefined);
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(this.name, key, "delete");
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      const err = this.error(e, "delete", key);
      if (err.code !== "not_found") throw err;
    }
  }

  private error(e: unknown, op: string, key: string): CodedError {
    if (e instanceof CodedError) return e;
    const st = status(e);
    const name = (e as { name?: string; Code?: string }).Code ?? (e as { name?: string }).name ?? "";
    const where = `${op} ${key} in bucket ${this.name}`;
    let code: ErrorCode;
    let msg = errorMessage(e);
    if (name === "NoSuchBucket") { code = "internal"; msg = `bucket ${this.bucket} does not exist`; }
    else if (st === 404 || name === "NoSuchKey" || name === "NotFound") return new CodedError("not_found", `${where}: object not found`, { cause: e });
    else if (st === 401 || st === 403) code = "unauthenticated";
    else if (st === undefined || st >= 500 || st === 429 || st === 408) code = "unavailable"; // no reply: reset, refused, timeout
    else code = "bad_data";
    return new CodedError(code, `${where}: ${st ? `HTTP ${st} ` : ""}${name && !msg.includes(name) ? `${name}: ` : ""}${msg || "(no message)"}`, { cause: e });
  }
}

/** An S3Bucket from a parsed Thanos objstore config (type S3). */
export function s3BucketFromConfig(c: S3BucketConfig): S3Bucket {
  return new S3Bucket({
    bucket: c.bucket,
    endpoint: c.endpointUrl,
    region: c.region,
    credentials: c.accessKey ? { accessKeyId: c.accessKey, secretAccessKey: c.secretKey, sessionToken: c.sessionToken || undefined } : undefined,
    forcePathStyle: c.forcePathStyle,
    partSize: c.partSize,
    disableMultipart: c.disableMultipart,
    maxAttempts: c.maxAttempts,
  });
}

function contentRangeTotal(h: string | undefined): number | undefined {
  const m = h ? /\/(\d+)$/.exec(h) : null;
  return m ? Number(m[1]) : undefined;
}

/** Drops a response body without reading it (Node stream or web ReadableStream). */
function discard(b: unknown): void {
  const x = b as { destroy?: () => void; cancel?: () => Promise<void> } | undefined;
  try {
    if (typeof x?.destroy === "function") x.destroy();
    else if (typeof x?.cancel === "function") x.cancel().catch(() => undefined);
  } catch { /* already closed */ }
}

function contentRangeStart(h: string | undefined): number | undefined {
  const m = h ? /^bytes (\d+)-/.exec(h) : null;
  return m ? Number(m[1]) : undefined;
}

function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

async function body(b: unknown): Promise<Uint8Array> {
  if (b === undefined || b === null) return new Uint8Array(0);
  const t = b as { transformToByteArray?: () => Promise<Uint8Array> };
  if (typeof t.transformToByteArray === "function") return await t.transformToByteArray();
  throw new CodedError("internal", "S3 response body has no transformToByteArray (unexpected SDK runtime build)");
}
