// The head (shared/tsdb/head): appends and reads, Prometheus' out-of-order / duplicate / out-of-bounds
// rules, staleness as a flag, chunk cutting at Prometheus 2.42's rules, the postings index against
// label matchers, truncation, and the WAL records a commit produces.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Head, appendErrorKind, type WalSink } from "../../../shared/tsdb/head/head.ts";
import { computeChunkEndTime, rangeForTimestamp } from "../../../shared/tsdb/head/series.ts";
import { labelsFrom, labelsString, type Labels } from "../../../shared/labels/labels.ts";
import { newMatcher, type Matcher } from "../../../shared/labels/matcher.ts";
import { XorIterator, xorNumSamples } from "../../../shared/chunkenc/xor.ts";
import { decodeSamples, decodeSeries, recordType, RecordType, SampleColumns } from "../../../shared/tsdb/wal/record.ts";
import { TsdbReader } from "../../../shared/tsdb/head/reader.ts";
import { MemoryQuerier } from "../../../shared/storage/memory.ts";
import { CodedError } from "../../../shared/encoding/errors.ts";

const H = 3600_000;
const T0 = 1_700_000_000_000; // not aligned to 2 h

function ls(o: Record<string, string>): Labels { return labelsFrom(o); }

async function add(h: Head, l: Labels, t: number, v: number, stale = false): Promise<void> {
  const a = h.appender();
  a.append(l, t, v, stale);
  await a.commit();
}

function thrown(f: () => void): Error {
  try { f(); } catch (e) { return e as Error; }
  throw new Error("expected an error");
}

/** Samples of a series in the head as [t, v | "stale"]. */
async function samples(h: Head, l: Labels, mint = -Infinity, maxt = Infinity): Promise<[number, number | "stale"][]> {
  const ms = l.map((x) => newMatcher("=", x.name, x.value));
  const ss = await h.select(mint, maxt, ms);
  const s = ss.find((x) => labelsString(x.labels) === labelsString(l));
  if (!s) return [];
  const out: [number, number | "stale"][] = [];
  for (const c of s.chunks) {
    const it = new XorIterator(c.data);
    while (it.next()) if (it.at() >= mint && it.at() <= maxt) out.push([it.at(), it.isStale() ? "stale" : it.value()]);
    assert.is(it.err(), null);
  }
  return out;
}

test("append + commit: visible after commit, not before; rollback drops", async () => {
  const h = new Head({ chunkRange: 2 * H });
  const l = ls({ __name__: "x", a: "1" });
  const a = h.appender();
  a.append(l, T0, 1);
  a.append(l, T0 + 1000, 2);
  assert.equal(await samples(h, l), [], "nothing before commit");
  await a.commit();
  assert.equal(await samples(h, l), [[T0, 1], [T0 + 1000, 2]]);
  const b = h.appender();
  b.append(l, T0 + 2000, 3);
  b.rollback();
  assert.equal(await samples(h, l), [[T0, 1], [T0 + 1000, 2]]);
  assert.is(h.minTime, T0);
  assert.is(h.maxTime, T0 + 1000);
  // One appender per transaction.
  assert.match(thrown(() => a.append(l, T0 + 5000, 1)).message, /already committed/);
  let err = "";
  try { await a.commit(); } catch (e) { err = (e as Error).message; }
  assert.match(err, /already committed/);
});

test("out of order, duplicate and out of bounds follow Prometheus (errors name series and times)", async () => {
  const h = new Head({ chunkRange: 2 * H });
  const l = ls({ __name__: "x" });
  await add(h, l, T0 + 10_000, 1);
  const a = h.appender();
  let e = thrown(() => a.append(l, T0 + 5_000, 1));
  assert.is((e as { code?: string }).code, "bad_data");
  assert.is(appendErrorKind(e), "out_of_order");
  assert.match(e.message, /^out of order sample: series \{__name__="x"\}: timestamp 1700000005000 is before its newest sample at 1700000010000/);
  e = thrown(() => a.append(l, T0 + 10_000, 2));
  assert.is(appendErrorKind(e), "duplicate");
  assert.match(e.message, /^duplicate sample for timestamp/);
  a.append(l, T0 + 10_000, 1); // same value: accepted, ignored
  assert.is(a.length, 0);
  // The appender's own pending samples count as the series' newest.
  a.append(l, T0 + 20_000, 3);
  assert.is(appendErrorKind(thrown(() => a.append(l, T0 + 15_000, 3))), "out_of_order");
  a.append(l, T0 + 20_000, 3); // pending duplicate, same value
  await a.commit();
  assert.equal(await samples(h, l), [[T0 + 10_000, 1], [T0 + 20_000, 3]]);
  // Out of bounds: below max time - chunk range / 2.
  await add(h, l, T0 + 3 * H, 4);
  const b = h.appender();
  e = thrown(() => b.append(ls({ __name__: "new" }), T0 + 3 * H - H - 1, 1));
  assert.is(appendErrorKind(e), "out_of_bounds");
  assert.match(e.message, /^out of bounds: series \{__name__="new"\}/);
  b.append(ls({ __name__: "new" }), T0 + 2 * H, 1); // exactly at the window start: fine
  await b.commit();
  assert.is(h.stats.outOfOrder, 2);
  assert.is(h.stats.duplicates, 1);
  // Other Appendables word it around Prometheus' text (shared/promqltest's TestStorage).
  assert.is(appendErrorKind(new CodedError("bad_data", "append sample {a=\"b\"} at 5 ms: out of order sample (the series' newest is at 9 ms)")), "out_of_order");
  assert.is(appendErrorKind(new CodedError("unavailable", "out of order sample")), undefined, "only bad_data");
  assert.is(h.stats.outOfBounds, 1);
});

test("concurrent appenders: the later commit's stale sample is dropped and counted, like Prometheus", async () => {
  const h = new Head({ chunkRange: 2 * H });
  const l = ls({ __name__: "x" });
  const a = h.appender(), b = h.appender();
  a.append(l, T0 + 10, 1);
  b.append(l, T0 + 5, 2);
  await a.commit();
  await b.commit();
  assert.equal(await samples(h, l), [[T0 + 10, 1]]);
  assert.is(h.stats.outOfOrder, 1);
});

test("staleness markers are a flag end to end; a stale duplicate is a duplicate only with the same bits", async () => {
  const h = new Head({ chunkRange: 2 * H });
  const l = ls({ __name__: "x" });
  const a = h.appender();
  a.append(l, T0, 1);
  a.append(l, T0 + 1, NaN);
  a.append(l, T0 + 2, 0, true);
  await a.commit();
  assert.equal((await samples(h, l)).map(([t, v]) => [t, typeof v === "number" && Number.isNaN(v) ? "NaN" : v]), [[T0, 1], [T0 + 1, "NaN"], [T0 + 2, "stale"]]);
  const b = h.appender();
  b.append(l, T0 + 2, 0, true); // the same marker again: ignored
  assert.is(appendErrorKind(thrown(() => b.append(l, T0 + 2, NaN))), "duplicate", "a plain NaN is not the marker");
  b.rollback();
});

test("labels: empty values dropped, unsorted sorted, duplicates and empty sets refused", async () => {
  const h = new Head({ chunkRange: 2 * H });
  const a = h.appender();
  a.append([{ name: "b", value: "2" }, { name: "a", value: "1" }, { name: "c", value: "" }], T0, 1);
  await a.commit();
  assert.equal(await samples(h, ls({ a: "1", b: "2" })), [[T0, 1]]);
  const b = h.appender();
  assert.is(appendErrorKind(thrown(() => b.append([{ name: "a", value: "1" }, { name: "a", value: "2" }], T0, 1))), "invalid");
  assert.match(thrown(() => b.append([{ name: "a", value: "" }], T0, 1)).message, /empty labelset/);
  assert.match(thrown(() => b.append(ls({ a: "1" }), 1.5, 1)).message, /not an integer/);
});

test("chunk cutting: Prometheus' rules (range boundaries, the 30-sample estimate, 240 cap)", async () => {
  const range = 2 * H;
  assert.is(rangeForTimestamp(T0, range), Math.floor(T0 / range) * range + range);
  assert.is(rangeForTimestamp(-1, range), range, "Go truncates toward zero");
  assert.is(computeChunkEndTime(0, 29 * 15_000, range), Math.trunc(range / Math.trunc(range / (29 * 15_000 + 1) / 4)));
  assert.is(computeChunkEndTime(0, 3_000_000, range), range);

  // 15 s samples from an aligned start: 480 per 2 h -> the estimate gives 4 chunks of 120.
  const h = new Head({ chunkRange: range });
  const l = ls({ __name__: "x" });
  const start = Math.floor(T0 / range) * range;
  const a = h.appender();
  for (let i = 0; i < 960; i++) a.append(l, start + i * 15_000, i);
  await a.commit();
  const s = (await h.select(-Infinity, Infinity, [newMatcher("=", "__name__", "x")]))[0]!;
  const counts = s.chunks.map((c) => xorNumSamples(c.data));
  assert.equal(counts, [120, 120, 120, 120, 120, 120, 120, 120]);
  for (const c of s.chunks) {
    assert.is(rangeForTimestamp(c.minTime, range), rangeForTimestamp(c.maxTime, range), `chunk [${c.minTime}, ${c.maxTime}] stays in one range`);
  }
  // 1 s samples: the estimate after 30 samples would give more than 240 per chunk: cut at 240.
  const h2 = new Head({ chunkRange: range });
  const b = h2.appender();
  for (let i = 0; i < 1000; i++) b.append(l, start + i * 1000, 1);
  await b.commit();
  const s3 = (await h2.select(-Infinity, Infinity, []))[0]!; // no matchers: every series
  const c3 = s3.chunks.map((c) => xorNumSamples(c.data));
  assert.ok(c3.slice(0, -1).every((n) => n <= 241), `chunks ${c3}`);
  assert.is(c3.reduce((x, y) => x + y, 0), 1000);
  // A sample in the next range always starts a new chunk, even with few samples.
  const h3 = new Head({ chunkRange: range });
  const c = h3.appender();
  c.append(l, start + range - 1, 1);
  c.append(l, start + range, 2);
  await c.commit();
  const s4 = (await h3.select(-Infinity, Infinity, [newMatcher("=", "__name__", "x")]))[0]!;
  assert.equal(s4.chunks.map((x) => [x.minTime, x.maxTime]), [[start + range - 1, start + range - 1], [start + range, start + range]]);
});

test("postings: label matchers select the same series as a MemoryQuerier over the same data", async () => {
  const h = new Head({ chunkRange: 2 * H });
  const mem: { labels: Labels; ts: number[]; vs: number[] }[] = [];
  const a = h.appender();
  let k = 0;
  for (const job of ["api", "web", "db"]) {
    for (let i = 0; i < 7; i++) {
      const o: Record<string, string> = { __name__: i % 2 ? "req_total" : "up", job, instance: `i${i}` };
      if (i % 3 === 0) o.env = "prod";
      if (i === 5) o.empty_ok = "x";
      const l = ls(o);
      a.append(l, T0 + k, k);
      mem.push({ labels: l, ts: [T0 + k], vs: [k] });
      k++;
    }
  }
  await a.commit();
  const oracle = new MemoryQuerier(mem);
  const cases: Matcher[][] = [
    [newMatcher("=", "job", "api")],
    [newMatcher("=", "__name__", "up"), newMatcher("!=", "job", "web")],
    [newMatcher("=~", "instance", "i[0-3]"), newMatcher("=", "env", "")],
    [newMatcher("=~", "job", ".+"), newMatcher("!~", "env", "prod|dev")],
    [newMatcher("=", "env", "prod"), newMatcher("=~", "__name__", "up|req_total")],
    [newMatcher("!=", "empty_ok", ""), newMatcher("=~", "job", "api|db")],
    [newMatcher("=", "job", "nope")],
    [newMatcher("=~", "instance", ".*"), newMatcher("=", "job", "db")],
  ];
  for (const ms of cases) {
    const want = (await oracle.select({ start: 0, end: Infinity }, ms)).series.map((s) => labelsString(s.labels));
    const got = (await h.select(-Infinity, Infinity, ms)).map((s) => labelsString(s.labels));
    assert.equal(got, want, ms.map((m) => `${m.name}${m.type}${m.value}`).join(","));
  }
  const r = new TsdbReader(h, { acquire: () => ({ blocks: [], release() {} }) });
  assert.equal(await r.labelNames(0, Infinity, []), (await oracle.labelNames(0, 0, [])).names);
  assert.equal(await r.labelValues("instance", 0, Infinity, [newMatcher("=", "job", "api")]), (await oracle.labelValues("instance", 0, 0, [newMatcher("=", "job", "api")])).values);
  assert.equal(h.postings.list("job", "api").length, 7);
});

test("truncateMemory: drops chunks before the cut and empty series (index too); min valid time moves", async () => {
  const range = 2 * H;
  const h = new Head({ chunkRange: range });
  const base = Math.floor(T0 / range) * range;
  const old = ls({ __name__: "old" }), live = ls({ __name__: "live" });
  const a = h.appender();
  for (let i = 0; i < 60; i++) a.append(old, base + i * 60_000, i);
  for (let i = 0; i < 4 * 60; i++) a.append(live, base + i * 60_000, i);
  await a.commit();
  assert.ok(h.compactable(), "4 h of data in a 2 h head is compactable");
  assert.equal(h.nextBlockRange(), { mint: base, maxt: base + range });
  const blk = h.blockSeries(base, base + range);
  assert.equal(blk.map((s) => labelsString(s.labels)), ['{__name__="live"}', '{__name__="old"}']);
  for (const s of blk) for (const c of s.chunks) assert.ok(c.minTime >= base && c.maxTime < base + range);
  const removed = h.truncateMemory(base + range);
  assert.equal(removed.map((r) => labelsString(r.labels)), ['{__name__="old"}']);
  assert.is(h.numSeries, 1);
  assert.equal(h.postings.list("__name__", "old"), []);
  assert.is(h.minTime, base + range);
  assert.is(h.minValidTime, base + range);
  assert.equal((await samples(h, live))[0], [base + range, 120]);
  const b = h.appender();
  assert.is(appendErrorKind(thrown(() => b.append(ls({ __name__: "late" }), base + range - 1, 1))), "out_of_bounds");
  // An old series appearing again gets a new ref.
  b.append(old, base + 4 * H, 1);
  await b.commit();
  assert.ok(h.series(1) === undefined);
});

test("a series held by an open appender survives truncation; the cut waits for appenders below it", async () => {
  const range = 2 * H;
  const h = new Head({ chunkRange: range });
  const base = Math.floor(T0 / range) * range;
  const a = h.appender();
  a.append(ls({ __name__: "p" }), base + 3 * H, 1);
  assert.is(h.lowestPendingTime(), base + 3 * H);
  h.truncateMemory(base + range);
  const b = h.appender();
  b.append(ls({ __name__: "q" }), base + 4 * H, 1);
  await b.commit();
  await a.commit();
  assert.equal(await samples(h, ls({ __name__: "p" })), [[base + 3 * H, 1]]);
  assert.is(h.lowestPendingTime(), Infinity);
});

test("commit writes one Series record for new series and one Samples record, before applying", async () => {
  const recs: Uint8Array[][] = [];
  let synced = 0;
  const wal: WalSink = { log: (r) => { recs.push(r.map((x) => x.slice())); }, sync: async () => { synced++; } };
  const h = new Head({ chunkRange: 2 * H, wal });
  const x = ls({ __name__: "x" }), y = ls({ __name__: "y", k: "ü" });
  const a = h.appender();
  a.append(x, T0, 1);
  a.append(y, T0, 2, true);
  a.append(x, T0 + 1, -3.5);
  await a.commit();
  assert.is(recs.length, 1);
  assert.equal(recs[0]!.map(recordType), [RecordType.Series, RecordType.Samples]);
  assert.equal(decodeSeries(recs[0]![0]!).map((s) => [s.ref, labelsString(s.labels)]), [[1, '{__name__="x"}'], [2, '{__name__="y", k="ü"}']]);
  const c = new SampleColumns();
  decodeSamples(recs[0]![1]!, c);
  assert.equal([...c.refs.subarray(0, 3)], [1, 2, 1]);
  assert.equal([...c.ts.subarray(0, 3)], [T0, T0, T0 + 1]);
  assert.equal([c.hi[1], c.lo[1]], [0x7ff00000, 2], "stale marker bits in the record");
  assert.is(synced, 1);
  // A known series is not declared again.
  const b = h.appender();
  b.append(x, T0 + 2, 1);
  await b.commit();
  assert.equal(recs[1]!.map(recordType), [RecordType.Samples]);
  // A failing WAL write fails the commit and applies nothing.
  const bad = new Head({ chunkRange: 2 * H, wal: { log: () => { throw new Error("disk full"); }, sync: async () => {} } });
  const c2 = bad.appender();
  c2.append(x, T0, 1);
  let err: Error | null = null;
  try { await c2.commit(); } catch (e) { err = e as Error; }
  assert.match(err?.message ?? "", /disk full/);
  assert.equal(await samples(bad, x), []);
});

test("WAL replay rebuilds the same head (series refs kept, multi-ref series merged, old samples skipped)", async () => {
  const recs: Uint8Array[] = [];
  const wal: WalSink = { log: (r) => { for (const x of r) recs.push(x.slice()); }, sync: async () => {} };
  const h = new Head({ chunkRange: 2 * H, wal });
  const l1 = ls({ __name__: "a" }), l2 = ls({ __name__: "b" });
  for (let i = 0; i < 50; i++) {
    const a = h.appender();
    a.append(l1, T0 + i * 1000, i);
    if (i % 2) a.append(l2, T0 + i * 1000, i, i === 49);
    await a.commit();
  }
  const r = new Head({ chunkRange: 2 * H });
  r.minValidTime = T0 + 10_000;
  const c = new SampleColumns();
  for (const rec of recs) {
    if (recordType(rec) === RecordType.Series) for (const s of decodeSeries(rec)) r.replaySeries(s.ref, s.labels);
    else { c.reset(); decodeSamples(rec, c); r.replaySamples(c); }
  }
  // The same labels under another ref (a series GC'd and re-created): its samples join the series.
  r.replaySeries(99, l1);
  const c2 = new SampleColumns();
  c2.push(99, T0 + 60_000, 0x40590000, 0); // 100
  c2.push(77, T0 + 60_000, 0, 0); // unknown ref
  r.replaySamples(c2);
  assert.equal([...r.finishReplay().aliases], [[99, 1]]);
  // A new series never takes a ref the WAL used, even one that was only an alias.
  const na = r.appender();
  na.append(ls({ __name__: "fresh" }), T0 + 70_000, 1);
  await na.commit();
  assert.is((await r.select(-Infinity, Infinity, [newMatcher("=", "__name__", "fresh")])).length, 1);
  assert.ok(r.series(100) !== undefined, "the new series got ref 100, after the alias 99");
  assert.equal((await samples(r, l1)).length, 41);
  assert.equal((await samples(r, l1)).at(-1), [T0 + 60_000, 100]);
  assert.equal((await samples(r, l2)).at(-1), [T0 + 49_000, "stale"]);
  assert.is(r.series(1)!.ref, 1);
  assert.is(r.stats.replayUnknownRefs, 1);
  assert.is(r.stats.replayTooOld, 10 + 5);
});

test("replay of a large batch (applied series by series) gives what sample-by-sample application gives", async () => {
  const mk = () => { const h = new Head({ chunkRange: 2 * H }); for (let r = 1; r <= 50; r++) h.replaySeries(r, ls({ __name__: "m", r: String(r) })); h.minValidTime = T0 + 1000; return h; };
  const c = new SampleColumns();
  let x = 7;
  for (let k = 0; k < 200; k++) {
    for (let r = 1; r <= 50; r++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const jitter = x % 13 === 0 ? -30_000 : 0; // some out of order
      c.push(x % 41 === 0 ? 999 : r, T0 + k * 15_000 + jitter, x >>> 0, k);
    }
  }
  assert.ok(c.n >= 4096);
  const a = mk(), b = mk();
  a.replaySamples(c);
  for (let i = 0; i < c.n; i += 100) {
    const part = new SampleColumns();
    for (let j = i; j < Math.min(c.n, i + 100); j++) part.push(c.refs[j]!, c.ts[j]!, c.hi[j]!, c.lo[j]!);
    b.replaySamples(part);
  }
  assert.equal(a.stats, b.stats);
  assert.ok(a.stats.replayOutOfOrder > 0 && a.stats.replayUnknownRefs > 0 && a.stats.replayTooOld > 0);
  const all = async (h: Head) => (await h.select(-Infinity, Infinity, [newMatcher("=", "__name__", "m")])).map((s) => [labelsString(s.labels), s.chunks.map((ch) => [ch.minTime, ch.maxTime, [...ch.data].join(",")])]);
  assert.equal(await all(a), await all(b));
  assert.equal([a.minTime, a.maxTime], [b.minTime, b.maxTime]);
});

test.run();
