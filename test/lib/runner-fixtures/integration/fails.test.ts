// Runner fixture (test/integration/test-runner.test.ts): two tests, one fails.
import { test } from "uvu";
import * as assert from "uvu/assert";

test("passes", () => { assert.is(1 + 1, 2); });
test("fails", () => { assert.is(1 + 1, 3, "fixture failure"); });
test.run();
