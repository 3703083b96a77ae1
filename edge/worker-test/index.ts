// Test-only Worker: exposes the R2 binding (and, when S3_ENDPOINT is set, an S3Bucket running inside
// workerd) over the bucket HTTP protocol, so the contract suite can run against them under `wrangler dev`.
//   /r2/<op>?key=...    R2Bucket over env.BUCKET
//   /s3/<op>?key=...    S3Bucket(S3_BUCKET at S3_ENDPOINT, path-style)
//   /health
import { R2Bucket, type R2BucketLike } from "../objstore/r2.ts";
import { S3Bucket } from "../../shared/objstore/s3.ts";
import { bucketHandler } from "./protocol.ts";

interface Env {
  BUCKET: R2BucketLike;
  S3_ENDPOINT?: string;
  S3_BUCKET?: string;
  /** Bytes; small values let tests reach multipart uploads with small bodies. */
  PART_SIZE?: string;
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const path = new URL(req.url).pathname;
    const partSize = env.PART_SIZE ? Number(env.PART_SIZE) : undefined;
    if (path === "/health") return new Response("ok");
    if (path.startsWith("/r2/")) return bucketHandler(new R2Bucket(env.BUCKET, { name: "BUCKET", partSize }))(req);
    if (path.startsWith("/s3/")) {
      if (!env.S3_ENDPOINT) return new Response("S3_ENDPOINT not set", { status: 404 });
      const s3 = new S3Bucket({
        bucket: env.S3_BUCKET ?? "thanos", endpoint: env.S3_ENDPOINT, region: "us-east-1", forcePathStyle: true,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }, partSize,
      });
      return bucketHandler(s3)(req);
    }
    return new Response("not found", { status: 404 });
  },
};
