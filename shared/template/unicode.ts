// Go's unicode case mapping (unicode.ToUpper/ToLower/ToTitle: simple one-rune mappings from Go's own
// CaseRanges table, so "ß" stays "ß" and "ǆ" titles to "ǅ" whatever the JS engine's Unicode data),
// and strings.ToUpper/ToLower/Title built on them.

import { isDigit, isLetter } from "./lex.ts";
import { CASE_RANGES } from "./unicode-case.ts";

const UPPER_LOWER = 0x110000;
const N = CASE_RANGES.length / 5;

function to(c: 0 | 1 | 2, r: number): number {
  let lo = 0;
  let hi = N;
  while (lo < hi) {
    const m = (lo + hi) >>> 1;
    const rlo = CASE_RANGES[m * 5]!;
    const rhi = CASE_RANGES[m * 5 + 1]!;
    if (rlo <= r && r <= rhi) {
      const delta = CASE_RANGES[m * 5 + 2 + c]!;
      if (delta === UPPER_LOWER) return rlo + (((r - rlo) & ~1) | (c & 1));
      return r + delta;
    }
    if (r < rlo) hi = m;
    else lo = m + 1;
  }
  return r;
}

export function toUpperRune(r: number): number {
  if (r < 0x80) return r >= 0x61 && r <= 0x7a ? r - 32 : r;
  return to(0, r);
}

export function toLowerRune(r: number): number {
  if (r < 0x80) return r >= 0x41 && r <= 0x5a ? r + 32 : r;
  return to(1, r);
}

export function toTitleRune(r: number): number {
  if (r < 0x80) return r >= 0x61 && r <= 0x7a ? r - 32 : r;
  return to(2, r);
}

function mapRunes(s: string, f: (r: number) => number): string {
  let out = "";
  for (let i = 0; i < s.length; ) {
    const r = s.codePointAt(i)!;
    i += r > 0xffff ? 2 : 1;
    out += String.fromCodePoint(r >= 0xd800 && r <= 0xdfff ? 0xfffd : f(r));
  }
  return out;
}

/** strings.ToUpper */
export function toUpper(s: string): string {
  // ASCII fast path, as Go's.
  if (/^[\x00-\x7f]*$/.test(s)) return s.toUpperCase();
  return mapRunes(s, toUpperRune);
}

/** strings.ToLower */
export function toLower(s: string): string {
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase();
  return mapRunes(s, toLowerRune);
}

const SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;

/** unicode.IsSpace */
export function isSpace(r: number): boolean {
  if (r < 0x80) return r === 0x20 || (r >= 9 && r <= 13);
  return r <= 0xffff && SPACE.test(String.fromCharCode(r));
}

function isSeparator(r: number): boolean {
  if (r <= 0x7f) {
    if (r >= 0x30 && r <= 0x39) return false;
    if (r >= 0x61 && r <= 0x7a) return false;
    if (r >= 0x41 && r <= 0x5a) return false;
    if (r === 0x5f) return false;
    return true;
  }
  if (isLetter(r) || isDigit(r)) return false;
  return isSpace(r);
}

/** strings.Title (deprecated in Go, still what Prometheus 2.42's `title` calls). */
export function title(s: string): string {
  let prev = 0x20;
  return mapRunes(s, (r) => {
    if (isSeparator(prev)) {
      prev = r;
      return toTitleRune(r);
    }
    prev = r;
    return r;
  });
}
