// Every component that takes a bearer token file refuses to start when the file is empty, whitespace
// only or unreadable, with an error naming the flag and the file, instead of running without auth (the
// store gateway and the querier used to: an empty token meant "no token"). Real `bun agent/main.ts`
// processes; one that starts anyway is stopped and the case fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startProcess, tempDir } from "../lib/proc.ts";

const root = process.cwd();
const bun = join(root, "node_modules/.bin/bun");

async function components(): Promise<{ name: string; flag: string; args: string[] }[]> {
  const dir = tempDir("token-file-").path;
  const bucketCfg = join(dir, "bucket.yml");
  writeFileSync(bucketCfg, `type: FILESYSTEM\nconfig:\n  directory: ${join(dir, "bucket")}\n`);
  const addrs = async () => [`--http-address=127.0.0.1:${await freePort()}`, `--grpc-address=127.0.0.1:${await freePort()}`];
  return [
    { name: "sidecar", flag: "grpc-server.bearer-token-file", args: [`--prometheus.url=http://127.0.0.1:${await freePort()}`, `--tsdb.path=${dir}`, ...await addrs()] },
    { name: "store", flag: "grpc-server.bearer-token-file", args: [`--objstore.config-file=${bucketCfg}`, ...await addrs()] },
    { name: "query", flag: "http.bearer-token-file", args: [`--tsdb.path=${dir}`, ...await addrs()] },
  ];
}

/** Run a component to its exit (at most 20 s: one still running then has started, and fails the case). */
async function exitOf(name: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const p = startProcess(bun, [join(root, "agent/main.ts"), name, "--log.level=warn", ...args]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const code = await Promise.race([p.exited, new Promise<"running">((r) => { timer = setTimeout(() => r("running"), 20_000); })]);
  clearTimeout(timer);
  if (code === "running") {
    await p.stop();
    assert.unreachable(`${name} ${args.join(" ")} started instead of refusing the token file:\n${p.output().slice(-2000)}`);
  }
  return { code: code as number | null, output: p.output() };
}

for (const [what, content] of [["empty", ""], ["whitespace-only", " \n\t\n"]] as const) {
  test(`an ${what} token file is a startup error naming the flag and the file (sidecar, store, query)`, async () => {
    for (const c of await components()) {
      const file = join(tempDir("token-").path, "token");
      writeFileSync(file, content);
      const r = await exitOf(c.name, [...c.args, `--${c.flag}=${file}`]);
      assert.is(r.code, 2, `${c.name}: exit code (usage error)\n${r.output}`);
      assert.ok(r.output.includes(`--${c.flag}`), `${c.name}: names the flag: ${r.output}`);
      assert.ok(r.output.includes(file), `${c.name}: names the file: ${r.output}`);
      assert.match(r.output, /is empty/);
    }
  });
}

test("an unreadable token file is a startup error naming it (sidecar, store, query)", async () => {
  for (const c of await components()) {
    const file = join(tempDir("token-").path, "no-such-token");
    const r = await exitOf(c.name, [...c.args, `--${c.flag}=${file}`]);
    assert.is(r.code, 2, `${c.name}: exit code\n${r.output}`);
    assert.ok(r.output.includes(`--${c.flag}`) && r.output.includes(file), `${c.name}: ${r.output}`);
  }
});

test.run();
