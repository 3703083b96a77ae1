// A real Thanos binary, the oracle for the compactor, ruler and store gateway and the peer in benches.
//
// $THANOS_BIN wins when set. Otherwise Thanos v0.41.0 is built once from the Go module proxy
// (`go mod download`, then `go build -tags netgo,slicelabels ./cmd/thanos`; without `slicelabels` its
// store gateway panics on the first Series call) and cached by a hash of version, tags and Go version
// under $THANOTS_CACHE (default ~/.cache/thanots). The first build takes about 10 minutes on 2 cores;
// concurrent callers (parallel suites) wait for one build through a lock directory.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { requireBinary } from "./proc.ts";

const run = promisify(execFile);

export const THANOS_VERSION = "v0.41.0";
const TAGS = "netgo,slicelabels";

export function thanosCacheDir(): string {
  return process.env.THANOTS_CACHE || join(homedir(), ".cache", "thanots");
}

let building: Promise<string> | null = null;

/** Path of a Thanos binary: $THANOS_BIN, or the cached build of THANOS_VERSION (built on first use). */
export function thanosBinary(): Promise<string> {
  const env = process.env.THANOS_BIN;
  if (env) {
    if (!existsSync(env)) return Promise.reject(new Error(`THANOS_BIN=${env} does not exist`));
    return Promise.resolve(env);
  }
  building ??= build();
  return building;
}

async function build(): Promise<string> {
  const go = requireBinary("go");
  const env = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };
  const goVersion = (await run(go, ["env", "GOVERSION"], { env })).stdout.trim();
  const key = createHash("sha256").update(`${THANOS_VERSION}\n${TAGS}\n${goVersion}`).digest("hex").slice(0, 12);
  const dir = join(thanosCacheDir(), `thanos-${THANOS_VERSION}-${key}`);
  const bin = join(dir, "thanos");
  if (existsSync(bin)) return bin;
  mkdirSync(thanosCacheDir(), { recursive: true });
  const lock = `${dir}.lock`;
  // One builder at a time: mkdir is atomic. A lock older than 40 minutes is from a build that died.
  for (;;) {
    try { mkdirSync(lock); break; } catch {
      if (existsSync(bin)) return bin;
      try { if (Date.now() - statSync(lock).mtimeMs > 40 * 60_000) { rmSync(lock, { recursive: true, force: true }); continue; } } catch { continue; }
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    if (existsSync(bin)) return bin;
    console.error(`building Thanos ${THANOS_VERSION} into ${dir} (once; about 10 minutes on 2 cores)`);
    const { stdout } = await run(go, ["mod", "download", "-json", `github.com/thanos-io/thanos@${THANOS_VERSION}`], { env, timeout: 1_200_000, maxBuffer: 1 << 24 });
    const modDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
    if (!modDir) throw new Error(`go mod download gave no module directory: ${stdout.slice(0, 500)}`);
    const src = `${dir}.src`;
    rmSync(src, { recursive: true, force: true });
    cpSync(modDir, src, { recursive: true });
    chmodTree(src);
    mkdirSync(dir, { recursive: true });
    try {
      await run(go, ["build", "-tags", TAGS, "-o", `${bin}.tmp`, "./cmd/thanos"], { cwd: src, env, timeout: 2_400_000, maxBuffer: 1 << 26 });
    } catch (e) {
      throw new Error(`building Thanos ${THANOS_VERSION} in ${src}: ${(e as { stderr?: string }).stderr || (e as Error).message}`);
    }
    renameSync(`${bin}.tmp`, bin); // atomic: a concurrent run never sees half a binary
    rmSync(src, { recursive: true, force: true });
    return bin;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The module cache is read-only; the copy must be writable for go build's bookkeeping and later removal. */
function chmodTree(p: string): void {
  const st = statSync(p);
  chmodSync(p, st.isDirectory() ? 0o755 : 0o644);
  if (st.isDirectory()) {
    for (const e of readdirSync(p)) chmodTree(join(p, e));
  }
}
