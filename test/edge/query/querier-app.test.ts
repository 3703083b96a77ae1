// The querier hono app (edge/querier) in memory on Node, Bun and Deno: Thanos' parameters, the
// stores page, bearer-token auth, stacking (a querier over another querier's StoreAPI), env/flags.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createQuerierApp } from "../../../shared/query/app.ts";
import { buildQuerier, parseTokens } from "../../../shared/query/config.ts";
import { settingsFromEnv } from "../../../edge/querier/env.ts";
import { settingsWithFlags } from "../../../edge/querier/flags.ts";
import { remoteStore } from "../../../shared/query/remote.ts";
import type { FetchFn } from "../../../shared/rpc/client.ts";
import { ProxyStore } from "../../../shared/query/proxy.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { FixStore, sampled } from "../../unit/query/fixture.ts";

const S = 15_000;
const END = 200 * S;
const f = (t: number) => t / 1000;
const replicas = () => [
  new FixStore("http://sidecar-a:10902", [sampled({ __name__: "up", job: "j" }, 0, END, S, f, [[50 * S, 80 * S]])], { ext: { cluster: "x", replica: "a" } }),
  new FixStore("http://sidecar-b:10902", [sampled({ __name__: "up", job: "j" }, 0, END, S, f, [[120 * S, 150 * S]])], { ext: { cluster: "x", replica: "b" } }),
];

async function get(app: { fetch(r: Request): Response | Promise<Response> }, path: string, headers: Record<string, string> = {}) {
  const res = await app.fetch(new Request(`http://q${path}`, { headers }));
  return { status: res.status, body: await res.text() };
}

const q = (expr: string, extra = "") => `/api/v1/query?query=${encodeURIComponent(expr)}&time=${END / 1000}${extra}`;

test("dedup on by default with the replica label; dedup=false and replicaLabels[] change it; bad values are 400", async () => {
  const app = createQuerierApp({ proxy: new ProxyStore(replicas()), replicaLabels: ["replica"] });
  const one = JSON.parse((await get(app, q("up"))).body);
  assert.equal(one.data.result.map((r: { metric: object }) => r.metric), [{ __name__: "up", cluster: "x", job: "j" }]);
  assert.equal(one.data.result[0].value[1], String(f(END)));
  const two = JSON.parse((await get(app, q("up", "&dedup=false"))).body);
  assert.is(two.data.result.length, 2);
  const other = JSON.parse((await get(app, q("up", "&replicaLabels[]=cluster"))).body);
  assert.is(other.data.result.length, 2, "deduplicating by cluster leaves the replicas apart");
  const bad = await get(app, q("up", "&dedup=maybe"));
  assert.is(bad.status, 400);
  assert.match(bad.body, /invalid parameter \\"dedup\\"/);
  const badRes = await get(app, q("up", "&max_source_resolution=soon"));
  assert.is(badRes.status, 400);
});

test("range query through the app equals the single-replica truth", async () => {
  const truth = new FixStore("t", [sampled({ __name__: "up", job: "j" }, 0, END, S, f)], { ext: { cluster: "x" } });
  const ha = createQuerierApp({ proxy: new ProxyStore(replicas()), replicaLabels: ["replica"] });
  const one = createQuerierApp({ proxy: new ProxyStore([truth]) });
  const path = `/api/v1/query_range?query=${encodeURIComponent("rate(up[1m])")}&start=0&end=${END / 1000}&step=30`;
  const a = await get(ha, path), b = await get(one, path);
  assert.is(a.status, 200);
  assert.is(a.body, b.body);
});

test("partial_response: a failing store is a warning by default and 422 execution with partial_response=false (as Thanos)", async () => {
  const [a] = replicas();
  const bad = new FixStore("http://down:10902", [sampled({ __name__: "up", job: "j" }, 0, END, S, f)], { ext: { cluster: "x", replica: "b" }, fail: new Error("connection refused") });
  const app = createQuerierApp({ proxy: new ProxyStore([a!, bad]), replicaLabels: ["replica"] });
  const warn = JSON.parse((await get(app, q("up"))).body);
  assert.is(warn.status, "success");
  assert.equal(warn.warnings, ["Series from store http://down:10902: connection refused"]);
  const abort = await get(app, q("up", "&partial_response=false"));
  assert.is(abort.status, 422);
  assert.is(JSON.parse(abort.body).errorType, "execution");
  assert.match(abort.body, /http:\/\/down:10902: connection refused/);
});

test("storeMatch[] limits the stores by address", async () => {
  const [a, b] = replicas();
  const app = createQuerierApp({ proxy: new ProxyStore([a!, b!]), replicaLabels: ["replica"] });
  await get(app, q("up", `&storeMatch[]=${encodeURIComponent('{__address__="http://sidecar-b:10902"}')}`));
  assert.equal([a!.calls.series.length, b!.calls.series.length], [0, 1]);
});

test("/api/v1/stores: health, last error, label sets, time range by component type", async () => {
  const [a] = replicas();
  const dead = new FixStore("http://dead:1", [], { infoFails: true });
  const app = createQuerierApp({ proxy: new ProxyStore([a!, dead]) });
  const r = JSON.parse((await get(app, "/api/v1/stores")).body);
  assert.is(r.status, "success");
  const sc = r.data.sidecar[0];
  assert.equal([sc.name, sc.healthy, sc.lastError, sc.labelSets, sc.minTime, sc.maxTime], ["http://sidecar-a:10902", true, null, [{ cluster: "x", replica: "a" }], 0, END]);
  const un = r.data.unknown[0];
  assert.equal([un.name, un.healthy], ["http://dead:1", false]);
  assert.match(un.lastError, /connection refused/);
});

test("bearer token: 401 with one body for a missing or wrong token, whatever the query; the StoreAPI too", async () => {
  const app = createQuerierApp({ proxy: new ProxyStore(replicas()), replicaLabels: ["replica"], token: "s3cret" });
  const none = await get(app, q("up"));
  const wrong = await get(app, q("nonexistent_metric"), { authorization: "Bearer nope" });
  assert.is(none.status, 401);
  assert.is(wrong.status, 401);
  assert.is(none.body, wrong.body);
  assert.is((await get(app, "/api/v1/stores")).status, 401);
  assert.is((await get(app, q("up"), { authorization: "Bearer s3cret" })).status, 200);
  assert.is((await get(app, "/-/healthy")).status, 200);
  const fetchApp: FetchFn = async (i, init) => app.fetch(new Request(i, init));
  const anon = remoteStore("http://q", { fetch: fetchApp });
  try {
    await anon.info(new AbortController().signal);
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "unauthenticated");
  }
  const ok = remoteStore("http://q", { fetch: fetchApp, token: "s3cret" });
  assert.equal((await ok.info(new AbortController().signal)).labelSets.length, 2);
});

test("queriers stack: a querier over another querier's StoreAPI answers the same", async () => {
  const lower = createQuerierApp({ proxy: new ProxyStore(replicas()), replicaLabels: ["replica"] });
  const viaLower: FetchFn = async (i, init) => lower.fetch(new Request(i, init));
  for (const protocol of ["connect", "grpc-web"] as const) {
    const upper = createQuerierApp({ proxy: new ProxyStore([remoteStore("http://lower", { fetch: viaLower, protocol })]), replicaLabels: ["replica"] });
    for (const path of [q("up"), q("up", "&dedup=false"), `/api/v1/query_range?query=up&start=0&end=${END / 1000}&step=60`, "/api/v1/labels", "/api/v1/label/replica/values?dedup=false", `/api/v1/series?match[]=up`]) {
      const a = await get(lower, path), b = await get(upper, path);
      assert.is(b.status, 200, `${protocol} ${path}: ${b.body}`);
      assert.is(b.body, a.body, `${protocol} ${path}`);
    }
  }
});

test("a client that goes away cancels the store streams", async () => {
  const hung = new FixStore("http://slow:1", [sampled({ __name__: "up", job: "j" }, 0, END, S, f)], { hang: true });
  const app = createQuerierApp({ proxy: new ProxyStore([hung]) });
  const ctl = new AbortController();
  const t0 = Date.now();
  setTimeout(() => ctl.abort(), 50);
  const res = await Promise.resolve(app.fetch(new Request(`http://q${q("up")}`, { signal: ctl.signal }))).catch((e) => e);
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  assert.is(hung.aborted, 1, "the store's stream saw the abort");
  if (res instanceof Response) assert.is(res.status, 503);
});

test("config from env and flags: flags win, lists split, bad values name the setting", () => {
  const env = settingsFromEnv({ STORE_ENDPOINTS: "http://x:1", REPLICA_LABELS: "r", STORE_TIMEOUT: "30s" });
  assert.equal(env.endpoints, ["http://x:1"]);
  assert.is(env.storeTimeoutMs, 30_000);
  const { settings, httpAddress } = settingsWithFlags(env, ["--endpoint", "http://a:1", "--endpoint=http://b:2", "--query.replica-label", "replica", "--no-query.partial-response", "--http-address", "127.0.0.1:0"]);
  assert.equal(settings.endpoints, ["http://a:1", "http://b:2"]);
  assert.equal(settings.replicaLabels, ["replica"]);
  assert.is(settings.partialResponse, false);
  assert.is(settings.storeTimeoutMs, 30_000, "what the flags do not set stays from the environment");
  assert.is(httpAddress, "127.0.0.1:0");
  const c = buildQuerier({ ...settings, endpointTokens: { "http://a:1": "t" } });
  assert.equal(c.endpoints.map((e) => e.name), ["http://a:1", "http://b:2"]);
  assert.equal(c.app.replicaLabels, ["replica"]);
  assert.is(c.app.partialResponseDefault, false);
  assert.throws(() => settingsWithFlags(env, ["--nope", "1"]), /unknown flag --nope/);
  assert.throws(() => settingsWithFlags(env, ["--deduplication.func", "mean"]), /--deduplication.func: "mean": want penalty or chain/);
  assert.throws(() => parseTokens("[1]", "STORE_TOKENS"), /STORE_TOKENS: want a JSON object/);
  assert.throws(() => settingsWithFlags(settingsFromEnv({ STORE_ENDPOINTS: "http://a:1", STORE_TOKENS: '{"http://b:1":"t"}' }), []), /STORE_TOKENS names "http:\/\/b:1", which is not one of STORE_ENDPOINTS/);
  // Tokens from the environment for endpoints given as flags (what the Deno querier does).
  const viaFlags = settingsWithFlags(settingsFromEnv({ STORE_TOKENS: '{"http://b:1":"t"}' }), ["--endpoint", "http://b:1"]).settings;
  assert.equal(viaFlags.endpointTokens, { "http://b:1": "t" });
  assert.throws(() => settingsWithFlags(settingsFromEnv({ STORE_TOKENS: '{"http://b:1":"t"}' }), ["--endpoint", "http://c:1"]), /STORE_TOKENS names "http:\/\/b:1", which is not one of the --endpoint flags/);
  assert.throws(() => buildQuerier(settingsFromEnv({ STORE_ENDPOINTS: "ftp://a" })), /only http and https/);
  assert.throws(() => settingsFromEnv({ DEDUP_FUNC: "mean" }), /DEDUP_FUNC: "mean": want penalty or chain/);
  assert.throws(() => settingsFromEnv({ MAX_SAMPLES: "-1" }), /MAX_SAMPLES "-1" is not a positive integer/);
});

test.run();
