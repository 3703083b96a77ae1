// Buckets from Thanos objstore YAML where there is no filesystem (Workers, Deno Deploy): S3 only.
// (The agent's factory, agent/objstore/factory.ts, adds FILESYSTEM.)

import { CodedError } from "../../shared/encoding/errors.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { type BucketConfig, parseBucketConfig } from "../../shared/objstore/config.ts";
import { withPrefix } from "../../shared/objstore/prefix.ts";
import { s3BucketFromConfig } from "../../shared/objstore/s3.ts";

export function edgeBucketFromConfig(yamlText: string, what = "objstore config"): { bucket: Bucket; config: BucketConfig } {
  const config = parseBucketConfig(yamlText, what);
  if (config.type !== "S3") {
    throw new CodedError("bad_data", `${what}: bucket type ${config.type} needs a local disk; at the edge use S3 (or an R2 binding with R2Bucket)`);
  }
  return { bucket: withPrefix(s3BucketFromConfig(config), config.prefix), config };
}
