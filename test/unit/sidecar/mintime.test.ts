// agent/sidecar/mintime.ts: Prometheus' prometheus_tsdb_lowest_timestamp_seconds read as Thanos' sidecar
// reads it (the text is Prometheus 2.42's exposition format; the MaxInt64 case is what an empty TSDB shows).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { lowestTimestampFromMetrics } from "../../../agent/sidecar/mintime.ts";

test("the gauge in seconds becomes ms; an empty TSDB (MaxInt64) is -inf; absent is null", () => {
  const text = [
    "# HELP prometheus_tsdb_lowest_timestamp Lowest timestamp value stored in the database.",
    "# TYPE prometheus_tsdb_lowest_timestamp gauge",
    "prometheus_tsdb_lowest_timestamp 1.700000000123e+12",
    "# HELP prometheus_tsdb_lowest_timestamp_seconds Lowest timestamp value stored in the database.",
    "# TYPE prometheus_tsdb_lowest_timestamp_seconds gauge",
    "prometheus_tsdb_lowest_timestamp_seconds 1.700000000123e+09",
  ].join("\n");
  assert.is(lowestTimestampFromMetrics(text), 1_700_000_000_123);
  assert.is(lowestTimestampFromMetrics("prometheus_tsdb_lowest_timestamp_seconds 9.223372036854776e+15\n"), Number.NEGATIVE_INFINITY);
  assert.is(lowestTimestampFromMetrics("prometheus_tsdb_lowest_timestamp 5\nup 1\n"), null);
  assert.is(lowestTimestampFromMetrics('prometheus_tsdb_lowest_timestamp_seconds{x="y"} 12\n'), 12_000);
});

test.run();
