// TEMPORARY: the series-value notation of Prometheus' test scripts (`load` lines, promtool's
// input_series), until shared/promqltest (branch `promqltest`) lands on main with its expander and
// loader; then switch to it and delete this file.
//
//   metric{a="b"} 1 2 _ 3+4x2 stale 5x3 _x2   -> 1 2 (none) 3 7 11 stale 5 5 5 5 (none) (none)
//
// `a+bxN` / `a-bxN` give N+1 values by repeated addition (as Go adds, rounding included), `axN` gives
// N+1 copies, `_xN` N missing samples.

import { CodedError } from "../encoding/errors.ts";
import { compareStrings, type Label, type Labels } from "../labels/labels.ts";
import { parseMetricSelector } from "../promql/parser.ts";

export type SeriesValue = { kind: "value"; v: number } | { kind: "stale" } | { kind: "omitted" };

/** parser.ParseMetric: `name{a="b"}` or `{__name__="x", ...}` to labels (only `=` allowed). */
export function parseMetric(s: string): Labels {
  if (s.trim() === "") return [];
  const ms = parseMetricSelector(s);
  const out: Label[] = [];
  for (const m of ms) {
    if (m.type !== "=") throw new CodedError("bad_data", `1:1: parse error: unexpected ${JSON.stringify(m.type)} in label set, expected "="`);
    if (m.value !== "") out.push({ name: m.name, value: m.value });
  }
  out.sort((a, b) => compareStrings(a.name, b.name));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.name === out[i - 1]!.name) throw new CodedError("bad_data", `1:1: parse error: label ${out[i]!.name} set twice`);
  }
  return out;
}

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
      continue;
    }
    if (c === '"' || c === "'" || c === "`") q = c;
    else if (c === "}") return i + 1;
  }
  return line.length;
}

const NUM = "[+-]?(?:[iI][nN][fF]|[nN][aA][nN]|(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?)";
const ITEM_RE = new RegExp(`^(${NUM})(?:([+-](?:[iI][nN][fF]|[nN][aA][nN]|(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?))?x([0-9]+))?$`);

function num(s: string): number {
  const l = s.toLowerCase().replace(/^\+/, "");
  if (l === "inf") return Infinity;
  if (l === "-inf") return -Infinity;
  if (l === "nan" || l === "-nan") return NaN;
  return Number(s);
}

/** parser.ParseSeriesDesc of one (trimmed) line. */
export function parseSeriesDesc(line: string): { labels: Labels; values: SeriesValue[] } {
  const end = metricEnd(line);
  const labels = parseMetric(line.slice(0, end));
  const values: SeriesValue[] = [];
  const rest = line.slice(end);
  let col = end + 1;
  for (const tok of rest.split(/([\t ]+)/)) {
    if (tok === "" || /^[\t ]+$/.test(tok)) { col += tok.length; continue; }
    let m: RegExpExecArray | null;
    if (tok === "_") values.push({ kind: "omitted" });
    else if ((m = /^_x([0-9]+)$/.exec(tok))) for (let i = 0; i < Number(m[1]); i++) values.push({ kind: "omitted" });
    else if (tok === "stale") values.push({ kind: "stale" });
    else if ((m = ITEM_RE.exec(tok))) {
      let v = num(m[1]!);
      if (m[3] === undefined) values.push({ kind: "value", v });
      else {
        const step = m[2] === undefined ? 0 : num(m[2]);
        const n = Number(m[3]);
        for (let i = 0; i <= n; i++) {
          values.push({ kind: "value", v });
          v += step;
        }
      }
    } else {
      throw new CodedError("bad_data", `1:${col}: parse error: unexpected ${JSON.stringify(tok)} in series values`);
    }
    col += tok.length;
  }
  return { labels, values };
}

/** One input series as samples: value i at i * interval (ms); omitted values leave gaps. */
export interface LoadedSeries {
  labels: Labels;
  ts: number[];
  vs: number[];
  stale: boolean[];
}

/**
 * A `load <interval>` block's series lines (already trimmed; an empty line ends the block, as in
 * Prometheus' getLines/parseLoad). A series given twice keeps its last definition.
 */
export function loadSeries(intervalMs: number, lines: string[]): LoadedSeries[] {
  const byKey = new Map<string, LoadedSeries>();
  for (const line of lines) {
    if (line === "") break;
    const { labels, values } = parseSeriesDesc(line);
    const s: LoadedSeries = { labels, ts: [], vs: [], stale: [] };
    values.forEach((v, i) => {
      if (v.kind === "omitted") return;
      s.ts.push(i * intervalMs);
      s.vs.push(v.kind === "value" ? v.v : NaN);
      s.stale.push(v.kind === "stale");
    });
    let k = "";
    for (const l of labels) k += l.name + "\xff" + l.value + "\xff";
    byKey.delete(k);
    byKey.set(k, s);
  }
  return [...byKey.values()];
}
