// The Go oracle for shared/template: test/template/oracle.go, which runs Prometheus 2.42's own
// template package, built once with the Go toolchain (cached by test/lib/gobuild.ts).
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildGo } from "./gobuild.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..");
const GO_MOD = "module thanots/templateoracle\n\ngo 1.25.0\n\nrequire github.com/prometheus/prometheus v0.42.0\n";

export function templateOracleBinary(): Promise<string> {
  return buildGo("template-oracle", GO_MOD, readFileSync(join(root, "test/template/oracle.go"), "utf8"));
}

/** Runs the oracle in `mode` with `input` as JSON on stdin; returns its parsed JSON output. */
export async function runTemplateOracle<T>(mode: string[], input?: unknown): Promise<T> {
  const bin = await templateOracleBinary();
  return new Promise((resolve, reject) => {
    const child = execFile(bin, mode, { maxBuffer: 1 << 28, timeout: 600_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`template oracle ${mode.join(" ")}: ${stderr || err.message}`));
      else resolve(JSON.parse(stdout) as T);
    });
    child.stdin!.end(input === undefined ? "" : JSON.stringify(input));
  });
}
