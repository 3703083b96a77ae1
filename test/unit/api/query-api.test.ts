// The query API in memory (app.request): expected bodies are byte-for-byte what a real Prometheus
// 2.42 answered to the same requests (recorded; the integration test api-prometheus-compat compares
// live over the same blocks).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createQueryApi, type QueryEngine, type RequestContext } from "../../../shared/api/query-api.ts";
import { parseTimeMs } from "../../../shared/api/params.ts";
import { CodedError } from "../../../shared/encoding/errors.ts";
import { labelsFrom } from "../../../shared/labels/labels.ts";
import { Engine, type PromValue } from "../../../shared/promql/engine.ts";
import { MemoryQuerier } from "../../../shared/storage/memory.ts";

const data = new MemoryQuerier([
  { labels: labelsFrom({ __name__: "up", job: "a", instance: "x" }), ts: [0, 15_000, 30_000], vs: [1, 1, 0] },
  { labels: labelsFrom({ __name__: "up", job: "b", instance: "y" }), ts: [0, 15_000], vs: [1, 1] },
  { labels: labelsFrom({ __name__: "other", job: "a", "weird": "<&>" }), ts: [0], vs: [5] },
]);

function app(engine: QueryEngine = new Engine(), seen?: RequestContext[]) {
  return createQueryApi({
    engine,
    querier: (ctx) => {
      seen?.push(ctx);
      return data;
    },
    now: () => 1_000_000,
  });
}

async function get(path: string, a = app()): Promise<{ status: number; body: string; type: string | null }> {
  const r = await a.request(path);
  return { status: r.status, body: await r.text(), type: r.headers.get("content-type") };
}

const enc = encodeURIComponent;

// Recorded from Prometheus 2.42: GET /api/v1/query?query=<q>&time=1.5
const QUERY_BODIES: [string, string][] = [
  ["vector(1e-7)", '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"1e-07"]}]}}'],
  ["vector(1e21)", '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"1e+21"]}]}}'],
  ["vector(123456789012345678)", '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"123456789012345680"]}]}}'],
  ["vector(-0)", '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"-0"]}]}}'],
  ["vector(0.1+0.2)", '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"0.30000000000000004"]}]}}'],
  ["vector(1/0)", '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"+Inf"]}]}}'],
  ["vector(-1/0)", '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"-Inf"]}]}}'],
  ["vector(0/0)", '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"NaN"]}]}}'],
  ["vector(2.5e-6)", '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1.500,"0.0000025"]}]}}'],
  ["1e-7", '{"status":"success","data":{"resultType":"scalar","result":[1.5,"0.0000001"]}}'],
  ["1e21", '{"status":"success","data":{"resultType":"scalar","result":[1.5,"1000000000000000000000"]}}'],
  ["-0", '{"status":"success","data":{"resultType":"scalar","result":[1.5,"-0"]}}'],
  ["1.5e300", `{"status":"success","data":{"resultType":"scalar","result":[1.5,"15${"0".repeat(299)}"]}}`],
  ['"a<b>&c\\u2028"', '{"status":"success","data":{"resultType":"string","result":[1.5,"a\\u003cb\\u003e\\u0026c\\u2028"]}}'],
  ["1+", '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:3: parse error: unexpected end of input"}'],
  ["foo @ 1 @ 2", '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:1: parse error: @ \\u003ctimestamp\\u003e may not be set multiple times"}'],
];

test("query: bodies byte-identical to Prometheus (value and time formatting, escaping, parse errors)", async () => {
  for (const [q, want] of QUERY_BODIES) {
    const r = await get(`/api/v1/query?query=${enc(q)}&time=1.5`);
    assert.is(r.body, want, q);
    assert.is(r.status, want.includes('"error"') ? 400 : 200, q);
    assert.is(r.type, "application/json");
  }
});

// Recorded from Prometheus 2.42.
const PARAM_CASES: [string, number, string][] = [
  ["/api/v1/query?query=vector(1)&time=-1.25", 200, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[-1.250,"1"]}]}}'],
  ["/api/v1/query?query=vector(1)&time=2015-07-01T20:10:51.781Z", 200, '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1435781451.781,"1"]}]}}'],
  ["/api/v1/query_range?query=vector(1)&start=0.001&end=0.05&step=0.02", 200, '{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[0.001,"1"],[0.021,"1"],[0.041,"1"]]}]}}'],
  ["/api/v1/query?query=foo&time=abc", 400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \\"time\\": Invalid time value for 'time': cannot parse \\"abc\\" to a valid timestamp"}`],
  ["/api/v1/query_range?query=foo&start=10&end=1&step=1", 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"end\\": end timestamp must not be before start time"}'],
  ["/api/v1/query_range?query=foo&start=0&end=100000&step=1", 400, '{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"}'],
  ["/api/v1/query_range?query=foo&start=0&end=100&step=0", 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"step\\": zero or negative query resolution step widths are not accepted. Try a positive integer"}'],
  ["/api/v1/query_range?query=foo&start=0&end=100", 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"step\\": cannot parse \\"\\" to a valid duration"}'],
  ["/api/v1/query_range?query=foo&end=100&step=1", 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"start\\": cannot parse \\"\\" to a valid timestamp"}'],
  ["/api/v1/query?query=vector(1)&timeout=abc", 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"timeout\\": cannot parse \\"abc\\" to a valid duration"}'],
  ["/api/v1/series", 400, '{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}'],
  [`/api/v1/series?match[]=${enc("{}")}`, 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"match[]\\": match[] must contain at least one non-empty matcher"}'],
  [`/api/v1/series?match[]=${enc("up + 1")}`, 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"match[]\\": 1:4: parse error: unexpected \\u003cop:+\\u003e"}'],
  [`/api/v1/series?match[]=${enc("up[5m]")}`, 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"match[]\\": 1:3: parse error: unexpected \\"[\\""}'],
  [`/api/v1/series?match[]=`, 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"match[]\\": 1:1: parse error: unexpected end of input"}'],
  [`/api/v1/series?match[]=${enc("rate(up[5m])")}`, 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"match[]\\": 1:5: parse error: unexpected \\"(\\""}'],
  [`/api/v1/series?match[]=${enc("up offset 5m")}`, 400, '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"match[]\\": 1:4: parse error: unexpected \\u003coffset\\u003e"}'],
  ["/api/v1/label/a-b/values", 400, '{"status":"error","errorType":"bad_data","error":"invalid label name: \\"a-b\\""}'],
];

test("parameters: time forms, range checks and errors as Prometheus answers them", async () => {
  for (const [path, status, want] of PARAM_CASES) {
    const r = await get(path);
    assert.is(r.body, want, path);
    assert.is(r.status, status, path);
  }
});

test("parseTimeMs: float seconds rounded to ms like Go, RFC3339 with offsets and fractions", () => {
  assert.is(parseTimeMs("1435781451.781"), 1435781451781);
  // Recorded from Prometheus 2.42 (/api/v1/query?query=vector(1)&time=<t>).
  const recorded: [string, number][] = [
    ["1.0005", 1000], ["2.0005", 2001], ["0.0015", 2], ["-0.0005", -1], ["1e3", 1_000_000], ["1E3", 1_000_000],
    ["1_000", 1_000_000], ["+1.5", 1500], [".5", 500], ["5.", 5000], ["-1.25", -1250], ["inf", -9223372036854],
  ];
  for (const [t, ms] of recorded) assert.is(parseTimeMs(t), ms, t);
  assert.is(parseTimeMs("2015-07-01T20:10:51.781Z"), 1435781451781);
  assert.is(parseTimeMs("2015-07-01T22:10:51+02:00"), 1435781451000);
  assert.is(parseTimeMs("2015-07-01T20:10:51.7819999Z"), 1435781451781);
  for (const bad of ["", "abc", "2015-07-01", "2015-13-01T00:00:00Z", "2015-02-30T00:00:00Z", "1__000", "0x10"]) {
    assert.throws(() => parseTimeMs(bad), /cannot parse/, bad);
  }
});

test("POST form bodies work like GET, body values win over the URL", async () => {
  const a = app();
  const body = new URLSearchParams({ query: "vector(2)", time: "3" });
  const r = await a.request("/api/v1/query?query=vector(1)&time=1", { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
  assert.is(r.status, 200);
  assert.is(await r.text(), '{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[3,"2"]}]}}');
  const s = await a.request("/api/v1/series", { method: "POST", body: new URLSearchParams([["match[]", "up"], ["match[]", "other"]]), headers: { "content-type": "application/x-www-form-urlencoded" } });
  assert.is(s.status, 200);
  const series = (JSON.parse(await s.text()) as { data: Record<string, string>[] }).data;
  assert.is(series.length, 3);
  const del = await a.request("/api/v1/query", { method: "DELETE" });
  assert.is(del.status, 405);
});

test("series, labels, label values: union over match[], sorted, deduplicated, HTML-safe", async () => {
  const s = await get(`/api/v1/series?match[]=up&match[]=${enc('{job="a"}')}`);
  assert.is(s.body, '{"status":"success","data":[{"__name__":"other","job":"a","weird":"\\u003c\\u0026\\u003e"},{"__name__":"up","instance":"x","job":"a"},{"__name__":"up","instance":"y","job":"b"}]}');
  const l = await get("/api/v1/labels");
  assert.is(l.body, '{"status":"success","data":["__name__","instance","job","weird"]}');
  const lm = await get(`/api/v1/labels?match[]=up`);
  assert.is(lm.body, '{"status":"success","data":["__name__","instance","job"]}');
  const v = await get("/api/v1/label/job/values");
  assert.is(v.body, '{"status":"success","data":["a","b"]}');
  const vm = await get(`/api/v1/label/__name__/values?match[]=${enc('{job="b"}')}`);
  assert.is(vm.body, '{"status":"success","data":["up"]}');
  const none = await get("/api/v1/label/nope/values");
  assert.is(none.body, '{"status":"success","data":[]}');
});

/** An engine that answers what a test tells it to (errors, warnings, slow queries). */
function stubEngine(fn: (signal: AbortSignal | undefined) => Promise<PromValue>, warnings: string[] = []): QueryEngine {
  const run = async (opts?: { signal?: AbortSignal }) => ({ value: await fn(opts?.signal), warnings });
  return {
    instantQuery: (_q, _s, _t, opts) => run(opts),
    rangeQuery: (_q, _s, _a, _b, _c, opts) => run(opts),
  };
}

test("engine errors map to Prometheus' error types and statuses", async () => {
  const cases: [CodedError, number, string][] = [
    [new CodedError("execution", "vector cannot contain metrics with the same labelset"), 422, "execution"],
    [new CodedError("resource_exhausted", "query processing would load too many samples into memory in query execution"), 422, "execution"],
    [new CodedError("timeout", "query timed out in query execution"), 503, "timeout"],
    [new CodedError("canceled", "query was canceled in query execution"), 503, "canceled"],
    [new CodedError("internal", "boom"), 500, "internal"],
    [new CodedError("bad_data", "1:1: parse error: x"), 400, "bad_data"],
  ];
  for (const [err, status, type] of cases) {
    const r = await get("/api/v1/query?query=up&time=1", app(stubEngine(() => Promise.reject(err))));
    assert.is(r.status, status, err.code);
    const j = JSON.parse(r.body) as { status: string; errorType: string; error: string };
    assert.is(j.status, "error");
    assert.is(j.errorType, type);
    assert.ok(j.error.endsWith(err.message), j.error);
  }
});

test("warnings follow data; timeout parameter aborts a slow query with 503 timeout", async () => {
  const warn = await get("/api/v1/query?query=up&time=1", app(stubEngine(async () => ({ type: "scalar", t: 1000, v: 1 }), ["store x: down"])));
  assert.is(warn.body, '{"status":"success","data":{"resultType":"scalar","result":[1,"1"]},"warnings":["store x: down"]}');
  const slow = stubEngine((signal) => new Promise((_, reject) => {
    signal!.addEventListener("abort", () => reject(new CodedError("canceled", "query was canceled in query execution")));
  }));
  const t0 = Date.now();
  const r = await get("/api/v1/query?query=up&time=1&timeout=0.05", app(slow));
  assert.ok(Date.now() - t0 < 2000);
  assert.is(r.status, 503);
  assert.is(r.body, '{"status":"error","errorType":"timeout","error":"query timed out in query execution"}');
});

test("range query on a range-vector expression is bad_data like Prometheus (recorded answer)", async () => {
  const r = await get(`/api/v1/query_range?query=${enc("up[5m]")}&start=0&end=10&step=1`);
  assert.is(r.status, 400);
  assert.is(r.body, '{"status":"error","errorType":"bad_data","error":"invalid expression type \\"range vector\\" for range query, must be Scalar or instant Vector"}');
});

test("the querier is chosen per request and sees the request's parameters and time range", async () => {
  const seen: RequestContext[] = [];
  const a = app(new Engine(), seen);
  await a.request("/api/v1/query_range?query=up&start=10&end=70&step=15&dedup=false&partial_response=true");
  assert.is(seen.length, 1);
  assert.is(seen[0]!.params.get("dedup"), "false");
  assert.is(seen[0]!.params.get("partial_response"), "true");
  assert.is(seen[0]!.mint, 10_000);
  assert.is(seen[0]!.maxt, 70_000);
});

test("lookback_delta reaches the engine; an unparsable one is ignored as Prometheus 2.42 ignores the parameter", async () => {
  const seen: (number | undefined)[] = [];
  const eng: QueryEngine = {
    instantQuery: async (_q, _s, t, opts) => { seen.push(opts?.lookbackDelta); return { value: { type: "scalar", t, v: 1 }, warnings: [] }; },
    rangeQuery: async () => { throw new Error("unused"); },
  };
  for (const lb of ["1h", "90", "x", ""]) assert.is((await get(`/api/v1/query?query=1&time=1&lookback_delta=${lb}`, app(eng))).status, 200);
  assert.equal(seen, [3_600_000, 90_000, undefined, undefined]);
});

test("exemplars and metadata answer like a Prometheus without any (recorded)", async () => {
  assert.is((await get(`/api/v1/query_exemplars?query=up&start=0&end=600`)).body, '{"status":"success","data":[]}');
  const none = await get(`/api/v1/query_exemplars?query=${enc("1 + 1")}`);
  assert.is(none.status, 204);
  assert.is(none.body, "");
  const bad = await get(`/api/v1/query_exemplars?query=${enc("req_total +")}`);
  assert.is(bad.body, '{"status":"error","errorType":"bad_data","error":"1:12: parse error: unexpected end of input"}');
  assert.is((await get("/api/v1/metadata")).body, '{"status":"success","data":{}}');
});

test("health, readiness and build info", async () => {
  let ready = false;
  const a = createQueryApi({ engine: new Engine(), querier: () => data, ready: () => ready, buildInfo: { version: "9.9.9" } });
  assert.is((await a.request("/-/healthy")).status, 200);
  assert.is((await a.request("/-/ready")).status, 503);
  ready = true;
  assert.is((await a.request("/-/ready")).status, 200);
  const b = JSON.parse(await (await a.request("/api/v1/status/buildinfo")).text()) as { data: Record<string, string> };
  assert.equal(Object.keys(b.data), ["version", "revision", "branch", "buildUser", "buildDate", "goVersion"]);
  assert.is(b.data.version, "9.9.9");
});


test("compression: gzip/deflate as negotiated, small answers as they are, Vary set, off with compress: null", async () => {
  const { gunzipSync, inflateSync } = await import("node:zlib");
  const { acceptedEncoding } = await import("../../../shared/api/query-api.ts");
  assert.is(acceptedEncoding(null), null);
  assert.is(acceptedEncoding("gzip, deflate, br"), "gzip");
  assert.is(acceptedEncoding("br, deflate;q=0.5, gzip"), "deflate");
  assert.is(acceptedEncoding("gzip;q=0, deflate"), "deflate");
  assert.is(acceptedEncoding("GZIP"), "gzip");
  assert.is(acceptedEncoding("br, identity"), null);
  const big = "/api/v1/query_range?query=" + enc("up") + "&start=0&end=30&step=0.01";
  const plain = await app().request(big);
  const want = await plain.text();
  assert.ok(want.length > 4096 && want.startsWith('{"status":"success"'), `a large answer (${want.length} bytes)`);
  assert.is(plain.headers.get("content-encoding"), null);
  for (const [accept, unpack] of [["gzip", gunzipSync], ["deflate", inflateSync]] as const) {
    const r = await app().request(big, { headers: { "Accept-Encoding": accept } });
    assert.is(r.headers.get("content-encoding"), accept);
    assert.match(r.headers.get("vary") ?? "", /Accept-Encoding/);
    assert.is(r.headers.get("content-type"), "application/json");
    const bytes = new Uint8Array(await r.arrayBuffer());
    assert.ok(bytes.length * 3 < want.length, `${accept}: ${bytes.length} of ${want.length} bytes`);
    assert.is(new TextDecoder().decode(unpack(bytes)), want);
  }
  // Small answers and errors are not worth it; the status stays.
  const small = await app().request("/api/v1/query?query=up&time=1", { headers: { "Accept-Encoding": "gzip" } });
  assert.is(small.headers.get("content-encoding"), null);
  assert.match(await small.text(), /"status":"success"/);
  const bad = await app().request("/api/v1/query?query=1%2B", { headers: { "Accept-Encoding": "gzip" } });
  assert.is(bad.status, 400);
  assert.match(await bad.text(), /parse error/);
  // Off: the answer goes out as it is whatever the client accepts.
  const off = createQueryApi({ engine: new Engine(), querier: () => data, now: () => 1_000_000, compress: null });
  const r = await off.request(big, { headers: { "Accept-Encoding": "gzip" } });
  assert.is(r.headers.get("content-encoding"), null);
  assert.is(await r.text(), want);
});

test.run();
