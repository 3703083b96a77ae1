// The deterministic workload of the kill -9 test (tsdb-crash.test.ts), shared by the writing child and
// the checking parent: batch g is one appender's transaction, at time T0 + g * STEP, over a set of
// series that depends on g; some batches are rolled back. The child runs this file directly:
//
//   bun test/integration/tsdb/crash-workload.ts <dir> <first batch> <concurrency>
//
// and writes "C <g>\n" to stdout (fd 1, synchronously) after batch g's commit() resolved.

import { writeSync } from "node:fs";
import { labelsFrom, type Labels } from "../../../shared/labels/labels.ts";

export const T0 = 1_700_000_000_000;
export const STEP = 10_000;
/** Small blocks and segments, so block cuts, checkpoints and rotations happen all the time. */
export const OPTIONS = { blockDurationMs: 600_000, retentionMs: 0, walSegmentSize: 64 * 1024, checkIntervalMs: 0 };
export const SERIES = 60;

const labelCache: Labels[] = [];
export function seriesLabels(i: number): Labels {
  return (labelCache[i] ??= labelsFrom({ __name__: i % 5 === 0 ? "ALERTS_FOR_STATE" : "rule:rec", series: `s${i}`, grp: `g${i % 7}` }));
}

/** Concurrent appenders get disjoint series (a group owns its series), by g modulo the concurrency. */
export function batchSeries(g: number, conc: number): number[] {
  const out: number[] = [];
  const lane = g % conc;
  const n = 3 + (g % 11);
  for (let k = 0; k < n; k++) {
    const i = (g * 7 + k * 13) % SERIES;
    if (i % conc === lane && !out.includes(i)) out.push(i);
  }
  if (out.length === 0) out.push(lane);
  return out;
}

export function isRollback(g: number): boolean { return g % 17 === 5; }

export type Val = number | "stale" | "NaN";
export function value(g: number, i: number): Val {
  if ((g + i) % 29 === 0) return "stale";
  if ((g + i) % 23 === 0) return "NaN";
  return g * 1000 + i + 0.25;
}

export function time(g: number): number { return T0 + g * STEP; }

async function child(): Promise<void> {
  const [dir, firstArg, concArg] = process.argv.slice(2);
  const { openTSDB } = await import("../../../agent/tsdb/db.ts");
  const db = await openTSDB(dir!, OPTIONS);
  writeSync(1, "READY\n");
  const conc = Number(concArg ?? 1);
  let g = Number(firstArg);
  for (;;) {
    const batch: Promise<void>[] = [];
    for (let c = 0; c < conc; c++, g++) {
      const id = g;
      const app = db.appender();
      for (const i of batchSeries(id, conc)) {
        const v = value(id, i);
        app.append(seriesLabels(i), time(id), v === "stale" ? 0 : v === "NaN" ? NaN : v, v === "stale");
      }
      if (isRollback(id)) { app.rollback(); continue; }
      batch.push(app.commit().then(() => { writeSync(1, `C ${id}\n`); }));
    }
    await Promise.all(batch);
  }
}

if (process.argv[1]?.endsWith("crash-workload.ts") && process.argv.length > 3) {
  child().catch((e) => { process.stderr.write(`child failed: ${(e as Error).stack}\n`); process.exit(3); });
}
