// The ruler's queries to its queriers over the Prometheus HTTP API, as Thanos' ruler sends them
// (cmd/thanos/rule.go queryFuncCreator, pkg/promclient, pkg/rules/queryable.go):
//
// - Instant query per rule evaluation: `POST <base>/api/v1/query` (or GET, --query.http-method), form
//   fields analyze=false, dedup=true, engine=, explain=false, partial_response=true|false (group
//   strategy WARN|ABORT), query=<the expression as Prometheus prints it>, time=<RFC3339Nano>;
//   --query.only-prometheus-params sends only query and time.
// - Clients (one per --query / --query.config entry) are tried in random order, each one's endpoints in
//   random order; the first answer wins. When every one fails the error is Thanos' "no query API server
//   reachable", followed here by what each endpoint said.
// - A scalar answer is one sample without labels; warnings that are not PromQL annotations ("PromQL
//   info: ...", "PromQL warning: ...") are counted (thanos_rule_evaluation_with_warnings_total).
// - Restore in stateless mode (restoreQuerier): ALERTS_FOR_STATE read back through the queriers
//   (dedup=true, partial_response=true), --restore-ignored-label labels removed from the answer. By
//   default as raw samples (an instant query of `{matchers}[window]`), so the restore sees when the
//   alert was last written, exactly as Prometheus' restore from its own TSDB does. Thanos instead runs
//   a `GET query_range` at --query.default-step (rangeQuery: true): its points are step-aligned and
//   carried forward by the lookback, so the last one is "now" and a restart's downtime counts towards
//   `for` (the alert fires earlier than Prometheus' would).
// The deadline of an evaluation is the rules engine's (query.ts): its signal aborts the request.

import { CodedError, errorMessage } from "../encoding/errors.ts";
import { compareLabels, compareStrings, type Label, type Labels } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import type { SampleIterator, Querier, SelectHints, SelectResult, StorageSeries } from "../storage/types.ts";
import type { QueryFunc, Sample } from "./query.ts";
import { queryEscape } from "../alert/notifier.ts";
import { goTimeJSON } from "../encoding/gotext.ts";
import type { PartialResponseStrategy } from "./rulefmt.ts";

/** The part of fetch the client needs (the agent passes globalThis.fetch). */
export type QueryFetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal }) =>
  Promise<{ status: number; text(): Promise<string> }>;

/** One query client: its endpoints (base URLs, resolved now) and the headers its requests carry. */
export interface QueryClient {
  urls(): string[];
  headers?: () => Record<string, string>;
  /** This client's transport (auth, TLS), instead of the options' fetch. */
  fetch?: QueryFetch;
}

export interface HttpQueryOptions {
  clients: () => readonly QueryClient[];
  fetch: QueryFetch;
  /** --query.http-method; default POST. */
  method?: "GET" | "POST";
  /** --query.only-prometheus-params. */
  onlyPrometheusParams?: boolean;
  /** Non-PromQL warnings of a successful answer (Thanos counts and logs them). */
  onWarnings?: (warnings: string[], expr: string, strategy: PartialResponseStrategy) => void;
  /** An endpoint failed (the next one is tried). */
  onError?: (url: string, err: string, expr: string) => void;
  random?: () => number;
  userAgent?: string;
}

/** rand.Perm. */
function perm(n: number, random: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Go's strconv.ParseFloat for the values Prometheus writes ("NaN", "+Inf", "-Inf", decimal). */
export function parsePromFloat(s: string): number {
  switch (s) {
    case "NaN": return NaN;
    case "+Inf": case "Inf": case "inf": case "+inf": return Infinity;
    case "-Inf": case "-inf": return -Infinity;
  }
  const v = Number(s);
  if (s.trim() === "" || Number.isNaN(v)) throw new CodedError("execution", `cannot parse sample value ${JSON.stringify(s)}`);
  return v;
}

/** model.Time's JSON: seconds with up to 3 decimals, as ms. */
function parsePromTime(x: unknown): number {
  const n = typeof x === "number" ? x : Number(x);
  if (!Number.isFinite(n)) throw new CodedError("execution", `cannot parse sample time ${JSON.stringify(x)}`);
  return Math.round(n * 1000);
}

function labelsOf(metric: unknown): Labels {
  if (metric === null || typeof metric !== "object") return [];
  const out: Label[] = [];
  for (const [name, value] of Object.entries(metric as Record<string, unknown>)) out.push({ name, value: String(value) });
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

function isPromQLAnnotation(w: string): boolean {
  return w.startsWith("PromQL info") || w.startsWith("PromQL warning");
}

interface ApiBody {
  status?: string;
  data?: { resultType?: string; result?: unknown };
  error?: string;
  errorType?: string;
  warnings?: string[];
}

/** The Prometheus API answer's `data`, or an error in promclient's words. */
async function apiCall(o: HttpQueryOptions, base: string, path: string, params: [string, string][], method: string, headers: Record<string, string>, signal: AbortSignal, fetchFn: QueryFetch = o.fetch): Promise<ApiBody> {
  // The base URL's own query parameters are kept (promclient parses base.RawQuery).
  const q = base.indexOf("?");
  const plain = (q >= 0 ? base.slice(0, q) : base).replace(/\/+$/, "") + path;
  const all: [string, string][] = [];
  if (q >= 0) {
    for (const kv of base.slice(q + 1).split("&")) {
      if (kv === "") continue;
      const i = kv.indexOf("=");
      const dec = (x: string) => { try { return decodeURIComponent(x.replace(/\+/g, " ")); } catch { return x; } };
      all.push([dec(i < 0 ? kv : kv.slice(0, i)), dec(i < 0 ? "" : kv.slice(i + 1))]);
    }
  }
  all.push(...params);
  const sp = formEncode(all);
  const h: Record<string, string> = { ...headers, "User-Agent": o.userAgent ?? "thanos-rule" };
  let res;
  if (method === "POST") {
    h["Content-Type"] = "application/x-www-form-urlencoded";
    res = await fetchFn(plain, { method, headers: h, body: sp, signal });
  } else {
    res = await fetchFn(`${plain}?${sp}`, { method, headers: h, signal });
  }
  const text = await res.text();
  if (Math.floor(res.status / 100) !== 2) throw new CodedError("unavailable", `expected 2xx response, got ${res.status}. Body: ${text.slice(0, 512)}`);
  try {
    return JSON.parse(text) as ApiBody;
  } catch (e) {
    throw new CodedError("execution", `unmarshal query response: ${errorMessage(e)}`);
  }
}

/** Go's url.Values.Encode: keys sorted (stable for repeated keys), QueryEscape'd. */
function formEncode(kvs: [string, string][]): string {
  const sorted = kvs.map((kv, i) => ({ kv, i })).sort((a, b) => (a.kv[0] < b.kv[0] ? -1 : a.kv[0] > b.kv[0] ? 1 : a.i - b.i));
  return sorted.map(({ kv }) => `${queryEscape(kv[0])}=${queryEscape(kv[1])}`).join("&");
}

function unexpected(m: ApiBody): CodedError {
  if (m.warnings) return new CodedError("execution", `error: ${m.error ?? ""}, type: ${m.errorType ?? ""}, warning: ${m.warnings.join(", ")}`);
  if (m.error) return new CodedError("execution", `error: ${m.error}, type: ${m.errorType ?? ""}`);
  return new CodedError("execution", `received status code: 200, unknown response type: '"${m.data?.resultType ?? ""}"'`);
}

/** Try every endpoint of every client (random orders) until one answers. */
async function firstSuccess<T>(o: HttpQueryOptions, what: string, signal: AbortSignal, call: (base: string, headers: Record<string, string>, fetchFn: QueryFetch) => Promise<T>): Promise<T> {
  const random = o.random ?? Math.random;
  const clients = o.clients();
  const errors: string[] = [];
  for (const ci of perm(clients.length, random)) {
    const c = clients[ci]!;
    const urls = [...new Set(c.urls())];
    for (const ui of perm(urls.length, random)) {
      if (signal.aborted) throw signal.reason ?? new CodedError("canceled", "query canceled");
      const url = urls[ui]!;
      try {
        return await call(url, c.headers?.() ?? {}, c.fetch ?? o.fetch);
      } catch (e) {
        if (signal.aborted) throw signal.reason ?? e;
        const msg = errorMessage(e);
        errors.push(`${url}: ${msg}`);
        o.onError?.(url, msg, what);
      }
    }
  }
  throw new CodedError("unavailable", `no query API server reachable${errors.length ? ": " + errors.join("; ") : ""}`);
}

/** Thanos' rule query function for one partial-response strategy. */
export function httpQueryFunc(o: HttpQueryOptions, strategy: PartialResponseStrategy): QueryFunc {
  const method = o.method ?? "POST";
  return (expr, tMs, signal) => firstSuccess(o, expr, signal, async (base, headers, fetchFn): Promise<Sample[]> => {
    const params: [string, string][] = [["query", expr], ["time", goTimeJSON(tMs)]];
    if (!o.onlyPrometheusParams) {
      params.push(["dedup", "true"], ["explain", "false"], ["analyze", "false"], ["engine", ""], ["partial_response", strategy === "WARN" ? "true" : "false"]);
    }
    const m = await apiCall(o, base, "/api/v1/query", params, method, headers, signal, fetchFn);
    let out: Sample[];
    if (m.data?.resultType === "vector") {
      const r = m.data.result as { metric?: unknown; value?: [unknown, string] }[] | null;
      out = (r ?? []).map((e) => {
        if (!Array.isArray(e.value)) throw new CodedError("execution", "decode result into ValueTypeVector: sample without a value");
        return { metric: labelsOf(e.metric), t: parsePromTime(e.value[0]), v: parsePromFloat(String(e.value[1])) };
      });
    } else if (m.data?.resultType === "scalar") {
      const r = m.data.result as [unknown, string] | null;
      if (!Array.isArray(r)) throw new CodedError("execution", "decode result into ValueTypeScalar: not a [time, value] pair");
      out = [{ metric: [], t: parsePromTime(r[0]), v: parsePromFloat(String(r[1])) }];
    } else {
      throw unexpected(m);
    }
    const warns = (m.warnings ?? []).filter((w) => !isPromQLAnnotation(w));
    if (warns.length > 0) o.onWarnings?.(warns, expr, strategy);
    return out;
  });
}

/** Prometheus' matcher text: {a="b", c=~"d"} (storepb.PromMatchersToString). */
export function matchersString(ms: readonly Matcher[]): string {
  return "{" + ms.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(", ") + "}";
}

class ArraySeries implements StorageSeries {
  constructor(readonly labels: Labels, private readonly ts: number[], private readonly vs: number[]) {}
  iterator(): SampleIterator {
    const ts = this.ts, vs = this.vs;
    let i = -1;
    return {
      next: () => ++i < ts.length,
      seek: (t) => { if (i < 0) i = 0; while (i < ts.length && ts[i]! < t) i++; return i < ts.length; },
      at: () => ts[i]!,
      value: () => vs[i]!,
      // The HTTP API has no staleness markers: a query never returns one.
      isStale: () => false,
      err: () => null,
    };
  }
}

export interface RestoreQuerierOptions extends HttpQueryOptions {
  /** Thanos' query_range instead of raw samples (see the file comment). */
  rangeQuery?: boolean;
  /** --query.default-step (ms) of rangeQuery; Thanos sends whole seconds. */
  stepMs: number;
  /** --restore-ignored-label. */
  ignoredLabels?: readonly string[];
  /** Deadline of one restore query (ms); default 2 minutes. */
  timeoutMs?: number;
}

/**
 * Thanos' promClientsQueryable: a Querier whose select() reads the matchers' samples in the hinted
 * window from the queriers (raw samples, or Thanos' query_range). Failures give an empty answer (logged
 * through onError), as Thanos returns NoopSeriesSet. Only select() is meaningful.
 */
export function restoreQuerier(o: RestoreQuerierOptions): Querier {
  const step = Math.max(1, Math.trunc(o.stepMs / 1000));
  const drop = new Set(o.ignoredLabels ?? []);
  return {
    async select(hints: SelectHints, matchers: Matcher[]): Promise<SelectResult> {
      const query = matchersString(matchers);
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(new CodedError("timeout", `restore query ${query}: no answer in ${o.timeoutMs ?? 120_000} ms`)), o.timeoutMs ?? 120_000);
      try {
        return await firstSuccess(o, query, ctl.signal, async (base, headers, fetchFn) => {
          const params: [string, string][] = o.rangeQuery
            ? [["query", query], ["start", fmtSeconds(hints.start)], ["end", fmtSeconds(hints.end)], ["step", String(step)]]
            : [["query", `${query}[${Math.max(1, hints.end - hints.start)}ms]`], ["time", goTimeJSON(hints.end)]];
          if (!o.onlyPrometheusParams) params.push(["dedup", "true"], ["explain", "false"], ["analyze", "false"], ["engine", ""], ["partial_response", "true"]);
          const m = await apiCall(o, base, o.rangeQuery ? "/api/v1/query_range" : "/api/v1/query", params, "GET", headers, ctl.signal, fetchFn);
          if (m.data?.resultType !== "matrix") throw unexpected(m);
          const series: StorageSeries[] = [];
          for (const s of (m.data.result as { metric?: unknown; values?: [unknown, string][] }[] | null) ?? []) {
            const labels = labelsOf(s.metric).filter((l) => !drop.has(l.name));
            const ts: number[] = [], vs: number[] = [];
            for (const [t, v] of s.values ?? []) { ts.push(parsePromTime(t)); vs.push(parsePromFloat(String(v))); }
            series.push(new ArraySeries(labels, ts, vs));
          }
          series.sort((a, b) => compareLabels(a.labels, b.labels));
          return { series, warnings: m.warnings ?? [] };
        });
      } catch (e) {
        o.onError?.("", errorMessage(e), query);
        return { series: [], warnings: [] };
      } finally {
        clearTimeout(timer);
      }
    },
    async labelNames() { return { names: [], warnings: [] }; },
    async labelValues() { return { values: [], warnings: [] }; },
  };
}

/** promclient formatTime: seconds with millisecond precision. */
function fmtSeconds(ms: number): string {
  return (ms / 1000).toFixed(3).replace(/\.?0+$/, "");
}
