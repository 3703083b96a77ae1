// `tools rules test` and `tools rules check` against the real thing, `promtool` 2.42:
//  (1) every file of Prometheus 2.42's cmd/promtool/testdata (read from the Go module cache, never
//      copied here) through `test rules` and `check rules`, and model/rulefmt/testdata through
//      `check rules`: same exit code, same stdout, same stderr;
//  (2) our corpus test/rules/ (for, templated labels, staleness, absent, subqueries, chained groups,
//      group_eval_order, keep_firing_for, limit, and deliberately failing and malformed files): the
//      same, with promtool deciding what is right.
// Normalised, because Go's map order makes promtool itself print them in varying order: the list of
// series in "found duplicate series for the match group ...: [A, B]" (sorted on both sides). Nothing
// else: both run in the same directory on the same relative paths, and our tool prints promtool's
// program name in its argument errors. Files listed in
// test/rules/known-differences.txt differ on purpose (Thanos' partial_response_strategy): there the
// oracle is promtool on a copy without that field, and `thanos tools rules-check` for the verdict.
// YAML syntax errors are worded by libyaml in promtool and approximated by us: the corpus avoids them
// (see shared/encoding/goyaml.ts).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir, requireBinary } from "../lib/proc.ts";
import { thanosBinary } from "../lib/thanos.ts";

const ROOT = process.cwd();
const BUN = join(ROOT, "node_modules/.bin/bun");
const PROM = "/root/go/pkg/mod/github.com/prometheus/prometheus@v0.42.0";
const PROMTOOL_TESTDATA = join(PROM, "cmd/promtool/testdata");
const RULEFMT_TESTDATA = join(PROM, "model/rulefmt/testdata");
const CORPUS = join(ROOT, "test/rules");

interface Run { code: number; stdout: string; stderr: string }

function exec(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Sort the series list of PromQL's many-to-many error, which Go prints in map order. */
function normalise(r: Run): Run {
  const fix = (s: string) => s.replace(/(found duplicate series for the match group \{[^}]*\} on the (?:left|right) hand-side of the operation: )\[(.*?)\];/g,
    (_m, head: string, list: string) => head + "[" + list.split(/, (?=\{)/).sort().join(", ") + "];");
  return { code: r.code, stdout: fix(r.stdout), stderr: fix(r.stderr) };
}

const promtool = (args: string[], cwd: string) => exec(requireBinary("promtool"), args, cwd);
const ours = (args: string[], cwd: string) => exec(BUN, [join(ROOT, "agent/main.ts"), "tools", ...args], cwd);

/** Run both on every file, two at a time; return the mismatches as readable text. */
async function compare(kind: "test" | "check", dir: string, files: string[]): Promise<string[]> {
  const bad: string[] = [];
  let i = 0;
  const worker = async () => {
    while (i < files.length) {
      const f = files[i++]!;
      const [p, o] = (await Promise.all([promtool([kind, "rules", f], dir), ours(["rules", kind, f], dir)])).map(normalise) as [Run, Run];
      if (p.code !== o.code || p.stdout !== o.stdout || p.stderr !== o.stderr) {
        bad.push(`${kind} rules ${f}: exit ${p.code}/${o.code}\n--- promtool stdout\n${p.stdout}--- ours stdout\n${o.stdout}--- promtool stderr\n${p.stderr}--- ours stderr\n${o.stderr}`);
      }
    }
  };
  await Promise.all([worker(), worker()]);
  return bad;
}

function knownDifferences(): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(CORPUS, "known-differences.txt"), "utf8").split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [file, reason] = line.split("\t");
    assert.ok(file && reason, `known-differences.txt: "${line}" needs a file, a TAB and a reason`);
    m.set(file!, reason!);
  }
  return m;
}

test("promtool's own testdata: test rules and check rules agree on every file", async () => {
  assert.ok(existsSync(PROMTOOL_TESTDATA), `${PROMTOOL_TESTDATA} missing: go mod download github.com/prometheus/prometheus@v0.42.0`);
  const files = readdirSync(PROMTOOL_TESTDATA).filter((f) => f.endsWith(".yml")).sort();
  assert.ok(files.length >= 30, `only ${files.length} files`);
  const bad = [...await compare("test", PROMTOOL_TESTDATA, files), ...await compare("check", PROMTOOL_TESTDATA, files)];
  assert.equal(bad, [], bad.join("\n"));
  // The corpus has both verdicts, so agreement is not vacuous.
  const codes = await Promise.all(["unittest.yml", "failing.yml"].map((f) => promtool(["test", "rules", f], PROMTOOL_TESTDATA)));
  assert.equal(codes.map((c) => c.code), [0, 1]);
});

test("rulefmt's testdata: check rules agrees on every file", async () => {
  const files = readdirSync(RULEFMT_TESTDATA).filter((f) => f.endsWith(".yaml")).sort();
  assert.ok(files.length >= 12);
  const bad = await compare("check", RULEFMT_TESTDATA, files);
  assert.equal(bad, [], bad.join("\n"));
});

test("our corpus: test rules agrees with promtool on every test file", async () => {
  const known = knownDifferences();
  const files = readdirSync(CORPUS).filter((f) => f.endsWith(".test.yml") && !known.has(f)).sort();
  assert.ok(files.length >= 15);
  const bad = await compare("test", CORPUS, files);
  assert.equal(bad, [], bad.join("\n"));
  const passing = files.filter((f) => !f.startsWith("fail-"));
  for (const f of passing) assert.is((await promtool(["test", "rules", f], CORPUS)).code, 0, `${f} is meant to pass under promtool`);
});

test("our corpus: check rules agrees with promtool on every rule file", async () => {
  const known = knownDifferences();
  const files = [
    ...readdirSync(CORPUS).filter((f) => f.endsWith(".rules.yml")),
    ...readdirSync(join(CORPUS, "glob")).map((f) => join("glob", f)),
  ].filter((f) => !known.has(f)).sort();
  assert.ok(files.length >= 15);
  const bad = [...await compare("check", CORPUS, files), ...await compare("check", CORPUS, ["--lint=all", "lint-duplicates.rules.yml"]).then((x) => x)];
  assert.equal(bad, [], bad.join("\n"));
});

test("Thanos' partial_response_strategy: accepted like thanos tools rules-check, else as promtool without it", async () => {
  const known = knownDifferences();
  assert.ok(known.size > 0);
  const thanos = await thanosBinary();
  const tmp = tempDir("rules-thanos-");
  try {
    for (const f of [...known.keys()].filter((f) => f.endsWith(".rules.yml"))) {
      const t = await exec(thanos, ["tools", "rules-check", "--rules", f], CORPUS);
      const o = await ours(["rules", "check", f], CORPUS);
      assert.is(o.code, t.code, `${f}: thanos tools rules-check exit ${t.code}, ours ${o.code}\n${t.stderr}\n${o.stderr}`);
      if (t.code !== 0) {
        // The same complaint as Thanos'.
        const msg = /error="([^"\\]*(?:\\.[^"\\]*)*)"/.exec(t.stderr)![1]!.replace(/\\"/g, '"');
        assert.ok(o.stderr.includes(msg), `${f}: ours does not say ${JSON.stringify(msg)}:\n${o.stderr}`);
        continue;
      }
      // A valid file: without the field, promtool must say exactly what we say with it.
      const stripped = readFileSync(join(CORPUS, f), "utf8").replace(/^\s*partial_response_strategy:.*\n/gm, "");
      writeFileSync(join(tmp.path, f), stripped);
      const p = await promtool(["check", "rules", f], tmp.path);
      assert.equal([o.code, o.stdout, o.stderr], [p.code, p.stdout, p.stderr]);
    }
    for (const f of [...known.keys()].filter((f) => f.endsWith(".test.yml"))) {
      for (const g of readdirSync(CORPUS).filter((g) => g.endsWith(".rules.yml"))) {
        writeFileSync(join(tmp.path, g), readFileSync(join(CORPUS, g), "utf8").replace(/^\s*partial_response_strategy:.*\n/gm, ""));
      }
      writeFileSync(join(tmp.path, f), readFileSync(join(CORPUS, f)));
      const p = await promtool(["test", "rules", f], tmp.path);
      const o = await ours(["rules", "test", f], CORPUS);
      assert.equal([o.code, o.stdout, o.stderr], [p.code, p.stdout, p.stderr]);
    }
  } finally {
    tmp.remove();
  }
});

test("argument errors read as promtool's", async () => {
  for (const args of [["test", "rules", "nonexistent.yml"], ["check", "rules", "nonexistent.yml"], ["check", "rules"], ["check", "rules", "glob"]]) {
    const p = await promtool(args, CORPUS);
    const o = await ours(["rules", args[0]!, ...args.slice(2)], CORPUS);
    assert.equal([o.code, o.stdout, o.stderr], [p.code, p.stdout, p.stderr], args.join(" "));
  }
});

test.run();
