// Byte compatibility of `agent query` with Prometheus 2.42's HTTP API: both serve copies of the same
// promtool-backfilled blocks, the same requests go to both, and status codes and raw bodies must be
// identical (query results of every type, range queries, errors, series/labels/values).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const T0 = 1_700_000_000;
let prom: Prometheus;
let ours: Proc;
let oursUrl = "";

/** Two hours and a bit at 15 s: a counter with a reset, gauges with awkward values, a gap. */
function openMetrics(): string {
  const lines: string[] = ["# TYPE req counter"];
  for (let i = 0; i < 560; i++) {
    for (const [job, inst, k] of [["api", "a", 3], ["api", "b", 5], ["db", "c", 7]] as const) {
      const v = i < 300 ? i * k : (i - 300) * k; // reset at i = 300
      lines.push(`req_total{job="${job}",instance="${inst}"} ${v} ${T0 + i * 15}`);
    }
  }
  lines.push("# TYPE g gauge");
  for (let i = 0; i < 560; i++) {
    if (i >= 100 && i < 130) continue; // a gap longer than the lookback delta
    lines.push(`g{k="frac"} ${(i * 0.1 - 7).toFixed(1)} ${T0 + i * 15}`);
    lines.push(`g{k="tiny"} ${1e-7 * (i + 1)} ${T0 + i * 15}`);
    lines.push(`g{k="huge",x="<&>"} ${1.5e22 * (i % 7)} ${T0 + i * 15}`);
  }
  lines.push("# EOF");
  return lines.join("\n") + "\n";
}

test.before(async () => {
  const src = tempDir("compat-blocks-").path;
  await promtoolBackfill(openMetrics(), src);
  // Separate copies: Prometheus may compact its blocks while we read ours.
  const promDir = tempDir("compat-prom-").path;
  const ourDir = tempDir("compat-ours-").path;
  cpSync(src, promDir, { recursive: true });
  mkdirSync(ourDir, { recursive: true });
  cpSync(src, ourDir, { recursive: true });
  prom = await startPrometheus({ dataDir: promDir });
  const port = await freePort();
  ours = startProcess(join(root, "node_modules", ".bin", "bun"), [
    join(root, "agent", "main.ts"), "query", "--tsdb.path", ourDir, "--http-address", `127.0.0.1:${port}`, "--log.level", "warn",
  ], { cwd: root });
  oursUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${oursUrl}/-/ready`, ours, 30_000);
});

test.after(async () => {
  await ours?.stop();
  await prom?.stop();
});

async function both(path: string, params: Record<string, string | string[]>): Promise<{ theirs: [number, string]; mine: [number, string] }> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, x);
  const [a, b] = await Promise.all([fetch(`${prom.url}${path}?${qs}`), fetch(`${oursUrl}${path}?${qs}`)]);
  return { theirs: [a.status, await a.text()], mine: [b.status, await b.text()] };
}

async function compare(cases: [string, Record<string, string | string[]>][]): Promise<void> {
  const diffs: string[] = [];
  let errors = 0;
  for (const [path, params] of cases) {
    const { theirs, mine } = await both(path, params);
    if (theirs[0] !== 200) errors++;
    if (theirs[0] !== mine[0] || theirs[1] !== mine[1]) {
      diffs.push(`${path} ${JSON.stringify(params)}\n    prometheus: ${theirs[0]} ${theirs[1].slice(0, 600)}\n    ours:       ${mine[0]} ${mine[1].slice(0, 600)}`);
    }
  }
  assert.equal(diffs, [], `${diffs.length} of ${cases.length} differ:\n${diffs.join("\n")}`);
}

const at = (s: number) => String(T0 + s);

test("instant queries: every result type, awkward values and timestamps, errors", async () => {
  const q = (query: string, time = at(3600)) => ["/api/v1/query", { query, time }] as [string, Record<string, string>];
  await compare([
    q("req_total"),
    q("rate(req_total[5m])"),
    q("sum by (job) (rate(req_total[5m]))"),
    q("increase(req_total[10m])", at(300 * 15 + 120)),
    q("g"),
    q("g", at(110 * 15)), // inside the gap
    q("g[1m]"),
    q("g[1m]", at(3600) + ".5"),
    q("topk(1, g)"),
    q("g * 1e22"),
    q("g{k=\"tiny\"} / 3"),
    q("scalar(g{k=\"frac\"})"),
    q("1e-7"),
    q("-0"),
    q("\"a<b>\""),
    q("time()", at(10) + ".123"),
    q("absent(nope)"),
    q("count_values(\"v\", g{k=\"frac\"})"),
    q("req_total offset 1h @ " + at(7000)),
    q("max_over_time(g{k=\"frac\"}[30m:1m])"),
    q("1+"),
    q("rate(g)"),
    q("sum(g) by"),
    q("label_replace(g, \"k\", \"same\", \"\", \"\")"),
    q("g", "yesterday"),
    ["/api/v1/query", { query: "g", time: at(110 * 15), lookback_delta: "x" }],
    ["/api/v1/query", { query: "g", time: at(3600), timeout: "1m" }],
  ]);
});

test("range queries: steps, fractional starts, matrix layout, errors", async () => {
  const r = (query: string, start: string, end: string, step: string) => ["/api/v1/query_range", { query, start, end, step }] as [string, Record<string, string>];
  await compare([
    r("rate(req_total[5m])", at(0), at(3600), "60"),
    r("g", at(1400), at(2100), "15"),
    r("g{k=\"frac\"}", at(0) + ".5", at(600), "30.25"),
    r("sum(req_total) by (job)", at(4000), at(5000), "1m"),
    r("vector(1)", at(0), at(120), "0.5"),
    r("1 + 1", at(0), at(60), "15"),
    r("g[5m]", at(0), at(60), "15"),
    r("g", at(60), at(0), "15"),
    r("g", at(0), at(60), "0"),
    r("g", at(0), at(1_000_000), "1"),
  ]);
});

test("series, labels and label values", async () => {
  await compare([
    ["/api/v1/series", { "match[]": "req_total" }],
    ["/api/v1/series", { "match[]": ["g", "req_total{job=\"db\"}"], start: at(0), end: at(600) }],
    ["/api/v1/series", { "match[]": "{k=~\"t.*\"}" }],
    ["/api/v1/series", { "match[]": "{x=\"\"}" }],
    ["/api/v1/series", {}],
    ["/api/v1/labels", {}],
    ["/api/v1/labels", { "match[]": "g" }],
    ["/api/v1/label/job/values", {}],
    ["/api/v1/label/__name__/values", {}],
    ["/api/v1/label/k/values", { "match[]": "g{k!=\"tiny\"}" }],
    ["/api/v1/label/bad-name/values", {}],
    ["/api/v1/metadata", {}],
    ["/api/v1/query_exemplars", { query: "req_total", start: at(0), end: at(600) }],
    ["/api/v1/query_exemplars", { query: "req_total +", start: at(0), end: at(600) }],
    ["/api/v1/query_exemplars", { query: "1 + 1" }],
  ]);
});


test("answer compression: negotiated as Prometheus does, and the bytes inflate to Prometheus' body", async () => {
  const { gunzipSync, inflateSync } = await import("node:zlib");
  const { request } = await import("node:http");
  // node:http: no automatic Accept-Encoding or decoding, so the negotiation itself is visible.
  const raw = (base: string, accept: string | null): Promise<{ status: number; enc: string | undefined; body: Buffer }> =>
    new Promise((res, rej) => {
      const u = new URL(`${base}/api/v1/query_range?query=req_total&start=${at(0)}&end=${at(7200)}&step=15`);
      const r = request(u, { headers: accept === null ? {} : { "Accept-Encoding": accept } }, (m) => {
        const parts: Buffer[] = [];
        m.on("data", (c: Buffer) => parts.push(c));
        m.on("end", () => res({ status: m.statusCode ?? 0, enc: m.headers["content-encoding"], body: Buffer.concat(parts) }));
        m.on("error", rej);
      });
      r.on("error", rej);
      r.end();
    });
  const plain = await raw(prom.url, null);
  assert.is(plain.status, 200);
  assert.ok(plain.body.length > 4096, `a body worth compressing (${plain.body.length} bytes)`);
  for (const accept of [null, "gzip", "deflate", "deflate, gzip", "gzip;q=0, deflate", "br", "identity"]) {
    const [theirs, mine] = await Promise.all([raw(prom.url, accept), raw(oursUrl, accept)]);
    assert.is(mine.enc, theirs.enc, `Content-Encoding for Accept-Encoding ${accept}`);
    const inflate = (x: typeof mine) => x.enc === "gzip" ? gunzipSync(x.body) : x.enc === "deflate" ? inflateSync(x.body) : x.body;
    assert.is(inflate(mine).toString(), plain.body.toString(), `our body for Accept-Encoding ${accept}`);
    assert.is(inflate(theirs).toString(), plain.body.toString(), `Prometheus' body for Accept-Encoding ${accept}`);
    if (mine.enc) assert.ok(mine.body.length * 2 < plain.body.length, `compressed: ${mine.body.length} of ${plain.body.length} bytes`);
  }
});

test.run();
