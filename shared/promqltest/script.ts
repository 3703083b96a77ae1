// Parser of Prometheus' PromQL test scripts (Prometheus 2.42 promql/test.go: Test.parse):
//
//   # comment (a whole line)
//   load 5m                                 a load: series lines until a blank line
//     http_requests{job="api"} 0+10x10
//   clear                                   drop all data
//   eval instant at 50m sum(http_requests)   an evaluation at 50 minutes
//     {} 100                                expected series and value, one per line
//   eval_ordered instant at 50m sort(x)      the result must come in this order
//   eval_fail instant at 0m f(x)             evaluation must fail
//   eval instant at 1m 2 * 3
//     6                                     a scalar result: a bare number
//
// Lines are trimmed; an empty line (or a comment line) ends a block. Times and the load interval
// are Prometheus durations (`1h30m`, `0`), from time 0.

import { CodedError } from "../encoding/errors.ts";
import type { Labels } from "../labels/labels.ts";
import { parseDuration } from "../promql/parse-literals.ts";
import { parseScalarLine, parseSeriesDesc, type SequenceValue } from "./series.ts";

export interface LoadCommand {
  kind: "load";
  /** 1-based line of the `load` line. */
  line: number;
  intervalMs: number;
  /** Series in file order; a later line for the same label set replaces an earlier one (as in Go). */
  series: { labels: Labels; values: SequenceValue[]; line: number }[];
}

export interface ClearCommand {
  kind: "clear";
  line: number;
}

export interface ExpectedSample {
  labels: Labels;
  /** 1-based position among the expected lines (checked by eval_ordered). */
  pos: number;
  /** The expected value; null when the line gives none (then no result can match it). */
  value: number | null;
  line: number;
}

export interface EvalCommand {
  kind: "eval";
  line: number;
  expr: string;
  /** Evaluation time, ms. */
  timeMs: number;
  fail: boolean;
  ordered: boolean;
  /** A scalar expectation (a bare number line), or null. */
  scalar: number | null;
  /** Expected series; later lines with the same label set replace earlier ones (as in Go). */
  expected: ExpectedSample[];
}

export type Command = LoadCommand | ClearCommand | EvalCommand;

export interface Script {
  file: string;
  commands: Command[];
}

const PAT_LOAD = /^load\s+(.+?)$/;
const PAT_EVAL = /^eval(?:_(fail|ordered))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$/;

/** An error in a script, naming the file and the 1-based line. */
export function scriptError(file: string, line: number, msg: string, cause?: unknown): CodedError {
  return new CodedError("bad_data", `${file}:${line}: ${msg}`, cause === undefined ? undefined : { cause });
}

/** Go's strings.TrimSpace (Unicode white space). */
function trimSpace(s: string): string {
  return s.replace(/^[\s\u0085]+|[\s\u0085]+$/g, "");
}

/** Parse a whole script. Throws CodedError("bad_data") naming `file:line` on the first error. */
export function parseScript(text: string, file = "<script>"): Script {
  const lines = text.split("\n").map((l) => {
    const t = trimSpace(l);
    return t.startsWith("#") ? "" : t;
  });
  const commands: Command[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l === "") continue;
    const word = l.split(/[\t ]+/, 1)[0]!.toLowerCase();
    if (word === "clear") {
      commands.push({ kind: "clear", line: i + 1 });
    } else if (word === "load") {
      const m = PAT_LOAD.exec(l);
      if (!m) throw scriptError(file, i + 1, "invalid load command. (load <step:duration>)");
      const intervalMs = duration(file, i + 1, m[1]!);
      const cmd: LoadCommand = { kind: "load", line: i + 1, intervalMs, series: [] };
      const index = new Map<string, number>();
      while (i + 1 < lines.length && lines[i + 1] !== "") {
        i++;
        const d = seriesLine(file, i + 1, lines[i]!);
        const key = labelsKey(d.labels);
        const at = index.get(key);
        const entry = { labels: d.labels, values: d.values, line: i + 1 };
        if (at === undefined) {
          index.set(key, cmd.series.length);
          cmd.series.push(entry);
        } else cmd.series[at] = entry;
      }
      commands.push(cmd);
    } else if (word.startsWith("eval")) {
      const m = PAT_EVAL.exec(l);
      if (!m) throw scriptError(file, i + 1, "invalid evaluation command. (eval[_fail|_ordered] instant [at <offset:duration>] <query>");
      const cmd: EvalCommand = {
        kind: "eval",
        line: i + 1,
        expr: m[3]!,
        timeMs: duration(file, i + 1, m[2] ?? ""),
        fail: m[1] === "fail",
        ordered: m[1] === "ordered",
        scalar: null,
        expected: [],
      };
      const index = new Map<string, number>();
      for (let j = 1; i + 1 < lines.length && lines[i + 1] !== ""; j++) {
        i++;
        const def = lines[i]!;
        const f = parseScalarLine(def);
        if (f !== null) {
          // Go stops reading expectations after a scalar line.
          cmd.scalar = f;
          break;
        }
        const d = seriesLine(file, i + 1, def);
        if (d.values.length > 1) throw scriptError(file, i + 1, "expecting multiple values in instant evaluation not allowed");
        const v = d.values[0];
        const e: ExpectedSample = { labels: d.labels, pos: j, value: v === undefined ? null : v.omitted ? 0 : v.stale ? NaN : v.value, line: i + 1 };
        const key = labelsKey(d.labels);
        const at = index.get(key);
        if (at === undefined) {
          index.set(key, cmd.expected.length);
          cmd.expected.push(e);
        } else cmd.expected[at] = e;
      }
      commands.push(cmd);
    } else {
      throw scriptError(file, i + 1, `invalid command ${JSON.stringify(l)}`);
    }
  }
  return { file, commands };
}

function duration(file: string, line: number, s: string): number {
  try {
    return parseDuration(s);
  } catch (e) {
    throw scriptError(file, line, `invalid duration ${JSON.stringify(s)}: ${(e as Error).message}`, e);
  }
}

function seriesLine(file: string, line: number, text: string) {
  try {
    return parseSeriesDesc(text);
  } catch (e) {
    throw scriptError(file, line, `series ${JSON.stringify(text)}: ${(e as Error).message}`, e);
  }
}

/** A map key for a label set as written (empty values and repeated names kept). */
export function labelsKey(ls: Labels): string {
  let k = "";
  for (const l of ls) k += l.name + "\u0000" + l.value + "\u0000";
  return k;
}
