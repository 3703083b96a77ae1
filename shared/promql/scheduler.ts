// Cooperative scheduling of query evaluations that share one event loop, oldest query first.
//
// A long evaluation yields about every 20 ms (engine.ts tick/yieldNow) so the loop can read sockets,
// accept requests and see cancellations. A plain `setTimeout(0)` per yield resumes the yielded
// evaluations round-robin: with N of them running, each gets 1/N of the thread, so a query's time
// grows with everything admitted after it and the queries with the most evaluation work stall the
// longest (processor sharing). Here a yield waits in a queue ordered by the query's arrival, and each
// macrotask resumes only the oldest waiting evaluation: the thread finishes queries in the order they
// came, the next one running whenever an older one waits for its stores. I/O still interleaves
// between slices (a macrotask boundary per resume), so reading, accepting and aborting stay prompt.

interface Waiter {
  prio: number;
  resolve(): void;
}

/** A binary min-heap of waiters by priority (arrival order; lower first). */
class Heap {
  private a: Waiter[] = [];
  get size(): number { return this.a.length; }
  push(w: Waiter): void {
    const a = this.a;
    a.push(w);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.prio <= w.prio) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = w;
  }
  pop(): Waiter | undefined {
    const a = this.a;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        let mv = last.prio;
        if (l < a.length && a[l]!.prio < mv) { m = l; mv = a[l]!.prio; }
        if (r < a.length && a[r]!.prio < mv) m = r;
        if (m === i) break;
        a[i] = a[m]!;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}

export class EvalScheduler {
  private readonly waiting = new Heap();
  private scheduled = false;
  private seq = 0;

  /** A priority for a query starting now: later arrivals yield to earlier ones. */
  next(): number {
    return ++this.seq;
  }

  /** Resolves on a later macrotask, when no query older than `prio` is waiting to run. */
  yield(prio: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push({ prio, resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setTimeout(this.pump, 0);
      }
    });
  }

  /** Waiters now (tests). */
  get pending(): number {
    return this.waiting.size;
  }

  private readonly pump = (): void => {
    this.scheduled = false;
    const w = this.waiting.pop();
    if (this.waiting.size > 0) {
      this.scheduled = true;
      setTimeout(this.pump, 0);
    }
    w?.resolve();
  };
}

/** The one scheduler of this thread (each worker thread has its own module instance). */
export const evalScheduler = new EvalScheduler();
