// Query UI figures: what the page adds to a bundle (raw and gzip), how fast the sub-app answers in
// memory, and how long headless Chromium takes from "Execute" to a drawn graph / filled table for
// answers of growing size (synthetic matrices from a stub API on a local @hono/node-server).
//   npx tsx bench/ui.ts          (Chromium at /usr/bin/chromium)
import { gzipSync } from "node:zlib";
import { Hono } from "hono";
import { serve } from "@hono/node-server";
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uiApp, mountUi } from "../shared/ui/app.ts";
import { UI_SCRIPT } from "../shared/ui/script.ts";
import { UI_CSS } from "../shared/ui/style.ts";
import { uiPage } from "../shared/ui/page.ts";

const kb = (n: number) => (n / 1024).toFixed(1) + " KiB";

function sizes(): void {
  console.log("## assets (raw / gzip -9)");
  let raw = 0, gz = 0;
  for (const [name, body] of [["page.html", uiPage("thanots query")], ["ui.js", UI_SCRIPT], ["ui.css", UI_CSS]] as const) {
    const b = new TextEncoder().encode(body);
    const g = gzipSync(b, { level: 9 }).length;
    raw += b.length; gz += g;
    console.log(`${name.padEnd(10)} ${kb(b.length).padStart(10)} ${kb(g).padStart(10)}`);
  }
  console.log(`${"total".padEnd(10)} ${kb(raw).padStart(10)} ${kb(gz).padStart(10)}`);
}

async function serving(): Promise<void> {
  const app = uiApp();
  const etag = (await app.request("/static/ui.js")).headers.get("etag")!;
  console.log("## in-memory app.request (this runtime)");
  for (const [label, path, headers] of [["GET / (200)", "/", {}], ["GET /static/ui.js (200)", "/static/ui.js", {}], ["GET /static/ui.js (304)", "/static/ui.js", { "If-None-Match": etag }]] as const) {
    for (let i = 0; i < 2000; i++) await (await app.request(path, { headers })).arrayBuffer();
    const n = 20000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await (await app.request(path, { headers })).arrayBuffer();
    const us = (performance.now() - t0) * 1000 / n;
    console.log(`${label.padEnd(26)} ${us.toFixed(1)} µs/request`);
  }
}

/** [load, render] ms from the page's status line. */
function phases(status: string | null): number[] {
  const m = /Load time: (\d+) ms · Render: (\d+) ms/.exec(status ?? "");
  if (!m) throw new Error(`no timings in status ${JSON.stringify(status)}`);
  return [Number(m[1]), Number(m[2])];
}

function medians(rows: number[][]): string {
  const med = (k: number) => rows.map((r) => r[k]!).sort((a, b) => a - b)[rows.length >> 1];
  return `load ${med(1)} ms, render ${med(2)} ms, wall ${med(0)} ms`;
}

function matrix(nSeries: number, nPoints: number, start: number, step: number): string {
  const out: string[] = [];
  for (let s = 0; s < nSeries; s++) {
    const vals: string[] = [];
    for (let i = 0; i < nPoints; i++) vals.push(`[${start + i * step},"${(s + Math.sin(i / 10 + s)).toFixed(4)}"]`);
    out.push(`{"metric":{"__name__":"bench","instance":"host-${s}:9100","job":"node"},"values":[${vals.join(",")}]}`);
  }
  return `{"status":"success","data":{"resultType":"matrix","result":[${out.join(",")}]}}`;
}

async function browser(): Promise<void> {
  const answers = new Map<string, string>();
  const app = new Hono();
  app.post("/api/v1/query_range", async (c) => {
    const q = (await c.req.parseBody()).query as string;
    return new Response(answers.get(q) ?? "", { headers: { "Content-Type": "application/json" } });
  });
  app.post("/api/v1/query", async (c) => {
    const q = (await c.req.parseBody()).query as string;
    return new Response(answers.get(q) ?? "", { headers: { "Content-Type": "application/json" } });
  });
  mountUi(app);
  const server = await new Promise<{ port: number; close(): void }>((res) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => res({ port: info.port, close: () => s.close() }));
  });
  const dir = mkdtempSync(join(tmpdir(), "ui-bench-"));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 800 },
  });
  try {
    const page = ctx.pages()[0] ?? await ctx.newPage();
    await page.goto(`http://127.0.0.1:${server.port}/`);
    console.log("## Chromium: median of 5 runs; load = fetch + JSON.parse, render = DOM built, wall = click to next frame with it (14 s step)");
    await page.click("#tab-graph");
    await page.fill("#end", "1700007200");
    for (const [series, points] of [[10, 250], [100, 250], [1000, 250], [1000, 1000]] as const) {
      const q = `graph_${series}_${points}`;
      const body = matrix(series, points, 1700007200 - points * 14, 14);
      answers.set(q, body);
      await page.fill("#range", `${points * 14}s`);
      await page.fill("#expr", q);
      const times: number[][] = [];
      for (let r = 0; r < 6; r++) {
        await page.evaluate(() => document.getElementById("chart")!.replaceChildren());
        const t0 = Date.now();
        await page.click("#execute");
        await page.waitForFunction((n) => document.querySelectorAll("#chart svg path.series").length === n, series, { timeout: 120_000, polling: "raf" });
        if (r > 0) times.push([Date.now() - t0, ...phases(await page.textContent("#status"))]);
      }
      console.log(`graph ${String(series).padStart(5)} series x ${String(points).padStart(4)} points (${kb(body.length).padStart(9)} JSON): ${medians(times)}`);
    }
    await page.click("#tab-table");
    for (const n of [100, 10000]) {
      const q = `table_${n}`;
      const res: string[] = [];
      for (let s = 0; s < n; s++) res.push(`{"metric":{"__name__":"bench","instance":"host-${s}:9100"},"value":[1700007200,"${s}.5"]}`);
      const body = `{"status":"success","data":{"resultType":"vector","result":[${res.join(",")}]}}`;
      answers.set(q, body);
      await page.fill("#expr", q);
      const times: number[][] = [];
      for (let r = 0; r < 6; r++) {
        await page.evaluate(() => document.getElementById("result-table")!.querySelector("tbody")!.replaceChildren());
        const t0 = Date.now();
        await page.click("#execute");
        await page.waitForFunction((k) => document.querySelectorAll("#result-table tr.sample").length === k, n, { timeout: 120_000, polling: "raf" });
        if (r > 0) times.push([Date.now() - t0, ...phases(await page.textContent("#status"))]);
      }
      console.log(`table ${String(n).padStart(5)} rows (${kb(body.length).padStart(9)} JSON): ${medians(times)}`);
    }
  } finally {
    await ctx.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

sizes();
await serving();
await browser();
