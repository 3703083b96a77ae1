// Label matchers with Prometheus 2.42 semantics: =, !=, =~, !~.
//
// Regexes are Go RE2 (re2js: a linear-time port of RE2 with Go's syntax, flags, Unicode classes and
// case folding), fully anchored exactly as Prometheus does it: the pattern is compiled as
// `^(?:<v>)$`. Never a JS RegExp on user input: the querier is internet-facing and a backtracking
// engine runs for seconds on `(a+)+$` over a 10 kB value.
//
// Prometheus 2.42 (built with Go 1.19) facts a reader may not expect:
// - `.` does not match "\n" (Prometheus 3 compiles with DotNL; 2.42 does not). `(?s)` turns it on.
// - The pattern is also parsed on its own, so `a)|(b`, which compiles fine as `^(?:a)|(b)$`, is
//   rejected ("unexpected )"), keeping every regex anchored at both ends.
// - `(?<name>re)` is an error (Go learned it in 1.22; re2js accepts it, so we check it ourselves).
//
// Fast paths, like Prometheus' FastRegexMatcher: typical matchers (literal, `a|b|c`, `foo.*`, `.*foo`,
// `.*foo.*`, `.+`, `(a|b)c.*`, `(?i)foo.*`) are decided with string operations and never reach the
// automaton, which costs 100-500 ns per value. Compiled regexes are cached (bounded LRU).

import { RE2JS } from "re2js";
import { CodedError } from "../encoding/errors.ts";
import { goQuote } from "./labels.ts";

export type MatchType = "=" | "!=" | "=~" | "!~";

export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  matches(v: string): boolean;
}

/** Most values a regex may be expanded into for set matching (Prometheus' maxSetMatches). */
export const MAX_SET_MATCHES = 256;
// Literal values a planned regex may expand to. Grafana writes multi-value variables as `(a|b|...)`
// with thousands of values; a hash set of them beats compiling an automaton of that size (50-200 ms).
const MAX_PLAN_VALUES = 100_000;
// With gaps (`(a|b).*`), each alternative of a segment is searched separately: keep those small.
const MAX_GAP_SEGMENT = 64;
const CACHE_SIZE = 1000;
// Patterns longer than this are compiled per use and not cached, so the cache holds at most
// CACHE_SIZE * MAX_CACHED_PATTERN characters of keys.
const MAX_CACHED_PATTERN = 64 * 1024;

/** How a regex is evaluated; exposed for tests and benchmarks. */
export type RegexKind = "literal" | "set" | "plan" | "automaton";

interface CompiledRegex {
  readonly kind: RegexKind;
  readonly match: (v: string) => boolean;
  /** Exact values the regex matches, when it reduces to a finite set without "" (else null). */
  readonly set: readonly string[] | null;
}

class LabelMatcher implements Matcher {
  readonly matches: (v: string) => boolean;
  constructor(
    readonly type: MatchType,
    readonly name: string,
    readonly value: string,
    readonly re: CompiledRegex | null,
  ) {
    switch (type) {
      case "=": this.matches = (v) => v === value; break;
      case "!=": this.matches = (v) => v !== value; break;
      case "=~": this.matches = re!.match; break;
      case "!~": { const m = re!.match; this.matches = (v) => !m(v); break; }
    }
  }
  toString(): string {
    return matcherString(this);
  }
}

/**
 * A matcher like Prometheus' labels.NewMatcher. A bad regex throws CodedError "bad_data" with Go's
 * message, e.g. "error parsing regexp: missing closing ): `^(?:()$`" (the PromQL parser prefixes
 * its position).
 */
export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  switch (type) {
    case "=": case "!=": return new LabelMatcher(type, name, value, null);
    case "=~": case "!~": return new LabelMatcher(type, name, value, compileRegex(value));
    default:
      throw new CodedError("bad_data", `unknown label matcher type ${JSON.stringify(type)} for label ${JSON.stringify(name)}`);
  }
}

/** Prometheus Matcher.String(): name, operator, Go-quoted value, e.g. job=~"a.*". */
export function matcherString(m: Matcher): string {
  return m.name + m.type + goQuote(m.value);
}

/** Whether the matcher accepts the empty value, i.e. also selects series without the label. */
export function matchesEmpty(m: Matcher): boolean {
  return m.matches("");
}

/**
 * The exact label values the matcher selects when there are finitely many (at most MAX_SET_MATCHES)
 * and none is empty, like Prometheus' FastRegexMatcher.SetMatches: [value] for `=` with a non-empty
 * value, the expansion for `=~` (`a|b`, `(a|b)c`, `x[12]`), null otherwise. Lets a store gateway turn
 * a regex into postings lookups. Returns a fresh array.
 */
export function setMatches(m: Matcher): string[] | null {
  if (m.type === "=") return m.value === "" ? null : [m.value];
  if (m.type !== "=~") return null;
  const re = m instanceof LabelMatcher ? m.re! : compileRegex(m.value);
  return re.set === null ? null : re.set.slice();
}

/** How newMatcher evaluates this regex (tests/benchmarks check that fast paths are taken). */
export function regexKind(pattern: string): RegexKind {
  return compileRegex(pattern).kind;
}

/** Number of compiled regexes held (bounded by an LRU of 1000). */
export function regexCacheSize(): number {
  return cache.size;
}

// ---------------------------------------------------------------------------------------------
// Compilation and cache

const cache = new Map<string, CompiledRegex>();

function compileRegex(pattern: string): CompiledRegex {
  let c = cache.get(pattern);
  if (c !== undefined) {
    // Map keeps insertion order: re-inserting marks it most recently used.
    cache.delete(pattern);
    cache.set(pattern, c);
    return c;
  }
  c = buildRegex(pattern);
  if (pattern.length > MAX_CACHED_PATTERN) return c;
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(pattern, c);
  return c;
}

function buildRegex(pattern: string): CompiledRegex {
  // Plain literal alternation (no metacharacters at all): no parse needed, like Prometheus'
  // optimizeAlternatingLiterals.
  if (!META.test(pattern)) {
    const alts = pattern.split("|");
    if (alts.length === 1) return { kind: "literal", match: (v) => v === pattern, set: pattern === "" ? null : [pattern] };
    return setRegex(alts, "set");
  }
  // Everything the planner accepts is valid Go syntax by construction (literals, `\` + punctuation,
  // unquantified `.*`/`.+`, flat literal groups, `|`, a leading `(?i)`), so a planned regex skips the
  // re2js compile: 5-300 µs saved per new matcher, most for long Grafana-style `(a|b|...)` groups.
  // Surrogates stay with the automaton, which decides how Go would see them.
  const fold = pattern.startsWith("(?i)");
  const plan = SURROGATE.test(pattern) ? null : planOf(fold ? pattern.slice(4) : pattern, fold);
  if (plan !== null) {
    if (!fold) return plan;
    // Case-insensitive: decided on the folded value; never set matches (Prometheus neither).
    const inner = plan.match;
    return { kind: "plan", match: (v) => inner(foldAscii(v)), set: null };
  }
  const re = compileGo(pattern);
  return { kind: "automaton", match: (v) => re.test(v), set: null };
}
const SURROGATE = /[\ud800-\udfff]/;

function setRegex(values: string[], kind: RegexKind): CompiledRegex {
  const uniq = [...new Set(values)];
  const hasEmpty = uniq.includes("");
  const set = hasEmpty || uniq.length > MAX_SET_MATCHES ? null : uniq;
  if (uniq.length <= 4) {
    // A short linear scan of === beats a Set lookup (which hashes the probe string).
    const [a = "", b = a, c = a, d = a] = uniq;
    return { kind, match: (v) => v === a || v === b || v === c || v === d, set };
  }
  const s = new Set(uniq);
  return { kind, match: (v) => s.has(v), set };
}

// Characters regexp.QuoteMeta escapes, minus `|`: without any of them the pattern is literal text
// split on `|`.
const META = /[\\.+*?()[\]{}^$]/;

/** re2js compile with Prometheus 2.42's checks and Go 1.19's error messages, as CodedError bad_data. */
function compileGo(pattern: string): RE2JS {
  let re: RE2JS;
  try {
    re = RE2JS.compile("^(?:" + pattern + ")$");
    RE2JS.compile(pattern);
  } catch (e) {
    throw new CodedError("bad_data", e instanceof Error ? e.message : String(e), { cause: e });
  }
  // re2js accepts `(?<name>re)`, which Go only learned in 1.22; Prometheus 2.42 (Go 1.19) rejects it.
  if (hasAngleNamedGroup(pattern)) {
    throw new CodedError("bad_data", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`");
  }
  return re;
}

/** Whether `(?<` occurs outside escapes, \Q...\E quotes and character classes. */
function hasAngleNamedGroup(p: string): boolean {
  if (!p.includes("(?<")) return false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\") {
      if (p[i + 1] === "Q") {
        const e = p.indexOf("\\E", i + 2);
        if (e < 0) return false;
        i = e + 1;
      } else i++;
    } else if (c === "[") {
      i++;
      if (p[i] === "^") i++;
      if (p[i] === "]") i++; // a leading ] is literal
      for (; i < p.length && p[i] !== "]"; i++) {
        if (p[i] === "\\") i++;
        else if (p[i] === "[" && p[i + 1] === ":") {
          const e = p.indexOf(":]", i + 2);
          if (e >= 0) i = e + 1;
        }
      }
    } else if (c === "(" && p[i + 1] === "?" && p[i + 2] === "<") {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Fast-path planner.
//
// Recognises patterns that are an alternation of branches, each a sequence of literal segments and
// `.*` / `.+` gaps: `foo`, `a|b`, `(a|b)c`, `foo.*`, `.*foo`, `.*foo.*`, `foo.*bar`, `.+`, `x.+|y`.
// A segment is a set of literal strings (cross product of literal runs and `(a|b)` groups). Anything
// else (classes, other quantifiers, flags other than a leading (?i), anchors, escapes other than
// `\` + punctuation, surrogates) gives null and goes to re2js, which also reports syntax errors: the
// subset accepted here is valid Go syntax, so a planned regex is never compiled.

type Item = { gap: "*" | "+" } | { lits: string[] };

/** A "set" regex when every branch is gap-free literals, else a "plan"; null: not in the subset. */
function planOf(p: string, fold: boolean): CompiledRegex | null {
  const branches = parseBranches(p, fold);
  if (branches === null) return null;
  const compiled: ((v: string) => boolean)[] = [];
  const allValues: string[] = [];
  let pureSet = true;
  for (const items of branches) {
    const b = compileBranch(items);
    if (b === null) return null;
    if (b.values !== null) for (const v of b.values) allValues.push(v); // no spread: the argument limit depends on stack depth
    else pureSet = false;
    compiled.push(b.match);
    if (allValues.length > MAX_PLAN_VALUES) return null;
  }
  if (pureSet) return setRegex(allValues, "set");
  if (compiled.length === 1) return { kind: "plan", match: compiled[0]!, set: null };
  return { kind: "plan", match: (v) => compiled.some((f) => f(v)), set: null };
}

/**
 * Splits into top-level branches of items, or null if the pattern is not in the fast-path subset.
 * fold: the pattern had a leading (?i); then only ASCII literals qualify, and they are lower-cased.
 */
function parseBranches(p: string, fold: boolean): Item[][] | null {
  if (fold && !/^[\x00-\x7f]*$/.test(p)) return null;
  const branches: Item[][] = [];
  let items: Item[] = [];
  let lit = "";
  const flush = () => {
    if (lit !== "") { items.push({ lits: [fold ? lit.toLowerCase() : lit] }); lit = ""; }
  };
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    const next = p[i + 1];
    if (c === "|") { flush(); branches.push(items); items = []; continue; }
    if (c === ".") {
      if ((next !== "*" && next !== "+") || isQuant(p[i + 2])) return null;
      flush();
      items.push({ gap: next });
      i++;
      continue;
    }
    if (c === "(") {
      // (a|b|c) or (?:a|b|c) of plain literals, not quantified.
      let j = i + 1;
      if (p[j] === "?") { if (p[j + 1] !== ":") return null; j += 2; }
      const alts: string[] = [];
      let cur = "";
      for (; j < p.length && p[j] !== ")"; j++) {
        const d = p[j]!;
        if (d === "|") { alts.push(cur); cur = ""; }
        else if (d === "\\" && j + 1 < p.length && PUNCT.test(p[j + 1]!)) cur += p[++j];
        else if (META.test(d)) return null;
        else cur += d;
      }
      if (j >= p.length || isQuant(p[j + 1])) return null;
      alts.push(cur);
      flush();
      items.push({ lits: fold ? alts.map((a) => a.toLowerCase()) : alts });
      i = j;
      continue;
    }
    if (c === "\\") {
      // `\` + ASCII punctuation is that character in Go syntax.
      if (next === undefined || !PUNCT.test(next) || isQuant(p[i + 2])) return null;
      lit += next;
      i++;
      continue;
    }
    if (isQuant(next)) return null; // `ab*`: the quantifier binds to one char; not a fast path
    if (/[+*?)[\]{}^$]/.test(c)) return null;
    lit += c;
  }
  flush();
  branches.push(items);
  return branches;
}

/**
 * Go's case folding restricted to what can equal an ASCII character: A-Z, plus the Kelvin sign
 * U+212A (folds with k) and the long s U+017F (folds with s). Those are the only non-ASCII members
 * of the fold orbits of ASCII letters, so comparing this against lower-cased ASCII literals is
 * exactly Go's (?i) equality. Not toLowerCase(): it turns U+0130 into "i\u0307" and ſ stays ſ.
 */
function foldAscii(v: string): string {
  // Fixed native regexes over the value (not user patterns): a charCodeAt loop was 10x slower on
  // rope strings, which is what concatenated values are.
  if (!NEEDS_FOLD.test(v)) return v;
  if (!NON_ASCII.test(v)) return v.toLowerCase(); // pure ASCII: toLowerCase is exactly A-Z -> a-z
  return v.replace(FOLD_ALL, (c) => (c === "\u212a" ? "k" : c === "\u017f" ? "s" : c.toLowerCase()));
}
const NEEDS_FOLD = /[A-Z\u212a\u017f]/;
const NON_ASCII = /[^\x00-\x7f]/;
const FOLD_ALL = /[A-Z\u212a\u017f]/g;

const PUNCT = /^[!-/:-@[-`{-~]$/;

function isQuant(c: string | undefined): boolean {
  return c === "*" || c === "+" || c === "?" || c === "{";
}

/** Cross product of consecutive literal sets; null when it exceeds MAX_PLAN_VALUES. */
function product(sets: string[][]): string[] | null {
  let acc = [""];
  for (const s of sets) {
    const out: string[] = [];
    for (const a of acc) for (const b of s) out.push(a + b);
    if (out.length > MAX_PLAN_VALUES) return null;
    acc = out;
  }
  return acc;
}

// Gap lengths count code points (what `.` matches), not UTF-16 units: ".+.+" does not match "😀".

/** Index after n code points from pos, or v.length + 1 when v ends first. */
function advance(v: string, pos: number, n: number): number {
  for (; n > 0; n--) {
    if (pos >= v.length) return v.length + 1;
    const c = v.charCodeAt(pos);
    pos += c >= 0xd800 && c <= 0xdbff && pos + 1 < v.length && (v.charCodeAt(pos + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return pos;
}

/** Whether v[start, end) holds at least n code points (n <= 1: any non-empty range will do). */
function atLeast(v: string, start: number, end: number, n: number): boolean {
  if (n <= 1) return end - start >= n;
  return advance(v.slice(start, end), 0, n) <= end - start;
}

interface Branch {
  values: string[] | null; // when the branch has no gap: its exact values
  match: (v: string) => boolean;
}

function compileBranch(items: Item[]): Branch | null {
  // Normalise to: gap? seg (gap seg)* gap?, merging adjacent literal sets into one segment and
  // adjacent gaps into one (`.*.+` is one gap of at least one char).
  const segs: string[][] = [];
  const gaps: number[] = []; // gaps[i]: min length of the gap before segs[i], -1 when there is none
  let pending: string[][] = [];
  let gap = -1;
  const finish = (): boolean => {
    if (pending.length === 0) return true;
    const seg = product(pending);
    if (seg === null) return false;
    segs.push(seg);
    pending = [];
    return true;
  };
  for (const it of items) {
    if ("gap" in it) {
      if (!finish()) return null;
      gap = Math.max(gap, 0) + (it.gap === "+" ? 1 : 0);
    } else {
      if (pending.length === 0) { gaps.push(gap); gap = -1; }
      pending.push(it.lits);
    }
  }
  if (!finish()) return null;
  return buildBranch(segs, gaps, gap);
}

/**
 * segs[i] preceded by a gap of min length gaps[i] (-1: none, i.e. anchored to the previous segment
 * or the start), followed at the end by a gap of min length tail (-1: anchored to the end).
 */
function buildBranch(segs: string[][], gaps: number[], tail: number): Branch | null {
  if (segs.length === 0) {
    // Only gaps (or nothing): `.*`, `.+`, or the empty pattern.
    if (tail < 0) return { values: [""], match: (v) => v === "" };
    const min = tail;
    return { values: null, match: (v) => atLeast(v, 0, v.length, min) && v.indexOf("\n") < 0 };
  }
  const hasGap = tail >= 0 || gaps.some((g) => g >= 0);
  if (!hasGap) {
    const values = segs[0]!; // consecutive literals were merged into one segment
    const f = setRegex(values, "set").match;
    return { values, match: f };
  }
  if (segs.some((s) => s.length > MAX_GAP_SEGMENT)) return null;
  // `.` never matches "\n"; if a literal contains one we leave it to the automaton, otherwise the
  // whole value must be free of newlines.
  for (const s of segs) for (const l of s) if (l.includes("\n")) return null;
  const n = segs.length;
  const first = gaps[0]! < 0 ? segs[0]! : null; // anchored prefix
  const last = tail < 0 ? segs[n - 1]! : null; // anchored suffix
  const single = segs.every((s) => s.length === 1);
  if (single && n === 1 && first !== null) {
    const pre = first[0]!;
    return { values: null, match: (v) => v.startsWith(pre) && atLeast(v, pre.length, v.length, tail) && v.indexOf("\n", pre.length) < 0 };
  }
  if (single && n === 1 && last !== null) {
    const suf = last[0]!, min = gaps[0]!;
    return { values: null, match: (v) => v.endsWith(suf) && atLeast(v, 0, v.length - suf.length, min) && v.lastIndexOf("\n", v.length - suf.length - 1) < 0 };
  }
  if (single && n === 1 && gaps[0] === 0 && tail === 0) {
    const mid = segs[0]![0]!;
    return { values: null, match: (v) => v.includes(mid) && v.indexOf("\n") < 0 };
  }
  return {
    values: null,
    match: (v) => {
      if (v.indexOf("\n") >= 0) return false;
      // Greedy leftmost: the earliest possible end of each segment leaves the most room for the rest.
      let pos = 0;
      let i = 0;
      if (first !== null) {
        let best = -1;
        for (const l of first) if (v.startsWith(l) && (best < 0 || l.length < best)) best = l.length;
        if (best < 0) return false;
        pos = best;
        i = 1;
      }
      const end = last !== null ? n - 1 : n;
      for (; i < end; i++) {
        const from = advance(v, pos, gaps[i]!);
        let best = -1;
        for (const l of segs[i]!) {
          const k = v.indexOf(l, from); // for l = "" this is min(from, v.length): may be < from
          if (k >= from && (best < 0 || k + l.length < best)) best = k + l.length;
        }
        if (best < 0) return false;
        pos = best;
      }
      if (last !== null) {
        const from = advance(v, pos, gaps[n - 1]!);
        for (const l of last) if (v.length - l.length >= from && v.endsWith(l)) return true;
        return false;
      }
      return atLeast(v, pos, v.length, tail);
    },
  };
}
