// The real Prometheus 2.42 as the oracle for PromQL test scripts: a Go program
// (test/promql/oracle/main.go, built once by gobuild.ts) that runs scripts through upstream's own
// harness (promql.NewTest at github.com/prometheus/prometheus v0.42.0), evaluates single queries
// on a script's data, and parses series notation with upstream's parser.
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { goQuote } from "../../shared/labels/labels.ts";
import { join } from "node:path";
import { buildGo } from "./gobuild.ts";
import { REPO } from "./promqltest.ts";

const GO_MOD = `module thanots/promqloracle

go 1.25.0

require github.com/prometheus/prometheus v0.42.0
`;

export function oracleBinary(): Promise<string> {
  return buildGo("promql-oracle", GO_MOD, readFileSync(join(REPO, "test/promql/oracle/main.go"), "utf8"));
}

async function call<T>(mode: string, input: unknown): Promise<T> {
  const bin = await oracleBinary();
  return await new Promise<T>((resolve, reject) => {
    const p = spawn(bin, [mode], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [], err: Buffer[] = [];
    p.stdout.on("data", (b: Buffer) => out.push(b));
    p.stderr.on("data", (b: Buffer) => err.push(b));
    p.on("error", reject);
    p.on("close", (code) => {
      const text = Buffer.concat(out).toString("utf8");
      if (code !== 0) return reject(new Error(`promql oracle ${mode} exited ${code}: ${Buffer.concat(err).toString("utf8").slice(-2000)}`));
      try {
        resolve(JSON.parse(text) as T);
      } catch (e) {
        reject(new Error(`promql oracle ${mode}: not JSON: ${text.slice(0, 500)}`, { cause: e }));
      }
    });
    p.stdin.end(JSON.stringify(input));
  });
}

/** Run whole scripts through promql.NewTest(...).Run(): error is "" when the script passes. */
export async function oracleRun(scripts: { name: string; text: string }[]): Promise<{ name: string; error?: string }[]> {
  return await call("run", scripts);
}

export interface OracleEval {
  type?: "scalar" | "string" | "vector" | "matrix";
  error?: string;
  /** Go's strconv.FormatFloat(v, 'g', -1, 64). */
  scalar?: string;
  string?: string;
  samples?: { labels: [string, string][]; value: string }[];
}

/** Load a script's data (its load/clear commands) and run one instant query with upstream's engine. */
export async function oracleEval(queries: { load: string; expr: string; timeMs: number }[]): Promise<OracleEval[]> {
  return await call("eval", queries);
}

export interface OracleSeries {
  labels: [string, string][] | null;
  /** float64 bits as 16 hex digits, "_" for an omitted step. */
  values: string[] | null;
  error?: string;
}

/** parser.ParseSeriesDesc on each line. */
export async function oracleSeries(lines: string[]): Promise<OracleSeries[]> {
  return await call("series", lines);
}

/** Go's strings.TrimSpace, then `#` lines blanked, as promql/test.go getLines. */
function scriptLines(text: string): string[] {
  return text.split("\n").map((l) => {
    const t = l.replace(/^[\s\u0085]+|[\s\u0085]+$/g, "");
    return t.startsWith("#") ? "" : t;
  });
}

export interface EvalBlock {
  /** 1-based line of the eval command. */
  line: number;
  /** 1-based line after the block's last line. */
  end: number;
  /** The script with only the load/clear blocks before this eval and the eval block; line numbers kept. */
  alone: string;
  /** The load/clear blocks before the eval, alone. */
  data: string;
  command: string;
}

/**
 * Cut a script into one script per eval command, keeping the line numbers (other lines blanked), so
 * upstream's harness, which stops at the first failure, reports on every eval.
 */
export function splitEvals(text: string): EvalBlock[] {
  const raw = text.split("\n");
  const lines = scriptLines(text);
  const blocks: { start: number; end: number; kind: "data" | "eval" }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === "") continue;
    const start = i;
    while (i + 1 < lines.length && lines[i + 1] !== "") i++;
    const word = lines[start]!.split(/[\t ]+/, 1)[0]!.toLowerCase();
    blocks.push({ start, end: i + 1, kind: word.startsWith("eval") ? "eval" : "data" });
  }
  const out: EvalBlock[] = [];
  const keep = new Array<boolean>(raw.length).fill(false);
  for (const b of blocks) {
    if (b.kind === "data") {
      for (let i = b.start; i < b.end; i++) keep[i] = true;
      continue;
    }
    const data = raw.map((l, i) => (keep[i] ? l : "")).join("\n");
    const alone = raw.map((l, i) => (keep[i] || (i >= b.start && i < b.end) ? l : "")).join("\n");
    out.push({ line: b.start + 1, end: b.end + 1, alone, data, command: lines[b.start]! });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// test/promql/oracle.ts: check our scripts against Prometheus, fill in their expected values.

const PAT_EVAL = /^eval(?:_(fail|ordered))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;

function durationMs(s: string): number {
  if (s === "0") return 0;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(s);
  if (!m || s === "") throw new Error(`eval time ${JSON.stringify(s)}: use h, m, s, ms units`);
  return ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000 + Number(m[4] ?? 0);
}

function formatLabels(ls: [string, string][]): string {
  const name = ls.find(([n]) => n === "__name__")?.[1] ?? "";
  const rest = ls.filter(([n]) => n !== "__name__").map(([n, v]) => `${n}=${goQuote(v)}`);
  if (name !== "" && rest.length === 0) return name;
  return `${name}{${rest.join(", ")}}`;
}

function expectationLines(r: OracleEval): string[] {
  if (r.type === "scalar") return [`  ${r.scalar}`];
  if (r.type === "vector") return (r.samples ?? []).map((s) => `  ${formatLabels(s.labels)} ${s.value}`);
  throw new Error(`a ${r.type} result cannot be written as an expectation`);
}

export async function checkScripts(files: string[]): Promise<{ file: string; line: number; error: string }[]> {
  const failures: { file: string; line: number; error: string }[] = [];
  for (const f of files) {
    const blocks = splitEvals(readFileSync(f, "utf8"));
    const res = await oracleRun(blocks.map((b) => ({ name: String(b.line), text: b.alone })));
    res.forEach((r, i) => { if (r.error) failures.push({ file: f, line: blocks[i]!.line, error: r.error }); });
  }
  return failures;
}

export async function fillScript(file: string): Promise<void> {
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  const blocks = splitEvals(text);
  const queries = blocks.map((b) => {
    const m = PAT_EVAL.exec(b.command);
    if (!m) throw new Error(`${file}:${b.line}: not an eval command: ${b.command}`);
    return { load: b.data, expr: m[3]!, timeMs: durationMs(m[2] ?? ""), fail: m[1] === "fail" };
  });
  const res = await oracleEval(queries);
  for (let i = blocks.length - 1; i >= 0; i--) {
    const b = blocks[i]!, q = queries[i]!, r = res[i]!;
    if (q.fail) {
      if (!r.error) throw new Error(`${file}:${b.line}: eval_fail, but Prometheus evaluates ${q.expr} without error`);
      continue;
    }
    if (r.error) throw new Error(`${file}:${b.line}: Prometheus fails on ${q.expr}: ${r.error}`);
    lines.splice(b.line, b.end - 1 - b.line, ...expectationLines(r));
  }
  writeFileSync(file, lines.join("\n"));
}

