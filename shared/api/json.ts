// Prometheus API JSON bodies written by hand, byte-compatible with Prometheus 2.42 (jsoniter in
// standard-library mode): field order, HTML-safe string escaping, sample timestamps as "12.500",
// vector/matrix values with 'e' form outside [1e-6, 1e21), scalar values always positional.

import { errorMessage, errorStatus } from "../encoding/errors.ts";
import type { Labels } from "../labels/labels.ts";
import type { PromValue } from "../promql/engine.ts";
import { formatJsonFloat, formatPointTime, formatSampleValue, formatValue, jsonString } from "../promql/format.ts";

export function labelsJson(ls: Labels): string {
  let s = "{";
  for (let i = 0; i < ls.length; i++) {
    if (i > 0) s += ",";
    s += jsonString(ls[i]!.name) + ":" + jsonString(ls[i]!.value);
  }
  return s + "}";
}

/** `{"resultType":...,"result":...}` for a query result. */
export function queryDataJson(v: PromValue): string {
  switch (v.type) {
    case "scalar":
      return `{"resultType":"scalar","result":[${formatJsonFloat(v.t / 1000)},"${formatValue(v.v)}"]}`;
    case "string":
      return `{"resultType":"string","result":[${formatJsonFloat(v.t / 1000)},${jsonString(v.v)}]}`;
    case "vector": {
      // Every sample of an instant answer has the query's time: format it once.
      let out = '{"resultType":"vector","result":[';
      let lastT = Number.NaN, tStr = "";
      for (let k = 0; k < v.samples.length; k++) {
        const x = v.samples[k]!;
        if (x.t !== lastT) { lastT = x.t; tStr = formatPointTime(x.t); }
        out += (k === 0 ? '{"metric":' : ',{"metric":') + labelsJson(x.metric) + ',"value":[' + tStr + ',"' + formatSampleValue(x.v) + '"]}';
      }
      return out + "]}";
    }
    case "matrix":
      return matrixJson(v.series);
  }
}

// The last timestamp string written at each point index. A range answer puts every series on the
// same step grid, so each time is formatted once per answer rather than once per series (a pure
// function of t: an entry left by an earlier answer is used only when its t matches).
let gridT = new Float64Array(0);
let gridS: string[] = [];

function matrixJson(series: Extract<PromValue, { type: "matrix" }>["series"]): string {
  // Point strings and series strings joined, not concatenated: a million `+=` leave V8 (Node, Deno,
  // workerd) a deep rope to flatten when the answer is encoded (1000 series x 240 points, build and
  // UTF-8 encode: Node 145 -> 55 ms, Bun 34 -> 29 ms).
  const parts: string[] = new Array(series.length);
  for (let k = 0; k < series.length; k++) {
    const s = series[k]!;
    const ts = s.ts, vs = s.vs, n = ts.length;
    if (gridT.length < n) {
      const g = new Float64Array(Math.max(n, 2 * gridT.length)).fill(NaN);
      g.set(gridT);
      gridT = g;
    }
    const points: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      let tStr: string;
      if (gridT[i] === t) tStr = gridS[i]!;
      else { tStr = formatPointTime(t); gridT[i] = t; gridS[i] = tStr; }
      points[i] = '[' + tStr + ',"' + formatSampleValue(vs[i]!) + '"]';
    }
    parts[k] = '{"metric":' + labelsJson(s.metric) + ',"values":[' + points.join(",") + "]}";
  }
  return '{"resultType":"matrix","result":[' + parts.join(",") + "]}";
}

export function stringsJson(xs: readonly string[]): string {
  return `[${xs.map(jsonString).join(",")}]`;
}

export function successJson(data: string, warnings: readonly string[] = []): string {
  const w = warnings.length > 0 ? `,"warnings":${stringsJson(warnings)}` : "";
  return `{"status":"success","data":${data}${w}}`;
}

export function errorJson(errorType: string, message: string): string {
  return `{"status":"error","errorType":${jsonString(errorType)},"error":${jsonString(message)}}`;
}

/** An error as Prometheus' API answers it: status and errorType from the one table (shared/encoding/errors.ts). */
export function errorResponse(e: unknown): Response {
  const s = errorStatus(e);
  return new Response(errorJson(s.errorType, errorMessage(e)), { status: s.http, headers: { "Content-Type": "application/json" } });
}
