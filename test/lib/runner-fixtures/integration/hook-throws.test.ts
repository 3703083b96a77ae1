// Runner fixture (test/integration/test-runner.test.ts): a suite whose before hook throws (its 2 tests
// never run), then a suite that passes.
import { suite } from "uvu";
import * as assert from "uvu/assert";

const broken = suite("broken setup");
broken.before(async () => { throw new Error("fixture: the server did not start"); });
broken("never runs 1", () => { assert.ok(true); });
broken("never runs 2", () => { assert.ok(true); });
broken.run();

const fine = suite("fine");
fine("passes", () => { assert.ok(true); });
fine.run();
