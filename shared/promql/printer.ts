// exprString: an expression back to PromQL text in Prometheus 2.42's printer.go layout
// (`sum by (job) (rate(x[5m]))`, `a + on (b) group_left (c) d`, matchers sorted, `@ 123.000`).
// The parser keeps ParenExpr nodes, so no precedence logic is needed: parse(print(parse(q)))
// equals parse(q).

import type { Matcher } from "../labels/matcher.ts";
import { METRIC_NAME, compareStrings } from "../labels/labels.ts";
import type { AtModifier, Expr, VectorMatching, VectorSelector } from "./ast.ts";
import { formatGoFloat } from "./format.ts";
import { durationString, goQuote } from "./parse-literals.ts";

export function exprString(e: Expr): string {
  switch (e.kind) {
    case "NumberLiteral": return formatGoFloat(e.val);
    case "StringLiteral": return goQuote(e.val);
    case "ParenExpr": return `(${exprString(e.expr)})`;
    case "UnaryExpr": return `${e.op}${exprString(e.expr)}`;
    case "StepInvariantExpr": return exprString(e.expr);
    case "Call": return `${e.func}(${e.args.map(exprString).join(", ")})`;
    case "VectorSelector": return selectorString(e) + atString(e.at) + offsetString(e.offset);
    case "MatrixSelector": return `${selectorString(e.vs)}[${durationString(e.range)}]${atString(e.vs.at)}${offsetString(e.vs.offset)}`;
    case "SubqueryExpr": {
      const step = e.step !== 0 ? durationString(e.step) : "";
      return `${exprString(e.expr)}[${durationString(e.range)}:${step}]${atString(e.at)}${offsetString(e.offset)}`;
    }
    case "AggregateExpr": {
      let s: string = e.op;
      if (e.without) s += ` without (${e.grouping.join(", ")}) `;
      else if (e.grouping.length > 0) s += ` by (${e.grouping.join(", ")}) `;
      s += "(";
      if (e.param !== null) s += `${exprString(e.param)}, `;
      return `${s}${exprString(e.expr)})`;
    }
    case "BinaryExpr":
      return `${exprString(e.lhs)} ${e.op}${e.returnBool ? " bool" : ""}${matchingString(e.matching)} ${exprString(e.rhs)}`;
  }
}

/** `name="value"` as Prometheus' Matcher.String() (no spaces, Go quoting). */
function matcherText(m: Matcher): string {
  return `${m.name}${m.type}${goQuote(m.value)}`;
}

function selectorString(vs: VectorSelector): string {
  const parts: string[] = [];
  for (const m of vs.matchers) {
    // The name matcher that the metric name outside the braces implies is not printed again.
    if (m.name === METRIC_NAME && m.type === "=" && m.value === vs.name) continue;
    parts.push(matcherText(m));
  }
  if (parts.length === 0) return vs.name;
  parts.sort(compareStrings);
  return `${vs.name}{${parts.join(",")}}`;
}

function atString(at: AtModifier): string {
  if (at === null) return "";
  if (at.at === "start") return " @ start()";
  if (at.at === "end") return " @ end()";
  return ` @ ${(at.ms / 1000).toFixed(3)}`;
}

function offsetString(ms: number): string {
  if (ms > 0) return ` offset ${durationString(ms)}`;
  if (ms < 0) return ` offset -${durationString(-ms)}`;
  return "";
}

function matchingString(vm: VectorMatching | null): string {
  // Prometheus prints nothing for `ignoring ()`, dropping a group_x with it; keep it so printing
  // round-trips.
  const grouped = vm !== null && (vm.card === "many-to-one" || vm.card === "one-to-many");
  if (vm === null || (vm.matchingLabels.length === 0 && !vm.on && !grouped)) return "";
  let s = ` ${vm.on ? "on" : "ignoring"} (${vm.matchingLabels.join(", ")})`;
  if (vm.card === "many-to-one" || vm.card === "one-to-many") {
    s += ` group_${vm.card === "many-to-one" ? "left" : "right"} (${vm.include.join(", ")})`;
  }
  return s;
}
