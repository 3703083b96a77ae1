// `promtool test rules` (Prometheus 2.42 cmd/promtool/unittest.go): the same test-file format
// (yaml.v2 strict), the same evaluation and the same failure text, so CI logs read the same.
//
// Evaluation, as promtool does it: input series live in an in-memory store and are loaded lazily (at
// each step, the samples up to that time); every group is evaluated at every evaluation_interval step
// from 0 to the largest eval_time (no phase offset; the groups' own intervals do not change the
// stepping), ordered by group_eval_order (groups not named there come first); alerting rules count
// as restored so ALERTS series exist; only firing alerts are compared, on labels and annotations;
// promql_expr_test queries run at the end, over everything loaded and recorded up to the last step.
// The engine is promtool's: 5m lookback, at most 10000 samples per query, subquery default step =
// evaluation_interval. Input series, their notation and the storage (the TSDB head's append rules) are
// shared/promqltest's; errors the storage raises are reported with Go's sentinel texts ("out of order
// sample", ...) as promtool prints them. Pure: files, globbing and output come through `UnitTestIO`.

import { decodeGoYaml, goFloat, goMap, goSlice, goString, goStruct, type GoType } from "../encoding/goyaml.ts";
import { goDuration as goDurationString } from "../encoding/gotext.ts";
import { CodedError } from "../encoding/errors.ts";
import { compareLabels, compareStrings, goQuote, labelsString, type Label, type Labels } from "../labels/labels.ts";
import { Engine } from "../promql/engine.ts";
import { formatExp } from "../promql/format.ts";
import { durationString } from "../promql/parse-literals.ts";
import { parseMetricSelector } from "../promql/parser.ts";
import { LazyLoader, parseSeriesDesc, sequenceSamples, type AppendSeries, type TestStorage } from "../promqltest/index.ts";
import type { Appendable } from "../storage/appender.ts";
import type { Querier } from "../storage/types.ts";
import { AlertingRule } from "./alerting.ts";
import { systemClock, type Group } from "./group.ts";
import { Manager } from "./manager.ts";
import { engineQueryFunc } from "./query.ts";
import { goDuration, labelsFromMap } from "./rulefmt.ts";

export interface UnitTestIO {
  /** File contents; throw an Error with Go's text ("open x: no such file or directory"). */
  read(file: string): string;
  /** filepath.Glob: matching paths (sorted), [] when none; throw on a malformed pattern. */
  glob(pattern: string): string[];
  dirname(file: string): string;
  join(dir: string, file: string): string;
  isAbs(file: string): boolean;
  out(s: string): void;
  err(s: string): void;
}

export interface UnitTestOptions {
  /** Accept Thanos' partial_response_strategy in rule files (default true; promtool rejects it). */
  thanos?: boolean;
}

const labelsType: GoType = { kind: "custom", name: "labels.Labels", as: goMap(goString), convert: (m) => labelsFromMap(m as Map<string, string> | null), zero: [] };

const unitTestFileType = goStruct("main.unitTestFile", {
  rule_files: goSlice(goString),
  evaluation_interval: goDuration,
  group_eval_order: goSlice(goString),
  tests: goSlice(goStruct("main.testGroup", {
    interval: goDuration,
    input_series: goSlice(goStruct("main.series", { series: goString, values: goString })),
    alert_rule_test: goSlice(goStruct("main.alertTestCase", {
      eval_time: goDuration,
      alertname: goString,
      exp_alerts: goSlice(goStruct("main.alert", { exp_labels: goMap(goString), exp_annotations: goMap(goString) })),
    })),
    promql_expr_test: goSlice(goStruct("main.promqlTestCase", {
      expr: goString,
      eval_time: goDuration,
      exp_samples: goSlice(goStruct("main.sample", { labels: goString, value: goFloat })),
    })),
    external_labels: labelsType,
    external_url: goString,
    name: goString,
  })),
});

interface TestGroup {
  interval?: number;
  input_series?: { series?: string; values?: string }[] | null;
  alert_rule_test?: { eval_time?: number; alertname?: string; exp_alerts?: { exp_labels?: Map<string, string> | null; exp_annotations?: Map<string, string> | null }[] | null }[] | null;
  promql_expr_test?: { expr?: string; eval_time?: number; exp_samples?: { labels?: string; value?: number }[] | null }[] | null;
  external_labels?: Labels;
  external_url?: string;
  name?: string;
}

interface UnitTestFile {
  rule_files?: string[] | null;
  evaluation_interval?: number;
  group_eval_order?: string[] | null;
  tests?: TestGroup[] | null;
}

/** Run the test files; returns the exit code (0 all passed, 1 otherwise). */
export async function rulesUnitTest(files: string[], io: UnitTestIO, opts: UnitTestOptions = {}): Promise<number> {
  let failed = false;
  for (const f of files) {
    const errs = await ruleUnitTest(f, io, opts);
    if (errs.length > 0) {
      io.err("  FAILED:\n");
      for (const e of errs) {
        io.err(e + "\n");
        io.out("\n");
      }
      failed = true;
    } else {
      io.out("  SUCCESS\n");
    }
    io.out("\n");
  }
  return failed ? 1 : 0;
}

async function ruleUnitTest(filename: string, io: UnitTestIO, opts: UnitTestOptions): Promise<string[]> {
  io.out(`Unit Testing:  ${filename}\n`);
  let text: string;
  try {
    text = io.read(filename);
  } catch (e) {
    return [(e as Error).message];
  }
  const dec = decodeGoYaml(text, unitTestFileType, { version: 2, strict: true });
  if (dec.error !== null) return [dec.error];
  const utf = dec.value as UnitTestFile;

  // resolveAndGlobFilepaths: relative to the test file's directory, then globbed.
  const base = io.dirname(filename);
  const ruleFiles: string[] = [];
  for (let rf of utf.rule_files ?? []) {
    if (rf !== "" && !io.isAbs(rf)) rf = io.join(base, rf);
    let m: string[];
    try {
      m = io.glob(rf);
    } catch (e) {
      return [(e as Error).message];
    }
    if (m.length === 0) io.err(`  WARNING: no file match pattern ${rf}\n`);
    ruleFiles.push(...m);
  }

  const evalInterval = utf.evaluation_interval || 60_000;
  const order = new Map<string, number>();
  for (const [i, gn] of (utf.group_eval_order ?? []).entries()) {
    if (order.has(gn)) return [`group name repeated in evaluation order: ${gn}`];
    order.set(gn, i);
  }
  const errs: string[] = [];
  for (const t of utf.tests ?? []) errs.push(...(await testGroup(t ?? {}, evalInterval, order, ruleFiles, io, opts)));
  return errs;
}

/** parser.ParseMetric (exp_samples labels): `name{a="b"}` or `{__name__="x"}`, only `=`; "" is no labels. */
export function parseMetric(s: string): Labels {
  if (s.trim() === "") return [];
  const out: Label[] = [];
  for (const m of parseMetricSelector(s)) {
    if (m.type !== "=") throw new CodedError("bad_data", `1:1: parse error: unexpected ${JSON.stringify(m.type)} in label set, expected "="`);
    if (m.value !== "") out.push({ name: m.name, value: m.value });
  }
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

/** End of the metric part of a series line (name and `{...}`, quotes respected). */
function metricEnd(line: string): number {
  let i = 0;
  while (i < line.length && /[a-zA-Z0-9_:]/.test(line[i]!)) i++;
  if (line[i] !== "{") return i;
  let q: string | null = null;
  for (i++; i < line.length; i++) {
    const c = line[i]!;
    if (q !== null) {
      if (c === "\\" && q !== "`") i++;
      else if (c === q) q = null;
    } else if (c === '"' || c === "'" || c === "`") q = c;
    else if (c === "}") return i + 1;
  }
  return line.length;
}

/**
 * promtool's text for a bad input line: Prometheus' parser error for a bad metric/label set (ours
 * reports the same position and words); for bad values shared/promqltest's own wording after
 * Prometheus' `1:<col>: parse error:` prefix (the column is the same, the words may differ).
 */
function seriesError(line: string, e: Error): string {
  try {
    parseMetric(line.slice(0, metricEnd(line)));
  } catch (pe) {
    return (pe as Error).message;
  }
  const m = /^col (\d+): (.*)$/.exec(e.message);
  return m ? `1:${m[1]}: parse error: ${m[2]}` : e.message;
}

/**
 * promtool's seriesLoadingString + LazyLoader parse: one line per series (`#` lines and everything
 * after an empty line ignored, as promql.getLines/parseLoad do); a series given twice keeps its last
 * values (Go keys them by hash).
 */
function loadInput(tg: TestGroup): AppendSeries[] {
  const byKey = new Map<string, AppendSeries>();
  for (const s of tg.input_series ?? []) {
    const line = `${s?.series ?? ""} ${s?.values ?? ""}`.trim();
    if (line === "") break;
    if (line.startsWith("#")) continue;
    let d;
    try {
      d = parseSeriesDesc(line);
    } catch (e) {
      throw new CodedError("bad_data", seriesError(line, e as Error));
    }
    const k = d.labels.map((l) => l.name + "\xff" + l.value).join("\xff");
    byKey.delete(k);
    byKey.set(k, { labels: d.labels, samples: sequenceSamples(d.values, tg.interval ?? 0) });
  }
  return [...byKey.values()];
}

const GO_SENTINELS = ["out of order sample", "duplicate sample for timestamp", "out of bounds"];

/** Go's storage error text (what promtool prints) for shared/promqltest's detailed one. */
function goStorageError(e: unknown): Error {
  const msg = (e as Error).message ?? String(e);
  const s = GO_SENTINELS.find((x) => msg.includes(x));
  return s ? new CodedError("bad_data", s) : (e as Error);
}

/** A TestStorage appender whose refusals read as Go's (a rule's last error is printed by promtool). */
export function goAppendable(st: TestStorage): Appendable {
  return {
    appender() {
      const a = st.appender();
      return {
        append(labels, t, v, stale) {
          try { a.append(labels, t, v, stale); } catch (e) { throw goStorageError(e); }
        },
        commit: () => a.commit(),
        rollback: () => a.rollback(),
      };
    },
  };
}

/** A Querier that always reads the storage's current state (TestStorage.querier() is a snapshot). */
export function liveQuerier(st: TestStorage): Querier {
  return {
    select: (h, m) => st.querier().select(h, m),
    labelNames: (a, b, m) => st.querier().labelNames(a, b, m),
    labelValues: (n, a, b, m) => st.querier().labelValues(n, a, b, m),
  };
}

/** labelsAndAnnotations.String() of promtool, with its indentation. */
function alertsString(la: { labels: Labels; annotations: Labels }[]): string {
  if (la.length === 0) return "[]";
  const one = (x: { labels: Labels; annotations: Labels }) => "Labels:" + labelsString(x.labels) + "\nAnnotations:" + labelsString(x.annotations);
  let s = "[\n0:" + indentLines("\n" + one(la[0]!), "  ");
  la.slice(1).forEach((x, i) => { s += ",\n" + (i + 1) + ":" + indentLines("\n" + one(x), "  "); });
  return s + "\n]";
}

function indentLines(lines: string, indent: string): string {
  return lines.split("\n").join("\n" + indent);
}

/** strconv.FormatFloat(v, 'E', -1, 64). */
function formatE(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  return formatExp(v).replace("e", "E");
}

function samplesString(ps: { labels: Labels; value: number }[]): string {
  if (ps.length === 0) return "nil";
  return ps.map((p) => labelsString(p.labels) + " " + formatE(p.value)).join(", ");
}

function compareAlerts(a: { labels: Labels; annotations: Labels }, b: { labels: Labels; annotations: Labels }): number {
  return compareLabels(a.labels, b.labels) || compareLabels(a.annotations, b.annotations);
}

function labelsSame(a: Labels, b: Labels): boolean {
  return compareLabels(a, b) === 0;
}

async function testGroup(tg: TestGroup, evalInterval: number, order: Map<string, number>, ruleFiles: string[], io: UnitTestIO, opts: UnitTestOptions): Promise<string[]> {
  let input: AppendSeries[];
  try {
    input = loadInput(tg);
  } catch (e) {
    return [(e as Error).message];
  }
  const loader = new LazyLoader(input);
  const storage = liveQuerier(loader.storage);
  const engine = new Engine({ maxSamples: 10_000, timeoutMs: 100_000, noStepSubqueryInterval: evalInterval });
  const mgr = new Manager({
    queryFunc: engineQueryFunc(engine, storage),
    appendable: goAppendable(loader.storage),
    externalLabels: tg.external_labels ?? [],
    externalURL: tg.external_url ?? "",
    queryTimeout: Infinity,
    thanos: opts.thanos !== false,
    clock: systemClock,
  });
  const files = [];
  for (const f of ruleFiles) {
    try {
      files.push({ file: f, content: io.read(f) });
    } catch (e) {
      return [`${f}: ${(e as Error).message}`];
    }
  }
  const loaded = mgr.loadGroups(tg.interval ?? 0, files);
  if (loaded.errors.length > 0) return loaded.errors;
  const groups: Group[] = [...loaded.groups.entries()]
    .sort(([ka, a], [kb, b]) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0) || (ka < kb ? -1 : ka > kb ? 1 : 0))
    .map(([, g]) => g);

  const alertTests = tg.alert_rule_test ?? [];
  const promqlTests = tg.promql_expr_test ?? [];
  let maxt = 0;
  for (const a of alertTests) maxt = Math.max(maxt, a?.eval_time ?? 0);
  for (const p of promqlTests) maxt = Math.max(maxt, p?.eval_time ?? 0);

  const byTime = new Map<number, NonNullable<TestGroup["alert_rule_test"]>>();
  for (const a of alertTests) {
    const at = a ?? {};
    if (!at.alertname) {
      const where = tg.name ? ` (in TestGroup ${tg.name})` : "";
      return [`an item under alert_rule_test misses required attribute alertname at eval_time ${durationString(at.eval_time ?? 0)}${where}`];
    }
    const l = byTime.get(at.eval_time ?? 0) ?? [];
    l.push(at);
    byTime.set(at.eval_time ?? 0, l);
  }
  const alertEvalTimes = [...byTime.keys()].sort((a, b) => a - b);
  let curr = 0;

  for (const g of groups) for (const r of g.rules) if (r instanceof AlertingRule) r.restored = true;

  const errs: string[] = [];
  for (let ts = 0; ts <= maxt; ts += evalInterval) {
    // WithSamplesTill(ts): append every input sample up to ts.
    let loadErr: string | null = null;
    try {
      loader.appendTill(ts);
    } catch (e) {
      loadErr = goStorageError(e).message;
    }
    const evalErrs: string[] = [];
    if (loadErr !== null) errs.push(loadErr);
    else {
      for (const g of groups) {
        await g.eval(ts);
        for (const r of g.rules) {
          if (r.lastError !== null) evalErrs.push(`    rule: ${r.name}, time: ${goDurationString(ts)}, err: ${r.lastError}`);
        }
      }
    }
    errs.push(...evalErrs);
    if (evalErrs.length > 0) return errs;

    while (curr < alertEvalTimes.length && ts <= alertEvalTimes[curr]! && alertEvalTimes[curr]! < ts + evalInterval) {
      const t = alertEvalTimes[curr]!;
      const tests = byTime.get(t)!;
      const present = new Set(tests.map((x) => x.alertname!));
      const got = new Map<string, { labels: Labels; annotations: Labels }[]>();
      for (const g of groups) {
        for (const r of g.rules) {
          if (!(r instanceof AlertingRule) || !present.has(r.name)) continue;
          const l = got.get(r.name) ?? [];
          for (const a of r.activeAlerts()) if (a.state === "firing") l.push({ labels: a.labels, annotations: a.annotations });
          got.set(r.name, l);
        }
      }
      for (const tc of tests) {
        const gotAlerts = [...(got.get(tc.alertname!) ?? [])].sort(compareAlerts);
        const expAlerts = (tc.exp_alerts ?? []).map((a) => {
          const m = new Map(a?.exp_labels ?? []);
          m.set("alertname", tc.alertname!);
          return { labels: labelsFromMap(m), annotations: labelsFromMap(a?.exp_annotations ?? null) };
        }).sort(compareAlerts);
        const same = gotAlerts.length === expAlerts.length && gotAlerts.every((g, i) => labelsSame(g.labels, expAlerts[i]!.labels) && labelsSame(g.annotations, expAlerts[i]!.annotations));
        if (!same) {
          const testName = tg.name ? `    name: ${tg.name},\n` : "";
          const exp = indentLines(alertsString(expAlerts), "            ");
          const gotS = indentLines(alertsString(gotAlerts), "            ");
          errs.push(`${testName}    alertname: ${tc.alertname}, time: ${durationString(tc.eval_time ?? 0)}, \n        exp:${exp}, \n        got:${gotS}`);
        }
      }
      curr++;
    }
  }

  outer: for (const tcRaw of promqlTests) {
    const tc = tcRaw ?? {};
    const expr = tc.expr ?? "";
    const when = durationString(tc.eval_time ?? 0);
    let got: { labels: Labels; value: number }[];
    try {
      got = (await engineQueryFunc(engine, storage)(expr, tc.eval_time ?? 0, new AbortController().signal)).map((s) => ({ labels: s.metric, value: s.v }));
    } catch (e) {
      errs.push(`    expr: ${goQuote(expr)}, time: ${when}, err: ${(e as Error).message}`);
      continue;
    }
    const exp: { labels: Labels; value: number }[] = [];
    for (const s of tc.exp_samples ?? []) {
      try {
        exp.push({ labels: parseMetric(s?.labels ?? ""), value: s?.value ?? 0 });
      } catch (e) {
        errs.push(`    expr: ${goQuote(expr)}, time: ${when}, err: labels ${goQuote(s?.labels ?? "")}: ${(e as Error).message}`);
        continue outer;
      }
    }
    exp.sort((a, b) => compareLabels(a.labels, b.labels));
    got.sort((a, b) => compareLabels(a.labels, b.labels));
    // reflect.DeepEqual: NaN never equals NaN.
    const same = exp.length === got.length && exp.every((e, i) => labelsSame(e.labels, got[i]!.labels) && e.value === got[i]!.value);
    if (!same) errs.push(`    expr: ${goQuote(expr)}, time: ${when},\n        exp: ${samplesString(exp)}\n        got: ${samplesString(got)}`);
  }
  return errs;
}

