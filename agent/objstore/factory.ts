// Buckets from Thanos objstore configuration (--objstore.config-file / --objstore.config).

import { readFile } from "node:fs/promises";
import { CodedError } from "../../shared/encoding/errors.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { type BucketConfig, parseBucketConfig } from "../../shared/objstore/config.ts";
import { withPrefix } from "../../shared/objstore/prefix.ts";
import { FilesystemBucket } from "./fs.ts";
import type { FlagSpec, ParsedFlags } from "../flags.ts";

export interface ConfiguredBucket {
  bucket: Bucket;
  config: BucketConfig;
}

/** `what` names the config's origin in errors and warnings. Warnings are also printed to stderr. */
export async function bucketFromConfig(yamlText: string, what = "--objstore.config"): Promise<ConfiguredBucket> {
  const config = parseBucketConfig(yamlText, what);
  for (const w of config.warnings) console.warn(`warning: ${w}`);
  let bucket: Bucket;
  switch (config.type) {
    case "FILESYSTEM": bucket = new FilesystemBucket(config.directory); break;
    // Loaded on demand: the S3 client is ~7 MB of RSS that a component without an S3 bucket never needs.
    case "S3": bucket = (await import("../../shared/objstore/s3.ts")).s3BucketFromConfig(config); break;
  }
  return { bucket: withPrefix(bucket, config.prefix), config };
}

export async function bucketFromConfigFile(path: string): Promise<Bucket> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new CodedError("bad_data", `read objstore config file ${path}: ${(e as Error).message}`);
  }
  return (await bucketFromConfig(text, path)).bucket;
}

/** Thanos' two ways to give the objstore config, for components that take a bucket. */
export const OBJSTORE_FLAGS: FlagSpec[] = [
  { name: "objstore.config-file", help: "Path to the objstore YAML (Thanos format: type FILESYSTEM or S3)" },
  { name: "objstore.config", help: "The objstore YAML itself, instead of --objstore.config-file" },
];

/** The bucket the flags configure, or undefined when neither flag is given. Both at once is an error, as in Thanos. */
export async function bucketFromFlags(f: ParsedFlags, component: string): Promise<Bucket | undefined> {
  const file = f.get("objstore.config-file"), text = f.get("objstore.config");
  if (file && text) throw new CodedError("bad_data", `${component}: give either --objstore.config-file or --objstore.config, not both`);
  if (file) return bucketFromConfigFile(file);
  if (text) return (await bucketFromConfig(text, "--objstore.config")).bucket;
  return undefined;
}
