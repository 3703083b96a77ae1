// Recording rules (Prometheus 2.42 rules/recording.go): every sample of the expression is renamed to
// the rule's name, then the rule's labels are set over it (an empty value removes the label); two
// output samples with the same labels fail the evaluation, and so does more output than the group's
// limit.

import { METRIC_NAME, type Labels } from "../labels/labels.ts";
import type { Expr } from "../promql/ast.ts";
import { exprString } from "../promql/printer.ts";
import type { RuleDef } from "./rulefmt.ts";
import { ruleIdentity } from "./rulefmt.ts";
import { LabelsBuilder, labelsKey, type EvalContext, type Rule, type RuleHealth } from "./rule.ts";
import type { Sample } from "./query.ts";

export class RecordingRule implements Rule {
  readonly kind = "recording";
  readonly name: string;
  readonly labels: Labels;
  readonly query: string;
  health: RuleHealth = "unknown";
  lastError: string | null = null;
  evaluationDuration = 0;
  evaluationTimestamp: number | null = null;

  constructor(def: RuleDef, readonly expr: Expr) {
    this.name = def.name;
    this.labels = def.labels;
    this.query = exprString(expr);
  }

  identity(): string {
    return ruleIdentity({ kind: "recording", name: this.name, expr: "", for: 0, keepFiringFor: 0, labels: this.labels, annotations: [] }, this.query);
  }

  async eval(ctx: EvalContext): Promise<Sample[]> {
    const vector = await ctx.query(this.query, ctx.ts, ctx.signal);
    return relabelRecorded(vector, this.name, this.labels, ctx.limit);
  }
}

/** The recording step shared with backfills: rename, set rule labels, check duplicates and limit. */
export function relabelRecorded(vector: Sample[], name: string, ruleLabels: Labels, limit: number): Sample[] {
  const out: Sample[] = [];
  const seen = new Set<string>();
  for (const s of vector) {
    const lb = new LabelsBuilder(s.metric).set(METRIC_NAME, name);
    for (const l of ruleLabels) lb.set(l.name, l.value);
    const metric = lb.labels();
    const k = labelsKey(metric);
    if (seen.has(k)) throw new Error("vector contains metrics with the same labelset after applying rule labels");
    seen.add(k);
    out.push({ metric, t: s.t, v: s.v });
  }
  if (limit > 0 && out.length > limit) throw new Error(`exceeded limit of ${limit} with ${out.length} series`);
  return out;
}
