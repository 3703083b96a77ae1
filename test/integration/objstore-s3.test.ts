// The bucket contract against a real S3 API server (s3rver, in a child Node process), through S3Bucket and
// the Thanos objstore YAML; plus multipart uploads and how transport failures are classified.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { S3Bucket } from "../../shared/objstore/s3.ts";
import { bucketFromConfig } from "../../agent/objstore/factory.ts";
import { errorCode } from "../../shared/encoding/errors.ts";
import { withRetries } from "../../shared/objstore/retry.ts";
import { freePort } from "../lib/proc.ts";
import { bucketContract } from "../unit/objstore/contract.ts";
import { type S3Server, startS3rver } from "../unit/objstore/s3rver.ts";

let server: S3Server | undefined;
let endpoint = "";
const buckets: S3Bucket[] = [];
const creds = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

async function start(): Promise<void> {
  server = await startS3rver(["thanos"]);
  endpoint = server.endpoint;
}

async function stop(): Promise<void> {
  for (const b of buckets) b.destroy();
  await server?.stop();
}

function s3(bucket: string, extra: Partial<ConstructorParameters<typeof S3Bucket>[0]> = {}): S3Bucket {
  const b = new S3Bucket({ bucket, endpoint, region: "us-east-1", credentials: creds, forcePathStyle: true, ...extra });
  buckets.push(b);
  return b;
}

let n = 0;
// A fresh bucket per case, so root listings are tested against the real bucket root.
bucketContract("S3 (s3rver)", async () => {
  const name = `contract-${n++}`;
  const b = s3(name);
  await b.client.send(new CreateBucketCommand({ Bucket: name }));
  return b;
}, { before: start, knownAs: "s3rver" });

const enc = (x: string) => new TextEncoder().encode(x);
function bytes(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 31 + seed + (i >> 11)) & 0xff;
  return b;
}

test("multipart: a streamed body over one part is uploaded in parts and reads back exactly", async () => {
  const b = s3("thanos", { partSize: 5 * 1024 * 1024 });
  const d = bytes(11 * 1024 * 1024 + 17, 3);
  async function* chunks() { for (let o = 0; o < d.length; o += 1_000_003) yield d.slice(o, o + 1_000_003); }
  await b.upload("mp/streamed", chunks());
  assert.is((await b.attributes("mp/streamed")).size, d.length);
  assert.equal(await b.get("mp/streamed"), d);
  // A byte array over the part size too, and a range across the part boundary.
  await b.upload("mp/bytes", d);
  assert.equal(await b.getRange("mp/bytes", 5 * 1024 * 1024 - 10, 20), d.slice(5 * 1024 * 1024 - 10, 5 * 1024 * 1024 + 10));
  // disable_multipart: the same streamed body as one PUT.
  const single = s3("thanos", { partSize: 5 * 1024 * 1024, disableMultipart: true });
  await single.upload("mp/single", chunks());
  assert.equal(await single.get("mp/single"), d);
});

test("objstore YAML (type S3) configures a working bucket", async () => {
  const port = new URL(endpoint).port;
  const { bucket, config } = await bucketFromConfig(
    `type: s3\nconfig:\n  bucket: thanos\n  endpoint: 127.0.0.1:${port}\n  insecure: true\n  access_key: S3RVER\n  secret_key: S3RVER\n  bucket_lookup_type: path\n  http_config:\n    idle_conn_timeout: 1m\n`,
    "test config",
  );
  assert.is(config.warnings.length, 1, config.warnings.join("\n"));
  await bucket.upload("cfg/x", enc("hello"));
  assert.is(new TextDecoder().decode(await bucket.get("cfg/x")), "hello");
  (bucket as S3Bucket).destroy();
});

test("wrong credentials are unauthenticated; missing bucket is not retried", async () => {
  // s3rver does not verify V4 signatures, but it does reject unknown access key ids (403).
  const bad = s3("thanos", { credentials: { accessKeyId: "NOT-A-KEY", secretAccessKey: "x" }, maxAttempts: 1 });
  let code: string | undefined;
  try { await bad.get("cfg/x"); } catch (e) { code = errorCode(e); }
  assert.is(code, "unauthenticated");
  const missing = s3("no-such-bucket", { maxAttempts: 1 });
  try { await missing.get("x"); code = "no error"; } catch (e) { code = errorCode(e); assert.match((e as Error).message, "no-such-bucket"); }
  assert.is(code, "internal");
});

test("a server that is gone is unavailable (transient) and retried until attempts run out", async () => {
  const port = await freePort();
  const b = new S3Bucket({ bucket: "x", endpoint: `http://127.0.0.1:${port}`, credentials: creds, forcePathStyle: true, maxAttempts: 1 });
  buckets.push(b);
  let tries = 0;
  const r = withRetries(b, { attempts: 3, sleep: async () => {}, onRetry: () => { tries++; } });
  let err: unknown;
  try { await r.get("k"); } catch (e) { err = e; }
  assert.is(errorCode(err), "unavailable");
  assert.is(tries, 2);
  assert.match((err as Error).message, "giving up after 3 attempts");
});

test.after(stop);
test.run();
