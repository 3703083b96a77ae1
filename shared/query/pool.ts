// Queries on worker threads: the main thread serves HTTP and admits requests in arrival order
// (shared/query/gate.ts); admitted queries and series calls are posted to the least busy worker, which
// runs the same querier app (engine, fan-out, its own store clients) and posts the answer back. The
// engine and fan-out are pure, so a worker is just another place to run them; what crosses threads is
// the request (method, URL, headers, body) and the response (status, headers, body bytes, transferred
// without a copy). Runtime-free: each runtime adapts its Worker to `PoolWorker` (agent/query/pool.ts).
//
// A client that goes away aborts its request's signal here; the worker is told and aborts the query.
// A worker that dies fails its requests with an internal error naming it; the adapter may replace it.

import { CodedError, errorMessage } from "../encoding/errors.ts";
import { errorResponse } from "../api/json.ts";

/** What crosses to a worker. `init` and `endpoints` messages are the adapter's own. */
export type ToWorker =
  | { t: "req"; id: number; method: string; url: string; headers: [string, string][]; body: ArrayBuffer | null }
  | { t: "cancel"; id: number };

/** What comes back. */
/** A worker's messages: an answer, or "warmed" once it has set up (and warmed up) and takes requests. */
export type FromWorker = { t: "res"; id: number; status: number; headers: [string, string][]; body: ArrayBuffer } | { t: "warmed" };

/** A worker as the pool sees it: post a message (with buffers to transfer). */
export interface PoolWorker {
  post(msg: unknown, transfer?: ArrayBuffer[]): void;
}

interface Pending {
  worker: number;
  resolve(r: Response): void;
  reject(e: unknown): void;
  cleanup(): void;
}

export interface PoolStats {
  workers: number;
  /** Requests in flight per worker. */
  inFlight: number[];
  /** Requests served per worker. */
  served: number[];
}

export class QueryPool {
  private readonly inFlight: number[];
  private readonly served: number[];
  private readonly pending = new Map<number, Pending>();
  /** Workers that failed and were not replaced yet: nothing is sent to them. */
  private readonly down: boolean[];
  private nextId = 0;
  private rr = 0;

  constructor(private readonly workers: PoolWorker[]) {
    if (workers.length === 0) throw new CodedError("bad_data", "a query pool needs at least one worker");
    this.inFlight = workers.map(() => 0);
    this.served = workers.map(() => 0);
    this.down = workers.map(() => false);
  }

  stats(): PoolStats {
    return { workers: this.workers.length, inFlight: [...this.inFlight], served: [...this.served] };
  }

  /** The worker with the fewest requests in flight; ties go round-robin so idle workers share the load. */
  private pick(): number {
    const n = this.workers.length;
    let best = -1, bestLoad = Infinity;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      if (!this.down[i] && this.inFlight[i]! < bestLoad) { best = i; bestLoad = this.inFlight[i]!; }
    }
    if (best < 0) throw new CodedError("internal", "every query worker has failed; replacements are starting");
    this.rr = (best + 1) % n;
    return best;
  }

  /** Run a request on a worker; resolves with its answer (errors become Prometheus error answers there). */
  async fetch(req: Request): Promise<Response> {
    if (req.signal?.aborted) throw new CodedError("canceled", "query was canceled before it reached a worker");
    const body = req.method === "GET" || req.method === "HEAD" ? null : await req.arrayBuffer();
    const id = ++this.nextId;
    const w = this.pick();
    const headers: [string, string][] = [];
    req.headers.forEach((v, k) => headers.push([k, v]));
    return await new Promise<Response>((resolve, reject) => {
      const onAbort = () => {
        if (!this.pending.has(id)) return;
        this.workers[w]!.post({ t: "cancel", id } satisfies ToWorker);
      };
      req.signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, { worker: w, resolve, reject, cleanup: () => req.signal?.removeEventListener("abort", onAbort) });
      this.inFlight[w]!++;
      const msg: ToWorker = { t: "req", id, method: req.method, url: req.url, headers, body };
      this.workers[w]!.post(msg, body ? [body] : []);
    });
  }

  /** A message from worker `i` (the adapter forwards every message it gets). */
  receive(i: number, m: FromWorker): void {
    if (m.t !== "res") return;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.finish(m.id, p);
    this.served[i]!++;
    p.resolve(new Response(m.body.byteLength > 0 ? m.body : null, { status: m.status, headers: m.headers }));
  }

  /** Worker `i` died: its requests fail with an internal error naming it. */
  failed(i: number, e: unknown): void {
    this.down[i] = true;
    for (const [id, p] of this.pending) {
      if (p.worker !== i) continue;
      this.finish(id, p);
      p.reject(new CodedError("internal", `query worker ${i} failed: ${errorMessage(e)}`, { cause: e }));
    }
  }

  /** Put a new worker in place of worker `i` (after failed()). */
  replace(i: number, w: PoolWorker): void {
    this.workers[i] = w;
    this.down[i] = false;
  }

  /** Send every worker the same message (settings, endpoint changes). */
  broadcast(msg: unknown): void {
    for (let i = 0; i < this.workers.length; i++) if (!this.down[i]) this.workers[i]!.post(msg);
  }

  private finish(id: number, p: Pending): void {
    this.pending.delete(id);
    this.inFlight[p.worker]!--;
    p.cleanup();
  }
}

/**
 * The worker side: answer `req` messages with `fetch` (the querier app), abort on `cancel`. `post`
 * sends a message back (transferring the body). Messages that are not the pool's go to `other`.
 */
export function serveRequests(fetch: (r: Request) => Response | Promise<Response>, post: (m: FromWorker, transfer: ArrayBuffer[]) => void, other?: (m: unknown) => void): (m: unknown) => void {
  const running = new Map<number, AbortController>();
  return (raw) => {
    const m = raw as ToWorker;
    if (m.t === "cancel") { running.get(m.id)?.abort(); return; }
    if (m.t !== "req") { other?.(raw); return; }
    const ctl = new AbortController();
    running.set(m.id, ctl);
    void (async () => {
      let status = 500, headers: [string, string][] = [], body: ArrayBuffer;
      try {
        const res = await fetch(new Request(m.url, { method: m.method, headers: m.headers, body: m.body, signal: ctl.signal }));
        status = res.status;
        res.headers.forEach((v, k) => headers.push([k, v]));
        body = await res.arrayBuffer();
      } catch (e) {
        const r = errorResponse(e);  // what the worker's app would have said
        status = r.status;
        headers = [["content-type", "application/json"]];
        body = await r.arrayBuffer();
      } finally {
        running.delete(m.id);
      }
      post({ t: "res", id: m.id, status, headers, body }, [body]);
    })();
  };
}
