// kill -9 proof of the ruler's TSDB (agent/tsdb/db.ts): a child process appends batches through the
// Appender API (small blocks and WAL segments, so block cuts, checkpoints and segment rotations happen
// constantly) and reports each batch on stdout once its commit() resolved; the parent kills it with
// SIGKILL at a random moment (also while it is still replaying), reopens the directory and checks:
//   - every reported batch is there, every sample exactly once, with its exact value (stale markers too);
//   - every batch is all or nothing (a commit is atomic), rolled-back batches are absent;
//   - the directory keeps opening after every crash (repair, never a refusal).
// At the end, after a clean close, `promtool tsdb dump` (Prometheus' own WAL + block readers) returns
// exactly the same samples.
//
// TSDB_CRASH_ROUNDS=n changes the number of rounds (default 40); rounds alternate Bun and Node children.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { tempDir } from "../lib/proc.ts";
import { promtool } from "../lib/prometheus.ts";
import { openTSDB } from "../../agent/tsdb/db.ts";
import { labelsString } from "../../shared/labels/labels.ts";
import { newMatcher } from "../../shared/labels/matcher.ts";
import { XorIterator } from "../../shared/chunkenc/xor.ts";
import { batchSeries, isRollback, OPTIONS, seriesLabels, STEP, T0, time, value, type Val } from "./tsdb/crash-workload.ts";

const ROOT = process.cwd();
const ROUNDS = Number(process.env.TSDB_CRASH_ROUNDS ?? 40);
const CONC = 3;

let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

interface Round { reported: number[]; output: string; killedAfterReady: boolean }

/** Run the child from batch `first`, SIGKILL it after `delayMs` (counted from READY, or from spawn). */
async function crashRound(dir: string, first: number, runtime: "bun" | "node", delayMs: number, beforeReady: boolean): Promise<Round> {
  const script = join(ROOT, "test/integration/tsdb/crash-workload.ts");
  const [cmd, args] = runtime === "bun"
    ? [join(ROOT, "node_modules/.bin/bun"), [script, dir, String(first), String(CONC)]]
    : [process.execPath, ["--import", "tsx", script, dir, String(first), String(CONC)]];
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  let ready = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const kill = () => { child.kill("SIGKILL"); };
  if (beforeReady) timer = setTimeout(kill, delayMs);
  child.stdout.on("data", (b: Buffer) => {
    out += b.toString();
    if (!ready && out.includes("READY\n")) {
      ready = true;
      if (!beforeReady) timer = setTimeout(kill, delayMs);
    }
  });
  child.stderr.on("data", (b: Buffer) => { err += b.toString(); });
  const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  if (timer) clearTimeout(timer);
  assert.is(child.signalCode, "SIGKILL", `child exited by itself (code ${code}): ${err.slice(-2000)}`);
  // Only complete lines count: a line cut by the kill was not fully written.
  const reported = out.split("\n").filter((l) => /^C \d+$/.test(l)).map((l) => Number(l.slice(2)));
  return { reported, output: err, killedAfterReady: ready };
}

/** Every sample in the TSDB, counted per chunk (a sample in a block and again in the head shows twice). */
async function contents(dir: string): Promise<{ samples: Map<string, Map<number, Val[]>>; repairs: number }> {
  const db = await openTSDB(dir, OPTIONS);
  const samples = new Map<string, Map<number, Val[]>>();
  try {
    for await (const s of db.reader.selectChunks(-1e15, 1e15, [newMatcher("=~", "__name__", ".+")])) {
      const key = labelsString(s.labels);
      let m = samples.get(key);
      if (!m) samples.set(key, (m = new Map()));
      for (const c of s.chunks) {
        const it = new XorIterator(c.data, c.what);
        while (it.next()) {
          const v: Val = it.isStale() ? "stale" : Number.isNaN(it.value()) ? "NaN" : it.value();
          const l = m.get(it.at()) ?? [];
          l.push(v);
          m.set(it.at(), l);
        }
        assert.is(it.err(), null, `chunk of ${key}`);
      }
    }
    if (process.env.TSDB_CRASH_DEBUG) console.log(JSON.stringify({ replay: db.stats().replay, head: db.stats().head, blocks: db.blocks().map((b) => [b.minTime, b.maxTime]) }));
    return { samples, repairs: db.stats().replay.repairs.length };
  } finally {
    await db.close();
  }
}

test(`kill -9 at random moments (${ROUNDS} rounds): every acknowledged sample survives exactly once, commits are atomic`, async () => {
  const dir = tempDir("tsdb-crash-").path;
  const acked = new Set<number>();
  let next = 0;
  let repairs = 0, killedEarly = 0, totalReported = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const runtime = r % 4 === 3 ? "node" : "bun";
    const beforeReady = r % 7 === 6;
    const delay = beforeReady ? 50 + Math.floor(rnd() * 400) : Math.floor(rnd() * 700);
    const round = await crashRound(dir, next, runtime, delay, beforeReady);
    if (!round.killedAfterReady) killedEarly++;
    for (const g of round.reported) acked.add(g);
    totalReported += round.reported.length;

    const { samples, repairs: rep } = await contents(dir);
    repairs += rep;
    // Which batches are present, and are they whole?
    const present = new Map<number, number>(); // batch -> samples found
    let maxSeen = next - 1;
    for (const [key, m] of samples) {
      for (const [t, vs] of m) {
        assert.is(vs.length, 1, `round ${r}: ${key} at ${t} stored ${vs.length} times`);
        const g = (t - T0) / STEP;
        assert.ok(Number.isInteger(g) && g >= 0, `round ${r}: ${key} has a sample at ${t}, not a batch time`);
        assert.ok(!isRollback(g), `round ${r}: rolled-back batch ${g} is present (${key})`);
        const i = Number(key.match(/series="s(\d+)"/)![1]);
        assert.ok(batchSeries(g, CONC).includes(i), `round ${r}: ${key} is not in batch ${g}`);
        assert.equal(vs[0], value(g, i), `round ${r}: value of ${key} at batch ${g}`);
        present.set(g, (present.get(g) ?? 0) + 1);
        if (g > maxSeen) maxSeen = g;
      }
    }
    if (process.env.TSDB_CRASH_DEBUG) console.log(`round ${r}: start ${next} reported ${round.reported.slice(0, 3)}..${round.reported.slice(-3)} maxSeen ${maxSeen}`);
    for (const [g, n] of present) assert.is(n, batchSeries(g, CONC).length, `round ${r}: batch ${g} is partly there (${n} of ${batchSeries(g, CONC).length} samples): a commit is not atomic`);
    for (const g of acked) assert.ok(present.has(g), `round ${r}: acknowledged batch ${g} is missing after the crash`);
    // The next child continues after everything that may have been written (acknowledged or not).
    next = Math.max(maxSeen, ...round.reported, next - 1) + 1;
    next += CONC - (next % CONC); // keep lanes aligned with batch numbers
  }
  assert.ok(acked.size > ROUNDS * 5, `enough batches acknowledged to mean something: ${acked.size}`);
  assert.ok(killedEarly >= 1, "some kills hit the child before it was ready (during replay)");
  console.log(`  ${ROUNDS} crashes: ${acked.size} acknowledged batches (${totalReported} reports), ${repairs} WAL repairs, ${killedEarly} kills before READY`);

  // After a clean close, Prometheus' readers see exactly our samples.
  const ours = await contents(dir);
  const { stdout } = await promtool(["tsdb", "dump", dir]);
  const theirs = new Map<string, number>();
  for (const line of stdout.split("\n")) {
    if (!line) continue;
    const m = /^(\{.*\}) (\S+) (\d+)$/.exec(line);
    assert.ok(m, `promtool line ${line}`);
    theirs.set(`${m![1]} ${m![3]}`, (theirs.get(`${m![1]} ${m![3]}`) ?? 0) + 1);
  }
  let n = 0;
  for (const [key, mm] of ours.samples) for (const t of mm.keys()) { n++; assert.is(theirs.get(`${key} ${t}`), 1, `promtool has ${key} at ${t} once`); }
  assert.is(theirs.size, n, "promtool has no samples we do not");
});

test.run();

export { seriesLabels, time };
