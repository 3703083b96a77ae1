// The single binary: `npm run build` writes dist/thanots (bun build --compile agent/main.ts). Its help and
// usage errors name it as `thanots <component>`, and its components run: a sidecar beside a real
// Prometheus 2.42 and a querier over it answer a query; `tools` prints its commands.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile, execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort, startProcess, waitForHttp, waitForHealthyStores, type Proc } from "../lib/proc.ts";
import { startPrometheus, type Prometheus } from "../lib/prometheus.ts";

const run = promisify(execFile);
const root = process.cwd();
const bin = join(root, "dist/thanots");
const procs: Proc[] = [];
let prom: Prometheus;

/** Bun colours console output when the environment asks for colour (uvu's does); compare the text. */
function plain(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

async function thanots(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(bin, args, { cwd: "/", env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" } });
    return { code: 0, stdout: plain(r.stdout), stderr: plain(r.stderr) };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: plain(x.stdout ?? ""), stderr: plain(x.stderr ?? "") };
  }
}

test.before(() => {
  execFileSync("npm", ["run", "build"], { cwd: root, stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await prom?.stop();
});

test("npm run build writes one executable whose help names it thanots", async () => {
  assert.ok(existsSync(bin) && (statSync(bin).mode & 0o111) !== 0);
  const h = await thanots(["--help"]);
  assert.is(h.code, 0);
  assert.match(h.stdout, /^usage: thanots <component> \[flags\]/);
  for (const c of ["sidecar", "store", "query", "tools"]) assert.match(h.stdout, new RegExp(`\\n  ${c} `));
  assert.not.match(h.stdout, /bun run agent/);
  const q = await thanots(["query", "--help"]);
  assert.match(q.stdout, /^usage: thanots query \[flags\]/);
  assert.match(q.stdout, /--endpoint=VALUE/);
  const t = await thanots(["tools", "--help"]);
  assert.match(t.stdout, /^usage: thanots tools <command>/);
  assert.match(t.stdout, /tsdb dump/);
  const d = await thanots(["tools", "tsdb", "dump", "--help"]);
  assert.match(d.stdout, /^usage: thanots tools tsdb dump/);
});

test("usage errors name the binary and exit 2", async () => {
  const e = await thanots(["query", "--no-such-flag=1"]);
  assert.is(e.code, 2);
  assert.is(e.stderr.trim(), "thanots query: unknown flag --no-such-flag (see thanots query --help)");
  const u = await thanots(["frobnicate"]);
  assert.is(u.code, 2);
  assert.match(u.stderr, /unknown component "frobnicate"\n\nusage: thanots <component>/);
  const b = await thanots(["query", "--endpoint=localhost"]);
  assert.is(b.code, 2);
  assert.match(b.stderr, /^thanots query: --endpoint: "localhost": not host:port/);
});

test("the binary's sidecar and querier answer a query over a real Prometheus", async () => {
  prom = await startPrometheus({ config: "global:\n  scrape_interval: 1s\n  external_labels: {replica: a}\nscrape_configs:\n  - job_name: t\n    static_configs: [{targets: ['127.0.0.1:1']}]\n" });
  const [sh, sg, qh] = await Promise.all([freePort(), freePort(), freePort()]);
  const sc = startProcess(bin, ["sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${prom.dataDir}`, `--http-address=127.0.0.1:${sh}`,
    `--grpc-address=127.0.0.1:${sg}`, "--log.level=warn"]);
  procs.push(sc);
  await waitForHttp(`http://127.0.0.1:${sh}/-/ready`, sc, 30_000);
  const q = startProcess(bin, ["query", `--endpoint=127.0.0.1:${sg}`, `--http-address=127.0.0.1:${qh}`, "--log.level=warn"]);
  procs.push(q);
  const base = `http://127.0.0.1:${qh}`;
  await waitForHttp(`${base}/-/ready`, q, 30_000);
  await waitForHealthyStores(base, 1, 20_000);
  let result: { metric: Record<string, string> }[] = [];
  for (let i = 0; i < 50 && result.length === 0; i++) {
    const r = await (await fetch(`${base}/api/v1/query?query=up`)).json() as { data: { result: { metric: Record<string, string> }[] } };
    result = r.data.result;
    if (result.length === 0) await new Promise((res) => setTimeout(res, 200));
  }
  assert.equal(result.map((s) => [s.metric.job, s.metric.replica]), [["t", "a"]]);
});

test.run();
