// Runner fixture (test/integration/test-runner.test.ts): three tests pass, two are skipped.
import { test } from "uvu";
import * as assert from "uvu/assert";

test("passes 1", () => { assert.ok(true); });
test("passes 2", () => { assert.ok(true); });
test("passes 3", () => { assert.ok(true); });
test.skip("skipped 1", () => { assert.unreachable(); });
test.skip("skipped 2", () => { assert.unreachable(); });
test.run();
