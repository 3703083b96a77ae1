// Function signatures of Prometheus 2.42 (promql/parser/functions.go): argument types, variadic
// count and return type. Only what the parser needs to type-check calls; evaluation lives in the
// engine. Checked against a real Prometheus 2.42 by test/integration/api-parse-parity.test.ts
// (histogram_stddev/stdvar arrived in 2.44 and are deliberately absent).

import type { ValueType } from "./ast.ts";

export interface FunctionSignature {
  name: string;
  argTypes: ValueType[];
  /** 0: exactly argTypes; n > 0: the last argument may be omitted or repeated up to n times in total; -1: unlimited. */
  variadic: number;
  returnType: ValueType;
}

const S: ValueType = "scalar", V: ValueType = "vector", M: ValueType = "matrix", STR: ValueType = "string";

function fn(name: string, argTypes: ValueType[], returnType: ValueType, variadic = 0): FunctionSignature {
  return { name, argTypes, variadic, returnType };
}

const list: FunctionSignature[] = [
  fn("abs", [V], V),
  fn("absent", [V], V),
  fn("absent_over_time", [M], V),
  fn("acos", [V], V),
  fn("acosh", [V], V),
  fn("asin", [V], V),
  fn("asinh", [V], V),
  fn("atan", [V], V),
  fn("atanh", [V], V),
  fn("avg_over_time", [M], V),
  fn("ceil", [V], V),
  fn("changes", [M], V),
  fn("clamp", [V, S, S], V),
  fn("clamp_max", [V, S], V),
  fn("clamp_min", [V, S], V),
  fn("cos", [V], V),
  fn("cosh", [V], V),
  fn("count_over_time", [M], V),
  fn("days_in_month", [V], V, 1),
  fn("day_of_month", [V], V, 1),
  fn("day_of_week", [V], V, 1),
  fn("day_of_year", [V], V, 1),
  fn("deg", [V], V),
  fn("delta", [M], V),
  fn("deriv", [M], V),
  fn("exp", [V], V),
  fn("floor", [V], V),
  fn("histogram_count", [V], V),
  fn("histogram_sum", [V], V),
  fn("histogram_fraction", [S, S, V], V),
  fn("histogram_quantile", [S, V], V),
  fn("holt_winters", [M, S, S], V),
  fn("hour", [V], V, 1),
  fn("idelta", [M], V),
  fn("increase", [M], V),
  fn("irate", [M], V),
  fn("label_replace", [V, STR, STR, STR, STR], V),
  fn("label_join", [V, STR, STR, STR], V, -1),
  fn("last_over_time", [M], V),
  fn("ln", [V], V),
  fn("log10", [V], V),
  fn("log2", [V], V),
  fn("max_over_time", [M], V),
  fn("min_over_time", [M], V),
  fn("minute", [V], V, 1),
  fn("month", [V], V, 1),
  fn("pi", [], S),
  fn("predict_linear", [M, S], V),
  fn("present_over_time", [M], V),
  fn("quantile_over_time", [S, M], V),
  fn("rad", [V], V),
  fn("rate", [M], V),
  fn("resets", [M], V),
  fn("round", [V, S], V, 1),
  fn("scalar", [V], S),
  fn("sgn", [V], V),
  fn("sin", [V], V),
  fn("sinh", [V], V),
  fn("sort", [V], V),
  fn("sort_desc", [V], V),
  fn("sqrt", [V], V),
  fn("stddev_over_time", [M], V),
  fn("stdvar_over_time", [M], V),
  fn("sum_over_time", [M], V),
  fn("tan", [V], V),
  fn("tanh", [V], V),
  fn("time", [], S),
  fn("timestamp", [V], V),
  fn("vector", [S], V),
  fn("year", [V], V, 1),
];

export const FUNCTIONS: ReadonlyMap<string, FunctionSignature> = new Map(list.map((f) => [f.name, f]));

/** Case-sensitive like Prometheus: `RATE(x[1m])` is an unknown function. */
export function getFunction(name: string): FunctionSignature | undefined {
  return FUNCTIONS.get(name);
}

/** Prometheus' DocumentedType: the names used in type errors. */
export function documentedType(t: ValueType): string {
  switch (t) {
    case "vector": return "instant vector";
    case "matrix": return "range vector";
    default: return t;
  }
}
