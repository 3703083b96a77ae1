// The query UI (shared/ui) driven in headless Chromium against `agent query --tsdb.path` over
// promtool-backfilled blocks. The API's own answers are the oracle: the graph must draw one path per
// series of the query_range answer with one point per returned sample, the table must show exactly
// the values of /api/v1/query, errors must show the API's message. Screenshots go to test/output/.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type BrowserContext, type Page, type Request as PwRequest } from "playwright-core";
import { freePort, requireBinary, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promtoolBackfill } from "../lib/prometheus.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const outDir = join(root, "test", "output");
const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z
const END = T0 + 7200;
let server: Proc;
let base = "";
let ctx: BrowserContext;
let page: Page;

/** Two hours at 15 s: three counters (instance c misses 20 minutes), two gauges with awkward values. */
function openMetrics(): string {
  const lines: string[] = ["# TYPE ui_requests counter"];
  for (let i = 0; i <= 480; i++) {
    for (const [inst, k] of [["a", 3], ["b", 5], ["c", 11]] as const) {
      if (inst === "c" && i >= 300 && i < 380) continue;
      lines.push(`ui_requests_total{job="api",instance="${inst}"} ${i * k + Math.floor((i * i) / 97)} ${T0 + i * 15}`);
    }
  }
  lines.push("# TYPE ui_temperature gauge");
  for (let i = 0; i <= 480; i++) {
    lines.push(`ui_temperature{room="lab"} ${(20 + Math.sin(i / 20) * 3).toFixed(3)} ${T0 + i * 15}`);
    lines.push(`ui_temperature{room="hall \\"east\\""} ${1e-7 * (i + 1)} ${T0 + i * 15}`);
  }
  lines.push("# EOF");
  return lines.join("\n") + "\n";
}

/** The UI's way of printing a series (Prometheus UI style): name{k="v", ...}. */
function metricText(m: Record<string, string>): string {
  const { __name__: name = "", ...rest } = m;
  const parts = Object.keys(rest).map((k) => `${k}=${JSON.stringify(rest[k])}`);
  return parts.length || !name ? `${name}{${parts.join(", ")}}` : name;
}

async function apiGet(path: string, params: URLSearchParams | Record<string, string>): Promise<any> {
  const r = await fetch(`${base}${path}?${new URLSearchParams(params)}`);
  return await r.json();
}

test.before(async () => {
  const chromiumPath = "/usr/bin/chromium";
  requireBinary("chromium");
  const blocks = tempDir("ui-blocks-").path;
  await promtoolBackfill(openMetrics(), blocks);
  const port = await freePort();
  server = startProcess(join(root, "node_modules", ".bin", "bun"), [
    join(root, "agent", "main.ts"), "query", "--tsdb.path", blocks, "--http-address", `127.0.0.1:${port}`, "--log.level", "warn",
  ], { cwd: root });
  base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/-/ready`, server, 30_000);
  mkdirSync(outDir, { recursive: true });
  ctx = await chromium.launchPersistentContext(tempDir("ui-chromium-").path, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    // A zone with a half-hour offset: times must still show (and zone-less input be read) in UTC
    // unless "Use local time" is ticked.
    timezoneId: "Asia/Kolkata",
  });
  ctx.setDefaultTimeout(15_000);
  page = ctx.pages()[0] ?? await ctx.newPage();
  const consoleErrors: string[] = [];
  page.on("pageerror", (e) => consoleErrors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  (globalThis as any).__uiConsoleErrors = consoleErrors;
});

test.after(async () => {
  await ctx?.close();
  await server?.stop();
});

/** The next request the page makes to `path`, with its form parameters. */
function nextRequest(path: string): Promise<{ req: PwRequest; params: URLSearchParams }> {
  return page.waitForRequest((r) => new URL(r.url()).pathname === path).then((req) => ({
    req,
    params: new URLSearchParams(req.method() === "POST" ? req.postData() ?? "" : new URL(req.url()).search),
  }));
}

test("graph: a typed range query draws one path per series, every sample a point", async () => {
  await page.goto(`${base}/`);
  await page.click("#tab-graph");
  await page.fill("#range", "1h");
  await page.fill("#end", String(END));
  await page.locator("#expr").pressSequentially("rate(ui_requests_total[5m])");
  const sent = nextRequest("/api/v1/query_range");
  await page.locator("#expr").press("Enter");
  const { params } = await sent;
  // Prometheus' UI default resolution: range/250, whole seconds.
  assert.equal(Object.fromEntries(params), {
    query: "rate(ui_requests_total[5m])", start: String(END - 3600), end: String(END), step: "14",
    dedup: "true", partial_response: "true",
  });
  const api = await apiGet("/api/v1/query_range", params);
  assert.is(api.status, "success");
  const series: { metric: Record<string, string>; values: [number, string][] }[] = api.data.result;
  assert.is(series.length, 3);

  await page.waitForFunction((n) => document.querySelectorAll("#chart svg path.series").length === n, series.length);
  const drawn = await page.$$eval("#chart svg path.series", (ps) => ps.map((p) => ({ i: Number(p.getAttribute("data-index")), d: p.getAttribute("d") ?? "", stroke: p.getAttribute("stroke") })));
  const legend = await page.$$eval("#legend .legend-item .legend-label", (ls) => ls.map((l) => l.textContent));
  assert.equal(legend, series.map((s) => metricText(s.metric)));
  for (const p of drawn) {
    const s = series[p.i]!;
    const points = (p.d.match(/[ML]/g) ?? []).length;
    assert.is(points, s.values.length, `points drawn for ${metricText(s.metric)}`);
    // Instance c misses 20 minutes: its line must break there (two segments), the others are whole.
    const segments = (p.d.match(/M/g) ?? []).length;
    assert.is(segments, s.metric.instance === "c" ? 2 : 1, `segments of ${metricText(s.metric)}: ${p.d.slice(0, 80)}`);
  }
  assert.is(new Set(drawn.map((p) => p.stroke)).size, 3, "each series has its own colour");
  assert.match(await page.textContent("#status") ?? "", /Result series: 3/);
  assert.is(await page.getAttribute("#chart svg", "aria-label"), "graph of 3 series");
  // The view is in the URL, so a reload shows the same graph.
  const url = new URL(page.url());
  assert.is(url.searchParams.get("expr"), "rate(ui_requests_total[5m])");
  assert.is(url.searchParams.get("tab"), "graph");

  // Hovering the plot shows a tooltip with a value the API returned.
  const box = (await page.locator("#chart svg").boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector("#tooltip:not([hidden])");
  const tip = (await page.textContent("#tooltip")) ?? "";
  const value = /Value: (\S+)/.exec(tip)?.[1];
  assert.ok(value !== undefined && series.some((s) => s.values.some((v) => v[1] === value)), tip);
  await page.screenshot({ path: join(outDir, "ui-graph.png"), fullPage: true });

  // Dragging across the middle half of the plot zooms to it (one pixel is 3600/plot-width seconds).
  const viewBox = (await page.getAttribute("#chart svg", "viewBox"))!.split(" ").map(Number);
  const scale = box.width / viewBox[2]!, plotLeft = box.x + 64 * scale, plotWidth = (viewBox[2]! - 64 - 16) * scale;
  const zoom = nextRequest("/api/v1/query_range");
  await page.mouse.move(plotLeft + plotWidth * 0.25, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(plotLeft + plotWidth * 0.5, box.y + box.height / 2, { steps: 4 });
  await page.mouse.move(plotLeft + plotWidth * 0.75, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  const z = (await zoom).params;
  const secPerPx = 3600 / (viewBox[2]! - 64 - 16);
  assert.ok(Math.abs(Number(z.get("end")) - (END - 900)) <= 2 * secPerPx, `zoom end ${z.get("end")}`);
  assert.ok(Math.abs(Number(z.get("start")) - (END - 2700)) <= 2 * secPerPx, `zoom start ${z.get("start")}`);
  assert.is(await page.inputValue("#end"), new Date(Number(z.get("end")) * 1000).toISOString().replace(".000Z", "Z"));
  await page.waitForFunction((n) => document.querySelectorAll("#chart svg path.series").length === n, series.length);
  // Back to the full hour for the legend checks.
  await page.fill("#range", "1h");
  await page.fill("#end", String(END));
  await page.click("#execute");
  await page.waitForFunction(() => /Resolution: 14s/.test(document.getElementById("status")!.textContent ?? ""));

  // Legend: a click isolates a series, a second click shows all again.
  await page.click("#legend .legend-item[data-index='1']");
  assert.equal(await page.$$eval("#chart svg path.series", (ps) => ps.map((p) => p.getAttribute("data-index"))), ["1"]);
  await page.click("#legend .legend-item[data-index='1']");
  assert.is(await page.locator("#chart svg path.series").count(), 3);
});

test("table: instant results equal the API's for vectors, scalars and matrices", async () => {
  await page.goto(`${base}/`);
  await page.click("#tab-table");
  await page.fill("#end", String(END - 61.5));
  const queries = [
    "ui_temperature",
    "sum by (job) (rate(ui_requests_total[5m]))",
    "scalar(sum(ui_temperature))",
    "ui_requests_total{instance=\"a\"}[1m]",
    "ui_requests_total{instance=\"nope\"}",
  ];
  for (const q of queries) {
    await page.fill("#expr", q);
    const sent = nextRequest("/api/v1/query");
    await page.click("#execute");
    const { params } = await sent;
    assert.is(params.get("time"), String(END - 61.5));
    const api = await apiGet("/api/v1/query", params);
    assert.is(api.status, "success", q);
    const d = api.data;
    let expected: [string, string][];
    if (d.resultType === "vector") expected = d.result.map((s: any) => [metricText(s.metric), s.value[1]]);
    else if (d.resultType === "matrix") expected = d.result.map((s: any) => [metricText(s.metric), s.values.map((v: [number, string]) => `${v[1]} @${v[0]}`).join("\n")]);
    else expected = [[d.resultType, d.result[1]]];
    await page.waitForFunction(() => !(document.getElementById("status")?.textContent ?? "").startsWith("Loading"));
    if (expected.length === 0) {
      assert.is(await page.textContent("#result-table td.empty"), "Empty query result", q);
      continue;
    }
    const rows = await page.$$eval("#result-table tr.sample", (trs) => trs.map((tr) => [tr.querySelector(".metric")!.textContent, tr.querySelector(".value")!.textContent]));
    assert.equal(rows, expected, q);
  }
  await page.fill("#expr", "ui_temperature");
  await page.click("#execute");
  await page.waitForSelector("#result-table tr.sample");
  await page.screenshot({ path: join(outDir, "ui-table.png"), fullPage: true });
});

test("errors show the API's message; toggles are sent as dedup and partial_response", async () => {
  await page.goto(`${base}/`);
  await page.fill("#expr", "rate(ui_requests_total[5m]");
  await page.click("#execute");
  await page.waitForSelector("#error:not([hidden])");
  const api = await apiGet("/api/v1/query", { query: "rate(ui_requests_total[5m]" });
  assert.is(api.status, "error");
  assert.is(await page.textContent("#error"), `${api.errorType}: ${api.error}`);
  assert.is(await page.locator("#result-table tr").count(), 0);

  await page.uncheck("#dedup");
  await page.uncheck("#partial-response");
  await page.selectOption("#max-source-resolution", "5m");
  await page.fill("#end", String(END));
  await page.fill("#expr", "ui_temperature");
  const sent = nextRequest("/api/v1/query");
  await page.click("#execute");
  const { params } = await sent;
  assert.is(params.get("dedup"), "false");
  assert.is(params.get("partial_response"), "false");
  assert.is(params.get("max_source_resolution"), "5m");
  await page.waitForSelector("#result-table tr.sample");
  assert.ok(await page.locator("#error").isHidden(), "error cleared by a good query");
  // Reloading keeps the toggles (they live in the URL).
  await page.reload();
  assert.is(await page.isChecked("#dedup"), false);
  assert.is(await page.isChecked("#partial-response"), false);
  assert.is(await page.inputValue("#max-source-resolution"), "5m");
});

test("time controls: RFC 3339 or Unix end, duration range and step, bad input caught before any request", async () => {
  await page.goto(`${base}/`);
  await page.click("#tab-graph");
  await page.fill("#expr", "ui_temperature");
  const cases: [end: string, range: string, step: string, want: Record<string, string>][] = [
    ["2023-11-15T00:13:20Z", "1h30m", "1m", { start: String(END - 5400), end: String(END), step: "60" }],
    ["2023-11-15 00:13:20", "90m", "", { start: String(END - 5400), end: String(END), step: "21" }], // no zone: UTC
    ["1700007200.5", "2h", "15", { start: "1700000000.5", end: "1700007200.5", step: "15" }],
    ["2023-11-15T01:13:20+01:00", "250s", "1s", { start: String(END - 250), end: String(END), step: "1" }],
  ];
  for (const [end, range, step, want] of cases) {
    await page.fill("#end", end);
    await page.fill("#range", range);
    await page.fill("#step", step);
    const sent = nextRequest("/api/v1/query_range");
    await page.click("#execute");
    const { params } = await sent;
    assert.equal({ start: params.get("start"), end: params.get("end"), step: params.get("step") }, want, `${end} ${range} ${step}`);
    // (attached, not visible: a flat line has an empty box, which Playwright calls invisible)
    await page.waitForSelector("#chart svg path.series", { state: "attached" });
  }
  // The range buttons walk Prometheus' list of ranges and run the query again.
  await page.fill("#range", "1h");
  await page.fill("#step", "");
  await page.fill("#end", String(END));
  let sent = nextRequest("/api/v1/query_range");
  await page.click("#range-more");
  assert.is((await sent).params.get("start"), String(END - 7200));
  assert.is(await page.inputValue("#range"), "2h");
  sent = nextRequest("/api/v1/query_range");
  await page.click("#range-less");
  await page.waitForFunction(() => (document.getElementById("range") as HTMLInputElement).value === "1h");
  assert.is((await sent).params.get("start"), String(END - 3600));

  let requests = 0;
  const count = (r: PwRequest) => { if (new URL(r.url()).pathname.startsWith("/api/")) requests++; };
  page.on("request", count);
  try {
    for (const [field, value, message] of [
      ["#end", "yesterday", 'Cannot read the time "yesterday"'],
      ["#range", "1 hour", 'Cannot read the range "1 hour"'],
      ["#step", "0s", 'Cannot read the step "0s"'],
      ["#expr", "  ", "Enter an expression."],
    ] as const) {
      await page.fill("#end", String(END));
      await page.fill("#range", "1h");
      await page.fill("#step", "");
      await page.fill("#expr", "ui_temperature");
      await page.fill(field, value);
      await page.click("#execute");
      assert.ok(((await page.textContent("#error")) ?? "").startsWith(message), `${field}=${value}: ${await page.textContent("#error")}`);
    }
  } finally {
    page.off("request", count);
  }
  assert.is(requests, 0, "no API request for unreadable controls");
});

test("metric names from the API are offered and inserted at the cursor", async () => {
  await page.goto(`${base}/`);
  await page.fill("#expr", "rate([5m])");
  await page.locator("#expr").evaluate((ta: HTMLTextAreaElement) => ta.setSelectionRange(5, 5));
  await page.focus("#metric-insert");
  const api = await apiGet("/api/v1/label/__name__/values", {});
  assert.equal(api.data, ["ui_requests_total", "ui_temperature"]);
  await page.waitForFunction((n) => (document.getElementById("metric-insert") as HTMLSelectElement).options.length === n + 1, api.data.length);
  assert.equal(await page.$$eval("#metric-insert option", (os) => os.slice(1).map((o) => o.textContent)), api.data);
  await page.selectOption("#metric-insert", "ui_requests_total");
  assert.is(await page.inputValue("#expr"), "rate(ui_requests_total[5m])");
  assert.is(await page.inputValue("#metric-insert"), "");
});

test("a slow query can be canceled; its late answer is not shown", async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  await page.route("**/api/v1/query", async (route) => {
    await held;
    await route.continue().catch(() => { /* the page aborted it */ });
  });
  try {
    await page.goto(`${base}/?expr=ui_temperature&end=${END}`);
    await page.waitForSelector("#cancel:not([hidden])");
    assert.is(await page.textContent("#status"), "Loading…");
    assert.ok(await page.isDisabled("#execute"));
    await page.click("#cancel");
    assert.is(await page.textContent("#status"), "Canceled.");
    assert.ok(await page.isEnabled("#execute"));
    assert.ok(await page.locator("#cancel").isHidden());
    release();
    await page.waitForTimeout(300);
    assert.is(await page.locator("#result-table tr.sample").count(), 0);
    assert.ok(await page.locator("#error").isHidden());
  } finally {
    release();
    await page.unroute("**/api/v1/query");
  }
});

test("a non-JSON failure (e.g. a proxy's 502 page) is shown with its status and text", async () => {
  await page.route("**/api/v1/query", (route) => route.fulfill({ status: 502, contentType: "text/html", body: "<html><b>upstream</b> unreachable</html>" }));
  try {
    await page.goto(`${base}/?expr=ui_temperature&end=${END}`);
    await page.waitForSelector("#error:not([hidden])");
    const text = (await page.textContent("#error")) ?? "";
    assert.match(text, /^HTTP 502\b/);
    assert.ok(text.endsWith(": <html><b>upstream</b> unreachable</html>"), text);
    assert.is(await page.locator("#error b").count(), 0, "shown as text, not markup");
  } finally {
    await page.unroute("**/api/v1/query");
  }
});

test("Prometheus/Thanos panel links (alert generator URLs) open the query", async () => {
  // A table link as a Thanos ruler's generatorURL has it, then a graph link with range and end.
  await page.goto(`${base}/graph?g0.expr=${encodeURIComponent("ui_temperature > 10")}&g0.tab=1&g0.moment_input=${encodeURIComponent("2023-11-15 00:13:20")}`);
  await page.waitForSelector("#result-table tr.sample");
  assert.is(await page.getAttribute("#tab-table", "aria-selected"), "true");
  const api = await apiGet("/api/v1/query", { query: "ui_temperature > 10", time: String(END) });
  assert.equal(await page.$$eval("#result-table tr.sample .value", (tds) => tds.map((td) => td.textContent)), api.data.result.map((s: any) => s.value[1]));
  const sent = nextRequest("/api/v1/query_range");
  await page.goto(`${base}/graph?g0.expr=ui_temperature&g0.tab=0&g0.range_input=30m&g0.end_input=${encodeURIComponent("2023-11-15 00:13:20")}&g0.deduplicate=0`);
  const { params } = await sent;
  assert.equal([params.get("start"), params.get("end"), params.get("step"), params.get("dedup")], [String(END - 1800), String(END), "7", "false"]);
  await page.waitForFunction(() => document.querySelectorAll("#chart svg path.series").length === 2);
});

test("awkward values draw without script errors: NaN/Inf gaps, lone points, extreme and constant values", async () => {
  const t = (i: number) => END - 3600 + i * 14;
  const values = (f: (i: number) => string | null) => Array.from({ length: 258 }, (_, i) => [t(i), f(i)] as const).filter(([, v]) => v !== null);
  const result = [
    { metric: { k: "nan-inf" }, values: values((i) => (i % 50 === 10 ? "NaN" : i % 50 === 20 ? "+Inf" : i % 50 === 30 ? "-Inf" : String(i))) },
    { metric: { k: "lone" }, values: values((i) => (i === 100 || i === 200 ? "5" : null)) },
    { metric: { k: "extreme" }, values: values((i) => (i % 2 ? "1.7976931348623157e+308" : "-1.7976931348623157e+308")) },
  ];
  const cases: [string, unknown[], number][] = [
    ["mixed", result, 3],
    ["constant", [{ metric: { __name__: "c" }, values: values(() => "42") }], 1],
    ["all NaN", [{ metric: { __name__: "n" }, values: values(() => "NaN") }], 0],
    ["empty", [], 0],
  ];
  for (const [name, res, paths] of cases) {
    await page.route("**/api/v1/query_range", (route) => route.fulfill({ json: { status: "success", data: { resultType: "matrix", result: res } } }));
    try {
      await page.goto(`${base}/?expr=${encodeURIComponent(name)}&tab=graph&range=1h&end=${END}`);
      await page.waitForFunction(() => /Result series/.test(document.getElementById("status")!.textContent ?? ""));
      assert.is(await page.locator("#chart svg path.series").count(), paths, name);
      assert.is(await page.locator("#legend .legend-item").count(), res.length, name);
      const ds = await page.$$eval("#chart svg path.series", (ps) => ps.map((p) => p.getAttribute("d")!));
      for (const d of ds) assert.not.match(d, /NaN|Infinity/, `${name}: ${d.slice(0, 100)}`);
      if (name === "mixed") {
        // NaN and ±Inf break the line (5 gaps x 3 kinds + the start = 16 segments); lone points are dots.
        assert.is((ds[0]!.match(/M/g) ?? []).length, 16);
        assert.is(ds[1], ds[1]!.replace(/[^Mh0-9. ]/g, ""), "lone points: M x y h0 only");
        assert.is((ds[1]!.match(/h0/g) ?? []).length, 2);
      }
      const ticks = await page.$$eval("#chart svg .axis text", (ts) => ts.map((x) => x.textContent));
      assert.ok(ticks.every((x) => x && !/NaN|Infinity/.test(x)), `${name} ticks: ${ticks.join(" ")}`);
    } finally {
      await page.unroute("**/api/v1/query_range");
    }
  }
});

test("render limits: at most 10000 table rows and 1000 drawn series, with a note saying so", async () => {
  const vector = Array.from({ length: 10_005 }, (_, i) => ({ metric: { i: String(i) }, value: [END, String(i)] }));
  const matrix = Array.from({ length: 1003 }, (_, i) => ({ metric: { i: String(i) }, values: [[END - 60, "1"], [END - 30, String(i)]] }));
  await page.route("**/api/v1/query", (route) => route.fulfill({ json: { status: "success", data: { resultType: "vector", result: vector } } }));
  await page.route("**/api/v1/query_range", (route) => route.fulfill({ json: { status: "success", data: { resultType: "matrix", result: matrix } } }));
  try {
    await page.goto(`${base}/?expr=many&end=${END}`);
    await page.waitForSelector("#table-note:not([hidden])");
    assert.is(await page.locator("#result-table tr.sample").count(), 10_000);
    assert.is(await page.textContent("#table-note"), "Showing the first 10000 of 10005 rows.");
    assert.match((await page.textContent("#status")) ?? "", /Result series: 10005$/);
    await page.click("#tab-graph");
    await page.waitForFunction(() => /Result series: 1003$/.test(document.getElementById("status")!.textContent ?? ""));
    assert.is(await page.locator("#chart svg path.series").count(), 1000);
    assert.is(await page.locator("#legend .legend-item").count(), 1000);
    assert.is(await page.textContent("#legend .note"), "3 more series not drawn (at most 1000).");
  } finally {
    await page.unroute("**/api/v1/query");
    await page.unroute("**/api/v1/query_range");
  }
});

test("Use local time shifts axis and tooltip times into the browser's zone (UTC+05:30 here) and back", async () => {
  await page.goto(`${base}/?expr=ui_temperature&tab=graph&range=1h&end=${END}`);
  await page.waitForSelector("#chart svg path.series", { state: "attached" });
  const axis = () => page.$$eval("#chart svg .axis text[text-anchor=middle]", (ts) => ts.map((x) => x.textContent));
  const utc = await axis();
  assert.equal(utc, ["23:20", "23:30", "23:40", "23:50", "00:00", "00:10"]);
  await page.check("#local-time");
  assert.equal(await axis(), ["04:50", "05:00", "05:10", "05:20", "05:30", "05:40"]);
  const box = (await page.locator("#chart svg").boundingBox())!;
  await page.mouse.move(box.x + box.width - 20, box.y + box.height / 2);
  await page.waitForSelector("#tooltip:not([hidden])");
  assert.match((await page.textContent("#tooltip")) ?? "", /^2023-11-15T05:4\d:\d\d\.000\+05:30/);
  // Zone-less input now means local time: 05:43:20 local is END.
  const sent = nextRequest("/api/v1/query_range");
  await page.fill("#end", "2023-11-15 05:43:20");
  await page.click("#execute");
  assert.is((await sent).params.get("end"), String(END));
  // The choice survives a reload; unticking goes back to UTC.
  await page.reload();
  assert.ok(await page.isChecked("#local-time"));
  await page.uncheck("#local-time");
  await page.fill("#end", String(END));
  await page.click("#execute");
  await page.waitForFunction(() => document.querySelector("#chart svg .axis text[text-anchor=middle]")?.textContent === "23:20");
  assert.equal(await axis(), utc);
});

test("warnings from the API are listed above the result", async () => {
  // agent query over local blocks never warns; add warnings to its real answer on the way.
  const warnings = ["receive store 10.0.0.7:10901: rpc error: code = Unavailable", "partial <b>response</b>"];
  await page.route("**/api/v1/query", async (route) => {
    const r = await route.fetch();
    const body = await r.json();
    await route.fulfill({ response: r, json: { ...body, warnings } });
  });
  try {
    await page.goto(`${base}/?expr=ui_temperature&end=${END}`);
    await page.waitForSelector("#warnings:not([hidden])");
    assert.equal(await page.$$eval("#warnings li", (ls) => ls.map((l) => l.textContent)), warnings);
    assert.is(await page.locator("#warnings b").count(), 0, "warning text is not markup");
    assert.is(await page.locator("#result-table tr.sample").count(), 2);
  } finally {
    await page.unroute("**/api/v1/query");
  }
});

test("stores page: a querier without /api/v1/stores says so; a Thanos-style list renders", async () => {
  const real = await fetch(`${base}/api/v1/stores`);
  await real.body?.cancel();
  await page.goto(`${base}/#stores`);
  if (real.status === 404) {
    await page.waitForSelector("#stores-unavailable");
    assert.match(await page.textContent("#stores-unavailable") ?? "", /404/);
    assert.ok(await page.locator("#stores-error").isHidden());
  } else {
    // The fan-out querier has landed: its own list must render without an error.
    assert.is(real.status, 200);
    await page.waitForFunction(() => /stores, \d+ up/.test(document.getElementById("stores-status")?.textContent ?? ""));
  }
  assert.ok(await page.locator("#query-page").isHidden());

  // The shape Thanos' querier answers (pkg/api/query: map of store type to statuses; unbounded
  // times as year 0 and int64 max).
  const stores = {
    status: "success",
    data: {
      sidecar: [
        { name: "127.0.0.1:10901", lastCheck: new Date().toISOString(), lastError: null, labelSets: [{ cluster: "eu", replica: "a" }], minTime: 1700000000000, maxTime: 9223372036854775807, guaranteedMinTime: -62167219200000 },
        { name: "127.0.0.1:10911", lastCheck: new Date().toISOString(), lastError: "rpc error: code = Unavailable desc = connection refused", labelSets: [], minTime: -62167219200000, maxTime: -62167219200000 },
      ],
      store: [
        { name: "bucket", lastCheck: new Date().toISOString(), lastError: null, labelSets: [{ cluster: "eu" }, { cluster: "us" }], minTime: 1690000000000, maxTime: 1700000000000 },
      ],
    },
  };
  await page.route("**/api/v1/stores", (route) => route.fulfill({ json: stores }));
  try {
    await page.click("#stores-refresh");
    await page.waitForSelector("#stores tr.store");
    assert.equal(await page.$$eval("#stores h3", (hs) => hs.map((h) => h.textContent)), ["sidecar", "store"]);
    const rows = await page.$$eval("#stores tr.store", (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    assert.is(rows.length, 3);
    assert.equal(rows[0]!.slice(0, 5), ["127.0.0.1:10901", "UP", '{cluster="eu", replica="a"}', "2023-11-14T22:13:20.000Z", "+∞"]);
    assert.equal(rows[1]!.slice(0, 5), ["127.0.0.1:10911", "DOWN", "none", "-∞", "-∞"]);
    assert.is(rows[1]![6], "rpc error: code = Unavailable desc = connection refused");
    assert.equal(rows[2]!.slice(0, 3), ["bucket", "UP", '{cluster="eu"}{cluster="us"}']);
    assert.is(await page.textContent("#stores-status"), "3 stores, 2 up, 1 down");
    await page.screenshot({ path: join(outDir, "ui-stores.png"), fullPage: true });
  } finally {
    await page.unroute("**/api/v1/stores");
  }
  // Back to the query page through the nav link.
  await page.click("#nav-query");
  // The switch happens in the click's handler; wait for it rather than sampling once.
  await page.locator("#query-page").waitFor({ state: "visible", timeout: 5000 });
  assert.ok(await page.locator("#query-page").isVisible());
});

test("no script errors in the page", () => {
  // The browser logs each failed answer (the bad query's 400, the stores 404, the stubbed 502); nothing else may appear.
  assert.equal((globalThis as any).__uiConsoleErrors.filter((e: string) => !/status of (400|404|502)/.test(e)), []);
});

test.run();
