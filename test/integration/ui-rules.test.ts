// The querier UI's Alerts and Rules pages in headless Chromium, over an HA pair of real Thanos rulers
// (test/lib/thanos-rulers.ts) behind `agent query --web.route-prefix=/thanos`. The oracle is the
// querier's own /api/v1/rules answer (itself equal to Thanos' querier's: query-rules-thanos.test.ts):
// every alerting rule with its state and active count, every alert instance with its labels, state,
// value and annotations, every group and rule with its health and error must be on the page.
// Screenshots: test/output/ui-alerts.png, test/output/ui-rules.png.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { freePort, requireBinary, startProcess, tempDir, waitForHealthyStores, waitForHttp, type Proc } from "../lib/proc.ts";
import { startRulerHa, waitForAlerts, type RulerHa } from "../lib/thanos-rulers.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "test", "output");
let ha: RulerHa;
let querier: Proc;
let base = "";
let ctx: BrowserContext;
let page: Page;
const consoleErrors: string[] = [];

test.before(async () => {
  requireBinary("chromium");
  ha = await startRulerHa();
  const port = await freePort();
  querier = startProcess(join(root, "node_modules", ".bin", "bun"), [
    "agent/main.ts", "query", ...ha.rulers.map((r) => `--endpoint=${r.grpc}`), "--query.replica-label=replica",
    `--http-address=127.0.0.1:${port}`, "--web.route-prefix=/thanos", "--log.level=warn",
  ], { cwd: root });
  base = `http://127.0.0.1:${port}/thanos`;
  await waitForHttp(`${base}/-/ready`, querier, 60_000);
  await waitForHealthyStores(base, 2, 60_000);
  await waitForAlerts(ha.rulers);
  mkdirSync(outDir, { recursive: true });
  ctx = await chromium.launchPersistentContext(tempDir("ui-rules-chromium-").path, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
  });
  ctx.setDefaultTimeout(15_000);
  page = ctx.pages()[0] ?? await ctx.newPage();
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
});

test.after(async () => {
  await ctx?.close();
  await querier?.stop();
  await ha?.stop();
});

const labelText = (o: Record<string, string>) => Object.keys(o).map((k) => `${k}=${JSON.stringify(o[k])}`);

async function api(path: string): Promise<any> {
  const j = await (await fetch(base + path)).json();
  assert.is(j.status, "success", path);
  return j.data;
}

test("alerts page (/thanos/alerts): every alerting rule by group with its state, counts, and on expanding every instance", async () => {
  await page.goto(`${base}/alerts`);
  await page.waitForSelector("#alerts details.alert-rule");
  assert.ok(await page.locator("#nav-alerts.active").isVisible());
  const want = (await api("/api/v1/rules?type=alert")).groups;
  const wantRules = want.flatMap((g: any) => g.rules.map((r: any) => `${r.name} ${r.state} (${r.alerts.length} active)`));
  assert.equal(wantRules, ["DemoInstanceDown pending (1 active)", "DemoInstanceUp firing (2 active)", "DemoNeverFires inactive (0 active)"]);
  const shown = await page.$$eval("#alerts details.alert-rule > summary", (ss) => ss.map((s) => `${s.querySelector("strong")!.textContent} ${s.querySelector(".state")!.textContent!.toLowerCase()}${s.querySelector(".note")!.textContent}`));
  assert.equal(shown, wantRules);
  assert.equal(await page.$$eval("#alerts h3.group-title", (hs) => hs.map((h) => h.firstElementChild!.textContent)), ["demo-alerts"]);
  assert.equal([await page.textContent("#count-firing"), await page.textContent("#count-pending"), await page.textContent("#count-inactive")], ["(1)", "(1)", "(1)"]);
  assert.is(await page.textContent("#alerts-status"), "3 alerting rules: 1 firing, 1 pending, 1 inactive");
  assert.ok(await page.locator("#alerts-warnings").isHidden());

  // Expanded: the rule as written (expr linking to the query page) and its instances, sorted by labels.
  await page.click("#alerts-expand");
  await page.waitForFunction(() => [...document.querySelectorAll("#alerts details")].every((d) => (d as HTMLDetailsElement).open));
  for (const r of want[0].rules) {
    const det = page.locator(`#alerts details[data-rule="${r.name}"]`);
    assert.is(await det.locator(".rule-def a.expr").textContent(), r.query);
    const rows = await det.locator("tr.alert-instance").evaluateAll((trs) => trs.map((tr) => [
      [...tr.children[0]!.querySelectorAll(".badge")].map((b) => b.textContent), tr.children[1]!.textContent!.toLowerCase(), tr.children[3]!.textContent,
    ]));
    const inst = [...r.alerts].sort((a: any, b: any) => (labelText(a.labels).join() < labelText(b.labels).join() ? -1 : 1));
    assert.equal(rows, inst.map((a: any) => [labelText(a.labels), a.state, a.value]), r.name);
    const ann = await det.locator("tr.alert-annotations").allTextContents();
    assert.equal(ann, inst.filter((a: any) => Object.keys(a.annotations).length).map((a: any) => Object.entries(a.annotations).map(([k, v]) => `${k}: ${v}`).join("")), `${r.name} annotations`);
  }
  // Markup in an annotation is shown as text.
  assert.ok((await page.locator('#alerts details[data-rule="DemoInstanceDown"]').textContent())!.includes("for an hour, <b>really</b>"));
  await page.screenshot({ path: join(outDir, "ui-alerts.png"), fullPage: true });

  // State filters and annotations toggle.
  await page.uncheck("#show-inactive");
  assert.equal(await page.$$eval("#alerts details.alert-rule", (ds) => ds.map((d) => d.getAttribute("data-rule"))), ["DemoInstanceDown", "DemoInstanceUp"]);
  await page.uncheck("#show-annotations");
  assert.is(await page.locator("tr.alert-annotations").count(), 0);
  // Rules stay expanded across a re-render.
  assert.ok(await page.locator('#alerts details[data-rule="DemoInstanceUp"]').evaluate((d) => (d as HTMLDetailsElement).open));
  await page.check("#show-inactive");
  await page.check("#show-annotations");
});

test("rules page (#rules): every group and rule with health, error, last evaluation and evaluation time", async () => {
  await page.click("#nav-rules");
  await page.waitForSelector("#rules .rule-group");
  const want = (await api("/api/v1/rules")).groups;
  assert.equal(await page.$$eval("#rules .rule-group", (gs) => gs.map((g) => g.getAttribute("data-group"))), want.map((g: any) => g.name));
  const rows = await page.$$eval("#rules tr.rule", (trs) => trs.map((tr) => ({
    name: tr.querySelector(".rule-def strong")!.textContent,
    kind: tr.querySelector(".rule-def .key")!.textContent,
    health: tr.querySelector(".health")!.textContent,
    state: tr.querySelector(".state")?.textContent ?? null,
    error: tr.querySelector(".rule-error")!.textContent,
    lastEval: tr.children[3]!.textContent,
    took: tr.children[4]!.textContent,
  })));
  const wantRows = want.flatMap((g: any) => g.rules.map((r: any) => ({
    name: r.name, kind: r.type === "alerting" ? "alert: " : "record: ", health: r.health.toUpperCase(), state: r.type === "alerting" ? r.state.toUpperCase() : null, error: r.lastError ?? "",
  })));
  assert.equal(rows.map(({ lastEval: _l, took: _t, ...r }) => r), wantRows);
  for (const r of rows) {
    assert.match(r.lastEval!, /ago$|just now/, `${r.name} evaluated`);
    assert.match(r.took!, /^[\d.]+ (µs|ms|s)$/, `${r.name} evaluation time`);
  }
  assert.ok(rows.some((r) => r.health === "ERR" && /same labelset/.test(r.error!)), "the failing rule shows its error");
  assert.match(await page.textContent("#rules-status") ?? "", /^2 groups, 5 rules, 1 failing$/);
  // Rule labels (the external label, the replica label gone) and the group's own line.
  assert.ok((await page.locator('#rules .rule-group[data-group="demo-records"]').textContent())!.includes('kind="broken"'));
  assert.match(await page.locator('#rules .rule-group[data-group="demo-alerts"] .group-title .note').textContent() ?? "", /interval 2s · last evaluation .* · took .* · partial response WARN/);
  assert.is(await page.locator("#rules .badge", { hasText: "replica=" }).count(), 0);
  await page.screenshot({ path: join(outDir, "ui-rules.png"), fullPage: true });
});

test("a rule's expression opens the query page with it, under the prefix", async () => {
  const link = page.locator('#rules tr.rule:has(strong:text-is("job:demo_up:sum")) a.expr');
  await Promise.all([page.waitForURL(/\/thanos\/\?expr=/), link.click()]);
  const url = new URL(page.url());
  assert.is(url.pathname, "/thanos/");
  assert.is(url.searchParams.get("expr"), "sum by (job) (demo_up)");
  await page.locator("#query-page").waitFor({ state: "visible" });
  await page.waitForFunction(() => /Result series: \d+/.test(document.getElementById("status")?.textContent ?? ""));
});

test("a ruler down: its failure shows as a warning on both pages, the other replica's rules remain", async () => {
  const b = ha.rulers[1]!;
  await b.proc.stop();
  await page.goto(`${base}/#alerts`);
  await page.waitForSelector("#alerts-warnings:not([hidden])");
  assert.match(await page.textContent("#alerts-warnings") ?? "", new RegExp(b.grpc.replace(/\./g, "\\.")));
  assert.is(await page.locator("#alerts details.alert-rule").count(), 3);
  await page.click("#nav-rules");
  await page.waitForSelector("#rules-warnings:not([hidden])");
  assert.is(await page.locator("#rules tr.rule").count(), 5);
});

test("no script errors in the page", () => {
  assert.equal(consoleErrors, []);
});

test.run();
