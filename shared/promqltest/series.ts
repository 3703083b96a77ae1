// The series notation of Prometheus' test scripts and of `promtool test rules` input_series
// (Prometheus 2.42 promql/parser: ParseSeriesDesc, the `series_description` grammar and
// lexValueSequence):
//
//   metric{label="value", ...} <item> <item> ...
//
// Items, separated by blanks:
//   1 -2.5 1e3 Inf -Inf NaN   one sample (numbers as PromQL number literals: `010` is octal 8)
//   stale                     a staleness marker
//   _                         no sample at this step
//   _x3                       no sample for 3 steps
//   1x3                       4 samples of value 1 (the start plus 3 repetitions)
//   0+10x3   5-2x2            4 samples 0 10 20 30 / 3 samples 5 3 1 (the step added repeatedly,
//                             as Go does, so float rounding is the same)
//
// A value sequence has one entry per step of the load interval, starting at time 0.

import { Lexer, KEYWORDS, type Item } from "../promql/lexer.ts";
import { goParseFloat, parseNumberToken, unquoteString } from "../promql/parse-literals.ts";
import { compareStrings, type Label, type Labels } from "../labels/labels.ts";
import { CodedError } from "../encoding/errors.ts";

/** One step of a value sequence. */
export interface SequenceValue {
  /** The value (NaN for a staleness marker; 0 when omitted). */
  value: number;
  /** A staleness marker (its bits cannot live in a JS number that went through an array). */
  stale: boolean;
  /** `_`: no sample at this step. */
  omitted: boolean;
}

export interface SeriesDesc {
  /**
   * Sorted by name. Without a metric name before the braces, empty label values and repeated names
   * are kept as written, as in Go (an expected result line `{a=""} 1` then matches nothing, and
   * appending such a series drops the empty label or rejects the repeated name).
   */
  labels: Labels;
  values: SequenceValue[];
}

/** Most values one series line may expand to (`_x1000000000` must not exhaust memory). */
export const MAX_SEQUENCE_VALUES = 10_000_000;

/** Metric names the grammar accepts even though the lexer reads them as keywords (metric_identifier). */
const NAME_TYPES = new Set<string>([
  "IDENTIFIER", "METRIC_IDENTIFIER", "avg", "bottomk", "by", "count", "count_values", "group", "and", "or",
  "unless", "max", "min", "offset", "quantile", "stddev", "stdvar", "sum", "topk", "without", "start", "end",
]);

function bad(msg: string): CodedError {
  return new CodedError("bad_data", msg);
}

/**
 * Parse one series line: `name{l="v"} 1+1x3 _ stale`. Throws CodedError("bad_data") saying what is
 * wrong and at which column (1-based, in UTF-16 units). `limit` caps the expanded value count.
 */
export function parseSeriesDesc(line: string, limit = MAX_SEQUENCE_VALUES): SeriesDesc {
  const lx = new Lexer(line);
  let it = nextItem(lx);
  let name: string | null = null;
  const pairs: Label[] = [];
  let end: number;
  if (NAME_TYPES.has(it.type)) {
    name = it.val;
    end = it.pos + it.val.length;
    // Go's lexer only reads a label set glued to the name: `foo {a="b"}` is a value-sequence error.
    if (line[end] === "{") {
      it = nextItem(lx);
      end = parseLabelSet(lx, it, pairs, line);
    }
  } else if (it.type === "{") {
    end = parseLabelSet(lx, it, pairs, line);
  } else if (it.type === "EOF") {
    return { labels: [], values: [] };
  } else {
    throw bad(`col ${it.pos + 1}: unexpected ${describe(it)} in series description, expected a metric name or "{"`);
  }
  if (name !== null) {
    // Go builds this case with labels.Builder: the name outside the braces wins over a __name__
    // inside them, and labels with empty values are dropped (`{b=""}` alone keeps its empty label).
    for (let i = pairs.length - 1; i >= 0; i--) if (pairs[i]!.name === "__name__" || pairs[i]!.value === "") pairs.splice(i, 1);
    pairs.push({ name: "__name__", value: name });
  }
  pairs.sort((a, b) => compareStrings(a.name, b.name));
  return { labels: pairs, values: parseValues(line, end, limit) };
}

/**
 * Expand a value sequence on its own (`0+10x100 _ stale`), as `promtool test rules` input_series
 * `values` are written. Throws CodedError("bad_data") on bad syntax.
 */
export function expandSeriesValues(notation: string, limit = MAX_SEQUENCE_VALUES): SequenceValue[] {
  // The grammar wants a blank before every item; a values string starts with its first item.
  const s = " " + notation.trim();
  try {
    return parseValues(s, 0, limit);
  } catch (e) {
    throw bad(`series values ${JSON.stringify(notation)}: ${(e as Error).message}`);
  }
}

function nextItem(lx: Lexer): Item {
  for (;;) {
    const it = lx.next();
    if (it.type !== "COMMENT") return it;
  }
}

function describe(it: Item): string {
  if (it.type === "EOF") return "end of input";
  if (it.type === "ERROR") return it.val;
  return JSON.stringify(it.val);
}

/** `{a="b", c='d',}` from the `{` item: pushes the pairs; returns the offset after `}`. */
function parseLabelSet(lx: Lexer, open: Item, out: Label[], line: string): number {
  let it = nextItem(lx);
  for (;;) {
    if (it.type === "}") return it.pos + 1;
    if (it.type !== "IDENTIFIER") throw bad(`col ${it.pos + 1}: unexpected ${describe(it)} in label set, expected a label name or "}"`);
    const name = it.val;
    it = nextItem(lx);
    if (it.type !== "=") throw bad(`col ${it.pos + 1}: unexpected ${describe(it)} in label set, expected "="`);
    it = nextItem(lx);
    if (it.type !== "STRING") throw bad(`col ${it.pos + 1}: unexpected ${describe(it)} in label set, expected a string`);
    out.push({ name, value: unquoteString(it.val) });
    it = nextItem(lx);
    if (it.type === ",") it = nextItem(lx);
    else if (it.type !== "}") throw bad(`col ${it.pos + 1}: unexpected ${describe(it)} in label set, expected "," or "}"`);
  }
  void open; void line;
}

// ---------------------------------------------------------------------------------------------
// Value sequences: lexValueSequence's tokens, then the series_values grammar.

type VTok =
  | { t: "SPACE" | "+" | "-" | "x" | "_" | "EOF"; pos: number }
  | { t: "NUMBER" | "IDENT"; pos: number; val: string };

function isDigit(c: string): boolean { return c >= "0" && c <= "9"; }
function isAlpha(c: string): boolean { return c === "_" || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z"); }
function isAlnum(c: string): boolean { return isAlpha(c) || isDigit(c); }
function isSpace(c: string): boolean { return c === " " || c === "\t" || c === "\n" || c === "\r"; }

function lexValues(s: string, from: number): VTok[] {
  const out: VTok[] = [];
  let i = from;
  const n = s.length;
  while (i < n) {
    const c = s[i]!;
    const pos = i;
    if (isSpace(c)) {
      while (i < n && isSpace(s[i]!)) i++;
      out.push({ t: "SPACE", pos });
    } else if (c === "+" || c === "-" || c === "x" || c === "_") {
      out.push({ t: c, pos });
      i++;
    } else if (isDigit(c) || (c === "." && i + 1 < n && isDigit(s[i + 1]!))) {
      // scanNumber without hex (ambiguous with the `x` of repetitions).
      while (i < n && isDigit(s[i]!)) i++;
      if (s[i] === ".") { i++; while (i < n && isDigit(s[i]!)) i++; }
      if (s[i] === "e" || s[i] === "E") {
        i++;
        if (s[i] === "+" || s[i] === "-") i++;
        while (i < n && isDigit(s[i]!)) i++;
      }
      if (i < n && s[i] !== "x" && isAlnum(s[i]!)) {
        throw bad(`col ${pos + 1}: bad number syntax: ${JSON.stringify(s.slice(pos, i + 1))}`);
      }
      out.push({ t: "NUMBER", pos, val: s.slice(pos, i) });
    } else if (isAlpha(c)) {
      while (i < n && (isAlnum(s[i]!) || s[i] === ":")) i++;
      const word = s.slice(pos, i);
      const kw = KEYWORDS.get(word.toLowerCase());
      out.push({ t: kw === "NUMBER" ? "NUMBER" : "IDENT", pos, val: word });
    } else {
      throw bad(`col ${pos + 1}: unexpected character in series sequence: ${JSON.stringify(c)}`);
    }
  }
  out.push({ t: "EOF", pos: n });
  return out;
}

function parseValues(s: string, from: number, limit: number): SequenceValue[] {
  const toks = lexValues(s, from);
  let k = 0;
  const out: SequenceValue[] = [];
  const tokDesc = (t: VTok) => t.t === "EOF" ? "end of input" : "val" in t ? JSON.stringify(t.val) : JSON.stringify(t.t === "SPACE" ? " " : t.t);
  const fail = (t: VTok, want: string): never => {
    throw bad(`col ${t.pos + 1}: unexpected ${tokDesc(t)} in series values${want ? `, expected ${want}` : ""}`);
  };
  const number = (t: VTok): number => {
    if (t.t !== "NUMBER") return fail(t, "a number");
    const v = parseNumberToken(t.val);
    if (v === null) throw bad(`col ${t.pos + 1}: bad number ${JSON.stringify(t.val)}`);
    return v;
  };
  const uint = (t: VTok): number => {
    if (t.t !== "NUMBER" || !/^[0-9]+$/.test(t.val)) return fail(t, "a repetition count");
    const n = Number(t.val);
    if (n > limit) throw bad(`col ${t.pos + 1}: repetition ${t.val} exceeds the limit of ${limit} values per series`);
    return n;
  };
  const push = (v: SequenceValue) => {
    if (out.length >= limit) throw bad(`series expands to more than ${limit} values`);
    out.push(v);
  };
  for (;;) {
    let t = toks[k++]!;
    if (t.t === "EOF") break;
    if (t.t !== "SPACE") fail(t, "a blank between values");
    t = toks[k++]!;
    if (t.t === "EOF") break;
    if (t.t === "_") {
      if (toks[k]!.t === "x") {
        k++;
        const n = uint(toks[k++]!);
        for (let i = 0; i < n; i++) push({ value: 0, stale: false, omitted: true });
      } else push({ value: 0, stale: false, omitted: true });
      continue;
    }
    // series_value: stale | number | signed number
    let v: number, stale = false;
    if (t.t === "IDENT") {
      if (t.val !== "stale") fail(t, `a number or "stale"`);
      v = NaN;
      stale = true;
    } else if (t.t === "+" || t.t === "-") {
      const m = number(toks[k++]!);
      v = t.t === "-" ? -m : m;
    } else v = number(t);
    const nx = toks[k]!;
    if (nx.t === "x") {
      k++;
      const n = uint(toks[k++]!);
      for (let i = 0; i <= n; i++) push({ value: v, stale, omitted: false });
    } else if (nx.t === "+" || nx.t === "-") {
      k++;
      const m = number(toks[k++]!);
      const d = nx.t === "-" ? -m : m;
      const x = toks[k++]!;
      if (x.t !== "x") fail(x, `"x"`);
      const n = uint(toks[k++]!);
      for (let i = 0; i <= n; i++) {
        push({ value: v, stale, omitted: false });
        v += d;
        stale = false; // stale + d is an ordinary NaN in Go too
      }
    } else push({ value: v, stale, omitted: false });
  }
  return out;
}

/** Samples of a sequence loaded at `intervalMs` steps from `startMs` (Prometheus' loadCmd.set). */
export interface SeriesSamples {
  ts: number[];
  vs: number[];
  stale: boolean[];
}

export function sequenceSamples(values: readonly SequenceValue[], intervalMs: number, startMs = 0): SeriesSamples {
  const out: SeriesSamples = { ts: [], vs: [], stale: [] };
  let t = startMs;
  for (const v of values) {
    if (!v.omitted) {
      out.ts.push(t);
      out.vs.push(v.stale ? NaN : v.value);
      out.stale.push(v.stale);
    }
    t += intervalMs;
  }
  return out;
}

/**
 * A number on its own line of an eval command (the expected scalar): Go's strconv.ParseInt(s, 0, 64),
 * then ParseFloat. null when it is not a number.
 */
export function parseScalarLine(s: string): number | null {
  // ParseInt base 0 differs from ParseFloat for 0x/0o/0b prefixes and leading-0 octal; `_` digit
  // separators (rare here) are left to ParseFloat, which gives the same value for decimals.
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]+)$/.exec(s);
  if (m) {
    const body = m[2]!;
    const lit = /^0[0-7]/.test(body) ? "0o" + body.slice(1) : body[0] + body[1]!.toLowerCase() + body.slice(2);
    let big = BigInt(lit);
    if (m[1] === "-") big = -big;
    if (big >= -(1n << 63n) && big < 1n << 63n) return Number(big);
  }
  return goParseFloat(s);
}
