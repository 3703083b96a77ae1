// Runs PromQL test scripts (shared/promqltest) from files: Prometheus 2.42's own scripts read from
// the Go module cache (never copied into this repository) and ours in test/promql/*.test, and checks
// the outcome against test/promql/known-failures.txt. Used by `npm run promqltest`
// (test/promql/promqltest.ts) and by test/unit/promqltest/scripts.test.ts.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseScript, runScript, type EvalOutcome } from "../../shared/promqltest/index.ts";

export const PROMETHEUS_MODULE = "github.com/prometheus/prometheus@v0.42.0";
export const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const OWN_DIR = join(REPO, "test/promql");
export const KNOWN_FAILURES = join(OWN_DIR, "known-failures.txt");

/**
 * The directory of Prometheus 2.42's promql/testdata in the Go module cache, downloading the module
 * (`go mod download`) when it is missing. Throws with the reason when there is no `go`.
 */
export function upstreamTestdataDir(): string {
  const env = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod" };
  let modcache: string;
  try {
    modcache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8", env }).trim();
  } catch (e) {
    throw new Error(`promqltest needs the Go toolchain to find Prometheus' test scripts in the Go module cache (${PROMETHEUS_MODULE}), but \`go env GOMODCACHE\` failed: ${(e as Error).message}`);
  }
  const dir = join(modcache, "github.com/prometheus/prometheus@v0.42.0/promql/testdata");
  if (!existsSync(dir)) {
    try {
      execFileSync("go", ["mod", "download", PROMETHEUS_MODULE], { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"], timeout: 600_000 });
    } catch (e) {
      throw new Error(`go mod download ${PROMETHEUS_MODULE} failed: ${(e as { stderr?: string }).stderr || (e as Error).message}`);
    }
    if (!existsSync(dir)) throw new Error(`go mod download ${PROMETHEUS_MODULE} succeeded but ${dir} does not exist`);
  }
  return dir;
}

export function testFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".test")).sort().map((f) => join(dir, f));
}

/** A file's name in reports and in known-failures.txt: `upstream/<name>.test` or `test/promql/<name>.test`. */
export function displayName(file: string, upstreamDir: string | null): string {
  if (upstreamDir !== null && file.startsWith(upstreamDir)) return `upstream/${relative(upstreamDir, file)}`;
  return relative(REPO, file);
}

export interface KnownFailure {
  /** `upstream/functions.test:123` */
  key: string;
  reason: string;
  line: number;
}

/**
 * known-failures.txt: one entry a line, `<file>:<line> <reason>`, `#` comments and blank lines
 * ignored. An entry without a reason is an error: every deliberate failure says why.
 */
export function readKnownFailures(path = KNOWN_FAILURES): Map<string, KnownFailure> {
  const out = new Map<string, KnownFailure>();
  if (!existsSync(path)) return out;
  const lines = readFileSync(path, "utf8").split("\n");
  lines.forEach((raw, i) => {
    const l = raw.trim();
    if (l === "" || l.startsWith("#")) return;
    const m = /^(\S+:\d+)\s+(\S.*)$/.exec(l);
    if (!m) throw new Error(`${path}:${i + 1}: want "<file>:<line> <reason>", got ${JSON.stringify(l)}`);
    if (out.has(m[1]!)) throw new Error(`${path}:${i + 1}: ${m[1]} listed twice`);
    out.set(m[1]!, { key: m[1]!, reason: m[2]!, line: i + 1 });
  });
  return out;
}

export interface FileRun {
  file: string;
  name: string;
  evals: (EvalOutcome & { key: string })[];
  /** The script did not parse: every eval in it counts as failed. */
  error?: string;
  /** Eval commands in a script that did not parse (counted from `eval` lines). */
  unparsedEvals?: number;
}

export async function runFile(file: string, upstreamDir: string | null): Promise<FileRun> {
  const name = displayName(file, upstreamDir);
  const text = readFileSync(file, "utf8");
  let script;
  try {
    script = parseScript(text, name);
  } catch (e) {
    const n = text.split("\n").filter((l) => /^\s*eval/.test(l)).length;
    return { file, name, evals: [], error: (e as Error).message, unparsedEvals: n };
  }
  const r = await runScript(script);
  return { file, name, evals: r.evals.map((e) => ({ ...e, key: `${name}:${e.line}` })) };
}

export interface Summary {
  total: number;
  passed: number;
  /** Failed and listed in known-failures.txt. */
  known: (EvalOutcome & { key: string; reason: string })[];
  /** Failed and not listed: these fail the test. */
  unexpected: (EvalOutcome & { key: string })[];
  /** Listed in known-failures.txt but passed (or no longer exist): the file must be updated. */
  stale: KnownFailure[];
  /** Scripts that did not parse. */
  broken: FileRun[];
}

export function summarize(runs: FileRun[], known: Map<string, KnownFailure>, scope: (key: string) => boolean = () => true): Summary {
  const s: Summary = { total: 0, passed: 0, known: [], unexpected: [], stale: [], broken: [] };
  const failedKeys = new Set<string>();
  const allKeys = new Set<string>();
  for (const r of runs) {
    if (r.error !== undefined) {
      s.broken.push(r);
      s.total += r.unparsedEvals ?? 0;
      continue;
    }
    for (const e of r.evals) {
      s.total++;
      allKeys.add(e.key);
      if (e.passed) { s.passed++; continue; }
      failedKeys.add(e.key);
      const k = known.get(e.key);
      if (k) s.known.push({ ...e, reason: k.reason });
      else s.unexpected.push(e);
    }
  }
  for (const k of known.values()) if (scope(k.key) && !failedKeys.has(k.key)) s.stale.push(k);
  return s;
}
