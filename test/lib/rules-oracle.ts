// Prometheus 2.42's own rules engine as an oracle: test/lib/go/rules-oracle.go, built once with
// test/lib/gobuild.ts (it imports github.com/prometheus/prometheus@v0.42.0 from the module proxy), fed a
// JSON scenario on stdin. See that file for the scenario and output shapes.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildGo } from "./gobuild.ts";

const GO_MOD = `module rulesoracle

go 1.21

require github.com/prometheus/prometheus v0.42.0
`;

let bin: Promise<string> | null = null;

export function rulesOracle(): Promise<string> {
  bin ??= buildGo("rules-oracle", GO_MOD, readFileSync(join(process.cwd(), "test/lib/go/rules-oracle.go"), "utf8"));
  return bin;
}

export async function runOracle<T>(scenario: unknown): Promise<T> {
  const b = await rulesOracle();
  return await new Promise<T>((resolve, reject) => {
    const p = execFile(b, [], { maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`rules-oracle: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout) as T);
    });
    p.stdin!.end(JSON.stringify(scenario));
  });
}
