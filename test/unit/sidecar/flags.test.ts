// Sidecar flag parsing: Thanos names and defaults, durations, --min-time forms, helpful errors.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseSidecarFlags } from "../../../agent/sidecar/flags.ts";
import { parseDurationMs, parseTimeOrDuration } from "../../../agent/flags.ts";
import { parseExternalLabels, selectorString } from "../../../agent/prom/client.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

test("defaults are Thanos' (ports 10901/10902, localhost:9090, year-0 min time)", () => {
  const c = parseSidecarFlags([]);
  assert.is(c.promUrl, "http://localhost:9090");
  assert.equal(c.grpc, { hostname: "0.0.0.0", port: 10901 });
  assert.equal(c.http, { hostname: "0.0.0.0", port: 10902 });
  assert.is(c.minTime, Date.UTC(2000, 0, 1) - 2000 * 365.2425 * 86400e3);
  assert.is(c.readyTimeoutMs, 600_000);
  assert.equal([c.maxSeries, c.maxSamples, c.uploadCompacted, c.objstoreConfigFile], [0, 0, false, undefined]);
});

test("durations and --min-time (RFC3339 with offsets, relative durations)", () => {
  assert.is(parseDurationMs("x", "1h30m"), 5_400_000);
  assert.is(parseDurationMs("x", "500ms"), 500);
  assert.is(parseDurationMs("x", "-2d"), -172_800_000);
  assert.is(parseTimeOrDuration("min-time", "2024-01-02T03:04:05Z"), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.is(parseTimeOrDuration("min-time", "2024-01-02T03:04:05.250+02:00"), Date.UTC(2024, 0, 2, 1, 4, 5, 250));
  assert.is(parseTimeOrDuration("min-time", "-1h", 10_000_000), 10_000_000 - 3_600_000);
  for (const bad of ["5", "1x", "yesterday", "2024-01-02"]) {
    try { parseTimeOrDuration("min-time", bad); assert.unreachable(bad); } catch (e) {
      assert.is(errorCode(e), "bad_data");
      assert.match((e as Error).message, /--min-time/);
    }
  }
});

test("flag errors name the flag", () => {
  assert.throws(() => parseSidecarFlags(["--store.limits.request-series=-1"]), /--store.limits.request-series: "-1" is not a non-negative integer/);
  assert.throws(() => parseSidecarFlags(["--grpc-address=nope"]), /--grpc-address/);
  assert.throws(() => parseSidecarFlags(["--prometheus.remote-read-accept=chunks"]), /is not streamed or samples/);
  assert.throws(() => parseSidecarFlags(["--no-such-flag"]), /unknown flag --no-such-flag/);
  const c = parseSidecarFlags(["--prometheus.url", "http://p:9090", "--shipper.upload-compacted", "--min-time=-2d", "--log.level=debug"]);
  assert.equal([c.promUrl, c.uploadCompacted, c.logLevel], ["http://p:9090", true, "debug"]);
});

test("external labels from Prometheus' config YAML (as /api/v1/status/config returns it)", () => {
  const yaml = "global:\n  scrape_interval: 1m\n  external_labels:\n    replica: \"1\"\n    cluster: eu\n    empty: \"\"\nscrape_configs: []\n";
  assert.equal(parseExternalLabels(yaml, "cfg"), [{ name: "cluster", value: "eu" }, { name: "replica", value: "1" }]);
  assert.equal(parseExternalLabels("global:\n  scrape_interval: 1m\n", "cfg"), []);
  assert.throws(() => parseExternalLabels("global: [", "cfg"), /cfg: not valid YAML/);
  assert.throws(() => parseExternalLabels("global:\n  external_labels: [a, b]\n", "cfg"), /not a map/);
});

test("match[] selectors quote values so Go reads them back", () => {
  const m = (type: "=" | "=~", name: string, value: string) => ({ type, name, value, matches: () => true });
  assert.is(selectorString([m("=", "__name__", "up"), m("=~", "job", 'a"b\\.c')]), '{__name__="up", job=~"a\\"b\\\\.c"}');
});

test.run();
