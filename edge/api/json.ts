// Prometheus API JSON bodies written by hand, byte-compatible with Prometheus 2.42 (jsoniter in
// standard-library mode): field order, HTML-safe string escaping, sample timestamps as "12.500",
// vector/matrix values with 'e' form outside [1e-6, 1e21), scalar values always positional.

import type { Labels } from "../../shared/labels/labels.ts";
import type { PromValue } from "../../shared/promql/engine.ts";
import { formatJsonFloat, formatPointTime, formatSampleValue, formatValue, jsonString } from "../../shared/promql/format.ts";

export function labelsJson(ls: Labels): string {
  let s = "{";
  for (let i = 0; i < ls.length; i++) {
    if (i > 0) s += ",";
    s += jsonString(ls[i]!.name) + ":" + jsonString(ls[i]!.value);
  }
  return s + "}";
}

function point(t: number, v: number): string {
  return `[${formatPointTime(t)},"${formatSampleValue(v)}"]`;
}

/** `{"resultType":...,"result":...}` for a query result. */
export function queryDataJson(v: PromValue): string {
  switch (v.type) {
    case "scalar":
      return `{"resultType":"scalar","result":[${formatJsonFloat(v.t / 1000)},"${formatValue(v.v)}"]}`;
    case "string":
      return `{"resultType":"string","result":[${formatJsonFloat(v.t / 1000)},${jsonString(v.v)}]}`;
    case "vector": {
      const parts = v.samples.map((s) => `{"metric":${labelsJson(s.metric)},"value":${point(s.t, s.v)}}`);
      return `{"resultType":"vector","result":[${parts.join(",")}]}`;
    }
    case "matrix": {
      const parts: string[] = [];
      for (const s of v.series) {
        const pts: string[] = new Array(s.ts.length);
        for (let i = 0; i < s.ts.length; i++) pts[i] = point(s.ts[i]!, s.vs[i]!);
        parts.push(`{"metric":${labelsJson(s.metric)},"values":[${pts.join(",")}]}`);
      }
      return `{"resultType":"matrix","result":[${parts.join(",")}]}`;
    }
  }
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
