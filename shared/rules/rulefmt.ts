// Rule files: parsed and validated exactly as Prometheus 2.42's model/rulefmt (yaml.v3 with known
// fields, then Validate), with the error texts promtool prints:
//
//   5:15: group "yolo", rule 1, "yolo": could not parse expression: 1:6: parse error: ...
//   yaml: unmarshal errors:\n  line 8: field annotation not found in type rulefmt.RuleNode
//
// plus Thanos' group field `partial_response_strategy: warn|abort` (case-insensitive; empty means
// abort), accepted when `thanos` is set (the ruler and `tools rules check` do; promtool does not).
// Go quirks kept on purpose: a missing `record`/`expr` is reported at position 0:0 (the zero
// yaml.Node), label errors carry no position, a null sequence element is dropped before numbering.

import { decodeGoYamlDocument, parseGoYaml, goInt, goMap, goNode, goSlice, goString, goStruct, type GoType, type RawNode, ZERO_NODE } from "../encoding/goyaml.ts";
import { compareStrings, goQuote, type Label, type Labels } from "../labels/labels.ts";
import { parseDuration } from "../promql/parse-literals.ts";
import { parseExpr } from "../promql/parser.ts";
import { AlertTemplate } from "../template/index.ts";

export type PartialResponseStrategy = "ABORT" | "WARN";

export interface RuleDef {
  kind: "recording" | "alerting";
  /** `record` or `alert`. */
  name: string;
  expr: string;
  /** ms. */
  for: number;
  keepFiringFor: number;
  /** Sorted by name; values may be empty (an empty value removes the label when applied). */
  labels: Labels;
  annotations: Labels;
}

export interface GroupDef {
  name: string;
  /** ms; 0 = the manager's default interval. */
  interval: number;
  limit: number;
  rules: RuleDef[];
  partialResponseStrategy: PartialResponseStrategy;
}

export interface RuleFile {
  groups: GroupDef[];
  /** Go-formatted errors (without the file name); the file is valid when empty. */
  errors: string[];
}

export interface ParseRulesOptions {
  /** Accept Thanos' group field `partial_response_strategy`. */
  thanos?: boolean;
}

/** model.Duration: decoded as a string, then model.ParseDuration (its error aborts decoding). */
export const goDuration: GoType = {
  kind: "custom",
  name: "model.Duration",
  as: goString,
  convert: (v) => parseDuration(v as string),
  zero: 0,
};

const ruleNodeType = goStruct("rulefmt.RuleNode", {
  record: goNode,
  alert: goNode,
  expr: goNode,
  for: goDuration,
  keep_firing_for: goDuration,
  labels: goMap(goString),
  annotations: goMap(goString),
});

function groupsType(thanos: boolean): GoType {
  const fields: Record<string, GoType> = { name: goString, interval: goDuration, limit: goInt, rules: goSlice(ruleNodeType) };
  if (thanos) fields.partial_response_strategy = goString;
  return goStruct("rulefmt.RuleGroups", { groups: goSlice(goStruct("rulefmt.RuleGroup", fields)) });
}

const nodeGroupsType = goStruct("rulefmt.ruleGroups", { groups: goSlice(goNode) });

interface RuleNode {
  record?: RawNode;
  alert?: RawNode;
  expr?: RawNode;
  for?: number;
  keep_firing_for?: number;
  labels?: Map<string, string> | null;
  annotations?: Map<string, string> | null;
}

interface GroupNode {
  name?: string;
  interval?: number;
  limit?: number;
  rules?: RuleNode[] | null;
  partial_response_strategy?: string;
}

const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export function isValidLabelName(s: string): boolean {
  return LABEL_NAME_RE.test(s);
}

export function isValidMetricName(s: string): boolean {
  return METRIC_NAME_RE.test(s);
}

/** A label set from a YAML map, sorted by name, empty values kept (labels.FromMap). */
export function labelsFromMap(m: Map<string, string> | null | undefined): Labels {
  const out: Label[] = [];
  if (m) for (const [name, value] of m) out.push({ name, value });
  out.sort((a, b) => compareStrings(a.name, b.name));
  return out;
}

/** Thanos' PartialResponseStrategy.UnmarshalJSON on the YAML value. */
export function parseStrategy(s: string): PartialResponseStrategy | null {
  if (s === "") return "ABORT";
  const u = s.toUpperCase();
  return u === "ABORT" || u === "WARN" ? u : null;
}

function pos(n: RawNode): string {
  return `${n.line}:${n.column}`;
}

/** RuleNode.Validate: errors as [node, nodeAlt, message]. */
function validateRule(r: RuleNode): { node: RawNode | null; alt: RawNode | null; msg: string }[] {
  const out: { node: RawNode | null; alt: RawNode | null; msg: string }[] = [];
  const record = r.record ?? ZERO_NODE, alert = r.alert ?? ZERO_NODE, expr = r.expr ?? ZERO_NODE;
  if (record.value !== "" && alert.value !== "") out.push({ node: record, alt: alert, msg: "only one of 'record' and 'alert' must be set" });
  if (record.value === "" && alert.value === "") out.push({ node: record, alt: null, msg: "one of 'record' or 'alert' must be set" });
  if (expr.value === "") out.push({ node: expr, alt: null, msg: "field 'expr' must be set in rule" });
  else {
    try {
      parseExpr(expr.value);
    } catch (e) {
      out.push({ node: expr, alt: null, msg: `could not parse expression: ${(e as Error).message}` });
    }
  }
  if (record.value !== "") {
    if (r.annotations && r.annotations.size > 0) out.push({ node: record, alt: null, msg: "invalid field 'annotations' in recording rule" });
    if (r.for) out.push({ node: record, alt: null, msg: "invalid field 'for' in recording rule" });
    if (r.keep_firing_for) out.push({ node: record, alt: null, msg: "invalid field 'keep_firing_for' in recording rule" });
    if (!isValidMetricName(record.value)) out.push({ node: record, alt: null, msg: `invalid recording rule name: ${record.value}` });
  }
  for (const [k] of r.labels ?? []) {
    if (!isValidLabelName(k) || k === "__name__") out.push({ node: null, alt: null, msg: `invalid label name: ${k}` });
  }
  for (const [k] of r.annotations ?? []) {
    if (!isValidLabelName(k)) out.push({ node: null, alt: null, msg: `invalid annotation name: ${k}` });
  }
  if (alert.value !== "") {
    const name = "__alert_" + alert.value;
    for (const [k, v] of r.labels ?? []) {
      const e = AlertTemplate.compile(name, v).parseError;
      if (e !== null) out.push({ node: null, alt: null, msg: `label ${goQuote(k)}: ${e}` });
    }
    for (const [k, v] of r.annotations ?? []) {
      const e = AlertTemplate.compile(name, v).parseError;
      if (e !== null) out.push({ node: null, alt: null, msg: `annotation ${goQuote(k)}: ${e}` });
    }
  }
  return out;
}

/** Parse and validate one rule file's text (rulefmt.Parse). */
export function parseRules(text: string, opts: ParseRulesOptions = {}): RuleFile {
  const thanos = opts.thanos === true;
  const errors: string[] = [];
  const doc = parseGoYaml(text, 3);
  const typed = decodeGoYamlDocument(doc, groupsType(thanos), { version: 3, strict: true });
  if (typed.error !== null) errors.push(typed.error);
  const nodes = decodeGoYamlDocument(doc, nodeGroupsType, { version: 3, strict: false });
  if (nodes.error !== null) errors.push(nodes.error);
  if (errors.length > 0) return { groups: [], errors };

  const groupNodes = ((typed.value as { groups?: GroupNode[] | null }).groups ?? []);
  const groupPos = ((nodes.value as { groups?: RawNode[] | null }).groups ?? []);
  const groups: GroupDef[] = [];
  const seen = new Set<string>();
  groupNodes.forEach((g, j) => {
    const name = g.name ?? "";
    const gp = groupPos[j] ?? ZERO_NODE;
    if (name === "") errors.push(`${pos(gp)}: Groupname must not be empty`);
    if (seen.has(name)) errors.push(`${pos(gp)}: groupname: "${name}" is repeated in the same file`);
    seen.add(name);
    let strategy: PartialResponseStrategy = "ABORT";
    if (thanos) {
      const s = parseStrategy(g.partial_response_strategy ?? "");
      if (s === null) {
        errors.push(`${pos(gp)}: group ${goQuote(name)}: failed to unmarshal "${g.partial_response_strategy}" as 'partial_response_strategy'. Possible values are ABORT,WARN`);
      } else strategy = s;
    }
    const rules: RuleDef[] = [];
    (g.rules ?? []).forEach((r, i) => {
      const alert = r.alert ?? ZERO_NODE, record = r.record ?? ZERO_NODE;
      const ruleName = alert.value !== "" ? alert.value : record.value;
      for (const e of validateRule(r)) {
        const head = e.alt ? `${pos(e.node!)}: ${pos(e.alt)}: ` : e.node ? `${pos(e.node)}: ` : "";
        errors.push(`${head}group ${goQuote(name)}, rule ${i + 1}, ${goQuote(ruleName)}: ${e.msg}`);
      }
      rules.push({
        kind: alert.value !== "" ? "alerting" : "recording",
        name: ruleName,
        expr: (r.expr ?? ZERO_NODE).value,
        for: r.for ?? 0,
        keepFiringFor: r.keep_firing_for ?? 0,
        labels: labelsFromMap(r.labels),
        annotations: labelsFromMap(r.annotations),
      });
    });
    groups.push({ name, interval: g.interval ?? 0, limit: g.limit ?? 0, rules, partialResponseStrategy: strategy });
  });
  return { groups: errors.length > 0 ? [] : groups, errors };
}

/** rulefmt.ParseFile's error prefix: every error is `<file>: <error>`. */
export function prefixErrors(file: string, errors: string[]): string[] {
  return errors.map((e) => `${file}: ${e}`);
}

/** A stable text of a rule for Group equality on reload (Prometheus compares rule.String()). */
export function ruleIdentity(r: RuleDef, exprText: string): string {
  return JSON.stringify([r.kind, r.name, exprText, r.for, r.keepFiringFor, r.labels, r.annotations]);
}
