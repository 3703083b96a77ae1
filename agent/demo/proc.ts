// Child processes of the demo stack: output split into lines and handed on with the component's name,
// stop = SIGTERM then SIGKILL after a grace period, ports that fall back to a free one when taken.
// node:* only, so the stack runs under Bun (npm start) and Node (the e2e test under tsx).

import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export type LineSink = (component: string, line: string) => void;

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** Last lines of output (for error messages), newest last. */
  tail(n?: number): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  running(): boolean;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** Send a signal right away (SIGKILL: a crash). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const TAIL_LINES = 400;

export function startChild(name: string, cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; onLine: LineSink }): Child {
  const proc = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  const push = (line: string) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
    opts.onLine(name, line);
  };
  for (const stream of [proc.stdout!, proc.stderr!]) {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (s: string) => {
      const parts = (partial + s).split("\n");
      partial = parts.pop()!;
      for (const p of parts) push(p);
    });
    stream.on("end", () => { if (partial) push(partial); partial = ""; });
  }
  const exited = new Promise<number | null>((resolve) => {
    proc.on("exit", (code) => resolve(code));
    // spawn failures (ENOENT) come as 'error' without 'exit'.
    proc.on("error", (e) => { push(`cannot start ${cmd}: ${e.message}`); resolve(-1); });
  });
  const running = () => proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined;
  const child: Child = {
    name, proc, exited, running,
    tail: (n = 40) => lines.slice(-n).join("\n"),
    async stop(graceMs = 5000) {
      if (!running()) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => { if (running()) proc.kill("SIGKILL"); }, graceMs);
      await exited;
      clearTimeout(t);
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (!running()) return;
      proc.kill(signal);
      await exited;
    },
  };
  return child;
}

/** Poll url until it answers 2xx; fail early if the child exits, naming it and showing its last lines. */
export async function waitReady(url: string, child: Child | null, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (child && !child.running()) {
      throw new Error(`${what} exited (code ${child.proc.exitCode ?? child.proc.signalCode}) before ${url} was ready; its last output:\n${child.tail()}`);
    }
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${what}: ${url} not ready after ${timeoutMs} ms (last: ${last})${child ? `; its last output:\n${child.tail()}` : ""}`);
}

function tryListen(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.unref();
    s.once("error", () => resolve(null));
    s.listen(port, host, () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** `preferred` if it can be bound right now, else a free port from the OS (0 asks for a free one directly). */
export async function pickPort(host: string, preferred: number, taken: Set<number>): Promise<number> {
  if (preferred > 0 && !taken.has(preferred)) {
    const p = await tryListen(host, preferred);
    if (p !== null) { taken.add(p); return p; }
  }
  for (let i = 0; i < 20; i++) {
    const p = await tryListen(host, 0);
    if (p !== null && !taken.has(p)) { taken.add(p); return p; }
  }
  throw new Error(`no free port on ${host}`);
}
