// Runs a parsed test script against our PromQL engine with the semantics of Prometheus 2.42's
// promql/test.go (Test.exec, atModifierTestCases, compareResult, almostEqual):
//
// - `load` appends as one transaction (TestStorage: the TSDB head's rules); a failed load ends the
//   script like in Go (every later eval is reported as not run).
// - `clear` drops all data.
// - `eval` runs the query as an instant query at its time, then, unless the query calls a function
//   whose result depends on the evaluation time (time(), timestamp(), hour()...), again with `@ <t>`
//   added to every selector and subquery outside subqueries, at the times -10t, 0, t/5, t, 10t
//   (-1s, 0, 1s when t is 0): the answers must not change. Each of those queries is also run as a
//   range query from t-1m to t+1m with a 1m step, and the middle step must give the same answer
//   (not compared for eval_ordered, whose order a range query does not define).
// - `eval_fail`: every query must fail at evaluation (a syntax error is never the expected failure).
// - Values compare with a relative tolerance of 1e-6 (NaN equals NaN); an unordered eval matches the
//   label sets as a set, an ordered one also checks each result's position.
// Engine settings as the harness': max 10000 samples, 100 s timeout, 1m default subquery step,
// 5m lookback.

import { labelsString } from "../labels/labels.ts";
import { errorMessage } from "../encoding/errors.ts";
import { Engine, type PromValue } from "../promql/engine.ts";
import { parseExpr } from "../promql/parser.ts";
import { exprString } from "../promql/printer.ts";
import { formatGoFloat } from "../promql/format.ts";
import type { Expr } from "../promql/ast.ts";
import type { EvalCommand, Script } from "./script.ts";
import { labelsKey } from "./script.ts";
import { sequenceSamples } from "./series.ts";
import { TestStorage } from "./storage.ts";

/** The engine the Prometheus harness builds for each test (promql/test.go Test.clear). */
export function newTestEngine(): Engine {
  return new Engine({ maxSamples: 10_000, timeoutMs: 100_000, noStepSubqueryInterval: 60_000, lookbackDelta: 5 * 60_000 });
}

export interface EvalOutcome {
  file: string;
  /** 1-based line of the eval command. */
  line: number;
  expr: string;
  passed: boolean;
  /** Why it failed: which query (with its time and mode) and what differed. */
  message?: string;
}

export interface ScriptResult {
  file: string;
  evals: EvalOutcome[];
}

export interface RunOptions {
  /** Default: newTestEngine(). */
  engine?: Engine;
}

/** Run every command of a script; each eval command yields one outcome. */
export async function runScript(script: Script, opts: RunOptions = {}): Promise<ScriptResult> {
  const engine = opts.engine ?? newTestEngine();
  const storage = new TestStorage();
  const evals: EvalOutcome[] = [];
  let aborted: string | null = null;
  for (const cmd of script.commands) {
    if (aborted !== null) {
      if (cmd.kind === "eval") evals.push({ file: script.file, line: cmd.line, expr: cmd.expr, passed: false, message: aborted });
      continue;
    }
    switch (cmd.kind) {
      case "clear":
        storage.clear();
        break;
      case "load":
        try {
          storage.append(cmd.series.map((s) => ({ labels: s.labels, samples: sequenceSamples(s.values, cmd.intervalMs) })));
        } catch (e) {
          aborted = `not run: the load at line ${cmd.line} failed: ${errorMessage(e)}`;
        }
        break;
      case "eval": {
        const message = await runEval(engine, storage, cmd);
        evals.push({ file: script.file, line: cmd.line, expr: cmd.expr, passed: message === null, ...(message !== null ? { message } : {}) });
        break;
      }
    }
  }
  return { file: script.file, evals };
}

/** Functions whose result depends on the evaluation time even with step-invariant arguments. */
const AT_MODIFIER_UNSAFE = new Set([
  "days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute", "month", "year",
  "predict_linear", "time", "timestamp",
]);

/**
 * The extra queries the harness runs for an eval at `tMs` (atModifierTestCases): the expression with
 * `@ t` on every selector and subquery not inside a subquery (an existing `@ <time>` stays; `@ start()`
 * and `@ end()` are replaced), printed, at -10t, 0, t/5, t, 10t. None when the expression calls a
 * time-dependent function outside a subquery.
 */
export function atModifierVariants(exprText: string, tMs: number): { expr: string; timeMs: number }[] {
  const e = parseExpr(exprText);
  let unsafe = false;
  const at = { at: "time" as const, ms: tMs };
  const walk = (n: Expr, inTimedSubquery: boolean): void => {
    switch (n.kind) {
      case "VectorSelector":
        if (!inTimedSubquery && n.at?.at !== "time") n.at = at;
        return;
      case "MatrixSelector":
        if (!inTimedSubquery && n.vs.at?.at !== "time") n.vs.at = at;
        return;
      case "SubqueryExpr":
        if (!inTimedSubquery && n.at?.at !== "time") n.at = at;
        walk(n.expr, true);
        return;
      case "Call":
        if (!inTimedSubquery && AT_MODIFIER_UNSAFE.has(n.func)) unsafe = true;
        for (const a of n.args) walk(a, inTimedSubquery);
        return;
      case "AggregateExpr":
        if (n.param) walk(n.param, inTimedSubquery);
        walk(n.expr, inTimedSubquery);
        return;
      case "BinaryExpr":
        walk(n.lhs, inTimedSubquery);
        walk(n.rhs, inTimedSubquery);
        return;
      case "UnaryExpr": case "ParenExpr": case "StepInvariantExpr":
        walk(n.expr, inTimedSubquery);
        return;
      case "NumberLiteral": case "StringLiteral":
        return;
    }
  };
  walk(e, false);
  if (unsafe) return [];
  const text = exprString(e);
  const times = tMs === 0 ? [-1000, 0, 1000] : [-10 * tMs, 0, Math.trunc(tMs / 5), tMs, 10 * tMs];
  return times.map((t) => ({ expr: text, timeMs: t }));
}

/** One eval command: null when it passes, else what failed. */
export async function runEval(engine: Engine, storage: TestStorage, cmd: EvalCommand): Promise<string | null> {
  const q = storage.querier();
  let variants: { expr: string; timeMs: number }[];
  try {
    variants = [{ expr: cmd.expr, timeMs: cmd.timeMs }, ...atModifierVariants(cmd.expr, cmd.timeMs)];
  } catch (e) {
    return `parse error in ${JSON.stringify(cmd.expr)} (Prometheus rejects the whole script): ${errorMessage(e)}`;
  }
  for (const v of variants) {
    const what = `query ${JSON.stringify(v.expr)} at ${v.timeMs} ms`;
    let expr: Expr;
    try {
      expr = parseExpr(v.expr);
    } catch (e) {
      return `${what}: parse error (never an expected failure): ${errorMessage(e)}`;
    }
    let res: PromValue;
    try {
      res = (await engine.exec(q, expr, v.timeMs, v.timeMs, 0)).value;
    } catch (e) {
      if (cmd.fail) continue;
      return `${what}: evaluation failed: ${errorMessage(e)}`;
    }
    if (cmd.fail) return `${what}: expected an evaluation error but got none`;
    const err = compareResult(cmd, res);
    if (err !== null) return `${what}: ${err}`;

    // The same query as a range query, checked at its middle step.
    let range: PromValue;
    try {
      range = (await engine.exec(q, parseExpr(v.expr), v.timeMs - 60_000, v.timeMs + 60_000, 60_000)).value;
    } catch (e) {
      return `${what} in range mode: evaluation failed: ${errorMessage(e)}`;
    }
    if (cmd.ordered) continue;
    if (range.type !== "matrix") return `${what} in range mode: got a ${range.type} result`;
    const samples: { metric: typeof range.series[number]["metric"]; t: number; v: number }[] = [];
    for (const s of range.series) {
      const i = s.ts.indexOf(v.timeMs);
      if (i >= 0) samples.push({ metric: s.metric, t: v.timeMs, v: s.vs[i]! });
    }
    let rerr: string | null;
    if (res.type === "scalar") {
      rerr = samples.length === 0 ? "no value at the middle step" : compareResult(cmd, { type: "scalar", t: v.timeMs, v: samples[0]!.v });
    } else {
      rerr = compareResult(cmd, { type: "vector", samples });
    }
    if (rerr !== null) return `${what} in range mode: ${rerr}`;
  }
  return null;
}

const MIN_NORMAL = 2.2250738585072014e-308;
const EPSILON = 0.000001;

/** promql/test.go almostEqual: NaN equals NaN, else a relative error below 1e-6. */
export function almostEqual(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (a === b) return true;
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || diff < MIN_NORMAL) return diff < EPSILON * MIN_NORMAL;
  return diff / (Math.abs(a) + Math.abs(b)) < EPSILON;
}

/** compareResult of promql/test.go: null when the value matches the command's expectations. */
export function compareResult(cmd: EvalCommand, val: PromValue): string | null {
  switch (val.type) {
    case "matrix":
      return "received range result on instant evaluation";
    case "vector": {
      const expected = new Map(cmd.expected.map((e) => [labelsKey(e.labels), e]));
      const seen = new Set<string>();
      for (let pos = 0; pos < val.samples.length; pos++) {
        const s = val.samples[pos]!;
        const key = labelsKey(s.metric);
        const e = expected.get(key);
        if (e === undefined) return `unexpected metric ${labelsString(s.metric)} in result`;
        if (cmd.ordered && e.pos !== pos + 1) return `expected metric ${labelsString(s.metric)} at position ${e.pos} but was at ${pos + 1}`;
        if (e.value === null) return `expected metric ${labelsString(s.metric)} has no value (line ${e.line})`;
        if (!almostEqual(e.value, s.v)) return `expected ${formatGoFloat(e.value)} for ${labelsString(s.metric)} but got ${formatGoFloat(s.v)}`;
        seen.add(key);
      }
      for (const [key, e] of expected) {
        if (!seen.has(key)) return `expected metric ${labelsString(e.labels)} with ${e.value === null ? "no value" : formatGoFloat(e.value)} not found (got ${val.samples.length} series)`;
      }
      if (cmd.scalar !== null) return `expected scalar ${formatGoFloat(cmd.scalar)} but got an instant vector of ${val.samples.length} series`;
      return null;
    }
    case "scalar":
      if (cmd.scalar === null) return `got scalar ${formatGoFloat(val.v)} but the command expects no scalar`;
      if (!almostEqual(cmd.scalar, val.v)) return `expected scalar ${formatGoFloat(cmd.scalar)} but got ${formatGoFloat(val.v)}`;
      return null;
    case "string":
      // Prometheus 2.42's harness has no way to expect a string (its compareResult panics).
      return `got string ${JSON.stringify(val.v)}: string results cannot be checked in this script language`;
  }
}
