// PromQL front end and API encoding costs: parse and print the parse corpus, parse a few typical
// dashboard queries, encode a large matrix result as Prometheus JSON.
// Run: `bun bench/promql-parser.ts` and `npx tsx bench/promql-parser.ts`.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { queryDataJson } from "../shared/api/json.ts";
import { labelsFrom } from "../shared/labels/labels.ts";
import { parseExpr } from "../shared/promql/parser.ts";
import { exprString } from "../shared/promql/printer.ts";

const here = dirname(fileURLToPath(import.meta.url));
const corpus: string[] = [];
for (const line of readFileSync(join(here, "..", "test", "promql", "parse-corpus.txt"), "utf8").split("\n")) {
  if (line === "" || line.startsWith("#")) continue;
  corpus.push(line.startsWith("json:") ? JSON.parse(line.slice(5)) : line);
}
const valid = corpus.filter((q) => { try { parseExpr(q); return true; } catch { return false; } });
const invalid = corpus.filter((q) => !valid.includes(q));

const dashboard = [
  'sum by (job, instance) (rate(http_requests_total{job=~"api|web", code!~"5.."}[5m]))',
  'histogram_quantile(0.99, sum by (le, handler) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))',
  '(sum(rate(errors_total[5m])) by (service) / sum(rate(requests_total[5m])) by (service)) > bool 0.05',
  'max_over_time(avg by (cluster) (node_load1 * on(instance) group_left(nodename) node_uname_info)[1h:1m] offset 1d)',
  'topk(10, count by (__name__) ({__name__=~".+"}))',
];

function bench(name: string, items: readonly string[], fn: (q: string) => void, minMs = 400): void {
  for (let i = 0; i < 3; i++) for (const q of items) fn(q); // warm up
  const rounds: number[] = [];
  const end = performance.now() + minMs;
  let n = 0;
  while (performance.now() < end || rounds.length < 5) {
    const t = performance.now();
    for (const q of items) fn(q);
    rounds.push((performance.now() - t) / items.length);
    n += items.length;
  }
  rounds.sort((a, b) => a - b);
  const med = rounds[rounds.length >> 1]! * 1000;
  const bytes = items.reduce((s, q) => s + q.length, 0) / items.length;
  console.log(`${name.padEnd(44)} ${med.toFixed(2).padStart(8)} µs/query  ${(bytes / med).toFixed(1).padStart(6)} MB/s  (${items.length} queries, ${n} runs)`);
}

const rt = (globalThis as { Bun?: { version: string } }).Bun ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}` : `node ${process.version}`;
console.log(`# promql-parser benchmark on ${rt}\n`);
bench("parse: valid corpus queries", valid, (q) => void parseExpr(q));
bench("parse: invalid corpus queries (error path)", invalid, (q) => { try { parseExpr(q); } catch { /* expected */ } });
bench("parse: dashboard queries", dashboard, (q) => void parseExpr(q));
const parsed = valid.map((q) => parseExpr(q));
let k = 0;
bench("print: valid corpus queries", valid, () => void exprString(parsed[k++ % parsed.length]!));
const long = Array.from({ length: 900 }, (_, i) => `m${i}{a="b"}`).join(" + ");
bench("parse: 900-term sum (36 kB)", [long], (q) => void parseExpr(q), 300);

// Matrix result: 1000 series x 240 points (a 1 h range at 15 s), values like real counters/gauges.
const series = Array.from({ length: 1000 }, (_, i) => ({
  metric: labelsFrom({ __name__: "http_requests_total", job: `job-${i % 10}`, instance: `10.0.${i >> 8}.${i & 255}:9090` }),
  ts: Array.from({ length: 240 }, (_, j) => 1_700_000_000_000 + j * 15_000),
  vs: Array.from({ length: 240 }, (_, j) => (i % 3 === 0 ? j * 17 : Math.sin(i + j) * 1000)),
}));
const value = { type: "matrix" as const, series };
for (let i = 0; i < 3; i++) queryDataJson(value);
// Twice: the string alone, and the string encoded to UTF-8 bytes as a server sends it (V8 may hand back a
// rope that is only flattened there, so the string alone can hide the cost).
const enc = new TextEncoder();
for (const withBytes of [false, true]) {
  const times: number[] = [];
  let size = 0;
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    const s = queryDataJson(value);
    size = withBytes ? enc.encode(s).length : s.length;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const med = times[times.length >> 1]!;
  console.log(`${withBytes ? "" : "\n"}encode matrix 1000 series x 240 points${withBytes ? " to UTF-8 bytes" : ""}: ${med.toFixed(1)} ms median of 10, ${(size / 1e6).toFixed(1)} MB, ${(size / 1e6 / (med / 1000)).toFixed(0)} MB/s, ${((240_000 / med) / 1000).toFixed(1)} M points/s`);
}
