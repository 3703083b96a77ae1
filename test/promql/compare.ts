// Differential comparison of PromQL answers: a normalized form both for Prometheus' HTTP JSON and for
// our engine's in-process result, and a comparator with the issue's rules (status + errorType,
// resultType, label sets, timestamps, values to relative 1e-9 with NaN == NaN, order only where
// Prometheus defines one).

import { readFileSync } from "node:fs";
import { errorCode, errorMessage, errorStatus } from "../../shared/encoding/errors.ts";
import type { Engine, PromValue } from "../../shared/promql/engine.ts";
import type { Querier } from "../../shared/storage/types.ts";
import { T0 } from "./data.ts";

export interface Mode {
  kind: "instant" | "range";
  /** ms */
  time?: number;
  start?: number;
  end?: number;
  step?: number;
}

const H = 3600_000;

// Instant times: inside the data, on an odd millisecond, and just after the data ends (lookback).
// Ranges: the whole data at 1m, a short window at the scrape interval, and an unaligned step that
// runs past the end of the data.
export const DIFF_MODES: Mode[] = [
  { kind: "instant", time: T0 + 1 * H },
  { kind: "instant", time: T0 + 2 * H + 7_531 },
  { kind: "instant", time: T0 + 4 * H + 120_000 },
  { kind: "range", start: T0, end: T0 + 4 * H, step: 60_000 },
  { kind: "range", start: T0 + 1 * H + 10_000, end: T0 + 1 * H + 30 * 60_000, step: 15_000 },
  { kind: "range", start: T0 + 3 * H + 17_000, end: T0 + 4 * H + 10 * 60_000, step: 37_000 },
];

export interface Norm {
  status: "success" | "error";
  errorType?: string;
  error?: string;
  resultType?: string;
  /** series: metric as canonical string, points as [ms, value]. */
  result?: { metric: string; points: [number, number][] }[];
  scalar?: [number, number];
  str?: string;
}

export function modeLabel(m: Mode): string {
  return m.kind === "instant" ? `instant@${m.time}` : `range ${m.start}..${m.end} step ${m.step}`;
}

function parseVal(s: string): number {
  if (s === "NaN") return NaN;
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  return Number(s);
}

function metricKey(m: Record<string, string>): string {
  return JSON.stringify(Object.keys(m).sort().map((k) => [k, m[k]]));
}

/** Prometheus HTTP API answer for one query. */
export async function promQuery(base: string, query: string, m: Mode): Promise<Norm> {
  const u = new URL(m.kind === "instant" ? "/api/v1/query" : "/api/v1/query_range", base);
  const body = new URLSearchParams({ query });
  if (m.kind === "instant") body.set("time", String(m.time! / 1000));
  else { body.set("start", String(m.start! / 1000)); body.set("end", String(m.end! / 1000)); body.set("step", String(m.step! / 1000)); }
  const r = await fetch(u, { method: "POST", body });
  const j = await r.json() as any;
  return normJson(j);
}

export function normJson(j: any): Norm {
  if (j.status !== "success") return { status: "error", errorType: j.errorType, error: j.error };
  const d = j.data;
  switch (d.resultType) {
    case "scalar": return { status: "success", resultType: "scalar", scalar: [Math.round(d.result[0] * 1000), parseVal(d.result[1])] };
    case "string": return { status: "success", resultType: "string", str: d.result[1] };
    case "vector":
      return { status: "success", resultType: "vector", result: d.result.map((s: any) => ({ metric: metricKey(s.metric), points: [[Math.round(s.value[0] * 1000), parseVal(s.value[1])]] })) };
    default:
      return { status: "success", resultType: "matrix", result: d.result.map((s: any) => ({ metric: metricKey(s.metric), points: s.values.map((p: any) => [Math.round(p[0] * 1000), parseVal(p[1])]) })) };
  }
}

/** An answer that holds data: a vector or matrix with at least one series. */
export function hasData(n: Norm): boolean {
  return n.status === "success" && (n.resultType === "vector" || n.resultType === "matrix") && (n.result?.length ?? 0) > 0;
}

/**
 * The differential runs' check that the data is loaded: more than half the evaluations return series.
 * `status: "success"` alone proves nothing: over an empty TSDB 96 % of the corpus' evaluations succeed
 * (and 8 % return series, e.g. `vector(1)`); over the dataset 85 % return series.
 * (test/unit/testlib/data-guard.test.ts)
 */
export function dataLoaded(runs: number, withData: number): boolean {
  return runs > 0 && withData > runs * 0.5;
}

export function normValue(v: PromValue): Norm {
  const mk = (ls: readonly { name: string; value: string }[]) => metricKey(Object.fromEntries(ls.map((l) => [l.name, l.value])));
  switch (v.type) {
    case "scalar": return { status: "success", resultType: "scalar", scalar: [v.t, v.v] };
    case "string": return { status: "success", resultType: "string", str: v.v };
    case "vector": return { status: "success", resultType: "vector", result: v.samples.map((s) => ({ metric: mk(s.metric), points: [[s.t, s.v]] })) };
    case "matrix": return { status: "success", resultType: "matrix", result: v.series.map((s) => ({ metric: mk(s.metric), points: s.ts.map((t, i) => [t, s.vs[i]!] as [number, number]) })) };
  }
}

export async function ourQuery(engine: Engine, q: Querier, query: string, m: Mode): Promise<Norm> {
  try {
    const r = m.kind === "instant" ? await engine.instantQuery(q, query, m.time!) : await engine.rangeQuery(q, query, m.start!, m.end!, m.step!);
    return normValue(r.value);
  } catch (e) {
    if (errorCode(e) === undefined) throw e; // a crash, not an answer: let the test show the stack
    return { status: "error", errorType: errorStatus(e).errorType, error: errorMessage(e) };
  }
}

function sameValue(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/** True when the query's outermost operation defines the order of an instant vector. */
export function orderMatters(query: string): boolean {
  return /^\s*(sort|sort_desc)\s*\(/.test(query) || /^\s*(topk|bottomk)\s*\(/.test(query) && !/\b(by|without)\b/.test(query);
}

/** null when equal, else a short description of the first difference. */
export function diff(query: string, want: Norm, got: Norm): string | null {
  if (want.status !== got.status) {
    return `status: prometheus ${want.status}${want.error ? ` (${want.errorType}: ${want.error})` : ""}, ours ${got.status}${got.error ? ` (${got.errorType}: ${got.error})` : ""}`;
  }
  if (want.status === "error") {
    if (want.errorType !== got.errorType) return `errorType: prometheus ${want.errorType} (${want.error}), ours ${got.errorType} (${got.error})`;
    // Execution errors are the engine's own words; parse errors belong to the parser's tests.
    if (want.errorType === "execution" && want.error !== got.error) return `error message: prometheus ${JSON.stringify(want.error)}, ours ${JSON.stringify(got.error)}`;
    return null;
  }
  if (want.resultType !== got.resultType) return `resultType: prometheus ${want.resultType}, ours ${got.resultType}`;
  if (want.resultType === "scalar") {
    const [wt, wv] = want.scalar!, [gt, gv] = got.scalar!;
    return wt === gt && sameValue(wv, gv) ? null : `scalar: prometheus ${wv}@${wt}, ours ${gv}@${gt}`;
  }
  if (want.resultType === "string") return want.str === got.str ? null : `string: ${want.str} vs ${got.str}`;
  const w = want.result!, g = got.result!;
  if (w.length !== g.length) {
    const wk = new Set(w.map((s) => s.metric)), gk = new Set(g.map((s) => s.metric));
    const missing = [...wk].filter((k) => !gk.has(k)).slice(0, 3), extra = [...gk].filter((k) => !wk.has(k)).slice(0, 3);
    return `series count: prometheus ${w.length}, ours ${g.length}; missing ${missing.join(" ")}; extra ${extra.join(" ")}`;
  }
  const gm = new Map<string, { metric: string; points: [number, number][] }[]>();
  for (const s of g) { const l = gm.get(s.metric) ?? []; l.push(s); gm.set(s.metric, l); }
  for (const s of w) {
    const cands = gm.get(s.metric);
    if (!cands || cands.length === 0) return `series ${s.metric}: missing in ours`;
    const idx = cands.findIndex((c) => samePoints(s.points, c.points) === null);
    if (idx < 0) return `series ${s.metric}: ${samePoints(s.points, cands[0]!.points)}`;
    cands.splice(idx, 1);
  }
  if (want.resultType === "vector" && orderMatters(query)) {
    for (let i = 0; i < w.length; i++) {
      if (!sameValue(w[i]!.points[0]![1], g[i]!.points[0]![1])) return `order: position ${i} prometheus ${w[i]!.metric}=${w[i]!.points[0]![1]}, ours ${g[i]!.metric}=${g[i]!.points[0]![1]}`;
    }
  }
  if (want.resultType === "matrix") {
    for (let i = 0; i < w.length; i++) if (w[i]!.metric !== g[i]!.metric) return `order: matrix position ${i} prometheus ${w[i]!.metric}, ours ${g[i]!.metric}`;
  }
  return null;
}

/**
 * Range queries with topk/bottomk over tied values: Prometheus feeds each step's vector in Go map
 * order, so which of the tied series it keeps changes between identical requests (checked by
 * repeating them). What stays fixed is the multiset of values at each timestamp; compare that.
 */
export function tieRelaxed(query: string, m: Mode, want: Norm, got: Norm): boolean {
  if (m.kind !== "range" || !/\b(topk|bottomk)\s*\(/.test(query)) return false;
  if (want.status !== "success" || got.status !== "success" || want.resultType !== "matrix" || got.resultType !== "matrix") return false;
  const byTime = (n: Norm) => {
    const out = new Map<number, number[]>();
    for (const s of n.result!) for (const [t, v] of s.points) { const l = out.get(t) ?? []; l.push(v); out.set(t, l); }
    for (const l of out.values()) l.sort((a, b) => (Number.isNaN(a) ? 1 : Number.isNaN(b) ? -1 : a - b));
    return out;
  };
  const w = byTime(want), g = byTime(got);
  if (w.size !== g.size) return false;
  for (const [t, wv] of w) {
    const gv = g.get(t);
    if (!gv || gv.length !== wv.length) return false;
    for (let i = 0; i < wv.length; i++) if (!sameValue(wv[i]!, gv[i]!)) return false;
  }
  return true;
}

function samePoints(a: [number, number][], b: [number, number][]): string | null {
  if (a.length !== b.length) {
    const at = new Set(a.map((p) => p[0]));
    const bt = new Set(b.map((p) => p[0]));
    const onlyA = [...at].filter((t) => !bt.has(t)).slice(0, 3), onlyB = [...bt].filter((t) => !at.has(t)).slice(0, 3);
    return `points: prometheus ${a.length}, ours ${b.length} (only prometheus at ${onlyA.join(",")}; only ours at ${onlyB.join(",")})`;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i]![0] !== b[i]![0]) return `point ${i}: time prometheus ${a[i]![0]}, ours ${b[i]![0]}`;
    if (!sameValue(a[i]![1], b[i]![1])) return `point ${i} @${a[i]![0]}: prometheus ${a[i]![1]}, ours ${b[i]![1]}`;
  }
  return null;
}

/** Corpus file: one query per line; blank lines and lines starting with '#' skipped. */
export function readCorpus(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
}

/** known-differences file: query<TAB>reason per line. */
export function readKnown(path: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const tab = line.indexOf("\t");
    if (tab < 0) throw new Error(`${path}: line without a TAB between query and reason: ${line}`);
    out.set(line.slice(0, tab), line.slice(tab + 1));
  }
  return out;
}
