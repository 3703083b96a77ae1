import { test } from "uvu";
import * as assert from "uvu/assert";
import { edgeBucketFromConfig } from "../../../edge/objstore/factory.ts";
import { S3Bucket } from "../../../shared/objstore/s3.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

test("edge factory: S3 configs give an S3Bucket (prefixed when asked); FILESYSTEM is refused", () => {
  const { bucket, config } = edgeBucketFromConfig("type: S3\nconfig: {bucket: thanos, endpoint: 'h:9000', insecure: true}");
  assert.ok(bucket instanceof S3Bucket);
  assert.is(bucket.name, "s3:thanos");
  assert.is(config.type, "S3");
  (bucket as S3Bucket).destroy();
  const p = edgeBucketFromConfig("type: S3\nprefix: tenant\nconfig: {bucket: thanos, endpoint: 'h:9000'}");
  assert.is(p.bucket.name, "s3:thanos/tenant");
  try {
    edgeBucketFromConfig("type: FILESYSTEM\nconfig: {directory: /x}", "env OBJSTORE_CONFIG");
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "bad_data");
    assert.match((e as Error).message, "env OBJSTORE_CONFIG: bucket type FILESYSTEM needs a local disk");
  }
});

test.run();
