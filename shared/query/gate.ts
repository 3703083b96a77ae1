// Admission: at most `maxConcurrent` queries run at once (Thanos' --query.max-concurrent, the gate of
// pkg/gate over Prometheus' util/gate), the others wait in arrival order. Thanos' gate is a Go channel,
// whose blocked senders are woken in order, and its queue has no bound; here the queue is bounded
// (`maxQueued`): a request that finds it full is refused at once with a clear error instead of holding
// memory, and a waiter whose client went away (or whose deadline passed) leaves the queue.
//
// A freed slot is handed straight to the oldest waiter, never left for a newcomer to grab, so a
// request's wait is bounded by the work admitted ahead of it.

import { CodedError } from "../encoding/errors.ts";

export interface GateOptions {
  /** Most holders at once; 0 = no limit (every enter() succeeds at once). */
  maxConcurrent: number;
  /** Most waiters; a request arriving when this many wait is refused. 0 = refuse whenever all slots are taken. */
  maxQueued: number;
  /** What the gate admits, for messages ("queries"). */
  what?: string;
  /** The flags that set the limits, named in the refusal. */
  flags?: { concurrent: string; queued: string };
}

export interface GateStats {
  maxConcurrent: number;
  maxQueued: number;
  inFlight: number;
  queued: number;
  /** Admissions so far. */
  total: number;
  /** Refused because the queue was full. */
  refused: number;
}

interface Waiter {
  resolve(release: () => void): void;
  reject(e: unknown): void;
  /** Set when the waiter left the queue (abort, deadline) so a hand-over skips it. */
  gone: boolean;
  cleanup(): void;
}

/** Waiting-time observer (e.g. a histogram of seconds), called once per admission. */
export type GateObserver = (waitMs: number) => void;

export class Gate {
  private active = 0;
  // A FIFO as an array with a moving head: push at the tail, take at `head`, compacted now and then.
  private q: Waiter[] = [];
  private head = 0;
  private waiting = 0;
  private admitted = 0;
  private refusedCount = 0;
  onWait: GateObserver | null = null;

  constructor(readonly o: GateOptions) {}

  stats(): GateStats {
    return { maxConcurrent: this.o.maxConcurrent, maxQueued: this.o.maxQueued, inFlight: this.active, queued: this.waiting, total: this.admitted, refused: this.refusedCount };
  }

  /**
   * Wait for a slot. Resolves with the release function (call it exactly once; later calls do
   * nothing). Rejects with `canceled` when `signal` aborts while waiting, `timeout` when `deadlineMs`
   * (a Date.now() instant) passes first, and `overloaded` at once when the queue is full.
   */
  enter(signal?: AbortSignal, deadlineMs?: number): Promise<() => void> {
    const t0 = Date.now();
    if (signal?.aborted) return Promise.reject(new CodedError("canceled", `${this.what()} canceled while waiting for admission`));
    if (this.o.maxConcurrent <= 0 || (this.active < this.o.maxConcurrent && this.waiting === 0)) {
      this.active++;
      this.admitted++;
      this.onWait?.(0);
      return Promise.resolve(this.releaser());
    }
    if (this.waiting >= this.o.maxQueued) {
      this.refusedCount++;
      const f = this.o.flags;
      return Promise.reject(new CodedError("overloaded",
        `too many ${this.what()}: ${this.active} running and ${this.waiting} waiting` +
        (f ? ` (--${f.concurrent}=${this.o.maxConcurrent}, --${f.queued}=${this.o.maxQueued})` : "") + "; try again later"));
    }
    return new Promise<() => void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const w: Waiter = {
        gone: false,
        resolve: (release) => { w.cleanup(); this.onWait?.(Date.now() - t0); resolve(release); },
        reject,
        cleanup: () => {
          if (timer !== undefined) clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      };
      const leave = (e: CodedError) => {
        if (w.gone) return;
        w.gone = true;
        this.waiting--;
        w.cleanup();
        // Departed waiters stay in the array until a hand-over passes them; drop them when they dominate.
        if (this.q.length - this.head > 2 * this.waiting + 64) { this.q = this.q.slice(this.head).filter((x) => !x.gone); this.head = 0; }
        reject(e);
      };
      const onAbort = () => leave(new CodedError("canceled", `${this.what()} canceled while waiting for admission`));
      signal?.addEventListener("abort", onAbort, { once: true });
      if (deadlineMs !== undefined) {
        timer = setTimeout(() => leave(new CodedError("timeout", `${this.what()} timed out in the queue`)), Math.max(0, deadlineMs - Date.now()));
      }
      this.q.push(w);
      this.waiting++;
    });
  }

  private what(): string {
    return this.o.what ?? "queries";
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.handOver();
    };
  }

  /** A slot is free: give it to the oldest waiter still waiting, else free it. */
  private handOver(): void {
    while (this.head < this.q.length) {
      const w = this.q[this.head]!;
      this.q[this.head++] = undefined as unknown as Waiter;
      if (this.head > 1024 && this.head * 2 > this.q.length) { this.q = this.q.slice(this.head); this.head = 0; }
      if (w.gone) continue;
      w.gone = true;
      this.waiting--;
      this.admitted++;
      w.resolve(this.releaser());
      return;
    }
    this.q = [];
    this.head = 0;
    this.active--;
  }
}
