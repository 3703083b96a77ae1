// Test plumbing: free ports, temp dirs, child processes that are always stopped.
// Works under Node (tsx) and Bun.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { goInstallCommand, REQUIREMENTS } from "../../scripts/setup.ts";

// Ports this process already handed out: the kernel may give a just-closed port to the next bind(0), and two
// servers told the same port would fight over it.
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.unref();
      s.on("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

const cleanups: (() => void)[] = [];
let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const run = () => { for (const c of cleanups.splice(0)) { try { c(); } catch { /* already gone */ } } };
  process.on("exit", run);
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => { run(); process.exit(130); });
}

/** A temp dir removed at process exit (or earlier by calling the returned remove()). */
export function tempDir(prefix = "thanots-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = () => rmSync(path, { recursive: true, force: true });
  hookExit();
  cleanups.push(remove);
  return { path, remove };
}

export interface Proc {
  child: ChildProcess;
  /** Everything the process wrote so far (stdout + stderr), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  stop(): Promise<void>;
  exited: Promise<number | null>;
}

export function startProcess(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Proc {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const keep = (b: Buffer) => { out += b.toString(); if (out.length > 200_000) out = out.slice(-100_000); };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); };
  hookExit();
  cleanups.push(kill);
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const t = setTimeout(kill, 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Poll url until it answers 2xx (or the process exits / time runs out). */
export async function waitForHttp(url: string, proc?: Proc, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (proc && (proc.child.exitCode !== null || proc.child.signalCode !== null)) {
      throw new Error(`process exited before ${url} was ready:\n${proc.output().slice(-3000)}`);
    }
    try {
      // A server that accepts and never answers must not outlast the deadline.
      const r = await fetch(url, { signal: AbortSignal.timeout(Math.max(100, Math.min(5000, deadline - Date.now()))) });
      await r.arrayBuffer();
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (last: ${last})${proc ? `\n${proc.output().slice(-3000)}` : ""}`);
}

/**
 * Until a querier's /api/v1/stores (ours or Thanos') lists `count` stores without an error: queriers are
 * ready before their stores' first Info has come back.
 */
export async function waitForHealthyStores(url: string, count: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/api/v1/stores`, { signal: AbortSignal.timeout(Math.max(100, Math.min(5000, deadline - Date.now()))) });
      const text = await r.text();
      let st: { data?: Record<string, { lastError: string | null }[]> };
      try { st = JSON.parse(text); } catch { throw new Error(`HTTP ${r.status}, not JSON: ${text.slice(0, 300)}`); }
      if (Object.values(st.data ?? {}).flat().filter((x) => x.lastError === null).length >= count) return;
      last = JSON.stringify(st);
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url}: fewer than ${count} healthy stores after ${timeoutMs} ms: ${last.slice(0, 1000)}`);
}

/**
 * A required external binary. A missing one is a loud failure at once, never a skip; `npm test` installs
 * them before any suite runs (scripts/setup.ts), so this names the command for a suite run on its own.
 */
export function requireBinary(name: string): string {
  const paths = (process.env.PATH ?? "").split(":");
  for (const p of paths) {
    try {
      const full = join(p, name);
      if (statSync(full).isFile()) return full;
    } catch { /* not here */ }
  }
  const req = REQUIREMENTS.test.find((r) => r.bins.includes(name));
  const how = req?.apt ? `apt-get install -y ${req.apt}` : req?.go ? goInstallCommand(process.getuid?.() === 0) : null;
  throw new Error(`${name} is not on PATH${req ? ` (${req.why})` : ""}: \`npm test\` installs what is missing before the suites run${how ? `; or run: ${how}` : ""}`);
}

/**
 * `wrangler dev` on a free port, ready when `readyPath` answers. A port from freePort() is free only until
 * someone else binds it (another process's bind(0) or outgoing connection can take it before workerd
 * does), so a start that fails with "Address already in use" is retried on new ports.
 */
export async function startWranglerDev(opts: {
  args: string[]; cwd: string; readyPath: string; timeoutMs?: number; env?: Record<string, string>;
}): Promise<{ proc: Proc; url: string }> {
  const wrangler = fileURLToPath(new URL("../../node_modules/.bin/wrangler", import.meta.url));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(), inspector = await freePort();
    const proc = startProcess(wrangler, ["dev", ...opts.args, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspector)], {
      cwd: opts.cwd, env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1", ...opts.env },
    });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${url}${opts.readyPath}`, proc, opts.timeoutMs ?? 60_000);
      return { proc, url };
    } catch (e) {
      await proc.stop();
      if (attempt >= 3 || !/Address already in use|EADDRINUSE/.test(proc.output())) throw e;
    }
  }
}
