// `agent query`: flag handling and the in-process server over a block directory.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../../agent/query/main.ts";
import { startQueryServer } from "../../../agent/query/server.ts";
import { nopLogger } from "../../../agent/log.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

async function rejects(argv: string[], re: RegExp): Promise<void> {
  try {
    await run(argv);
    assert.unreachable(`accepted ${argv.join(" ")}`);
  } catch (e) {
    assert.is(errorCode(e), "bad_data", argv.join(" "));
    assert.match((e as Error).message, re);
  }
}

test("flags: missing source, bad numbers and durations are bad_data naming the flag", async () => {
  await rejects([], /no data source: give --tsdb.path/);
  await rejects(["--tsdb.path=/x", "--query.max-samples=abc"], /--query.max-samples/);
  await rejects(["--tsdb.path=/x", "--query.timeout=2 minutes"], /--query.timeout/);
  await rejects(["--tsdb.path=/x", "--http-address=nope"], /--http-address/);
  await rejects(["--nope"], /unknown flag --nope/);
});

test("server over an empty block dir answers, over a missing dir fails with a located error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "query-empty-"));
  try {
    const srv = await startQueryServer({ hostname: "127.0.0.1", port: 0, tsdbPath: dir, lookbackDeltaMs: 300_000, maxSamples: 1000, timeoutMs: 10_000, log: nopLogger });
    try {
      const r = await fetch(`http://127.0.0.1:${srv.port}/api/v1/query?query=up&time=1`);
      assert.is(r.status, 200);
      assert.is(await r.text(), '{"status":"success","data":{"resultType":"vector","result":[]}}');
      assert.is((await fetch(`http://127.0.0.1:${srv.port}/-/ready`)).status, 200);
    } finally {
      await srv.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    await startQueryServer({ hostname: "127.0.0.1", port: 0, tsdbPath: join(tmpdir(), "no-such-dir-for-query"), lookbackDeltaMs: 1, maxSamples: 1, timeoutMs: 1, log: nopLogger });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /no-such-dir-for-query/);
  }
});

test.run();
