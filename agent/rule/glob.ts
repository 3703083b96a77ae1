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
  let out = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "\\") {
      if (i + 1 >= p.length) throw badPattern(p);
      out += escapeRe(p[++i]!);
    } else if (c === "[") {
      let j = i + 1;
      let cls = "";
      if (p[j] === "^") { cls += "^"; j++; }
      let first = true;
      for (;;) {
        if (j >= p.length) throw badPattern(p);
        const d = p[j]!;
        if (d === "]" && !first) break;
        first = false;
        if (d === "\\") {
          if (j + 1 >= p.length) throw badPattern(p);
          cls += escapeRe(p[j + 1]!);
          j += 2;
          continue;
        }
        if (d === "-" && (cls === "" || cls === "^" || p[j + 1] === "]")) throw badPattern(p);
        cls += d === "]" || d === "[" || d === "^" ? "\\" + d : d;
        j++;
      }
      if (cls === "" || cls === "^") throw badPattern(p);
      out += `[${cls}]`;
      i = j;
    } else out += escapeRe(c);
  }
  re = new RegExp(`^${out}$`, "s");
  cache.set(p, re);
  return re;
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
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
