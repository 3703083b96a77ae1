// `--rule-file` globbing (agent/rule/glob.ts) against Go's own expectations: the matchTests table of
// path/filepath's match_test.go in the installed Go toolchain (patterns, names, match or
// ErrBadPattern), plus Glob over a directory tree (sorted matches, metacharacters in directories, a
// literal path returned when it exists, duplicates across patterns removed).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { glob, matchElement, ruleFiles } from "../../../agent/rule/glob.ts";
import { requireBinary } from "../../lib/proc.ts";
import { buildGo } from "../../lib/gobuild.ts";
import { fileURLToPath } from "node:url";

function goMatchTests(): { pattern: string; s: string; match: boolean; bad: boolean }[] {
  const goroot = execFileSync(requireBinary("go"), ["env", "GOROOT"], { encoding: "utf8" }).trim();
  const src = readFileSync(join(goroot, "src/path/filepath/match_test.go"), "utf8");
  const table = src.slice(src.indexOf("var matchTests = []MatchTest{"), src.indexOf("\n}\n", src.indexOf("var matchTests")));
  const out = [];
  for (const m of table.matchAll(/\{("(?:[^"\\]|\\.)*"), ("(?:[^"\\]|\\.)*"), (true|false), (nil|ErrBadPattern)\}/g)) {
    out.push({ pattern: JSON.parse(m[1]!) as string, s: JSON.parse(m[2]!) as string, match: m[3] === "true", bad: m[4] === "ErrBadPattern" });
  }
  return out;
}

test("filepath.Match: every case of Go's matchTests table", () => {
  const cases = goMatchTests();
  assert.ok(cases.length > 50, `only ${cases.length} cases parsed`);
  for (const c of cases) {
    let got: boolean | "bad";
    try { got = matchElement(c.pattern, c.s); } catch { got = "bad"; }
    assert.equal(got, c.bad ? "bad" : c.match, `Match(${JSON.stringify(c.pattern)}, ${JSON.stringify(c.s)})`);
  }
});

test("filepath.Match: character classes beyond Go's table (out-of-order ranges, negation, escapes) as Go answers", async () => {
  const cases: [string, string][] = [];
  for (const pattern of ["[z-a]", "[^z-a]", "[z-ab]", "[^z-ab]", "[b-a]x", "[\\]-a]", "[a-a]", "[^a-a]", "[é-a]", "[a-é]"]) {
    for (const s of ["a", "b", "z", "é", "]", "-", "ax", "bx", "/"]) cases.push([pattern, s]);
  }
  const bin = await buildGo("glob-match", "module thanots/globmatch\n\ngo 1.21\n", readFileSync(fileURLToPath(new URL("../../lib/go/glob-match.go", import.meta.url)), "utf8"));
  const goAnswers = JSON.parse(execFileSync(bin, [], { input: JSON.stringify(cases), encoding: "utf8" })) as string[];
  assert.is(goAnswers.length, cases.length);
  cases.forEach(([pattern, s], i) => {
    let got: string;
    try { got = String(matchElement(pattern, s)); } catch { got = "bad"; }
    assert.is(got, goAnswers[i], `Match(${JSON.stringify(pattern)}, ${JSON.stringify(s)})`);
  });
});

test("Glob: sorted matches, metacharacters in directories, literal paths, duplicates across patterns", () => {
  const d = mkdtempSync(join(tmpdir(), "glob-"));
  try {
    for (const p of ["rules/b.yml", "rules/a.yml", "rules/c.yaml", "more/x/r.yml", "more/y/r.yml", "more/y/s.txt"]) {
      mkdirSync(join(d, p, ".."), { recursive: true });
      writeFileSync(join(d, p), "");
    }
    assert.equal(glob(join(d, "rules/*.yml")), [join(d, "rules/a.yml"), join(d, "rules/b.yml")]);
    assert.equal(glob(join(d, "more/*/r.yml")), [join(d, "more/x/r.yml"), join(d, "more/y/r.yml")]);
    assert.equal(glob(join(d, "rules/c.yaml")), [join(d, "rules/c.yaml")]);
    assert.equal(glob(join(d, "rules/none.yml")), []);
    assert.equal(glob(join(d, "rules")), [join(d, "rules")]);
    assert.throws(() => glob(join(d, "rules/[.yml")), /syntax error in pattern/);
    const r = ruleFiles([join(d, "rules/*.yml"), join(d, "rules/a.yml"), join(d, "rules/[")]);
    assert.equal(r.files, [join(d, "rules/a.yml"), join(d, "rules/b.yml")]);
    assert.is(r.errors.length, 1);
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test.run();
