// Decoding YAML into typed values the way Go's gopkg.in/yaml.v2 and yaml.v3 do, so that files read
// by Prometheus (rule files: yaml.v3 with KnownFields; promtool unit-test files: yaml.v2
// UnmarshalStrict) are accepted and rejected alike, with the same error text:
//
//   yaml: unmarshal errors:
//     line 3: cannot unmarshal !!str `abc` into int
//     line 8: field annotation not found in type rulefmt.RuleNode
//
// The `yaml` package parses (failsafe schema: every scalar stays a string with its style); this file
// then resolves plain scalars with Go's rules (yaml.v2: YAML 1.1 booleans like `yes`; both: `0x10`
// is an int, but a string field receives the scalar's text `0x10`), walks the Go type description and
// collects type errors in document order like the Go decoder (decode.go: terror, mappingStruct,
// sequence). A custom unmarshaler's own error (model.Duration: `not a valid duration string: "5"`)
// aborts decoding and is returned as is, as Go's fail() does.
//
// YAML syntax errors come from a different parser than libyaml, so their text is an approximation
// (`yaml: line N: <what>`): the verdict is the same, the wording may differ.

import YAML from "yaml";
import type { Alias, Document, Node as YNode, Pair, Scalar, YAMLMap, YAMLSeq } from "yaml";

/** A Go type as the decoder sees it; `name` is Go's reflect Type.String() used in messages. */
export type GoType =
  | { kind: "struct"; name: string; fields: Record<string, GoType> }
  | { kind: "string" }
  | { kind: "int" }
  | { kind: "float64" }
  | { kind: "bool" }
  | { kind: "slice"; elem: GoType }
  | { kind: "map"; elem: GoType }
  /** yaml.Node (v3): the raw node with its position. */
  | { kind: "node" }
  /**
   * A type with UnmarshalYAML that decodes `as` then converts (model.Duration: as string, then
   * ParseDuration). A thrown Error's message aborts decoding (Go's fail()).
   */
  | { kind: "custom"; name: string; as: GoType; convert: (v: unknown) => unknown; zero: unknown };

export const goString: GoType = { kind: "string" };
export const goInt: GoType = { kind: "int" };
export const goFloat: GoType = { kind: "float64" };
export const goBool: GoType = { kind: "bool" };
export const goNode: GoType = { kind: "node" };
export function goSlice(elem: GoType): GoType { return { kind: "slice", elem }; }
export function goMap(elem: GoType): GoType { return { kind: "map", elem }; }
export function goStruct(name: string, fields: Record<string, GoType>): GoType { return { kind: "struct", name, fields }; }

/** What a `node` field holds: yaml.v3 Node's Kind, Value (scalars only), Line and Column (1-based). */
export interface RawNode {
  kind: "scalar" | "map" | "seq" | "null";
  value: string;
  line: number;
  column: number;
}

/** The zero yaml.Node (field absent): Go prints its position as 0:0. */
export const ZERO_NODE: RawNode = Object.freeze({ kind: "null", value: "", line: 0, column: 0 }) as RawNode;

export interface DecodeOptions {
  /** 2 = gopkg.in/yaml.v2, 3 = gopkg.in/yaml.v3. */
  version: 2 | 3;
  /** yaml.v3 KnownFields(true) / yaml.v2 UnmarshalStrict: unknown struct fields are errors. */
  strict: boolean;
}

export interface DecodeResult {
  /** Structs decode to plain objects holding the fields present; maps to Map (document order). */
  value: unknown;
  /** Go's error text, or null. Type errors do not stop decoding (value is partly filled). */
  error: string | null;
  /** True when the document is empty (yaml.v3 Decoder.Decode returns io.EOF: callers ignore it). */
  empty: boolean;
}

class Fail {
  constructor(readonly message: string) {}
}

type Tag = "!!null" | "!!bool" | "!!int" | "!!float" | "!!str" | "!!map" | "!!seq" | "!!timestamp" | "!!binary" | "!!merge";

interface Resolved { tag: Tag; value: unknown }

const YAML11_TRUE = new Set(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"]);
const YAML11_FALSE = new Set(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"]);
const YAML12_TRUE = new Set(["true", "True", "TRUE"]);
const YAML12_FALSE = new Set(["false", "False", "FALSE"]);
const NULLS = new Set(["", "~", "null", "Null", "NULL"]);
const FLOAT_RE = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const TIMESTAMP_RE = /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?$/;

/** Go strconv.ParseInt(s, 0, 64) (prefixes 0x, 0o, 0b, a leading 0 for octal; `_` only after a prefix). */
function goParseInt(s: string): number | null {
  let t = s, neg = false;
  if (t.startsWith("+") || t.startsWith("-")) { neg = t[0] === "-"; t = t.slice(1); }
  let base = 10;
  if (/^0[xX]/.test(t)) { base = 16; t = t.slice(2); } else if (/^0[oO]/.test(t)) { base = 8; t = t.slice(2); } else if (/^0[bB]/.test(t)) { base = 2; t = t.slice(2); } else if (t.length > 1 && t[0] === "0") { base = 8; t = t.slice(1); }
  const digits = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!digits.test(t)) return null;
  const big = BigInt((base === 16 ? "0x" : base === 8 ? "0o" : base === 2 ? "0b" : "") + t);
  const v = neg ? -big : big;
  if (v > 9223372036854775807n || v < -9223372036854775808n) return null;
  return Number(v);
}

/** yaml.v2/v3 resolve() for an untagged plain scalar. */
function resolvePlain(s: string, version: 2 | 3): Resolved {
  if (NULLS.has(s)) return { tag: "!!null", value: null };
  if ((version === 2 ? YAML11_TRUE : YAML12_TRUE).has(s)) return { tag: "!!bool", value: true };
  if ((version === 2 ? YAML11_FALSE : YAML12_FALSE).has(s)) return { tag: "!!bool", value: false };
  switch (s) {
    case ".nan": case ".NaN": case ".NAN": return { tag: "!!float", value: NaN };
    case ".inf": case ".Inf": case ".INF": case "+.inf": case "+.Inf": case "+.INF": return { tag: "!!float", value: Infinity };
    case "-.inf": case "-.Inf": case "-.INF": return { tag: "!!float", value: -Infinity };
    case "<<": return { tag: "!!merge", value: "<<" };
  }
  const c = s[0]!;
  if (c === "." ) {
    const f = Number(s);
    if (FLOAT_RE.test(s) && !Number.isNaN(f)) return { tag: "!!float", value: f };
    return { tag: "!!str", value: s };
  }
  if (c === "+" || c === "-" || (c >= "0" && c <= "9")) {
    if (TIMESTAMP_RE.test(s)) return { tag: "!!timestamp", value: s };
    const plain = s.replace(/_/g, "");
    const i = goParseInt(plain);
    if (i !== null) return { tag: "!!int", value: i };
    if (FLOAT_RE.test(plain)) return { tag: "!!float", value: Number(plain) };
    if (/^-?0b[01]+$/.test(plain)) return { tag: "!!int", value: Number.parseInt(plain.replace("0b", ""), 2) };
    if (version === 3 && /^-?0o[0-7]+$/.test(plain)) return { tag: "!!int", value: Number.parseInt(plain.replace("0o", ""), 8) };
  }
  return { tag: "!!str", value: s };
}

function typeName(t: GoType): string {
  switch (t.kind) {
    case "struct": case "custom": return t.name;
    case "string": return "string";
    case "int": return "int";
    case "float64": return "float64";
    case "bool": return "bool";
    case "slice": return "[]" + typeName(t.elem);
    case "map": return "map[string]" + typeName(t.elem);
    case "node": return "yaml.Node";
  }
}

/** Go %#v of a string (strconv.Quote for printable text). */
function goQuoteSimple(s: string): string {
  return JSON.stringify(s);
}

class Decoder {
  readonly terrors: string[] = [];
  constructor(private readonly doc: Document, private readonly lc: YAML.LineCounter, private readonly opts: DecodeOptions) {}

  line(n: YNode | Pair["key"] | null | undefined): number {
    const r = (n as { range?: [number, number, number] } | null)?.range;
    return r ? this.lc.linePos(r[0]).line : 0;
  }

  pos(n: YNode): { line: number; column: number } {
    const r = (n as { range?: [number, number, number] }).range;
    if (!r) return { line: 0, column: 0 };
    const p = this.lc.linePos(r[0]);
    return { line: p.line, column: p.col };
  }

  deref(n: YNode): YNode {
    let cur: YNode = n;
    for (let i = 0; i < 100 && YAML.isAlias(cur); i++) {
      const t = (cur as Alias).resolve(this.doc);
      if (!t) throw new Fail(`yaml: unknown anchor '${(cur as Alias).source}' referenced`);
      cur = t as YNode;
    }
    return cur;
  }

  /** The tag and value of a scalar as Go resolves it (quoted, block and !!str scalars are strings). */
  scalarOf(n: Scalar): Resolved {
    const text = n.value === null || n.value === undefined ? "" : String(n.value);
    const explicit = n.tag && n.tag !== "!" ? n.tag.replace(/^tag:yaml.org,2002:/, "!!") : "";
    if (explicit === "!!str" || (explicit === "" && n.type !== undefined && n.type !== "PLAIN")) return { tag: "!!str", value: text };
    const r = resolvePlain(text, this.opts.version);
    if (explicit === "!!float" && r.tag === "!!int") return { tag: "!!float", value: r.value };
    if (explicit !== "" && explicit !== r.tag && explicit !== "!!binary") {
      throw new Fail(`yaml: cannot decode ${r.tag} \`${text}\` as a ${explicit}`);
    }
    return r;
  }

  isNull(n: YNode): boolean {
    return YAML.isScalar(n) && this.scalarOf(n as Scalar).tag === "!!null";
  }

  terror(n: YNode, tag: string, t: GoType): void {
    let value = "";
    if (tag !== "!!seq" && tag !== "!!map") {
      const s = YAML.isScalar(n) ? String((n as Scalar).value ?? "") : "";
      value = s.length > 10 ? " `" + s.slice(0, 7) + "...`" : " `" + s + "`";
    }
    this.terrors.push(`line ${this.line(n)}: cannot unmarshal ${tag}${value} into ${typeName(t)}`);
  }

  /** Go's d.unmarshal: returns whether the value was good (bad sequence elements are dropped). */
  decode(n: YNode, t: GoType): { ok: boolean; value: unknown } {
    if (t.kind === "node") return { ok: true, value: this.raw(n) };
    n = this.deref(n);
    // A null decodes to the zero value; yaml.v3 reports it as not good for scalars and structs, so a
    // null sequence element is dropped (`rules: [~]` has no rules), while yaml.v2 keeps it.
    if (this.isNull(n)) return { ok: this.opts.version === 2 || t.kind === "map" || t.kind === "slice", value: zero(t) };
    if (t.kind === "custom") {
      const before = this.terrors.length;
      const inner = this.decode(n, t.as);
      if (this.terrors.length > before) return { ok: false, value: zero(t) };
      try {
        return { ok: true, value: t.convert(inner.value) };
      } catch (e) {
        throw new Fail((e as Error).message);
      }
    }
    if (YAML.isMap(n)) return this.mapping(n as YAMLMap, t);
    if (YAML.isSeq(n)) return this.sequence(n as YAMLSeq, t);
    if (YAML.isScalar(n)) return this.scalar(n as Scalar, t);
    throw new Fail("yaml: cannot decode node");
  }

  raw(n: YNode): RawNode {
    const p = this.pos(n);
    const d = this.deref(n);
    if (YAML.isMap(d)) return { kind: "map", value: "", ...p };
    if (YAML.isSeq(d)) return { kind: "seq", value: "", ...p };
    if (YAML.isScalar(d)) {
      const r = this.scalarOf(d as Scalar);
      const text = (d as Scalar).value === null || (d as Scalar).value === undefined ? "" : String((d as Scalar).value);
      return { kind: r.tag === "!!null" ? "null" : "scalar", value: text, ...p };
    }
    return { kind: "null", value: "", ...p };
  }

  scalar(n: Scalar, t: GoType): { ok: boolean; value: unknown } {
    const r = this.scalarOf(n);
    const text = n.value === null || n.value === undefined ? "" : String(n.value);
    switch (t.kind) {
      case "string": return { ok: true, value: text };
      case "int":
        if (r.tag === "!!int") return { ok: true, value: r.value };
        if (r.tag === "!!float" && Number.isFinite(r.value as number)) return { ok: true, value: Math.trunc(r.value as number) };
        break;
      case "float64":
        if (r.tag === "!!int" || r.tag === "!!float") return { ok: true, value: r.value };
        break;
      case "bool":
        if (r.tag === "!!bool") return { ok: true, value: r.value };
        if (this.opts.version === 3 && r.tag === "!!str") {
          if (YAML11_TRUE.has(text)) return { ok: true, value: true };
          if (YAML11_FALSE.has(text)) return { ok: true, value: false };
        }
        break;
    }
    this.terror(n, r.tag, t);
    return { ok: false, value: zero(t) };
  }

  sequence(n: YAMLSeq, t: GoType): { ok: boolean; value: unknown } {
    if (t.kind !== "slice") {
      this.terror(n, "!!seq", t);
      return { ok: false, value: zero(t) };
    }
    const out: unknown[] = [];
    for (const item of n.items) {
      const r = this.decode(item as YNode, t.elem);
      if (r.ok) out.push(r.value);
    }
    return { ok: true, value: out };
  }

  private keyText(k: YNode): string {
    const d = this.deref(k);
    if (YAML.isScalar(d)) return String((d as Scalar).value ?? "");
    return "";
  }

  mapping(n: YAMLMap, t: GoType): { ok: boolean; value: unknown } {
    const pairs = n.items as Pair<YNode, YNode>[];
    if (this.opts.version === 3) {
      // yaml.v3 always rejects repeated keys (uniqueKeys), before looking at the target type.
      const before = this.terrors.length;
      for (let i = 0; i < pairs.length; i++) {
        const ki = pairs[i]!.key;
        if (!ki || !YAML.isScalar(ki)) continue;
        for (let j = i + 1; j < pairs.length; j++) {
          const kj = pairs[j]!.key;
          if (kj && YAML.isScalar(kj) && this.keyText(ki) === this.keyText(kj)) {
            this.terrors.push(`line ${this.line(kj)}: mapping key ${goQuoteSimple(this.keyText(kj))} already defined at line ${this.line(ki)}`);
          }
        }
      }
      if (this.terrors.length > before) return { ok: false, value: zero(t) };
    }
    if (t.kind === "struct") return this.mappingStruct(pairs, t);
    if (t.kind !== "map") {
      this.terror(n, "!!map", t);
      return { ok: false, value: zero(t) };
    }
    const out = new Map<string, unknown>();
    for (const p of pairs) {
      if (p.key && this.isMerge(p.key)) {
        const m = this.decode(p.value as YNode, t);
        if (m.value instanceof Map) for (const [k, v] of m.value) if (!out.has(k)) out.set(k, v);
        continue;
      }
      const k = this.decode(p.key as YNode, goString);
      if (!k.ok) continue;
      const valueNode = (p.value ?? null) as YNode | null;
      const v = valueNode === null ? { ok: true, value: zero(t.elem) } : this.decode(valueNode, t.elem);
      if (!v.ok) continue;
      if (this.opts.version === 2 && this.opts.strict && out.has(k.value as string)) {
        this.terrors.push(`line ${valueNode ? this.line(valueNode) : this.line(p.key as YNode)}: key ${goQuoteSimple(k.value as string)} already set in map`);
        continue;
      }
      out.set(k.value as string, v.value);
    }
    return { ok: true, value: out };
  }

  private isMerge(k: YNode): boolean {
    return YAML.isScalar(k) && (k as Scalar).type === "PLAIN" && (k as Scalar).value === "<<";
  }

  mappingStruct(pairs: Pair<YNode, YNode>[], t: Extract<GoType, { kind: "struct" }>): { ok: boolean; value: unknown } {
    const out: Record<string, unknown> = {};
    const done = new Set<string>();
    for (const p of pairs) {
      if (p.key && this.isMerge(p.key)) {
        const m = this.decode(p.value as YNode, t);
        if (m.ok && m.value) for (const [k, v] of Object.entries(m.value as object)) if (!(k in out)) out[k] = v;
        continue;
      }
      const k = this.decode(p.key as YNode, goString);
      if (!k.ok) continue;
      const name = k.value as string;
      const ft = Object.prototype.hasOwnProperty.call(t.fields, name) ? t.fields[name] : undefined;
      if (ft !== undefined) {
        if (this.opts.strict || this.opts.version === 3) {
          if (done.has(name)) {
            this.terrors.push(`line ${this.line(p.key as YNode)}: field ${name} already set in type ${t.name}`);
            continue;
          }
          done.add(name);
        }
        const valueNode = (p.value ?? null) as YNode | null;
        out[name] = valueNode === null ? (ft.kind === "node" ? { ...ZERO_NODE, ...this.pos(p.key as YNode), kind: "null" } : zero(ft)) : this.decode(valueNode, ft).value;
      } else if (this.opts.strict) {
        this.terrors.push(`line ${this.line(p.key as YNode)}: field ${name} not found in type ${t.name}`);
      }
    }
    return { ok: true, value: out };
  }
}

function zero(t: GoType): unknown {
  switch (t.kind) {
    case "string": return "";
    case "int": case "float64": return 0;
    case "bool": return false;
    case "node": return ZERO_NODE;
    case "custom": return t.zero;
    default: return null;
  }
}

/** Map a parse error of the `yaml` package to the nearest libyaml wording. */
function syntaxError(e: YAML.YAMLError, lc: YAML.LineCounter): string {
  const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line;
  switch (e.code) {
    case "BLOCK_AS_IMPLICIT_KEY": return "yaml: mapping values are not allowed in this context";
    case "TAB_AS_INDENT": return "yaml: found character that cannot start any token";
    case "MISSING_CHAR": return `yaml: line ${line}: found unexpected end of stream`;
    case "BAD_INDENT": return `yaml: line ${Math.max(1, line - 1)}: did not find expected key`;
    default: return `yaml: line ${line}: ${e.message.split(" at line")[0]!.toLowerCase()}`;
  }
}

/** A parsed YAML text, to decode into several types without parsing twice (rulefmt decodes twice). */
export interface GoYamlDocument {
  readonly doc: Document | undefined;
  readonly lc: YAML.LineCounter;
  readonly syntaxError: string | null;
  readonly version: 2 | 3;
}

export function parseGoYaml(text: string, version: 2 | 3): GoYamlDocument {
  const lc = new YAML.LineCounter();
  const docs = YAML.parseAllDocuments(text, {
    version: version === 2 ? "1.1" : "1.2",
    schema: "failsafe",
    uniqueKeys: false,
    lineCounter: lc,
    prettyErrors: false,
    strict: false,
  });
  if (!Array.isArray(docs)) {
    const errs = (docs as { errors?: YAML.YAMLError[] }).errors ?? [];
    return { doc: undefined, lc, syntaxError: errs.length > 0 ? syntaxError(errs[0]!, lc) : null, version };
  }
  const doc = docs[0] as Document | undefined;
  const err = doc && doc.errors.length > 0 ? syntaxError(doc.errors[0]!, lc) : null;
  return { doc, lc, syntaxError: err, version };
}

/**
 * Decode a parsed document into `type` (the first document only, as Go's Decoder.Decode). Syntax
 * errors and a custom unmarshaler's error stop decoding (value null); type errors are collected into
 * one "yaml: unmarshal errors:" text.
 */
export function decodeGoYamlDocument(p: GoYamlDocument, type: GoType, opts: DecodeOptions): DecodeResult {
  if (p.syntaxError !== null) return { value: null, error: p.syntaxError, empty: false };
  const doc = p.doc;
  if (doc === undefined || doc.contents === null) return { value: zero(type) ?? (type.kind === "struct" ? {} : null), error: null, empty: true };
  const d = new Decoder(doc, p.lc, opts);
  try {
    const r = d.decode(doc.contents as YNode, type);
    const value = r.value ?? (type.kind === "struct" ? {} : null);
    if (d.terrors.length > 0) return { value, error: "yaml: unmarshal errors:\n  " + d.terrors.join("\n  "), empty: false };
    return { value, error: null, empty: false };
  } catch (e) {
    if (e instanceof Fail) return { value: null, error: e.message, empty: false };
    throw e;
  }
}

/** parseGoYaml + decodeGoYamlDocument. */
export function decodeGoYaml(text: string, type: GoType, opts: DecodeOptions): DecodeResult {
  return decodeGoYamlDocument(parseGoYaml(text, opts.version), type, opts);
}
