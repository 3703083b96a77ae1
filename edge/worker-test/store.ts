// Test-only Worker: the store gateway Worker (edge/store/worker.ts) as it is, plus /bucket/*, its R2
// binding over the test bucket protocol (protocol.ts), so a test can upload blocks into the emulated R2
// the store reads. Run: npx wrangler dev -c edge/worker-test/store.wrangler.toml
import storeWorker from "../store/worker.ts";
import { R2Bucket, type R2BucketLike } from "../objstore/r2.ts";
import { bucketHandler } from "./protocol.ts";

type Env = Parameters<typeof storeWorker.fetch>[1] & { BUCKET: R2BucketLike };

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    if (new URL(req.url).pathname.startsWith("/bucket/")) return bucketHandler(new R2Bucket(env.BUCKET, { name: "BUCKET" }))(req);
    return storeWorker.fetch(req, env);
  },
};
