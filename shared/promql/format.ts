// Go's float and JSON formatting, byte for byte as Prometheus 2.42's HTTP API prints values.
// JS's shortest round-trip digits (Number#toString) are the same digits Go's strconv picks with
// precision -1; only the layout differs (exponent padding, when to switch to exponent form).

/** strconv.FormatFloat(v, 'f', -1, 64): positional always; "NaN", "+Inf", "-Inf", "-0". */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const a = Math.abs(v);
  if (a >= 1e-6 && a < 1e21) return String(v);
  // JS switched to exponent form: expand the shortest digits positionally.
  const [mant, expStr] = a.toExponential().split("e") as [string, string];
  const digits = mant.replace(".", "");
  const exp = Number(expStr);
  let out: string;
  if (exp >= 0) out = digits + "0".repeat(Math.max(0, exp + 1 - digits.length));
  else out = "0." + "0".repeat(-exp - 1) + digits;
  return v < 0 ? "-" + out : out;
}

/** strconv.FormatFloat(v, 'e', -1, 64): `1e-07`, `1.5e+21` (exponent at least two digits). */
export function formatExp(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0e+00" : "0e+00";
  const [mant, expStr] = v.toExponential().split("e") as [string, string];
  const sign = expStr[0] === "-" ? "-" : "+";
  const digits = expStr.replace(/^[+-]/, "");
  return `${mant}e${sign}${digits.padStart(2, "0")}`;
}

/**
 * A sample value inside a vector or matrix result (Prometheus' marshalPointJSON): 'f' form, but
 * 'e' form when |v| < 1e-6 or |v| >= 1e21 (jsoniter's cut-offs). Scalars use formatValue.
 */
export function formatSampleValue(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && Number.isFinite(a) && (a < 1e-6 || a >= 1e21)) return formatExp(v);
  return formatValue(v);
}

/** A sample timestamp in a vector/matrix: unix seconds with a 3-digit fraction when not whole ("12.500"). */
export function formatPointTime(ms: number): string {
  let s = "";
  if (ms < 0) {
    s = "-";
    ms = -ms;
  }
  const sec = Math.floor(ms / 1000);
  const frac = ms - sec * 1000;
  s += String(sec);
  if (frac !== 0) s += "." + String(frac).padStart(3, "0");
  return s;
}

/** encoding/json's float64 (used by Prometheus for scalar/string timestamps): shortest, 'e' outside [1e-6, 1e21). */
export function formatJsonFloat(v: number): string {
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  return String(v);
}

/** fmt.Sprint(float64) (%v, i.e. %g with shortest digits): exponent form when exp < -4 or exp >= 6 ("1e+06"). */
export function formatGoFloat(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v === 0) return Object.is(v, -0) ? "-0" : "0";
  const exp = Number(Math.abs(v).toExponential().split("e")[1]);
  return exp < -4 || exp >= 6 ? formatExp(v) : formatValue(v);
}

const HEX = "0123456789abcdef";

/**
 * A JSON string as Go's encoding/json (and jsoniter's standard-library mode) writes it: HTML-safe
 * (<, >, & as \u003c, \u003e, \u0026), U+2028/U+2029 escaped, control characters as \u00XX except
 * \n \r \t, lone surrogates as U+FFFD (Go sees invalid UTF-8 there).
 */
export function jsonString(s: string): string {
  let out = '"';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | null = null;
    if (c < 0x20) {
      rep = c === 0x0a ? "\\n" : c === 0x0d ? "\\r" : c === 0x09 ? "\\t" : "\\u00" + HEX[c >> 4]! + HEX[c & 15]!;
    } else if (c === 0x22) rep = '\\"';
    else if (c === 0x5c) rep = "\\\\";
    else if (c === 0x3c) rep = "\\u003c";
    else if (c === 0x3e) rep = "\\u003e";
    else if (c === 0x26) rep = "\\u0026";
    else if (c === 0x2028) rep = "\\u2028";
    else if (c === 0x2029) rep = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdfff) {
      const hiOk = c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (hiOk) {
        i++;
        continue;
      }
      rep = "\ufffd";
    }
    if (rep !== null) {
      out += s.slice(last, i) + rep;
      last = i + 1;
    }
  }
  return out + s.slice(last) + '"';
}
