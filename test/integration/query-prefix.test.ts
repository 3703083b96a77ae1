// --web.route-prefix and --web.external-prefix on our querier (as Thanos' querier has them), checked
// over HTTP and in Chromium (playwright-core driving the apt chromium), with a real Prometheus and our
// sidecar behind:
// - route prefix /thanos: the API, the UI and its assets under /thanos/, `/` and `/thanos` redirect to
//   /thanos/graph, the old paths are 404, /metrics and /-/ready stay at the root; in the browser a query
//   runs and the Stores page lists the store, every request the page makes staying under /thanos/;
// - external prefix only: it is also the route prefix (Thanos' default);
// - route prefix / with external prefix /proxied behind a reverse proxy that strips /proxied: the page
//   works through the proxy.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, request as httpRequest, type Server } from "node:http";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { freePort, requireBinary, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { startPrometheus, type Prometheus } from "../lib/prometheus.ts";

const root = process.cwd();
const bun = join(root, "node_modules/.bin/bun");
const procs: Proc[] = [];
let prom: Prometheus, sidecarGrpc = 0, ctx: BrowserContext, page: Page, proxy: Server;

async function querier(args: string[]): Promise<string> {
  const port = await freePort();
  const proc = startProcess(bun, [join(root, "agent/main.ts"), "query", `--endpoint=127.0.0.1:${sidecarGrpc}`, `--http-address=127.0.0.1:${port}`,
    "--store.info-ttl=1s", "--log.level=warn", ...args], { cwd: root });
  procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 30_000);
  return url;
}

test.before(async () => {
  requireBinary("chromium");
  prom = await startPrometheus({ config: "global:\n  scrape_interval: 1s\n  external_labels: {replica: a}\nscrape_configs:\n  - job_name: t\n    static_configs: [{targets: ['127.0.0.1:1']}]\n" });
  const http = await freePort();
  sidecarGrpc = await freePort();
  const sc = startProcess(bun, [join(root, "agent/main.ts"), "sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${prom.dataDir}`,
    `--http-address=127.0.0.1:${http}`, `--grpc-address=127.0.0.1:${sidecarGrpc}`, "--log.level=warn"], { cwd: root });
  procs.push(sc);
  await waitForHttp(`http://127.0.0.1:${http}/-/ready`, sc, 30_000);
  ctx = await chromium.launchPersistentContext(tempDir("prefix-chromium-").path, {
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  ctx.setDefaultTimeout(15_000);
  page = ctx.pages()[0] ?? await ctx.newPage();
  for (let i = 0; i < 100; i++) {
    const r = await (await fetch(`${prom.url}/api/v1/query?query=up`)).json() as { data: { result: unknown[] } };
    if (r.data.result.length > 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
});

test.after(async () => {
  await ctx?.close();
  proxy?.close();
  await Promise.all(procs.map((p) => p.stop()));
  await prom?.stop();
});

/** Runs `up` in the page and returns the table's text; records every request path the page makes. */
async function runInPage(start: string): Promise<{ table: string; paths: string[]; errors: string[] }> {
  const paths: string[] = [], errors: string[] = [];
  const onReq = (r: { url(): string }) => paths.push(new URL(r.url()).pathname);
  const onErr = (e: Error) => errors.push(e.message);
  page.on("request", onReq);
  page.on("pageerror", onErr);
  try {
    await page.goto(start);
    await page.fill("#expr", "up");
    await page.click("#execute");
    await page.waitForFunction(() => (document.getElementById("result-table")?.textContent ?? "").includes("replica"));
    const table = await page.textContent("#result-table") ?? "";
    await page.click("#nav-stores");
    await page.waitForFunction(() => /stores?, 1 up/.test(document.getElementById("stores-status")?.textContent ?? ""));
    return { table, paths, errors };
  } finally {
    page.off("request", onReq);
    page.off("pageerror", onErr);
  }
}

test("--web.route-prefix=/thanos: API, UI and assets under it, redirects from / and /thanos, root probes stay", async () => {
  const base = await querier(["--web.route-prefix=/thanos/"]);
  const r = await (await fetch(`${base}/thanos/api/v1/query?query=up`)).json() as { status: string; data: { result: { metric: Record<string, string> }[] } };
  assert.is(r.status, "success");
  assert.equal(r.data.result.map((s) => s.metric.replica), ["a"]);
  for (const p of ["/", "/thanos"]) {
    const res = await fetch(`${base}${p}`, { redirect: "manual" });
    assert.is(res.status, 302, p);
    assert.is(res.headers.get("location"), "/thanos/graph");
  }
  assert.is((await fetch(`${base}/api/v1/query?query=up`)).status, 404);
  assert.is((await fetch(`${base}/graph`)).status, 404);
  for (const p of ["/metrics", "/-/ready", "/-/healthy", "/thanos/graph", "/thanos/static/ui.js", "/thanos/api/v1/stores"]) {
    assert.is((await fetch(`${base}${p}`)).status, 200, p);
  }
  // The querier's own StoreAPI (Connect) is under the prefix too.
  assert.is((await fetch(`${base}/thanos/thanos.info.Info/Info`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status, 200);

  const got = await runInPage(`${base}/`);
  assert.is(new URL(page.url()).pathname, "/thanos/graph");
  assert.match(got.table, /replica="a"/);
  assert.equal(got.errors, []);
  const outside = got.paths.filter((p) => !p.startsWith("/thanos/") && p !== "/");
  assert.equal(outside, [], `requests outside the prefix: ${outside.join(", ")}`);
  assert.ok(got.paths.includes("/thanos/api/v1/query") || got.paths.includes("/thanos/api/v1/query_range"), got.paths.join(","));
  assert.ok(got.paths.includes("/thanos/api/v1/stores"));
});

test("--web.external-prefix alone is also the route prefix (Thanos' default)", async () => {
  const base = await querier(["--web.external-prefix=/ext"]);
  assert.is((await fetch(`${base}/ext/api/v1/query?query=up`)).status, 200);
  assert.is((await fetch(`${base}/api/v1/query?query=up`)).status, 404);
});

test("route prefix / and external prefix /proxied: the UI works through a proxy that strips /proxied", async () => {
  const base = new URL(await querier(["--web.route-prefix=/", "--web.external-prefix=/proxied"]));
  assert.is((await fetch(`${base.origin}/api/v1/query?query=up`)).status, 200);
  proxy = createServer((req, res) => {
    if (!req.url!.startsWith("/proxied/")) { res.writeHead(404).end(); return; }
    const up = httpRequest({ host: base.hostname, port: base.port, method: req.method, path: req.url!.slice("/proxied".length), headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((r) => proxy.listen(port, "127.0.0.1", () => r()));
  const got = await runInPage(`http://127.0.0.1:${port}/proxied/graph`);
  assert.match(got.table, /replica="a"/);
  assert.equal(got.errors, []);
  assert.equal(got.paths.filter((p) => !p.startsWith("/proxied/")), []);
});

test.run();
