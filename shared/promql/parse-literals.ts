// Literal values of PromQL with Go's exact rules: numbers (strconv.ParseInt base 0, then
// ParseFloat), durations (model.ParseDuration / model.Duration.String), strings
// (Prometheus' strutil.Unquote: Go escapes, plus single-quoted strings) and Go's %q quoting.

import { CodedError } from "../encoding/errors.ts";

const MS = { y: 365 * 24 * 3600_000, w: 7 * 24 * 3600_000, d: 24 * 3600_000, h: 3600_000, m: 60_000, s: 1000, ms: 1 };
const DURATION_RE = /^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;
/** time.Duration is int64 nanoseconds: about 292 years. */
const MAX_DURATION_MS = 9223372036854.775;

/**
 * model.ParseDuration: `1h30m`, `5ms`, units in descending order, each at most once; "0" is allowed.
 * Returns milliseconds; throws CodedError "bad_data".
 */
export function parseDuration(s: string): number {
  if (s === "0") return 0;
  if (s === "") throw new CodedError("bad_data", "empty duration string");
  const m = DURATION_RE.exec(s);
  if (m === null) throw new CodedError("bad_data", `not a valid duration string: ${JSON.stringify(s)}`);
  const mults = [MS.y, MS.w, MS.d, MS.h, MS.m, MS.s, MS.ms];
  let total = 0;
  for (let i = 0; i < mults.length; i++) {
    const g = m[i + 1];
    if (g === undefined) continue;
    const n = Number(g);
    if (n > MAX_DURATION_MS / mults[i]!) throw new CodedError("bad_data", "duration out of range");
    total += n * mults[i]!;
    if (total > MAX_DURATION_MS) throw new CodedError("bad_data", "duration out of range");
  }
  return total;
}

/** model.Duration.String(): `1h30m`, `90d`, `1y`, `0s`; y and w only when they divide exactly. */
export function durationString(ms: number): string {
  if (ms === 0) return "0s";
  let out = "";
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const unit = (u: string, mult: number, exact: boolean) => {
    if (exact && ms % mult !== 0) return;
    const v = Math.floor(ms / mult);
    if (v > 0) {
      out += `${v}${u}`;
      ms -= v * mult;
    }
  };
  unit("y", MS.y, true);
  unit("w", MS.w, true);
  unit("d", MS.d, false);
  unit("h", MS.h, false);
  unit("m", MS.m, false);
  unit("s", MS.s, false);
  unit("ms", 1, false);
  return out;
}

const DEC_FLOAT_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEX_FLOAT_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/;
const SPECIAL_RE = /^([+-]?)(inf|infinity|nan)$/i;

/** Go's underscoreOK: `_` only between digits, or between a base prefix and a digit. */
function underscoresOk(s: string): boolean {
  const body = s.replace(/^[+-]/, "");
  const hex = /^0[xX]/.test(body);
  const digit = hex ? /[0-9a-fA-F]/ : /[0-9]/;
  for (let i = 0; i < body.length; i++) {
    if (body[i] !== "_") continue;
    const prev = body[i - 1] ?? "", next = body[i + 1] ?? "";
    if (!(digit.test(prev) || (hex && i === 2)) || !digit.test(next)) return false;
  }
  return true;
}

/**
 * Go strconv.ParseFloat(s, 64): decimal with exponent, hex with a p exponent, inf/infinity/nan in
 * any case with optional sign, `_` between digits. Returns null where Go returns an error
 * (syntax, or overflow to infinity).
 */
export function goParseFloat(s: string): number | null {
  const sp = SPECIAL_RE.exec(s);
  if (sp) {
    if (sp[2]!.toLowerCase() === "nan") return sp[1] === "" ? NaN : null;
    return sp[1] === "-" ? -Infinity : Infinity;
  }
  if (s.includes("_")) {
    if (!underscoresOk(s)) return null;
    s = s.replace(/_/g, "");
  }
  const hx = HEX_FLOAT_RE.exec(s);
  if (hx) {
    const int = hx[2]!, frac = hx[3] ?? "";
    if (int === "" && frac === "") return null;
    let m = 0;
    for (const c of int + frac) m = m * 16 + parseInt(c, 16);
    const v = m * Math.pow(2, Number(hx[4]) - 4 * frac.length);
    if (!Number.isFinite(v)) return null;
    return hx[1] === "-" ? -v : v;
  }
  if (!DEC_FLOAT_RE.test(s)) return null;
  const v = Number(s);
  if (!Number.isFinite(v)) return null; // Go: ErrRange on overflow
  return v;
}

/**
 * A NUMBER token's value as Prometheus computes it: strconv.ParseInt(val, 0, 64) first (so `010`
 * is octal 8 and `0x1F` is 31), then strconv.ParseFloat. Returns null where Go returns an error.
 */
export function parseNumberToken(val: string): number | null {
  let m: RegExpExecArray | null;
  if ((m = /^0[xX]([0-9a-fA-F]+)$/.exec(val))) {
    const n = BigInt("0x" + m[1]!);
    return n <= 0x7fffffffffffffffn ? Number(n) : null; // overflowing hex falls to ParseFloat, which rejects it
  }
  if (/^0[0-7]+$/.test(val)) {
    const n = BigInt("0o" + val.slice(1));
    if (n <= 0x7fffffffffffffffn) return Number(n);
  }
  return goParseFloat(val);
}

/** Prometheus strutil.Unquote of a STRING token the lexer already validated (quotes included). */
export function unquoteString(s: string): string {
  const q = s[0];
  const body = s.slice(1, -1);
  if (q === "`") return body.replace(/\r/g, "");
  if (!body.includes("\\")) return body;
  // \x and octal escapes produce raw bytes (possibly not UTF-8), so build bytes and decode once.
  const bytes: number[] = [];
  const enc = new TextEncoder();
  const pushRune = (cp: number) => { for (const b of enc.encode(String.fromCodePoint(cp))) bytes.push(b); };
  for (let i = 0; i < body.length; ) {
    const c = body.codePointAt(i)!;
    if (c !== 0x5c) {
      pushRune(c);
      i += c > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1]!;
    i += 2;
    switch (e) {
      case "a": bytes.push(7); break;
      case "b": bytes.push(8); break;
      case "f": bytes.push(12); break;
      case "n": bytes.push(10); break;
      case "r": bytes.push(13); break;
      case "t": bytes.push(9); break;
      case "v": bytes.push(11); break;
      case "\\": bytes.push(0x5c); break;
      case "'": bytes.push(0x27); break;
      case '"': bytes.push(0x22); break;
      case "x": bytes.push(parseInt(body.slice(i, i + 2), 16)); i += 2; break;
      case "u": pushRune(parseInt(body.slice(i, i + 4), 16)); i += 4; break;
      case "U": pushRune(parseInt(body.slice(i, i + 8), 16)); i += 8; break;
      default: // octal \NNN
        bytes.push(parseInt(body.slice(i - 1, i + 2), 8));
        i += 2;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Go strconv.Quote (fmt %q): one implementation for the whole code base, with Go's printable-rune tables. */
export { goQuote } from "../labels/labels.ts";
