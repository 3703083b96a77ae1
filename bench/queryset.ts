// The PromQL bench query set, over the dataset of test/promql/data.ts (generateBenchDataset): run against
// Prometheus and our engine by bench/promql.ts, and through querier + sidecars by bench/querier.ts.
import { T0 } from "../test/promql/data.ts";

export interface Q { name: string; query: string; kind: "instant" | "range"; time?: number; start?: number; end?: number; step?: number }

/** The 14 queries for `hours` of data from T0: range queries over all of it, instant ones at its middle. */
export function benchQueries(hours: number): { queries: Q[]; mid: number; instant(query: string): Q } {
  const end = T0 + hours * 3600_000;
  const mid = T0 + Math.floor(hours / 2) * 3600_000;
  const range = (query: string, step: number): Q => ({ name: query, query, kind: "range", start: T0, end, step });
  const instant = (query: string, time = mid): Q => ({ name: query, query, kind: "instant", time });
  const queries: Q[] = [
    range("sum(rate(bench_requests_total[5m]))", 60_000),
    range('sum by (job) (rate(bench_requests_total[5m]))', 60_000),
    range('rate(bench_requests_total{job="job1"}[5m])', 60_000),
    range('max_over_time(bench_requests_total{shard="3"}[30m])', 300_000),
    range('bench_requests_total{instance="host-5"}', 15_000),
    range("quantile(0.9, rate(bench_requests_total[5m]))", 300_000),
    range('sum by (instance) (bench_requests_total{job="job2"}) / on(instance) group_left count by (instance) (bench_requests_total)', 120_000),
    instant("topk(10, rate(bench_requests_total[5m]))"),
    instant("count(bench_requests_total)"),
    instant("sum by (instance) (increase(bench_requests_total[1h]))"),
    instant('avg_over_time(rate(bench_requests_total{job="job2"}[5m])[30m:1m])'),
    instant('bench_requests_total{job="job3"} - on(id) bench_requests_total{job="job3"} offset 1h'),
    instant('histogram_quantile(0.9, sum by (le) (label_replace(rate(bench_requests_total{job="job4"}[10m]), "le", "$1", "shard", "(.*)")))'),
    instant("count_values(\"v\", bench_requests_total{job=\"job5\"} % 10)"),
  ];
  return { queries, mid, instant: (q) => instant(q) };
}
