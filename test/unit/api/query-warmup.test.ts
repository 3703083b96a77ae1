// The querier's warm-up (agent/query/warmup.ts): every request of its round is answered with data by
// its own app over the synthetic blocks on a loopback gRPC server (a warm-up answering errors or empty
// results would warm the error paths, not the query paths), it stops at its count and its budget, and
// it leaves nothing running.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { warmUpQuerier } from "../../../agent/query/warmup.ts";
import { startQueryServer } from "../../../agent/query/server.ts";
import { nopLogger } from "../../../agent/log.ts";

const cfg = { hostname: "127.0.0.1", port: 0, lookbackDeltaMs: 300_000, maxSamples: 50_000_000, timeoutMs: 60_000, log: nopLogger };

test("a round of PromQL, series, labels and values requests, each answered 200 with data", async () => {
  const r = await warmUpQuerier(cfg, nopLogger, 1, 60_000);
  assert.is(r.error, undefined, r.error);
  assert.ok(r.queries >= 25, `one whole round: ${r.queries}`);
  assert.is(r.failed, 0, `requests without data: ${r.failed} of ${r.queries}`);
});

test("stops at its budget", async () => {
  const r = await warmUpQuerier(cfg, nopLogger, 1_000_000, 300);
  assert.is(r.error, undefined, r.error);
  assert.ok(r.queries < 1_000_000 && r.ms < 10_000, `${r.queries} queries in ${r.ms} ms`);
});

test("a querier with workers reports ready only once each worker has warmed up", async () => {
  const dir = mkdtempSync(join(tmpdir(), "query-warmup-"));
  const bucketYml = join(dir, "bucket.yml");
  writeFileSync(bucketYml, `type: FILESYSTEM\nconfig:\n  directory: ${join(dir, "bucket")}\n`);
  const srv = await startQueryServer({ ...cfg, objstoreConfigFile: bucketYml, workers: 1, warmupQueries: 150 });
  try {
    const ready = async () => (await fetch(`http://127.0.0.1:${srv.port}/-/ready`)).status;
    // 150 requests take far longer than the first poll (over a second here).
    assert.is(await ready(), 503, "not ready while the worker warms up");
    const t0 = Date.now();
    let status = 503;
    while (status !== 200 && Date.now() - t0 < 60_000) {
      await new Promise((r) => setTimeout(r, 50));
      status = await ready();
    }
    assert.is(status, 200, "ready once warmed up");
  } finally {
    await srv.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
