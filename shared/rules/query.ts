// The query seam of rule evaluation, and the two ways to fill it: the PromQL engine over a Querier
// (tools, tests, a ruler reading its own data) and anything else the caller gives (the ruler's HTTP
// client to a querier). A deadline wraps every call, so a query that never answers fails its
// evaluation instead of stalling the group (Thanos' ruler has none: thanos#4772, #6845).

import { CodedError } from "../encoding/errors.ts";
import { goDuration } from "../encoding/gotext.ts";
import type { Labels } from "../labels/labels.ts";
import type { Engine } from "../promql/engine.ts";
import type { Querier } from "../storage/types.ts";

export interface Sample {
  metric: Labels;
  /** ms */
  t: number;
  v: number;
}

/**
 * An instant query at tMs returning a vector (a scalar result becomes one sample without labels, as
 * Prometheus' EngineQueryFunc does). Honour `signal`: it is aborted at the evaluation's deadline.
 */
export type QueryFunc = (expr: string, tMs: number, signal: AbortSignal) => Promise<Sample[]>;

/** Prometheus' rules.EngineQueryFunc over our engine. */
export function engineQueryFunc(engine: Engine, querier: Querier): QueryFunc {
  return async (expr, tMs, signal) => {
    const r = await engine.instantQuery(querier, expr, tMs, { signal });
    const v = r.value;
    if (v.type === "vector") return v.samples.map((s) => ({ metric: s.metric, t: s.t, v: s.v }));
    if (v.type === "scalar") return [{ metric: [], t: v.t, v: v.v }];
    throw new CodedError("execution", "rule result is not a vector or scalar");
  };
}

/**
 * Run `f` with a signal aborted after `timeoutMs` (or when `parent` aborts), and stop waiting at that
 * moment even if `f` ignores its signal: the caller moves on, a late answer is dropped.
 */
export async function withTimeout<T>(timeoutMs: number, parent: AbortSignal | undefined, what: string, f: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onParent: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        const e = new CodedError("timeout", `${what ? what + ": " : ""}query timed out after ${goDuration(timeoutMs)}`);
        ctl.abort(e);
        reject(e);
      }, timeoutMs);
    }
    if (parent) {
      onParent = () => {
        const e = new CodedError("canceled", `${what ? what + ": " : ""}query canceled`);
        ctl.abort(e);
        reject(e);
      };
      if (parent.aborted) onParent();
      else parent.addEventListener("abort", onParent, { once: true });
    }
  });
  stop.catch(() => {});
  try {
    return await Promise.race([f(ctl.signal), stop]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    if (parent && onParent) parent.removeEventListener("abort", onParent);
  }
}
