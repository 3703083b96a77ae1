// A garbage-collection pacer for the ruler and the store gateway under Bun, in the spirit of Go's (GOGC):
// collect fully once the JS heap has grown by a quarter of what was live after the last collection (at
// least 8 MiB).
// Every rule evaluation leaves garbage (an HTTP answer, its JSON, label arrays) and JavaScriptCore,
// which sizes its heap for the machine's RAM, collects late: with 1,200 rules every 5 s the ruler's
// heap grew from 17 MB live to 50 MB before a collection and its RSS peaked at 195-215 MB; paced, the
// peak was ~160 MB at the same CPU (bench/rule.ts, and a stub querier to isolate the ruler).
// The store gateway: a broad Series call leaves its answer pieces, views and series objects behind; over
// the 35 queries of bench/store.ts (promql, T+O) its peak RSS went 300 -> 261 MiB (Thanos' store 206).
// heapSize() walks the heap (~70 us at 24 MB), so it is checked every 250 ms; a full collection of a
// heap this size takes a few milliseconds. Elsewhere than Bun: nothing.

const EVERY_MS = 250;
const MIN_GROWTH_BYTES = 8 << 20;

export interface GcPacer { stop(): void }

export async function startGcPacer(): Promise<GcPacer> {
  const bun = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun;
  if (!bun) return { stop() {} };
  let heapSize: () => number;
  try {
    heapSize = (await import("bun:jsc" as string) as { heapSize(): number }).heapSize;
  } catch {
    return { stop() {} };
  }
  bun.gc(true);
  let live = heapSize();
  const timer = setInterval(() => {
    if (heapSize() < live + Math.max(live / 4, MIN_GROWTH_BYTES)) return;
    bun.gc(true);
    live = heapSize();
  }, EVERY_MS);
  (timer as { unref?: () => void }).unref?.();
  return { stop: () => clearInterval(timer) };
}
