// The machine set-up behind the README's two commands, `npm ci && npm start` and `npm ci && npm test`.
// The demo needs Debian's Prometheus; the integration tests also need promtool (same package),
// Alertmanager, Chromium and a Go toolchain new enough to build Thanos v0.41.0.
//
// What is missing is installed first when apt-get is usable (root, or sudo without a password), saying
// so; otherwise, or with THANOTS_NO_INSTALL=1, nothing is installed and the set-up stops at once with the
// command to run. Go is not installed: Debian 12's golang-go is 1.19 and Thanos v0.41.0 wants 1.25 (its
// go.mod), so the command to run is Go's own release tarball.
//
//   bun scripts/setup.ts test|demo     (test/run.sh and agent/demo/main.ts call this; exit 0 when ready)
//
// plan() is the decision, over a Machine that tests replace with a fake one.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

export type Purpose = "demo" | "test";

export interface Requirement {
  /** Programs that must be on PATH. */
  bins: string[];
  /** The Debian package that brings them. */
  apt?: string;
  /** A Go toolchain of at least this version (not installable from Debian 12). */
  go?: [major: number, minor: number];
  why: string;
}

/** Thanos v0.41.0's go.mod says `go 1.25.0`; the Go interop test's programs build against it too. */
export const GO_MIN: [number, number] = [1, 25];
export const GO_RELEASE = "go1.25.0";

export const REQUIREMENTS: Record<Purpose, Requirement[]> = {
  demo: [
    { bins: ["prometheus"], apt: "prometheus", why: "the demo's two Prometheus servers (2.42)" },
  ],
  test: [
    { bins: ["prometheus", "promtool"], apt: "prometheus", why: "the reference Prometheus 2.42 and promtool" },
    { bins: ["prometheus-alertmanager", "amtool"], apt: "prometheus-alertmanager", why: "the reference Alertmanager 0.25" },
    { bins: ["chromium"], apt: "chromium", why: "the UI tests' browser" },
    { bins: ["openssl"], apt: "openssl", why: "the TLS tests' certificates" },
    { bins: ["go"], go: GO_MIN, why: "the Go Thanos interop tests, Prometheus 2.42's PromQL test scripts in the Go module cache, the reference Thanos v0.41.0 build" },
  ],
};

/** What plan() asks of the machine; realMachine() answers for this one. */
export interface Machine {
  /** Full path of a program on PATH, or null. */
  which(bin: string): string | null;
  /** `go env GOVERSION` of that go binary ("go1.26.8"), or null when it does not answer. */
  goVersion(goPath: string): string | null;
  /** Effective user id (0: root). */
  uid: number;
  /** Whether `sudo -n true` succeeds (asked only when not root and something is missing). */
  sudoWithoutPassword(): boolean;
  /** THANOTS_NO_INSTALL=1: never install, only say what to run. */
  noInstall: boolean;
}

export interface Plan {
  /** One line per missing or too old program. */
  missing: string[];
  /** Debian packages to install now, through sudo when not root. */
  install: { packages: string[]; sudo: boolean } | null;
  /** Commands the user has to run; when any, the set-up stops. */
  commands: string[];
}

function parseGoVersion(v: string): [number, number] | null {
  const m = /^go(\d+)\.(\d+)/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2])] : null;
}

export function goInstallCommand(root: boolean): string {
  const s = root ? "" : "sudo ";
  return `curl -fsSL https://go.dev/dl/${GO_RELEASE}.linux-$(dpkg --print-architecture).tar.gz -o /tmp/go.tgz && ` +
    `${s}rm -rf /usr/local/go && ${s}tar -C /usr/local -xzf /tmp/go.tgz && export PATH=/usr/local/go/bin:$PATH`;
}

export function plan(purpose: Purpose, m: Machine): Plan {
  const missing: string[] = [];
  const packages: string[] = [];
  const commands: string[] = [];
  let goMissing = false;
  for (const r of REQUIREMENTS[purpose]) {
    if (r.go) {
      const go = m.which("go");
      const v = go ? m.goVersion(go) : null;
      const have = v ? parseGoVersion(v) : null;
      if (!go) missing.push(`go ${r.go.join(".")} or newer is not on PATH (${r.why})`);
      else if (!have) missing.push(`${go} does not tell its version (go env GOVERSION); ${r.why} need go ${r.go.join(".")} or newer`);
      else if (have[0] < r.go[0] || (have[0] === r.go[0] && have[1] < r.go[1])) missing.push(`${go} is ${v}, older than go ${r.go.join(".")} (${r.why})`);
      else continue;
      goMissing = true;
      continue;
    }
    const absent = r.bins.filter((b) => !m.which(b));
    if (!absent.length) continue;
    missing.push(`${absent.join(", ")} (Debian package ${r.apt}: ${r.why})`);
    if (r.apt && !packages.includes(r.apt)) packages.push(r.apt);
  }
  let install: Plan["install"] = null;
  if (packages.length) {
    const root = m.uid === 0;
    const hasApt = m.which("apt-get") !== null;
    if (hasApt && !m.noInstall && (root || (m.which("sudo") !== null && m.sudoWithoutPassword()))) {
      install = { packages, sudo: !root };
    } else if (hasApt) {
      const s = root ? "" : "sudo ";
      commands.push(`${s}apt-get update && ${s}apt-get install -y ${packages.join(" ")}`);
    } else {
      commands.push(`install ${packages.join(", ")} (Debian/Ubuntu: apt-get install -y ${packages.join(" ")}) and put them on PATH`);
    }
  }
  if (goMissing) commands.push(goInstallCommand(m.uid === 0));
  return { missing, install, commands };
}

export function realMachine(env: Record<string, string | undefined> = process.env): Machine {
  const which = (bin: string): string | null => {
    for (const dir of (env.PATH ?? "").split(":")) {
      if (!dir) continue;
      const p = join(dir, bin);
      try { if (existsSync(p) && statSync(p).isFile()) return p; } catch { /* unreadable: not there */ }
    }
    return null;
  };
  return {
    which,
    goVersion(go) {
      const r = spawnSync(go, ["env", "GOVERSION"], { encoding: "utf8", timeout: 20_000, env: { ...env, GOTOOLCHAIN: "local" } });
      return r.status === 0 ? r.stdout.trim() : null;
    },
    uid: process.getuid?.() ?? -1,
    sudoWithoutPassword() {
      return spawnSync("sudo", ["-n", "true"], { stdio: "ignore", timeout: 10_000, env }).status === 0;
    },
    noInstall: env.THANOTS_NO_INSTALL === "1",
  };
}

/**
 * Installs what is missing when it can; returns true when the machine is ready for `purpose`.
 * Otherwise it has printed what is missing and the command to run.
 */
export function ensure(purpose: Purpose, m: Machine = realMachine(), out: { log(s: string): void; error(s: string): void } = console): boolean {
  const who = purpose === "demo" ? "npm start" : "npm test";
  let p = plan(purpose, m);
  if (!p.missing.length) return true;
  if (p.install) {
    const { packages, sudo } = p.install;
    out.log(`${who}: installing ${packages.join(" ")} with apt-get${sudo ? " (sudo)" : ""}; missing:\n${p.missing.map((x) => `  - ${x}`).join("\n")}`);
    const apt = (args: string[]) => {
      const argv = sudo ? ["sudo", "-n", "apt-get", ...args] : ["apt-get", ...args];
      const r = spawnSync(argv[0]!, argv.slice(1), { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
      if (r.status !== 0) out.error(`${who}: ${argv.join(" ")} failed (${r.error?.message ?? `exit ${r.status}`})`);
      return r.status === 0;
    };
    if (apt(["update", "-qq"]) && apt(["install", "-y", "-qq", ...packages])) out.log(`${who}: installed ${packages.join(" ")}`);
    p = plan(purpose, { ...m, noInstall: true });
    if (!p.missing.length) return true;
  }
  out.error(`\n${who}: this machine lacks what ${purpose === "demo" ? "the demo needs" : "the tests need"}:\n${p.missing.map((x) => `  - ${x}`).join("\n")}\n\n` +
    `Run:\n\n${p.commands.map((c) => `  ${c}`).join("\n")}\n\nthen ${who} again.\n`);
  return false;
}

if ((import.meta as { main?: boolean }).main) {
  const purpose = process.argv[2];
  if (purpose !== "demo" && purpose !== "test") {
    console.error("usage: bun scripts/setup.ts demo|test");
    process.exit(2);
  }
  process.exit(ensure(purpose) ? 0 : 1);
}
