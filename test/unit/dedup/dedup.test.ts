// HA dedup tables. Expected values are derived from the underlying truth (one function of time, sampled
// by each replica at its own times), never from our output.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ChainIterator, PenaltyIterator, dedupSeries, penaltyMerge, penaltyMergeChunks } from "../../../shared/dedup/dedup.ts";
import { SampleBuffer, staleAt, type SeriesChunk } from "../../../shared/tsdb/querier.ts";
import { bitsFloat, STALE_HI, STALE_LO, XorAppender } from "../../../shared/chunkenc/xor.ts";
import { Encoding } from "../../../shared/chunkenc/chunk.ts";
import { labelsFrom } from "../../../shared/labels/labels.ts";
import type { SampleIterator } from "../../../shared/storage/types.ts";

class ArrayIt implements SampleIterator {
  i = -1;
  constructor(readonly ts: number[], readonly vs: number[]) {}
  next() { this.i++; return this.i < this.ts.length; }
  seek(t: number) {
    if (this.i < 0) this.i = 0;
    while (this.i < this.ts.length && this.ts[this.i]! < t) this.i++;
    return this.i < this.ts.length;
  }
  at() { return this.ts[this.i]!; }
  value() { return this.vs[this.i]!; }
  isStale() { return false; }
  err() { return null; }
}

function drain(it: SampleIterator): { ts: number[]; vs: number[] } {
  const ts: number[] = [], vs: number[] = [];
  while (it.next()) { ts.push(it.at()); vs.push(it.value()); }
  return { ts, vs };
}

/** Replica sampling: every `step` ms from `start` to `end`, minus [gapFrom, gapTo), value f(t). */
function replica(start: number, end: number, step: number, f: (t: number) => number, gaps: [number, number][] = []) {
  const ts: number[] = [], vs: number[] = [];
  for (let t = start; t <= end; t += step) {
    if (gaps.some(([a, b]) => t >= a && t < b)) continue;
    ts.push(t); vs.push(f(t));
  }
  return new ArrayIt(ts, vs);
}

const STEP = 15_000;
const counter = (t: number) => Math.floor(t / 1000) * 3; // a counter increasing 3/s
const gauge = (t: number) => Math.sin(t / 60_000);

function assertSpacing(ts: number[], min: number, maxGap: number, what: string) {
  for (let i = 1; i < ts.length; i++) {
    const d = ts[i]! - ts[i - 1]!;
    assert.ok(d >= min, `${what}: samples ${ts[i - 1]} and ${ts[i]} only ${d} ms apart`);
    assert.ok(d <= maxGap, `${what}: gap of ${d} ms between ${ts[i - 1]} and ${ts[i]}`);
  }
}

test("identical replicas: output equals one replica exactly", () => {
  const a = replica(0, 600_000, STEP, gauge), b = replica(0, 600_000, STEP, gauge);
  const out = drain(new PenaltyIterator([a, b], false));
  const truth = drain(replica(0, 600_000, STEP, gauge));
  assert.equal(out, truth);
});

test("scrape jitter (B offset 7s): never doubles the frequency, stays on A", () => {
  const a = replica(0, 600_000, STEP, gauge), b = replica(7_000, 600_000, STEP, gauge);
  const out = drain(new PenaltyIterator([a, b], false));
  assert.equal(out, drain(replica(0, 600_000, STEP, gauge)));
});

test("gap in A is filled from B without a hole; gap in B later is filled from A", () => {
  const a = replica(0, 1_200_000, STEP, gauge, [[300_000, 450_000]]);
  const b = replica(5_000, 1_200_000, STEP, gauge, [[700_000, 900_000]]);
  const out = drain(new PenaltyIterator([a, b], false));
  // Truth: data exists at all times on one replica or the other, so no gap over 1.5 intervals (a switch can
  // land up to one jitter offset late), and no two samples closer than half an interval.
  assertSpacing(out.ts, STEP / 2, STEP + 5_000, "jittered gaps");
  assert.ok(out.ts[0] === 0 && out.ts.at(-1)! >= 1_185_000);
  for (let i = 0; i < out.ts.length; i++) assert.is(out.vs[i], gauge(out.ts[i]!)); // values from the right replica
});

test("thanos#981: after a long gap, a second switch does not skip real samples", () => {
  // A has a long gap; we move to B. Shortly after A comes back, B has a gap: A's samples must be used
  // immediately (Thanos' 2x-last-delta penalty would skip ~2x the first gap of A's data here).
  const a = replica(0, 1_800_000, STEP, gauge, [[300_000, 900_000]]);
  const b = replica(3_000, 1_800_000, STEP, gauge, [[960_000, 1_200_000]]);
  const out = drain(new PenaltyIterator([a, b], false));
  assertSpacing(out.ts, STEP / 2, STEP + 3_000, "second switch");
});

test("counter: switching replicas never produces a decrease (no fake reset)", () => {
  // Replica B's counter lags A's by a constant (it is a distinct counter instance, e.g. per-replica recording):
  // at a switch to B its raw value is below the last emitted one.
  const a = replica(0, 1_200_000, STEP, counter, [[300_000, 450_000]]);
  const b = replica(2_000, 1_200_000, STEP, (t) => counter(t) - 500, [[800_000, 950_000]]);
  const out = drain(new PenaltyIterator([a, b], true));
  for (let i = 1; i < out.vs.length; i++) assert.ok(out.vs[i]! >= out.vs[i - 1]!, `decrease at ${out.ts[i]}: ${out.vs[i - 1]} -> ${out.vs[i]}`);
  // And the increase over the whole range equals the truth's increase within one switch's lag (500).
  const inc = out.vs.at(-1)! - out.vs[0]!;
  const truthInc = counter(out.ts.at(-1)!) - counter(out.ts[0]!);
  assert.ok(Math.abs(inc - truthInc) <= 500, `increase ${inc} vs truth ${truthInc}`);
});

test("counter: a real reset on the replica we stay on is kept", () => {
  const f = (t: number) => (t < 600_000 ? counter(t) : counter(t - 600_000));
  const a = replica(0, 1_200_000, STEP, f), b = replica(4_000, 1_200_000, STEP, f);
  const out = drain(new PenaltyIterator([a, b], true));
  let drops = 0;
  for (let i = 1; i < out.vs.length; i++) if (out.vs[i]! < out.vs[i - 1]!) drops++;
  assert.is(drops, 1);
  assert.equal(out, drain(replica(0, 1_200_000, STEP, f)));
});

test("one replica only / one exhausted early", () => {
  const a = replica(0, 300_000, STEP, gauge);
  const b = replica(1_000, 900_000, STEP, gauge);
  const out = drain(new PenaltyIterator([a, b], false));
  assertSpacing(out.ts, STEP / 2, STEP + 1_000, "exhausted");
  assert.is(out.ts.at(-1), 886_000);
  assert.equal(drain(new PenaltyIterator([replica(0, 60_000, STEP, gauge)], false)), drain(replica(0, 60_000, STEP, gauge)));
  assert.equal(drain(new PenaltyIterator([new ArrayIt([], []), new ArrayIt([], [])], false)), { ts: [], vs: [] });
});

test("seek walks like next", () => {
  const mk = () => new PenaltyIterator([replica(0, 600_000, STEP, gauge, [[100_000, 200_000]]), replica(5_000, 600_000, STEP, gauge)], false);
  const all = drain(mk());
  const it = mk();
  assert.ok(it.seek(150_000));
  const k = all.ts.findIndex((t) => t >= 150_000);
  assert.is(it.at(), all.ts[k]);
  assert.ok(it.next());
  assert.is(it.at(), all.ts[k + 1]);
});

test("chain: union by timestamp, first replica wins ties", () => {
  const out = drain(new ChainIterator([new ArrayIt([1, 3, 5], [10, 30, 50]), new ArrayIt([2, 3, 6], [20, 99, 60])]));
  assert.equal(out, { ts: [1, 2, 3, 5, 6], vs: [10, 20, 30, 50, 60] });
  const it = new ChainIterator([new ArrayIt([1, 3, 5], [10, 30, 50]), new ArrayIt([2, 4], [20, 40])]);
  assert.ok(it.seek(4));
  assert.is(it.at(), 4);
  assert.ok(it.next());
  assert.is(it.at(), 5);
});

test("dedupSeries groups by labels without the replica label, sorted", () => {
  const s = (lbls: Record<string, string>, ts: number[]) => ({ labels: labelsFrom(lbls), iterator: () => new ArrayIt(ts, ts.map((t) => t / 1000)) });
  const out = dedupSeries(
    [
      s({ __name__: "up", job: "b", replica: "a" }, [0, 15_000]),
      s({ __name__: "up", job: "a", replica: "a" }, [0, 15_000]),
      s({ __name__: "up", job: "a", replica: "b" }, [3_000, 18_000, 33_000]),
    ],
    new Set(["replica"]),
  );
  assert.equal(out.map((x) => x.labels), [labelsFrom({ __name__: "up", job: "a" }), labelsFrom({ __name__: "up", job: "b" })]);
  assert.equal(drain(out[0]!.iterator()).ts, [0, 15_000, 33_000]);
});

test("penaltyMerge (whole decoded replicas, or chunks decoded as reached) equals PenaltyIterator sample for sample", () => {
  // Seeded random replicas: jittered scrape times, gaps, interval changes, counter resets, stale
  // markers and NaNs; 1 to 3 replicas; counter and gauge handling.
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const staleNaN = bitsFloat(STALE_HI, STALE_LO);
  for (let round = 0; round < 400; round++) {
    const k = 1 + Math.floor(rnd() * 3);
    const counter = rnd() < 0.5;
    const reps: { ts: number[]; vs: number[]; stale: boolean[] }[] = [];
    for (let r = 0; r < k; r++) {
      const ts: number[] = [], vs: number[] = [], stale: boolean[] = [];
      let t = Math.floor(rnd() * 20_000), v = rnd() * 100, step = [1000, 5000, 15_000, 30_000][Math.floor(rnd() * 4)]!;
      const n = Math.floor(rnd() * 200);
      for (let i = 0; i < n; i++) {
        const x = rnd();
        if (x < 0.03) t += step * (2 + Math.floor(rnd() * 10)); // gap
        else if (x < 0.05) step = [1000, 5000, 15_000, 30_000][Math.floor(rnd() * 4)]!;
        t += Math.max(1, step + Math.floor((rnd() - 0.5) * step * 1.8));
        const y = rnd();
        if (y < 0.03) { ts.push(t); vs.push(staleNaN); stale.push(true); continue; }
        if (y < 0.05) v = rnd() * 10; // reset
        else if (y < 0.06) { ts.push(t); vs.push(NaN); stale.push(false); continue; }
        else v += rnd() * 10;
        ts.push(t); vs.push(v); stale.push(false);
      }
      reps.push({ ts, vs, stale });
    }
    const its = reps.map((r) => {
      const it = new ArrayIt(r.ts, r.vs);
      it.isStale = () => r.stale[it.i]!;
      return it;
    });
    const want: { ts: number[]; vs: number[]; st: boolean[] } = { ts: [], vs: [], st: [] };
    const pit = new PenaltyIterator(its, counter);
    while (pit.next()) { want.ts.push(pit.at()); want.vs.push(pit.value()); want.st.push(pit.isStale()); }
    const bufs = reps.map((r) => {
      const b = new SampleBuffer(r.ts.length);
      r.ts.forEach((t, i) => b.push(t, r.vs[i]!, r.stale[i]!));
      return b;
    });
    const out = new SampleBuffer(4);
    penaltyMerge(bufs, k, counter, out);
    const got: { ts: number[]; vs: number[]; st: boolean[] } = { ts: [], vs: [], st: [] };
    for (let i = 0; i < out.n; i++) { got.ts.push(out.ts[i]!); got.vs.push(out.vs[i]!); got.st.push(staleAt(out, i)); }
    assert.equal(got, want, `round ${round} (k=${k}, counter=${counter})`);
    // The same replicas as XOR chunks of random sizes, decoded lazily (chunks skipped by time range).
    const chunked = reps.map((r) => {
      const chunks: SeriesChunk[] = [];
      for (let i = 0; i < r.ts.length; ) {
        const m = 1 + Math.floor(rnd() * 40);
        const a = new XorAppender();
        const from = i;
        for (; i < r.ts.length && i < from + m; i++) {
          if (r.stale[i]) a.appendStale(r.ts[i]!);
          else a.append(r.ts[i]!, r.vs[i]!);
        }
        chunks.push({ minTime: r.ts[from]!, maxTime: r.ts[i - 1]!, encoding: Encoding.XOR, data: a.bytes(), what: "test chunk" });
      }
      return { chunks, mint: -1e15, maxt: 1e15 };
    });
    const out2 = new SampleBuffer(4);
    penaltyMergeChunks(chunked, counter, out2);
    const got2: { ts: number[]; vs: number[]; st: boolean[] } = { ts: [], vs: [], st: [] };
    for (let i = 0; i < out2.n; i++) { got2.ts.push(out2.ts[i]!); got2.vs.push(out2.vs[i]!); got2.st.push(staleAt(out2, i)); }
    assert.equal(got2, want, `lazy chunks, round ${round} (k=${k}, counter=${counter})`);
  }
});

test.run();
