// The PromQL evaluation engine (Prometheus 2.42 promql/engine.go semantics). A query is evaluated in
// two phases, like Prometheus: first every selector is selected through the Querier (with hints:
// start/end/step/range/func/grouping), then the tree is evaluated over all steps at once. Each node
// yields a matrix (one point per step per series); instant queries are one-step range queries.
//
// `@` is handled directly (a selector with `@ t` reads at t - offset at every step) rather than by
// Prometheus' step-invariant rewrite; the answers are the same.

import { labelsString, METRIC_NAME, type Labels } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import { CodedError, errorCode } from "../encoding/errors.ts";
import type { Querier, StorageSeries } from "../storage/types.ts";
import type { AggregateExpr, AtModifier, BinaryExpr, Call, Expr, MatrixSelector, SubqueryExpr, ValueType, VectorSelector } from "./ast.ts";
import type { EvalValue, Sample, Series, Vector } from "./value.ts";
import { compareSeries, dropMetricName, withoutMetricName, goPow, keepLabels, labelsKey, signature } from "./value.ts";
import { absentLabels, RANGE_FUNCTIONS, VECTOR_FUNCTIONS, type RangeWindow, type StepArg, type StepCtx } from "./functions.ts";
import { aggregate, AggrCache, type AggrSpec } from "./aggregate.ts";
import { meanStep, quantile } from "./functions.ts";
import { vectorBinop, vectorScalarBinop, scalarBinop, setOp, BinopCache } from "./binop.ts";
import { parseExpr } from "./parser.ts";
import { isArraySeries, SampleBuffer, staleAt } from "../tsdb/querier.ts";
import { evalScheduler } from "./scheduler.ts";

export type PromValue =
  | { type: "scalar"; t: number; v: number }
  | { type: "string"; t: number; v: string }
  | { type: "vector"; samples: { metric: Labels; t: number; v: number }[] }
  | { type: "matrix"; series: { metric: Labels; ts: number[]; vs: number[] }[] };

export interface QueryResult {
  value: PromValue;
  warnings: string[];
  /** Wall time of the phases (ms): selecting every selector's series, then evaluating. */
  timings?: { selectMs: number; evalMs: number };
}

export interface EngineOptions {
  /** ms; default 5m. */
  lookbackDelta?: number;
  /** Most samples held in memory at once; default 50M (Prometheus --query.max-samples). */
  maxSamples?: number;
  /** ms; default 2m. */
  timeoutMs?: number;
  /** Subquery step when none is given (ms); default 1m (Prometheus' global evaluation_interval). */
  noStepSubqueryInterval?: number;
  /**
   * How evaluations sharing this thread take turns when they yield: "arrival" (default) resumes the
   * oldest query first (shared/promql/scheduler.ts); "round-robin" resumes them in yield order
   * (each gets an equal share; the long ones then wait the longest). For comparison in benches.
   */
  evalOrder?: "arrival" | "round-robin";
}

export interface QueryOptions {
  signal?: AbortSignal;
  lookbackDelta?: number;
}

export const TOO_MANY_SAMPLES = "query processing would load too many samples into memory in query execution";

const DAY_MS = 86_400_000;

/** Aggregations without a parameter that aggregateSeries evaluates series by series. */
const SERIES_MAJOR_OPS: ReadonlySet<string> = new Set(["sum", "avg", "count", "min", "max", "group", "stddev", "stdvar"]);
const EMPTY_F64 = new Float64Array(0);
const SERIES_MAJOR_MAX_CELLS = 4_000_000;

export class Engine {
  readonly lookbackDelta: number;
  readonly maxSamples: number;
  readonly timeoutMs: number;
  readonly noStepSubqueryInterval: number;
  readonly evalOrder: "arrival" | "round-robin";

  constructor(opts: EngineOptions = {}) {
    this.evalOrder = opts.evalOrder ?? "arrival";
    this.lookbackDelta = opts.lookbackDelta ?? 5 * 60_000;
    this.maxSamples = opts.maxSamples ?? 50_000_000;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.noStepSubqueryInterval = opts.noStepSubqueryInterval ?? 60_000;
  }

  async instantQuery(q: Querier, query: string, timeMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    return await this.exec(q, parseExpr(query), timeMs, timeMs, 0, opts);
  }

  async rangeQuery(q: Querier, query: string, startMs: number, endMs: number, stepMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    return await this.exec(q, parseExpr(query), startMs, endMs, stepMs, opts);
  }

  /**
   * Evaluate a parsed expression: instant when stepMs is 0 (start must equal end), range otherwise.
   * Exported for callers that hold an AST already.
   */
  async exec(q: Querier, expr: Expr, startMs: number, endMs: number, stepMs: number, opts: QueryOptions = {}): Promise<QueryResult> {
    const isRange = stepMs > 0;
    if (isRange) {
      const t = exprType(expr);
      if (t !== "scalar" && t !== "vector") {
        throw new CodedError("bad_data", `invalid expression type "${typeName(t)}" for range query, must be Scalar or instant Vector`);
      }
      if (endMs < startMs) throw new CodedError("bad_data", "end timestamp must not be before start time");
    }
    const deadline = Date.now() + this.timeoutMs;
    const lookback = opts.lookbackDelta && opts.lookbackDelta > 0 ? opts.lookbackDelta : this.lookbackDelta;
    const signal = opts.signal;
    const prio = this.evalOrder === "arrival" ? evalScheduler.next() : -1;
    const ctl: Control = { deadline, signal, maxSamples: this.maxSamples, samples: 0, ticks: 0, lastYield: Date.now(), prio };
    checkAbort(ctl);
    const t0 = Date.now();

    // Phase 1: select every selector with Prometheus-like hints.
    const selections = new Map<VectorSelector, StorageSeries[]>();
    const warnings: string[] = [];
    const jobs: Promise<void>[] = [];
    walkSelectors(expr, { start: startMs, end: endMs, qs: startMs, qe: endMs }, null, null, (vs, start, end, range, func, grouping) => {
      const hints = {
        start: start - (range > 0 ? range : lookback),
        end,
        step: stepMs,
        range,
        func: func ?? undefined,
        grouping: grouping?.grouping,
        by: grouping ? !grouping.without : undefined,
        signal,
      };
      hints.start -= vs.offset;
      hints.end -= vs.offset;
      jobs.push(q.select(hints, vs.matchers as Matcher[]).then((r) => {
        selections.set(vs, r.series);
        warnings.push(...r.warnings);
      }));
    });
    try {
      await withDeadline(Promise.all(jobs), ctl);
    } catch (e) {
      if (signal?.aborted) throw new CodedError("canceled", "query was canceled in query execution", { cause: e });
      throw e;
    }
    checkAbort(ctl);
    const t1 = Date.now();
    // Phase 2 takes its turn: an older query part-way through its evaluation goes first.
    if (prio >= 0 && evalScheduler.pending > 0) await yieldNow(ctl);

    // Phase 2: evaluate.
    const ev = new Evaluator(ctl, selections, lookback, this.noStepSubqueryInterval, startMs, endMs, isRange ? stepMs : 1, startMs, endMs);
    const val = await ev.eval(expr);
    const value = resultValue(val, exprType(expr), isRange, startMs);
    return { value, warnings, timings: { selectMs: t1 - t0, evalMs: Date.now() - t1 } };
  }
}

/** The evaluated root as the API's value: range queries a sorted matrix, instant ones by the expression's type. */
function resultValue(val: EvalValue, type: ValueType, isRange: boolean, startMs: number): PromValue {
  if (val.kind === "string") return { type: "string", t: startMs, v: val.v };
  const series = val.series;
  if (isRange) {
    const out = series.filter((s) => s.ts.length > 0).sort(compareSeries);
    return { type: "matrix", series: out.map((s) => ({ metric: s.metric, ts: s.ts, vs: s.vs })) };
  }
  switch (type) {
    case "scalar": {
      const s = series[0];
      return { type: "scalar", t: startMs, v: s && s.vs.length > 0 ? s.vs[0]! : NaN };
    }
    case "vector":
      return { type: "vector", samples: series.filter((s) => s.ts.length > 0).map((s) => ({ metric: s.metric, t: startMs, v: s.vs[0]! })) };
    default:
      return { type: "matrix", series: series.filter((s) => s.ts.length > 0).map((s) => ({ metric: s.metric, ts: s.ts, vs: s.vs })) };
  }
}

/**
 * Wait for the select phase, but no longer than the query deadline and not past cancellation: a
 * store that never answers must not hang the query (it still sees the signal in its hints).
 */
function withDeadline<T>(p: Promise<T>, c: Control): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = () => { done = true; clearTimeout(timer); c.signal?.removeEventListener("abort", onAbort); };
    const onAbort = () => { if (!done) { finish(); reject(new CodedError("canceled", "query was canceled in query execution")); } };
    const timer = setTimeout(() => {
      if (!done) { finish(); reject(new CodedError("timeout", "query timed out in query execution")); }
    }, Math.max(0, c.deadline - Date.now()));
    c.signal?.addEventListener("abort", onAbort, { once: true });
    p.then((v) => { if (!done) { finish(); resolve(v); } }, (e) => { if (!done) { finish(); reject(e); } });
  });
}

interface Control {
  deadline: number;
  signal: AbortSignal | undefined;
  maxSamples: number;
  samples: number;
  ticks: number;
  lastYield: number;
  /** Turn order at yields (scheduler.ts); -1: round-robin (a plain macrotask). */
  prio: number;
}

function checkAbort(c: Control): void {
  if (c.signal?.aborted) throw new CodedError("canceled", "query was canceled in query execution");
  if (Date.now() > c.deadline) throw new CodedError("timeout", "query timed out in query execution");
}

/**
 * Called in evaluation loops: true about every 20 ms of evaluation, when the caller should
 * `await yieldNow()`: a macrotask, so an AbortSignal fired by a disconnect or a timer is seen and other
 * requests keep being served (the oldest query's evaluation first, scheduler.ts). Otherwise a counter
 * and, every 32 calls, a clock read (no promise).
 */
function tick(c: Control): boolean {
  if ((++c.ticks & 31) !== 0) return false;
  checkAbort(c);
  return Date.now() - c.lastYield > 20;
}

async function yieldNow(c: Control): Promise<void> {
  if (c.prio >= 0) await evalScheduler.yield(c.prio);
  else await new Promise<void>((r) => setTimeout(() => r(), 0));
  c.lastYield = Date.now();
  checkAbort(c);
}

function tooMany(): CodedError {
  return new CodedError("resource_exhausted", TOO_MANY_SAMPLES);
}

// ---------------------------------------------------------------------------------------------
// Types

export function exprType(e: Expr): ValueType {
  switch (e.kind) {
    case "NumberLiteral": return "scalar";
    case "StringLiteral": return "string";
    case "VectorSelector": return "vector";
    case "MatrixSelector": case "SubqueryExpr": return "matrix";
    case "Call": return e.func === "pi" || e.func === "time" || e.func === "scalar" ? "scalar" : "vector";
    case "AggregateExpr": return "vector";
    case "BinaryExpr": return exprType(e.lhs) === "scalar" && exprType(e.rhs) === "scalar" ? "scalar" : "vector";
    case "UnaryExpr": case "ParenExpr": case "StepInvariantExpr": return exprType(e.expr);
  }
}

function typeName(t: ValueType): string {
  return t === "matrix" ? "range vector" : t === "vector" ? "instant vector" : t;
}

function unwrap(e: Expr): Expr {
  while (e.kind === "ParenExpr" || e.kind === "StepInvariantExpr") e = e.expr;
  return e;
}

// ---------------------------------------------------------------------------------------------
// Selection planning

interface Span { start: number; end: number; qs: number; qe: number }

function atTime(at: AtModifier, span: Span): number | null {
  if (!at) return null;
  return at.at === "time" ? at.ms : at.at === "start" ? span.qs : span.qe;
}

type SelectFn = (vs: VectorSelector, start: number, end: number, range: number, func: string | null, grouping: { grouping: string[]; without: boolean } | null) => void;

/**
 * Visit every selector with the hints Prometheus' populateSeries gives it: `func` is the nearest
 * enclosing function or aggregation (a binary operator in between clears it), `grouping` is set only
 * when the selector's immediate parent is an aggregation.
 */
function walkSelectors(e: Expr, span: Span, func: string | null, grouping: { grouping: string[]; without: boolean } | null, f: SelectFn): void {
  switch (e.kind) {
    case "VectorSelector": {
      const at = atTime(e.at, span);
      f(e, at ?? span.start, at ?? span.end, 0, func, grouping);
      return;
    }
    case "MatrixSelector": {
      const at = atTime(e.vs.at, span);
      f(e.vs, at ?? span.start, at ?? span.end, e.range, func, null);
      return;
    }
    case "SubqueryExpr": {
      const at = atTime(e.at, span);
      const end = (at ?? span.end) - e.offset;
      const start = (at ?? span.start) - e.offset - e.range;
      walkSelectors(e.expr, { start, end, qs: span.qs, qe: span.qe }, func, null, f);
      return;
    }
    case "Call":
      for (const a of e.args) walkSelectors(a, span, e.func, null, f);
      return;
    case "AggregateExpr": {
      const g = { grouping: e.grouping, without: e.without };
      if (e.param) walkSelectors(e.param, span, e.op, g, f);
      walkSelectors(e.expr, span, e.op, g, f);
      return;
    }
    case "BinaryExpr":
      walkSelectors(e.lhs, span, null, null, f);
      walkSelectors(e.rhs, span, null, null, f);
      return;
    case "UnaryExpr": case "ParenExpr": case "StepInvariantExpr":
      walkSelectors(e.expr, span, func, null, f);
      return;
    default:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

/**
 * Reusable per-series sample buffer (one series is loaded at a time): the samples to evaluate are
 * [lo, hi) of the buffer's arrays; staleness is in the value bits (staleAt).
 */
class SampleBuf {
  readonly b = new SampleBuffer(1024);
  lo = 0;
  hi = 0;
}

function lowerBound(ts: Float64Array, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(ts: Float64Array, lo: number, hi: number, t: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class Evaluator {
  private readonly buf = new SampleBuf();
  private readonly win = new SampleBuf();

  constructor(
    private readonly ctl: Control,
    private readonly sel: Map<VectorSelector, StorageSeries[]>,
    private readonly lookback: number,
    private readonly subqStep: number,
    readonly start: number,
    readonly end: number,
    readonly interval: number,
    private readonly qs: number,
    private readonly qe: number,
  ) {
    // Every node holds up to one point per step per series: refuse step counts that could not fit
    // under the sample limit before allocating anything (a `[30d:1ms]` subquery, a 1ms range step).
    if (this.steps > ctl.maxSamples - ctl.samples) throw tooMany();
  }

  private get steps(): number {
    return Math.floor((this.end - this.start) / this.interval) + 1;
  }

  private atOf(at: AtModifier): number | null {
    if (!at) return null;
    return at.at === "time" ? at.ms : at.at === "start" ? this.qs : this.qe;
  }

  private addSamples(n: number): void {
    this.ctl.samples += n;
    if (this.ctl.samples > this.ctl.maxSamples) throw tooMany();
  }

  /** Load one storage series' samples in [mint, maxt] (stale markers kept in the bits, or dropped) into `w`. */
  private load(s: StorageSeries, mint: number, maxt: number, w: SampleBuf, dropStale: boolean): void {
    const b = w.b;
    if (isArraySeries(s)) {
      // The whole series at once into the reused buffer, then the window by binary search.
      try {
        s.samplesInto(b);
      } catch (e) {
        readError(s, e as Error);
      }
      const lo = lowerBound(b.ts, 0, b.n, mint);
      let hi = upperBound(b.ts, lo, b.n, maxt);
      if (dropStale) {
        const vs = b.vs;
        let m = lo;
        for (let j = lo; j < hi; j++) {
          const v = vs[j]!;
          if (v !== v && staleAt(b, j)) continue;
          if (m !== j) { b.ts[m] = b.ts[j]!; b.bits[2 * m] = b.bits[2 * j]!; b.bits[2 * m + 1] = b.bits[2 * j + 1]!; }
          m++;
        }
        hi = m;
      }
      w.lo = lo; w.hi = hi;
      return;
    }
    const it = s.iterator();
    b.n = 0;
    if (it.seek(mint)) {
      do {
        const t = it.at();
        if (t > maxt) break;
        const st = it.isStale();
        if (st && dropStale) continue;
        b.push(t, it.value(), st);
      } while (it.next());
    }
    w.lo = 0; w.hi = b.n;
    const err = it.err();
    if (err) readError(s, err);
  }

  private series(vs: VectorSelector): StorageSeries[] {
    const s = this.sel.get(vs);
    if (!s) throw new CodedError("internal", "selector was not selected before evaluation");
    return s;
  }

  async eval(e: Expr): Promise<EvalValue> {
    if (tick(this.ctl)) await yieldNow(this.ctl);
    switch (e.kind) {
      case "NumberLiteral": {
        const n = this.steps;
        const ts: number[] = new Array(n), vs: number[] = new Array(n);
        for (let i = 0; i < n; i++) { ts[i] = this.start + i * this.interval; vs[i] = e.val; }
        return { kind: "matrix", series: [{ metric: [], ts, vs }] };
      }
      case "StringLiteral":
        return { kind: "string", v: e.val };
      case "ParenExpr": case "StepInvariantExpr":
        return await this.eval(e.expr);
      case "UnaryExpr": {
        const v = await this.eval(e.expr);
        if (e.op === "+" || v.kind !== "matrix") return v;
        const out = v.series.map((s) => ({ metric: dropMetricName(s.metric), ts: s.ts, vs: s.vs.map((x) => -x) }));
        checkDuplicates(out, v.series);
        return { kind: "matrix", series: out };
      }
      case "VectorSelector":
        return { kind: "matrix", series: await this.vectorSelector(e) };
      case "MatrixSelector":
        return { kind: "matrix", series: await this.matrixSelector(e) };
      case "SubqueryExpr":
        return { kind: "matrix", series: await this.subquery(e) };
      case "Call":
        return { kind: "matrix", series: await this.call(e) };
      case "AggregateExpr":
        return { kind: "matrix", series: await this.aggregation(e) };
      case "BinaryExpr":
        return { kind: "matrix", series: await this.binary(e) };
    }
  }

  private async vectorSelector(e: VectorSelector, sink?: SeriesAggregator): Promise<Series[]> {
    const at = this.atOf(e.at);
    const n = this.steps;
    const out: Series[] = [];
    const mint = (at ?? this.start) - e.offset - this.lookback;
    const maxt = (at ?? this.end) - e.offset;
    const w = this.buf, b = w.b;
    if (this.outIdx.length < n) { this.outIdx = new Int32Array(n); this.outVals = new Float64Array(n); }
    const oIdx = this.outIdx, oVals = this.outVals;
    let sunk = 0;
    for (const s of this.series(e)) {
      if (tick(this.ctl)) await yieldNow(this.ctl);
      this.load(s, mint, maxt, w, false);
      const lo = w.lo, hi = w.hi;
      if (hi === lo) continue;
      let m = 0;
      let j = lo; // index of first sample > refTime
      for (let i = 0; i < n; i++) {
        const step = this.start + i * this.interval;
        const ref = (at ?? step) - e.offset;
        if (at !== null) j = upperBound(b.ts, lo, hi, ref);
        else while (j < hi && b.ts[j]! <= ref) j++;
        if (j === lo) continue;
        const k = j - 1;
        if (b.ts[k]! < ref - this.lookback || staleAt(b, k)) continue;
        oIdx[m] = i;
        oVals[m] = b.vs[k]!;
        m++;
      }
      if (m > 0) {
        this.addSamples(m);
        if (sink) { sink.add(s.labels, sunk++, oIdx, oVals, m); continue; }
        const ts: number[] = new Array(m), vs: number[] = new Array(m);
        for (let p = 0; p < m; p++) { ts[p] = this.start + oIdx[p]! * this.interval; vs[p] = oVals[p]!; }
        out.push({ metric: s.labels, ts, vs });
      }
    }
    return out;
  }

  /** Instant-query evaluation of a bare range selector: the raw points in the window. */
  private async matrixSelector(e: MatrixSelector): Promise<Series[]> {
    if (this.start !== this.end) throw new CodedError("execution", "cannot do range evaluation of matrix selector");
    const at = this.atOf(e.vs.at);
    const maxt = (at ?? this.start) - e.vs.offset;
    const mint = maxt - e.range;
    const out: Series[] = [];
    const w = this.buf, b = w.b;
    for (const s of this.series(e.vs)) {
      if (tick(this.ctl)) await yieldNow(this.ctl);
      this.load(s, mint, maxt, w, true);
      if (w.hi === w.lo) continue;
      this.addSamples(w.hi - w.lo);
      out.push({ metric: s.labels, ts: Array.from(b.ts.subarray(w.lo, w.hi)), vs: Array.from(b.vs.subarray(w.lo, w.hi)) });
    }
    return out;
  }

  private async subquery(e: SubqueryExpr): Promise<Series[]> {
    const interval = e.step > 0 ? e.step : this.subqStep;
    const at = this.atOf(e.at);
    const end = (at ?? this.end) - e.offset;
    const start0 = (at ?? this.start) - e.offset - e.range;
    // First timestamp at or after start0 that is a multiple of the step (Go integer division truncates).
    let start = interval * Math.trunc(start0 / interval);
    if (start < start0) start += interval;
    const ev = new Evaluator(this.ctl, this.sel, this.lookback, this.subqStep, start, end, interval, this.qs, this.qe);
    if (end < start) return [];
    const v = await ev.eval(e.expr);
    if (v.kind !== "matrix") throw new CodedError("execution", "subquery over a string");
    return v.series;
  }

  // ---- functions ----

  private async call(e: Call): Promise<Series[]> {
    const name = e.func;
    if (name === "timestamp") {
      const a = unwrap(e.args[0]!);
      if (a.kind === "VectorSelector") return await this.timestampOfSelector(a);
    }
    let mi = -1;
    for (let i = 0; i < e.args.length; i++) {
      const a = unwrap(e.args[i]!);
      if (a.kind === "MatrixSelector" || a.kind === "SubqueryExpr") { mi = i; break; }
    }
    if (mi >= 0) return await this.rangeCall(e, mi);
    const fn = VECTOR_FUNCTIONS[name];
    if (name === "absent") {
      const lbls = absentLabels(e.args[0]);
      return await this.rangeEval([e.args[0]!], (args, c) => ((args[0] as Vector).length > 0 ? [] : [{ metric: lbls, t: c.ts, v: 1 }]));
    }
    if (!fn) throw new CodedError("bad_data", `unknown function with name ${JSON.stringify(name)}`);
    const cache = new Map<string, unknown>();
    return await this.rangeEval(e.args, (args, c) => fn(args, e, { ts: c.ts, cache }));
  }

  private async timestampOfSelector(e: VectorSelector): Promise<Series[]> {
    const at = this.atOf(e.at);
    const n = this.steps;
    const out: Series[] = [];
    const mint = (at ?? this.start) - e.offset - this.lookback;
    const maxt = (at ?? this.end) - e.offset;
    const w = this.buf, b = w.b;
    for (const s of this.series(e)) {
      if (tick(this.ctl)) await yieldNow(this.ctl);
      this.load(s, mint, maxt, w, false);
      if (w.hi === w.lo) continue;
      const ts: number[] = [], vs: number[] = [];
      for (let i = 0; i < n; i++) {
        const step = this.start + i * this.interval;
        const ref = (at ?? step) - e.offset;
        const j = upperBound(b.ts, w.lo, w.hi, ref);
        if (j === w.lo) continue;
        const k = j - 1;
        if (b.ts[k]! < ref - this.lookback || staleAt(b, k)) continue;
        ts.push(step);
        vs.push(b.ts[k]! / 1000);
      }
      if (ts.length > 0) {
        this.addSamples(ts.length);
        out.push({ metric: withoutMetricName(s.labels), ts, vs });
      }
    }
    checkDuplicates(out, this.series(e));
    return out;
  }

  /** A function over a range vector (selector or subquery), one series at a time. */
  private async rangeCall(e: Call, mi: number, sink?: SeriesAggregator): Promise<Series[]> {
    const fn = RANGE_FUNCTIONS[e.func];
    if (!fn) throw new CodedError("bad_data", `function ${JSON.stringify(e.func)} does not take a range vector`);
    const n = this.steps;
    // Scalar arguments, evaluated over all steps (no gaps: scalars have a value at every step).
    const scalarArgs: number[][] = [];
    for (let i = 0; i < e.args.length; i++) {
      if (i === mi) continue;
      const v = await this.eval(e.args[i]!);
      if (v.kind !== "matrix" || v.series.length !== 1) throw new CodedError("execution", `argument ${i + 1} of ${e.func} is not a scalar`);
      scalarArgs.push(v.series[0]!.vs);
    }
    const arg = unwrap(e.args[mi]!) as MatrixSelector | SubqueryExpr;
    let range: number, offset: number, at: number | null;
    let inputs: { metric: Labels; fill(b: SampleBuf, mint: number, maxt: number): void }[];
    if (arg.kind === "MatrixSelector") {
      range = arg.range; offset = arg.vs.offset; at = this.atOf(arg.vs.at);
      inputs = this.series(arg.vs).map((s) => ({ metric: s.labels, fill: (b, mint, maxt) => this.load(s, mint, maxt, b, true) }));
    } else {
      range = arg.range; offset = arg.offset; at = this.atOf(arg.at);
      inputs = (await this.subquery(arg)).map((s) => ({
        metric: s.metric,
        fill: (w) => {
          const b = w.b;
          b.n = 0;
          b.reserve(s.ts.length);
          for (let i = 0; i < s.ts.length; i++) { b.ts[i] = s.ts[i]!; b.vs[i] = s.vs[i]!; }
          b.n = s.ts.length;
          w.lo = 0; w.hi = b.n;
        },
      }));
    }
    const keepName = e.func === "last_over_time";
    const slide = e.func === "predict_linear";
    const out: Series[] = [];
    const w = this.win, b = w.b;
    const win: RangeWindow = { ts: b.ts, vs: b.vs, lo: 0, hi: 0 };
    const scalars: number[] = new Array(scalarArgs.length);
    const rc = { stepTs: 0, rangeStart: 0, rangeEnd: 0, rangeMs: range, scalars };
    const mintAll = (at ?? this.start) - offset - range;
    const maxtAll = (at ?? this.end) - offset;
    // One series' results: step indexes and values (scratch), then arrays of exactly that size (or
    // straight into an aggregation: `sink`).
    if (this.outIdx.length < n) { this.outIdx = new Int32Array(n); this.outVals = new Float64Array(n); }
    const oIdx = this.outIdx, oVals = this.outVals;
    const sunk: { metric: Labels }[] = [];
    for (const input of inputs) {
      if (tick(this.ctl)) await yieldNow(this.ctl);
      input.fill(w, mintAll, maxtAll);
      const wlo = w.lo, whi = w.hi;
      if (whi === wlo) continue;
      const wts = b.ts;
      win.ts = wts; win.vs = b.vs;
      let k = 0;
      let lo = wlo, hi = wlo;
      for (let i = 0; i < n; i++) {
        const step = this.start + i * this.interval;
        // predict_linear is "@-unsafe" in Prometheus: its @ argument is read once (at the query start)
        // but the window still moves with the step over those points; 2.42 answers exactly so.
        const maxt = at === null ? step - offset : slide ? at - offset + (step - this.start) : at - offset;
        const mint = maxt - range;
        if (at !== null) { lo = lowerBound(wts, wlo, whi, mint); hi = upperBound(wts, lo, whi, maxt); }
        else {
          while (lo < whi && wts[lo]! < mint) lo++;
          if (hi < lo) hi = lo;
          while (hi < whi && wts[hi]! <= maxt) hi++;
        }
        if (hi === lo) continue;
        if (this.ctl.samples + (hi - lo) > this.ctl.maxSamples) throw tooMany();
        for (let k = 0; k < scalars.length; k++) scalars[k] = scalarArgs[k]![i]!;
        win.lo = lo; win.hi = hi;
        rc.stepTs = step; rc.rangeStart = mint; rc.rangeEnd = maxt;
        const r = fn(win, rc);
        if (r === null) continue;
        oIdx[k] = i;
        oVals[k] = r;
        k++;
      }
      if (k > 0) {
        this.addSamples(k);
        const metric = keepName ? input.metric : withoutMetricName(input.metric);
        if (sink) {
          sink.add(metric, sunk.length, oIdx, oVals, k);
          sunk.push({ metric });
          continue;
        }
        const ts: number[] = new Array(k), vs: number[] = new Array(k);
        for (let p = 0; p < k; p++) { ts[p] = this.start + oIdx[p]! * this.interval; vs[p] = oVals[p]!; }
        out.push({ metric, ts, vs });
      }
    }
    if (sink) {
      checkDuplicates(sunk, inputs);
      return [];
    }
    if (e.func === "absent_over_time") {
      // 0 or 1 series: 1 at every step where no input series had a sample in its window.
      const found = new Set<number>();
      for (const s of out) for (const t of s.ts) found.add(t);
      if (found.size === n) return [];
      const ts: number[] = [], vs: number[] = [];
      for (let i = 0; i < n; i++) {
        const step = this.start + i * this.interval;
        if (!found.has(step)) { ts.push(step); vs.push(1); }
      }
      return [{ metric: absentLabels(e.args[0]), ts, vs }];
    }
    checkDuplicates(out, inputs);
    return out;
  }

  private outIdx = new Int32Array(0);
  private outVals = new Float64Array(0);

  // ---- step-wise evaluation of instant-vector operations ----

  /**
   * Evaluate `args` over all steps, call `f` once per step with each argument's vector at that step
   * (strings passed through), and assemble the output series.
   */
  private async rangeEval(args: (Expr | null)[], f: (args: StepArg[], c: { ts: number; step: number }) => Vector): Promise<Series[]> {
    const vals: (EvalValue | null)[] = [];
    for (const a of args) vals.push(a === null ? null : await this.eval(a));
    return await this.rangeEvalValues(vals, f);
  }

  private async rangeEvalValues(vals: (EvalValue | null)[], f: (args: StepArg[], c: { ts: number; step: number }) => Vector): Promise<Series[]> {
    const n = this.steps;
    const cursors = vals.map((v) => (v && v.kind === "matrix" ? new Int32Array(v.series.length) : null));
    const stepArgs: StepArg[] = new Array(vals.length);
    const instant = n === 1;
    const bySeries = new Map<string, Series>();
    const keys = new WeakMap<Labels, string>();
    let instantOut: Vector | null = null;
    let produced = 0;
    for (let i = 0; i < n; i++) {
      if (tick(this.ctl)) await yieldNow(this.ctl);
      const ts = this.start + i * this.interval;
      for (let a = 0; a < vals.length; a++) {
        const v = vals[a];
        if (!v) { stepArgs[a] = []; continue; }
        if (v.kind === "string") { stepArgs[a] = v.v; continue; }
        const cur = cursors[a]!;
        const vec: Vector = [];
        const ss = v.series;
        for (let k = 0; k < ss.length; k++) {
          const s = ss[k]!;
          let p = cur[k]!;
          while (p < s.ts.length && s.ts[p]! < ts) p++;
          cur[k] = p;
          if (p < s.ts.length && s.ts[p] === ts) vec.push({ metric: s.metric, t: ts, v: s.vs[p]! });
        }
        stepArgs[a] = vec;
      }
      const res = f(stepArgs, { ts, step: i });
      if (instant) { instantOut = res; break; }
      for (const smp of res) {
        let key = keys.get(smp.metric);
        if (key === undefined) { key = labelsKey(smp.metric); keys.set(smp.metric, key); }
        let s = bySeries.get(key);
        if (!s) { s = { metric: smp.metric, ts: [], vs: [] }; bySeries.set(key, s); }
        else if (s.ts.length > 0 && s.ts[s.ts.length - 1] === ts) {
          throw new CodedError("execution", "vector cannot contain metrics with the same labelset");
        }
        s.ts.push(ts);
        s.vs.push(smp.v);
        produced++;
      }
      if (produced > this.ctl.maxSamples) throw tooMany();
    }
    if (instant) {
      const res = instantOut ?? [];
      const seen = new Set<string>();
      const out: Series[] = [];
      for (const smp of res) {
        const key = labelsKey(smp.metric);
        if (seen.has(key)) throw new CodedError("execution", "vector cannot contain metrics with the same labelset");
        seen.add(key);
        out.push({ metric: smp.metric, ts: [this.start], vs: [smp.v] });
      }
      this.addSamples(out.length);
      return out;
    }
    this.addSamples(produced);
    return [...bySeries.values()];
  }

  private async aggregation(e: AggregateExpr): Promise<Series[]> {
    const cache = new AggrCache();
    const spec = { op: e.op, grouping: [...e.grouping].sort(), without: e.without };
    // quantile with a literal φ: the same series-major path (each step's values in input order).
    const literalQ = e.op === "quantile" && e.param && unwrap(e.param).kind === "NumberLiteral" ? (unwrap(e.param) as { val: number }).val : null;
    if ((!e.param && SERIES_MAJOR_OPS.has(e.op)) || literalQ !== null) {
      const fused = await this.aggregateRangeCall(spec, e.expr, literalQ ?? 0);
      if (fused) return fused;
      const v = await this.eval(e.expr);
      if (v.kind === "matrix") {
        const out = await this.aggregateSeries(spec, v.series, literalQ ?? 0);
        if (out) return out;
      }
      return await this.rangeEvalValues([v], (args, c) => aggregate(spec, literalQ, args[0] as Vector, c.ts, cache));
    }
    if (e.param) {
      const p = unwrap(e.param);
      if (p.kind === "StringLiteral") {
        return await this.rangeEval([e.expr], (args, c) => aggregate(spec, p.val, args[0] as Vector, c.ts, cache));
      }
      return await this.rangeEval([e.param, e.expr], (args, c) => {
        const pv = args[0] as Vector;
        return aggregate(spec, pv.length > 0 ? pv[0]!.v : NaN, args[1] as Vector, c.ts, cache);
      });
    }
    return await this.rangeEval([e.expr], (args, c) => aggregate(spec, null, args[0] as Vector, c.ts, cache));
  }

  /**
   * An aggregation straight over a range function of a selector (sum(rate(x[5m])) and the like): each
   * series' results go into the aggregation as they are computed, never into per-series arrays. Null
   * when `expr` is not that shape or the (group, step) cells could pass the bound.
   */
  private async aggregateRangeCall(spec: AggrSpec, expr: Expr, q: number): Promise<Series[] | null> {
    const c = unwrap(expr);
    if (c.kind === "VectorSelector") {
      // count(x), sum by (job) (x): the selector's points go straight into the aggregation.
      const n = this.steps;
      if (this.series(c).length * n > SERIES_MAJOR_MAX_CELLS) return null;
      if (tick(this.ctl)) await yieldNow(this.ctl);
      const agg = new SeriesAggregator(spec, n, q);
      await this.vectorSelector(c, agg);
      const out = agg.finish(this.start, this.interval);
      this.addSamples(agg.produced);
      return out;
    }
    if (c.kind !== "Call" || c.func === "absent_over_time" || c.func === "timestamp" || !RANGE_FUNCTIONS[c.func]) return null;
    let mi = -1;
    for (let i = 0; i < c.args.length; i++) {
      const a = unwrap(c.args[i]!);
      if (a.kind === "MatrixSelector") { mi = i; break; }
      if (a.kind === "SubqueryExpr") return null;
    }
    if (mi < 0) return null;
    const n = this.steps;
    const inputs = this.series((unwrap(c.args[mi]!) as MatrixSelector).vs).length;
    if (inputs * n > SERIES_MAJOR_MAX_CELLS) return null;
    if (tick(this.ctl)) await yieldNow(this.ctl);
    const agg = new SeriesAggregator(spec, n, q);
    await this.rangeCall(c, mi, agg);
    const out = agg.finish(this.start, this.interval);
    this.addSamples(agg.produced);
    return out;
  }

  /** Series-major aggregation of evaluated series (see SeriesAggregator); null past its cell bound. */
  private async aggregateSeries(spec: AggrSpec, input: Series[], q: number): Promise<Series[] | null> {
    const n = this.steps;
    const agg = new SeriesAggregator(spec, n, q);
    const start = this.start, interval = this.interval;
    let idx = new Int32Array(64), vals = new Float64Array(64);
    for (let si = 0; si < input.length; si++) {
      if (tick(this.ctl)) await yieldNow(this.ctl);
      const s = input[si]!;
      const ts = s.ts, vs = s.vs;
      if (ts.length === 0) continue;
      if (idx.length < ts.length) { idx = new Int32Array(ts.length); vals = new Float64Array(ts.length); }
      let k = 0;
      for (let p = 0; p < ts.length; p++) {
        const t = ts[p]!;
        const i = Math.round((t - start) / interval);
        if (i < 0 || i >= n || start + i * interval !== t) continue; // not on this evaluator's steps
        idx[k] = i; vals[k] = vs[p]!; k++;
      }
      if (!agg.add(s.metric, si, idx, vals, k)) return null;
    }
    const out = agg.finish(start, interval);
    this.addSamples(agg.produced);
    return out;
  }

  private async binary(e: BinaryExpr): Promise<Series[]> {
    const lt = exprType(e.lhs), rt = exprType(e.rhs);
    if (lt === "scalar" && rt === "scalar") {
      return await this.rangeEval([e.lhs, e.rhs], (args, c) => [{ metric: [], t: c.ts, v: scalarBinop(e.op, (args[0] as Vector)[0]!.v, (args[1] as Vector)[0]!.v) }]);
    }
    const cache = new BinopCache();
    if (lt === "vector" && rt === "vector") {
      const m = e.matching ?? { card: "one-to-one" as const, matchingLabels: [], on: false, include: [] };
      if (e.op === "and" || e.op === "or" || e.op === "unless") {
        return await this.rangeEval([e.lhs, e.rhs], (args) => setOp(e.op as "and" | "or" | "unless", args[0] as Vector, args[1] as Vector, m, cache));
      }
      return await this.rangeEval([e.lhs, e.rhs], (args) => vectorBinop(e.op, args[0] as Vector, args[1] as Vector, m, e.returnBool, cache));
    }
    if (lt === "vector") {
      return await this.rangeEval([e.lhs, e.rhs], (args) => vectorScalarBinop(e.op, args[0] as Vector, (args[1] as Vector)[0]!.v, false, e.returnBool, cache));
    }
    return await this.rangeEval([e.lhs, e.rhs], (args) => vectorScalarBinop(e.op, args[1] as Vector, (args[0] as Vector)[0]!.v, true, e.returnBool, cache));
  }
}

/**
 * sum/avg/count/min/max/group/stddev/stdvar over all steps at once, series by series: each input
 * series' group is found once (not once per step and sample), and each (group, step) accumulates in
 * the input order, exactly as the step-wise aggregate() does. Output groups come in the order the
 * step-wise path gives them (by first step with a value, then first input series at that step).
 */
class SeriesAggregator {
  private readonly names: Set<string>;
  private readonly byKey = new Map<string, number>();
  private readonly groups: { labels: Labels; value: Float64Array; mean: Float64Array; count: Float64Array; firstStep: number; firstSeries: number; vals: (number[] | null)[] | null }[] = [];
  private readonly needMean: boolean;
  produced = 0;

  /** `q`: φ of quantile (the only op with a parameter taken here). */
  constructor(private readonly spec: AggrSpec, private readonly n: number, private readonly q = 0) {
    this.names = new Set(spec.grouping);
    this.needMean = spec.op === "avg" || spec.op === "stddev" || spec.op === "stdvar";
  }

  /**
   * Input series number `si` (increasing) with values vals[p] at step indexes idx[p] (increasing), p < k.
   * False when a new group would pass the cell bound (per-group arrays span every step).
   */
  add(metric: Labels, si: number, idx: Int32Array, vals: Float64Array, k: number): boolean {
    if (k === 0) return true;
    const spec = this.spec, names = this.names, n = this.n, op = spec.op;
    const key = spec.without ? signature(metric, false, names) : signature(metric, true, names);
    let gi = this.byKey.get(key);
    if (gi === undefined) {
      if ((this.groups.length + 1) * n > SERIES_MAJOR_MAX_CELLS) return false;
      gi = this.groups.length;
      this.byKey.set(key, gi);
      const labels = spec.without ? metric.filter((l) => !names.has(l.name) && l.name !== METRIC_NAME) : keepLabels(metric, names);
      this.groups.push({ labels, value: new Float64Array(n), mean: this.needMean ? new Float64Array(n) : EMPTY_F64, count: new Float64Array(n), firstStep: n, firstSeries: 0, vals: op === "quantile" ? new Array(n).fill(null) : null });
    }
    const g = this.groups[gi]!;
    const value = g.value, mean = g.mean, count = g.count;
    if (idx[0]! < g.firstStep) { g.firstStep = idx[0]!; g.firstSeries = si; }
    if (g.vals) {
      // quantile: every value of the step, in input order.
      const lists = g.vals;
      for (let p = 0; p < k; p++) {
        const i = idx[p]!;
        count[i] = count[i]! + 1;
        (lists[i] ??= []).push(vals[p]!);
      }
      return true;
    }
    for (let p = 0; p < k; p++) {
      const i = idx[p]!;
      const v = vals[p]!;
      const c = count[i]!;
      if (c === 0) {
        count[i] = 1;
        switch (op) {
          case "stddev": case "stdvar": value[i] = 0; mean[i] = v; break;
          case "group": value[i] = 1; break;
          case "avg": mean[i] = v; value[i] = v; break;
          default: value[i] = v;
        }
        continue;
      }
      count[i] = c + 1;
      switch (op) {
        case "sum": value[i] = value[i]! + v; break;
        case "avg": mean[i] = meanStep(mean[i]!, v, c + 1); break;
        case "max": { const x = value[i]!; if (x < v || x !== x) value[i] = v; break; }
        case "min": { const x = value[i]!; if (x > v || x !== x) value[i] = v; break; }
        case "stddev": case "stdvar": {
          const m = mean[i]!;
          const delta = v - m;
          const nm = m + delta / (c + 1);
          mean[i] = nm;
          value[i] = value[i]! + delta * (v - nm);
          break;
        }
        default: break; // group, count
      }
    }
    return true;
  }

  finish(start: number, interval: number): Series[] {
    const n = this.n, op = this.spec.op;
    const order = this.groups.filter((g) => g.firstStep < n).sort((a, b) => a.firstStep - b.firstStep || a.firstSeries - b.firstSeries);
    const out: Series[] = [];
    for (const g of order) {
      const ts: number[] = [], vs: number[] = [];
      const { value, mean, count } = g;
      for (let i = g.firstStep; i < n; i++) {
        const c = count[i]!;
        if (c === 0) continue;
        let r: number;
        switch (op) {
          case "avg": r = mean[i]!; break;
          case "count": r = c; break;
          case "stdvar": r = value[i]! / c; break;
          case "stddev": r = Math.sqrt(value[i]! / c); break;
          case "quantile": r = quantile(this.q, g.vals![i]!); break;
          default: r = value[i]!;
        }
        ts.push(start + i * interval);
        vs.push(r);
      }
      this.produced += ts.length;
      out.push({ metric: g.labels, ts, vs });
    }
    return out;
  }
}

/** Whether every series has the same __name__ (then dropping it cannot create duplicates). */
function oneName(ss: readonly { labels?: Labels; metric?: Labels }[]): boolean {
  let name: string | undefined;
  for (const s of ss) {
    const ls = (s.labels ?? s.metric)!;
    let n = "";
    for (const l of ls) if (l.name === "__name__") { n = l.value; break; }
    if (name === undefined) name = n;
    else if (n !== name) return false;
  }
  return true;
}

function readError(s: StorageSeries, err: Error): never {
  if (errorCode(err)) throw err;
  throw new CodedError("internal", `read series ${labelsString(s.labels)}: ${err.message}`, { cause: err });
}

function checkDuplicates(out: { metric: Labels }[], inputs?: readonly { labels?: Labels; metric?: Labels }[]): void {
  if (out.length < 2) return;
  // Inputs are unique label sets; if they share one metric name, the outputs are unique too.
  if (inputs && oneName(inputs)) return;
  const seen = new Set<string>();
  for (const s of out) {
    const k = labelsKey(s.metric);
    if (seen.has(k)) throw new CodedError("execution", "vector cannot contain metrics with the same labelset");
    seen.add(k);
  }
}



