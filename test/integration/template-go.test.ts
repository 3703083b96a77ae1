// shared/template against Go itself: Prometheus 2.42's template package (test/template/oracle.go, the
// same NewTemplateExpander call rules/alerting.go makes) expands a corpus and we must print the same
// bytes, error texts included:
//   - every label/annotation template of Thanos v0.41.0's examples/alerts/alerts.yaml, kube-prometheus
//     style annotations, $value edge cases through Go's float formatting and the humanize family,
//     strings through title/toUpper/toLower/printf, host:port forms, syntax and error cases;
//   - thousands of random templates from a grammar, printf calls with random formats and corpus
//     texts with random edits (test/template/generate.ts, seeded);
//   - fmt.Sprintf of random float64s with 35 verbs (ties, subnormals, huge precisions);
//   - the case-mapping table generated from Go's unicode.CaseRanges.
// Known differences are listed, with a reason each, in test/template/known-failures.txt.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sprintf } from "../../shared/template/fmt.ts";
import { base, builtinCorpus, CORPUS_TEXTS, thanosAlertCases, type TemplateCase } from "../template/corpus.ts";
import { mutatedCases, randomCases, randomPrintfCases } from "../template/generate.ts";
import { caseRangesSource } from "../template/gen-unicode.ts";
import { expandOurs } from "../template/run.ts";
import { runTemplateOracle } from "../lib/template-oracle.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");

function knownFailures(): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(join(root, "test/template/known-failures.txt"), "utf8").split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const [id, reason] = line.split("\t");
    if (!id || !reason) throw new Error(`known-failures.txt: line without a TAB and a reason: ${line}`);
    m.set(id, reason);
  }
  return m;
}

// Go prints pointers nested in slices as machine addresses; we print a fixed placeholder.
const normalize = (s: string) => s.replace(/0x[0-9a-f]{8,}/g, "0xPTR");

async function compare(cases: TemplateCase[]): Promise<{ diffs: string[]; matched: Set<string> }> {
  const go = await runTemplateOracle<{ result: string }[]>(["expand"], { cases });
  assert.is(go.length, cases.length);
  const known = knownFailures();
  const diffs: string[] = [];
  const matched = new Set<string>();
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    const ours = await expandOurs(c);
    if (normalize(ours) === normalize(go[i]!.result)) continue;
    if (known.has(c.id)) {
      matched.add(c.id);
      continue;
    }
    diffs.push(`${c.id}\n  text: ${JSON.stringify(c.text)}\n  go:   ${JSON.stringify(go[i]!.result)}\n  ours: ${JSON.stringify(ours)}`);
  }
  return { diffs, matched };
}

test("the Go oracle builds and expands a template", async () => {
  const c = base("smoke", "{{ $value }} {{ humanize 1234567 }} {{ $labels.job }}", { value: "1e6" });
  const go = await runTemplateOracle<{ result: string }[]>(["expand"], { cases: [c] });
  assert.equal(go, [{ result: "1e+06 1.235M api-server" }]);
  assert.is(await expandOurs(c), "1e+06 1.235M api-server");
});

test("corpus: Thanos alerts, kube-style annotations, $value and string edge cases, syntax and errors equal Go's", async () => {
  const cases = [...thanosAlertCases(), ...builtinCorpus()];
  assert.ok(cases.length > 1500, `corpus has ${cases.length} cases`);
  const ids = new Set(cases.map((c) => c.id));
  assert.is(ids.size, cases.length, "case ids are unique");
  const { diffs, matched } = await compare(cases);
  assert.equal(diffs, [], `${diffs.length} of ${cases.length} differ:\n${diffs.slice(0, 20).join("\n")}`);
  // Every known failure of the corpus must still be one (a fixed one must leave the list).
  const stale = [...knownFailures().keys()].filter((id) => ids.has(id) && !matched.has(id));
  assert.equal(stale, [], "known failures that now pass");
  console.log(`  corpus: ${cases.length} cases, ${matched.size} known differences`);
});

test("random templates from a grammar equal Go's", async () => {
  const n = Number(process.env.TEMPLATE_FUZZ_CASES ?? 1500);
  for (const seed of [1, 2]) {
    const cases = randomCases(seed, n, (id, text, value) => base(id, text, { value }));
    const { diffs } = await compare(cases);
    assert.equal(diffs, [], `seed ${seed}: ${diffs.length} of ${n} differ:\n${diffs.slice(0, 10).join("\n")}`);
  }
});

test("printf with random formats over values of every type equals Go's", async () => {
  const cases = randomPrintfCases(1, Number(process.env.TEMPLATE_FUZZ_CASES ?? 2000), (id, text, value) => base(id, text, { value }));
  const { diffs } = await compare(cases);
  assert.equal(diffs, [], `${diffs.length} of ${cases.length} differ:\n${diffs.slice(0, 10).join("\n")}`);
});

test("corpus texts with random edits (lexer and parser error paths) equal Go's", async () => {
  const cases = mutatedCases(CORPUS_TEXTS, 1, Number(process.env.TEMPLATE_FUZZ_CASES ?? 2000), (id, text, value) => base(id, text, { value }));
  const { diffs } = await compare(cases);
  assert.equal(diffs, [], `${diffs.length} of ${cases.length} differ:\n${diffs.slice(0, 10).join("\n")}`);
});

test("fmt.Sprintf of float64 equals Go's for random values, ties and extremes", async () => {
  let seed = 12345;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const buf = new DataView(new ArrayBuffer(8));
  const specials = [0, -0, NaN, Infinity, -Infinity, 5e-324, 1.7976931348623157e308, 0.5, 1.5, 2.5, 0.125, 0.375, 1e21, 1e-7, 9.5, 99.5, 0.05, 1234.5, 12345678.5];
  const vals: number[] = [];
  for (let i = 0; i < 1200; i++) {
    switch (i % 6) {
      case 0:
        buf.setUint32(0, Math.floor(rnd() * 2 ** 32));
        buf.setUint32(4, Math.floor(rnd() * 2 ** 32));
        vals.push(buf.getFloat64(0));
        break;
      case 1: vals.push(Math.floor(rnd() * 2000 - 1000) / 2 ** Math.floor(rnd() * 12)); break; // exact ties
      case 2: vals.push(Math.round(rnd() * 1e6) / 1000); break;
      case 3: vals.push((rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20)); break;
      case 4: vals.push((Math.floor(rnd() * 1e6) * 10 ** Math.floor(rnd() * 30 - 5)) / 2); break;
      default: vals.push(specials[i % specials.length]!);
    }
  }
  const verbs = ["%v", "%g", "%e", "%f", "%.0f", "%.1f", "%.2f", "%.3g", "%.4g", "%.17g", "%.20f", "%.30e", "%x", "%X", "%.3x", "%b",
    "%8.3f", "%-8.2e|", "%+.3g", "% .2f", "%#g", "%#.0f", "%#v", "%.100f", "%.101e", "%E", "%G", "%F", "%010.2f", "%+010.2e",
    "%#.3x", "%.0e", "%.0g", "%#.0e", "%5.0f"];
  const inputs: { f: string; verb: string; v: number }[] = [];
  for (const v of vals) {
    buf.setFloat64(0, v);
    const f = buf.getBigUint64(0).toString(16);
    for (const verb of verbs) inputs.push({ f, verb, v });
  }
  const go = await runTemplateOracle<string[]>(["floats"], inputs.map(({ f, verb }) => ({ f, verb })));
  const diffs: string[] = [];
  inputs.forEach((x, i) => {
    const ours = sprintf(x.verb, [x.v]);
    if (ours !== go[i]) diffs.push(`${x.verb} ${x.v}: go ${JSON.stringify(go[i])} ours ${JSON.stringify(ours)}`);
  });
  assert.equal(diffs.slice(0, 20), [], `${diffs.length} of ${inputs.length} differ`);
});

test("the case-mapping table is Go's unicode.CaseRanges", async () => {
  const committed = readFileSync(join(root, "shared/template/unicode-case.ts"), "utf8");
  assert.is(committed, await caseRangesSource(), "regenerate with: node_modules/.bin/tsx test/template/gen-unicode.ts");
});

test.run();
