// OpenMetrics text (the input of `promtool tsdb create-blocks-from openmetrics`): samples with their
// label sets, values and optional timestamps. Metadata lines (# TYPE/HELP/UNIT) are checked for shape
// and skipped; exemplars are skipped. Input must end with "# EOF" like Prometheus demands.
//
// Timestamps are float seconds; like Prometheus we keep int64(seconds * 1000), truncating toward zero.
// Values parse like Go's strconv.ParseFloat for the forms OpenMetrics allows (decimal, exponent,
// NaN, +Inf/-Inf, case-insensitive inf/infinity/nan).

import { CodedError } from "../encoding/errors.ts";
import { compareStrings, type Label, type Labels } from "../labels/labels.ts";

export interface OpenMetricsSample {
  labels: Labels;
  value: number;
  /** ms, or null when the line has no timestamp. */
  t: number | null;
  /** 1-based line number. */
  line: number;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INF = /^([+-]?)(?:inf|infinity)$/i;
const NAN = /^[+-]?nan$/i;

/** Go strconv.ParseFloat for decimal/special forms; null when it would fail. */
export function parseGoFloat(s: string): number | null {
  if (DECIMAL.test(s)) return Number(s);
  const m = INF.exec(s);
  if (m) return m[1] === "-" ? -Infinity : Infinity;
  if (NAN.test(s)) return NaN;
  return null;
}

export function* parseOpenMetrics(text: string, what = "input"): Generator<OpenMetricsSample> {
  let pos = 0;
  let lineNo = 0;
  let sawEof = false;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(pos, end);
    lineNo++;
    pos = end + 1;
    const fail = (msg: string, col = 0): never => {
      throw new CodedError("bad_data", `${what}:${lineNo}:${col + 1}: ${msg}: ${JSON.stringify(line.length > 200 ? line.slice(0, 200) + "…" : line)}`);
    };
    if (sawEof) fail("data after # EOF");
    if (line === "# EOF") { sawEof = true; continue; }
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: (.*))?$/.exec(line);
      if (!m) fail("invalid metadata line (want # HELP, # TYPE, # UNIT or # EOF)");
      if (m![1] === "TYPE" && !/^(counter|gauge|histogram|gaugehistogram|stateset|info|summary|unknown)$/.test(m![3] ?? "")) fail(`invalid metric type ${JSON.stringify(m![3] ?? "")}`, 7 + m![2]!.length);
      continue;
    }
    if (line === "") fail("empty line (not allowed in OpenMetrics)");
    const nm = METRIC_NAME.exec(line);
    if (!nm) fail("expected a metric name");
    const labels: Label[] = [{ name: "__name__", value: nm![0] }];
    let i = nm![0].length;
    if (line[i] === "{") {
      i++;
      while (line[i] !== "}") {
        const ln = LABEL_NAME.exec(line.slice(i));
        if (!ln) fail("expected a label name", i);
        i += ln![0].length;
        if (line[i] !== "=" || line[i + 1] !== '"') fail(`expected ="… after label name ${ln![0]}`, i);
        i += 2;
        let v = "";
        for (;;) {
          if (i >= line.length) fail("unterminated label value", i);
          const c = line[i]!;
          if (c === '"') { i++; break; }
          if (c === "\\") {
            const n = line[i + 1];
            // Prometheus' lexer accepts any escaped character but only unescapes these three;
            // anything else (`\t`) stays as written, backslash included.
            if (n === undefined) fail("unterminated label value", i);
            if (n === "n") v += "\n";
            else if (n === '"' || n === "\\") v += n;
            else v += "\\" + n;
            i += 2;
            continue;
          }
          v += c;
          i++;
        }
        if (labels.some((l) => l.name === ln![0])) fail(`duplicate label name ${ln![0]}`, i);
        labels.push({ name: ln![0], value: v });
        if (line[i] === ",") i++;
        else if (line[i] !== "}") fail("expected , or } after a label", i);
      }
      i++;
    }
    if (line[i] !== " ") fail("expected a space before the value", i);
    i++;
    let sp = line.indexOf(" ", i);
    const vs = line.slice(i, sp < 0 ? line.length : sp);
    const value = parseGoFloat(vs);
    if (value === null) fail(`invalid value ${JSON.stringify(vs)}`, i);
    let t: number | null = null;
    if (sp >= 0 && line[sp + 1] !== "#") {
      i = sp + 1;
      sp = line.indexOf(" ", i);
      const ts = line.slice(i, sp < 0 ? line.length : sp);
      const f = parseGoFloat(ts);
      if (f === null || !Number.isFinite(f)) fail(`invalid timestamp ${JSON.stringify(ts)}`, i);
      t = Math.trunc(f! * 1000);
      if (Object.is(t, -0)) t = 0;
    }
    if (sp >= 0 && !line.startsWith(" # ", sp)) fail("unexpected text after the sample", sp);
    labels.sort((a, b) => compareStrings(a.name, b.name));
    yield { labels: labels.filter((l) => l.value !== ""), value: value!, t, line: lineNo };
  }
  if (!sawEof) throw new CodedError("bad_data", `${what}: data does not end with # EOF`);
}
