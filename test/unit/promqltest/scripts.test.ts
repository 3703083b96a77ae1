// Every PromQL test script through our engine: Prometheus 2.42's own promql/testdata/*.test (read
// from the Go module cache, downloaded with `go mod download` when missing; without `go` this fails
// and says why) and ours in test/promql/*.test (whose expected values come from Prometheus, see
// test/integration/promqltest-oracle.test.ts). A failure fails the test unless
// test/promql/known-failures.txt lists it with a reason; a listed failure that passes fails too, so
// the file stays true.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { OWN_DIR, readKnownFailures, runFile, summarize, testFiles, upstreamTestdataDir, type FileRun } from "../../lib/promqltest.ts";

const upstream = upstreamTestdataDir();
const known = readKnownFailures();
const runs = new Map<string, FileRun>();

async function check(file: string): Promise<FileRun> {
  const r = await runFile(file, upstream);
  runs.set(r.name, r);
  assert.is(r.error, undefined, `${r.name} does not parse: ${r.error}`);
  assert.ok(r.evals.length > 0, `${r.name} has no eval commands`);
  const s = summarize([r], known, (key) => key.startsWith(`${r.name}:`));
  const lines = [
    ...s.unexpected.map((e) => `${e.key}: ${e.expr}\n  ${e.message}`),
    ...s.stale.map((k) => `${k.key} is listed in known-failures.txt (line ${k.line}) but passes: remove it`),
  ];
  assert.ok(lines.length === 0, `${r.name}:\n${lines.join("\n")}`);
  return r;
}

for (const f of testFiles(upstream)) {
  test(`upstream ${f.slice(upstream.length + 1)}`, async () => { await check(f); });
}

for (const f of testFiles(OWN_DIR)) {
  test(`own ${f.slice(OWN_DIR.length + 1)}`, async () => { await check(f); });
}

test("Prometheus 2.42 has 566 eval commands, and every known failure names an existing eval", () => {
  const up = [...runs.values()].filter((r) => r.name.startsWith("upstream/"));
  assert.is(up.reduce((n, r) => n + r.evals.length, 0), 566);
  const keys = new Set([...runs.values()].flatMap((r) => r.evals.map((e) => e.key)));
  for (const k of known.values()) assert.ok(keys.has(k.key), `known-failures.txt:${k.line}: ${k.key} is not an eval command`);
});

test.run();
