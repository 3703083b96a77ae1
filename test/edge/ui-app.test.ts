// The UI sub-app (shared/ui) in memory through app.request, on whichever runtime runs this file
// (npm test runs test/edge under Node, Bun and Deno): the page and its assets, caching headers,
// the page's strict CSP, relative URLs only, and mounting next to the query API without shadowing it.
// The page itself is driven in Chromium by test/integration/ui-query.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Hono } from "hono";
import { mountUi, uiApp, UI_PATHS } from "../../shared/ui/app.ts";
import { UI_SCRIPT } from "../../shared/ui/script.ts";
import { UI_CSS } from "../../shared/ui/style.ts";
import { createQueryApi } from "../../shared/api/query-api.ts";
import { Engine } from "../../shared/promql/engine.ts";
import { MemoryQuerier } from "../../shared/storage/memory.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";

const app = uiApp();

test("the page, /graph, /alerts, /rules and /stores serve the same HTML with a strict CSP", async () => {
  const r = await app.request("/");
  assert.is(r.status, 200);
  assert.is(r.headers.get("content-type"), "text/html; charset=utf-8");
  const csp = r.headers.get("content-security-policy") ?? "";
  assert.ok(csp.includes("script-src 'self'") && csp.includes("default-src 'none'"), csp);
  assert.is(r.headers.get("x-content-type-options"), "nosniff");
  const html = await r.text();
  assert.ok(html.startsWith("<!doctype html>"));
  assert.ok(html.includes('<script src="static/ui.js" defer></script>'));
  assert.ok(html.includes('<link rel="stylesheet" href="static/ui.css">'));
  for (const id of ["expr", "metric-insert", "execute", "dedup", "partial-response", "tab-table", "tab-graph", "range", "end", "step", "warnings", "error", "chart", "legend", "stores",
    "nav-alerts", "nav-rules", "alerts", "show-firing", "show-pending", "show-inactive", "show-annotations", "alerts-warnings", "rules", "rules-warnings"]) {
    assert.ok(html.includes(`id="${id}"`), `page has #${id}`);
  }
  // No inline script or style: the CSP would block them.
  assert.not.match(html, /<script>|<style|style="/);
  for (const p of ["/graph", "/alerts", "/rules", "/stores"]) assert.is(await (await app.request(p)).text(), html, p);
});

test("assets have their types, an ETag and answer 304 to a matching If-None-Match", async () => {
  for (const [path, type, body] of [["/static/ui.js", "text/javascript; charset=utf-8", UI_SCRIPT], ["/static/ui.css", "text/css; charset=utf-8", UI_CSS]] as const) {
    const r = await app.request(path);
    assert.is(r.status, 200, path);
    assert.is(r.headers.get("content-type"), type);
    assert.is(r.headers.get("cache-control"), "no-cache");
    assert.is(await r.text(), body);
    const etag = r.headers.get("etag")!;
    assert.match(etag, /^"[0-9a-f]+"$/);
    const again = await app.request(path, { headers: { "If-None-Match": `W/"nope", W/${etag}` } });
    assert.is(again.status, 304);
    assert.is(await again.text(), "");
    assert.is((await app.request(path, { headers: { "If-None-Match": '"other"' } })).status, 200);
    const head = await app.request(path, { method: "HEAD" });
    assert.is(head.status, 200);
    assert.is(await head.text(), "");
  }
  assert.is.not((await app.request("/static/ui.js")).headers.get("etag"), (await app.request("/static/ui.css")).headers.get("etag"));
});

test("the script parses and uses relative URLs only", () => {
  // Syntax check without running it (new Function compiles the body).
  assert.type(new Function(UI_SCRIPT), "function");
  for (const u of ["api/v1/query", "api/v1/query_range", "api/v1/stores", "api/v1/rules", "api/v1/label/__name__/values"]) assert.ok(UI_SCRIPT.includes(`"${u}"`), u);
  assert.not.match(UI_SCRIPT, /["']\/api|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  assert.not.match(UI_SCRIPT, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
});

test("the title is escaped", async () => {
  const html = await (await uiApp({ title: `a<b>"c"&` }).request("/")).text();
  assert.ok(html.includes("<title>a&#60;b&#62;&#34;c&#34;&#38;</title>"), html.slice(0, 300));
});

test("mounted next to the query API: both answer, other paths stay 404", async () => {
  const engine = new Engine();
  const q = new MemoryQuerier([{ labels: labelsFrom({ __name__: "up", job: "x" }), ts: [1000, 2000], vs: [1, 0] }]);
  const api = mountUi(createQueryApi({ engine, querier: () => q }));
  const r = await api.request("/api/v1/query?query=up&time=2");
  assert.is(r.status, 200);
  assert.is(await r.text(), '{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"x"},"value":[2,"0"]}]}}');
  for (const p of UI_PATHS) assert.is((await api.request(p)).status, 200, p);
  assert.is((await api.request("/nope")).status, 404);
  assert.is((await api.request("/static/other.js")).status, 404);
  // mountUi on a bare app returns that app.
  const bare = new Hono();
  assert.is(mountUi(bare), bare);
});

test.run();
