import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { freePort, tempDir, waitForHttp } from "../../lib/proc.ts";

test("freePort gives distinct usable ports; tempDir is created and removable", async () => {
  const a = await freePort(), b = await freePort();
  assert.ok(a > 0 && b > 0);
  const d = tempDir();
  assert.ok(existsSync(d.path));
  d.remove();
  assert.not.ok(existsSync(d.path));
});

test("waitForHttp gives up at its deadline on a server that accepts and never answers", async () => {
  const sockets: Socket[] = [];
  const server = createServer((s) => { sockets.push(s); }); // reads nothing, answers nothing
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const t0 = Date.now();
  let guard: ReturnType<typeof setTimeout> | undefined;
  try {
    const outcome = await Promise.race([
      waitForHttp(`http://127.0.0.1:${port}/-/ready`, undefined, 1500).then(() => "ready", (e: Error) => e.message),
      new Promise<string>((r) => { guard = setTimeout(() => r("still waiting after 10 s"), 10_000); }),
    ]);
    assert.match(outcome, `http://127.0.0.1:${port}/-/ready not ready after 1500 ms`);
    assert.ok(Date.now() - t0 < 5000, `gave up after ${Date.now() - t0} ms`);
  } finally {
    clearTimeout(guard);
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
});

test.run();
