// The oracle itself: a real Prometheus serves blocks that promtool backfilled; a Prometheus of another
// version is refused by the launcher.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../lib/proc.ts";
import { promApi, promtoolBackfill, startPrometheus } from "../lib/prometheus.ts";

test("promtool backfill + Prometheus answers a query over the backfilled block", async () => {
  const dir = tempDir().path;
  const t0 = 1_700_000_000;
  let om = "# TYPE demo gauge\n";
  for (let i = 0; i < 10; i++) om += `demo{k="v"} ${i} ${t0 + i * 15}\n`;
  om += "# EOF\n";
  await promtoolBackfill(om, dir);
  const p = await startPrometheus({ dataDir: dir });
  try {
    const r = await promApi(p.url, "/api/v1/query", { query: "demo", time: String(t0 + 9 * 15) });
    assert.is(r.status, "success");
    assert.equal(r.data.result, [{ metric: { __name__: "demo", k: "v" }, value: [t0 + 135, "9"] }]);
  } finally {
    await p.stop();
  }
});

test("the launcher checks /api/v1/status/buildinfo: a Prometheus that is not 2.42.x is refused, naming its version", async () => {
  // A fake `prometheus` first on PATH: ready at once, buildinfo says 2.53.1; it writes its pid.
  const dir = tempDir("fake-prom-").path;
  const pidFile = join(dir, "pid");
  writeFileSync(join(dir, "prometheus"), `#!/usr/bin/env node
const http = require("http");
require("fs").writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
const [host, port] = process.argv.find((a) => a.startsWith("--web.listen-address=")).split("=")[1].split(":");
http.createServer((req, res) => {
  if (req.url === "/api/v1/status/buildinfo") {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ status: "success", data: { version: "2.53.1", revision: "x", branch: "HEAD", buildUser: "u", buildDate: "d", goVersion: "go1.22" } }));
  } else res.end("ready");
}).listen(Number(port), host);
`);
  chmodSync(join(dir, "prometheus"), 0o755);
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved}`;
  let err: Error | null = null;
  try {
    const p = await startPrometheus();
    await p.stop();
  } catch (e) {
    err = e as Error;
  } finally {
    process.env.PATH = saved;
  }
  assert.ok(err, "a Prometheus 2.53.1 was accepted as the oracle");
  assert.match(err!.message, `${dir}/prometheus is Prometheus 2.53.1; the oracle tests are written against Prometheus 2.42.x`);
  // And the refused process was stopped.
  assert.ok(existsSync(pidFile));
  const pid = Number(readFileSync(pidFile, "utf8"));
  assert.throws(() => process.kill(pid, 0), /ESRCH/, "the fake Prometheus is still running");
});

test("the real Prometheus on PATH is 2.42", async () => {
  const p = await startPrometheus();
  try {
    const r = await promApi(p.url, "/api/v1/status/buildinfo");
    assert.match(r.data.version, /^2\.42\./);
  } finally {
    await p.stop();
  }
});

test.run();
