// Builds a one-file Go program with the Go toolchain, once: cached under the OS temp dir by a hash of
// its go.mod and source, so later runs reuse the binary. The first build fetches modules through the
// Go module proxy (`go mod tidy`). Used by the Go interop test and by bench/sidecar.ts's Go clients.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { requireBinary } from "./proc.ts";

const run = promisify(execFile);

export async function buildGo(name: string, goMod: string, mainGo: string, opts: { tags?: string } = {}): Promise<string> {
  const go = requireBinary("go");
  const key = createHash("sha256").update(goMod).update(mainGo).update(opts.tags ? `\ntags ${opts.tags}` : "").digest("hex").slice(0, 12);
  const dir = join(tmpdir(), `thanots-${name}-${key}`);
  const bin = join(dir, name);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "go.mod"), goMod);
  writeFileSync(join(dir, "main.go"), mainGo);
  const env = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };
  try {
    await run(go, ["mod", "tidy"], { cwd: dir, env, timeout: 900_000, maxBuffer: 1 << 24 });
    await run(go, ["build", ...(opts.tags ? ["-tags", opts.tags] : []), "-o", `${bin}.tmp`, "."], { cwd: dir, env, timeout: 900_000, maxBuffer: 1 << 24 });
  } catch (e) {
    throw new Error(`building Go program ${name} in ${dir}: ${(e as { stderr?: string }).stderr || (e as Error).message}`);
  }
  renameSync(`${bin}.tmp`, bin); // atomic: a concurrent run never sees half a binary
  return bin;
}
