// Prometheus 2.42's template functions (template/template.go) and their Go types, with the exact
// errors a template shows when they fail.

import { RE2JS } from "re2js";
import { queryEscape } from "./builtins.ts";
import type { GoFunc, State } from "./exec.ts";
import { sprintf } from "./fmt.ts";
import { goTime, TIME_PTR_T, timeString } from "./gotime.ts";
import { canBackquote, formatFloat, parseFloat64, quote } from "./strconv.ts";
import { isDigit, isLetter } from "./lex.ts";
import { title, toLower, toUpper } from "./unicode.ts";
import {
  ANY, compareGoStrings, FLOAT64, GoBox, GoCallError, GoMap, GoPtr, GoSlice, GoStruct, INT, INT64, MAP_SA, MAP_SS, named,
  NIL_DEREF, ptrTo, sliceOf, STRING, structOf, typeOf, UINT, UINT64, type GoValue,
} from "./value.ts";

export const SAMPLE_T = structOf(
  [
    { name: "Labels", type: MAP_SS, exported: true },
    { name: "Value", type: FLOAT64, exported: true },
  ],
  "template.sample",
);
export const SAMPLE_PTR_T = ptrTo(SAMPLE_T);
export const QUERY_RESULT_T = named("template.queryResult", sliceOf(SAMPLE_PTR_T));
export const HTML_T = named("template.HTML", STRING);

/** The struct AlertTemplateData builds. */
export const ALERT_DATA_T = structOf([
  { name: "Labels", type: MAP_SS, exported: true },
  { name: "ExternalLabels", type: MAP_SS, exported: true },
  { name: "ExternalURL", type: STRING, exported: true },
  { name: "Value", type: FLOAT64, exported: true },
]);

export interface QuerySample {
  labels: Record<string, string>;
  value: number;
}

/** What a template's `query` calls see: answers already fetched, keyed by query text. */
export interface QueryAnswers {
  get(q: string): { ok: true; samples: readonly QuerySample[] } | { ok: false; error: string } | undefined;
}

/** Thrown when `query` needs an answer not fetched yet; the async driver fetches it and re-runs. */
export class NeedQuery {
  constructor(readonly query: string) {}
}

export interface PromFuncsOptions {
  answers: QueryAnswers;
  /** The *url.URL for pathPrefix/externalURL; null as in Thanos (the functions then fail). */
  funcURL: ParsedURL | null;
}

function fail(msg: string): never {
  throw new GoCallError(msg);
}

function fn(params: GoFunc["params"], variadic: boolean, call: GoFunc["call"]): GoFunc {
  return { params, variadic, call };
}

/** convertToFloat */
function toFloat(i: GoValue): number {
  if (typeof i === "number") return i;
  if (typeof i === "string") {
    const r = parseFloat64(i);
    if (r.err !== undefined) fail(`strconv.ParseFloat: parsing ${quote(i)}: ${r.err}`);
    return r.v;
  }
  if (i instanceof GoBox && (i.t === INT || i.t === UINT || i.t === INT64 || i.t === UINT64)) return Number(i.v as bigint);
  return fail(`can't convert ${i === undefined ? "<nil>" : typeOf(i).str} to float`);
}

const fmt4g = (v: number): string => formatFloat(v, "g", 4);

export function humanize(v: number): string {
  if (v === 0 || Number.isNaN(v) || !Number.isFinite(v)) return fmt4g(v);
  if (Math.abs(v) >= 1) {
    let prefix = "";
    for (const p of ["k", "M", "G", "T", "P", "E", "Z", "Y"]) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return fmt4g(v) + prefix;
  }
  let prefix = "";
  for (const p of ["m", "u", "n", "p", "f", "a", "z", "y"]) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return fmt4g(v) + prefix;
}

export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || Number.isNaN(v) || !Number.isFinite(v)) return fmt4g(v);
  let prefix = "";
  for (const p of ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"]) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return fmt4g(v) + prefix;
}

const MIN_I64 = -(2n ** 63n);

/** Go's int64(f) on amd64: truncation, and 0x8000000000000000 when out of range. */
function toInt64(f: number): bigint {
  if (!(f >= -9223372036854775808 && f < 9223372036854775808)) return MIN_I64;
  return BigInt(Math.trunc(f));
}

export function humanizeDuration(v: number): string {
  if (Number.isNaN(v) || !Number.isFinite(v)) return fmt4g(v);
  if (v === 0) return fmt4g(v) + "s";
  if (Math.abs(v) >= 1) {
    let sign = "";
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    const d = toInt64(v);
    // Go's % and / truncate toward zero, as BigInt's do.
    const seconds = d % 60n;
    const minutes = (d / 60n) % 60n;
    const hours = (d / 60n / 60n) % 24n;
    const days = d / 60n / 60n / 24n;
    if (days !== 0n) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0n) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0n) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${fmt4g(v)}s`;
  }
  let prefix = "";
  for (const p of ["m", "u", "n", "p", "f", "a", "z", "y"]) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${fmt4g(v)}${prefix}s`;
}

/** floatToTime: milliseconds (model.Time), or an error text; null for NaN/Inf. */
function floatToMs(v: number): number | null {
  if (Number.isNaN(v) || !Number.isFinite(v)) return null;
  const ts = v * 1e9;
  if (ts > 9223372036854775807 || ts < -9223372036854775808) {
    fail(`${formatFloat(v, "g", -1)} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  }
  const ns = toInt64(ts);
  return Number(ns / 1000000n);
}

// ---- regexps (Go RE2 via re2js), compiled once per pattern

const reCache = new Map<string, RE2JS | string>();

function compileRe(pattern: string): RE2JS | string {
  let r = reCache.get(pattern);
  if (r === undefined) {
    try {
      r = RE2JS.compile(pattern);
    } catch (e) {
      r = e instanceof Error ? e.message : String(e);
    }
    if (reCache.size >= 512) reCache.delete(reCache.keys().next().value!);
    reCache.set(pattern, r);
  }
  return r;
}

/** Regexp.ReplaceAllString with Go's $-expansion and empty-match rules. */
export function replaceAll(re: RE2JS, src: string, repl: string): string {
  const m = re.matcher(src);
  const names = repl.includes("$") ? re.namedGroups() : null;
  const ngroups = re.groupCount();
  let out = "";
  let lastMatchEnd = 0;
  let searchPos = 0;
  const end = src.length;
  while (searchPos <= end) {
    if (!m.find(searchPos)) break;
    const a0 = m.start();
    const a1 = m.end();
    out += src.slice(lastMatchEnd, a0);
    if (a1 > lastMatchEnd || a0 === 0) out += names === null ? repl : expand(repl, m, names, ngroups, src);
    lastMatchEnd = a1;
    let width = 0;
    if (searchPos < end) {
      const c = src.charCodeAt(searchPos);
      width = c >= 0xd800 && c <= 0xdbff && searchPos + 1 < end ? 2 : 1;
    }
    if (searchPos + width > a1) searchPos += width;
    else if (searchPos + 1 > a1) searchPos++;
    else searchPos = a1;
  }
  return out + src.slice(lastMatchEnd);
}

function group(m: ReturnType<RE2JS["matcher"]>, i: number, src: string): string {
  const s = m.start(i);
  if (s < 0) return "";
  return src.slice(s, m.end(i));
}

function expand(template: string, m: ReturnType<RE2JS["matcher"]>, names: Record<string, number>, ngroups: number, src: string): string {
  let out = "";
  let t = template;
  for (;;) {
    const d = t.indexOf("$");
    if (d < 0) break;
    out += t.slice(0, d);
    t = t.slice(d + 1);
    if (t !== "" && t[0] === "$") {
      out += "$";
      t = t.slice(1);
      continue;
    }
    const x = extract(t);
    if (x === null) {
      out += "$";
      continue;
    }
    t = x.rest;
    if (x.num >= 0) {
      if (x.num <= ngroups) out += group(m, x.num, src);
    } else if (Object.prototype.hasOwnProperty.call(names, x.name)) {
      out += group(m, names[x.name]!, src);
    }
  }
  return out + t;
}

function extract(str: string): { name: string; num: number; rest: string } | null {
  if (str === "") return null;
  let brace = false;
  if (str[0] === "{") {
    brace = true;
    str = str.slice(1);
  }
  let i = 0;
  while (i < str.length) {
    const r = str.codePointAt(i)!;
    if (!isLetter(r) && !isDigit(r) && r !== 0x5f) break;
    i += r > 0xffff ? 2 : 1;
  }
  if (i === 0) return null;
  const name = str.slice(0, i);
  if (brace) {
    if (i >= str.length || str[i] !== "}") return null;
    i++;
  }
  let num = 0;
  for (let j = 0; j < name.length; j++) {
    const c = name.charCodeAt(j);
    if (c < 0x30 || c > 0x39 || num >= 1e8) {
      num = -1;
      break;
    }
    num = num * 10 + c - 0x30;
  }
  if (name[0] === "0" && name.length > 1) num = -1;
  return { name, num, rest: str.slice(i) };
}

// ---- net

/** net.SplitHostPort; null on error. */
export function splitHostPort(hp: string): [string, string] | null {
  const i = hp.lastIndexOf(":");
  if (i < 0) return null;
  let host: string;
  let j = 0;
  let k = 0;
  if (hp[0] === "[") {
    const end = hp.indexOf("]");
    if (end < 0) return null;
    if (end + 1 === hp.length) return null;
    if (end + 1 !== i) return null;
    host = hp.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hp.slice(0, i);
    if (host.includes(":")) return null;
  }
  if (hp.indexOf("[", j) >= 0) return null;
  if (hp.indexOf("]", k) >= 0) return null;
  return [host, hp.slice(i + 1)];
}

function parseIPv4Fields(s: string): boolean {
  let val = 0;
  let pos = 0;
  let digLen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (digLen === 1 && val === 0) return false;
      val = val * 10 + c - 0x30;
      digLen++;
      if (val > 255) return false;
    } else if (c === 0x2e) {
      if (i === 0 || i === s.length - 1 || s[i - 1] === ".") return false;
      if (pos === 3) return false;
      pos++;
      val = 0;
      digLen = 0;
    } else return false;
  }
  return pos >= 3;
}

function parseIPv6(s: string): boolean {
  if (s.includes("%")) return false; // a zone: ParseIP rejects it
  let ellipsis = -1;
  if (s.startsWith("::")) {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return true;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const c = s.charCodeAt(off);
      let d: number;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      else break;
      acc = acc * 16 + d;
      if (off > 3 || acc > 0xffff) return false;
    }
    if (off === 0) return false;
    if (off < s.length && s[off] === ".") {
      if (ellipsis < 0 && i !== 12) return false;
      if (i + 4 > 16) return false;
      if (!parseIPv4Fields(s)) return false;
      s = "";
      i += 4;
      break;
    }
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ":" || s.length === 1) return false;
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis >= 0) return false;
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return false;
  if (i < 16) return ellipsis >= 0;
  return ellipsis < 0;
}

/** net.ParseIP(s) != nil */
export function isIP(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === ".") return parseIPv4Fields(s);
    if (c === ":") return parseIPv6(s);
    if (c === "%") return false;
  }
  return false;
}

// ---- URLs (the ruler's external URL, for pathPrefix and externalURL)

export interface ParsedURL {
  /** url.URL.Path (unescaped) */
  path: string;
  /** url.URL.String() */
  string: string;
}

/** A small url.Parse for absolute external URLs: Path unescaped, String() as Go re-serialises it. */
export function parseExternalURL(raw: string): ParsedURL {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/.exec(raw);
  if (m === null) {
    // Relative or opaque: Path is what precedes ? and #.
    const path = raw.replace(/[?#].*$/, "");
    return { path: unescapePath(path), string: raw };
  }
  const scheme = m[1]!.toLowerCase();
  const rawPath = m[3]!;
  return { path: unescapePath(rawPath), string: `${scheme}://${m[2]}${rawPath}${m[4] ?? ""}${m[5] ?? ""}` };
}

function unescapePath(p: string): string {
  if (!p.includes("%")) return p;
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

// ---- the function map

const sampleOf = (s: GoValue): GoStruct => {
  const p = s as GoPtr;
  if (p.target === null) fail(NIL_DEREF);
  return p.target as GoStruct;
};

/** Prometheus 2.42's template FuncMap; the executor's ctx is a PromFuncsOptions. */
export const PROMETHEUS_FUNCS: ReadonlyMap<string, GoFunc> = new Map<string, GoFunc>([
    ["query", fn([STRING], false, (a, st) => {
      const q = a[0] as string;
      const ans = (st.ctx as PromFuncsOptions).answers.get(q);
      if (ans === undefined) throw new NeedQuery(q);
      if (!ans.ok) fail(ans.error);
      // Each call returns fresh samples, as Go's does (sortByLabel sorts in place).
      return new GoSlice(QUERY_RESULT_T, ans.samples.map((s) => new GoPtr(SAMPLE_PTR_T, new GoStruct(SAMPLE_T, [new GoMap(MAP_SS, { ...s.labels }), s.value]))));
    })],
    ["first", fn([QUERY_RESULT_T], false, (a) => {
      const v = a[0] as GoSlice;
      if (v.length > 0) return v.items![0];
      return fail("first() called on vector with no elements");
    })],
    ["label", fn([STRING, SAMPLE_PTR_T], false, (a) => {
      const labels = sampleOf(a[1]).fields[0] as GoMap;
      return labels.get(a[0] as string) ?? "";
    })],
    ["value", fn([SAMPLE_PTR_T], false, (a) => sampleOf(a[0]).fields[1])],
    ["strvalue", fn([SAMPLE_PTR_T], false, (a) => ((sampleOf(a[0]).fields[0] as GoMap).get("__value__") as string | undefined) ?? "")],
    ["args", fn([ANY], true, (a) => {
      const m: Record<string, GoValue> = {};
      a.forEach((v, i) => (m[`arg${i}`] = v));
      return new GoMap(MAP_SA, m);
    })],
    ["reReplaceAll", fn([STRING, STRING, STRING], false, (a) => {
      const re = compileRe(a[0] as string);
      if (typeof re === "string") {
        const p = a[0] as string;
        fail(`regexp: Compile(${canBackquote(p) ? "`" + p + "`" : quote(p)}): ${re}`);
      }
      return replaceAll(re as RE2JS, a[2] as string, a[1] as string);
    })],
    ["safeHtml", fn([STRING], false, (a) => new GoBox(HTML_T, a[0] as string))],
    ["match", fn([STRING, STRING], false, (a) => {
      const re = compileRe(a[0] as string);
      if (typeof re === "string") fail(re);
      return (re as RE2JS).test(a[1] as string);
    })],
    ["title", fn([STRING], false, (a) => title(a[0] as string))],
    ["toUpper", fn([STRING], false, (a) => toUpper(a[0] as string))],
    ["toLower", fn([STRING], false, (a) => toLower(a[0] as string))],
    ["graphLink", fn([STRING], false, (a) => `/graph?g0.expr=${queryEscape(a[0] as string)}&g0.tab=0`)],
    ["tableLink", fn([STRING], false, (a) => `/graph?g0.expr=${queryEscape(a[0] as string)}&g0.tab=1`)],
    ["sortByLabel", fn([STRING, QUERY_RESULT_T], false, (a) => {
      const by = a[0] as string;
      const v = a[1] as GoSlice;
      if (v.items !== null) {
        const key = (s: GoValue) => ((s as GoPtr).target === null ? fail(NIL_DEREF) : ((((s as GoPtr).target as GoStruct).fields[0] as GoMap).get(by) as string | undefined) ?? "");
        // Array.prototype.sort is stable, as sort.Stable is.
        (v.items as GoValue[]).sort((x, y) => compareGoStrings(key(x), key(y)));
      }
      return v;
    })],
    ["stripPort", fn([STRING], false, (a) => {
      const hp = a[0] as string;
      const r = splitHostPort(hp);
      return r === null ? hp : r[0];
    })],
    ["stripDomain", fn([STRING], false, (a) => {
      const hp = a[0] as string;
      const r = splitHostPort(hp);
      let host = r === null ? hp : r[0];
      const port = r === null ? "" : r[1];
      if (isIP(host)) return hp;
      host = host.split(".")[0]!;
      if (port !== "") return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
      return host;
    })],
    ["humanize", fn([ANY], false, (a) => humanize(toFloat(a[0])))],
    ["humanize1024", fn([ANY], false, (a) => humanize1024(toFloat(a[0])))],
    ["humanizeDuration", fn([ANY], false, (a) => humanizeDuration(toFloat(a[0])))],
    ["humanizePercentage", fn([ANY], false, (a) => sprintf("%.4g%%", [toFloat(a[0]) * 100]))],
    ["humanizeTimestamp", fn([ANY], false, (a) => {
      const v = toFloat(a[0]);
      const ms = floatToMs(v);
      if (ms === null) return fmt4g(v);
      return timeString(ms);
    })],
    ["toTime", fn([ANY], false, (a) => {
      const ms = floatToMs(toFloat(a[0]));
      if (ms === null) fail("value is NaN or Inf");
      return new GoPtr(TIME_PTR_T, goTime(ms!));
    })],
    ["pathPrefix", fn([], false, (_, st) => funcURL(st).path)],
    ["externalURL", fn([], false, (_, st) => funcURL(st).string)],
    ["parseDuration", fn([STRING], false, (a) => parseDuration(a[0] as string))],
]);

function funcURL(st: State): ParsedURL {
  const u = (st.ctx as PromFuncsOptions).funcURL;
  return u === null ? fail(NIL_DEREF) : u;
}

const DURATION_RE = /^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$/;
const MAX_I64 = 2n ** 63n - 1n;

/** model.ParseDuration (prometheus/common v0.39), in seconds as parseDuration returns them. */
export function parseDuration(s: string): number {
  if (s === "0") return 0;
  if (s === "") fail("empty duration string");
  const m = DURATION_RE.exec(s);
  if (m === null) fail(`not a valid duration string: ${quote(s)}`);
  let dur = 0n; // nanoseconds, wrapping as int64 does
  let overflow = false;
  const wrap = (x: bigint) => BigInt.asIntN(64, x);
  const unit = (pos: number, multMs: bigint): void => {
    const t = m![pos];
    if (t === undefined || t === "") return;
    let n = BigInt(t);
    if (n > MAX_I64) n = MAX_I64; // strconv.Atoi's value on range error
    if (n > MAX_I64 / multMs / 1000000n) overflow = true;
    const d = wrap(n * 1000000n);
    dur = wrap(dur + wrap(d * multMs));
    if (dur < 0n) overflow = true;
  };
  unit(2, 1000n * 60n * 60n * 24n * 365n);
  unit(4, 1000n * 60n * 60n * 24n * 7n);
  unit(6, 1000n * 60n * 60n * 24n);
  unit(8, 1000n * 60n * 60n);
  unit(10, 1000n * 60n);
  unit(12, 1000n);
  unit(14, 1n);
  if (overflow) fail("duration out of range");
  return Number(dur) / 1e9;
}
