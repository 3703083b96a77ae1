import { test } from "uvu";
import * as assert from "uvu/assert";
import { fuzzChunks } from "./fuzzlib.ts";

// A quick slice of bench/fuzz-chunks.ts (which runs hundreds of thousands of cases).
test("fuzz slice: random and mutated XOR and aggregate chunks decode or fail with a located corrupt error", () => {
  const s = fuzzChunks({ cases: 20_000, seed: 20251125 });
  assert.equal(s.violations, []);
  assert.is(s.cases, 20_000);
  assert.ok(s.corrupt > 1000, `corrupt ${s.corrupt}`);
  assert.ok(s.decoded > 1000, `decoded ${s.decoded}`);
  assert.ok(s.roundTrips > 1000);
  // "Never hangs": generous, since GC pauses and a loaded shared machine stretch single cases.
  assert.ok(s.maxCaseMs < 1500, `slowest case ${s.maxCaseMs} ms`);
});

test.run();
