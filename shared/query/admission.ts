// The querier's request path under load: queries pass the admission gate (shared/query/gate.ts) in
// arrival order, then run here or, when the runtime has spare cores, on a worker (`offload`, see
// shared/query/pool.ts). Thanos gates /api/v1/query and /api/v1/query_range the same way
// (pkg/api/query/v1.go: qapi.gate.Start before Exec); series and label calls pass ungated there and here.

import type { Context, MiddlewareHandler } from "hono";
import { CodedError, errorCode, errorStatus } from "../encoding/errors.ts";
import { errorResponse } from "../api/json.ts";
import type { Gate } from "./gate.ts";

export interface AdmissionOptions {
  gate?: Gate;
  /**
   * Longest wait in the queue (ms); 0 = as long as the client waits. Prometheus counts its queue
   * against the query timeout (engine.exec: "query timed out in query queue"), so does this.
   */
  queueTimeoutMs: number;
  /** Run the admitted request elsewhere (a worker) instead of this app's own handler. */
  offload?: (req: Request) => Promise<Response>;
}

/** The API's error answer; a full queue is momentary, so it says when to come back (RFC 9110 Retry-After with 503). */
function queueErrorResponse(e: unknown): Response {
  const res = errorResponse(e);
  const s = errorStatus(e);
  if (s.http === 503 && s.errorType === "unavailable") res.headers.set("Retry-After", "1");
  return res;
}

/** Prometheus' wording for the queue's timeout and cancel (promql contextErr(err, "query queue")). */
function queueError(e: unknown): unknown {
  const code = errorCode(e);
  if (code === "timeout") return new CodedError(code, "query timed out in query queue", { cause: e });
  if (code === "canceled") return new CodedError(code, "query was canceled in query queue", { cause: e });
  return e;
}

/** Middleware for a gated route: wait for a slot, then run the request (here or offloaded), then free it. */
export function admitted(o: AdmissionOptions): MiddlewareHandler {
  return async (c: Context, next) => {
    const req = c.req.raw;
    let release: (() => void) | null = null;
    const t0 = Date.now();
    if (o.gate) {
      try {
        release = await o.gate.enter(req.signal, o.queueTimeoutMs > 0 ? t0 + o.queueTimeoutMs : undefined);
      } catch (e) {
        return queueErrorResponse(queueError(e));
      }
    }
    const queued = Date.now() - t0;
    try {
      if (o.offload) {
        try {
          return withQueueTiming(await o.offload(req), queued);
        } catch (e) {
          return queueErrorResponse(e);
        }
      }
      await next();
      c.res = withQueueTiming(c.res, queued);
    } finally {
      release?.();
    }
  };
}

/** Middleware for an ungated route that still runs where queries run. */
export function offloaded(offload: (req: Request) => Promise<Response>): MiddlewareHandler {
  return async (c) => {
    try {
      return await offload(c.req.raw);
    } catch (e) {
      return queueErrorResponse(e);
    }
  };
}

function withQueueTiming(res: Response, queuedMs: number): Response {
  const st = res.headers.get("Server-Timing");
  const v = `queue;dur=${queuedMs}`;
  try {
    res.headers.set("Server-Timing", st ? `${v}, ${st}` : v);
    return res;
  } catch {
    // Immutable headers (a fetched Response): copy.
    const h = new Headers(res.headers);
    h.set("Server-Timing", st ? `${v}, ${st}` : v);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
  }
}
