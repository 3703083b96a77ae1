// The Prometheus HTTP query API (Prometheus 2.42 web/api/v1) as a hono app. Runtime-neutral: the
// agent hosts it on Bun, an edge deployment on Workers/Deno. The data source is injected per request
// (`querier(ctx)`), so a fan-out querier can read its own parameters (dedup, partial_response,
// max_source_resolution...) from `ctx.params` and hand back a Querier configured for that request.

import { Hono } from "hono";
import type { Context } from "hono";
import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import { compareLabels, compareStrings, type Labels } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import type { Expr } from "../promql/ast.ts";
import type { QueryOptions, QueryResult } from "../promql/engine.ts";
import { exprType, parseExpr, parseMetricSelector } from "../promql/parser.ts";
import { documentedType } from "../promql/signatures.ts";
import type { Querier } from "../storage/types.ts";
import { errorResponse, labelsJson, queryDataJson, stringsJson, successJson } from "./json.ts";
import { invalidParam, MAX_TIME_MS, MIN_TIME_MS, type Params, parseDurationNs, parseTimeMs, readParams, timeParam } from "./params.ts";

/** What the API needs from the engine (shared/promql/engine.ts Engine satisfies it). */
export interface QueryEngine {
  instantQuery(q: Querier, query: string, timeMs: number, opts?: QueryOptions): Promise<QueryResult>;
  rangeQuery(q: Querier, query: string, startMs: number, endMs: number, stepMs: number, opts?: QueryOptions): Promise<QueryResult>;
  /** Evaluate an already parsed expression (avoids parsing twice); stepMs 0 = instant. */
  exec?(q: Querier, expr: Expr, startMs: number, endMs: number, stepMs: number, opts?: QueryOptions): Promise<QueryResult>;
}

export interface RequestContext {
  /** Form values of the request (POST body first, then URL). */
  params: Params;
  request: Request;
  /** Time range the request reads, ms (for queriers that pick stores by time). */
  mint: number;
  maxt: number;
}

export interface BuildInfo {
  version: string;
  revision: string;
  branch: string;
  buildUser: string;
  buildDate: string;
  goVersion: string;
}

export interface QueryApiOptions {
  engine: QueryEngine;
  querier: (ctx: RequestContext) => Querier | Promise<Querier>;
  /**
   * The lookback delta for a request without `lookback_delta` (undefined: the engine's own), e.g.
   * Thanos' dynamic lookback delta, which grows with max_source_resolution.
   */
  lookbackDelta?: (ctx: RequestContext) => number | undefined;
  /** Clock for `time` defaults (ms). */
  now?: () => number;
  buildInfo?: Partial<BuildInfo>;
  /** /-/ready answers 503 while this returns false. */
  ready?: () => boolean | Promise<boolean>;
  /** Largest (end-start)/step for range queries; Prometheus: 11000. */
  maxPoints?: number;
  /**
   * How answers are compressed when the client accepts gzip or deflate (Grafana, promtool and browsers
   * do; Prometheus and Thanos compress then too). Default: the web CompressionStream (every runtime);
   * null: never (Workers: Cloudflare compresses at its edge, and in-Worker CPU is billed).
   */
  compress?: Compressor | null;
}

export type ContentEncoding = "gzip" | "deflate";
export type Compressor = (body: Uint8Array, encoding: ContentEncoding) => Uint8Array | Promise<Uint8Array>;

/** Below this many bytes an answer goes out as it is (the compressed form would barely be smaller). */
export const COMPRESS_MIN_BYTES = 1024;

/** The web platform's compressor (zlib default level): Bun, Deno, workerd and Node alike. */
export const streamCompressor: Compressor = async (body, encoding) =>
  new Uint8Array(await new Response(new Blob([body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream(encoding))).arrayBuffer());

/**
 * The encoding to answer with for an Accept-Encoding header, as Prometheus picks it (web/api/v1 via
 * util/httputil/compression.go): the first of gzip or deflate the client lists; a `;q=0` entry is a
 * refusal and is skipped.
 */
export function acceptedEncoding(header: string | null): ContentEncoding | null {
  if (!header) return null;
  for (const part of header.split(",")) {
    const [name, ...params] = part.split(";");
    const enc = name!.trim().toLowerCase();
    if (enc !== "gzip" && enc !== "deflate") continue;
    if (params.some((x) => /^\s*q\s*=\s*0(\.0*)?\s*$/i.test(x))) continue;
    return enc;
  }
  return null;
}

/** `res` compressed for `req` when the client accepts it and the body is worth it. */
async function compressed(req: Request, res: Response, compress: Compressor | null): Promise<Response> {
  if (compress === null || res.body === null || res.headers.has("Content-Encoding")) return res;
  const enc = acceptedEncoding(req.headers.get("Accept-Encoding"));
  if (enc === null) return res;
  const raw = new Uint8Array(await res.arrayBuffer());
  const headers = new Headers(res.headers);
  headers.append("Vary", "Accept-Encoding");
  if (raw.length < COMPRESS_MIN_BYTES) return new Response(raw, { status: res.status, headers });
  headers.set("Content-Encoding", enc);
  return new Response((await compress(raw, enc)) as Uint8Array<ArrayBuffer>, { status: res.status, headers });
}

const MAX_POINTS = 11_000;

function json(body: string, status = 200): Response {
  return new Response(body, { status, headers: { "Content-Type": "application/json" } });
}

function badData(msg: string): CodedError {
  return new CodedError("bad_data", msg);
}

export function createQueryApi(opts: QueryApiOptions): Hono {
  const app = new Hono();
  const now = opts.now ?? (() => Date.now());
  const maxPoints = opts.maxPoints ?? MAX_POINTS;
  const compress = opts.compress === undefined ? streamCompressor : opts.compress;
  const build: BuildInfo = {
    version: "0.1.0", revision: "unknown", branch: "", buildUser: "", buildDate: "", goVersion: "",
    ...opts.buildInfo,
  };

  /** GET and POST (form) on one handler; errors become Prometheus error bodies. */
  const route = (path: string, fn: (p: Params, c: Context) => Promise<Response>) => {
    app.on(["GET", "POST"], path, async (c) => {
      let res: Response;
      try {
        res = await fn(await readParams(c.req.raw), c);
      } catch (e) {
        res = errorResponse(e);
      }
      return compressed(c.req.raw, res, compress);
    });
    app.all(path, () => new Response("Method Not Allowed\n", { status: 405, headers: { Allow: "GET, OPTIONS, POST", "Content-Type": "text/plain; charset=utf-8" } }));
  };

  /** timeout and lookback_delta, read before the query like Prometheus does. */
  const queryLimits = (p: Params): { timeoutMs: number; lookbackDelta: number | undefined } => {
    let timeoutMs = 0;
    const to = p.get("timeout");
    if (to !== "") {
      try {
        timeoutMs = parseDurationNs(to) / 1e6;
      } catch (e) {
        throw invalidParam("timeout", (e as Error).message);
      }
    }
    // lookback_delta arrived in Prometheus 2.43; 2.42 (our oracle) ignores the parameter, so an
    // unparsable value is ignored too rather than rejected.
    let lookbackDelta: number | undefined;
    const lb = p.get("lookback_delta");
    if (lb !== "") {
      try {
        const ms = Math.trunc(parseDurationNs(lb) / 1e6);
        if (ms > 0) lookbackDelta = ms;
      } catch {
        lookbackDelta = undefined;
      }
    }
    return { timeoutMs, lookbackDelta };
  };

  const runQuery = async (
    p: Params, c: Context, limits: { timeoutMs: number; lookbackDelta: number | undefined },
    expr: Expr, startMs: number, endMs: number, stepMs: number,
  ): Promise<Response> => {
    const query = p.get("query");
    const ctx: RequestContext = { params: p, request: c.req.raw, mint: startMs, maxt: endMs };
    const timeoutMs = limits.timeoutMs;
    const lookbackDelta = limits.lookbackDelta ?? opts.lookbackDelta?.(ctx);
    const querier = await opts.querier(ctx);
    const ctl = new AbortController();
    let timedOut = false;
    const timer = timeoutMs > 0 ? setTimeout(() => { timedOut = true; ctl.abort(); }, timeoutMs) : undefined;
    const onClientGone = () => ctl.abort();
    c.req.raw.signal?.addEventListener?.("abort", onClientGone);
    const qopts: QueryOptions = { signal: ctl.signal, lookbackDelta };
    try {
      const res = opts.engine.exec
        ? await opts.engine.exec(querier, expr, startMs, endMs, stepMs, qopts)
        : stepMs === 0
          ? await opts.engine.instantQuery(querier, query, startMs, qopts)
          : await opts.engine.rangeQuery(querier, query, startMs, endMs, stepMs, qopts);
      const t0 = Date.now();
      const out = json(successJson(queryDataJson(res.value), res.warnings));
      // Where the time went, for clients and load tests (https://www.w3.org/TR/server-timing/).
      if (res.timings) out.headers.set("Server-Timing", `select;dur=${res.timings.selectMs}, eval;dur=${res.timings.evalMs}, encode;dur=${Date.now() - t0}`);
      return out;
    } catch (e) {
      if (timedOut && (errorCode(e) === "canceled" || errorCode(e) === "timeout")) {
        throw new CodedError("timeout", "query timed out in query execution", { cause: e });
      }
      // A parse/type error from the engine itself is still the query parameter's fault.
      if (errorCode(e) === "bad_data") throw invalidParam("query", errorMessage(e));
      throw e;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      c.req.raw.signal?.removeEventListener?.("abort", onClientGone);
    }
  };

  const parseQuery = (p: Params): Expr => {
    try {
      return parseExpr(p.get("query"));
    } catch (e) {
      throw invalidParam("query", errorMessage(e));
    }
  };

  route("/api/v1/query", async (p, c) => {
    const t = timeParam(p, "time", now());
    const limits = queryLimits(p);
    const expr = parseQuery(p);
    return await runQuery(p, c, limits, expr, t, t, 0);
  });

  route("/api/v1/query_range", async (p, c) => {
    const start = requiredTime(p, "start");
    const end = requiredTime(p, "end");
    if (end < start) throw invalidParam("end", "end timestamp must not be before start time");
    let stepNs: number;
    try {
      stepNs = parseDurationNs(p.get("step"));
    } catch (e) {
      throw invalidParam("step", (e as Error).message);
    }
    if (stepNs <= 0) throw invalidParam("step", "zero or negative query resolution step widths are not accepted. Try a positive integer");
    // Go: end.Sub(start)/step > 11000 in integer nanoseconds.
    if (Math.floor(((end - start) * 1e6) / stepNs) > maxPoints) {
      throw badData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
    }
    const limits = queryLimits(p);
    const expr = parseQuery(p);
    const t = exprType(expr);
    if (t !== "vector" && t !== "scalar") {
      // Prometheus reports this one without the `invalid parameter "query": ` prefix.
      throw badData(`invalid expression type ${JSON.stringify(documentedType(t))} for range query, must be Scalar or instant Vector`);
    }
    return await runQuery(p, c, limits, expr, start, end, Math.max(1, Math.trunc(stepNs / 1e6)));
  });

  route("/api/v1/series", async (p, c) => {
    if (!p.has("match[]")) throw badData("no match[] parameter provided");
    const start = timeParam(p, "start", MIN_TIME_MS);
    const end = timeParam(p, "end", MAX_TIME_MS);
    const sets = matcherSets(p.all("match[]"));
    const q = await opts.querier({ params: p, request: c.req.raw, mint: start, maxt: end });
    const results = await Promise.all(sets.map((ms) => q.select({ start, end, func: "series" }, ms)));
    const all: Labels[] = [];
    const warnings: string[] = [];
    for (const r of results) {
      for (const s of r.series) all.push(s.labels);
      warnings.push(...r.warnings);
    }
    all.sort(compareLabels);
    const uniq = all.filter((ls, i) => i === 0 || compareLabels(all[i - 1]!, ls) !== 0);
    return json(successJson(`[${uniq.map(labelsJson).join(",")}]`, warnings));
  });

  route("/api/v1/labels", async (p, c) => {
    const start = timeParam(p, "start", MIN_TIME_MS);
    const end = timeParam(p, "end", MAX_TIME_MS);
    const sets = matcherSets(p.all("match[]"));
    const q = await opts.querier({ params: p, request: c.req.raw, mint: start, maxt: end });
    const results = await Promise.all((sets.length > 0 ? sets : [[]]).map((ms) => q.labelNames(start, end, ms)));
    return json(successJson(stringsJson(sortedUnion(results.map((r) => r.names))), results.flatMap((r) => r.warnings)));
  });

  route("/api/v1/label/:name/values", async (p, c) => {
    const name = c.req.param("name") ?? "";
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) throw badData(`invalid label name: ${JSON.stringify(name)}`);
    const start = timeParam(p, "start", MIN_TIME_MS);
    const end = timeParam(p, "end", MAX_TIME_MS);
    const sets = matcherSets(p.all("match[]"));
    const q = await opts.querier({ params: p, request: c.req.raw, mint: start, maxt: end });
    const results = await Promise.all((sets.length > 0 ? sets : [[]]).map((ms) => q.labelValues(name, start, end, ms)));
    return json(successJson(stringsJson(sortedUnion(results.map((r) => r.values))), results.flatMap((r) => r.warnings)));
  });

  // No exemplars or metadata are stored; the endpoints answer like a Prometheus that has none, so
  // Grafana's Prometheus data source works unchanged.
  route("/api/v1/query_exemplars", async (p) => {
    const start = timeParam(p, "start", MIN_TIME_MS);
    const end = timeParam(p, "end", MAX_TIME_MS);
    if (end < start) throw badData("end timestamp must not be before start timestamp");
    let expr: Expr;
    try {
      expr = parseExpr(p.get("query"));
    } catch (e) {
      throw badData(errorMessage(e)); // no `invalid parameter` prefix here in Prometheus
    }
    // Prometheus answers 204 with no body when the query has no selector at all.
    return hasSelector(expr) ? json(successJson("[]")) : new Response(null, { status: 204 });
  });

  route("/api/v1/metadata", async () => json(successJson("{}")));

  route("/api/v1/status/buildinfo", async () => {
    const b = build;
    const data = `{"version":${jstr(b.version)},"revision":${jstr(b.revision)},"branch":${jstr(b.branch)},"buildUser":${jstr(b.buildUser)},"buildDate":${jstr(b.buildDate)},"goVersion":${jstr(b.goVersion)}}`;
    return json(successJson(data));
  });

  app.on(["GET", "HEAD"], "/-/healthy", () => text("Prometheus Server is Healthy.\n"));
  app.on(["GET", "HEAD"], "/-/ready", async () => {
    if (opts.ready && !(await opts.ready())) return text("Service Unavailable", 503);
    return text("Prometheus Server is Ready.\n");
  });

  return app;
}

function hasSelector(e: Expr): boolean {
  switch (e.kind) {
    case "VectorSelector": case "MatrixSelector": return true;
    case "NumberLiteral": case "StringLiteral": return false;
    case "Call": return e.args.some(hasSelector);
    case "AggregateExpr": return hasSelector(e.expr) || (e.param !== null && hasSelector(e.param));
    case "BinaryExpr": return hasSelector(e.lhs) || hasSelector(e.rhs);
    default: return hasSelector(e.expr);
  }
}

function jstr(s: string): string {
  return stringsJson([s]).slice(1, -1);
}

function text(body: string, status = 200): Response {
  return new Response(body, { status, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

function requiredTime(p: Params, name: string): number {
  try {
    return parseTimeMs(p.get(name));
  } catch (e) {
    throw invalidParam(name, (e as Error).message);
  }
}

/** match[] values as matcher sets (Prometheus parseMatchersParam). */
export function matcherSets(values: string[]): Matcher[][] {
  const sets: Matcher[][] = [];
  for (const v of values) {
    try {
      sets.push(parseMetricSelector(v));
    } catch (e) {
      throw invalidParam("match[]", errorMessage(e));
    }
  }
  for (const ms of sets) {
    if (!ms.some((m) => !m.matches(""))) throw invalidParam("match[]", "match[] must contain at least one non-empty matcher");
  }
  return sets;
}

function sortedUnion(lists: string[][]): string[] {
  const set = new Set<string>();
  for (const l of lists) for (const x of l) set.add(x);
  return [...set].sort(compareStrings);
}
