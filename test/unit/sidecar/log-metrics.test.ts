// agent/log.ts (logfmt) and agent/metrics.ts (text exposition format).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { newLogger, logfmtValue } from "../../../agent/log.ts";
import { Registry } from "../../../agent/metrics.ts";

test("logfmt lines: levels filter, values quoted only when needed, child context", () => {
  const lines: string[] = [];
  const log = newLogger({ level: "info", write: (l) => lines.push(l), now: () => new Date(0) }).with({ component: "sidecar" });
  log.debug("hidden");
  log.info("uploaded block", { block: "01H", bytes: 12, err: new Error('bad "x"') });
  assert.equal(lines, ['ts=1970-01-01T00:00:00.000Z level=info component=sidecar msg="uploaded block" block=01H bytes=12 err="bad \\"x\\""']);
  assert.is(logfmtValue(""), '""');
  assert.is(logfmtValue("a=b"), '"a=b"');
  assert.is(logfmtValue("line\nbreak"), '"line\\nbreak"');
});

test("registry renders counters, gauges, histograms in exposition format", () => {
  const r = new Registry();
  const c = r.counter("x_requests_total", "Requests.", ["method", "code"]);
  c.inc({ method: "Series", code: "OK" });
  c.inc({ method: "Series", code: "OK" }, 2);
  r.gauge("x_up", "Up.").set(1);
  const h = r.histogram("x_seconds", "Latency.", [], [0.1, 1]);
  h.observe(0.05); h.observe(0.5); h.observe(5);
  const text = r.render();
  assert.ok(text.includes('# TYPE x_requests_total counter\nx_requests_total{method="Series",code="OK"} 3\n'));
  assert.ok(text.includes("x_up 1\n"));
  assert.ok(text.includes('x_seconds_bucket{le="0.1"} 1\nx_seconds_bucket{le="1"} 2\nx_seconds_bucket{le="+Inf"} 3\nx_seconds_sum 5.55\nx_seconds_count 3\n'));
  assert.throws(() => r.counter("x_up", "again"), /registered twice/);
});

test.run();
