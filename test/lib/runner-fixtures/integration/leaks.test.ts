// Runner fixture (test/integration/test-runner.test.ts): a test that fails after starting a server it
// never closes, so the process would stay alive after uvu's summary.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer } from "node:http";

test("fails with a server left open", async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  assert.unreachable("fixture: failed before closing its server");
});
test.run();
