// Runner fixture (test/integration/test-runner.test.ts): two tests pass.
import { test } from "uvu";
import * as assert from "uvu/assert";

test("passes 1", () => { assert.ok(true); });
test("passes 2", () => { assert.ok(true); });
test.run();
