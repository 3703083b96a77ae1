// The prometheus_rule_* metric family as plain data: the agent renders /metrics from it. Names and
// meaning are Prometheus 2.42's (rules/manager.go NewGroupMetrics); Thanos registers them with a
// `strategy` label (warn|abort) because it runs one upstream manager per partial-response strategy.
// Per-group values are keyed by `rule_group` = "<file>;<group>" and survive a reload of the group (the
// same counter goes on, as with Go's CounterVec); a group removed from the configuration drops them.
// The two summaries are kept as sum and count (no quantiles).

import type { PartialResponseStrategy } from "./rulefmt.ts";

export interface GroupMetrics {
  readonly ruleGroup: string;
  strategy: PartialResponseStrategy;
  /** prometheus_rule_group_iterations_missed_total */
  iterationsMissed: number;
  /** prometheus_rule_group_iterations_total (executed or missed) */
  iterationsScheduled: number;
  /** prometheus_rule_evaluations_total */
  evalTotal: number;
  /** prometheus_rule_evaluation_failures_total */
  evalFailures: number;
  /** prometheus_rule_group_interval_seconds */
  intervalSeconds: number;
  /** prometheus_rule_group_last_evaluation_timestamp_seconds */
  lastEvaluationTimestampSeconds: number;
  /** prometheus_rule_group_last_duration_seconds */
  lastDurationSeconds: number;
  /** prometheus_rule_group_rules */
  rules: number;
  /** prometheus_rule_group_last_evaluation_samples */
  lastEvaluationSamples: number;
}

export interface SummaryData {
  sum: number;
  count: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: "counter" | "gauge" | "summary";
  samples: { labels: Record<string, string>; value: number; suffix?: "_sum" | "_count" }[];
}

const GROUP_FAMILIES: [keyof GroupMetrics, string, "counter" | "gauge", string][] = [
  ["iterationsMissed", "prometheus_rule_group_iterations_missed_total", "counter", "The total number of rule group evaluations missed due to slow rule group evaluation."],
  ["iterationsScheduled", "prometheus_rule_group_iterations_total", "counter", "The total number of scheduled rule group evaluations, whether executed or missed."],
  ["evalTotal", "prometheus_rule_evaluations_total", "counter", "The total number of rule evaluations."],
  ["evalFailures", "prometheus_rule_evaluation_failures_total", "counter", "The total number of rule evaluation failures."],
  ["intervalSeconds", "prometheus_rule_group_interval_seconds", "gauge", "The interval of a rule group."],
  ["lastEvaluationTimestampSeconds", "prometheus_rule_group_last_evaluation_timestamp_seconds", "gauge", "The timestamp of the last rule group evaluation in seconds."],
  ["lastDurationSeconds", "prometheus_rule_group_last_duration_seconds", "gauge", "The duration of the last rule group evaluation."],
  ["rules", "prometheus_rule_group_rules", "gauge", "The number of rules."],
  ["lastEvaluationSamples", "prometheus_rule_group_last_evaluation_samples", "gauge", "The number of samples returned during the last rule group evaluation."],
];

export class RuleMetrics {
  private readonly groups = new Map<string, GroupMetrics>();
  readonly ruleDuration = new Map<PartialResponseStrategy, SummaryData>();
  readonly groupDuration = new Map<PartialResponseStrategy, SummaryData>();
  private readonly shutdown = new AbortController();

  /** Aborted when the manager stops: removed groups stop waiting to write staleness markers. */
  get shutdownSignal(): AbortSignal {
    return this.shutdown.signal;
  }

  stopAll(): void {
    this.shutdown.abort();
  }

  group(ruleGroup: string, strategy: PartialResponseStrategy): GroupMetrics {
    let g = this.groups.get(ruleGroup);
    if (g === undefined) {
      g = {
        ruleGroup, strategy, iterationsMissed: 0, iterationsScheduled: 0, evalTotal: 0, evalFailures: 0, intervalSeconds: 0,
        lastEvaluationTimestampSeconds: 0, lastDurationSeconds: 0, rules: 0, lastEvaluationSamples: 0,
      };
      this.groups.set(ruleGroup, g);
    }
    g.strategy = strategy;
    return g;
  }

  deleteGroup(ruleGroup: string): void {
    this.groups.delete(ruleGroup);
  }

  groupMetrics(): GroupMetrics[] {
    return [...this.groups.values()].sort((a, b) => (a.ruleGroup < b.ruleGroup ? -1 : a.ruleGroup > b.ruleGroup ? 1 : 0));
  }

  observeRuleDuration(s: PartialResponseStrategy, seconds: number): void {
    observe(this.ruleDuration, s, seconds);
  }

  observeGroupDuration(s: PartialResponseStrategy, seconds: number): void {
    observe(this.groupDuration, s, seconds);
  }

  /** Every family with its samples; `strategy` labels as Thanos adds them (lower case). */
  families(): MetricFamily[] {
    const out: MetricFamily[] = [];
    const summary = (name: string, help: string, m: Map<PartialResponseStrategy, SummaryData>) => {
      const samples: MetricFamily["samples"] = [];
      for (const [s, d] of m) {
        samples.push({ labels: { strategy: s.toLowerCase() }, value: d.sum, suffix: "_sum" });
        samples.push({ labels: { strategy: s.toLowerCase() }, value: d.count, suffix: "_count" });
      }
      out.push({ name, help, type: "summary", samples });
    };
    summary("prometheus_rule_evaluation_duration_seconds", "The duration for a rule to execute.", this.ruleDuration);
    summary("prometheus_rule_group_duration_seconds", "The duration of rule group evaluations.", this.groupDuration);
    for (const [field, name, type, help] of GROUP_FAMILIES) {
      out.push({
        name, help, type,
        samples: this.groupMetrics().map((g) => ({ labels: { rule_group: g.ruleGroup, strategy: g.strategy.toLowerCase() }, value: g[field] as number })),
      });
    }
    return out;
  }
}

function observe(m: Map<PartialResponseStrategy, SummaryData>, s: PartialResponseStrategy, v: number): void {
  const d = m.get(s) ?? { sum: 0, count: 0 };
  d.sum += v;
  d.count++;
  m.set(s, d);
}
