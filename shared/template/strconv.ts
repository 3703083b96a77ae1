// The parts of Go's strconv the template engine needs, with Go's exact output and error texts:
// Quote/QuoteToASCII/QuoteRune/CanBackquote, Unquote/UnquoteChar, ParseInt/ParseUint (base 0),
// ParseFloat, and FormatFloat ('e','E','f','g','G','b','x','X'; shortest or fixed precision).
//
// FormatFloat: shortest digits come from Number.prototype.toExponential() (shortest round-trip, the
// same digits Go picks). Fixed precision comes from toExponential(n)/toFixed(n), which round the exact
// binary value correctly but break exact ties away from zero, where Go rounds half to even: a tie is
// recognised exactly from the float's bits (x = m·2^e with m odd ties at decimal place p iff e = -(p+1))
// and the last digit is moved back. Precisions beyond what JS supports use exact BigInt decimals.

import { utf8Bytes, fromUtf8 } from "./value.ts";

// ---------------------------------------------------------------------------------------------
// Quoting

const PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const GRAPHIC_EXTRA = /^\p{Zs}$/u;

/** Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and ASCII space. */
export function isPrint(r: number): boolean {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) return false;
  return PRINT.test(String.fromCodePoint(r));
}

/** Go's unicode.IsGraphic (IsPrint plus other space separators). */
export function isGraphic(r: number): boolean {
  return isPrint(r) || (r >= 0x80 && r <= 0x10ffff && GRAPHIC_EXTRA.test(String.fromCodePoint(r)));
}

const HEX = "0123456789abcdef";

function escapeRune(out: string[], r: number, quote: number, asciiOnly: boolean): void {
  if (r === quote || r === 0x5c) {
    out.push("\\", String.fromCodePoint(r));
    return;
  }
  if (asciiOnly) {
    if (r < 0x80 && isPrint(r)) {
      out.push(String.fromCharCode(r));
      return;
    }
  } else if (isPrint(r)) {
    out.push(String.fromCodePoint(r));
    return;
  }
  switch (r) {
    case 7: out.push("\\a"); return;
    case 8: out.push("\\b"); return;
    case 12: out.push("\\f"); return;
    case 10: out.push("\\n"); return;
    case 13: out.push("\\r"); return;
    case 9: out.push("\\t"); return;
    case 11: out.push("\\v"); return;
  }
  if (r < 0x20 || r === 0x7f) {
    out.push("\\x", HEX[r >> 4]!, HEX[r & 15]!);
    return;
  }
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff)) r = 0xfffd;
  if (r < 0x10000) out.push("\\u", r.toString(16).padStart(4, "0"));
  else out.push("\\U", r.toString(16).padStart(8, "0"));
}

function quoteWith(s: string, quote: number, asciiOnly: boolean): string {
  const q = String.fromCharCode(quote);
  // Fast path: printable ASCII without quote or backslash.
  let simple = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === quote || c === 0x5c) {
      simple = false;
      break;
    }
  }
  if (simple) return q + s + q;
  const out: string[] = [q];
  for (let i = 0; i < s.length; ) {
    const r = s.codePointAt(i)!;
    i += r > 0xffff ? 2 : 1;
    escapeRune(out, r, quote, asciiOnly);
  }
  out.push(q);
  return out.join("");
}

/** strconv.Quote */
export function quote(s: string): string {
  return quoteWith(s, 0x22, false);
}

/** strconv.QuoteToASCII */
export function quoteToASCII(s: string): string {
  return quoteWith(s, 0x22, true);
}

/** strconv.QuoteRune / QuoteRuneToASCII */
export function quoteRune(r: number, asciiOnly = false): string {
  if (r > 0x10ffff || (r >= 0xd800 && r <= 0xdfff) || r < 0) r = 0xfffd;
  const out: string[] = ["'"];
  escapeRune(out, r, 0x27, asciiOnly);
  out.push("'");
  return out.join("");
}

/** strconv.CanBackquote */
export function canBackquote(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0xfeff) return false;
    if (c >= 0xd800 && c <= 0xdfff) {
      const lone = c >= 0xdc00 || i + 1 >= s.length || (s.charCodeAt(i + 1) & 0xfc00) !== 0xdc00;
      if (lone) return false;
      i++;
      continue;
    }
    if ((c < 0x20 && c !== 9) || c === 0x60 || c === 0x7f) return false;
  }
  return true;
}

/** fmt's %#U: U+0041 'A' (the rune only when printable). */
export function sharpU(r: number): string {
  let s = "U+" + r.toString(16).toUpperCase().padStart(4, "0");
  if (r >= 0 && r <= 0x10ffff && isPrint(r)) s += " '" + String.fromCodePoint(r) + "'";
  return s;
}

// ---------------------------------------------------------------------------------------------
// Unquoting

export class UnquoteError extends Error {
  constructor() {
    super("invalid syntax");
  }
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * strconv.UnquoteChar over a JS string from index i. Returns the value, whether it is a byte (from
 * \x or octal: appended as a raw byte) and the index after it; throws UnquoteError.
 */
export function unquoteChar(s: string, i: number, quote: number): { value: number; byte: boolean; next: number } {
  const c = s.codePointAt(i);
  if (c === undefined) throw new UnquoteError();
  if (c === quote && (quote === 0x27 || quote === 0x22)) throw new UnquoteError();
  if (c !== 0x5c) return { value: c, byte: false, next: i + (c > 0xffff ? 2 : 1) };
  if (i + 1 >= s.length) throw new UnquoteError();
  const e = s.charCodeAt(i + 1);
  let j = i + 2;
  switch (e) {
    case 0x61: return { value: 7, byte: false, next: j };
    case 0x62: return { value: 8, byte: false, next: j };
    case 0x66: return { value: 12, byte: false, next: j };
    case 0x6e: return { value: 10, byte: false, next: j };
    case 0x72: return { value: 13, byte: false, next: j };
    case 0x74: return { value: 9, byte: false, next: j };
    case 0x76: return { value: 11, byte: false, next: j };
    case 0x78: case 0x75: case 0x55: {
      const n = e === 0x78 ? 2 : e === 0x75 ? 4 : 8;
      if (s.length - j < n) throw new UnquoteError();
      let v = 0;
      for (let k = 0; k < n; k++) {
        const x = unhex(s.charCodeAt(j + k));
        if (x < 0) throw new UnquoteError();
        v = v * 16 + x;
      }
      j += n;
      if (e === 0x78) return { value: v, byte: true, next: j };
      if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) throw new UnquoteError();
      return { value: v, byte: false, next: j };
    }
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x36: case 0x37: {
      let v = e - 0x30;
      if (s.length - j < 2) throw new UnquoteError();
      for (let k = 0; k < 2; k++) {
        const x = s.charCodeAt(j + k) - 0x30;
        if (x < 0 || x > 7) throw new UnquoteError();
        v = v * 8 + x;
      }
      j += 2;
      if (v > 255) throw new UnquoteError();
      return { value: v, byte: true, next: j };
    }
    case 0x5c:
      return { value: 0x5c, byte: false, next: j };
    case 0x27: case 0x22:
      if (e !== quote) throw new UnquoteError();
      return { value: e, byte: false, next: j };
  }
  throw new UnquoteError();
}

/** strconv.Unquote for "..." and `...` literals (and '...' of one rune); throws UnquoteError. */
export function unquote(s: string): string {
  const n = s.length;
  if (n < 2) throw new UnquoteError();
  const q = s.charCodeAt(0);
  if (q !== s.charCodeAt(n - 1)) throw new UnquoteError();
  const body = s.slice(1, n - 1);
  if (q === 0x60) {
    if (body.includes("`")) throw new UnquoteError();
    return body.includes("\r") ? body.replace(/\r/g, "") : body;
  }
  if (q !== 0x22 && q !== 0x27) throw new UnquoteError();
  if (body.includes("\n")) throw new UnquoteError();
  if (!body.includes("\\") && !body.includes(String.fromCharCode(q))) {
    if (q === 0x22) return body;
    if (q === 0x27 && body.length > 0 && [...body].length === 1) return body;
  }
  const bytes: number[] = [];
  let hasBytes = false;
  let out = "";
  let i = 0;
  let runes = 0;
  while (i < body.length) {
    const r = unquoteChar(body, i, q);
    i = r.next;
    runes++;
    if (r.byte) {
      bytes.push(r.value);
      hasBytes = true;
    } else if (hasBytes) {
      for (const b of utf8Bytes(String.fromCodePoint(r.value))) bytes.push(b);
    } else {
      out += String.fromCodePoint(r.value);
    }
    if (q === 0x27 && runes > 1) throw new UnquoteError();
  }
  if (q === 0x27 && runes !== 1) throw new UnquoteError();
  if (hasBytes) return out + fromUtf8(new Uint8Array(bytes));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Integers

const MAX_INT64 = (1n << 63n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;

export type IntResult = { ok: true; v: bigint } | { ok: false; err: "invalid syntax" | "value out of range"; v: bigint };

function underscoreOK(s: string): boolean {
  // Go's underscoreOK: underscores only between digits (or after a base prefix).
  let saw = "^";
  let i = 0;
  if (s.length >= 1 && (s[0] === "-" || s[0] === "+")) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    i = 2;
    saw = "0";
    hex = s[1] === "x" || s[1] === "X";
  }
  for (; i < s.length; i++) {
    const c = s[i]!;
    if ((c >= "0" && c <= "9") || (hex && /[a-fA-F]/.test(c))) {
      saw = "0";
      continue;
    }
    if (c === "_") {
      if (saw !== "0") return false;
      saw = "_";
      continue;
    }
    if (saw === "_") return false;
    saw = "!";
  }
  return saw !== "_";
}

/** strconv.ParseUint(s, 0, 64). */
export function parseUint(s0: string): IntResult {
  let s = s0;
  if (s === "") return { ok: false, err: "invalid syntax", v: 0n };
  let base = 10;
  if (s[0] === "0") {
    if (s.length >= 3 && (s[1] === "b" || s[1] === "B")) { base = 2; s = s.slice(2); }
    else if (s.length >= 3 && (s[1] === "o" || s[1] === "O")) { base = 8; s = s.slice(2); }
    else if (s.length >= 3 && (s[1] === "x" || s[1] === "X")) { base = 16; s = s.slice(2); }
    else { base = 8; s = s.slice(1); }
  }
  let v = 0n;
  let underscores = false;
  const B = BigInt(base);
  for (const c of s) {
    if (c === "_") {
      underscores = true;
      continue;
    }
    const d = unhex(c.charCodeAt(0));
    if (d < 0 || d >= base) return { ok: false, err: "invalid syntax", v: 0n };
    v = v * B + BigInt(d);
    if (v > MAX_UINT64) return { ok: false, err: "value out of range", v: MAX_UINT64 };
  }
  if (underscores && !underscoreOK(s0)) return { ok: false, err: "invalid syntax", v: 0n };
  return { ok: true, v };
}

/** strconv.ParseInt(s, 0, 64). */
export function parseInt64(s: string): IntResult {
  if (s === "") return { ok: false, err: "invalid syntax", v: 0n };
  let neg = false;
  let body = s;
  if (s[0] === "+" || s[0] === "-") {
    neg = s[0] === "-";
    body = s.slice(1);
  }
  const u = parseUint(body);
  if (!u.ok && u.err === "invalid syntax") return u;
  if (!u.ok) return { ok: false, err: "value out of range", v: neg ? -MAX_INT64 - 1n : MAX_INT64 };
  if (!neg && u.v > MAX_INT64) return { ok: false, err: "value out of range", v: MAX_INT64 };
  if (neg && u.v > MAX_INT64 + 1n) return { ok: false, err: "value out of range", v: -MAX_INT64 - 1n };
  return { ok: true, v: neg ? -u.v : u.v };
}

// ---------------------------------------------------------------------------------------------
// ParseFloat

export interface FloatResult {
  v: number;
  err?: "invalid syntax" | "value out of range";
}

function special(s: string): { v: number; n: number } | null {
  if (s === "") return null;
  let sign = 1;
  let nsign = 0;
  let t = s;
  const c = s[0]!;
  if (c === "+" || c === "-") {
    if (c === "-") sign = -1;
    nsign = 1;
    t = s.slice(1);
    let n = commonPrefixLenIgnoreCase(t, "infinity");
    if (n > 3 && n < 8) n = 3;
    if (n === 3 || n === 8) return { v: sign * Infinity, n: nsign + n };
    return null;
  }
  if (c === "i" || c === "I") {
    let n = commonPrefixLenIgnoreCase(t, "infinity");
    if (n > 3 && n < 8) n = 3;
    if (n === 3 || n === 8) return { v: Infinity, n };
    return null;
  }
  if (c === "n" || c === "N") {
    if (commonPrefixLenIgnoreCase(t, "nan") === 3) return { v: NaN, n: 3 };
  }
  return null;
}

function commonPrefixLenIgnoreCase(s: string, prefix: string): number {
  const n = Math.min(prefix.length, s.length);
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== prefix.charCodeAt(i)) return i;
  }
  return n;
}

const DEC_FLOAT = /^[+-]?(?:[0-9_]+\.?[0-9_]*|\.[0-9_]+)(?:[eE][+-]?[0-9_]+)?$/;
const HEX_FLOAT = /^([+-]?)0[xX]((?:[0-9a-fA-F_]+\.?[0-9a-fA-F_]*|\.[0-9a-fA-F_]+))[pP]([+-]?[0-9_]+)$/;

/** strconv.ParseFloat(s, 64); on error v is what Go returns alongside it. */
export function parseFloat64(s: string): FloatResult {
  const sp = special(s);
  if (sp !== null) return sp.n === s.length ? { v: sp.v } : { v: 0, err: "invalid syntax" };
  const hx = HEX_FLOAT.exec(s);
  if (hx !== null) {
    if (!/[0-9a-fA-F]/.test(hx[2]!)) return { v: 0, err: "invalid syntax" };
    if (s.includes("_") && !underscoreOK(s)) return { v: 0, err: "invalid syntax" };
    const [intPart, frac = ""] = hx[2]!.replace(/_/g, "").split(".");
    const mant = BigInt("0x" + ((intPart ?? "") + frac || "0"));
    let exp = Number(hx[3]!.replace(/_/g, "")) - 4 * frac.length;
    let v = Number(mant); // exact for up to 53 significant bits; larger mantissas round here
    if (mant > (1n << 53n)) {
      // Keep 64 significant bits plus sticky, then let Number round once.
      const bits = mant.toString(2).length;
      const shift = bits - 64;
      if (shift > 0) {
        const sticky = (mant & ((1n << BigInt(shift)) - 1n)) !== 0n ? 1n : 0n;
        v = Number((mant >> BigInt(shift)) | sticky);
        exp += shift;
      }
    }
    v = scale2(v, exp);
    if (hx[1] === "-") v = -v;
    if (!Number.isFinite(v)) return { v, err: "value out of range" };
    return { v };
  }
  if (!DEC_FLOAT.test(s) || !/[0-9]/.test(s.replace(/[eE].*$/, ""))) return { v: 0, err: "invalid syntax" };
  let t = s;
  if (s.includes("_")) {
    if (!underscoreOK(s)) return { v: 0, err: "invalid syntax" };
    t = s.replace(/_/g, "");
  }
  const v = Number(t);
  if (!Number.isFinite(v)) return { v, err: "value out of range" };
  return { v };
}

function scale2(v: number, exp: number): number {
  while (exp > 1000) { v *= 2 ** 1000; exp -= 1000; }
  while (exp < -1000) { v *= 2 ** -1000; exp += 1000; }
  return v * 2 ** exp;
}

// ---------------------------------------------------------------------------------------------
// FormatFloat

/** Decimal digits: value = 0.d × 10^dp; d has no leading or trailing zeros ("" is zero). */
interface Digits {
  d: string;
  dp: number;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Little-endian on every runtime we target (x86, ARM).
const HI = 1;
const LO = 0;

/** a = m·2^e with m odd (a > 0, finite). */
function decompose(a: number): { m: number; e: number } {
  f64[0] = a;
  const hi = u32[HI]!;
  const lo = u32[LO]!;
  const expField = (hi >>> 20) & 0x7ff;
  let m = (hi & 0xfffff) * 4294967296 + lo;
  let e: number;
  if (expField === 0) e = -1074;
  else {
    m += 4503599627370496; // 2^52
    e = expField - 1075;
  }
  while (m % 2 === 0) {
    m /= 2;
    e++;
  }
  return { m, e };
}

/** Whether a is exactly halfway between two decimals at decimal place p (p<0: tens, hundreds...). */
function isTie(a: number, p: number): boolean {
  const { m, e } = decompose(a);
  if (p >= 0) return e === -(p + 1);
  const q = -p;
  if (e !== q - 1) return false;
  if (q > 22) return false;
  return m % 5 ** q === 0;
}

function trimDigits(d: string, dp: number): Digits {
  let i = 0;
  while (i < d.length && d.charCodeAt(i) === 0x30) {
    i++;
    dp--;
  }
  let j = d.length;
  while (j > i && d.charCodeAt(j - 1) === 0x30) j--;
  if (i === j) return { d: "", dp: 0 };
  return { d: d.slice(i, j), dp };
}

/** Parses toExponential() output "d.ddde±x" into digits (not trimmed) and exponent. */
function parseExp(s: string): { d: string; x: number } {
  const e = s.indexOf("e");
  const mant = s.slice(0, e);
  return { d: mant.length > 1 ? mant[0] + mant.slice(2) : mant, x: Number(s.slice(e + 1)) };
}

function shortestDigits(a: number): Digits {
  const { d, x } = parseExp(a.toExponential());
  return trimDigits(d, x + 1);
}

function decDigit(d: string, i: number): string {
  return d.slice(0, i) + String.fromCharCode(d.charCodeAt(i) - 1) + d.slice(i + 1);
}

/** a rounded to n ≥ 1 significant digits, ties to even. */
function sigDigits(a: number, n: number): Digits {
  if (n > 101) return roundExact(exactDigits(a), () => n);
  const { d, x } = parseExp(a.toExponential(n - 1));
  let ds = d;
  const last = ds.charCodeAt(ds.length - 1) - 0x30;
  if (last % 2 === 1 && isTie(a, n - 1 - x)) ds = decDigit(ds, ds.length - 1);
  return trimDigits(ds, x + 1);
}

/** a rounded to p ≥ 0 decimal places, ties to even. */
function fracDigits(a: number, p: number): Digits {
  if (p > 100 || a >= 1e21) return roundExact(exactDigits(a), (x) => x.dp + p);
  let s = a.toFixed(p);
  const last = s.charCodeAt(s.length - 1) - 0x30;
  if (last % 2 === 1 && isTie(a, p)) s = decDigit(s, s.length - 1);
  const dot = s.indexOf(".");
  const intLen = dot < 0 ? s.length : dot;
  return trimDigits(dot < 0 ? s : s.slice(0, dot) + s.slice(dot + 1), intLen);
}

/** The exact decimal expansion of a > 0. */
function exactDigits(a: number): Digits {
  const { m, e } = decompose(a);
  if (e >= 0) {
    const s = (BigInt(m) << BigInt(e)).toString();
    return trimDigits(s, s.length);
  }
  const s = (BigInt(m) * 5n ** BigInt(-e)).toString();
  return trimDigits(s, s.length + e);
}

/** Rounds exact digits to keep(d) digits, half to even. */
function roundExact(x: Digits, keep: (x: Digits) => number): Digits {
  const k = keep(x);
  const d = x.d;
  if (k >= d.length) return x;
  if (k < 0) return { d: "", dp: 0 };
  const c = d.charCodeAt(k);
  let up = c > 0x35;
  if (c === 0x35) {
    up = k + 1 < d.length || (k > 0 && (d.charCodeAt(k - 1) - 0x30) % 2 === 1);
  }
  if (!up) return trimDigits(d.slice(0, k), x.dp);
  // Increment d[0:k].
  const arr = d.slice(0, k).split("");
  let i = k - 1;
  while (i >= 0 && arr[i] === "9") {
    arr[i] = "0";
    i--;
  }
  if (i < 0) return { d: "1", dp: x.dp + 1 };
  arr[i] = String.fromCharCode(arr[i]!.charCodeAt(0) + 1);
  return trimDigits(arr.join(""), x.dp);
}

function fmtE(neg: boolean, d: Digits, prec: number, fmt: string): string {
  let s = neg ? "-" : "";
  s += d.d.length > 0 ? d.d[0] : "0";
  if (prec > 0) {
    s += ".";
    const m = Math.min(d.d.length, prec + 1);
    if (m > 1) s += d.d.slice(1, m);
    for (let i = Math.max(m, 1); i <= prec; i++) s += "0";
  }
  s += fmt;
  let exp = d.d.length === 0 ? 0 : d.dp - 1;
  if (exp < 0) {
    s += "-";
    exp = -exp;
  } else s += "+";
  s += exp < 10 ? "0" + exp : String(exp);
  return s;
}

function fmtF(neg: boolean, d: Digits, prec: number): string {
  let s = neg ? "-" : "";
  if (d.dp > 0) {
    const m = Math.min(d.d.length, d.dp);
    s += d.d.slice(0, m);
    for (let i = m; i < d.dp; i++) s += "0";
  } else s += "0";
  if (prec > 0) {
    s += ".";
    for (let i = 0; i < prec; i++) {
      const j = d.dp + i;
      s += j >= 0 && j < d.d.length ? d.d[j] : "0";
    }
  }
  return s;
}

function formatDigits(neg: boolean, d: Digits, shortest: boolean, prec: number, fmt: string): string {
  switch (fmt) {
    case "e":
    case "E":
      return fmtE(neg, d, prec, fmt);
    case "f":
      return fmtF(neg, d, prec);
  }
  // g, G
  let eprec = prec;
  const nd = d.d.length;
  if (eprec > nd && nd >= d.dp) eprec = nd;
  if (shortest) eprec = 6;
  const exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > nd) prec = nd;
    return fmtE(neg, d, prec - 1, fmt === "g" ? "e" : "E");
  }
  if (prec > d.dp) prec = nd;
  return fmtF(neg, d, Math.max(prec - d.dp, 0));
}

/** strconv.FormatFloat(v, fmt, prec, 64). */
export function formatFloat(v: number, fmt: string, prec: number): string {
  if (v !== v) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  const neg = v < 0 || Object.is(v, -0);
  const a = neg ? -v : v;
  if (fmt === "b") return fmtB(neg, a);
  if (fmt === "x" || fmt === "X") return fmtX(neg, a, prec, fmt);
  const shortest = prec < 0;
  if (a === 0) {
    const d = { d: "", dp: 0 };
    if (shortest) prec = fmt === "g" || fmt === "G" ? 0 : 0;
    return formatDigits(neg, d, shortest, prec, fmt);
  }
  if (shortest) {
    const d = shortestDigits(a);
    switch (fmt) {
      case "e": case "E": prec = Math.max(d.d.length - 1, 0); break;
      case "f": prec = Math.max(d.d.length - d.dp, 0); break;
      case "g": case "G": prec = d.d.length; break;
    }
    return formatDigits(neg, d, true, prec, fmt);
  }
  let d: Digits;
  switch (fmt) {
    case "f":
      d = fracDigits(a, prec);
      break;
    case "e":
    case "E":
      d = sigDigits(a, prec + 1);
      break;
    case "g":
    case "G":
      if (prec === 0) prec = 1;
      d = sigDigits(a, prec);
      break;
    default:
      return "%" + fmt;
  }
  return formatDigits(neg, d, false, prec, fmt);
}

function bitsOf(a: number): { mant: bigint; exp: number } {
  f64[0] = a;
  const hi = u32[HI]!;
  const lo = u32[LO]!;
  let exp = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (exp === 0) exp = 1;
  else mant |= 1n << 52n;
  return { mant, exp: exp - 1023 };
}

function fmtB(neg: boolean, a: number): string {
  const { mant, exp } = bitsOf(a);
  const e = exp - 52;
  return (neg ? "-" : "") + mant.toString() + "p" + (e >= 0 ? "+" : "") + e;
}

function fmtX(neg: boolean, a: number, prec: number, fmt: string): string {
  let { mant, exp } = bitsOf(a);
  if (mant === 0n) exp = 0;
  mant <<= 60n - 52n;
  while (mant !== 0n && (mant & (1n << 60n)) === 0n) {
    mant <<= 1n;
    exp--;
  }
  if (prec >= 0 && prec < 15) {
    const shift = BigInt(prec * 4);
    const extra = (mant << shift) & ((1n << 60n) - 1n);
    mant >>= 60n - shift;
    if ((extra | (mant & 1n)) > 1n << 59n) mant++;
    mant <<= 60n - shift;
    if ((mant & (1n << 61n)) !== 0n) {
      mant >>= 1n;
      exp++;
    }
  }
  const hex = fmt === "X" ? "0123456789ABCDEF" : "0123456789abcdef";
  let s = neg ? "-" : "";
  s += "0" + fmt + String((mant >> 60n) & 1n);
  mant = (mant << 4n) & ((1n << 64n) - 1n);
  if (prec < 0 && mant !== 0n) {
    s += ".";
    while (mant !== 0n) {
      s += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  } else if (prec > 0) {
    s += ".";
    for (let i = 0; i < prec; i++) {
      s += hex[Number((mant >> 60n) & 15n)];
      mant = (mant << 4n) & ((1n << 64n) - 1n);
    }
  }
  s += fmt === "X" ? "P" : "p";
  if (exp < 0) {
    s += "-";
    exp = -exp;
  } else s += "+";
  s += exp < 10 ? "0" + exp : String(exp);
  return s;
}
