// Prometheus relabelling (2.42 model/relabel): the config YAML (a list as under
// `alert_relabel_configs`, yaml.v2 strict like Prometheus' config loader, with its validation texts)
// and Process. Regexes are Go RE2 (re2js), anchored `^(?:re)$`; `$1`, `${1}`, `$name` expand as Go's
// Regexp.Expand does (`$1x` names a group "1x", so it expands to nothing, unlike JS).

import { RE2JS } from "re2js";
import { CodedError } from "../encoding/errors.ts";
import { decodeGoYaml, goSlice, goString, goStruct, type GoType } from "../encoding/goyaml.ts";
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
}

const DEFAULT_REGEX = "(.*)";
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const RELABEL_TARGET_RE = /^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$/;

interface Compiled {
  cfg: RelabelConfig;
  re: RE2JS;
}

const cache = new Map<string, RE2JS>();
function compile(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile("^(?:" + pattern + ")$");
    } catch (e) {
      throw new CodedError("bad_data", `error parsing regexp: ${(e as Error).message}`);
    }
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

function validate(c: RelabelConfig): void {
  const fail = (msg: string) => { throw new CodedError("bad_data", msg); };
  const a = c.action;
  if (c.modulus === 0 && a === "hashmod") fail("relabel configuration for hashmod requires non-zero modulus");
  if ((a === "replace" || a === "hashmod" || a === "lowercase" || a === "uppercase" || a === "keepequal" || a === "dropequal") && c.targetLabel === "") {
    fail(`relabel configuration for ${a} action requires 'target_label' value`);
  }
  if ((a === "replace" || a === "lowercase" || a === "uppercase" || a === "keepequal" || a === "dropequal") && !RELABEL_TARGET_RE.test(c.targetLabel)) {
    fail(`${JSON.stringify(c.targetLabel)} is invalid 'target_label' for ${a} action`);
  }
  if ((a === "lowercase" || a === "uppercase" || a === "keepequal" || a === "dropequal") && c.replacement !== "$1") fail(`'replacement' can not be set for ${a} action`);
  if (a === "labelmap" && !RELABEL_TARGET_RE.test(c.replacement)) fail(`${JSON.stringify(c.replacement)} is invalid 'replacement' for ${a} action`);
  if (a === "hashmod" && !LABEL_NAME_RE.test(c.targetLabel)) fail(`${JSON.stringify(c.targetLabel)} is invalid 'target_label' for ${a} action`);
  if ((a === "dropequal" || a === "keepequal") && (c.regex !== DEFAULT_REGEX || c.modulus !== 0 || c.separator !== ";" || c.replacement !== "$1")) {
    fail(`${a} action requires only 'source_labels' and \`target_label\`, and no other fields`);
  }
  if ((a === "labeldrop" || a === "labelkeep") && (c.sourceLabels !== null || c.targetLabel !== "" || c.modulus !== 0 || c.separator !== ";" || c.replacement !== "$1")) {
    fail(`${a} action requires only 'regex', and no other fields`);
  }
}

/** A config with Prometheus' defaults filled in and validated (throws CodedError "bad_data"). */
export function relabelConfig(c: Partial<Omit<RelabelConfig, "action">> & { action?: string }): RelabelConfig {
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
  };
  for (const l of cfg.sourceLabels ?? []) if (!LABEL_NAME_RE.test(l)) throw new CodedError("bad_data", `${JSON.stringify(l)} is not a valid label name`);
  compile(cfg.regex);
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

/** Parse a YAML list of relabel configs (e.g. the content of --alert.relabel-config-file). */
export function parseRelabelConfigs(text: string): RelabelConfig[] {
  const r = decodeGoYaml(text, goSlice(relabelConfigType), { version: 2, strict: true });
  if (r.error !== null) throw new CodedError("bad_data", r.error);
  const list = (r.value as Record<string, unknown>[] | null) ?? [];
  return list.map(relabelConfigFromDecoded);
}

/** One decoded relabelConfigType value, defaulted and validated. */
export function relabelConfigFromDecoded(o: Record<string, unknown> | null | undefined): RelabelConfig {
  if (o === null || o === undefined) throw new CodedError("bad_data", "empty relabel configuration");
  if ("action" in o && o.action === "") throw new CodedError("bad_data", "relabel action cannot be empty");
  return relabelConfig({
    sourceLabels: "source_labels" in o ? (o.source_labels as string[]) : undefined,
    separator: "separator" in o ? (o.separator as string) : undefined,
    regex: "regex" in o ? (o.regex as string) : undefined,
    modulus: "modulus" in o ? (o.modulus as number) : undefined,
    targetLabel: "target_label" in o ? (o.target_label as string) : undefined,
    replacement: "replacement" in o ? (o.replacement as string) : undefined,
    action: "action" in o ? (o.action as string) : undefined,
  });
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

/** md5 of the UTF-8 bytes of s (for hashmod). */
function md5(s: string): Uint8Array {
  const msg = new TextEncoder().encode(s);
  const n = (((msg.length + 8) >>> 6) + 1) * 16;
  const w = new Uint32Array(n);
  for (let i = 0; i < msg.length; i++) w[i >> 2]! |= msg[i]! << ((i % 4) * 8);
  w[msg.length >> 2]! |= 0x80 << ((msg.length % 4) * 8);
  const bits = msg.length * 8;
  w[n - 2] = bits >>> 0;
  w[n - 1] = Math.floor(bits / 2 ** 32);
  const K = new Uint32Array(64);
  for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0;
  const S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  for (let off = 0; off < n; off += 16) {
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
      else { f = c ^ (b | ~d); g = (7 * i) % 16; }
      const tmp = d;
      d = c;
      c = b;
      const x = (a + f + K[i]! + w[off + g]!) >>> 0;
      const sh = S[(i >> 4) * 4 + (i % 4)]!;
      b = (b + ((x << sh) | (x >>> (32 - sh)))) >>> 0;
      a = tmp;
    }
    a0 = (a0 + a) >>> 0; b0 = (b0 + b) >>> 0; c0 = (c0 + c) >>> 0; d0 = (d0 + d) >>> 0;
  }
  const out = new Uint8Array(16);
  [a0, b0, c0, d0].forEach((v, i) => { for (let j = 0; j < 4; j++) out[i * 4 + j] = (v >>> (8 * j)) & 0xff; });
  return out;
}

/** relabel.Process: the relabelled set, or null when dropped. */
export function relabel(lset: Labels, cfgs: readonly RelabelConfig[]): Labels | null {
  let cur = lset;
  for (const cfg of cfgs) {
    const r = relabelOne(cur, { cfg, re: compile(cfg.regex) });
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
    case "hashmod": {
      const h = md5(val);
      let s = 0n;
      for (let i = 8; i < 16; i++) s = (s << 8n) | BigInt(h[i]!);
      set(cfg.targetLabel, String(s % BigInt(cfg.modulus)));
      break;
    }
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
