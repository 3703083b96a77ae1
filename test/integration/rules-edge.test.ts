// /api/v1/rules and /api/v1/alerts on the edge queriers (the same shared app), which reach rulers over
// Connect: the Deno querier (`edge/deno.ts`) and the Worker (`wrangler dev` of the repo's Worker), each
// with one Connect endpoint, our Bun querier, whose own thanos.Rules fans out over gRPC to an HA pair
// of real Thanos rulers (test/lib/thanos-rulers.ts). Each edge querier merges and deduplicates the raw
// groups itself; the answers must equal the Bun querier's own, group timings included (the stack keeps
// the endpoints' order), with only alert instance order normalised (Thanos' rulers send them in Go map
// order). Fetched together while no ruler evaluated (see fetchQuiet).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startProcess, startWranglerDev, tempDir, waitForHealthyStores, waitForHttp, type Proc } from "../lib/proc.ts";
import { fetchQuiet, normaliseRules, startRulerHa, waitForAlerts, type RulerHa } from "../lib/thanos-rulers.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = (n: string) => join(root, "node_modules", ".bin", n);
const procs: Proc[] = [];
let ha: RulerHa;
let bunUrl = "", denoUrl = "", workerUrl = "";

test.before(async () => {
  ha = await startRulerHa();
  const [pBun, pDeno] = [await freePort(), await freePort()];
  bunUrl = `http://127.0.0.1:${pBun}`; denoUrl = `http://127.0.0.1:${pDeno}`;
  const bun = startProcess(bin("bun"), ["agent/main.ts", "query", ...ha.rulers.map((r) => `--endpoint=${r.grpc}`), "--query.replica-label=replica",
    `--http-address=127.0.0.1:${pBun}`, "--log.level=warn"], { cwd: root });
  const deno = startProcess(bin("deno"), ["run", "-A", join(root, "edge", "deno.ts"), "--endpoint", bunUrl, "--query.replica-label", "replica", "--http-address", `127.0.0.1:${pDeno}`], { cwd: root });
  procs.push(bun, deno);
  const worker = await startWranglerDev({
    args: ["--config", join(root, "wrangler.toml"), "--persist-to", tempDir("rules-edge-wrangler-").path, "--var", `STORE_ENDPOINTS:${bunUrl}`, "--var", "REPLICA_LABELS:replica"],
    cwd: root, readyPath: "/-/ready",
  });
  procs.push(worker.proc);
  workerUrl = worker.url;
  await waitForHttp(`${bunUrl}/-/ready`, bun, 60_000);
  await waitForHealthyStores(bunUrl, 2, 60_000);
  await waitForHttp(`${denoUrl}/-/ready`, deno, 60_000);
  await waitForAlerts(ha.rulers);
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await ha?.stop();
});

const PATHS = ["/api/v1/rules", "/api/v1/alerts", "/api/v1/rules?type=alert", `/api/v1/rules?match[]=${encodeURIComponent('{severity="page"}')}`, "/api/v1/rules?dedup=false"];

test("Deno and the Worker answer /api/v1/rules and /api/v1/alerts as the Bun querier does", async () => {
  for (const path of PATHS) {
    const { answers: [b, d, w] } = await fetchQuiet(ha.rulers, [bunUrl + path, denoUrl + path, workerUrl + path]);
    assert.is(b!.status, 200, `bun ${path}`);
    assert.is(d!.status, 200, `deno ${path}: ${JSON.stringify(d!.body)}`);
    assert.is(w!.status, 200, `workerd ${path}: ${JSON.stringify(w!.body)}`);
    assert.fixture(normaliseRules(d!.body, { groupTimings: false }), normaliseRules(b!.body, { groupTimings: false }), `deno vs bun: ${path}`);
    assert.fixture(normaliseRules(w!.body, { groupTimings: false }), normaliseRules(b!.body, { groupTimings: false }), `workerd vs bun: ${path}`);
  }
  const { answers: [rules] } = await fetchQuiet(ha.rulers, [workerUrl + "/api/v1/rules"]);
  assert.equal(rules!.body.data.groups.map((g: any) => g.rules.length), [3, 2], "deduplicated on the Worker");
});

test.run();
