// The ruler's query client (shared/rules/httpquery.ts) against a local HTTP server that records what
// it receives: Thanos' parameter names and values, POST form vs GET, answers decoded (vector, scalar,
// special floats), failover in random order, "no query API server reachable", warnings, the deadline,
// and the stateless restore querier (raw samples, or Thanos' query_range).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { httpQueryFunc, restoreQuerier, type HttpQueryOptions, type QueryFetch } from "../../../shared/rules/httpquery.ts";
import { goTimeJSON } from "../../../shared/encoding/gotext.ts";
import { newMatcher } from "../../../shared/labels/matcher.ts";

interface Seen { method: string; path: string; query: URLSearchParams; body: string; contentType: string; auth: string }

async function server(answer: (s: Seen) => { status?: number; body: unknown } | "hang"): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const srv: Server = createServer(async (req: IncomingMessage, res) => {
    let body = "";
    for await (const c of req) body += c;
    const u = new URL(req.url!, "http://x");
    const s: Seen = { method: req.method!, path: u.pathname, query: u.searchParams, body, contentType: req.headers["content-type"] ?? "", auth: req.headers.authorization ?? "" };
    seen.push(s);
    const a = answer(s);
    if (a === "hang") return;
    res.writeHead(a.status ?? 200, { "Content-Type": "application/json" });
    res.end(typeof a.body === "string" ? a.body : JSON.stringify(a.body));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => { srv.closeAllConnections(); srv.close(() => r()); }) };
}

const fetchFn: QueryFetch = async (url, init) => {
  const r = await fetch(url, init);
  return { status: r.status, text: () => r.text() };
};

const vec = (result: unknown[]) => ({ status: "success", data: { resultType: "vector", result } });
const never = new AbortController().signal;

test("POST form as Thanos sends it: Go-encoded, keys sorted, partial_response from the strategy", async () => {
  const s = await server(() => ({ body: vec([{ metric: { job: "b", __name__: "up", a: "x" }, value: [1700000000.123, "1.5"] }]) }));
  try {
    const opts: HttpQueryOptions = { clients: () => [{ urls: () => [s.url + "/prefix"], headers: () => ({ Authorization: "Bearer t" }) }], fetch: fetchFn };
    const t = Date.UTC(2026, 0, 2, 3, 4, 5, 120);
    const r = await httpQueryFunc(opts, "ABORT")('sum(rate(x{a="b c"}[5m]))', t, never);
    assert.equal(r, [{ metric: [{ name: "__name__", value: "up" }, { name: "a", value: "x" }, { name: "job", value: "b" }], t: 1700000000123, v: 1.5 }]);
    await httpQueryFunc(opts, "WARN")("up", t, never);
    const [a, b] = s.seen;
    assert.is(a!.method, "POST");
    assert.is(a!.path, "/prefix/api/v1/query");
    assert.is(a!.contentType, "application/x-www-form-urlencoded");
    assert.is(a!.auth, "Bearer t");
    assert.is(a!.body, "analyze=false&dedup=true&engine=&explain=false&partial_response=false&query=sum%28rate%28x%7Ba%3D%22b+c%22%7D%5B5m%5D%29%29&time=2026-01-02T03%3A04%3A05.12Z");
    assert.is(new URLSearchParams(b!.body).get("partial_response"), "true");
  } finally { await s.close(); }
});

test("GET puts the parameters in the URL; only-prometheus-params sends query and time only", async () => {
  const s = await server(() => ({ body: vec([]) }));
  try {
    await httpQueryFunc({ clients: () => [{ urls: () => [s.url] }], fetch: fetchFn, method: "GET", onlyPrometheusParams: true }, "WARN")("up", 1000, never);
    const a = s.seen[0]!;
    assert.is(a.method, "GET");
    assert.equal([...a.query.keys()], ["query", "time"]);
    assert.is(a.query.get("time"), "1970-01-01T00:00:01Z");
  } finally { await s.close(); }
});

test("scalars become one sample without labels; NaN and infinities decode; unknown result types fail", async () => {
  let body: unknown = { status: "success", data: { resultType: "scalar", result: [12.5, "+Inf"] } };
  const s = await server(() => ({ body }));
  try {
    const q = httpQueryFunc({ clients: () => [{ urls: () => [s.url] }], fetch: fetchFn }, "ABORT");
    assert.equal(await q("1/0", 12500, never), [{ metric: [], t: 12500, v: Infinity }]);
    body = vec([{ metric: {}, value: [1, "NaN"] }, { metric: {}, value: [1, "-Inf"] }]);
    const r = await q("x", 1000, never);
    assert.ok(Number.isNaN(r[0]!.v));
    assert.is(r[1]!.v, -Infinity);
    body = { status: "success", data: { resultType: "matrix", result: [] } };
    try { await q("x[5m]", 1000, never); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /unknown response type: '"matrix"'/); }
  } finally { await s.close(); }
});

test("failover: every endpoint of every client in random order, first success wins; all failing names each", async () => {
  const bad = await server(() => ({ status: 422, body: { status: "error", errorType: "execution", error: "boom" } }));
  const good = await server(() => ({ body: vec([{ metric: {}, value: [1, "7"] }]) }));
  try {
    const errs: string[] = [];
    let i = 0;
    const seq = [0.99, 0.0, 0.99, 0.0]; // picks the bad client first
    const opts: HttpQueryOptions = {
      clients: () => [{ urls: () => [bad.url] }, { urls: () => [good.url] }], fetch: fetchFn,
      random: () => seq[i++ % seq.length]!, onError: (u, e) => errs.push(`${u} ${e}`),
    };
    const r = await httpQueryFunc(opts, "ABORT")("x", 1000, never);
    assert.is(r[0]!.v, 7);
    assert.is(bad.seen.length + good.seen.length, 2);
    assert.is(errs.length, bad.seen.length);
    if (errs.length) assert.match(errs[0]!, /expected 2xx response, got 422\. Body: .*boom/);
    const none = httpQueryFunc({ clients: () => [{ urls: () => [bad.url, "http://127.0.0.1:1"] }], fetch: fetchFn }, "ABORT");
    try { await none("x", 1000, never); assert.unreachable(); } catch (e) {
      const m = (e as Error).message;
      assert.match(m, /^no query API server reachable: /);
      assert.ok(m.includes(bad.url) && m.includes("http://127.0.0.1:1"), m);
    }
  } finally { await bad.close(); await good.close(); }
});

test("warnings: PromQL annotations are not counted, other warnings are", async () => {
  const s = await server(() => ({ body: { ...vec([]), warnings: ["PromQL info: metric might not be a counter", "store s1 unavailable"] } }));
  try {
    const got: string[][] = [];
    await httpQueryFunc({ clients: () => [{ urls: () => [s.url] }], fetch: fetchFn, onWarnings: (w) => got.push(w) }, "WARN")("x", 1000, never);
    assert.equal(got, [["store s1 unavailable"]]);
  } finally { await s.close(); }
});

test("an aborted signal stops the request at once and is the error (no failover to the next endpoint)", async () => {
  const hang = await server(() => "hang");
  const other = await server(() => ({ body: vec([]) }));
  try {
    const ctl = new AbortController();
    const q = httpQueryFunc({ clients: () => [{ urls: () => [hang.url] }, { urls: () => [other.url] }], fetch: fetchFn, random: () => 0.99 }, "ABORT");
    const t0 = Date.now();
    setTimeout(() => ctl.abort(new Error("deadline")), 100);
    try { await q("x", 1000, ctl.signal); assert.unreachable(); } catch (e) { assert.is((e as Error).message, "deadline"); }
    assert.ok(Date.now() - t0 < 2000);
    assert.is(other.seen.length, 0);
  } finally { await hang.close(); await other.close(); }
});

test("restore querier (Thanos' mode): GET query_range of the matchers with dedup, step in seconds, ignored labels removed", async () => {
  const s = await server(() => ({
    body: { status: "success", data: { resultType: "matrix", result: [{ metric: { __name__: "ALERTS_FOR_STATE", alertname: "A", replica: "r1" }, values: [[100, "90"], [101, "90"]] }] } },
  }));
  try {
    const q = restoreQuerier({ clients: () => [{ urls: () => [s.url] }], fetch: fetchFn, stepMs: 1000, ignoredLabels: ["replica"], rangeQuery: true });
    const r = await q.select({ start: 40_000, end: 101_500 }, [newMatcher("=", "__name__", "ALERTS_FOR_STATE"), newMatcher("=", "alertname", "A")]);
    const a = s.seen[0]!;
    assert.is(a.method, "GET");
    assert.is(a.path, "/api/v1/query_range");
    assert.is(a.query.get("query"), '{__name__="ALERTS_FOR_STATE", alertname="A"}');
    assert.is(a.query.get("start"), "40");
    assert.is(a.query.get("end"), "101.5");
    assert.is(a.query.get("step"), "1");
    assert.is(a.query.get("dedup"), "true");
    assert.is(r.series.length, 1);
    assert.equal(r.series[0]!.labels, [{ name: "__name__", value: "ALERTS_FOR_STATE" }, { name: "alertname", value: "A" }]);
    const it = r.series[0]!.iterator();
    const pts: [number, number][] = [];
    while (it.next()) pts.push([it.at(), it.value()]);
    assert.equal(pts, [[100_000, 90], [101_000, 90]]);
  } finally { await s.close(); }
});

test("restore querier (default): the raw samples of the window, an instant query of a range selector", async () => {
  const s = await server(() => ({
    body: { status: "success", data: { resultType: "matrix", result: [{ metric: { __name__: "ALERTS_FOR_STATE", alertname: "A" }, values: [[60.5, "50"], [62.5, "50"]] }] } },
  }));
  try {
    const q = restoreQuerier({ clients: () => [{ urls: () => [s.url] }], fetch: fetchFn, stepMs: 1000 });
    const r = await q.select({ start: 40_000, end: 3_640_000 }, [newMatcher("=", "__name__", "ALERTS_FOR_STATE"), newMatcher("=", "alertname", "A")]);
    const a = s.seen[0]!;
    assert.is(a.path, "/api/v1/query");
    assert.is(a.query.get("query"), '{__name__="ALERTS_FOR_STATE", alertname="A"}[3600000ms]');
    assert.is(a.query.get("time"), "1970-01-01T01:00:40Z");
    assert.is(a.query.get("dedup"), "true");
    const it = r.series[0]!.iterator();
    const pts: number[] = [];
    while (it.next()) pts.push(it.at());
    assert.equal(pts, [60_500, 62_500]);
  } finally { await s.close(); }
});

test("RFC3339Nano as Go prints it", () => {
  assert.is(goTimeJSON(Date.UTC(2026, 0, 1)), "2026-01-01T00:00:00Z");
  assert.is(goTimeJSON(Date.UTC(2026, 0, 1, 0, 0, 0, 500)), "2026-01-01T00:00:00.5Z");
  assert.is(goTimeJSON(Date.UTC(2026, 0, 1, 0, 0, 0, 7)), "2026-01-01T00:00:00.007Z");
});

test.run();
