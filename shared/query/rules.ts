// What the querier makes of the rule groups its rulers send (thanos.Rules/Rules answers), as Thanos'
// querier does it (pkg/rules/rules.go GRPCClient.Rules, v0.41.0): the request's filters, then groups
// merged by identity and rules deduplicated across HA replicas.
//
// - Filters: match[] keeps rules whose non-templated labels satisfy every matcher of every set (a
//   rule left with no rules drops its group); rule_name[], rule_group[], file[] keep the named ones (a
//   group left without rules is dropped too, so an unfiltered empty group stays).
// - Groups: one per file + ";" + name (Prometheus' group key), sorted by that key; the rules of equal
//   groups are appended to the first one, whose other fields (interval, evaluation time, last
//   evaluation, strategy) are kept. "First" is the fan-out's order: ours is endpoint order, Thanos'
//   is the order answers arrived in.
// - Rules: replica labels are removed from every rule's labels, then rules are sorted (alerting before
//   recording, then name, labels, query, and for alerts the `for` duration) and equal neighbours
//   collapse into one. Which one stays: for recording rules the youngest last evaluation; for
//   alerting rules the more critical state (firing > pending > inactive), then the youngest last
//   evaluation; on a tie the first in sorted order. The alert instances are those of the rule kept:
//   replicas' instances are never mixed.
//
// Messages are the generated protobuf types and are changed in place (labels, rule lists), as Thanos
// does; callers hand over what they decoded for this request.

import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { compareLabels, compareStrings } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import { LabelSetSchema, type Label } from "../gen/thanos/labelpb/types_pb.ts";
import type { Alert, AlertState, RecordingRule, Rule, RuleGroup } from "../gen/thanos/rulespb/rpc_pb.ts";
import { GO_ZERO_SECONDS, groupKey } from "../rules/rule.ts";

/** A rule's labels as sent (external labels included by the ruler). */
export function ruleLabels(r: Rule): Label[] {
  return (r.result.case !== undefined ? r.result.value.labels?.labels : undefined) ?? [];
}

function setRuleLabels(r: Rule, ls: Label[]): void {
  if (r.result.case === undefined) return;
  const v = r.result.value;
  if (v.labels) v.labels.labels = ls;
  else v.labels = create(LabelSetSchema, { labels: ls });
}

export function ruleName(r: Rule): string {
  return r.result.case !== undefined ? r.result.value.name : "";
}

function ruleQuery(r: Rule): string {
  return r.result.case !== undefined ? r.result.value.query : "";
}

/** -1, 0, 1 as Go's Before/After on two Timestamps (absent = Go's zero time). */
export function compareTimestamps(a: Timestamp | undefined, b: Timestamp | undefined): number {
  const as = a?.seconds ?? GO_ZERO_SECONDS, bs = b?.seconds ?? GO_ZERO_SECONDS;
  if (as !== bs) return as < bs ? -1 : 1;
  const an = a?.nanos ?? 0, bn = b?.nanos ?? 0;
  return an === bn ? 0 : an < bn ? -1 : 1;
}

/**
 * Thanos' Rule.Compare: the identity of a rule across replicas (type, name, labels, query, and for
 * alerting rules the duration). 0 means "the same rule".
 */
export function compareRules(a: Rule, b: Rule): number {
  if (a.result.case === "alert" && b.result.case === "recording") return -1;
  if (a.result.case === "recording" && b.result.case === "alert") return 1;
  let d = compareStrings(ruleName(a), ruleName(b));
  if (d !== 0) return d;
  d = compareLabels(ruleLabels(a), ruleLabels(b));
  if (d !== 0) return d;
  d = compareStrings(ruleQuery(a), ruleQuery(b));
  if (d !== 0) return d;
  if (a.result.case === "alert" && b.result.case === "alert") {
    const x = a.result.value.durationSeconds, y = b.result.value.durationSeconds;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Thanos' RecordingRule.Compare of equal rules: the younger evaluation first. */
function compareRecording(a: RecordingRule, b: RecordingRule): number {
  return -compareTimestamps(a.lastEvaluation, b.lastEvaluation);
}

/** Thanos' AlertState.Compare: the more critical state first (UNKNOWN < INACTIVE < PENDING < FIRING). */
function compareState(x: AlertState, y: AlertState): number {
  return y - x;
}

/** Thanos' Alert.Compare of equal rules: the more critical state, then the younger evaluation, first. */
function compareAlerting(a: Alert, b: Alert): number {
  const d = compareState(a.state, b.state);
  if (d !== 0) return d;
  return -compareTimestamps(a.lastEvaluation, b.lastEvaluation);
}

// Whether a label value is plain text for match[]: Thanos keeps a label only when the value parses
// as a Go template of exactly one text node. So a value with an action is out, and so is one whose
// action does not parse; template comments are not nodes, so "a{{/* x */}}" still counts as text
// (and "a{{/* x */}}b" as two nodes). An empty value has no node, which changes nothing since an
// absent label reads as "" anyway.
export function isPlainTextLabel(v: string): boolean {
  if (!v.includes("{{")) return v !== "";
  // Go's lexer: a comment is "{{/*" or "{{- /*" up to "*/}}" or "*/ -}}"; a trim marker eats the
  // white space on its side. Anything else with "{{" is an action (or does not parse).
  const re = /\{\{(- )?\/\*[\s\S]*?\*\/( -)?\}\}/g;
  let texts = 0, last = 0, trimNext = false;
  const text = (p: string, trimLeft: boolean, trimRight: boolean): boolean => {
    if (p.includes("{{")) return false;
    if (trimLeft) p = p.replace(/^[ \t\r\n]+/, "");
    if (trimRight) p = p.replace(/[ \t\r\n]+$/, "");
    if (p !== "") texts++;
    return true;
  };
  for (let m = re.exec(v); m; m = re.exec(v)) {
    if (!text(v.slice(last, m.index), trimNext, m[1] !== undefined)) return false;
    trimNext = m[2] !== undefined;
    last = m.index + m[0].length;
  }
  if (!text(v.slice(last), trimNext, false)) return false;
  return texts === 1;
}

/** Thanos' matches: the rule's plain-text labels satisfy every matcher of every set. */
export function ruleMatchesSets(sets: readonly (readonly Matcher[])[], ls: readonly Label[]): boolean {
  if (sets.length === 0) return true;
  const plain = new Map<string, string>();
  for (const l of ls) if (isPlainTextLabel(l.value)) plain.set(l.name, l.value);
  for (const ms of sets) for (const m of ms) if (!m.matches(plain.get(m.name) ?? "")) return false;
  return true;
}

/** Thanos' filterRulesByMatchers: rules failing match[] go; groups left empty go. */
export function filterRulesByMatchers(groups: RuleGroup[], sets: readonly (readonly Matcher[])[]): RuleGroup[] {
  if (sets.length === 0) return groups;
  const out: RuleGroup[] = [];
  for (const g of groups) {
    g.rules = g.rules.filter((r) => ruleMatchesSets(sets, ruleLabels(r)));
    if (g.rules.length !== 0) out.push(g);
  }
  return out;
}

/** Thanos' filterRulesByNamesAndFile (rule_name[], rule_group[], file[]). */
export function filterRulesByNamesAndFile(groups: RuleGroup[], ruleNames: readonly string[], ruleGroups: readonly string[], files: readonly string[]): RuleGroup[] {
  if (ruleNames.length === 0 && ruleGroups.length === 0 && files.length === 0) return groups;
  const rn = new Set(ruleNames), rg = new Set(ruleGroups), fs = new Set(files);
  const out: RuleGroup[] = [];
  for (const g of groups) {
    if (rg.size > 0 && !rg.has(g.name)) continue;
    if (fs.size > 0 && !fs.has(g.file)) continue;
    if (rn.size > 0) g.rules = g.rules.filter((r) => rn.has(ruleName(r)));
    if (g.rules.length > 0) out.push(g);
  }
  return out;
}

/** Thanos' dedupGroups: sorted by key, equal groups' rules appended to the first. */
export function dedupGroups(groups: RuleGroup[]): RuleGroup[] {
  if (groups.length === 0) return [];
  // Array#sort is stable, as Go's sort.Slice is for the up to 12 elements its insertion sort takes.
  const sorted = [...groups].sort((a, b) => compareStrings(groupKey(a.file, a.name), groupKey(b.file, b.name)));
  const out: RuleGroup[] = [sorted[0]!];
  for (let k = 1; k < sorted.length; k++) {
    const g = sorted[k]!, last = out[out.length - 1]!;
    if (groupKey(g.file, g.name) === groupKey(last.file, last.name)) last.rules = [...last.rules, ...g.rules];
    else out.push(g);
  }
  return out;
}

/** Thanos' removeReplicaLabels (the labels' order is kept, as its slice labels do). */
function removeReplicaLabels(r: Rule, replicaLabels: ReadonlySet<string>): void {
  if (replicaLabels.size === 0) return;
  const ls = ruleLabels(r);
  if (ls.some((l) => replicaLabels.has(l.name))) setRuleLabels(r, ls.filter((l) => !replicaLabels.has(l.name)));
}

/** Thanos' dedupRules: replica labels removed, sorted, equal rules collapsed to the one that wins. */
export function dedupRules(rules: Rule[], replicaLabels: ReadonlySet<string>): Rule[] {
  if (rules.length === 0) return rules;
  for (const r of rules) removeReplicaLabels(r, replicaLabels);
  const sorted = [...rules].sort(compareRules);
  const out: Rule[] = [sorted[0]!];
  for (let j = 1; j < sorted.length; j++) {
    const kept = out[out.length - 1]!, r = sorted[j]!;
    if (compareRules(kept, r) !== 0) { out.push(r); continue; }
    let younger = false;
    if (kept.result.case === "recording" && r.result.case === "recording") younger = compareRecording(kept.result.value, r.result.value) > 0;
    else if (kept.result.case === "alert" && r.result.case === "alert") younger = compareAlerting(kept.result.value, r.result.value) > 0;
    if (younger) out[out.length - 1] = r;
  }
  return out;
}

export interface RulesMerge {
  /** match[] sets, parsed. */
  matchers?: readonly (readonly Matcher[])[];
  ruleNames?: readonly string[];
  ruleGroups?: readonly string[];
  files?: readonly string[];
  /** Labels removed before rules are compared (dedup); none keeps every replica's rules apart. */
  replicaLabels?: Iterable<string>;
}

/** Everything GRPCClient.Rules does after the fan-out: filters, group merge, rule dedup. */
export function mergeRuleGroups(groups: RuleGroup[], o: RulesMerge = {}): RuleGroup[] {
  let gs = filterRulesByMatchers(groups, o.matchers ?? []);
  gs = filterRulesByNamesAndFile(gs, o.ruleNames ?? [], o.ruleGroups ?? [], o.files ?? []);
  gs = dedupGroups(gs);
  const replica = new Set(o.replicaLabels ?? []);
  for (const g of gs) g.rules = dedupRules(g.rules, replica);
  return gs;
}

