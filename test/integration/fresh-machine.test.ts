// A fresh machine, without uninstalling anything: PATH is a temp dir of symlinks to every program on the
// real PATH except prometheus. `npm test` and `npm start` must then stop within seconds with the command
// to run (THANOTS_NO_INSTALL=1, so that this root machine does not really install), or install through
// apt-get (a fake one here, that links prometheus back in); and a suite run on its own must end quickly
// with the reason, not hang until the runner's 15-minute limit.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../lib/proc.ts";
import { requireBinary } from "../lib/proc.ts";

const root = process.cwd();

/** A PATH with everything on the current one except `leave`: one dir of symlinks. */
function pathWithout(leave: string[]): string {
  const dir = tempDir("path-without-").path;
  for (const d of (process.env.PATH ?? "").split(":")) {
    if (!d || !existsSync(d)) continue;
    let names: string[];
    try { names = readdirSync(d); } catch { continue; }
    for (const n of names) {
      if (leave.includes(n) || existsSync(join(dir, n))) continue;
      try { symlinkSync(join(d, n), join(dir, n)); } catch { /* a name seen twice */ }
    }
  }
  return dir;
}

/** cmd with stdout and stderr in one stream, in order. */
function run(cmd: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ out: string; status: number | null; seconds: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile("/bin/sh", ["-c", 'exec "$@" 2>&1', "sh", cmd, ...args], { cwd: root, env: { ...process.env, ...env }, timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ out: stdout + stderr, status, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

const noProm = pathWithout(["prometheus"]);

test("the PATH really lacks prometheus and keeps the rest", () => {
  const saved = process.env.PATH;
  process.env.PATH = noProm;
  try {
    assert.throws(() => requireBinary("prometheus"), /prometheus is not on PATH/);
    assert.ok(requireBinary("promtool"));
    assert.ok(requireBinary("bash"));
  } finally {
    process.env.PATH = saved;
  }
});

test("npm test (test/run.sh) without prometheus and without installing: stops within seconds with the command", async () => {
  const r = await run("bash", ["test/run.sh"], { PATH: noProm, THANOTS_NO_INSTALL: "1" }, 60_000);
  assert.ok(r.seconds < 30, `took ${r.seconds} s`);
  assert.is(r.status, 1, r.out);
  assert.match(r.out, "npm test: this machine lacks what the tests need:\n  - prometheus (Debian package prometheus");
  assert.match(r.out, "Run:\n\n  apt-get update && apt-get install -y prometheus\n");
  assert.not.match(r.out, "=== typecheck", "nothing else ran");
  assert.is(r.out.trimEnd().split("\n").at(-1), "0 passed, 1 failed");
});

test("npm start (the demo) without prometheus and without installing: exit 3 within seconds with the command", async () => {
  const data = tempDir("fresh-demo-").path;
  const r = await run(join(root, "node_modules/.bin/bun"), ["agent/demo/main.ts", `--data-dir=${data}`], { PATH: noProm, THANOTS_NO_INSTALL: "1" }, 60_000);
  assert.ok(r.seconds < 30, `took ${r.seconds} s`);
  assert.is(r.status, 3, r.out);
  assert.match(r.out, "npm start: this machine lacks what the demo needs:\n  - prometheus (Debian package prometheus");
  assert.match(r.out, "apt-get update && apt-get install -y prometheus");
  assert.equal(readdirSync(data), [], "nothing started");
});

test("with apt-get usable, the set-up installs what is missing, saying so, and goes on", async () => {
  const path = pathWithout(["prometheus", "apt-get", "sudo"]);
  const real = requireBinary("prometheus");
  const log = join(tempDir("fake-apt-").path, "calls");
  // A fake apt-get: records its arguments; `install ... prometheus` links the real binary into PATH.
  writeFileSync(join(path, "apt-get"), `#!/bin/sh\necho "$@" >> ${log}\ncase "$*" in *install*prometheus*) ln -s ${real} ${path}/prometheus;; esac\n`);
  // And a sudo without a password, for a run as another user than root.
  writeFileSync(join(path, "sudo"), `#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n`);
  chmodSync(join(path, "apt-get"), 0o755);
  chmodSync(join(path, "sudo"), 0o755);
  const r = await run(join(root, "node_modules/.bin/bun"), ["scripts/setup.ts", "demo"], { PATH: path }, 60_000);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, "npm start: installing prometheus with apt-get");
  assert.match(r.out, "npm start: installed prometheus");
  assert.equal(readFileSync(log, "utf8").trim().split("\n"), ["update -qq", "install -y -qq prometheus"]);
  assert.ok(existsSync(join(path, "prometheus")));
});

test("suites run on their own without prometheus end within a minute with the reason, and the runner goes on", async () => {
  // chunkenc-prometheus hung for the runner's whole 15-minute limit (a scrape target left open when
  // Prometheus did not start); api-parse-parity and promql-diff-staleness start Prometheus in a before hook.
  const suites = ["chunkenc-prometheus", "api-parse-parity", "promql-diff-staleness"];
  const filter = `^test/integration/(${suites.join("|")})\\.test\\.ts$`;
  const r = await run("bash", ["-c", '. test/lib/runner.sh; runner_init; run_suites test "$1"; summary', "runner", filter], { PATH: noProm }, 180_000);
  const ctx = `\n${r.out.slice(-3000)}`;
  assert.ok(r.seconds < 60 * suites.length, `took ${r.seconds} s`);
  for (const s of suites) assert.match(r.out, `=== test/integration/${s}.test.ts\n`, `the runner reached ${s}`);
  assert.not.match(r.out, "killed by its time limit", ctx);
  assert.match(r.out, "prometheus is not on PATH (the reference Prometheus 2.42 and promtool): `npm test` installs what is missing before the suites run; or run: apt-get install -y prometheus", ctx);
  assert.match(r.out, "before hook of the default suite threw; none of its tests ran", ctx);
  assert.match(r.out.trimEnd().split("\n").at(-1)!, /^0 passed, [1-9]\d* failed$/, ctx);
  assert.is(r.status, 1);
});

test.run();
