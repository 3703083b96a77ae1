// The same UI module hosted by workerd (wrangler dev, offline) and by Deno (Deno.serve), next to the
// query API over in-memory series (ui-fixture.ts), driven in headless Chromium the same way on both:
// a typed range query is drawn with one path per series of the API's answer and one point per
// sample, the table equals /api/v1/query, the stores page copes with the missing endpoint.
// (ui-query.test.ts does the full walk against Bun's `agent query` over real blocks.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { freePort, requireBinary, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { FIXTURE_END } from "./ui-fixture.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "test", "output");
const fixture = join(root, "test", "integration", "ui-fixture.ts");
const servers: Record<string, { proc: Proc; url: string }> = {};
let ctx: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

async function startWorkerd(): Promise<{ proc: Proc; url: string }> {
  const dir = tempDir("ui-workerd-").path;
  writeFileSync(join(dir, "entry.ts"), `import { uiFixtureApp } from ${JSON.stringify(fixture)};\nexport default uiFixtureApp("workerd");\n`);
  writeFileSync(join(dir, "wrangler.toml"), `name = "ui-smoke"\nmain = "entry.ts"\ncompatibility_date = "2026-04-01"\n`);
  const port = await freePort(), inspector = await freePort();
  const proc = startProcess(join(root, "node_modules/.bin/wrangler"), [
    "dev", "--config", join(dir, "wrangler.toml"), "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector),
  ], { cwd: dir, env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" } });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 60_000);
  return { proc, url };
}

async function startDeno(): Promise<{ proc: Proc; url: string }> {
  const dir = tempDir("ui-deno-").path;
  const port = await freePort();
  writeFileSync(join(dir, "entry.ts"), `import { uiFixtureApp } from ${JSON.stringify(fixture)};\n` +
    `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen() {} }, uiFixtureApp("deno").fetch);\n`);
  // --config: the repo's deno.json (node_modules resolution) is not found from a temp dir.
  const proc = startProcess(join(root, "node_modules/.bin/deno"), ["run", "-A", "--config", join(root, "deno.json"), join(dir, "entry.ts")], { cwd: root });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 60_000);
  return { proc, url };
}

test.before(async () => {
  requireBinary("chromium");
  mkdirSync(outDir, { recursive: true });
  const [w, d] = await Promise.all([startWorkerd(), startDeno()]);
  servers.workerd = w;
  servers.deno = d;
  ctx = await chromium.launchPersistentContext(tempDir("ui-chromium-").path, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 800 },
  });
  ctx.setDefaultTimeout(15_000);
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

for (const runtime of ["workerd", "deno"]) {
  test(`${runtime}: graph, table and stores page`, async () => {
    const { url } = servers[runtime]!;
    await page.goto(`${url}/`);
    assert.is(await page.title(), runtime);
    await page.click("#tab-graph");
    await page.fill("#range", "2h");
    await page.fill("#end", String(FIXTURE_END));
    await page.locator("#expr").pressSequentially("fixture_load");
    const sent = page.waitForRequest((r) => new URL(r.url()).pathname === "/api/v1/query_range");
    await page.click("#execute");
    const params = new URLSearchParams((await sent).postData() ?? "");
    assert.is(params.get("step"), "28");
    const api = await (await fetch(`${url}/api/v1/query_range?${params}`)).json();
    const series: { metric: Record<string, string>; values: [number, string][] }[] = api.data.result;
    assert.is(series.length, 4);
    await page.waitForFunction((n) => document.querySelectorAll("#chart svg path.series").length === n, series.length);
    const drawn = await page.$$eval("#chart svg path.series", (ps) => ps.map((p) => [Number(p.getAttribute("data-index")), p.getAttribute("d") ?? ""] as const));
    for (const [i, d] of drawn) {
      assert.is((d.match(/[ML]/g) ?? []).length, series[i]!.values.length, `points of series ${i}`);
      assert.is((d.match(/M/g) ?? []).length, series[i]!.metric.host === "h4" ? 2 : 1, `segments of series ${i}`);
    }
    assert.equal(await page.$$eval("#legend .legend-label", (ls) => ls.map((l) => l.textContent)), series.map((s) => metricText(s.metric)));
    await page.screenshot({ path: join(outDir, `ui-${runtime}.png`), fullPage: true });

    await page.click("#tab-table");
    await page.fill("#expr", "avg by (dc) (fixture_load)");
    const sentI = page.waitForRequest((r) => new URL(r.url()).pathname === "/api/v1/query");
    await page.click("#execute");
    const paramsI = new URLSearchParams((await sentI).postData() ?? "");
    const inst = await (await fetch(`${url}/api/v1/query?${paramsI}`)).json();
    await page.waitForSelector("#result-table tr.sample");
    const rows = await page.$$eval("#result-table tr.sample", (trs) => trs.map((tr) => [tr.querySelector(".metric")!.textContent, tr.querySelector(".value")!.textContent]));
    assert.equal(rows, inst.data.result.map((s: any) => [metricText(s.metric), s.value[1]]));
    assert.is(rows.length, 2);

    await page.click("#nav-stores");
    await page.waitForSelector("#stores-unavailable");
    assert.ok(await page.locator("#stores-error").isHidden());
  });
}

test("no script errors in the page", () => {
  assert.equal(pageErrors, []);
});

test.run();
