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

/** dropMetricName without the memo, for callers that see each label set once (per-series paths). */
export function withoutMetricName(ls: Labels): Labels {
  for (let i = 0; i < ls.length; i++) {
    if (ls[i]!.name === METRIC_NAME) return ls.slice(0, i).concat(ls.slice(i + 1));
    if (compareStrings(ls[i]!.name, METRIC_NAME) > 0) break;
  }
  return ls;
}

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


// ---- Go float semantics ----

function isOddInt(x: number): boolean {
  return Number.isInteger(x) && Math.abs(x) < 2 ** 53 && Math.abs(x % 2) === 1;
}

/** x * 2^e without overflowing in the intermediate power (Go's Ldexp for normal results). */
function ldexp(x: number, e: number): number {
  if (e > 1000) return x * 2 ** 1000 * 2 ** (e - 1000);
  if (e < -1000) return x * 2 ** -1000 * 2 ** (e + 1000);
  return x * 2 ** e;
}

/**
 * Go math.Pow: its special cases (Pow(x, ±0) = 1, Pow(1, y) = 1, Pow(-1, ±Inf) = 1 where JS gives
 * NaN) and its algorithm: integer powers by repeated squaring of the mantissa, so they agree with
 * Prometheus to the last bit; fractional powers go through exp(yf*log(x)) (JS exp: may differ by an ulp).
 */
export function goPow(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (y === 1) return x;
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  if (x === 0) {
    const neg = Object.is(x, -0);
    if (y < 0) return neg && isOddInt(y) ? -Infinity : Infinity;
    return neg && isOddInt(y) ? x : 0;
  }
  if (y === Infinity || y === -Infinity) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y === Infinity) ? 0 : Infinity;
  }
  if (x === Infinity || x === -Infinity) {
    if (x === -Infinity) return goPow(1 / x, -y);
    return y < 0 ? 0 : Infinity;
  }
  if (y === 0.5) return Math.sqrt(x);
  if (y === -0.5) return 1 / Math.sqrt(x);
  let yi = Math.trunc(Math.abs(y));
  let yf = Math.abs(y) - yi;
  if (yf !== 0 && x < 0) return NaN;
  if (yi >= 2 ** 63) {
    if (x === -1) return 1;
    return (Math.abs(x) < 1) === (y > 0) ? 0 : Infinity;
  }
  let a1 = 1;
  let ae = 0;
  if (yf !== 0) {
    if (yf > 0.5) { yf--; yi++; }
    a1 = Math.exp(yf * goLog(x));
  }
  let [x1, xe] = frexp(x);
  for (let i = yi; i !== 0; i = Math.floor(i / 2)) {
    if (xe < -(1 << 12) || 1 << 12 < xe) {
      ae += xe;
      break;
    }
    if (i % 2 === 1) { a1 *= x1; ae += xe; }
    x1 *= x1;
    xe *= 2;
    if (x1 < 0.5) { x1 += x1; xe--; }
  }
  if (y < 0) { a1 = 1 / a1; ae = -ae; }
  return ldexp(a1, ae);
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

// Go's math.Atan/Atan2/Asin/Acos (Cephes atan.c; pure Go on amd64), which differ from JS Math's in
// the last bits.
const P0 = -8.750608600031904122785e-01, P1 = -1.615753718733365076637e+01, P2 = -7.500855792314704667340e+01;
const P3 = -1.228866684490136173410e+02, P4 = -6.485021904942025371773e+01;
const Q0 = +2.485846490142306297962e+01, Q1 = +1.650270098316988542046e+02, Q2 = +4.328810604912902668951e+02;
const Q3 = +4.853903996359136964868e+02, Q4 = +1.945506571482613964425e+02;
const MOREBITS = 6.123233995736765886130e-17;
const TAN3PIO8 = 2.41421356237309504880;

function xatan(x: number): number {
  let z = x * x;
  z = (z * ((((P0 * z + P1) * z + P2) * z + P3) * z + P4)) / (((((z + Q0) * z + Q1) * z + Q2) * z + Q3) * z + Q4);
  return x * z + x;
}

function satan(x: number): number {
  if (x <= 0.66) return xatan(x);
  if (x > TAN3PIO8) return Math.PI / 2 - xatan(1 / x) + MOREBITS;
  return Math.PI / 4 + xatan((x - 1) / (x + 1)) + 0.5 * MOREBITS;
}

export function goAtan(x: number): number {
  if (x === 0) return x;
  return x > 0 ? satan(x) : -satan(-x);
}

function copysign(x: number, y: number): number {
  const neg = y < 0 || Object.is(y, -0);
  return neg ? -Math.abs(x) : Math.abs(x);
}

export function goAtan2(y: number, x: number): number {
  if (Number.isNaN(y) || Number.isNaN(x)) return NaN;
  if (y === 0) return x >= 0 && !Object.is(x, -0) ? copysign(0, y) : copysign(Math.PI, y);
  if (x === 0) return copysign(Math.PI / 2, y);
  if (x === Infinity) return y === Infinity || y === -Infinity ? copysign(Math.PI / 4, y) : copysign(0, y);
  if (x === -Infinity) return y === Infinity || y === -Infinity ? copysign((3 * Math.PI) / 4, y) : copysign(Math.PI, y);
  if (y === Infinity || y === -Infinity) return copysign(Math.PI / 2, y);
  const q = goAtan(y / x);
  if (x < 0) return q <= 0 ? q + Math.PI : q - Math.PI;
  return q;
}

export function goAsin(x: number): number {
  if (x === 0) return x;
  let sign = false;
  if (x < 0) { x = -x; sign = true; }
  if (x > 1) return NaN;
  let temp = Math.sqrt(1 - x * x);
  temp = x > 0.7 ? Math.PI / 2 - satan(temp / x) : satan(x / temp);
  return sign ? -temp : temp;
}

export function goAcos(x: number): number {
  return Math.PI / 2 - goAsin(x);
}

// Go's math.Sin/Cos/Tan (Cephes sin.c/tan.c with Cody-Waite reduction by Pi/4). Arguments beyond
// 2^29 need Payne-Hanek reduction in Go; there we fall back to JS Math (last-bit differences only).
const SIN = [1.58962301576546568060e-10, -2.50507477628578072866e-8, 2.75573136213857245213e-6, -1.98412698295895385996e-4, 8.33333333332211858878e-3, -1.66666666666666307295e-1];
const COS = [-1.13585365213876817300e-11, 2.08757008419747316778e-9, -2.75573141792967388112e-7, 2.48015872888517045348e-5, -1.38888888888730564116e-3, 4.16666666666665929218e-2];
const TANP = [-1.30936939181383777646e4, 1.15351664838587416140e6, -1.79565251976484877988e7];
const TANQ = [1.0, 1.36812963470692954678e4, -1.32089234440210967447e6, 2.50083801823357915839e7, -5.38695755929454629881e7];
const PI4A = 7.85398125648498535156e-1, PI4B = 3.77489470793079817668e-8, PI4C = 2.69515142907905952645e-15;
const FOUR_OVER_PI = 1.27323954473516268615107010698011489627567716592365;
const REDUCE_THRESHOLD = 1 << 29;

function octant(x: number): [number, number] {
  let j = Math.floor(x * FOUR_OVER_PI);
  let y = j;
  if (j % 2 === 1) { j++; y++; }
  j %= 8;
  return [j, ((x - y * PI4A) - y * PI4B) - y * PI4C];
}

function sinPoly(z: number, zz: number): number {
  return z + z * zz * ((((((SIN[0]! * zz) + SIN[1]!) * zz + SIN[2]!) * zz + SIN[3]!) * zz + SIN[4]!) * zz + SIN[5]!);
}

function cosPoly(zz: number): number {
  return 1.0 - 0.5 * zz + zz * zz * ((((((COS[0]! * zz) + COS[1]!) * zz + COS[2]!) * zz + COS[3]!) * zz + COS[4]!) * zz + COS[5]!);
}

export function goSin(x: number): number {
  if (x === 0 || Number.isNaN(x)) return x;
  if (x === Infinity || x === -Infinity) return NaN;
  let sign = false;
  if (x < 0) { x = -x; sign = true; }
  if (x >= REDUCE_THRESHOLD) return sign ? -Math.sin(x) : Math.sin(x);
  let [j, z] = octant(x);
  if (j > 3) { sign = !sign; j -= 4; }
  const zz = z * z;
  const y = j === 1 || j === 2 ? cosPoly(zz) : sinPoly(z, zz);
  return sign ? -y : y;
}

export function goCos(x: number): number {
  if (Number.isNaN(x) || x === Infinity || x === -Infinity) return NaN;
  x = Math.abs(x);
  if (x >= REDUCE_THRESHOLD) return Math.cos(x);
  let sign = false;
  let [j, z] = octant(x);
  if (j > 3) { j -= 4; sign = !sign; }
  if (j > 1) sign = !sign;
  const zz = z * z;
  const y = j === 1 || j === 2 ? sinPoly(z, zz) : cosPoly(zz);
  return sign ? -y : y;
}

export function goTan(x: number): number {
  if (x === 0 || Number.isNaN(x)) return x;
  if (x === Infinity || x === -Infinity) return NaN;
  let sign = false;
  if (x < 0) { x = -x; sign = true; }
  if (x >= REDUCE_THRESHOLD) return sign ? -Math.tan(x) : Math.tan(x);
  let j = Math.floor(x * FOUR_OVER_PI);
  let y = j;
  if (j % 2 === 1) { j++; y++; }
  const z = ((x - y * PI4A) - y * PI4B) - y * PI4C;
  const zz = z * z;
  if (zz > 1e-14) {
    y = z + z * ((zz * (((TANP[0]! * zz) + TANP[1]!) * zz + TANP[2]!)) / ((((zz + TANQ[1]!) * zz + TANQ[2]!) * zz + TANQ[3]!) * zz + TANQ[4]!));
  } else y = z;
  if ((j & 2) === 2) y = -1 / y;
  return sign ? -y : y;
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
