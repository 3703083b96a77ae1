// The sidecar's shipper keeps bucket-index.json current, and the store gateway discovers the shipped
// blocks from it (one GET, no listing): promtool blocks in a TSDB dir, shipped to a filesystem bucket.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync } from "node:fs";
import { tempDir } from "../lib/proc.ts";
import { promtoolBackfill } from "../lib/prometheus.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { Shipper } from "../../agent/shipper/shipper.ts";
import { nopLogger } from "../../agent/log.ts";
import { readBucketIndex } from "../../shared/block/bucketindex.ts";
import { BucketStore } from "../../shared/bucketstore/store.ts";

test("shipped blocks appear in bucket-index.json and the store gateway finds them through it", async () => {
  const end = Math.floor(Date.now() / 1000 / 7200) * 7200 - 3 * 3600;
  let om = "# TYPE g gauge\n";
  for (let t = end - 6 * 3600 + 60; t <= end; t += 60) om += `g{k="a"} ${t % 17} ${t}\n`;
  om += "# EOF\n";
  const tsdb = tempDir("store-shipper-tsdb-").path;
  await promtoolBackfill(om, tsdb);
  const ids = readdirSync(tsdb).filter((d) => /^[0-9A-Z]{26}$/.test(d)).sort();
  assert.ok(ids.length >= 3);
  const bkt = new FilesystemBucket(tempDir("store-shipper-bucket-").path);
  const shipper = new Shipper({ dir: tsdb, bucket: bkt, externalLabels: () => labelsFrom({ cluster: "c" }), source: "sidecar", log: nopLogger, retry: { attempts: 1 } });
  const r = await shipper.sync();
  assert.is(r.uploaded, ids.length);
  const idx = await readBucketIndex(bkt);
  assert.ok(idx, "bucket-index.json written");
  assert.equal(idx!.blocks.map((m) => m.ulid), ids);
  assert.equal(idx!.blocks[0]!.thanos!.labels, { cluster: "c" });
  assert.is(idx!.blocks[0]!.thanos!.files, undefined, "file lists are left out of the index");
  const store = new BucketStore({ bucket: bkt });
  const s = await store.sync();
  assert.is(s.source, "index");
  assert.is(s.loaded, ids.length);
  assert.is(store.stats.lists, 0, "no listing");
});

test.run();
