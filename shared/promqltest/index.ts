// promqltest: Prometheus' PromQL test-script language, run against our engine with no Prometheus
// process (semantics of Prometheus 2.42 promql/test.go; see runner.ts for the exact rules).
//
// Scripts (`load`, `clear`, `eval`, `eval_fail`, `eval_ordered`):
//   const script = parseScript(text, "file.test");      // throws "file.test:12: ..." on bad input
//   const { evals } = await runScript(script);            // one outcome per eval command
//   for (const e of evals) if (!e.passed) console.log(`${e.file}:${e.line}: ${e.message}`);
//
// The series notation, for anything that loads test data (e.g. `tools rules test`, whose
// input_series are written in it):
//   parseSeriesDesc('up{job="a"} 0+10x3 _ stale')  -> { labels, values: SequenceValue[] }
//   expandSeriesValues("1x3 _x2 stale")            -> SequenceValue[] (values alone, no metric)
//   sequenceSamples(values, intervalMs, startMs?)  -> { ts, vs, stale } (omitted steps skipped)
//   loadSeries(storage, [{ series: 'up{job="a"}', values: "1+1x10" }], intervalMs)
//                                                   -> appends to a TestStorage as one load
//   new TestStorage(): append(...) (TSDB head rules: out of order, duplicates, out of bounds),
//                      appender() (the shared/storage/appender.ts seam, e.g. for rule results),
//                      querier() (a Querier for the engine), clear()
//   new LazyLoader(series): appendTill(tMs) loads samples as evaluation time advances
//                      (promql.LazyLoader, as promtool's rule tests do), querier()
// Staleness markers are a `stale` flag beside the value everywhere (a NaN's payload does not
// survive JS arrays); the memory storage passes it to the engine through SampleIterator.isStale().

import type { Labels } from "../labels/labels.ts";
import { CodedError } from "../encoding/errors.ts";
import { parseSeriesDesc, sequenceSamples } from "./series.ts";
import type { AppendSeries, TestStorage } from "./storage.ts";

export { parseSeriesDesc, expandSeriesValues, sequenceSamples, parseScalarLine, MAX_SEQUENCE_VALUES } from "./series.ts";
export type { SequenceValue, SeriesDesc, SeriesSamples } from "./series.ts";
export { TestStorage, LazyLoader } from "./storage.ts";
export type { AppendSeries } from "./storage.ts";
export { parseScript, scriptError, labelsKey } from "./script.ts";
export type { Script, Command, LoadCommand, ClearCommand, EvalCommand, ExpectedSample } from "./script.ts";
export { runScript, runEval, compareResult, almostEqual, atModifierVariants, newTestEngine } from "./runner.ts";
export type { EvalOutcome, ScriptResult, RunOptions } from "./runner.ts";

/** One input series: a selector-like metric (`up{job="a"}`) or parsed labels, and its values notation. */
export interface SeriesInput {
  series: string | Labels;
  values: string;
}

/**
 * Parse `series` + `values` pairs (as promtool's input_series are written) into samples at
 * `intervalMs` steps from `startMs` (default 0). Throws CodedError("bad_data") naming the series.
 */
export function seriesFromInputs(inputs: readonly SeriesInput[], intervalMs: number, startMs = 0): AppendSeries[] {
  return inputs.map((s) => {
    const text = typeof s.series === "string" ? `${s.series.trim()} ${s.values}` : null;
    let d;
    try {
      d = text !== null ? parseSeriesDesc(text) : { labels: s.series as Labels, values: parseSeriesDesc(`{} ${s.values}`).values };
    } catch (e) {
      throw new CodedError("bad_data", `input series ${typeof s.series === "string" ? s.series : JSON.stringify(s.series)} values ${JSON.stringify(s.values)}: ${(e as Error).message}`, { cause: e });
    }
    return { labels: d.labels, samples: sequenceSamples(d.values, intervalMs, startMs) };
  });
}

/** Append input series to a storage as one load (throws on the TSDB append rules, naming the sample). */
export function loadSeries(storage: TestStorage, inputs: readonly SeriesInput[], intervalMs: number, startMs = 0): void {
  storage.append(seriesFromInputs(inputs, intervalMs, startMs));
}
