// PromQL functions with Prometheus 2.42 semantics (promql/functions.go, quantile.go). Range-vector
// functions see one series' window at a time; instant-vector functions see one step's vectors.
// Sums are plain (no Kahan compensation) as in 2.42, so results match it to the last bit where JS and
// Go arithmetic agree.

import type { Labels } from "../labels/labels.ts";
import { getLabel, METRIC_NAME } from "../labels/labels.ts";
import { CodedError } from "../encoding/errors.ts";
import type { Expr } from "./ast.ts";
import type { Sample, Vector } from "./value.ts";
import { dropMetricName, formatPercentF, goAcos, goAsin, goAtan, goCos, goSin, goTan, goLog, goLog10, goLog2, goMax, goMin, goParseFloat, labelsKey, setLabel } from "./value.ts";
import { RE2JS } from "re2js";

// ---------------------------------------------------------------------------------------------
// Range-vector functions

/** One series' samples inside [rangeStart, rangeEnd] (stale markers already removed): indexes lo..hi-1. */
export interface RangeWindow {
  ts: Float64Array;
  vs: Float64Array;
  lo: number;
  hi: number;
}

export interface RangeCtx {
  /** Evaluation step time (ms). */
  stepTs: number;
  rangeStart: number;
  rangeEnd: number;
  rangeMs: number;
  /** Scalar arguments other than the range vector, in call order. */
  scalars: number[];
}

export type RangeFn = (w: RangeWindow, c: RangeCtx) => number | null;

function extrapolatedRate(w: RangeWindow, c: RangeCtx, isCounter: boolean, isRate: boolean): number | null {
  const n = w.hi - w.lo;
  if (n < 2) return null;
  const { ts, vs, lo, hi } = w;
  const first = vs[lo]!, last = vs[hi - 1]!;
  let result = last - first;
  if (isCounter) {
    let prev = first;
    for (let i = lo + 1; i < hi; i++) {
      const cur = vs[i]!;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  let durationToStart = (ts[lo]! - c.rangeStart) / 1000;
  const durationToEnd = (c.rangeEnd - ts[hi - 1]!) / 1000;
  const sampledInterval = (ts[hi - 1]! - ts[lo]!) / 1000;
  const avgBetween = sampledInterval / (n - 1);
  if (isCounter && result > 0 && first >= 0) {
    // Counters cannot be negative: do not extrapolate the start below zero.
    const durationToZero = sampledInterval * (first / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = avgBetween * 1.1;
  let interval = sampledInterval;
  interval += durationToStart < threshold ? durationToStart : avgBetween / 2;
  interval += durationToEnd < threshold ? durationToEnd : avgBetween / 2;
  let factor = interval / sampledInterval;
  if (isRate) factor /= c.rangeMs / 1000;
  return result * factor;
}

function instantValue(w: RangeWindow, isRate: boolean): number | null {
  if (w.hi - w.lo < 2) return null;
  const lt = w.ts[w.hi - 1]!, lv = w.vs[w.hi - 1]!;
  const pt = w.ts[w.hi - 2]!, pv = w.vs[w.hi - 2]!;
  let r = isRate && lv < pv ? lv : lv - pv;
  const dt = lt - pt;
  if (dt === 0) return null;
  if (isRate) r /= dt / 1000;
  return r;
}

/** Neumaier-compensated increment (Prometheus kahanSumInc); [sum, compensation]. */
function kahanInc(inc: number, sum: number, c: number, out: Float64Array, i: number): void {
  const t = sum + inc;
  if (Math.abs(sum) >= Math.abs(inc)) c += sum - t + inc;
  else c += inc - t + sum;
  out[i] = t;
  out[i + 1] = c;
}

const lr = new Float64Array(8);

/** 2.42's linearRegression: compensated sums (deriv/predict_linear agree with it to the last bits). */
function linearRegression(w: RangeWindow, interceptTime: number): [number, number] {
  let n = 0;
  lr.fill(0);
  const initY = w.vs[w.lo]!;
  let constY = true;
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.vs[i]!;
    if (constY && i > w.lo && v !== initY) constY = false;
    n += 1;
    const x = (w.ts[i]! - interceptTime) / 1e3;
    kahanInc(x, lr[0]!, lr[1]!, lr, 0);
    kahanInc(v, lr[2]!, lr[3]!, lr, 2);
    kahanInc(x * v, lr[4]!, lr[5]!, lr, 4);
    kahanInc(x * x, lr[6]!, lr[7]!, lr, 6);
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) return [NaN, NaN];
    return [0, initY];
  }
  const sumX = lr[0]! + lr[1]!, sumY = lr[2]! + lr[3]!, sumXY = lr[4]! + lr[5]!, sumX2 = lr[6]! + lr[7]!;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

/** Incremental mean with Prometheus' Inf handling (the avg aggregation). */
export function meanStep(mean: number, v: number, count: number): number {
  if (mean === Infinity || mean === -Infinity) {
    if ((v === Infinity || v === -Infinity) && mean > 0 === v > 0) return mean;
    if (v !== Infinity && v !== -Infinity && !Number.isNaN(v)) return mean;
  }
  // Go: `mean += v/count - mean/count` adds the difference as one term; JS's left-to-right
  // `mean + v/count - mean/count` rounds differently in the last bit.
  return mean + (v / count - mean / count);
}

/** quantile.go quantile(): NaN sorts first, weighted average between neighbours. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const n = values.length;
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

export const RANGE_FUNCTIONS: Record<string, RangeFn> = {
  rate: (w, c) => extrapolatedRate(w, c, true, true),
  increase: (w, c) => extrapolatedRate(w, c, true, false),
  delta: (w, c) => extrapolatedRate(w, c, false, false),
  irate: (w) => instantValue(w, true),
  idelta: (w) => instantValue(w, false),
  deriv: (w) => {
    if (w.hi - w.lo < 2) return null;
    return linearRegression(w, w.ts[w.lo]!)[0];
  },
  predict_linear: (w, c) => {
    if (w.hi - w.lo < 2) return null;
    const [slope, intercept] = linearRegression(w, c.stepTs);
    return slope * c.scalars[0]! + intercept;
  },
  holt_winters: (w, c) => {
    const sf = c.scalars[0]!, tf = c.scalars[1]!;
    if (sf <= 0 || sf >= 1) { // NaN passes these checks in Prometheus too
      throw new CodedError("execution", `invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatPercentF(sf)}`);
    }
    if (tf <= 0 || tf >= 1) {
      throw new CodedError("execution", `invalid trend factor. Expected: 0 < tf < 1, got: ${formatPercentF(tf)}`);
    }
    const l = w.hi - w.lo;
    if (l < 2) return null;
    let s0 = 0, s1 = w.vs[w.lo]!, b = w.vs[w.lo + 1]! - w.vs[w.lo]!;
    for (let i = 1; i < l; i++) {
      const x = sf * w.vs[w.lo + i]!;
      if (i - 1 !== 0) b = tf * (s1 - s0) + (1 - tf) * b;
      const y = (1 - sf) * (s1 + b);
      s0 = s1;
      s1 = x + y;
    }
    return s1;
  },
  resets: (w) => {
    let n = 0;
    let prev = w.vs[w.lo]!;
    for (let i = w.lo + 1; i < w.hi; i++) {
      const cur = w.vs[i]!;
      if (cur < prev) n++;
      prev = cur;
    }
    return n;
  },
  changes: (w) => {
    let n = 0;
    let prev = w.vs[w.lo]!;
    for (let i = w.lo + 1; i < w.hi; i++) {
      const cur = w.vs[i]!;
      if (cur !== prev && !(Number.isNaN(cur) && Number.isNaN(prev))) n++;
      prev = cur;
    }
    return n;
  },
  avg_over_time: (w) => {
    // Incremental mean with a compensated (Kahan/Neumaier) running sum, as 2.42 computes it.
    let mean = 0, count = 0, c = 0;
    for (let i = w.lo; i < w.hi; i++) {
      const v = w.vs[i]!;
      count++;
      if (mean === Infinity || mean === -Infinity) {
        if ((v === Infinity || v === -Infinity) && mean > 0 === v > 0) continue;
        if (v !== Infinity && v !== -Infinity && !Number.isNaN(v)) continue;
      }
      kahanInc(v / count - mean / count, mean, c, kbuf, 0);
      mean = kbuf[0]!; c = kbuf[1]!;
    }
    if (mean === Infinity || mean === -Infinity) return mean;
    return mean + c;
  },
  sum_over_time: (w) => {
    let sum = 0, c = 0;
    for (let i = w.lo; i < w.hi; i++) {
      kahanInc(w.vs[i]!, sum, c, kbuf, 0);
      sum = kbuf[0]!; c = kbuf[1]!;
    }
    if (sum === Infinity || sum === -Infinity) return sum;
    return sum + c;
  },
  count_over_time: (w) => w.hi - w.lo,
  min_over_time: (w) => {
    let m = w.vs[w.lo]!;
    for (let i = w.lo + 1; i < w.hi; i++) { const v = w.vs[i]!; if (v < m || Number.isNaN(m)) m = v; }
    return m;
  },
  max_over_time: (w) => {
    let m = w.vs[w.lo]!;
    for (let i = w.lo + 1; i < w.hi; i++) { const v = w.vs[i]!; if (v > m || Number.isNaN(m)) m = v; }
    return m;
  },
  last_over_time: (w) => w.vs[w.hi - 1]!,
  present_over_time: () => 1,
  absent_over_time: () => 1,
  quantile_over_time: (w, c) => {
    const q = c.scalars[0]!;
    const vals: number[] = [];
    for (let i = w.lo; i < w.hi; i++) vals.push(w.vs[i]!);
    return quantile(q, vals);
  },
  stddev_over_time: (w) => Math.sqrt(variance(w)),
  stdvar_over_time: (w) => variance(w),
};

const kbuf = new Float64Array(2);

/** Welford's variance with compensated mean and sum of squares (2.42 stddev/stdvar_over_time). */
function variance(w: RangeWindow): number {
  let count = 0, mean = 0, cMean = 0, aux = 0, cAux = 0;
  for (let i = w.lo; i < w.hi; i++) {
    const v = w.vs[i]!;
    count++;
    const delta = v - (mean + cMean);
    kahanInc(delta / count, mean, cMean, kbuf, 0);
    mean = kbuf[0]!; cMean = kbuf[1]!;
    kahanInc(delta * (v - (mean + cMean)), aux, cAux, kbuf, 0);
    aux = kbuf[0]!; cAux = kbuf[1]!;
  }
  return (aux + cAux) / count;
}

// ---------------------------------------------------------------------------------------------
// Instant-vector functions (evaluated once per step)

export type StepArg = Vector | string;

export interface StepCtx {
  /** Step time (ms). */
  ts: number;
  /** Per-call cache that lives across steps (compiled regexes, label rewrites). */
  cache: Map<string, unknown>;
}

export type VectorFn = (args: StepArg[], call: { args: Expr[] }, c: StepCtx) => Vector;

function simple(f: (v: number) => number): VectorFn {
  return (args) => {
    const vec = args[0] as Vector;
    const out: Vector = new Array(vec.length);
    for (let i = 0; i < vec.length; i++) {
      const s = vec[i]!;
      out[i] = { metric: dropMetricName(s.metric), t: s.t, v: f(s.v) };
    }
    return out;
  };
}

function scalarArg(a: StepArg | undefined): number {
  return (a as Vector)[0]!.v;
}


// ---- Go's time.Unix(int64(v), 0).UTC() calendar fields ----
// int64(v) on amd64 turns NaN, ±Inf and out-of-range values into math.MinInt64, and Go's calendar
// arithmetic runs on uint64 seconds since an "absolute zero" year, wrapping; Prometheus answers e.g.
// year(vector(NaN)) = 292277026596 because of that. BigInt keeps those answers exact.
const TWO64 = 1n << 64n;
/** Seconds from Go's absolute zero (Jan 1 of year -292277022399) to the Unix epoch. */
const UNIX_TO_ABS = (730692560n * 146097n + 134774n) * 86400n;
const ABS_ZERO_YEAR = -292277022399n;
const DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

export interface GoTime { year: number; month: number; day: number; yday: number; hour: number; minute: number; weekday: number }

function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

export function goUnixTime(v: number): GoTime {
  let sec: bigint;
  if (Number.isNaN(v) || v >= 9223372036854775807 || v < -9223372036854775808) sec = -(1n << 63n);
  else sec = BigInt(Math.trunc(v));
  const abs = (((sec + UNIX_TO_ABS) % TWO64) + TWO64) % TWO64;
  const tod = Number(abs % 86400n);
  const weekday = Number(((abs + 86400n) % 604800n) / 86400n);
  let d = abs / 86400n;
  let n = d / 146097n;
  let y = 400n * n;
  d -= 146097n * n;
  n = d / 36524n;
  n -= n >> 2n;
  y += 100n * n;
  d -= 36524n * n;
  n = d / 1461n;
  y += 4n * n;
  d -= 1461n * n;
  n = d / 365n;
  n -= n >> 2n;
  y += n;
  d -= 365n * n;
  const year = Number(y + ABS_ZERO_YEAR);
  const yday = Number(d);
  let day = yday;
  let month: number;
  if (isLeap(year) && day === 31 + 29 - 1) {
    month = 2;
    day = 29;
  } else {
    if (isLeap(year) && day > 31 + 29 - 1) day--;
    month = Math.floor(day / 31);
    const end = DAYS_BEFORE[month + 1]!;
    let begin: number;
    if (day >= end) { month++; begin = end; } else begin = DAYS_BEFORE[month]!;
    month++;
    day = day - begin + 1;
  }
  return { year, month, day, yday: yday + 1, hour: Math.floor(tod / 3600), minute: Math.floor((tod % 3600) / 60), weekday };
}

function daysIn(month: number, year: number): number {
  if (month === 2) return isLeap(year) ? 29 : 28;
  return DAYS_BEFORE[month]! - DAYS_BEFORE[month - 1]!;
}

function dateFn(f: (d: GoTime) => number): VectorFn {
  return (args, _call, c) => {
    if (args.length === 0) return [{ metric: [], t: c.ts, v: f(goUnixTime(Math.trunc(c.ts / 1000))) }];
    const vec = args[0] as Vector;
    return vec.map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: f(goUnixTime(s.v)) }));
  };
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Go regexp.Expand template: $1, ${1}, $name, ${name}, $$. */
function expandTemplate(tpl: string, m: { group(g: number | string): string | null }, groups: number, named: Record<string, number>): string {
  let out = "";
  for (let i = 0; i < tpl.length; i++) {
    const ch = tpl[i]!;
    if (ch !== "$" || i + 1 >= tpl.length) { out += ch; continue; }
    const nx = tpl[i + 1]!;
    if (nx === "$") { out += "$"; i++; continue; }
    let name: string;
    let end: number;
    if (nx === "{") {
      const close = tpl.indexOf("}", i + 2);
      const inner = close < 0 ? "" : tpl.slice(i + 2, close);
      if (close < 0 || inner === "" || !/^[a-zA-Z0-9_]+$/.test(inner)) { out += ch; continue; }
      name = inner;
      end = close;
    } else {
      let j = i + 1;
      while (j < tpl.length && /[a-zA-Z0-9_]/.test(tpl[j]!)) j++;
      if (j === i + 1) { out += ch; continue; }
      name = tpl.slice(i + 1, j);
      end = j - 1;
    }
    i = end;
    if (/^[0-9]+$/.test(name)) {
      const n = Number(name);
      if (n <= groups) out += m.group(n) ?? "";
    } else if (name in named) {
      out += m.group(named[name]!) ?? "";
    }
  }
  return out;
}

function stringArg(e: Expr | undefined): string {
  let x = e;
  while (x && (x.kind === "ParenExpr" || x.kind === "StepInvariantExpr")) x = x.expr;
  if (x?.kind !== "StringLiteral") throw new CodedError("bad_data", "expected a string literal argument");
  return x.val;
}

function labelReplace(args: StepArg[], call: { args: Expr[] }, c: StepCtx): Vector {
  const dst = stringArg(call.args[1]), repl = stringArg(call.args[2]), src = stringArg(call.args[3]), regex = stringArg(call.args[4]);
  let re = c.cache.get("re") as RE2JS | undefined;
  if (!re) {
    try {
      re = RE2JS.compile("^(?:" + regex + ")$");
    } catch {
      throw new CodedError("execution", `invalid regular expression in label_replace(): ${regex}`);
    }
    if (!LABEL_NAME.test(dst)) throw new CodedError("execution", `invalid destination label name in label_replace(): ${dst}`);
    c.cache.set("re", re);
  }
  let memo = c.cache.get("memo") as Map<string, Labels> | undefined;
  if (!memo) c.cache.set("memo", (memo = new Map()));
  const vec = args[0] as Vector;
  const out: Vector = [];
  for (const s of vec) {
    const key = labelsKey(s.metric);
    let metric = memo.get(key);
    if (!metric) {
      const m = re.matcher(getLabel(s.metric, src));
      if (!m.matches()) metric = s.metric;
      else metric = setLabel(s.metric, dst, expandTemplate(repl, m, m.groupCount(), re.namedGroups() as Record<string, number>));
      memo.set(key, metric);
    }
    out.push({ metric, t: s.t, v: s.v });
  }
  return out;
}

function labelJoin(args: StepArg[], call: { args: Expr[] }): Vector {
  const dst = stringArg(call.args[1]), sep = stringArg(call.args[2]);
  const srcs: string[] = [];
  for (let i = 3; i < call.args.length; i++) {
    const s = stringArg(call.args[i]);
    if (!LABEL_NAME.test(s)) throw new CodedError("execution", `invalid source label name in label_join(): ${s}`);
    srcs.push(s);
  }
  if (!LABEL_NAME.test(dst)) throw new CodedError("execution", `invalid destination label name in label_join(): ${dst}`);
  const vec = args[0] as Vector;
  return vec.map((s) => ({ metric: setLabel(s.metric, dst, srcs.map((n) => getLabel(s.metric, n)).join(sep)), t: s.t, v: s.v }));
}

interface Bucket { upper: number; count: number }

/** Classic-bucket quantile (quantile.go bucketQuantile), including the monotonicity fix. */
export function bucketQuantile(q: number, buckets: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  buckets.sort((a, b) => a.upper - b.upper || 0);
  if (buckets[buckets.length - 1]!.upper !== Infinity) return NaN;
  // coalesce equal upper bounds
  const co: Bucket[] = [];
  for (const b of buckets) {
    const last = co[co.length - 1];
    if (last && last.upper === b.upper) last.count += b.count;
    else co.push({ upper: b.upper, count: b.count });
  }
  let max = -Infinity;
  for (const b of co) {
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (co.length < 2) return NaN;
  const observations = co[co.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  // sort.Search over the first len-1 buckets
  let lo = 0, hi = co.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (!(co[mid]!.count >= rank)) lo = mid + 1;
    else hi = mid;
  }
  const b = lo;
  if (b === co.length - 1) return co[co.length - 2]!.upper;
  if (b === 0 && co[0]!.upper <= 0) return co[0]!.upper;
  let start = 0;
  const end = co[b]!.upper;
  let count = co[b]!.count;
  if (b > 0) {
    start = co[b - 1]!.upper;
    count -= co[b - 1]!.count;
    rank -= co[b - 1]!.count;
  }
  return start + (end - start) * (rank / count);
}

function histogramQuantile(args: StepArg[], _call: { args: Expr[] }, c: StepCtx): Vector {
  const q = scalarArg(args[0]);
  const vec = args[1] as Vector;
  const groups = new Map<string, { metric: Labels; buckets: Bucket[] }>();
  for (const s of vec) {
    const upper = goParseFloat(getLabel(s.metric, "le"));
    if (upper === null) continue;
    const rest = s.metric.filter((l) => l.name !== "le");
    const key = labelsKey(rest);
    let g = groups.get(key);
    if (!g) {
      g = { metric: rest.filter((l) => l.name !== METRIC_NAME && l.name !== "quantile"), buckets: [] };
      groups.set(key, g);
    }
    g.buckets.push({ upper, count: s.v });
  }
  const out: Vector = [];
  for (const g of groups.values()) out.push({ metric: g.metric, t: c.ts, v: bucketQuantile(q, g.buckets) });
  return out;
}

/** Go's sort.Sort on these small inputs; NaN goes last for both directions. */
function sortByValue(vec: Vector, desc: boolean): Vector {
  const out = vec.slice();
  out.sort((a, b) => {
    const an = Number.isNaN(a.v), bn = Number.isNaN(b.v);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return desc ? b.v - a.v : a.v - b.v;
  });
  return out;
}

export const VECTOR_FUNCTIONS: Record<string, VectorFn> = {
  abs: simple(Math.abs),
  ceil: simple(Math.ceil),
  floor: simple(Math.floor),
  exp: simple(Math.exp),
  sqrt: simple(Math.sqrt),
  ln: simple(goLog),
  log2: simple(goLog2),
  log10: simple(goLog10),
  sin: simple(goSin), cos: simple(goCos), tan: simple(goTan),
  asin: simple(goAsin), acos: simple(goAcos), atan: simple(goAtan),
  sinh: simple(Math.sinh), cosh: simple(Math.cosh), tanh: simple(Math.tanh),
  asinh: simple(Math.asinh), acosh: simple(Math.acosh), atanh: simple(Math.atanh),
  deg: simple((v) => (v * 180) / Math.PI),
  rad: simple((v) => (v * Math.PI) / 180),
  sgn: simple((v) => (v < 0 ? -1 : v > 0 ? 1 : v)),
  round: (args) => {
    const vec = args[0] as Vector;
    // round(v, to_nearest): floor(v*inv + 0.5)/inv, so .5 ties go up (not Go's math.Round).
    const toNearest = args.length > 1 ? scalarArg(args[1]) : 1;
    const inv = 1 / toNearest;
    return vec.map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: Math.floor(s.v * inv + 0.5) / inv }));
  },
  clamp: (args) => {
    const vec = args[0] as Vector;
    const min = scalarArg(args[1]), max = scalarArg(args[2]);
    if (max < min) return [];
    return vec.map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: goMax(min, goMin(max, s.v)) }));
  },
  clamp_min: (args) => {
    const min = scalarArg(args[1]);
    return (args[0] as Vector).map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: goMax(min, s.v) }));
  },
  clamp_max: (args) => {
    const max = scalarArg(args[1]);
    return (args[0] as Vector).map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: goMin(max, s.v) }));
  },
  pi: (_a, _c, c) => [{ metric: [], t: c.ts, v: Math.PI }],
  time: (_a, _c, c) => [{ metric: [], t: c.ts, v: c.ts / 1000 }],
  vector: (args, _c, c) => [{ metric: [], t: c.ts, v: scalarArg(args[0]) }],
  scalar: (args, _c, c) => {
    const vec = args[0] as Vector;
    return [{ metric: [], t: c.ts, v: vec.length === 1 ? vec[0]!.v : NaN }];
  },
  timestamp: (args) => (args[0] as Vector).map((s) => ({ metric: dropMetricName(s.metric), t: s.t, v: s.t / 1000 })),
  sort: (args) => sortByValue(args[0] as Vector, false),
  sort_desc: (args) => sortByValue(args[0] as Vector, true),
  // Native-histogram functions: float samples are skipped, so over float data they return nothing.
  histogram_count: () => [],
  histogram_sum: () => [],
  histogram_fraction: () => [],
  label_replace: labelReplace,
  label_join: labelJoin,
  histogram_quantile: histogramQuantile,
  day_of_month: dateFn((d) => d.day),
  day_of_week: dateFn((d) => d.weekday),
  day_of_year: dateFn((d) => d.yday),
  days_in_month: dateFn((d) => daysIn(d.month, d.year)),
  hour: dateFn((d) => d.hour),
  minute: dateFn((d) => d.minute),
  month: dateFn((d) => d.month),
  year: dateFn((d) => d.year),
};


/** Labels for absent()/absent_over_time(): equality matchers of a plain selector argument. */
export function absentLabels(arg: Expr | undefined): Labels {
  let e = arg;
  while (e && e.kind === "StepInvariantExpr") e = e.expr;
  let ms;
  if (e?.kind === "VectorSelector") ms = e.matchers;
  else if (e?.kind === "MatrixSelector") ms = e.vs.matchers;
  else return [];
  let out: Labels = [];
  const empty: string[] = [];
  for (const m of ms) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === "=" && getLabel(out, m.name) === "" && !out.some((l) => l.name === m.name)) out = setLabel(out, m.name, m.value);
    else empty.push(m.name);
  }
  for (const n of empty) out = setLabel(out, n, "");
  return out;
}

export type { Sample };
