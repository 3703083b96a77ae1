// `bun run agent compact --wait` as a process: /metrics, /-/healthy, /-/ready on --http-address, an
// iteration every --wait-interval, and a halt (overlapping blocks without vertical compaction) that keeps
// the process up doing nothing with thanos_compact_halted 1 and the reason logged at error level.
import { cpSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encodeBlockMeta } from "../../shared/tsdb/meta.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";
import { listBucketBlocks } from "../../shared/block/listing.ts";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { generateHABucket, HOUR } from "../lib/blockgen.ts";
import { freePort, startProcess, tempDir, waitForHttp } from "../lib/proc.ts";
import { bcryptHash } from "../../shared/encoding/bcrypt.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");

async function bucket(): Promise<{ dir: string; cfg: string }> {
  const base = tempDir("compact-agent-").path;
  const dir = join(base, "bucket");
  await generateHABucket({ dir, start: Math.floor((Date.now() - 5 * 24 * HOUR) / (2 * HOUR)) * 2 * HOUR, blocks: 6, series: 20, step: 60000 });
  const cfg = join(base, "bucket.yml");
  writeFileSync(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${dir}\n`);
  return { dir, cfg };
}

async function metric(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : null;
}

async function until(f: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("--wait: iterations every --wait-interval, Thanos' metrics and probes on --http-address", async () => {
  const { cfg } = await bucket();
  const port = await freePort();
  const p = startProcess(BUN, [join(ROOT, "agent/main.ts"), "compact", "-w", "--wait-interval=1s", `--http-address=127.0.0.1:${port}`,
    `--objstore.config-file=${cfg}`, `--data-dir=${tempDir("compact-agent-data-").path}`, "--deduplication.replica-label=replica", "--downsampling.disable",
    "--compact.progress-interval=1s"], { cwd: ROOT });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/-/ready`, p);
    assert.is((await fetch(`${url}/-/healthy`)).status, 200);
    await until(async () => ((await metric(url, "thanos_compact_iterations_total")) ?? 0) >= 2, "two iterations");
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const name of ["thanos_compact_halted 0", "thanos_delete_delay_seconds 172800", 'thanos_compact_group_compactions_total{resolution="0"}',
      "thanos_compact_todo_compactions", 'thanos_blocks_meta_synced{state="loaded"}', 'thanos_compact_blocks_marked_total{marker="deletion-mark.json",reason=""}']) {
      assert.ok(text.includes(name), `/metrics has ${name}`);
    }
    assert.ok(((await metric(url, 'thanos_compact_group_compactions_total{resolution="0"}')) ?? 0) > 0, "compactions happened");
  } finally {
    await p.stop();
  }
  assert.match(p.output(), /level=info component=compact msg="starting compact node"/);
});

test("--http.config on the compactor and on tools bucket web: basic auth on every path, a bad file refused at start naming the flag", async () => {
  const { cfg } = await bucket();
  const web = join(tempDir("compact-agent-web-").path, "web.yml");
  writeFileSync(web, `basic_auth_users:\n  admin: ${bcryptHash("s3cret", 5, new Uint8Array(16).fill(3))}\n`);
  const good = { Authorization: `Basic ${btoa("admin:s3cret")}` }, bad = { Authorization: `Basic ${btoa("admin:nope")}` };
  for (const cmd of [["compact", "--wait", "--wait-interval=1m", "--downsampling.disable", `--data-dir=${tempDir("compact-agent-data-").path}`], ["tools", "bucket", "web"]]) {
    const port = await freePort();
    const p = startProcess(BUN, [join(ROOT, "agent/main.ts"), ...cmd, `--http-address=127.0.0.1:${port}`, `--objstore.config-file=${cfg}`, `--http.config=${web}`], { cwd: ROOT });
    try {
      const url = `http://127.0.0.1:${port}`;
      await until(async () => (await fetch(`${url}/-/ready`, { headers: good }).catch(() => null))?.status === 200, `${cmd.join(" ")} ready`);
      for (const path of ["/metrics", "/-/healthy", "/-/ready", "/"]) {
        assert.is((await fetch(url + path)).status, 401, `${cmd[0]} ${path} without a password`);
        assert.is((await fetch(url + path, { headers: bad })).status, 401, `${cmd[0]} ${path} with a wrong one`);
        assert.is((await fetch(url + path, { headers: good })).status, 200, `${cmd[0]} ${path} with the right one`);
      }
    } finally {
      await p.stop();
    }
  }
  writeFileSync(web, "basic_auth_users: [not a map\n");
  const p = startProcess(BUN, [join(ROOT, "agent/main.ts"), "compact", "--wait", `--http-address=127.0.0.1:${await freePort()}`, `--objstore.config-file=${cfg}`,
    `--data-dir=${tempDir("compact-agent-data-").path}`, `--http.config=${web}`], { cwd: ROOT });
  const code = await p.exited;
  assert.is(code, 1);
  assert.match(p.output(), /--http.config /);
});

test("a halt: overlapping blocks without vertical compaction; the process stays up, halted, saying why at error level", async () => {
  const { dir, cfg } = await bucket();
  const src = (await listBucketBlocks(new FilesystemBucket(dir))).metas.find((m) => m.thanos!.labels.replica === "a")!;
  const dup = newUlid(Date.now() - 3 * 24 * HOUR);
  cpSync(join(dir, src.ulid), join(dir, dup), { recursive: true });
  writeFileSync(join(dir, dup, "meta.json"), encodeBlockMeta({ ...src, ulid: dup, compaction: { level: 1, sources: [dup] } }));
  const port = await freePort();
  const p = startProcess(BUN, [join(ROOT, "agent/main.ts"), "compact", "--wait", "--wait-interval=1s", `--http-address=127.0.0.1:${port}`,
    `--objstore.config-file=${cfg}`, `--data-dir=${tempDir("compact-agent-halt-").path}`, "--downsampling.disable"], { cwd: ROOT });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/-/ready`, p);
    await until(async () => (await metric(url, "thanos_compact_halted")) === 1, "halted");
    assert.match(p.output(), /level=error component=compact msg="critical error detected; halting" err=.*pre compaction overlap check: overlaps found while gathering blocks/);
    await new Promise((r) => setTimeout(r, 2500));
    assert.is(p.child.exitCode, null, "still running");
    assert.is((await fetch(`${url}/-/healthy`)).status, 200);
    assert.is(await metric(url, "thanos_compact_iterations_total"), 0);
  } finally {
    await p.stop();
  }
  // Without --debug.halt-on-error the same halt ends the process with an error.
  const q = startProcess(BUN, [join(ROOT, "agent/main.ts"), "compact", "--wait", "--no-debug.halt-on-error", "--wait-interval=1s", "--http-address=127.0.0.1:0",
    `--objstore.config-file=${cfg}`, `--data-dir=${tempDir("compact-agent-nohalt-").path}`, "--downsampling.disable"], { cwd: ROOT });
  assert.is(await q.exited, 1);
  assert.match(q.output(), /critical error detected/);
});

test("one-shot: flags checked as Thanos checks them", async () => {
  const { cfg } = await bucket();
  const run = async (args: string[]) => {
    const p = startProcess(BUN, [join(ROOT, "agent/main.ts"), "compact", `--objstore.config-file=${cfg}`, `--data-dir=${tempDir("compact-agent-flags-").path}`, ...args], { cwd: ROOT });
    return { code: await p.exited, out: p.output() };
  };
  let r = await run(["--retention.resolution-raw=1d"]);
  assert.is(r.code, 2);
  assert.match(r.out, /raw resolution must be higher than the minimum block size after which 5m resolution downsampling will occur \(40 hours\)/);
  r = await run(["--deduplication.func=penalty"]);
  assert.is(r.code, 2);
  assert.match(r.out, /penalty based deduplication needs at least one replica label specified/);
  r = await run(["--deduplication.func=chain"]);
  assert.is(r.code, 2);
  r = await run(["--downsampling.disable", "--deduplication.replica-label=replica", "--log.level=warn"]);
  assert.is(r.code, 0, r.out);
});

test.run();
