// `tools rules test FILE...`: `promtool test rules` (same test-file format, evaluation, failure text
// and exit codes), also accepting Thanos' partial_response_strategy in the rule files.
import { readdirSync, lstatSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parseFlags, flagsHelp, type FlagSpec } from "../flags.ts";
import { rulesUnitTest } from "../../shared/rules/unittest.ts";
import { readGo, requireFiles, stdio } from "./rules-check.ts";
import { PROGRAM } from "../program.ts";

const specs: FlagSpec[] = [
  { name: "help", help: "show this help", boolean: true },
];

const META = /[*?[\\]/;

/** Go path.Match of one path element (`*`, `?`, `[a-z]`, `[^x]`, `\` escapes); throws on a bad pattern. */
function elementRegExp(p: string): RegExp {
  let re = "^";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\") {
      if (i + 1 >= p.length) throw new Error("syntax error in pattern");
      re += "\\" + p[++i];
    } else if (c === "[") {
      const end = p.indexOf("]", i + 2);
      if (end < 0) throw new Error("syntax error in pattern");
      let cls = p.slice(i + 1, end);
      if (cls.startsWith("^")) cls = "^" + cls.slice(1).replace(/[\]\\]/g, "\\$&");
      else cls = cls.replace(/[\]\\^]/g, "\\$&");
      re += "[" + cls + "]";
      i = end;
    } else re += c.replace(/[.+(){}|$^]/g, "\\$&");
  }
  return new RegExp(re + "$");
}

/** Go's filepath.Glob: sorted matches, [] when none (a path without meta characters must exist). */
export function goGlob(pattern: string): string[] {
  if (!META.test(pattern)) {
    try { lstatSync(pattern); return [pattern]; } catch { return []; }
  }
  const dir = dirname(pattern), base = pattern.slice(dir === "." && !pattern.startsWith("./") ? 0 : dir.length + (dir.endsWith("/") ? 0 : 1));
  const dirs = META.test(dir) ? goGlob(dir) : [dir];
  const re = elementRegExp(base);
  const out: string[] = [];
  for (const d of dirs) {
    let names: string[];
    try { names = readdirSync(d).sort(); } catch { continue; }
    for (const n of names) if (re.test(n)) out.push(dir === "." && !pattern.startsWith("./") ? n : join(d, n));
  }
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("tools rules test", specs, argv);
  if (f.bool("help")) {
    console.log(`usage: ${PROGRAM} tools rules test <test-rule-file>...\n\nUnit tests for rules (promtool test rules).\n\n${flagsHelp(specs)}`);
    return 0;
  }
  const bad = requireFiles("test-rule-file", f.positionals);
  if (bad !== null) return bad;
  return await rulesUnitTest(f.positionals, {
    read: readGo,
    glob: goGlob,
    dirname,
    join,
    isAbs: isAbsolute,
    ...stdio,
  });
}
