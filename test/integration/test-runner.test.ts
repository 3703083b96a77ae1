// The test runner's own test: the fixture suites in test/lib/runner-fixtures go through the counting logic
// `npm test` uses (test/lib/runner.sh: run_suites, then summary), and the closing line and exit status
// must add up. Fixtures: unit/skips (3 pass, 2 skipped; run under Node and Bun), integration/fails (1 of
// 2 fails), integration/hook-throws (a `before` hook throws: its 2 tests never run; another suite in the
// file passes 1), integration/leaks (fails with a server left open), integration/passes (2 pass).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";

const FIXTURES = "test/lib/runner-fixtures";

/** run_suites over the fixtures with a filter, then summary: stdout+stderr, exit status, seconds taken. */
function runner(filter: string): Promise<{ out: string; status: number; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile("bash", ["-c", '. test/lib/runner.sh; runner_init; run_suites "$1" "$2"; summary', "runner", FIXTURES, filter], {
      env: { ...process.env, THANOTS_TEST_EXIT_GRACE_MS: "2000" },
      maxBuffer: 1 << 24,
      timeout: 180_000,
    }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === "number" ? err.code : -1) : 0;
      resolve({ out: stdout + stderr, status, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

function closingLine(out: string): string {
  return out.trimEnd().split("\n").at(-1)!;
}

function failedSuites(out: string): string[] {
  const lines = out.trimEnd().split("\n");
  const i = lines.lastIndexOf("failed suites:");
  return i < 0 ? [] : lines.slice(i + 1, -1).map((l) => l.trim());
}

test("a failing suite, one that skips, one whose before hook throws and one left open: every failure counts", async () => {
  const r = await runner("");
  const ctx = `\n${r.out.slice(-4000)}`;
  // Passed: skips 3 (Node) + 3 (Bun), fails 1, hook-throws 1, passes 2. Failed: fails 1, hook-throws 2
  // (tests that never ran), leaks 1. Subtracting the 2+2 skipped tests again would print "10 passed, 0 failed".
  assert.is(closingLine(r.out), "10 passed, 4 failed", ctx);
  assert.is(r.status, 1, ctx);
  assert.equal(failedSuites(r.out), [
    `${FIXTURES}/integration/fails.test.ts`,
    `${FIXTURES}/integration/hook-throws.test.ts`,
    `${FIXTURES}/integration/leaks.test.ts`,
  ], ctx);
  // The hook's error is shown, not swallowed (uvu alone prints "(0 / 2)" and exits 0).
  assert.match(r.out, 'before hook of suite "broken setup" threw; none of its tests ran', ctx);
  assert.match(r.out, "fixture: the server did not start", ctx);
  // The process a failed test left a server open in ends soon after its summary, saying why.
  assert.match(r.out, "still running 2 s after uvu's summary: something a test started was left open (Server)", ctx);
  assert.ok(r.seconds < 90, `took ${r.seconds} s`);
});

test("only passing and skipping suites: all pass, status 0; a filter selects suites by path", async () => {
  const r = await runner("passes|skips");
  assert.is(closingLine(r.out), "8 passed, 0 failed", r.out.slice(-3000));
  assert.is(r.status, 0);
  assert.equal(failedSuites(r.out), []);
  assert.not.match(r.out, "fails.test.ts");
});

test("the closing line is alone on the last line, in the format CI reads", async () => {
  const r = await runner("^test/lib/runner-fixtures/integration/fails");
  assert.match(r.out.trimEnd().split("\n").at(-1)!, /^\d+ passed, \d+ failed$/);
  assert.is(closingLine(r.out), "1 passed, 1 failed");
  assert.is(r.status, 1);
});

test.run();
