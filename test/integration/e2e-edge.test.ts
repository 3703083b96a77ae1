// `npm run start:edge`: the same stack with the querier running in workerd (`wrangler dev`, offline) and
// reaching the sidecars and the store gateway over Connect from inside the Worker. Checks the seeded
// history (exact values per replica), dedup of the live pair, and the UI page, against the workload's
// closed form (agent/demo/model.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempDir } from "../lib/proc.ts";
import { startStack, type Stack } from "../../agent/demo/stack.ts";
import { REQUESTS, work } from "../../agent/demo/model.ts";

let stack: Stack;
const logs: string[] = [];

async function get(path: string, params: Record<string, string | number | boolean>): Promise<any> {
  const u = new URL(`${stack.urls.api}/${path}`);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  const r = await fetch(u);
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${u}: HTTP ${r.status}, not JSON: ${text.slice(0, 300)}\n${logs.slice(-30).join("\n")}`);
  }
}

test.before(async () => {
  stack = await startStack({
    dataDir: tempDir("e2e-edge-").path,
    edge: true,
    ports: "free",
    scrapeInterval: "1s",
    blockDuration: "20s",
    storeSyncInterval: "5s",
    seed: { durationMs: 2 * 3600_000, stepMs: 60_000, replicaOffsetMs: 13_000 },
    onLine: (c, l) => { logs.push(`${c} | ${l}`); if (logs.length > 3000) logs.splice(0, 1000); },
  });
});

test.after(async () => {
  await stack?.stop();
});

test("querier in workerd answers seeded history exactly per replica", async () => {
  const seed = stack.seed!;
  const t = seed.startMs + 3600_000 + 29_000;
  const a = await get("query", { query: 'http_requests_total{handler="/api/products",code="200"}', time: t / 1000, dedup: false });
  assert.is(a.status, "success", JSON.stringify(a));
  assert.is(a.data.result.length, 2);
  const base = REQUESTS.find((r) => r.handler === "/api/products" && r.code === "200")!.base;
  for (const s of a.data.result) {
    const off = s.metric.replica === "a" ? 0 : seed.replicaOffsetMs;
    const last = Math.floor((t - off) / seed.stepMs) * seed.stepMs + off;
    assert.is(Number(s.value[1]), Math.floor(base * work(last)), `replica ${s.metric.replica}`);
  }
});

test("live pair deduplicated through the Worker", async () => {
  let live: any;
  for (let i = 0; i < 40; i++) {
    live = await get("query", { query: "count(http_requests_total)", dedup: false });
    if (live.status === "success" && live.data.result[0]?.value[1] === String(2 * REQUESTS.length)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.is(live.data.result[0].value[1], String(2 * REQUESTS.length), "both replicas scraped");
  const d = await get("query", { query: "count(http_requests_total)" });
  assert.is(d.data.result[0].value[1], String(REQUESTS.length));
  const ui = await fetch(stack.urls.ui);
  assert.is(ui.status, 200);
  assert.match(await ui.text(), /<html/i);
});

test.run();
