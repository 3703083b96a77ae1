// Go's text forms that tool output is compared with byte for byte: time.Duration's String and
// ParseDuration, time.Time's RFC 3339 in the process' zone (Go's time.Local: here the JS engine's zone),
// golang.org/x/text's English grouping of integers (`message.NewPrinter(language.English).Sprintf("%d")`)
// and go-runewidth's display width (what tablewriter pads with).

import { compareStrings } from "../labels/labels.ts";

/** time.Duration.String() of a whole number of milliseconds: "336h0m0s", "1h30m0.5s", "1.5s", "250ms". */
export function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  let x = Math.abs(ms);
  if (x < 1000) return `${neg ? "-" : ""}${x}ms`;
  const h = Math.floor(x / 3600e3); x -= h * 3600e3;
  const m = Math.floor(x / 60e3); x -= m * 60e3;
  const s = x / 1000;
  const sec = Number.isInteger(s) ? `${s}s` : `${s.toFixed(3).replace(/0+$/, "")}s`;
  const out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  return (neg ? "-" : "") + out;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration, in nanoseconds (as a float: exact to 2^53 ns, about 104 days); null when Go rejects it. */
export function parseGoDuration(s: string): number | null {
  let i = 0, neg = false;
  if (s[0] === "-" || s[0] === "+") { neg = s[0] === "-"; i = 1; }
  if (s.slice(i) === "0") return 0;
  if (i >= s.length) return null;
  let total = 0;
  const re = /([0-9]*)(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h)/y;
  while (i < s.length) {
    re.lastIndex = i;
    const m = re.exec(s);
    if (!m || (m[1] === "" && (m[2] === undefined || m[2] === "."))) return null;
    total += Number((m[1] || "0") + (m[2] ?? "")) * UNIT_NS[m[3]!]!;
    i = re.lastIndex;
  }
  return neg ? -total : total;
}

function pad2(n: number): string { return n < 10 ? `0${n}` : String(n); }

/**
 * time.Unix(sec, 0).Format(time.RFC3339) in the local zone: "2026-12-02T14:00:00Z" in UTC,
 * "2026-12-02T19:30:00+05:30" elsewhere (Go prints "Z" only for a zero offset).
 */
export function goRFC3339(sec: number): string {
  const d = new Date(sec * 1000);
  const off = -d.getTimezoneOffset();
  const l = new Date(sec * 1000 + off * 60e3);
  const y = l.getUTCFullYear();
  const ys = y < 0 ? `-${String(-y).padStart(4, "0")}` : String(y).padStart(4, "0");
  const base = `${ys}-${pad2(l.getUTCMonth() + 1)}-${pad2(l.getUTCDate())}T${pad2(l.getUTCHours())}:${pad2(l.getUTCMinutes())}:${pad2(l.getUTCSeconds())}`;
  if (off === 0) return `${base}Z`;
  const a = Math.abs(off);
  return `${base}${off < 0 ? "-" : "+"}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}

/** time.Parse(time.RFC3339, s) as Unix nanoseconds (float), or null when Go rejects it. */
export function parseRFC3339(s: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return null;
  const t = Date.UTC(y, mo - 1, d, h, mi, se);
  if (new Date(t).getUTCDate() !== d) return null; // Feb 30 and the like
  let off = 0;
  if (m[8] !== "Z") {
    const sign = m[8]![0] === "-" ? -1 : 1;
    const oh = Number(m[8]!.slice(1, 3)), om = Number(m[8]!.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    off = sign * (oh * 60 + om) * 60e3;
  }
  return (t - off) * 1e6 + (m[7] ? Number(m[7].slice(1).padEnd(9, "0").slice(0, 9)) : 0);
}

/** `message.NewPrinter(language.English).Sprintf("%d", n)`: "4,686", "-1,234,567". */
export function goGroupInt(n: number | bigint): string {
  const s = String(n);
  const neg = s.startsWith("-");
  const digits = neg ? s.slice(1) : s;
  let out = "";
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ",";
    out += digits[i];
  }
  return neg ? `-${out}` : out;
}

/**
 * go-runewidth's StringWidth in its default (non-East-Asian) mode, for the characters label values
 * carry: 0 for combining marks and zero-width characters, 2 for East Asian wide and fullwidth
 * characters and emoji, 1 otherwise. (Approximate outside those ranges: it does not carry Unicode's
 * full tables.)
 */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) continue;
    if ((c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) || c === 0xfeff || (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x20d0 && c <= 0x20ff)) continue;
    if (
      (c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) || (c >= 0x3041 && c <= 0x33ff) ||
      (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
      (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xfe30 && c <= 0xfe4f) ||
      (c >= 0xff00 && c <= 0xff60) || (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
      (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd)
    ) { w += 2; continue; }
    w += 1;
  }
  return w;
}

const GO_JSON_ESCAPES: Record<string, string> = { "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029" };

/**
 * encoding/json's Marshal (indent "") or an Encoder with SetIndent("", indent): JSON.stringify's layout
 * is Go's, but Go also escapes <, >, & and U+2028/U+2029 (they only occur inside strings) and sorts the
 * keys of maps (callers build objects in Go's field order and sort map keys themselves).
 */
export function goJson(v: unknown, indent = ""): string {
  return JSON.stringify(v, null, indent).replace(/[<>&\u2028\u2029]/g, (c) => GO_JSON_ESCAPES[c]!);
}

/** A JSON value as Go re-marshals a decoded `interface{}`: object keys sorted (bytewise). */
export function goSortedJsonValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(goSortedJsonValue);
  if (v === null || typeof v !== "object") return v;
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort(compareStrings)) o[k] = goSortedJsonValue((v as Record<string, unknown>)[k]);
  return o;
}

/**
 * A time.Time that went through Go's JSON (RFC 3339 in, RFC3339Nano out): fractional zeros trimmed, a zero
 * offset written "Z" (Go picks the local zone, UTC here, for a matching offset). Unparseable: as given.
 */
export function goJsonTime(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return s;
  const frac = (m[2] ?? "").replace(/0+$/, "");
  const zone = m[3] === "+00:00" || m[3] === "-00:00" ? "Z" : m[3];
  return `${m[1]}${frac ? `.${frac}` : ""}${zone}`;
}

/** Go's time.Time JSON (RFC3339Nano, UTC); null is Go's zero time. */
export function goTimeJSON(ms: number | null): string {
  if (ms === null) return "0001-01-01T00:00:00Z";
  const iso = new Date(ms).toISOString(); // always .sssZ
  return iso.replace(/\.(\d{3})Z$/, (_m, f: string) => (f === "000" ? "Z" : "." + f.replace(/0+$/, "") + "Z"));
}
