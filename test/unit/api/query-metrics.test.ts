import { test } from "uvu";
import * as assert from "uvu/assert";
import { handlerOf, withMetrics } from "../../../agent/query/metrics.ts";

test("handler labels are bounded", () => {
  assert.is(handlerOf("/api/v1/query"), "/api/v1/query");
  assert.is(handlerOf("/api/v1/label/job/values"), "/api/v1/label/:name/values");
  assert.is(handlerOf("/api/v1/whatever-a-scanner-sends"), "/api/v1/other");
  assert.is(handlerOf("/thanos.Store/Series"), "/thanos.Store/Series");
  assert.is(handlerOf("/static/ui.js"), "/ui");
  assert.is(handlerOf("/wp-login.php"), "other");
});

test("/metrics renders request counts by handler and code, and store health", async () => {
  const app = (r: Request) => new Response("x", { status: new URL(r.url).pathname === "/api/v1/query" ? 200 : 404 });
  const f = withMetrics(app, async () => [
    { name: "http://a:10902", healthy: true, lastCheck: 1_700_000_000_000, lastError: null, labelSets: [], minTime: 0, maxTime: 0, componentType: "sidecar" },
    { name: "http://b:10902", healthy: false, lastCheck: null, lastError: "down", labelSets: [], minTime: 0, maxTime: 0, componentType: "sidecar" },
  ]);
  await f(new Request("http://q/api/v1/query?query=up"));
  await f(new Request("http://q/api/v1/query?query=up"));
  await f(new Request("http://q/nope"));
  const res = await f(new Request("http://q/metrics"));
  assert.is(res.status, 200);
  assert.match(res.headers.get("content-type")!, "text/plain; version=0.0.4");
  const body = await res.text();
  assert.match(body, 'http_requests_total{handler="/api/v1/query",method="GET",code="200"} 2');
  assert.match(body, 'http_requests_total{handler="other",method="GET",code="404"} 1');
  assert.match(body, 'http_request_duration_seconds_count{handler="/api/v1/query"} 2');
  assert.match(body, 'thanots_query_store_healthy{store="http://a:10902"} 1');
  assert.match(body, 'thanots_query_store_healthy{store="http://b:10902"} 0');
  assert.match(body, 'thanots_query_store_last_check_timestamp_seconds{store="http://a:10902"} 1700000000');
});

test.run();
