// Prometheus relabel configs as Thanos' block selectors use them (--selector.relabel-config[-file] on the
// compactor and store gateway): only keep, drop and hashmod, applied to a block's external labels plus
// `__block_id` (pkg/block/fetcher.go LabelShardedMetaFilter). A block is selected unless a keep or drop
// rule drops it. Semantics of prometheus/model/relabel (Prometheus 3.x, what Thanos v0.41 links):
//
//   value = join(source label values, separator)      a missing label is ""
//   keep: drop unless regex matches value; drop: drop if it does
//   hashmod: target_label = uint64 of the last 8 bytes of md5(value), big-endian, % modulus
//
// Regexes are anchored RE2 (`^(?s:regex)$`); defaults: separator ";", regex "(.*)", replacement "$1",
// action "replace" (so a rule without `action` is rejected here as unsupported, as Thanos does).

import { RE2JS } from "re2js";
import { parse as parseYaml } from "yaml";
import { md5 } from "../encoding/md5.ts";
import { CodedError, errorMessage } from "../encoding/errors.ts";

export type RelabelAction = "keep" | "drop" | "hashmod";

export interface RelabelConfig {
  sourceLabels: string[];
  separator: string;
  regex: string;
  modulus: bigint;
  targetLabel: string;
  action: RelabelAction;
  /** The compiled, anchored regex. */
  re: RE2JS;
}

const ALL_ACTIONS = ["replace", "keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase"];
const SUPPORTED = new Set(["keep", "drop", "hashmod"]);
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function bad(what: string, msg: string): never {
  throw new CodedError("bad_data", `${what}: ${msg}`);
}

/**
 * Parse a YAML list of relabel configs, accepting only the actions block selection supports. Empty text
 * is no rules (every block selected). Errors name `what` (the flag or file) and the rule.
 */
export function parseSelectorRelabelConfig(text: string, what = "--selector.relabel-config"): RelabelConfig[] {
  let doc: unknown;
  try { doc = parseYaml(text); } catch (e) { bad(what, `parsing relabel configuration: ${errorMessage(e)}`); }
  if (doc === null || doc === undefined) return [];
  if (!Array.isArray(doc)) bad(what, "parsing relabel configuration: not a list of relabel rules");
  return doc.map((r, i) => parseRule(r, `${what} rule ${i + 1}`));
}

function parseRule(r: unknown, what: string): RelabelConfig {
  if (typeof r !== "object" || r === null || Array.isArray(r)) bad(what, "not a mapping");
  const o = r as Record<string, unknown>;
  const str = (k: string, def: string): string => {
    const v = o[k];
    if (v === undefined || v === null) return def;
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return bad(what, `${k} is not a string`);
  };
  const actionRaw = str("action", "replace");
  const action = actionRaw.toLowerCase();
  if (!ALL_ACTIONS.includes(action)) bad(what, `unknown relabel action "${actionRaw}"`);
  if (!SUPPORTED.has(action)) bad(what, `unsupported relabel action: ${action}`);
  let sourceLabels: string[] = [];
  if (o.source_labels !== undefined && o.source_labels !== null) {
    if (!Array.isArray(o.source_labels)) bad(what, "source_labels is not a list");
    sourceLabels = o.source_labels.map((s) => {
      if (typeof s !== "string") bad(what, `source label ${JSON.stringify(s)} is not a string`);
      return s;
    });
  }
  let modulus = 0n;
  if (o.modulus !== undefined && o.modulus !== null) {
    const m = o.modulus;
    if (typeof m !== "number" || !Number.isSafeInteger(m) || m < 0) bad(what, `modulus ${JSON.stringify(m)} is not an unsigned integer`);
    modulus = BigInt(m);
  }
  const targetLabel = str("target_label", "");
  if (action === "hashmod") {
    if (modulus === 0n) bad(what, "relabel configuration for hashmod requires non-zero modulus");
    if (targetLabel === "") bad(what, "relabel configuration for hashmod action requires 'target_label' value");
    if (!LABEL_NAME.test(targetLabel)) bad(what, `"${targetLabel}" is invalid 'target_label' for hashmod action`);
  }
  const regex = o.regex === undefined ? "(.*)" : str("regex", "");
  let re: RE2JS;
  try { re = RE2JS.compile("^(?s:" + regex + ")$"); } catch (e) { return bad(what, `regex ${JSON.stringify(regex)}: ${errorMessage(e)}`); }
  return { sourceLabels, separator: str("separator", ";"), regex, modulus, targetLabel, action: action as RelabelAction, re };
}

/** Prometheus' hashmod: the last 8 bytes of md5(value) as a big-endian uint64, modulo `modulus`. */
export function hashmod(value: string, modulus: bigint): bigint {
  const h = md5(new TextEncoder().encode(value));
  let x = 0n;
  for (let i = 8; i < 16; i++) x = (x << 8n) | BigInt(h[i]!);
  return x % modulus;
}

/**
 * Apply the rules to a label set (name -> value, modified in place by hashmod). Returns false when a rule
 * drops it.
 */
export function relabelKeep(labels: Map<string, string>, rules: readonly RelabelConfig[]): boolean {
  for (const r of rules) {
    const val = r.sourceLabels.map((n) => labels.get(n) ?? "").join(r.separator);
    switch (r.action) {
      case "keep": if (!r.re.test(val)) return false; break;
      case "drop": if (r.re.test(val)) return false; break;
      case "hashmod": labels.set(r.targetLabel, hashmod(val, r.modulus).toString()); break;
    }
  }
  return true;
}
