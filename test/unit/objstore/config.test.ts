// Thanos objstore YAML: the key names and rules come from thanos-io/objstore (providers/s3 Config,
// providers/filesystem Config, client.BucketConfig with strict decoding).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { type S3BucketConfig, parseBucketConfig } from "../../../shared/objstore/config.ts";
import { OBJSTORE_FLAGS, bucketFromConfig, bucketFromConfigFile, bucketFromFlags } from "../../../agent/objstore/factory.ts";
import { parseFlags } from "../../../agent/flags.ts";
import { FilesystemBucket } from "../../../agent/objstore/fs.ts";
import { tempDir } from "../../lib/proc.ts";
import { writeFileSync } from "node:fs";

function rejects(yaml: string, ...parts: string[]): void {
  try {
    parseBucketConfig(yaml, "bucket.yml");
  } catch (e) {
    assert.is(errorCode(e), "bad_data");
    const msg = (e as Error).message;
    assert.ok(msg.startsWith("bucket.yml: "), `message names the file: ${msg}`);
    for (const p of parts) assert.ok(msg.includes(p), `${JSON.stringify(msg)} should mention ${JSON.stringify(p)}`);
    return;
  }
  assert.unreachable(`accepted: ${yaml}`);
}

test("FILESYSTEM with config.directory", () => {
  const c = parseBucketConfig("type: FILESYSTEM\nconfig:\n  directory: /data/bucket\n");
  assert.equal(c, { type: "FILESYSTEM", directory: "/data/bucket", prefix: "", warnings: [] });
  assert.is(parseBucketConfig("type: filesystem\nprefix: tenant-a\nconfig: {directory: ./b}").prefix, "tenant-a");
});

test("S3: the documented keys, defaults and derived endpoint URL", () => {
  const c = parseBucketConfig(`
type: S3
config:
  bucket: "thanos"
  endpoint: "minio:9000"
  region: eu-west-1
  access_key: AK
  secret_key: SK
  insecure: true
`) as S3BucketConfig;
  assert.is(c.type, "S3");
  assert.is(c.bucket, "thanos");
  assert.is(c.endpointUrl, "http://minio:9000");
  assert.is(c.region, "eu-west-1");
  assert.is(c.accessKey, "AK");
  assert.is(c.secretKey, "SK");
  assert.is(c.forcePathStyle, true, "auto lookup: path-style off AWS");
  assert.is(c.partSize, 64 * 1024 * 1024);
  const aws = parseBucketConfig("type: S3\nconfig: {bucket: b, endpoint: s3.us-east-1.amazonaws.com}") as S3BucketConfig;
  assert.is(aws.endpointUrl, "https://s3.us-east-1.amazonaws.com");
  assert.is(aws.forcePathStyle, false, "auto lookup: virtual-hosted on AWS");
  assert.is(aws.region, "us-east-1");
  assert.is(aws.accessKey, "", "no keys: default credential chain");
  const path = parseBucketConfig("type: S3\nconfig: {bucket: b, endpoint: s3.amazonaws.com, bucket_lookup_type: path, max_retries: 5}") as S3BucketConfig;
  assert.is(path.forcePathStyle, true);
  assert.is(path.maxAttempts, 6);
  // YAML 1.1 booleans, as go-yaml v2 reads them.
  assert.is((parseBucketConfig("type: S3\nconfig: {bucket: b, endpoint: 'h:1', insecure: yes}") as S3BucketConfig).insecure, true);
});

test("S3: Thanos keys without effect here are accepted with a warning", () => {
  const c = parseBucketConfig(`
type: S3
config:
  bucket: b
  endpoint: h:9000
  signature_version2: true
  put_user_metadata: {a: b}
  http_config: {idle_conn_timeout: 1m, insecure_skip_verify: true}
  sse_config: {type: SSE-S3}
  list_objects_version: v1
  trace: {enable: false}
`, "bucket.yml");
  assert.is(c.warnings.length, 6, c.warnings.join("\n"));
  assert.ok(c.warnings.every((w) => w.startsWith("bucket.yml: config.")));
  assert.ok(c.warnings.some((w) => w.includes("signature_version2") && w.includes("V4")));
});

test("rejections name the key and the file", () => {
  rejects("type: GCS\nconfig: {bucket: b}", "GCS", "not supported", "FILESYSTEM, S3");
  rejects("type: FTP\nconfig: {}", "unknown bucket type", "FTP");
  rejects("config: {directory: x}", "missing key 'type'");
  rejects("type: FILESYSTEM\nconfig: {}", "config.directory");
  rejects("type: FILESYSTEM", "config.directory");
  rejects("type: FILESYSTEM\nconfig: {directory: x, dir: y}", "unknown key 'config.dir'");
  rejects("type: S3\nconfig: {endpoint: h}", "config.bucket");
  rejects("type: S3\nconfig: {bucket: b}", "config.endpoint");
  rejects("type: S3\nconfig: {bucket: b, endpoint: h, access_key: a}", "config.secret_key");
  rejects("type: S3\nconfig: {bucket: b, endpoint: h, secret_key: s}", "config.access_key");
  rejects("type: S3\nconfig: {bucket: b, endpoint: h, insecure: maybe}", "config.insecure");
  rejects("type: S3\nconfig: {bucket: b, endpoint: h, part_size: 1024}", "config.part_size");
  rejects("type: S3\nconfig: {bucket: b, endpoint: h, bucket_lookup_type: dns}", "config.bucket_lookup_type");
  rejects("type: S3\nconfig: {bucket: b, endpoint: h, acces_key: typo}", "unknown key 'config.acces_key'");
  rejects("type: S3\ncofnig: {}", "unknown key 'cofnig'");
  rejects("type: S3\nconfig: [1, 2]", "'config' must be a mapping");
  rejects("", "empty configuration");
  rejects("type: [S3", "invalid YAML");
  rejects("type: S3\ntype: FILESYSTEM", "invalid YAML");
});

test("factory: a FILESYSTEM config file gives a working bucket; a missing file is a clear error", async () => {
  const d = tempDir("objstore-cfg-");
  writeFileSync(`${d.path}/bucket.yml`, `type: FILESYSTEM\nprefix: p\nconfig:\n  directory: ${d.path}/data\n`);
  const b = await bucketFromConfigFile(`${d.path}/bucket.yml`);
  await b.upload("x/y", new TextEncoder().encode("z"));
  assert.equal(await new FilesystemBucket(`${d.path}/data`).get("p/x/y"), new TextEncoder().encode("z"));
  const { config } = await bucketFromConfig(`type: FILESYSTEM\nconfig: {directory: ${d.path}/data}`);
  assert.is(config.type, "FILESYSTEM");
  try {
    await bucketFromConfigFile(`${d.path}/missing.yml`);
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "bad_data");
    assert.match((e as Error).message, "missing.yml");
  }
  d.remove();
});

test("flags: --objstore.config-file or --objstore.config, not both", async () => {
  const d = tempDir("objstore-flags-");
  const yml = `type: FILESYSTEM\nconfig: {directory: ${d.path}/data}\n`;
  writeFileSync(`${d.path}/b.yml`, yml);
  const flags = (argv: string[]) => parseFlags("test", OBJSTORE_FLAGS, argv);
  assert.is(await bucketFromFlags(flags([]), "test"), undefined);
  assert.is((await bucketFromFlags(flags([`--objstore.config-file=${d.path}/b.yml`]), "test"))!.name, `fs:${d.path}/data`);
  assert.is((await bucketFromFlags(flags(["--objstore.config", yml]), "test"))!.name, `fs:${d.path}/data`);
  try {
    await bucketFromFlags(flags([`--objstore.config-file=${d.path}/b.yml`, "--objstore.config", yml]), "test");
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "bad_data");
    assert.match((e as Error).message, "not both");
  }
  d.remove();
});

test.run();
