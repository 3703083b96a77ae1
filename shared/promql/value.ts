// Engine values and the Go float behaviour PromQL answers depend on (Prometheus 2.42 promql/value.go,
// Go's math and strconv). Times are milliseconds.

import type { Label, Labels } from "../labels/labels.ts";
import { compareStrings, METRIC_NAME } from "../labels/labels.ts";

/** One series of an evaluated node: points sorted by time, one per step at most. */
export interface Series {
  metric: Labels;
  ts: number[];
  vs: number[];
}

export interface Sample {
  metric: Labels;
  t: number;
  v: number;
}

export type Vector = Sample[];

/** Result of evaluating a node over all steps. Scalars are a one-series matrix with empty labels. */
export type EvalValue = { kind: "matrix"; series: Series[] } | { kind: "string"; v: string };

// ---- labels helpers (allocation-light, labels are sorted arrays) ----

// Memoized by identity: the same input Labels object recurs at every step of a range query, and a
// stable output object lets later caches (signatures, series keys) hit.
const dropped = new WeakMap<Labels, Labels>();

export function dropMetricName(ls: Labels): Labels {
  const hit = dropped.get(ls);
  if (hit) return hit;
  let out = ls;
  for (let i = 0; i < ls.length; i++) {
    if (ls[i]!.name === METRIC_NAME) { out = ls.slice(0, i).concat(ls.slice(i + 1)); break; }
    if (compareStrings(ls[i]!.name, METRIC_NAME) > 0) break;
  }
  dropped.set(ls, out);
  return out;
}

/** Set (value !== "") or delete (value === "") one label, keeping the sort. */
export function setLabel(ls: Labels, name: string, value: string): Labels {
  const out: Label[] = [];
  let done = false;
  for (const l of ls) {
    if (!done) {
      const c = compareStrings(l.name, name);
      if (c === 0) {
        done = true;
        if (value !== "") out.push({ name, value });
        continue;
      }
      if (c > 0) {
        done = true;
        if (value !== "") out.push({ name, value });
      }
    }
    out.push(l);
  }
  if (!done && value !== "") out.push({ name, value });
  return out;
}

export function keepLabels(ls: Labels, names: ReadonlySet<string>): Labels {
  return ls.filter((l) => names.has(l.name));
}

/** A string key identifying a label set (names and values cannot contain \xff in valid UTF-8 text). */
const keys = new WeakMap<Labels, string>();

export function labelsKey(ls: Labels): string {
  const hit = keys.get(ls);
  if (hit !== undefined) return hit;
  let s = "";
  for (const l of ls) s += l.name + "\xff" + l.value + "\xfe";
  keys.set(ls, s);
  return s;
}

/** Key over only the labels in `names` (on) or all but `names` and __name__ (ignoring). */
export function signature(ls: Labels, on: boolean, names: ReadonlySet<string>): string {
  let s = "";
  for (const l of ls) {
    const has = names.has(l.name);
    if (on ? has : !has && l.name !== METRIC_NAME) s += l.name + "\xff" + l.value + "\xfe";
  }
  return s;
}

/** Prometheus labels.String(). */
export function labelsToString(ls: Labels): string {
  let s = "{";
  for (let i = 0; i < ls.length; i++) {
    if (i > 0) s += ", ";
    s += ls[i]!.name + "=" + goQuoteString(ls[i]!.value);
  }
  return s + "}";
}

/** Go strconv.Quote for the printable-ASCII-and-UTF-8 cases label values usually hold. */
export function goQuoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (c === 0x07) out += "\\a";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0a) out += "\\n";
    else if (c === 0x0d) out += "\\r";
    else if (c === 0x09) out += "\\t";
    else if (c === 0x0b) out += "\\v";
    else if (c < 0x20 || c === 0x7f) out += "\\x" + c.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

// ---- Go float semantics ----

/** Go math.Pow special cases that differ from JS `**`: Pow(x, ±0) = 1, Pow(1, y) = 1, Pow(-1, ±Inf) = 1. */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && (y === Infinity || y === -Infinity)) return 1;
  return x ** y;
}

/** Go math.Max: +Inf wins over NaN (JS Math.max gives NaN). */
export function goMax(x: number, y: number): number {
  if (x === Infinity || y === Infinity) return Infinity;
  return Math.max(x, y);
}

/** Go math.Min: -Inf wins over NaN (JS Math.min gives NaN). */
export function goMin(x: number, y: number): number {
  if (x === -Infinity || y === -Infinity) return -Infinity;
  return Math.min(x, y);
}


/** Go math.Frexp: x = frac * 2^exp with frac in [0.5, 1). */
function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  let hi = buf.getUint32(0);
  let e = (hi >>> 20) & 0x7ff;
  let adj = 0;
  if (e === 0) { // subnormal: normalise first
    buf.setFloat64(0, x * 2 ** 52);
    hi = buf.getUint32(0);
    e = (hi >>> 20) & 0x7ff;
    adj = -52;
  }
  const exp = e - 1022 + adj;
  buf.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  return [buf.getFloat64(0), exp];
}

// Go's math.Log (FreeBSD e_log.c, which Go's amd64 assembly also implements), so ln/log2/log10
// agree with Prometheus to the last bit where JS Math.log may differ by an ulp.
const LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
const L1 = 6.666666666666735130e-01, L2 = 3.999999999940941908e-01, L3 = 2.857142874366239149e-01;
const L4 = 2.222219843214978396e-01, L5 = 1.818357216161805012e-01, L6 = 1.531383769920937332e-01;
const L7 = 1.479819860511658591e-01;

export function goLog(x: number): number {
  if (Number.isNaN(x) || x === Infinity) return x;
  if (x < 0) return NaN;
  if (x === 0) return -Infinity;
  let [f1, ki] = frexp(x);
  if (f1 < Math.SQRT2 / 2) { f1 *= 2; ki--; }
  const f = f1 - 1;
  const k = ki;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (L1 + s4 * (L3 + s4 * (L5 + s4 * L7)));
  const t2 = s4 * (L2 + s4 * (L4 + s4 * L6));
  const R = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * LN2_HI - ((hfsq - (s * (hfsq + R) + k * LN2_LO)) - f);
}

// Go folds 1/Ln2 and 1/Ln10 exactly at compile time; these are those constants rounded once.
const LOG2_E = 1.442695040888963407359924681001892137426645954152985934135;
const LOG10_E = 0.434294481903251827651128918916605081841936686615305002635;

/** Go math.Log2 (exact for powers of two, Log(frac)/Ln2 + exp otherwise). */
export function goLog2(x: number): number {
  const [frac, exp] = frexp(x);
  if (frac === 0.5) return exp - 1;
  return goLog(frac) * LOG2_E + exp;
}

/** Go math.Log10 is Log(x) * (1/Ln10), which is not always JS Math.log10. */
export function goLog10(x: number): number {
  return goLog(x) * LOG10_E;
}

/** strconv.FormatFloat(v, 'f', -1, 64) ("NaN", "+Inf", "-Inf" for the specials). */
export function formatFloatF(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Object.is(v, -0)) return "-0";
  const s = String(v);
  if (!s.includes("e")) return s;
  // Expand exponent form: shortest round-trip digits, positioned without exponent.
  const neg = s.startsWith("-");
  const [mant, expStr] = (neg ? s.slice(1) : s).split("e") as [string, string];
  const exp = Number(expStr);
  const digits = mant.replace(".", "");
  const point = (mant.indexOf(".") === -1 ? mant.length : mant.indexOf(".")) + exp;
  let out: string;
  if (point <= 0) out = "0." + "0".repeat(-point) + digits;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = digits.slice(0, point) + "." + digits.slice(point);
  return (neg ? "-" : "") + out;
}

/** Go fmt %f (6 decimals) for error messages. */
export function formatPercentF(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return v.toFixed(6);
}

/** Go fmt %v of a float64 ('g' with shortest repr, exponent when exp < -4 || exp >= 21). */
export function formatFloatV(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const e = Math.floor(Math.log10(Math.abs(v)));
  if (e < -4 || e >= 21) {
    const s = v.toExponential();
    const [m, x] = s.split("e") as [string, string];
    const n = Number(x);
    return m + "e" + (n < 0 ? "-" : "+") + String(Math.abs(n)).padStart(2, "0");
  }
  return formatFloatF(v);
}

/**
 * Go strconv.ParseFloat(s, 64) for histogram `le` and similar label values. Accepts what Go accepts
 * (decimal, exponent, "Inf"/"Infinity"/"NaN" any case with sign, hex floats, '_' only with a base
 * prefix); returns null where Go returns an error.
 */
export function goParseFloat(s: string): number | null {
  if (s.length === 0) return null;
  const m = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (m) {
    if (m[2]!.toLowerCase() === "nan") return m[1] === "" ? NaN : null;
    return m[1] === "-" ? -Infinity : Infinity;
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  if (/^[+-]?(\d(_?\d)*\.?(\d(_?\d)*)?|\.\d(_?\d)*)([eE][+-]?\d+)?$/.test(s)) return null; // '_' without base prefix
  const hx = /^([+-]?)0[xX](_?[0-9a-fA-F]+)*(\.[0-9a-fA-F_]*)?[pP]([+-]?\d+)$/.exec(s);
  if (hx) {
    const body = s.replace(/^[+-]?0[xX]/, "").replace(/[pP].*$/, "").replace(/_/g, "");
    const [ip, fp = ""] = body.split(".") as [string, string?];
    let v = 0;
    for (const c of ip) v = v * 16 + parseInt(c, 16);
    let scale = 1 / 16;
    for (const c of fp) { v += parseInt(c, 16) * scale; scale /= 16; }
    v *= 2 ** Number(hx[4]);
    return hx[1] === "-" ? -v : v;
  }
  return null;
}

/** Go's int64(f) conversion check used for topk/bottomk k. */
export function convertibleToInt64(v: number): boolean {
  return v <= 9223372036854775807 && v >= -9223372036854775808;
}

/** Matrix order of Prometheus' sort.Sort(mat): by label set. */
export function compareSeries(a: { metric: Labels }, b: { metric: Labels }): number {
  const x = a.metric, y = b.metric;
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    if (x[i]!.name !== y[i]!.name) return compareStrings(x[i]!.name, y[i]!.name);
    if (x[i]!.value !== y[i]!.value) return compareStrings(x[i]!.value, y[i]!.value);
  }
  return x.length - y.length;
}
