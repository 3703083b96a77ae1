// Prometheus relabelling (model/relabel): the config YAML (a list as under `alert_relabel_configs`) and
// Process, in two flavours:
//
//   - Prometheus 2.42 (the default; the ruler's alert relabelling): yaml.v2 strict like Prometheus'
//     config loader, validated while parsing with its texts, legacy label names, regexes `^(?:re)$`;
//   - Prometheus 3.x (`prometheus3`, what Thanos v0.41 links; its block selectors): `.` matches a
//     newline (`^(?s:re)$`), UTF-8 label names, and with `wrapErrors` Thanos' ParseRelabelConfig
//     texts ("parsing relabel configuration: …", "validate relabel config: …").
//
// `actions` restricts the accepted actions ("unsupported relabel action: replace"), as Thanos does for
// --selector.relabel-config (keep, drop, hashmod). Regexes are Go RE2 (re2js); `$1`, `${1}`, `$name`
// expand as Go's Regexp.Expand does (`$1x` names a group "1x", so it expands to nothing, unlike JS).

import { RE2JS } from "re2js";
import { CodedError, errorMessage } from "../encoding/errors.ts";
import { decodeGoYaml, goSlice, goString, goStruct, type GoType } from "../encoding/goyaml.ts";
import { md5 } from "../encoding/md5.ts";
import { compareStrings, type Label, type Labels } from "./labels.ts";

export type RelabelAction = "replace" | "keep" | "drop" | "keepequal" | "dropequal" | "hashmod" | "labelmap" | "labeldrop" | "labelkeep" | "lowercase" | "uppercase";
const ACTIONS = new Set<string>(["replace", "keep", "drop", "keepequal", "dropequal", "hashmod", "labelmap", "labeldrop", "labelkeep", "lowercase", "uppercase"]);

export interface RelabelConfig {
  sourceLabels: string[] | null;
  separator: string;
  /** The pattern as written (unanchored). */
  regex: string;
  modulus: number;
  targetLabel: string;
  replacement: string;
  action: RelabelAction;
  /** Prometheus 3.x: the regex is compiled `^(?s:re)$` (`.` matches a newline). */
  dotAll?: boolean;
}

export interface RelabelParseOptions {
  /** Prometheus 3.x semantics (see the top of this file). */
  prometheus3?: boolean;
  /** yaml.v2 UnmarshalStrict (default true, Prometheus' config loader) or Unmarshal (Thanos' selectors). */
  strict?: boolean;
  /** Thanos' ParseRelabelConfig error texts (prefixes per phase). */
  wrapErrors?: boolean;
  /** Only these actions are accepted. */
  actions?: ReadonlySet<string>;
}

const DEFAULT_REGEX = "(.*)";
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RELABEL_TARGET_RE = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

interface Compiled {
  cfg: RelabelConfig;
  re: RE2JS;
}

const cache = new Map<string, RE2JS>();
function compile(pattern: string, dotAll = false): RE2JS {
  const key = (dotAll ? "s:" : ":") + pattern;
  let re = cache.get(key);
  if (re === undefined) {
    try {
      re = RE2JS.compile((dotAll ? "^(?s:" : "^(?:") + pattern + ")$");
    } catch (e) {
      throw new CodedError("bad_data", `error parsing regexp: ${(e as Error).message}`);
    }
    if (cache.size > 1000) cache.clear();
    cache.set(key, re);
  }
  return re;
}

/** A label name as the config's flavour validates it: legacy ([a-zA-Z_][a-zA-Z0-9_]*) or UTF-8 (non-empty). */
function validName(s: string, utf8: boolean): boolean {
  return utf8 ? s.length > 0 : LABEL_NAME_RE.test(s);
}

function validate(c: RelabelConfig): void {
  const fail = (msg: string) => { throw new CodedError("bad_data", msg); };
  const a = c.action, utf8 = c.dotAll === true;
  if (c.modulus === 0 && a === "hashmod") fail("relabel configuration for hashmod requires non-zero modulus");
  if ((a === "replace" || a === "hashmod" || a === "lowercase" || a === "uppercase" || a === "keepequal" || a === "dropequal") && c.targetLabel === "") {
    fail(`relabel configuration for ${a} action requires 'target_label' value`);
  }
  // A target with $-templates: legacy names plus `$1`/`${name}`; UTF-8 names allow anything non-empty.
  const target = (s: string) => (utf8 ? s.length > 0 : RELABEL_TARGET_RE.test(s));
  if ((a === "replace" || a === "lowercase" || a === "uppercase" || a === "keepequal" || a === "dropequal") && !target(c.targetLabel)) {
    fail(`${JSON.stringify(c.targetLabel)} is invalid 'target_label' for ${a} action`);
  }
  if ((a === "lowercase" || a === "uppercase" || a === "keepequal" || a === "dropequal") && c.replacement !== "$1") fail(`'replacement' can not be set for ${a} action`);
  if (a === "labelmap" && !target(c.replacement)) fail(`${JSON.stringify(c.replacement)} is invalid 'replacement' for ${a} action`);
  if (a === "hashmod" && !validName(c.targetLabel, utf8)) fail(`${JSON.stringify(c.targetLabel)} is invalid 'target_label' for ${a} action`);
  if ((a === "dropequal" || a === "keepequal") && (c.regex !== DEFAULT_REGEX || c.modulus !== 0 || c.separator !== ";" || c.replacement !== "$1")) {
    fail(`${a} action requires only 'source_labels' and \`target_label\`, and no other fields`);
  }
  if ((a === "labeldrop" || a === "labelkeep") && (c.sourceLabels !== null || c.targetLabel !== "" || c.modulus !== 0 || c.separator !== ";" || c.replacement !== "$1")) {
    fail(`${a} action requires only 'regex', and no other fields`);
  }
}

type PartialConfig = Partial<Omit<RelabelConfig, "action">> & { action?: string };

/** Defaults filled in, action and source label names checked, the regex compiled (CodedError "bad_data"). */
function withDefaults(c: PartialConfig): RelabelConfig {
  const action = (c.action ?? "replace").toLowerCase();
  if (!ACTIONS.has(action)) throw new CodedError("bad_data", `unknown relabel action ${JSON.stringify(c.action)}`);
  const cfg: RelabelConfig = {
    sourceLabels: c.sourceLabels ?? null,
    separator: c.separator ?? ";",
    regex: c.regex ?? DEFAULT_REGEX,
    modulus: c.modulus ?? 0,
    targetLabel: c.targetLabel ?? "",
    replacement: c.replacement ?? "$1",
    action: action as RelabelAction,
    ...(c.dotAll ? { dotAll: true } : {}),
  };
  for (const l of cfg.sourceLabels ?? []) if (!validName(l, cfg.dotAll === true)) throw new CodedError("bad_data", `${JSON.stringify(l)} is not a valid label name`);
  compile(cfg.regex, cfg.dotAll);
  return cfg;
}

/** A config with Prometheus' defaults filled in and validated (throws CodedError "bad_data"). */
export function relabelConfig(c: PartialConfig): RelabelConfig {
  const cfg = withDefaults(c);
  validate(cfg);
  return cfg;
}

/** relabel.Config as the Go YAML decoder sees it (for configs that embed relabel lists). */
export const relabelConfigType: GoType = goStruct("relabel.Config", {
  source_labels: goSlice(goString),
  separator: goString,
  regex: goString,
  modulus: { kind: "int" },
  target_label: goString,
  replacement: goString,
  action: goString,
});

/**
 * Parse a YAML list of relabel configs (e.g. the content of --alert.relabel-config-file, or of
 * --selector.relabel-config with Thanos' options). Empty text is no configs.
 */
export function parseRelabelConfigs(text: string, o: RelabelParseOptions = {}): RelabelConfig[] {
  const wrap = (phase: string, f: () => RelabelConfig[]): RelabelConfig[] => {
    if (!o.wrapErrors) return f();
    try { return f(); } catch (e) { throw new CodedError("bad_data", `${phase}: ${errorMessage(e)}`); }
  };
  const parsed = wrap("parsing relabel configuration", () => {
    const r = decodeGoYaml(text, goSlice(relabelConfigType), { version: 2, strict: o.strict ?? true });
    if (r.error !== null) throw new CodedError("bad_data", r.error);
    const list = (r.value as Record<string, unknown>[] | null) ?? [];
    return list.map((x) => {
      if (x === null || x === undefined) throw new CodedError("bad_data", "empty relabel configuration");
      // 2.42's Validate rejects an empty action; 3.x's Action.UnmarshalYAML already does.
      if ("action" in x && x.action === "") throw new CodedError("bad_data", o.prometheus3 ? `unknown relabel action ""` : "relabel action cannot be empty");
      // Prometheus 2.42 validates each config as it is unmarshalled; 3.x after the whole list.
      return (o.wrapErrors ? withDefaults : relabelConfig)({ ...fromYaml(x), dotAll: o.prometheus3 });
    });
  });
  if (o.wrapErrors) wrap("validate relabel config", () => { parsed.forEach(validate); return parsed; });
  if (o.actions) {
    for (const c of parsed) if (!o.actions.has(c.action)) throw new CodedError("bad_data", `unsupported relabel action: ${c.action}`);
  }
  return parsed;
}

/** One relabelConfigType value decoded inside another config (e.g. remote_write's write_relabel_configs), Prometheus 2.42 rules. */
export function relabelConfigFromDecoded(o: Record<string, unknown> | null | undefined): RelabelConfig {
  if (o === null || o === undefined) throw new CodedError("bad_data", "empty relabel configuration");
  if ("action" in o && o.action === "") throw new CodedError("bad_data", "relabel action cannot be empty");
  return relabelConfig(fromYaml(o));
}

/** The fields of one decoded relabelConfigType value, each absent where the YAML left it out. */
function fromYaml(x: Record<string, unknown>): PartialConfig {
  return {
    sourceLabels: "source_labels" in x ? (x.source_labels as string[]) : undefined,
    separator: "separator" in x ? (x.separator as string) : undefined,
    regex: "regex" in x ? (x.regex as string) : undefined,
    modulus: "modulus" in x ? (x.modulus as number) : undefined,
    targetLabel: "target_label" in x ? (x.target_label as string) : undefined,
    replacement: "replacement" in x ? (x.replacement as string) : undefined,
    action: "action" in x ? (x.action as string) : undefined,
  };
}

function getLabel(ls: Labels, name: string): string {
  for (const l of ls) if (l.name === name) return l.value;
  return "";
}

/** Go's Regexp.ExpandString for a whole-string match: `$$`, `$1`, `${1}`, `$name`, `${name}`. */
export function expandTemplate(template: string, groups: (string | null)[], named: Record<string, number>): string {
  let out = "";
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== "$") { out += c; continue; }
    if (template[i + 1] === "$") { out += "$"; i++; continue; }
    let name: string | null = null, end = i + 1;
    if (template[i + 1] === "{") {
      const close = template.indexOf("}", i + 2);
      const inner = close < 0 ? "" : template.slice(i + 2, close);
      if (close >= 0 && /^\w+$/.test(inner)) { name = inner; end = close + 1; }
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (m) { name = m[0]; end = i + 1 + m[0].length; }
    }
    if (name === null) { out += "$"; continue; }
    let idx = -1;
    if (/^[0-9]+$/.test(name)) {
      const n = Number(name);
      if (n < groups.length) idx = n;
    } else if (name in named) idx = named[name]!;
    if (idx >= 0) out += groups[idx] ?? "";
    i = end - 1;
  }
  return out;
}

function groupsOf(re: RE2JS, s: string): (string | null)[] | null {
  const m = re.matcher(s);
  if (!m.matches()) return null;
  const out: (string | null)[] = [];
  for (let i = 0; i <= re.groupCount(); i++) out.push(m.group(i));
  return out;
}

/** relabel.Process: the relabelled set, or null when dropped. */
export function relabel(lset: Labels, cfgs: readonly RelabelConfig[]): Labels | null {
  let cur = lset;
  for (const cfg of cfgs) {
    const r = relabelOne(cur, { cfg, re: compile(cfg.regex, cfg.dotAll) });
    if (r === null) return null;
    cur = r;
  }
  return cur;
}

function relabelOne(lset: Labels, { cfg, re }: Compiled): Labels | null {
  const val = (cfg.sourceLabels ?? []).map((n) => getLabel(lset, n)).join(cfg.separator);
  const lb = new Map<string, string>();
  for (const l of lset) lb.set(l.name, l.value);
  const set = (n: string, v: string) => { if (v === "") lb.delete(n); else lb.set(n, v); };
  switch (cfg.action) {
    case "drop": if (re.matches(val)) return null; break;
    case "keep": if (!re.matches(val)) return null; break;
    case "dropequal": if (getLabel(lset, cfg.targetLabel) === val) return null; break;
    case "keepequal": if (getLabel(lset, cfg.targetLabel) !== val) return null; break;
    case "replace": {
      const g = groupsOf(re, val);
      if (g === null) break;
      const named = re.namedGroups();
      const target = expandTemplate(cfg.targetLabel, g, named);
      if (!LABEL_NAME_RE.test(target)) { lb.delete(cfg.targetLabel); break; }
      const res = expandTemplate(cfg.replacement, g, named);
      if (res.length === 0) { lb.delete(cfg.targetLabel); break; }
      set(target, res);
      break;
    }
    case "lowercase": set(cfg.targetLabel, val.toLowerCase()); break;
    case "uppercase": set(cfg.targetLabel, val.toUpperCase()); break;
    case "hashmod": set(cfg.targetLabel, String(hashmod(val, cfg.modulus))); break;
    case "labelmap":
      for (const l of lset) {
        const g = groupsOf(re, l.name);
        if (g !== null) set(expandTemplate(cfg.replacement, g, re.namedGroups()), l.value);
      }
      break;
    case "labeldrop": for (const l of lset) if (re.matches(l.name)) lb.delete(l.name); break;
    case "labelkeep": for (const l of lset) if (!re.matches(l.name)) lb.delete(l.name); break;
  }
  const out: Label[] = [...lb].map(([name, value]) => ({ name, value }));
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

/** Prometheus' hashmod: the last 8 bytes of md5(value) as a big-endian uint64, modulo `modulus`. */
export function hashmod(value: string, modulus: number | bigint): bigint {
  const h = md5(new TextEncoder().encode(value));
  let x = 0n;
  for (let i = 8; i < 16; i++) x = (x << 8n) | BigInt(h[i]!);
  return x % BigInt(modulus);
}
