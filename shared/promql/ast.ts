// PromQL abstract syntax tree (Prometheus 2.42 promql/parser/ast.go), shared by the parser, the
// printer and the engine. Times and durations are milliseconds (JS numbers).

import type { Matcher } from "../labels/matcher.ts";

export type ValueType = "scalar" | "vector" | "matrix" | "string";

/**
 * Offsets into the query string as JS string indexes (UTF-16 code units; equal to byte offsets
 * for ASCII). Parse errors convert them to the UTF-8 byte columns Prometheus prints.
 */
export interface PosRange {
  start: number;
  end: number;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | Call
  | AggregateExpr
  | BinaryExpr
  | UnaryExpr
  | ParenExpr
  | StepInvariantExpr;

export interface NumberLiteral { kind: "NumberLiteral"; val: number; pos: PosRange }
export interface StringLiteral { kind: "StringLiteral"; val: string; pos: PosRange }

/** `@` modifier: a fixed timestamp (ms) or start()/end() of the query. */
export type AtModifier = { at: "time"; ms: number } | { at: "start" } | { at: "end" } | null;

export interface VectorSelector {
  kind: "VectorSelector";
  /** Metric name as written (also present in matchers as __name__="..."), or "". */
  name: string;
  matchers: Matcher[];
  /** offset in ms; negative for `offset -5m`. */
  offset: number;
  at: AtModifier;
  pos: PosRange;
}

export interface MatrixSelector {
  kind: "MatrixSelector";
  /** Always a VectorSelector (offset and @ live on it). */
  vs: VectorSelector;
  range: number;
  pos: PosRange;
}

export interface SubqueryExpr {
  kind: "SubqueryExpr";
  expr: Expr;
  range: number;
  /** 0 = not given (use the engine's default evaluation interval). */
  step: number;
  offset: number;
  at: AtModifier;
  pos: PosRange;
}

export interface Call {
  kind: "Call";
  func: string;
  args: Expr[];
  pos: PosRange;
}

export type AggregateOp =
  | "sum" | "avg" | "min" | "max" | "count" | "group" | "stddev" | "stdvar"
  | "topk" | "bottomk" | "quantile" | "count_values";

export interface AggregateExpr {
  kind: "AggregateExpr";
  op: AggregateOp;
  expr: Expr;
  /** topk/bottomk k, quantile q, count_values label name. */
  param: Expr | null;
  grouping: string[];
  /** true for `without (...)`. */
  without: boolean;
  pos: PosRange;
}

export type BinaryOp =
  | "+" | "-" | "*" | "/" | "%" | "^" | "atan2"
  | "==" | "!=" | ">" | "<" | ">=" | "<="
  | "and" | "or" | "unless";

export type Cardinality = "one-to-one" | "many-to-one" | "one-to-many" | "many-to-many";

export interface VectorMatching {
  card: Cardinality;
  /** Label names from on(...) or ignoring(...). */
  matchingLabels: string[];
  /** true for on(...), false for ignoring(...) or none. */
  on: boolean;
  /** Extra labels from group_left(...)/group_right(...). */
  include: string[];
}

export interface BinaryExpr {
  kind: "BinaryExpr";
  op: BinaryOp;
  lhs: Expr;
  rhs: Expr;
  /** null when at least one side is a scalar. */
  matching: VectorMatching | null;
  /** `bool` modifier on comparisons. */
  returnBool: boolean;
  pos: PosRange;
}

export interface UnaryExpr { kind: "UnaryExpr"; op: "-" | "+"; expr: Expr; pos: PosRange }
export interface ParenExpr { kind: "ParenExpr"; expr: Expr; pos: PosRange }
/** Inserted by the engine's preprocessing (as Prometheus does) around subtrees with fixed @ time. */
export interface StepInvariantExpr { kind: "StepInvariantExpr"; expr: Expr; pos: PosRange }
