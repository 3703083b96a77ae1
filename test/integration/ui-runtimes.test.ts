// The UI on the three querier deployments, driven the same way in headless Chromium:
//   bun     `agent query --tsdb.path BLOCKS --endpoint DEAD` (fan-out: local blocks + a store that is down)
//   deno    `deno run edge/deno.ts --endpoint BUN`            (stacked on the Bun querier)
//   workerd `wrangler dev` of the repo's Worker with STORE_ENDPOINTS=BUN
// Each deployment's own API is the oracle: the graph draws one path per series of its query_range
// answer with one point per sample, its warnings (the dead store, passed up the stack) are listed,
// dedup on and off draw its answers for an HA pair, the table equals its /api/v1/query, partial_response=false shows what it answers then, and the
// stores page lists its /api/v1/stores; on Deno the API wants a bearer token, typed into the page. Screenshots: test/output/ui-<runtime>*.png.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { freePort, requireBinary, startProcess, startWranglerDev, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promtoolBackfill } from "../lib/prometheus.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "test", "output");
const bin = (n: string) => join(root, "node_modules", ".bin", n);
const END = 1_700_007_200; // last sample, Unix seconds
const servers: Record<string, { proc: Proc; url: string }> = {};
let ctx: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
/** The Deno querier requires this bearer token on /api/* (QUERY_TOKEN); the page sends what is typed in #token. */
const DENO_TOKEN = "ui-test-token";
const authFor = (runtime: string): Record<string, string> => (runtime === "deno" ? { Authorization: `Bearer ${DENO_TOKEN}` } : {});

/** Four gauges over the two hours before END at 15 s; h4 misses 12.5 minutes. An HA pair ui_ha
 *  (replica a and b, b missing the first half hour) for the dedup toggle. */
function openMetrics(): string {
  const lines = ["# TYPE ui_load gauge"];
  for (let i = 0; i <= 480; i++) {
    for (const [h, k] of [["h1", 1], ["h2", 2], ["h3", 3], ["h4", 5]] as const) {
      if (h === "h4" && i >= 350 && i < 400) continue;
      lines.push(`ui_load{host="${h}",dc="${k % 2 ? "odd" : "even"}"} ${(k * 10 + Math.sin(i / (8 * k)) * k).toFixed(3)} ${END - 7200 + i * 15}`);
    }
  }
  lines.push("# TYPE ui_ha gauge");
  for (let i = 0; i <= 480; i++) {
    for (const r of ["a", "b"]) if (r === "a" || i >= 120) lines.push(`ui_ha{job="ha",replica="${r}"} ${i % 60} ${END - 7200 + i * 15}`);
  }
  lines.push("# EOF");
  return lines.join("\n") + "\n";
}

test.before(async () => {
  requireBinary("chromium");
  mkdirSync(outDir, { recursive: true });
  const blocks = tempDir("ui-rt-blocks-").path;
  await promtoolBackfill(openMetrics(), blocks);
  const [dead, pBun, pDeno] = await Promise.all([freePort(), freePort(), freePort()]);
  const bunUrl = `http://127.0.0.1:${pBun}`;
  const bun = startProcess(bin("bun"), [join(root, "agent", "main.ts"), "query", "--tsdb.path", blocks, "--endpoint", `http://127.0.0.1:${dead}`, "--query.replica-label", "replica",
    "--http-address", `127.0.0.1:${pBun}`, "--log.level", "warn"], { cwd: root });
  servers.bun = { proc: bun, url: bunUrl };
  servers.deno = {
    proc: startProcess(bin("deno"), ["run", "-A", join(root, "edge", "deno.ts"), "--endpoint", bunUrl, "--query.replica-label", "replica", "--http-address", `127.0.0.1:${pDeno}`], { cwd: root, env: { QUERY_TOKEN: DENO_TOKEN } }),
    url: `http://127.0.0.1:${pDeno}`,
  };
  servers.workerd = await startWranglerDev({
    args: ["--config", join(root, "wrangler.toml"), "--persist-to", tempDir("ui-rt-wrangler-").path, "--var", `STORE_ENDPOINTS:${bunUrl}`],
    cwd: root, readyPath: "/-/ready",
  });
  await Promise.all(Object.values(servers).map((s) => waitForHttp(`${s.url}/-/ready`, s.proc, 60_000)));
  ctx = await chromium.launchPersistentContext(tempDir("ui-chromium-").path, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
  ctx.setDefaultTimeout(20_000);
  page = ctx.pages()[0] ?? await ctx.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
});

test.after(async () => {
  await ctx?.close();
  await Promise.all(Object.values(servers).map((s) => s.proc.stop()));
});

function metricText(m: Record<string, string>): string {
  const { __name__: name = "", ...rest } = m;
  const parts = Object.keys(rest).map((k) => `${k}=${JSON.stringify(rest[k])}`);
  return parts.length || !name ? `${name}{${parts.join(", ")}}` : name;
}

/** Click Execute and return the form the page sent to `path`, replayed as GET on the same server. */
async function executeAndReplay(url: string, path: string, headers: Record<string, string> = {}): Promise<{ params: URLSearchParams; api: any }> {
  const sent = page.waitForRequest((r) => new URL(r.url()).pathname === path);
  await page.click("#execute");
  const params = new URLSearchParams((await sent).postData() ?? "");
  const api = await (await fetch(`${url}${path}?${params}`, { headers })).json();
  await page.waitForFunction(() => !document.getElementById("execute")!.hasAttribute("disabled"));
  return { params, api };
}

for (const runtime of ["bun", "deno", "workerd"]) {
  test(`${runtime}: graph, warnings, table, partial response and stores`, async () => {
    const { url } = servers[runtime]!;
    await page.goto(`${url}/`);
    await page.click("#tab-graph");
    await page.fill("#range", "2h");
    await page.fill("#end", String(END));
    await page.locator("#expr").pressSequentially("ui_load");
    if (runtime === "deno") {
      // Without the token: the API's 401 answer is shown, nothing drawn; then type the token.
      const denied = await executeAndReplay(url, "/api/v1/query_range");
      assert.is(denied.api.status, "error");
      assert.is(await page.textContent("#error"), `${denied.api.errorType}: ${denied.api.error} (set a bearer token in the header)`);
      assert.is(await page.locator("#chart svg").count(), 0);
      await page.fill("#token", DENO_TOKEN);
    }
    const { params, api } = await executeAndReplay(url, "/api/v1/query_range", authFor(runtime));
    assert.is(params.get("step"), "28");
    assert.is(params.get("dedup"), "true");
    assert.is(api.status, "success", JSON.stringify(api).slice(0, 300));
    const series: { metric: Record<string, string>; values: [number, string][] }[] = api.data.result;
    assert.is(series.length, 4);
    await page.waitForFunction((n) => document.querySelectorAll("#chart svg path.series").length === n, series.length);
    const drawn = await page.$$eval("#chart svg path.series", (ps) => ps.map((p) => [Number(p.getAttribute("data-index")), p.getAttribute("d") ?? ""] as const));
    for (const [i, d] of drawn) {
      assert.is((d.match(/[ML]/g) ?? []).length, series[i]!.values.length, `points of series ${i}`);
      assert.is((d.match(/M/g) ?? []).length, series[i]!.metric.host === "h4" ? 2 : 1, `segments of series ${i}`);
    }
    assert.equal(await page.$$eval("#legend .legend-label", (ls) => ls.map((l) => l.textContent)), series.map((s) => metricText(s.metric)));
    // The dead store behind the Bun querier is a warning on every deployment.
    assert.ok((api.warnings ?? []).length > 0, "the API warns about the dead store");
    assert.equal(await page.$$eval("#warnings li", (ls) => ls.map((l) => l.textContent)), api.warnings);
    await page.screenshot({ path: join(outDir, `ui-${runtime}.png`), fullPage: true });

    // Dedup toggle: the HA pair is one series with dedup (every deployment is told replica is the
    // replica label), both replicas without; each drawn as that deployment answers.
    await page.fill("#expr", "ui_ha");
    for (const dedup of [true, false]) {
      await page.setChecked("#dedup", dedup);
      const ha = await executeAndReplay(url, "/api/v1/query_range", authFor(runtime));
      assert.is(ha.params.get("dedup"), String(dedup));
      const want = ha.api.data.result.map((s: any) => metricText(s.metric));
      assert.equal(want, dedup ? ['ui_ha{job="ha"}'] : ['ui_ha{job="ha", replica="a"}', 'ui_ha{job="ha", replica="b"}'], `API with dedup=${dedup}`);
      assert.equal(await page.$$eval("#legend .legend-label", (ls) => ls.map((l) => l.textContent)), want);
      const d = await page.$$eval("#chart svg path.series", (ps) => ps.map((p) => (p.getAttribute("d")!.match(/[ML]/g) ?? []).length));
      assert.equal(d, ha.api.data.result.map((s: any) => s.values.length));
    }
    await page.check("#dedup");

    await page.click("#tab-table");
    await page.fill("#expr", "avg by (dc) (ui_load)");
    const inst = await executeAndReplay(url, "/api/v1/query", authFor(runtime));
    const rows = await page.$$eval("#result-table tr.sample", (trs) => trs.map((tr) => [tr.querySelector(".metric")!.textContent, tr.querySelector(".value")!.textContent]));
    assert.equal(rows, inst.api.data.result.map((s: any) => [metricText(s.metric), s.value[1]]));
    assert.is(rows.length, 2);

    // Without partial response the page shows whatever the server answers instead.
    await page.uncheck("#partial-response");
    const abort = await executeAndReplay(url, "/api/v1/query", authFor(runtime));
    assert.is(abort.params.get("partial_response"), "false");
    if (abort.api.status === "error") {
      assert.is(await page.textContent("#error"), `${abort.api.errorType}: ${abort.api.error}`);
      assert.is(await page.locator("#result-table tr.sample").count(), 0);
    } else {
      assert.is(await page.locator("#result-table tr.sample").count(), abort.api.data.result.length);
    }
    await page.check("#partial-response");

    await page.click("#nav-stores");
    const stores = await (await fetch(`${url}/api/v1/stores`, { headers: authFor(runtime) })).json();
    const want: [string, string, string][] = [];
    for (const type of Object.keys(stores.data).sort()) {
      for (const s of stores.data[type]) want.push([s.name, s.healthy ? "UP" : "DOWN", s.lastError ?? ""]);
    }
    assert.ok(want.length > 0);
    await page.waitForFunction((n) => document.querySelectorAll("#stores tr.store").length === n, want.length);
    const got = await page.$$eval("#stores tr.store", (trs) => trs.map((tr) => [tr.querySelector(".store-name")!.textContent, tr.children[1]!.textContent, tr.querySelector(".store-error")!.textContent]));
    // lastError texts are compared too; a store's health could change between the two reads, so
    // allow one retry of the page.
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      await page.click("#stores-refresh");
      await page.waitForTimeout(500);
    }
    assert.equal(await page.$$eval("#stores tr.store", (trs) => trs.map((tr) => [tr.querySelector(".store-name")!.textContent, tr.children[1]!.textContent, tr.querySelector(".store-error")!.textContent])), want);
    await page.screenshot({ path: join(outDir, `ui-${runtime}-stores.png`), fullPage: true });
  });
}

test("no script errors in the page", () => {
  assert.equal(pageErrors, []);
});

test.run();
