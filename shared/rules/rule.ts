// What recording and alerting rules share: health, last error, timings, and the label-set helpers
// with Prometheus' labels.Builder semantics (setting "" deletes a label).

import { compareStrings, type Label, type Labels } from "../labels/labels.ts";
import type { Expr } from "../promql/ast.ts";
import type { TemplateQuery } from "./alerting.ts";

/** GroupKey: group names are unique per file only. (Here, not in group.ts, so the querier's rules merge
 * can use it without loading the evaluation engine.) */
export function groupKey(file: string, name: string): string {
  return file + ";" + name;
}

/** Unix seconds of Go's zero time.Time (0001-01-01T00:00:00Z): what an absent non-nullable Timestamp means. */
export const GO_ZERO_SECONDS = -62135596800n;
import type { QueryFunc, Sample } from "./query.ts";

export type RuleHealth = "unknown" | "ok" | "err";

/** Everything an evaluation needs from its group. */
export interface EvalContext {
  /** Evaluation timestamp (ms). */
  ts: number;
  query: QueryFunc;
  /** Aborted at the evaluation's deadline or when the group stops. */
  signal: AbortSignal;
  /** The group's limit (0 = none). */
  limit: number;
  /** For the `query` template function. */
  templateQuery?: TemplateQuery;
}

export interface Rule {
  readonly kind: "recording" | "alerting";
  readonly name: string;
  /** Rule labels as written (sorted; a value may be a template for alerting rules). */
  readonly labels: Labels;
  readonly expr: Expr;
  /** The expression as Prometheus prints it (the text sent to the querier). */
  readonly query: string;
  health: RuleHealth;
  lastError: string | null;
  /** ms of the last evaluation. */
  evaluationDuration: number;
  /** Wall-clock ms when the last evaluation started; null before the first. */
  evaluationTimestamp: number | null;
  eval(ctx: EvalContext): Promise<Sample[]>;
  /** Rule.String() equivalent: equal texts mean an unchanged rule on reload. */
  identity(): string;
}

/** labels.Builder: start from `base`, then set (value "" deletes) and delete, sorted result. */
export class LabelsBuilder {
  private readonly m = new Map<string, string>();
  constructor(base: Labels) {
    for (const l of base) this.m.set(l.name, l.value);
  }
  set(name: string, value: string): this {
    if (value === "") this.m.delete(name);
    else this.m.set(name, value);
    return this;
  }
  del(name: string): this {
    this.m.delete(name);
    return this;
  }
  labels(): Labels {
    const out: Label[] = [];
    for (const [name, value] of this.m) out.push({ name, value });
    out.sort((a, b) => compareStrings(a.name, b.name));
    return out;
  }
}

/** An exact, collision-free key of a label set (Prometheus keys alerts by labels.Hash). */
export function labelsKey(ls: Labels): string {
  let s = "";
  for (const l of ls) s += l.name + "\xff" + l.value + "\xff";
  return s;
}

export function labelsToRecord(ls: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of ls) o[l.name] = l.value;
  return o;
}
