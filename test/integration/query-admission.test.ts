// Admission end to end on the real `bun run agent query` (with its default query worker threads):
// --query.max-concurrent and --query.max-queued bound what runs and what waits, a full queue is a 503
// with Prometheus' error JSON (errorType "unavailable", "too many queries ..."), a queued query waits
// and then succeeds, and a queued client that goes away frees its place in the queue.
//
// The querier's one store is served from this process (our StoreAPI stack over in-memory series, over
// Connect on HTTP/1.1) and its Series calls wait until the test lets them go, so "a query is running"
// is a fact the test controls, not a matter of timing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { storeApiApp } from "../../shared/rpc/server.ts";
import type { StoreApiServices } from "../../shared/rpc/store.ts";
import { ProxyStore } from "../../shared/query/proxy.ts";
import { FixStore, sampled } from "../unit/query/fixture.ts";
import { freePort, startProcess, waitForHttp, type Proc } from "../lib/proc.ts";

const root = process.cwd();
const bun = join(root, "node_modules/.bin/bun");
const S = 15_000, END = 200 * S;
const procs: Proc[] = [];
let storeUrl = "";
let storeServer: ReturnType<typeof serve>;

// Series calls seen, and the gate they wait at (null: answer at once).
let seriesCalls = 0;
let hold: { promise: Promise<void>; release(): void } | null = null;
function holdSeries(): void {
  let release!: () => void;
  const promise = new Promise<void>((r) => { release = r; });
  hold = { promise, release };
}
function releaseSeries(): void {
  const h = hold;
  hold = null;
  h?.release();
}

test.before(async () => {
  const proxy = new ProxyStore([new FixStore("mem", [sampled({ __name__: "up", job: "j" }, 0, END, S, (t) => t / 1000)], { ext: { replica: "a" } })]);
  const services: StoreApiServices = {
    info: proxy,
    store: {
      async *series(req, ctx) {
        seriesCalls++;
        if (hold) await hold.promise;
        yield* proxy.series(req, ctx);
      },
      labelNames: (req, ctx) => proxy.labelNames(req, ctx),
      labelValues: (req, ctx) => proxy.labelValues(req, ctx),
    },
  };
  const app = storeApiApp(services);
  storeServer = await new Promise((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s)); });
  storeUrl = `http://127.0.0.1:${(storeServer.address() as AddressInfo).port}`;
});

// A failed test must not leave the store holding every later Series call.
test.after.each(() => releaseSeries());

test.after(async () => {
  releaseSeries();
  await Promise.all(procs.map((p) => p.stop()));
  storeServer?.close();
});

async function querier(args: string[]): Promise<string> {
  const port = await freePort();
  const proc = startProcess(bun, [join(root, "agent/main.ts"), "query", `--endpoint=${storeUrl}`, `--http-address=127.0.0.1:${port}`,
    "--store.info-ttl=1s", "--log.level=warn", ...args], { cwd: root });
  procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 30_000);
  // Until the store is known (on the main thread and in the workers), answers are empty.
  for (let i = 0; i < 200; i++) {
    const r = await (await fetch(query(url))).json() as { data?: { result: unknown[] } };
    if ((r.data?.result.length ?? 0) > 0) {
      // Every worker must know it too: a few more in a row, all with data.
      let all = true;
      for (let k = 0; k < 6 && all; k++) all = ((await (await fetch(query(url))).json() as { data?: { result: unknown[] } }).data?.result.length ?? 0) > 0;
      if (all) return url;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`querier ${url} never saw the store ${storeUrl}`);
}

const query = (url: string) => `${url}/api/v1/query?query=up&time=${END / 1000}`;

async function body(r: Response): Promise<{ status: string; errorType?: string; error?: string; data?: { result: { value: [number, string] }[] } }> {
  return await r.json() as never;
}

/** A gauge or counter of the querier's /metrics. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = text.match(new RegExp(`^${name} (\\S+)$`, "m"));
  if (!m) throw new Error(`${name} not in ${url}/metrics`);
  return Number(m[1]);
}

async function until(what: string, f: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("max-concurrent=1, max-queued=0: a second query while one runs is 503 too many queries; then it runs", async () => {
  const url = await querier(["--query.max-concurrent=1", "--query.max-queued=0"]);
  holdSeries();
  const before = seriesCalls;
  const first = fetch(query(url));
  await until("the first query to reach the store", () => seriesCalls > before);
  assert.is(await metric(url, "thanos_query_concurrent_gate_queries_in_flight"), 1);
  const t0 = Date.now();
  const second = await fetch(query(url), { signal: AbortSignal.timeout(5000) }).catch((e: unknown): never => assert.unreachable(`the second query was not refused at once: ${e}`) as never);
  assert.ok(Date.now() - t0 < 5000, "refused at once, not after the running query");
  assert.is(second.status, 503);
  assert.match(second.headers.get("content-type") ?? "", /application\/json/);
  const b = await body(second);
  assert.is(b.status, "error");
  assert.is(b.errorType, "unavailable");
  assert.match(b.error ?? "", /^too many queries: 1 running and 0 waiting \(--query\.max-concurrent=1, --query\.max-queued=0\)/);
  assert.is(seriesCalls, before + 1, "the refused query never reached the store");
  assert.is(await metric(url, "thanots_query_concurrent_gate_queries_refused_total"), 1);
  releaseSeries();
  const r1 = await first;
  assert.is(r1.status, 200);
  const b1 = await body(r1);
  assert.is(b1.status, "success");
  assert.is(b1.data!.result[0]!.value[1], String(END / 1000));
  // The slot is free again.
  const again = await fetch(query(url));
  assert.is(again.status, 200);
  assert.is((await body(again)).status, "success");
  assert.is(await metric(url, "thanos_query_concurrent_gate_queries_in_flight"), 0);
});

test("max-concurrent=1 with a queue: the second waits (never reaching the store meanwhile) and then succeeds", async () => {
  const url = await querier(["--query.max-concurrent=1", "--query.max-queued=4"]);
  holdSeries();
  const before = seriesCalls;
  const done: string[] = [];
  const first = fetch(query(url)).then(async (r) => { done.push("first"); return r; });
  await until("the first query to reach the store", () => seriesCalls > before);
  const second = fetch(`${url}/api/v1/query_range?query=up&start=${END / 1000 - 60}&end=${END / 1000}&step=15`).then(async (r) => { done.push("second"); return r; });
  await until("the second query to queue", async () => await metric(url, "thanots_query_concurrent_gate_queries_queued") === 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(seriesCalls, before + 1, "the queued query waits at the gate, not at the store");
  assert.equal(done, []);
  releaseSeries();
  const [r1, r2] = await Promise.all([first, second]);
  assert.equal(done, ["first", "second"]);
  assert.is(r1.status, 200);
  assert.is(r2.status, 200);
  const b2 = await body(r2) as unknown as { status: string; data: { resultType: string; result: { values: [number, string][] }[] } };
  assert.is(b2.status, "success");
  assert.is(b2.data.resultType, "matrix");
  assert.equal(b2.data.result[0]!.values.map((v) => v[1]), ["2940", "2955", "2970", "2985", "3000"]);
  assert.ok(await metric(url, "thanos_query_concurrent_gate_queries_duration_seconds_count") >= 2);
});

test("a queued client that goes away frees its place: the next one queues instead of a 503", async () => {
  const url = await querier(["--query.max-concurrent=1", "--query.max-queued=1"]);
  holdSeries();
  const before = seriesCalls;
  const first = fetch(query(url));
  await until("the first query to reach the store", () => seriesCalls > before);
  const ac = new AbortController();
  const gone = fetch(query(url), { signal: ac.signal });
  gone.catch(() => {});
  await until("the second query to queue", async () => await metric(url, "thanots_query_concurrent_gate_queries_queued") === 1);
  // The queue is full now: one more is refused.
  assert.is((await fetch(query(url), { signal: AbortSignal.timeout(5000) })).status, 503);
  ac.abort();
  await until("the departed client to leave the queue", async () => await metric(url, "thanots_query_concurrent_gate_queries_queued") === 0);
  const third = fetch(query(url));
  await until("the third query to queue", async () => await metric(url, "thanots_query_concurrent_gate_queries_queued") === 1);
  releaseSeries();
  const [r1, r3] = await Promise.all([first, third]);
  assert.is(r1.status, 200);
  assert.is(r3.status, 200);
  assert.is((await body(r3)).status, "success");
  assert.is(seriesCalls, before + 2, "the departed query never reached the store");
  assert.is(await metric(url, "thanots_query_concurrent_gate_queries_refused_total"), 1);
});

test.run();
