// Request parameters as Prometheus 2.42's web/api/v1 reads them: form values from a POST body win
// over the URL (Go's Request.FormValue), times as unix float seconds or RFC3339, durations as float
// seconds or Prometheus durations. Error texts are Prometheus' own, so clients see the same answer.

import { CodedError, errorMessage } from "../encoding/errors.ts";
import type { Matcher } from "../labels/matcher.ts";
import { goParseFloat, parseDuration as parseModelDuration } from "../promql/parse-literals.ts";
import { goRound, parseMetricSelector } from "../promql/parser.ts";

/** Form values of one request: body values first, then URL values (Go's r.Form order). */
export interface Params {
  /** First value, "" when absent (Go's FormValue). */
  get(name: string): string;
  all(name: string): string[];
  has(name: string): boolean;
}

export function paramsFrom(url: URL, body: URLSearchParams | null): Params {
  const all = (name: string) => [...(body?.getAll(name) ?? []), ...url.searchParams.getAll(name)];
  return {
    get: (name) => all(name)[0] ?? "",
    all,
    has: (name) => all(name).length > 0,
  };
}

/** Read a request's parameters; a POST with a urlencoded body contributes its fields. */
export async function readParams(req: Request): Promise<Params> {
  const url = new URL(req.url);
  let body: URLSearchParams | null = null;
  if (req.method === "POST") {
    const ct = req.headers.get("content-type") ?? "";
    if (ct.startsWith("application/x-www-form-urlencoded")) {
      body = new URLSearchParams(await req.text());
    } else if (ct.startsWith("multipart/form-data")) {
      const fd = await req.formData();
      body = new URLSearchParams();
      for (const [k, v] of fd.entries()) if (typeof v === "string") body.append(k, v);
    }
  }
  return paramsFrom(url, body);
}

/** Prometheus' minTime/maxTime for open-ended series/labels requests, in ms (as float64). */
export const MIN_TIME_MS = (-9223372036854775 + 62135596801) * 1000;
export const MAX_TIME_MS = (9223372036854775 - 62135596801) * 1000 + 999;
const MIN_TIME_FORMATTED = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED = "292277025-08-18T07:12:54.999999999Z";

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Prometheus parseTime: unix seconds as a float (rounded to ms like Go's math.Modf + Round) or
 * RFC3339 with optional fraction. Returns ms; throws a plain message (callers wrap it).
 */
export function parseTimeMs(s: string): number {
  const f = goParseFloat(s);
  // Go converts ±Inf/NaN seconds with int64(), which on amd64 gives math.MinInt64, and Prometheus
  // then answers at this odd time; do the same rather than reject what it accepts.
  if (f !== null && !Number.isFinite(f)) return -9223372036854;
  if (f !== null) {
    // Go: s, ns := math.Modf(t); ns = math.Round(ns*1000)/1000; time.Unix(int64(s), int64(ns*1e9)),
    // then timestamp.FromTime. Same float operations, same rounding.
    let sec = Math.trunc(f);
    const frac = goRound((f - sec) * 1000) / 1000;
    let nsec = Math.trunc(frac * 1e9);
    if (nsec < 0 || nsec >= 1e9) {
      const n = Math.floor(nsec / 1e9);
      sec += n;
      nsec -= n * 1e9;
    }
    return sec * 1000 + Math.trunc(nsec / 1e6);
  }
  const m = RFC3339.exec(s);
  if (m) {
    const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]!)) as [number, number, number, number, number, number];
    const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
    if (mo >= 1 && mo <= 12 && d >= 1 && d <= days && h < 24 && mi < 60 && se < 60) {
      let ms = Date.UTC(y, mo - 1, d, h, mi, se);
      if (y < 100) ms = new Date(ms).setUTCFullYear(y);
      if (m[7]) ms += Math.floor(Number(("0." + m[7]).slice(0, 12)) * 1000 + 1e-9);
      if (m[8] !== "Z") {
        const sign = m[8]![0] === "-" ? -1 : 1;
        const [oh, om] = m[8]!.slice(1).split(":").map(Number) as [number, number];
        if (oh < 24 && om < 60) return ms - sign * (oh * 3600_000 + om * 60_000);
      } else return ms;
    }
  }
  if (s === MIN_TIME_FORMATTED) return MIN_TIME_MS;
  if (s === MAX_TIME_FORMATTED) return MAX_TIME_MS;
  throw new Error(`cannot parse ${JSON.stringify(s)} to a valid timestamp`);
}

/** Prometheus parseDuration (API flavour): float seconds or `5m`; returns nanoseconds as a float. */
export function parseDurationNs(s: string): number {
  const f = goParseFloat(s);
  if (f !== null) {
    const ns = f * 1e9;
    if (ns > 9223372036854775807 || ns < -9223372036854775808 || Number.isNaN(ns)) {
      throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration. It overflows int64`);
    }
    return Math.trunc(ns);
  }
  try {
    return parseModelDuration(s) * 1e6;
  } catch {
    throw new Error(`cannot parse ${JSON.stringify(s)} to a valid duration`);
  }
}

/** `invalid parameter "x": <why>` as a bad_data error. */
export function invalidParam(name: string, why: string): CodedError {
  return new CodedError("bad_data", `invalid parameter ${JSON.stringify(name)}: ${why}`);
}

/** An optional boolean parameter, read with Go's strconv.ParseBool as Thanos reads dedup and partial_response. */
export function parseBool(p: Params, name: string, dflt: boolean): boolean {
  const v = p.get(name);
  if (v === "") return dflt;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw invalidParam(name, `strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

/** Every value of a series-selector parameter (match[], storeMatch[]), parsed. */
export function matcherSetsParam(p: Params, name: string): Matcher[][] {
  return p.all(name).map((v) => {
    try {
      return parseMetricSelector(v);
    } catch (e) {
      throw invalidParam(name, errorMessage(e));
    }
  });
}

/** An optional time parameter (Prometheus parseTimeParam). */
export function timeParam(p: Params, name: string, dflt: number): number {
  const v = p.get(name);
  if (v === "") return dflt;
  try {
    return parseTimeMs(v);
  } catch (e) {
    throw invalidParam(name, `Invalid time value for '${name}': ${(e as Error).message}`);
  }
}
