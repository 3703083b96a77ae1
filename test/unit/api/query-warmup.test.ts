// The querier's warm-up (agent/query/warmup.ts): every request of its round is answered with data by
// its own app over the synthetic blocks on a loopback gRPC server (a warm-up answering errors or empty
// results would warm the error paths, not the query paths), it stops at its count and its budget, and
// it leaves nothing running.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { warmUpQuerier } from "../../../agent/query/warmup.ts";
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

test.run();
