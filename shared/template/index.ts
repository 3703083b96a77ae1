// Prometheus alert and recording-rule templates: Go text/template semantics and Prometheus 2.42's
// template functions, in pure TypeScript, checked against Go itself (test/integration/template-go.test.ts
// runs a corpus through Prometheus' own template package and requires identical output).
//
// Interface (what the ruler uses):
//
//   expandTemplate(name, text, data, opts): Promise<string>
//     Behaves as rules/alerting.go's `expand` closure: `text` is prefixed with
//     {{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}
//     and expanded with data {Labels, ExternalLabels, ExternalURL, Value}; any error becomes the text
//     `<error expanding template: error parsing|executing template <name>: ...>`, as Prometheus shows it.
//     Pass name = "__alert_" + alertname to get Prometheus' error texts. Never throws.
//     opts.timestampMs   the evaluation time (the `query` function's time)
//     opts.query         async (q, tMs) => samples, for the `query` function (the ruler's querier);
//                        without it `query` fails as a nil QueryFunc does in Go
//     opts.externalURL   the URL for `externalURL`/`pathPrefix` (Prometheus' --web.external-url);
//                        absent: both fail as in Thanos, which passes a nil *url.URL
//     opts.pathPrefix    overrides the path `pathPrefix` returns
//
//   AlertTemplate.compile(name, text) -> parse once (cached by text), then .expand(data, opts) many
//   times; .expandSync(data, opts) returns the text, or null when the template calls `query` (which
//   needs the async path). Parsing costs tens of microseconds; an expansion of a typical annotation a
//   few microseconds (bench/template.ts). .parseError is the text rulefmt's template check reports
//   (promtool check rules prints it as `label "k": <parseError>` / `annotation "k": <parseError>`).
//   AlertTemplate.compileRaw parses without the prefix.
//
// Design. shared/template is a port of Go's text/template (lex.ts, parse.ts, exec.ts, builtins.ts),
// Go's fmt and strconv formatting (fmt.ts, strconv.ts), time formatting (gotime.ts) and case mapping
// from Go's own Unicode tables (unicode.ts), over a small model of Go values (value.ts: strings,
// float64 and bools are JS primitives, other types carry their Go type so conversions and error texts
// come out as Go's). Execution is synchronous; `query` is asynchronous, so the driver runs the
// template, and when `query` needs an answer it has not fetched yet, execution stops (NeedQuery),
// the answer is awaited and the template runs again from the start with all answers so far. Templates
// without `query` (nearly all) run once with no awaiting. A query string is asked once per expansion.
//
// Go-compatibility limits:
// - Semantics are Go 1.26's text/template, fmt and regexp (the oracle's toolchain). Prometheus 2.42
//   release binaries were built with Go 1.19, which differs for rule files only in what it rejects:
//   `{{range 3}}` (range over an integer, Go 1.22), `{{else with}}` (Go 1.23) and `(?<name>re)`
//   (Go 1.22) work here and fail there; case mapping uses Go 1.26's Unicode 15 tables (1.19: 13).
// - Data is method-free apart from time.Time's Unix, UnixMilli, UnixNano, Year, Month, Day, Hour,
//   Minute, Second, Nanosecond, YearDay, Weekday, UTC, IsZero, String and Format (from `toTime`);
//   other methods give Go's "can't evaluate field X in type *time.Time".
// - Pointer addresses (printing a query result slice, %p) print as 0xc000000000, where Go prints a
//   machine address that differs on every run anyway.
// - Native histograms are not template values (2.42's Value is a float64 for float samples).
// - Nesting is bounded by the JS stack, not Go's limits: recursion through {{template}} fails with
//   Go's "exceeded maximum template depth (100000)" text after about 500 levels on Node (a few
//   thousand on Bun), and more than about 1500 nested parentheses with "max expression depth
//   exceeded" (Go: 10000). Rule templates nest a few levels.
// - Execution stops with an error after 1,000,000 template nodes or 16 MiB of output (exec.ts
//   EXEC_LIMITS): a template that loops for hours in Go would stall the ruler's event loop here.
// - A template name containing "%" garbles Go's own error text (Go formats the location as a format
//   string); we print the intended text. Alert names cannot contain "%".

import { BUILTINS } from "./builtins.ts";
import { State, type ExecEnv, type FuncMap, type GoFunc } from "./exec.ts";
import { parseTemplate, TemplateError, type TreeSet } from "./parse.ts";
import {
  ALERT_DATA_T, NeedQuery, parseExternalURL, PROMETHEUS_FUNCS, type ParsedURL, type PromFuncsOptions, type QueryAnswers,
  type QuerySample,
} from "./prometheus.ts";
import { quote } from "./strconv.ts";
import { GoMap, GoStruct, MAP_SS, NIL_DEREF, type GoValue } from "./value.ts";

export interface AlertTemplateData {
  labels: Record<string, string>;
  externalLabels: Record<string, string>;
  externalURL: string;
  /** The sample value (float64). */
  value: number;
}

export type QueryFunc = (q: string, tMs: number) => Promise<QuerySample[]>;

export interface ExpandOptions {
  timestampMs: number;
  query?: QueryFunc;
  externalURL?: string;
  pathPrefix?: string;
}

/** The convenience variables rules/alerting.go puts before every label and annotation template. */
export const ALERT_TEMPLATE_PREFIX =
  "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

const hasFunc = (name: string): boolean => PROMETHEUS_FUNCS.has(name) || BUILTINS.has(name);

type Answer = { ok: true; samples: readonly QuerySample[] } | { ok: false; error: string };
const NO_ANSWERS: QueryAnswers = { get: () => undefined };

/**
 * A template parsed once (Prometheus' Expander parses on every call; the result is the same).
 * `name` is the template name in error texts (Prometheus uses "__alert_<alertname>").
 */
export class AlertTemplate {
  private readonly env: ExecEnv | null;

  private constructor(
    readonly name: string,
    private readonly trees: TreeSet | null,
    /** The parse error text (Go's), or null. */
    readonly parseError: string | null,
  ) {
    this.env = trees === null ? null : { trees, funcs: PROMETHEUS_FUNCS as FuncMap, builtins: BUILTINS };
  }

  /** Parses ALERT_TEMPLATE_PREFIX + text. Never throws: a parse error is kept and rendered on expand. */
  static compile(name: string, text: string): AlertTemplate {
    return compileCached(name, ALERT_TEMPLATE_PREFIX + text);
  }

  /** Parses `text` as it is (no prefix), for other uses of Prometheus' template functions. */
  static compileRaw(name: string, text: string): AlertTemplate {
    return compileCached(name, text);
  }

  static create(name: string, fullText: string): AlertTemplate {
    try {
      return new AlertTemplate(name, parseTemplate(name, fullText, hasFunc), null);
    } catch (e) {
      if (e instanceof TemplateError) return new AlertTemplate(name, null, e.message);
      if (e instanceof RangeError) return new AlertTemplate(name, null, `template: ${name}:1: max expression depth exceeded`);
      throw e;
    }
  }

  /**
   * Runs the template once with the query answers known so far. Returns the output, or throws
   * TemplateError (Go's error text), or NeedQuery when `query` asks for something not in `answers`.
   */
  run(data: GoValue, opts: PromFuncsOptions): string {
    if (this.trees === null || this.env === null) throw new TemplateError(this.parseError!);
    const tree = this.trees.get(this.name);
    const st: State = new State(this.env, this.name, opts);
    if (tree === undefined || tree.root === null) st.errorf(`${quote(this.name)} is an incomplete or empty template`);
    st.push("$", data);
    st.walk(data, tree.root);
    return st.out;
  }

  /** Expands as Prometheus' alerting rule does; errors become `<error expanding template: ...>`. */
  async expand(data: AlertTemplateData, opts: ExpandOptions): Promise<string> {
    const goData = alertData(data);
    const funcURL = urlFor(opts);
    const answers = new Map<string, Answer>();
    const ctx: PromFuncsOptions = { answers: NO_ANSWERS, funcURL };
    for (;;) {
      const r = this.attempt(goData, ctx);
      if (!(r instanceof NeedQuery)) return r;
      ctx.answers = answers;
      answers.set(r.query, await ask(opts, r.query));
    }
  }

  /** expand() without awaiting: null when the template calls `query` (use expand for those). */
  expandSync(data: AlertTemplateData, opts: ExpandOptions): string | null {
    const r = this.attempt(alertData(data), { answers: NO_ANSWERS, funcURL: urlFor(opts) });
    return r instanceof NeedQuery ? null : r;
  }

  private attempt(data: GoValue, ctx: PromFuncsOptions): string | NeedQuery {
    try {
      return this.run(data, ctx);
    } catch (e) {
      if (e instanceof NeedQuery) return e;
      return `<error expanding template: ${this.errorText(e)}>`;
    }
  }

  private errorText(e: unknown): string {
    if (this.trees === null) return `error parsing template ${this.name}: ${this.parseError}`;
    if (e instanceof TemplateError) return `error executing template ${this.name}: ${e.message}`;
    // A bug of ours: report it in the template's text rather than failing the rule.
    return `error executing template ${this.name}: internal error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function ask(opts: ExpandOptions, q: string): Promise<Answer> {
  if (opts.query === undefined) return { ok: false, error: NIL_DEREF };
  try {
    return { ok: true, samples: await opts.query(q, opts.timestampMs) };
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

function urlFor(opts: ExpandOptions): ParsedURL | null {
  if (opts.externalURL === undefined) {
    if (opts.pathPrefix === undefined) return null;
    return { path: opts.pathPrefix, string: "" };
  }
  const u = parseExternalURL(opts.externalURL);
  return opts.pathPrefix === undefined ? u : { path: opts.pathPrefix, string: u.string };
}

function alertData(d: AlertTemplateData): GoStruct {
  return new GoStruct(ALERT_DATA_T, [new GoMap(MAP_SS, d.labels), new GoMap(MAP_SS, d.externalLabels), d.externalURL, d.value]);
}

// Parsed templates by name and text: a ruler expands the same few hundred texts every interval.
const CACHE_MAX = 4096;
const cache = new Map<string, AlertTemplate>();

function compileCached(name: string, text: string): AlertTemplate {
  const key = name + "\u0000" + text;
  let t = cache.get(key);
  if (t === undefined) {
    t = AlertTemplate.create(name, text);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, t);
  }
  return t;
}

/**
 * Expands one label or annotation template exactly as Prometheus 2.42's alerting rule does
 * (see the header of this file). Never throws.
 */
export function expandTemplate(name: string, text: string, data: AlertTemplateData, opts: ExpandOptions): Promise<string> {
  return AlertTemplate.compile(name, text).expand(data, opts);
}

export { TemplateError, NeedQuery, BUILTINS, PROMETHEUS_FUNCS };
export type { GoFunc, QuerySample };
