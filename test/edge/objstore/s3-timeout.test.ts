// A server that accepts connections and never answers must not hang S3Bucket: the idle timeout turns it
// into a transient ("unavailable") error, under each runtime's build of the SDK.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Socket } from "node:net";
import { S3Bucket } from "../../../shared/objstore/s3.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

test("a silent server times out as unavailable", async () => {
  const sockets: Socket[] = [];
  const server = createServer((s) => { sockets.push(s); s.on("error", () => {}); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const b = new S3Bucket({
    bucket: "b", endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, maxAttempts: 1, idleTimeoutMs: 300,
    credentials: { accessKeyId: "x", secretAccessKey: "y" },
  });
  const t0 = Date.now();
  let err: unknown;
  try { await b.get("k"); } catch (e) { err = e; }
  const took = Date.now() - t0;
  b.destroy();
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  assert.is(errorCode(err), "unavailable", String(err));
  assert.ok(took < 5000, `gave up after ${took} ms`);
  assert.match((err as Error).message, "get k in bucket s3:b");
});

test.run();
