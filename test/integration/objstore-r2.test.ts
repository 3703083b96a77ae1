// The bucket contract against an R2 binding under `wrangler dev` (workerd, R2 emulated on disk), and
// against S3Bucket running inside workerd (talking to s3rver), both driven through the test Worker's
// HTTP bucket protocol (edge/worker-test/).

import { test } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { HttpBucket } from "../../edge/worker-test/protocol.ts";
import { withPrefix } from "../../shared/objstore/prefix.ts";
import { type Proc, startWranglerDev, tempDir } from "../lib/proc.ts";
import { bucketContract } from "../unit/objstore/contract.ts";
import { type S3Server, startS3rver } from "../unit/objstore/s3rver.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const PART = 5 * 1024 * 1024;
let worker: Proc | undefined;
let s3: S3Server | undefined;
let base = "";

async function start(): Promise<void> {
  s3 = await startS3rver(["thanos"]);
  const persist = tempDir("objstore-r2-");
  ({ proc: worker, url: base } = await startWranglerDev({
    args: ["-c", "edge/worker-test/wrangler.toml", "--persist-to", persist.path, "--var", `S3_ENDPOINT:${s3.endpoint}`, "--var", `PART_SIZE:${PART}`],
    cwd: root, readyPath: "/health", timeoutMs: 45_000,
  }));
}

async function stop(): Promise<void> {
  await worker?.stop();
  await s3?.stop();
}

// One binding for all cases: each case gets its own prefix (which also exercises `prefix:` on R2).
let n = 0;
let prefix = "";
bucketContract("R2 binding (wrangler dev)", async (t) => withPrefix(new HttpBucket(`${base}/r2`), (prefix = `c${n++}-${t}`)), {
  before: start,
  // The 1100 keys are written inside the Worker (one request), then listed page by page through R2.
  seed: (_b, keys) => new HttpBucket(`${base}/r2`).seed(keys.map((k) => `${prefix}/${k}`)),
});
// S3 pagination is proven against s3rver directly (objstore-s3.test.ts); here the point is that the SDK
// works inside workerd at all, so the many-keys case stays small to keep this file under a minute.
bucketContract("S3 SDK inside workerd (s3rver)", async (t) => withPrefix(new HttpBucket(`${base}/s3`), `c${n++}-${t}`), { knownAs: "s3rver", manyKeys: 40 });

function bytes(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + seed + (i >> 13)) & 0xff;
  return b;
}

for (const kind of ["r2", "s3"]) {
  test(`${kind}: a streamed upload over the part size goes multipart inside the Worker and reads back exactly`, async () => {
    const b = new HttpBucket(`${base}/${kind}`);
    const d = bytes(PART + 12345, kind.length);
    async function* chunks() { for (let o = 0; o < d.length; o += 700_001) yield d.slice(o, o + 700_001); }
    await b.upload("multipart/obj", chunks());
    assert.is((await b.attributes("multipart/obj")).size, d.length);
    assert.equal(await b.getRange("multipart/obj", PART - 3, 6), d.slice(PART - 3, PART + 3));
    assert.equal(await b.get("multipart/obj"), d);
    await b.delete("multipart/obj");
    assert.is(await b.exists("multipart/obj"), false);
  });
}

test.after(stop);
test.run();
