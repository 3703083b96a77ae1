// Random templates from a grammar of what rule files write (and a good share of what they should
// not), for differential testing against Go: seeded, so a failing case reproduces by its id.
import { DEFAULT_LABELS, type TemplateCase } from "./corpus.ts";

class Rng {
  constructor(private s: number) {}
  next(): number {
    // mulberry32
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// Argument kinds steer most arguments to the right type, so most templates get past type checks.
type ArgKind = "num" | "str" | "any" | "coll" | "key" | "int" | "fmt" | "result" | "sample" | "query" | "cmp";
const FUNCS: [name: string, args: ArgKind[], variadic?: ArgKind][] = [
  ["humanize", ["num"]], ["humanize1024", ["num"]], ["humanizeDuration", ["num"]], ["humanizePercentage", ["num"]],
  ["humanizeTimestamp", ["num"]], ["toUpper", ["str"]], ["toLower", ["str"]], ["title", ["str"]], ["stripPort", ["str"]],
  ["stripDomain", ["str"]], ["graphLink", ["str"]], ["tableLink", ["str"]], ["safeHtml", ["str"]], ["toTime", ["num"]],
  ["parseDuration", ["str"]], ["reReplaceAll", ["str", "str", "str"]], ["match", ["str", "str"]], ["args", [], "any"],
  ["len", ["coll"]], ["index", ["coll", "key"]], ["slice", ["coll", "int"], "int"], ["print", [], "any"],
  ["printf", ["fmt"], "any"], ["println", [], "any"], ["html", ["any"], "any"], ["js", ["any"]], ["urlquery", ["any"]],
  ["eq", ["cmp", "cmp"], "cmp"], ["ne", ["cmp", "cmp"]], ["lt", ["cmp", "cmp"]], ["le", ["cmp", "cmp"]],
  ["gt", ["cmp", "cmp"]], ["ge", ["cmp", "cmp"]], ["and", ["any"], "any"], ["or", ["any"], "any"], ["not", ["any"]],
  ["query", ["query"]], ["first", ["result"]], ["value", ["sample"]], ["label", ["key", "sample"]],
  ["strvalue", ["sample"]], ["sortByLabel", ["key", "result"]], ["pathPrefix", []], ["externalURL", []], ["call", ["any"]],
];

const STRINGS = [
  '"x"', '""', '"api-server"', '"1234.5"', '"1h30m"', '"5m"', '"abc"', '"node-1.example.com:9100"', '"%d items"',
  '"%.2f%%"', '"%s/%s"', '"%v"', '"up"', '"empty"', '"up == 0"', '"instance"', '"job"', '"(.*):(.*)"', '"$2-$1"',
  '"[a-z]+"', '"("', '"NaN"', '"-Inf"', '"1e3"', '"straße"', '"ǆ title"', '"<b>&</b>"', '"a b"', "`raw`",
  '"0x1p4"', '"1_000"', '"\\n"', '"%q %T"', '"%5.1f|%-6s|"', '"%x"', '"%[2]v %[1]v"',
];
const NUMBERS = ["0", "1", "-1", "2", "42", "1.5", "0.5", "-0.25", "1e3", "1e21", "1e-7", "0x10", "'a'", "3600", "86400.5", "1234567", "100"];
const LABEL_KEYS = [...Object.keys(DEFAULT_LABELS).filter((k) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k)), "missing", "x"];

class Gen {
  vars: string[] = ["$labels", "$externalLabels", "$externalURL", "$value"];
  rangeDepth = 0;
  defines: string[] = [];
  constructor(readonly r: Rng) {}

  operand(depth: number): string {
    const r = this.r;
    switch (r.int(12)) {
      case 0: return "$value";
      case 1: return r.chance(0.5) ? `$labels.${r.pick(LABEL_KEYS)}` : `.Labels.${r.pick(LABEL_KEYS)}`;
      case 2: return r.pick(["$labels", ".Labels", "$externalLabels", ".ExternalLabels", ".ExternalURL", "$externalURL", ".Value", "."]);
      case 3: return r.pick(STRINGS);
      case 4: return r.pick(NUMBERS);
      case 5: return r.pick(["true", "false", "nil"]);
      case 6: return r.pick(this.vars);
      case 7: return depth > 0 ? `(${this.pipeline(depth - 1)})` : "$value";
      case 8: return `$externalLabels.${r.pick(["cluster", "replica", "nope"])}`;
      case 9: return depth > 0 ? `(${this.call(depth - 1)})` : '"y"';
      case 10: return r.pick(['(query "up" | first).Labels.instance', '(query "up" | first).Value', "(toTime 1700000000).Unix", '(args 1 "b").arg1', "(1).x"]);
      default: return r.pick(['"%v"', "$value", "$labels.job"]);
    }
  }

  arg(kind: ArgKind, depth: number, cmpKind: { k?: number }): string {
    const r = this.r;
    if (r.chance(0.12)) return this.operand(depth);
    switch (kind) {
      case "num": return r.pick(["$value", ".Value", ...NUMBERS.slice(0, 12), '"1234.5"', '"1e3"', "(len $labels)"]);
      case "str": return r.pick(["$labels.job", "$labels.instance", ".Labels.unicode", "$externalURL", ...STRINGS.slice(0, 20)]);
      case "coll": return r.pick(["$labels", ".ExternalLabels", 'query "up"', '"abcdef"', "$labels.instance", "(args 1 2)"]);
      case "key": return r.pick(['"job"', '"instance"', '"missing"', '"arg0"', "0", "1", "2"]);
      case "int": return r.pick(["0", "1", "2", "3", "(len $labels.job)"]);
      case "fmt": return r.pick(['"%v"', '"%s"', '"%d"', '"%.2f"', '"%5.1f|%x"', '"%q %v"', '"%T"', '"[%-6v]"', '"%v %v %v"', '"%t"', '"%e"']);
      case "result": return r.pick(['(query "up")', '(query "empty")', '(query "up" | sortByLabel "instance")']);
      case "sample": return r.pick(['(query "up" | first)', '(first (query "nan"))']);
      case "query": return r.pick(['"up"', '"up == 0"', '"empty"', '"nan"', '"timeout"', '"strval"', '"sum(rate(http_requests_total[5m]))"']);
      case "cmp": {
        const k = cmpKind.k ?? (cmpKind.k = r.int(3));
        return [["$value", "0.5", "1.5", "-1.0", "1e3"], ["$labels.job", '"api-server"', '"b"', '""'], ["1", "2", "(len $labels)", "0"]][k]![r.int(4)]!;
      }
      default: return this.operand(depth);
    }
  }

  call(depth: number, piped = false): string {
    const [name, fixed, variadic] = this.r.pick(FUNCS);
    const kinds = [...fixed];
    if (variadic !== undefined) for (let i = this.r.int(3); i > 0; i--) kinds.push(variadic);
    if (piped && kinds.length > 0) kinds.pop(); // the piped value is the last argument
    if (this.r.chance(0.04)) {
      if (this.r.chance(0.5)) kinds.push("any");
      else kinds.pop();
    }
    const cmp = {};
    return [name, ...kinds.map((k) => this.arg(k, depth, cmp))].join(" ");
  }

  command(depth: number, first: boolean): string {
    if (!first) return this.call(depth, true);
    if (this.r.chance(0.6)) return this.call(depth);
    return this.operand(depth);
  }

  pipeline(depth: number): string {
    const parts = [this.command(depth, true)];
    const more = this.r.chance(0.4) ? 1 + this.r.int(2) : 0;
    for (let i = 0; i < more; i++) parts.push(this.command(depth, false));
    return parts.join(" | ");
  }

  action(): string {
    const r = this.r;
    const l = r.chance(0.15) ? "{{- " : "{{ ";
    const rt = r.chance(0.15) ? " -}}" : " }}";
    if (r.chance(0.15)) {
      const v = `$v${this.vars.length}`;
      const decl = `${v} := ${this.pipeline(2)}`;
      this.vars.push(v);
      return l + decl + rt;
    }
    if (r.chance(0.05) && this.vars.length > 4) return `${l}${r.pick(this.vars.slice(4))} = ${this.pipeline(1)}${rt}`;
    return l + this.pipeline(2) + rt;
  }

  text(): string {
    return this.r.pick(["x", " ", "Value: ", "\n", "é ", "  ", "|", "%", "} ", "a b", "\t"]);
  }

  block(depth: number): string {
    const r = this.r;
    const items: string[] = [];
    const n = 1 + r.int(3);
    for (let i = 0; i < n; i++) {
      const k = r.int(10);
      if (depth > 0 && k === 0) items.push(this.control("if", depth));
      else if (depth > 0 && k === 1) items.push(this.control("range", depth));
      else if (depth > 0 && k === 2) items.push(this.control("with", depth));
      else if (k === 3 && this.rangeDepth > 0) items.push(r.pick(["{{ break }}", "{{ continue }}", "{{ if eq 1 1 }}{{ continue }}{{ end }}"]));
      else if (k === 4) items.push(this.text());
      else if (k === 5 && this.defines.length > 0) items.push(`{{ template "${r.pick(this.defines)}" ${this.operand(1)} }}`);
      else if (k === 6 && r.chance(0.3)) items.push("{{/* c */}}");
      else items.push(this.action());
    }
    return items.join("");
  }

  control(kind: "if" | "range" | "with", depth: number): string {
    const r = this.r;
    const mark = this.vars.length;
    // Range heads stay small: Go and we would both spend minutes on {{range 1234567}} nested twice.
    let head = kind === "range" ? r.pick(["$labels", 'query "up"', "3", "0", ".ExternalLabels", '(query "empty")', "$value", '"abc"', "(args 1 nil)", "$labels.job", "nil", "(len $labels)"]) : this.pipeline(1);
    if (kind === "range" && r.chance(0.4)) {
      const k = `$k${this.vars.length}`;
      const v = `$e${this.vars.length}`;
      head = r.chance(0.5) ? `${k}, ${v} := ${r.pick(["$labels", 'query "up"', "3", ".ExternalLabels", '(query "empty")', "$value"])}` : `${v} := ${r.pick(["$labels", 'query "up"', "2"])}`;
      this.vars.push(k, v);
    } else if (kind === "with" && r.chance(0.3)) {
      const v = `$w${this.vars.length}`;
      head = `${v} := ${head}`;
      this.vars.push(v);
    }
    if (kind === "range") this.rangeDepth++;
    let s = `{{ ${kind} ${head} }}${this.block(depth - 1)}`;
    if (kind === "range") this.rangeDepth--;
    if (r.chance(0.4)) {
      if (kind !== "range" && r.chance(0.3)) s += `{{ else ${kind} ${this.pipeline(1)} }}${this.block(depth - 1)}`;
      s += `{{ else }}${this.block(depth - 1)}`;
    }
    this.vars.length = mark;
    return s + "{{ end }}";
  }

  template(): string {
    let pre = "";
    if (this.r.chance(0.1)) {
      const name = `t${this.r.int(3)}`;
      const saved = this.vars;
      this.vars = [];
      pre = `{{ define "${name}" }}${this.r.pick(["{{ . }}", "[{{ .job }}]", "{{ printf \"%v\" . }}", "{{ len . }}"])}{{ end }}`;
      this.vars = saved;
      this.defines.push(name);
    }
    let body = pre + this.block(3);
    if (this.r.chance(0.03)) body = body.slice(0, this.r.int(body.length)); // truncated: parse errors
    return body;
  }
}

const VALUES = ["0", "1", "0.5", "-1500", "1e21", "1e-7", "NaN", "+Inf", "3600", "1234567", "0.30000000000000004", "-0", "1700000000.5"];

/** n random cases from `seed`; ids are "random seed:i". */
export function randomCases(seed: number, n: number, base: (id: string, text: string, value: string) => TemplateCase): TemplateCase[] {
  const out: TemplateCase[] = [];
  for (let i = 0; i < n; i++) {
    const r = new Rng(seed * 1000003 + i);
    const g = new Gen(r);
    out.push(base(`random ${seed}:${i}`, g.template(), r.pick(VALUES)));
  }
  return out;
}

const PRINTF_ARGS = [
  "1", "-42", "0", "255", "1.5", "-0.0", "1e21", "0.1", '"str"', '"héllo"', '""', "true", "false", "nil", "$labels", "$value",
  "(args 1)", "(toTime 1)", '(query "up" | first)', "'x'", '(safeHtml "<h>")', '(index "abc" 1)', "1i", "0x7fffffff",
  "(len $labels)", '"a\\tb"', "$externalURL",
];
// No %p: Go prints machine addresses there.
const VERBS = "vdsqxXfeEgGtcUboOTFwz%!".split("");

function randomFormat(r: Rng): string {
  let f = "";
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    if (r.chance(0.3)) f += r.pick(["|", " ", "x", "%%", "é"]);
    f += "%";
    for (const flag of ["-", "+", "#", " ", "0"]) if (r.chance(0.12)) f += flag;
    if (r.chance(0.1)) f += `[${1 + r.int(4)}]`;
    if (r.chance(0.35)) f += r.chance(0.15) ? "*" : String(r.int(12));
    if (r.chance(0.35)) f += "." + (r.chance(0.15) ? "*" : String(r.int(8)));
    if (r.chance(0.97)) f += r.pick(VERBS);
  }
  return f;
}

/** printf with random formats (flags, widths, precisions, indexes, verbs) over values of every type. */
export function randomPrintfCases(seed: number, n: number, base: (id: string, text: string, value: string) => TemplateCase): TemplateCase[] {
  const out: TemplateCase[] = [];
  for (let i = 0; i < n; i++) {
    const r = new Rng(seed * 7919 + i);
    const args: string[] = [];
    for (let k = r.int(5); k > 0; k--) args.push(r.pick(PRINTF_ARGS));
    out.push(base(`printf ${seed}:${i}`, `{{ printf ${JSON.stringify(randomFormat(r))} ${args.join(" ")} }}`, r.pick(VALUES)));
  }
  return out;
}

const MUTATION_CHARS = ["{", "}", "(", ")", "|", "$", ".", '"', "'", "`", "-", ":", "=", ",", " ", "\n", "/*", "*/", "e", "0", "é"];

/** Corpus texts with 1-3 random edits: the lexer's and parser's error paths. */
export function mutatedCases(texts: readonly string[], seed: number, n: number, base: (id: string, text: string, value: string) => TemplateCase): TemplateCase[] {
  const out: TemplateCase[] = [];
  for (let i = 0; i < n; i++) {
    const r = new Rng(seed * 104729 + i);
    // Edit code points, not UTF-16 units: a lone surrogate has no UTF-8 form to send to Go.
    let t = Array.from(r.pick(texts));
    for (let k = 1 + r.int(3); k > 0; k--) {
      const at = r.int(t.length + 1);
      switch (r.int(3)) {
        case 0: t.splice(at, 1); break;
        case 1: t.splice(at, 0, r.pick(MUTATION_CHARS)); break;
        default: if (at < t.length) t.splice(at, 0, t[at]!); break;
      }
    }
    out.push(base(`mutated ${seed}:${i}`, t.join(""), r.pick(VALUES)));
  }
  return out;
}
