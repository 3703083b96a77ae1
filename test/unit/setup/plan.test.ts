// The machine set-up's decision (scripts/setup.ts): install with apt-get, or stop with the command to run,
// over fake machines. test/integration/fresh-machine.test.ts runs the real thing with a PATH that lacks
// prometheus.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ensure, plan, type Machine } from "../../../scripts/setup.ts";

const ALL = ["prometheus", "promtool", "prometheus-alertmanager", "amtool", "chromium", "openssl", "go", "apt-get", "sudo"];

function machine(o: { lacks?: readonly string[]; uid?: number; sudo?: boolean; go?: string | null; noInstall?: boolean; without?: readonly string[] } = {}): Machine & { sudoAsked: number } {
  const lacks = new Set([...(o.lacks ?? []), ...(o.without ?? [])]);
  const m = {
    sudoAsked: 0,
    which: (b: string) => (ALL.includes(b) && !lacks.has(b) ? `/usr/bin/${b}` : null),
    goVersion: () => (o.go === undefined ? "go1.26.8" : o.go),
    uid: o.uid ?? 0,
    sudoWithoutPassword: () => { m.sudoAsked++; return o.sudo ?? false; },
    noInstall: o.noInstall ?? false,
  };
  return m;
}

test("a complete machine needs nothing, and sudo is never asked", () => {
  for (const purpose of ["demo", "test"] as const) {
    const m = machine({ uid: 1000 });
    assert.equal(plan(purpose, m), { missing: [], install: null, commands: [] }, purpose);
    assert.is(m.sudoAsked, 0);
  }
});

test("root with apt-get: the missing Debian packages are installed, each once", () => {
  const p = plan("test", machine({ lacks: ["prometheus", "promtool", "chromium"] }));
  assert.equal(p.install, { packages: ["prometheus", "chromium"], sudo: false });
  assert.equal(p.commands, []);
  assert.is(p.missing.length, 2);
  assert.match(p.missing[0]!, "prometheus, promtool (Debian package prometheus");
  // promtool alone missing still means the prometheus package.
  assert.equal(plan("test", machine({ lacks: ["promtool"] })).install, { packages: ["prometheus"], sudo: false });
  assert.equal(plan("test", machine({ lacks: ["amtool"] })).install, { packages: ["prometheus-alertmanager"], sudo: false });
});

test("the demo needs only prometheus", () => {
  assert.equal(plan("demo", machine({ lacks: ["chromium", "go", "promtool", "amtool"] })).missing, []);
  assert.equal(plan("demo", machine({ lacks: ["prometheus"] })).install, { packages: ["prometheus"], sudo: false });
});

test("not root: sudo without a password installs; a sudo that wants a password, or none, gives the command", () => {
  const withSudo = machine({ lacks: ["prometheus"], uid: 1000, sudo: true });
  assert.equal(plan("demo", withSudo).install, { packages: ["prometheus"], sudo: true });
  assert.is(withSudo.sudoAsked, 1);
  for (const m of [machine({ lacks: ["prometheus"], uid: 1000, sudo: false }), machine({ lacks: ["prometheus"], uid: 1000, without: ["sudo"] })]) {
    const p = plan("demo", m);
    assert.is(p.install, null);
    assert.equal(p.commands, ["sudo apt-get update && sudo apt-get install -y prometheus"]);
  }
});

test("THANOTS_NO_INSTALL, or no apt-get: nothing is installed, the command is given", () => {
  const p = plan("test", machine({ lacks: ["prometheus", "chromium"], noInstall: true }));
  assert.is(p.install, null);
  assert.equal(p.commands, ["apt-get update && apt-get install -y prometheus chromium"]);
  const noApt = plan("demo", machine({ lacks: ["prometheus"], without: ["apt-get"] }));
  assert.is(noApt.install, null);
  assert.match(noApt.commands[0]!, "install prometheus (Debian/Ubuntu: apt-get install -y prometheus)");
});

test("Go: missing, too old (Debian 12's 1.19) or mute stops with the release tarball's command; 1.25 and newer pass", () => {
  for (const [o, why] of [
    [{ lacks: ["go"] }, "go 1.25 or newer is not on PATH"],
    [{ go: "go1.19.8" }, "/usr/bin/go is go1.19.8, older than go 1.25"],
    [{ go: "go1.24.11" }, "older than go 1.25"],
    [{ go: null }, "does not tell its version"],
  ] as const) {
    const p = plan("test", machine(o));
    assert.is(p.install, null);
    assert.is(p.missing.length, 1);
    assert.match(p.missing[0]!, why);
    assert.is(p.commands.length, 1);
    assert.match(p.commands[0]!, /^curl -fsSL https:\/\/go\.dev\/dl\/go1\.25\.\d+\.linux-\$\(dpkg --print-architecture\)\.tar\.gz .* rm -rf \/usr\/local\/go && tar -C \/usr\/local -xzf/);
  }
  for (const v of ["go1.25.0", "go1.26.8", "go2.0"]) assert.equal(plan("test", machine({ go: v })).missing, [], v);
  assert.match(plan("test", machine({ lacks: ["go"], uid: 1000 })).commands[0]!, "sudo rm -rf /usr/local/go && sudo tar");
  // Debian packages are still installed when Go is what stops the run.
  const both = plan("test", machine({ lacks: ["chromium", "go"] }));
  assert.equal(both.install, { packages: ["chromium"], sudo: false });
  assert.is(both.commands.length, 1);
});

test("ensure: a machine that cannot install prints what is missing and the one command, and says no", () => {
  const logs: string[] = [], errors: string[] = [];
  const ok = ensure("demo", machine({ lacks: ["prometheus"], uid: 1000, sudo: false }), { log: (s) => logs.push(s), error: (s) => errors.push(s) });
  assert.is(ok, false);
  assert.equal(logs, []);
  const text = errors.join("\n");
  assert.match(text, "npm start: this machine lacks what the demo needs:\n  - prometheus (Debian package prometheus");
  assert.match(text, "Run:\n\n  sudo apt-get update && sudo apt-get install -y prometheus\n\nthen npm start again.");
  assert.is(ensure("test", machine(), { log: (s) => logs.push(s), error: (s) => errors.push(s) }), true);
  assert.equal(logs, [], "a complete machine prints nothing");
});

test.run();
