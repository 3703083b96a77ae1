// Go's filepath.Glob, as Thanos and Prometheus expand `--rule-file` / `rule_files`: metacharacters
// (`*`, `?`, `[...]`, `\` escapes) in any path element; each element's matches in sorted order; a
// pattern without metacharacters is returned as is when the path exists (a directory too); a bad
// pattern (an unclosed `[`) is an error (filepath.ErrBadPattern).

import { lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { CodedError } from "../../shared/encoding/errors.ts";

const META = /[*?[\\]/;

function hasMeta(s: string): boolean {
  return META.test(s);
}

/** Go's filepath.Match for one path element (no separator inside). */
export function matchElement(pattern: string, name: string): boolean {
  return compileElement(pattern).test(name);
}

const cache = new Map<string, RegExp>();

function compileElement(p: string): RegExp {
  let re = cache.get(p);
  if (re) return re;
  const chars = [...p]; // runes: `?` and classes match one code point
  let out = "";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "\\") {
      if (i + 1 >= chars.length) throw badPattern(p);
      out += escapeRe(chars[++i]!);
    } else if (c === "[") {
      // Go's class: [^]? then (lo | lo-hi)+ then ]; '-' and ']' must be escaped where they would be lo/hi.
      let j = i + 1;
      let cls = "";
      if (chars[j] === "^") { cls = "^"; j++; }
      const esc = (): string => {
        const d = chars[j];
        if (d === undefined || d === "-" || d === "]") throw badPattern(p);
        if (d === "\\") {
          j++;
          if (chars[j] === undefined) throw badPattern(p);
        }
        return chars[j++]!;
      };
      let n = 0;
      for (;;) {
        if (j >= chars.length) throw badPattern(p);
        if (chars[j] === "]" && n > 0) break;
        const lo = esc();
        if (chars[j] === "-") {
          j++;
          const hi = esc();
          // Go takes a range whose end is below its start (`[z-a]`) as one that matches nothing.
          if (hi.codePointAt(0)! >= lo.codePointAt(0)!) cls += classChar(lo) + "-" + classChar(hi);
        } else cls += classChar(lo);
        n++;
      }
      // An empty class: `[]` matches nothing and `[^]` any one character, as Go's does then.
      out += `[${cls}]`;
      i = j;
    } else out += escapeRe(c);
  }
  re = new RegExp(`^${out}$`, "su");
  cache.set(p, re);
  return re;
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? "\\" + c : c;
}

function classChar(c: string): string {
  return /[\]\[\\^-]/.test(c) ? "\\" + c : c;
}

function badPattern(p: string): CodedError {
  return new CodedError("bad_data", `syntax error in pattern ${JSON.stringify(p)}`);
}

function exists(p: string): boolean {
  try { lstatSync(p); return true; } catch { return false; }
}

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

/** filepath.Glob(pattern). */
export function glob(pattern: string): string[] {
  if (!hasMeta(pattern)) return exists(pattern) ? [pattern] : [];
  const slash = pattern.lastIndexOf("/");
  let dir = slash < 0 ? "." : pattern.slice(0, slash) || "/";
  const file = pattern.slice(slash + 1);
  // Go cleans the directory part (removes a trailing separator) before globbing it.
  if (dir.length > 1) dir = dir.replace(/\/+$/, "") || "/";
  compileElement(file); // a bad last element is an error even when the directory has no match
  const dirs = hasMeta(dir) ? glob(dir) : [dir];
  const out: string[] = [];
  for (const d of dirs) {
    if (!isDir(d)) continue;
    let names: string[];
    try { names = readdirSync(d); } catch { continue; }
    names.sort();
    for (const n of names) if (matchElement(file, n)) out.push(slash < 0 ? n : d === "/" && pattern.startsWith("/") && dir === "/" ? `/${n}` : join(d, n));
  }
  return out;
}

/** Thanos' reloadRules file list: every pattern globbed, duplicates removed, pattern order kept. */
export function ruleFiles(patterns: readonly string[]): { files: string[]; errors: string[] } {
  const seen = new Set<string>();
  const files: string[] = [];
  const errors: string[] = [];
  for (const p of patterns) {
    let fs: string[];
    try {
      fs = glob(p);
    } catch (e) {
      errors.push(`retrieving rule files failed. Ignoring file. pattern ${p}: ${(e as Error).message}`);
      continue;
    }
    for (const f of fs) {
      if (seen.has(f)) continue;
      seen.add(f);
      files.push(f);
    }
  }
  return { files, errors };
}
