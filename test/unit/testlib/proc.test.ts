import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { freePort, tempDir } from "../../lib/proc.ts";

test("freePort gives distinct usable ports; tempDir is created and removable", async () => {
  const a = await freePort(), b = await freePort();
  assert.ok(a > 0 && b > 0);
  const d = tempDir();
  assert.ok(existsSync(d.path));
  d.remove();
  assert.not.ok(existsSync(d.path));
});

test.run();
