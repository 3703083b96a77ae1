// What the ruler serves about its rules and alerts:
// - `/api/v1/rules` and `/api/v1/alerts` data in Prometheus 2.42's JSON shapes (web/api/v1/api.go),
//   plus Thanos' `partialResponseStrategy` on groups and alert instances, and Thanos' filters
//   (type, match[], rule_name[], rule_group[], file[]) and external labels added to rule labels
//   (pkg/rules/prometheus.go enrichRulesWithExtLabels);
// - `thanos.Rules/Rules` over gRPC (RulesImpl of shared/rpc/store.ts), field for field Thanos' Manager.Rules.
// The agent wraps the JSON data in {"status":"success","data":...}. Thanos' own ruler answers
// /api/v1/alerts with a capitalised "Alerts" key (fixed only in its querier, thanos#5534); we answer
// with Prometheus' "alerts".

import { create } from "@bufbuild/protobuf";
import { AlertSchema, AlertState as PbAlertState, RecordingRuleSchema, RuleGroupSchema, RuleSchema, type Rule as PbRule, type RuleGroup as PbRuleGroup, type RulesRequest, RulesRequest_Type } from "../gen/thanos/rulespb/rpc_pb.ts";
import { PartialResponseStrategy as PbStrategy } from "../gen/thanos/storepb/types_pb.ts";
import type { Label, Labels } from "../labels/labels.ts";
import { compareLabels, compareStrings } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import { goTimeJSON } from "../encoding/gotext.ts";
import { formatExp } from "../promql/format.ts";
import type { CallContext, RulesImpl, RulesResponseInit } from "../rpc/store.ts";
import { AlertingRule, type Alert, type AlertState } from "./alerting.ts";
import type { Group } from "./group.ts";
import type { Manager } from "./manager.ts";
import type { Rule } from "./rule.ts";
import type { PartialResponseStrategy } from "./rulefmt.ts";

import { GO_ZERO_SECONDS } from "./rule.ts";


/** strconv.FormatFloat(v, 'e', -1, 64), as alert values are reported. */
export function alertValueString(v: number): string {
  return formatExp(v);
}

export interface RulesFilter {
  /** Prometheus/Thanos `type`: alert or record (any case); absent = both. */
  type?: string;
  /** match[]: rules whose non-templated labels match every matcher of every set (Thanos' rule). */
  matchers?: Matcher[][];
  ruleName?: string[];
  ruleGroup?: string[];
  file?: string[];
}

export type LabelsJSON = Record<string, string>;

export interface AlertJSON {
  labels: LabelsJSON;
  annotations: LabelsJSON;
  state: AlertState;
  activeAt: string;
  keepFiringSince?: string;
  value: string;
  partialResponseStrategy: PartialResponseStrategy;
}

export interface AlertingRuleJSON {
  state: AlertState;
  name: string;
  query: string;
  duration: number;
  keepFiringFor: number;
  labels: LabelsJSON;
  annotations: LabelsJSON;
  alerts: AlertJSON[];
  health: string;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
  type: "alerting";
}

export interface RecordingRuleJSON {
  name: string;
  query: string;
  labels?: LabelsJSON;
  health: string;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
  type: "recording";
}

export interface RuleGroupJSON {
  name: string;
  file: string;
  rules: (AlertingRuleJSON | RecordingRuleJSON)[];
  interval: number;
  limit: number;
  evaluationTime: number;
  lastEvaluation: string;
  partialResponseStrategy: PartialResponseStrategy;
}

/** Thanos' labelpb.ExtendSortedLabels: the external labels added, overwriting equal names. */
export function extendLabels(ls: Labels, ext: Labels): Labels {
  if (ext.length === 0) return ls;
  const m = new Map<string, string>();
  for (const l of ls) m.set(l.name, l.value);
  for (const l of ext) m.set(l.name, l.value);
  const out: Label[] = [...m].map(([name, value]) => ({ name, value }));
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

function labelsJSON(ls: Labels): LabelsJSON {
  const o: LabelsJSON = {};
  for (const l of ls) o[l.name] = l.value;
  return o;
}

function sortAlerts(as: Alert[]): Alert[] {
  return as.sort((a, b) => compareLabels(a.labels, b.labels));
}

function alertJSON(a: Alert, s: PartialResponseStrategy): AlertJSON {
  const j: AlertJSON = {
    labels: labelsJSON(a.labels),
    annotations: labelsJSON(a.annotations),
    state: a.state,
    activeAt: goTimeJSON(a.activeAt),
    value: alertValueString(a.value),
    partialResponseStrategy: s,
  };
  if (a.keepFiringSince !== null) j.keepFiringSince = goTimeJSON(a.keepFiringSince);
  return j;
}

/** Whether a label value is a template (Thanos keeps only single-text-node values for match[]). */
function isTemplated(v: string): boolean {
  return v.includes("{{");
}

function ruleMatches(labels: Labels, sets: Matcher[][]): boolean {
  const plain = labels.filter((l) => !isTemplated(l.value));
  const get = (n: string) => plain.find((l) => l.name === n)?.value ?? "";
  return sets.every((ms) => ms.every((m) => m.matches(get(m.name))));
}

function wantType(f: RulesFilter | undefined): { alerts: boolean; records: boolean } {
  const t = (f?.type ?? "").toLowerCase();
  if (t !== "" && t !== "alert" && t !== "record") {
    throw Object.assign(new Error(`invalid parameter "type": not supported value ${JSON.stringify(f!.type)}`), { code: "bad_data" });
  }
  return { alerts: t === "" || t === "alert", records: t === "" || t === "record" };
}

/** The groups and rules a filter selects, with rule labels extended by the external labels. */
function selected(m: Manager, f: RulesFilter | undefined): { group: Group; rules: { rule: Rule; labels: Labels }[] }[] {
  const want = wantType(f);
  const ext = m.options.externalLabels;
  const names = f?.ruleName?.length ? new Set(f.ruleName) : null;
  const groups = f?.ruleGroup?.length ? new Set(f.ruleGroup) : null;
  const files = f?.file?.length ? new Set(f.file) : null;
  const filtering = names !== null || groups !== null || files !== null || (f?.matchers?.length ?? 0) > 0;
  const out: { group: Group; rules: { rule: Rule; labels: Labels }[] }[] = [];
  for (const g of m.ruleGroups()) {
    if (groups && !groups.has(g.name)) continue;
    if (files && !files.has(g.file)) continue;
    const rules: { rule: Rule; labels: Labels }[] = [];
    for (const r of g.rules) {
      if (r.kind === "alerting" ? !want.alerts : !want.records) continue;
      if (names && !names.has(r.name)) continue;
      const labels = extendLabels(r.labels, ext);
      if (f?.matchers?.length && !ruleMatches(labels, f.matchers)) continue;
      rules.push({ rule: r, labels });
    }
    // Thanos drops groups left without rules by a filter (an unfiltered empty group stays).
    if (filtering && rules.length === 0) continue;
    out.push({ group: g, rules });
  }
  return out;
}

/** `/api/v1/rules` data. */
export function rulesJSON(m: Manager, f?: RulesFilter): { groups: RuleGroupJSON[] } {
  return {
    groups: selected(m, f).map(({ group: g, rules }) => ({
      name: g.name,
      file: g.file,
      rules: rules.map(({ rule: r, labels }) => {
        if (r instanceof AlertingRule) {
          const j: AlertingRuleJSON = {
            state: r.state(),
            name: r.name,
            query: r.query,
            duration: r.holdDuration / 1000,
            keepFiringFor: r.keepFiringFor / 1000,
            labels: labelsJSON(labels),
            annotations: labelsJSON(r.annotations),
            alerts: sortAlerts(r.activeAlerts()).map((a) => alertJSON(a, g.strategy)),
            health: r.health,
            evaluationTime: r.evaluationDuration / 1000,
            lastEvaluation: goTimeJSON(r.evaluationTimestamp),
            type: "alerting",
          };
          if (r.lastError) j.lastError = r.lastError;
          return reorder(j, ["state", "name", "query", "duration", "keepFiringFor", "labels", "annotations", "alerts", "health", "lastError", "evaluationTime", "lastEvaluation", "type"]);
        }
        const j: RecordingRuleJSON = {
          name: r.name,
          query: r.query,
          health: r.health,
          evaluationTime: r.evaluationDuration / 1000,
          lastEvaluation: goTimeJSON(r.evaluationTimestamp),
          type: "recording",
        };
        if (labels.length > 0) j.labels = labelsJSON(labels);
        if (r.lastError) j.lastError = r.lastError;
        return reorder(j, ["name", "query", "labels", "health", "lastError", "evaluationTime", "lastEvaluation", "type"]);
      }),
      interval: g.interval / 1000,
      limit: g.limit,
      evaluationTime: g.evaluationTime / 1000,
      lastEvaluation: goTimeJSON(g.lastEvaluation),
      partialResponseStrategy: g.strategy,
    })),
  };
}

/** Keys in Go's struct order (JSON.stringify keeps insertion order). */
function reorder<T extends object>(o: T, keys: string[]): T {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in o) out[k] = (o as Record<string, unknown>)[k];
  return out as T;
}

/** `/api/v1/alerts` data: every pending and firing alert. */
export function alertsJSON(m: Manager): { alerts: AlertJSON[] } {
  const alerts: AlertJSON[] = [];
  for (const { rule, group } of m.alertingRules()) for (const a of sortAlerts(rule.activeAlerts())) alerts.push(alertJSON(a, group.strategy));
  return { alerts };
}

// ---- gRPC (thanos.Rules/Rules) ----

function pbTime(ms: number | null): { seconds: bigint; nanos: number } {
  if (ms === null) return { seconds: GO_ZERO_SECONDS, nanos: 0 };
  const s = Math.floor(ms / 1000);
  return { seconds: BigInt(s), nanos: (ms - s * 1000) * 1_000_000 };
}

function pbLabels(ls: Labels): { labels: { name: string; value: string }[] } {
  return { labels: ls.map((l) => ({ name: l.name, value: l.value })) };
}

const PB_STATE: Record<AlertState, PbAlertState> = { inactive: PbAlertState.INACTIVE, pending: PbAlertState.PENDING, firing: PbAlertState.FIRING };
const PB_STRATEGY: Record<PartialResponseStrategy, PbStrategy> = { WARN: PbStrategy.WARN, ABORT: PbStrategy.ABORT };

/** One group as Thanos' Group.toProto, rule labels extended by the external labels. */
export function groupProto(g: Group, ext: Labels, type: RulesRequest_Type = RulesRequest_Type.ALL): PbRuleGroup {
  const strategy = PB_STRATEGY[g.strategy];
  const rules: PbRule[] = [];
  for (const r of g.rules) {
    const labels = pbLabels(extendLabels(r.labels, ext));
    if (r instanceof AlertingRule) {
      if (type === RulesRequest_Type.RECORD) continue;
      rules.push(create(RuleSchema, {
        result: {
          case: "alert",
          value: create(AlertSchema, {
            state: PB_STATE[r.state()],
            name: r.name,
            query: r.query,
            durationSeconds: r.holdDuration / 1000,
            keepFiringForSeconds: r.keepFiringFor / 1000,
            labels,
            annotations: pbLabels(r.annotations),
            alerts: sortAlerts(r.activeAlerts()).map((a) => ({
              PartialResponseStrategy: strategy,
              labels: pbLabels(a.labels),
              annotations: pbLabels(a.annotations),
              state: PB_STATE[a.state],
              activeAt: pbTime(a.activeAt),
              value: alertValueString(a.value),
            })),
            health: r.health,
            lastError: r.lastError ?? "",
            evaluationDurationSeconds: r.evaluationDuration / 1000,
            lastEvaluation: pbTime(r.evaluationTimestamp),
          }),
        },
      }));
    } else {
      if (type === RulesRequest_Type.ALERT) continue;
      rules.push(create(RuleSchema, {
        result: {
          case: "recording",
          value: create(RecordingRuleSchema, {
            name: r.name,
            query: r.query,
            labels,
            health: r.health,
            lastError: r.lastError ?? "",
            evaluationDurationSeconds: r.evaluationDuration / 1000,
            lastEvaluation: pbTime(r.evaluationTimestamp),
          }),
        },
      }));
    }
  }
  return create(RuleGroupSchema, {
    name: g.name,
    file: g.file,
    rules,
    interval: g.interval / 1000,
    evaluationDurationSeconds: g.evaluationTime / 1000,
    lastEvaluation: pbTime(g.lastEvaluation),
    limit: BigInt(g.limit),
    PartialResponseStrategy: strategy,
  });
}

/**
 * thanos.Rules/Rules as Thanos' ruler serves it: every group (type filters rules; other request fields
 * are applied by the querier, as in Thanos), one response per group.
 */
export function rulesImpl(m: Manager): RulesImpl {
  return {
    async *rules(req: RulesRequest, ctx: CallContext): AsyncIterable<RulesResponseInit> {
      const ext = m.options.externalLabels;
      for (const g of m.ruleGroups()) {
        if (ctx.signal.aborted) return;
        yield { result: { case: "group", value: groupProto(g, ext, req.type) } };
      }
    },
  };
}
