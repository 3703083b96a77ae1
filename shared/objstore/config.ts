// Thanos objstore configuration (the YAML given to --objstore.config-file / --objstore.config):
//
//   type: S3            # or FILESYSTEM; case-insensitive like Thanos
//   prefix: ""          # optional: all keys under this path
//   config: { bucket: thanos, endpoint: "minio:9000", access_key: ..., secret_key: ..., insecure: true }
//
// Thanos decodes with go-yaml v2 in strict mode, so the file is parsed as YAML 1.1 here (`insecure: yes`
// is a boolean) and unknown keys are errors. Keys Thanos knows but we do not act on (HTTP tuning, SSE,
// tracing, ...) are accepted with a warning instead, so an existing Thanos config file loads unchanged.

import { parseDocument } from "yaml";
import { CodedError, errorMessage } from "../encoding/errors.ts";

export interface FilesystemBucketConfig {
  type: "FILESYSTEM";
  directory: string;
}

export interface S3BucketConfig {
  type: "S3";
  bucket: string;
  /** host[:port] as Thanos takes it (a scheme, if given, overrides `insecure`). */
  endpoint: string;
  /** Full URL derived from endpoint and insecure: "http://127.0.0.1:9000". */
  endpointUrl: string;
  region: string;
  /** Empty: the runtime's default credential chain (env vars, profiles) decides. */
  accessKey: string;
  secretKey: string;
  sessionToken: string;
  insecure: boolean;
  /** From bucket_lookup_type: "path" -> true, "virtual-hosted" -> false, "auto" -> not AWS. */
  forcePathStyle: boolean;
  /** Multipart part size in bytes (Thanos default 64 MiB). */
  partSize: number;
  disableMultipart: boolean;
  /** Attempts per request inside the SDK (max_retries + 1). */
  maxAttempts: number;
}

export type BucketConfig = (FilesystemBucketConfig | S3BucketConfig) & {
  prefix: string;
  /** Keys accepted but not acted on, one message each. */
  warnings: string[];
};

/** Providers Thanos supports that this implementation does not (rejected with that message). */
const THANOS_ONLY = ["GCS", "AZURE", "SWIFT", "COS", "ALIYUNOSS", "BOS", "OCI", "OBS"];

const S3_IGNORED = [
  "disable_dualstack", "aws_sdk_auth", "signature_version2", "put_user_metadata", "http_config", "trace",
  "list_objects_version", "send_content_md5", "sse_config", "sts_endpoint",
];
const S3_KNOWN = [
  "bucket", "endpoint", "region", "access_key", "secret_key", "session_token", "insecure",
  "bucket_lookup_type", "part_size", "disable_multipart", "max_retries", ...S3_IGNORED,
];

const DEFAULT_PART_SIZE = 64 * 1024 * 1024;
/** S3's minimum part size (all parts but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

/** Parses a Thanos objstore YAML. `what` names the source in errors (a file path, or "--objstore.config"). */
export function parseBucketConfig(yamlText: string, what = "objstore config"): BucketConfig {
  const bad = (msg: string): never => { throw new CodedError("bad_data", `${what}: ${msg}`); };
  let root: unknown;
  try {
    const doc = parseDocument(yamlText, { version: "1.1", uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) bad(`invalid YAML: ${doc.errors[0]!.message}`);
    root = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    if (e instanceof CodedError) throw e;
    bad(`invalid YAML: ${errorMessage(e)}`);
  }
  if (root === null || root === undefined) bad("empty configuration");
  const top = asMap(root, "top level", bad);
  checkKeys(top, ["type", "config", "prefix"], "", bad);

  const rawType = top.type;
  if (rawType === undefined || rawType === null || rawType === "") bad("missing key 'type' (FILESYSTEM or S3)");
  if (typeof rawType !== "string") bad(`key 'type' must be a string, got ${show(rawType)}`);
  const type = (rawType as string).toUpperCase();
  const prefix = optString(top, "prefix", "", bad);
  const cfg = top.config === undefined || top.config === null ? {} : asMap(top.config, "key 'config'", bad);
  const warnings: string[] = [];

  switch (type) {
    case "FILESYSTEM": {
      checkKeys(cfg, ["directory"], "config.", bad);
      const directory = optString(cfg, "directory", "", bad, "config.");
      if (directory === "") bad("missing key 'config.directory' (required for type FILESYSTEM)");
      return { type: "FILESYSTEM", directory, prefix, warnings };
    }
    case "S3": {
      checkKeys(cfg, S3_KNOWN, "config.", bad);
      const str = (k: string) => optString(cfg, k, "", bad, "config.");
      const bucket = str("bucket");
      if (bucket === "") bad("missing key 'config.bucket' (required for type S3)");
      let endpoint = str("endpoint");
      if (endpoint === "") bad("missing key 'config.endpoint' (required for type S3, e.g. s3.us-east-1.amazonaws.com or 127.0.0.1:9000)");
      const insecure = optBool(cfg, "insecure", false, bad);
      let scheme = insecure ? "http" : "https";
      const m = /^(https?):\/\/(.*)$/i.exec(endpoint);
      if (m) { scheme = m[1]!.toLowerCase(); endpoint = m[2]!; }
      endpoint = endpoint.replace(/\/+$/, "");
      if (endpoint === "" || /[\/\s]/.test(endpoint)) bad(`key 'config.endpoint' must be host[:port], got ${show(str("endpoint"))}`);
      const accessKey = str("access_key"), secretKey = str("secret_key");
      if (accessKey !== "" && secretKey === "") bad("key 'config.access_key' is set but 'config.secret_key' is missing");
      if (secretKey !== "" && accessKey === "") bad("key 'config.secret_key' is set but 'config.access_key' is missing");
      const lookup = str("bucket_lookup_type") || "auto";
      let forcePathStyle: boolean;
      if (lookup === "path") forcePathStyle = true;
      else if (lookup === "virtual-hosted") forcePathStyle = false;
      else if (lookup === "auto") forcePathStyle = !/(^|\.)amazonaws\.com(\.cn)?(:\d+)?$/i.test(endpoint);
      else bad(`key 'config.bucket_lookup_type' must be auto, virtual-hosted or path, got ${show(lookup)}`);
      const partSize = optNumber(cfg, "part_size", DEFAULT_PART_SIZE, bad);
      if (partSize < MIN_PART_SIZE) bad(`key 'config.part_size' must be at least ${MIN_PART_SIZE} bytes (S3's minimum part size), got ${partSize}`);
      const maxRetries = optNumber(cfg, "max_retries", 2, bad);
      for (const k of S3_IGNORED) {
        const v = cfg[k];
        if (v === undefined || v === null || v === false || v === "" || (typeof v === "object" && Object.keys(v).length === 0)) continue;
        if (k === "signature_version2") warnings.push(`${what}: config.signature_version2 is ignored: requests are always signed with AWS Signature V4`);
        else warnings.push(`${what}: config.${k} is accepted for compatibility with Thanos but has no effect here`);
      }
      return {
        type: "S3", bucket, endpoint, endpointUrl: `${scheme}://${endpoint}`, region: str("region") || "us-east-1",
        accessKey, secretKey, sessionToken: str("session_token"), insecure: scheme === "http",
        forcePathStyle: forcePathStyle!, partSize, disableMultipart: optBool(cfg, "disable_multipart", false, bad),
        maxAttempts: maxRetries + 1, prefix, warnings,
      };
    }
    default:
      if (THANOS_ONLY.includes(type)) bad(`bucket type ${type} is not supported here (supported: FILESYSTEM, S3)`);
      return bad(`unknown bucket type ${show(rawType)} (supported: FILESYSTEM, S3)`);
  }
}

type Bad = (msg: string) => never;

function asMap(v: unknown, where: string, bad: Bad): Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Map) bad(`${where} must be a mapping, got ${show(v)}`);
  return v as Record<string, unknown>;
}

function checkKeys(m: Record<string, unknown>, known: string[], path: string, bad: Bad): void {
  for (const k of Object.keys(m)) if (!known.includes(k)) bad(`unknown key '${path}${k}'`);
}

function optString(m: Record<string, unknown>, k: string, def: string, bad: Bad, path = ""): string {
  const v = m[k];
  if (v === undefined || v === null) return def;
  // go-yaml turns scalars into the Go string field's value as written; numbers given for strings
  // (e.g. an all-digit bucket name) are fine.
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return bad(`key '${path}${k}' must be a string, got ${show(v)}`);
}

function optBool(m: Record<string, unknown>, k: string, def: boolean, bad: Bad): boolean {
  const v = m[k];
  if (v === undefined || v === null) return def;
  if (typeof v !== "boolean") bad(`key 'config.${k}' must be true or false, got ${show(v)}`);
  return v as boolean;
}

function optNumber(m: Record<string, unknown>, k: string, def: number, bad: Bad): number {
  const v = m[k];
  if (v === undefined || v === null) return def;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) bad(`key 'config.${k}' must be a non-negative integer, got ${show(v)}`);
  return v as number;
}

function show(v: unknown): string {
  try { return JSON.stringify(v) ?? String(v); } catch { return String(v); }
}
