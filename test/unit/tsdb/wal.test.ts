// The write-ahead log: records (shared/tsdb/wal/record.ts), page framing and its reader
// (shared/tsdb/wal/wlog.ts), and the on-disk WAL with repair and checkpoints (agent/tsdb/wal/).
// Byte-compatibility with Prometheus' own wlog is proven against Go in test/integration/tsdb-wal-go.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../lib/proc.ts";
import {
  decodeSamples, decodeSeries, encodeSamples, encodeSeries, recordType, RecordType, SampleColumns,
} from "../../../shared/tsdb/wal/record.ts";
import { groupWrites, memorySegment, PAGE_SIZE, PageWriter, SegmentReader, type WalWrite } from "../../../shared/tsdb/wal/wlog.ts";
import { labelsFrom, labelsString } from "../../../shared/labels/labels.ts";
import { listCheckpoints, listSegments, replayWal, Wal } from "../../../agent/tsdb/wal/wal.ts";
import { checkpoint } from "../../../agent/tsdb/wal/checkpoint.ts";
import { crc32c } from "../../../shared/encoding/crc32c.ts";
import { fstatSync, fsync } from "node:fs";
import { promisify } from "node:util";

const fsyncP = promisify(fsync);

/** Deterministic pseudo-random bytes. */
function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 0xff; }
  return b;
}

/** Frame records into segments in memory: [segment bytes...]. */
function frame(recs: Uint8Array[][], segmentSize = 4 * PAGE_SIZE, compress = false): Uint8Array[] {
  const pw = new PageWriter(segmentSize, compress);
  const segs: Uint8Array[][] = [[]];
  for (const batch of recs) {
    for (const w of groupWrites(pw.write(batch))) {
      if (w === "rotate") segs.push([]);
      else segs[segs.length - 1]!.push(w.slice()); // views into the writer's buffer
    }
  }
  return segs.map((parts) => { const n = parts.reduce((s, p) => s + p.length, 0); const o = new Uint8Array(n); let k = 0; for (const p of parts) { o.set(p, k); k += p.length; } return o; });
}

function readAll(seg: Uint8Array, i = 0): { recs: Uint8Array[]; err: string | null; errOffset: number; end: number } {
  const r = new SegmentReader(memorySegment(seg), i, `seg${i}`);
  const recs: Uint8Array[] = [];
  while (r.next()) recs.push(r.record().slice());
  return { recs, err: r.err()?.reason ?? null, errOffset: r.err()?.offset ?? -1, end: r.end() };
}

test("records: series and samples round-trip (UTF-8 labels, negative times and deltas, stale bits)", () => {
  const series = [
    { ref: 1, labels: labelsFrom({ __name__: "up", job: "api" }) },
    { ref: 2 ** 40, labels: labelsFrom({ a: "ü☃", b: "x".repeat(300) }) },
    { ref: 3, labels: [] },
  ];
  const dec = decodeSeries(encodeSeries(series));
  assert.equal(dec.map((s) => [s.ref, labelsString(s.labels)]), series.map((s) => [s.ref, labelsString(s.labels)]));
  const c = new SampleColumns(2);
  c.push(10, 1_700_000_000_000, 0x7ff00000, 2);
  c.push(3, -5, 0x3ff00000, 0);
  c.push(2 ** 40, 1_800_000_000_000, 0xffffffff, 0xffffffff);
  const rec = encodeSamples(c);
  assert.is(recordType(rec), RecordType.Samples);
  const d = new SampleColumns(1);
  decodeSamples(rec, d);
  assert.is(d.n, 3);
  assert.equal([...d.refs.subarray(0, 3)], [10, 3, 2 ** 40]);
  assert.equal([...d.ts.subarray(0, 3)], [1_700_000_000_000, -5, 1_800_000_000_000]);
  assert.equal([...d.hi.subarray(0, 3)], [0x7ff00000, 0x3ff00000, 0xffffffff]);
  assert.equal([...d.lo.subarray(0, 3)], [2, 0, 0xffffffff]);
  // A negative base time (be64 two's complement).
  const n = new SampleColumns();
  n.push(1, -1_000_000_000_000, 0, 0);
  const nd = new SampleColumns();
  decodeSamples(encodeSamples(n), nd);
  assert.is(nd.ts[0], -1_000_000_000_000);
  // Empty samples record: just the type byte.
  assert.equal([...encodeSamples(new SampleColumns())], [RecordType.Samples]);
  decodeSamples(new Uint8Array([RecordType.Samples]), nd);
  // Damage is reported with the record and the offset.
  assert.throws(() => decodeSamples(rec.subarray(0, rec.length - 3), d, "samples record X"), /samples record X: truncated value after \d+ samples at offset/);
  assert.throws(() => decodeSeries(encodeSeries(series).subarray(0, 12), "series record Y"), /series record Y/);
});

test("framing: full / first-middle-last fragments, page padding, CRC-32C, records never cross segments", () => {
  const recs = [bytes(10, 1), bytes(PAGE_SIZE * 2 + 100, 2), bytes(PAGE_SIZE - 7 - 17 - 7 - 3, 3), bytes(1, 4), bytes(0, 5), bytes(5000, 6)];
  const segs = frame(recs.map((r) => [r]), 8 * PAGE_SIZE);
  assert.is(segs.length, 1);
  const seg = segs[0]!;
  // The first fragment: type full, be16 length, be32 CRC-32C.
  assert.equal([...seg.subarray(0, 3)], [1, 0, 10]);
  const crc = ((seg[3]! << 24) | (seg[4]! << 16) | (seg[5]! << 8) | seg[6]!) >>> 0;
  assert.is(crc, crc32c(recs[0]!));
  // The big record: first fragment fills the rest of page 0, then a middle page, then the last.
  assert.is(seg[17], 2, "first");
  assert.is(seg[PAGE_SIZE], 3, "middle");
  assert.is(seg[2 * PAGE_SIZE], 4, "last");
  const got = readAll(seg);
  assert.is(got.err, null);
  assert.equal(got.recs.map((r) => r.length), recs.map((r) => r.length));
  got.recs.forEach((r, i) => assert.equal(r, recs[i], `record ${i}`));
  // A record larger than what is left in the segment goes to the next one.
  const s2 = frame([[bytes(3 * PAGE_SIZE, 7)], [bytes(2 * PAGE_SIZE, 8)]], 4 * PAGE_SIZE);
  assert.is(s2.length, 2);
  assert.is(s2[0]!.length % PAGE_SIZE, 0, "a finished segment is page-padded");
  assert.equal(readAll(s2[1]!, 1).recs[0], bytes(2 * PAGE_SIZE, 8));
});

test("framing: compressed records carry the snappy flag and read back", () => {
  const rec = new Uint8Array(5000).fill(7);
  const seg = frame([[rec]], 4 * PAGE_SIZE, true)[0]!;
  assert.is(seg[0], 1 | 8, "full + snappy");
  assert.ok(((seg[1]! << 8) | seg[2]!) < 1000);
  assert.equal(readAll(seg).recs[0], rec);
  // Incompressible data stays plain (no flag).
  assert.is(frame([[bytes(500, 9)]], 4 * PAGE_SIZE, true)[0]![0], 1);
});

test("reader: a segment cut anywhere inside its last record keeps exactly the records before it", () => {
  const recs = [bytes(100, 1), bytes(PAGE_SIZE + 500, 2), bytes(300, 3)];
  const seg = frame(recs.map((r) => [r]), 8 * PAGE_SIZE)[0]!;
  const ends: number[] = [];
  { const r = new SegmentReader(memorySegment(seg), 0, "s"); while (r.next()) ends.push(r.end()); }
  for (let cut = 0; cut <= seg.length; cut += 37) {
    const got = readAll(seg.subarray(0, cut));
    const whole = ends.filter((e) => e <= cut).length;
    assert.is(got.recs.length, whole, `cut at ${cut}`);
    if (got.err) assert.is(got.errOffset, whole ? ends[whole - 1] : 0, `damage offset for cut at ${cut}`);
    assert.is(got.end, whole ? ends[whole - 1]! : 0);
  }
});

test("reader: flipped CRC, non-zero padding, broken fragment order and oversize lengths are damage at the record", () => {
  const recs = [bytes(100, 1), bytes(200, 2), bytes(PAGE_SIZE, 3), bytes(50, 4)];
  const seg = frame(recs.map((r) => [r]), 8 * PAGE_SIZE)[0]!;
  const flip = (at: number) => { const b = seg.slice(); b[at]! ^= 0x01; return b; };
  // CRC byte of the second record.
  let g = readAll(flip(107 + 3));
  assert.is(g.recs.length, 1);
  assert.match(g.err!, /unexpected checksum/);
  assert.is(g.errOffset, 107);
  // Data byte of the middle fragment of the third record: damage reported at the record's start.
  const third = 107 + 207;
  g = readAll(flip(PAGE_SIZE + 20));
  assert.is(g.recs.length, 2);
  assert.is(g.errOffset, third);
  // Length field too large.
  const big = seg.slice(); big[107 + 1] = 0xff; big[107 + 2] = 0xff;
  assert.match(readAll(big).err!, /invalid record size 65535/);
  // A "middle" fragment where a record starts.
  const mid = seg.slice(); mid[107] = 3;
  assert.match(readAll(mid).err!, /unexpected middle fragment at the start of a record/);
  // Garbage in the zero padding at the end of the last page.
  const pad = new Uint8Array(seg.length + (PAGE_SIZE - (seg.length % PAGE_SIZE)));
  pad.set(seg);
  pad[pad.length - 2] = 1;
  const gp = readAll(pad);
  assert.is(gp.recs.length, 4);
  assert.match(gp.err!, /non-zero byte in padded page/);
});

/** Write batches of records through Wal (real files) and return what replay sees. */
function replayRecords(dir: string): { recs: Uint8Array[]; repairs: ReturnType<typeof replayWal>["repairs"] } {
  const recs: Uint8Array[] = [];
  const res = replayWal(dir, (r) => { recs.push(r.slice()); });
  return { recs, repairs: res.repairs };
}

test("Wal on disk: log + reopen + replay; a torn tail is repaired and writing continues", async () => {
  const dir = tempDir("wal-").path;
  let w = Wal.open(dir, { segmentSize: 2 * PAGE_SIZE, sync: "fsync" });
  const want: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const batch = [bytes(1 + (i * 977) % 9000, i + 1), bytes(20, 1000 + i)];
    w.log(batch);
    want.push(...batch);
    await w.sync();
  }
  assert.ok(w.fsyncs >= 40);
  await w.close();
  const segs = listSegments(dir);
  assert.ok(segs.length >= 3, `rotated into ${segs.length} segments`);
  assert.equal(replayRecords(dir).recs, want);

  // Tear the last segment inside its last record (as a kill -9 in the middle of write(2) might).
  const last = join(dir, segs[segs.length - 1]!.name);
  const full = readFileSync(last);
  let cut = full.length;
  while (cut > 0 && full[cut - 1] === 0) cut--; // the close() padding
  writeFileSync(last, full.subarray(0, cut - 5));
  const r = replayRecords(dir);
  assert.equal(r.recs, want.slice(0, -1));
  assert.is(r.repairs.length, 1);
  assert.match(r.repairs[0]!.reason, /torn|checksum/);
  assert.is(statSync(last).size % PAGE_SIZE, 0, "the repaired segment is page-padded");
  // Writing continues in a new segment; everything reads back.
  w = Wal.open(dir, { segmentSize: 4 * PAGE_SIZE });
  w.log([bytes(77, 77)]);
  await w.close();
  assert.equal(replayRecords(dir).recs, [...want.slice(0, -1), bytes(77, 77)]);
});

test("a segment rotated while an fsync of it runs: the fsync completes (its descriptor is closed after it), every sync resolves, all records read back", async () => {
  const dir = tempDir("wal-rotate-sync-").path;
  // Each fsync waits 20 ms before it runs, as on a busy disk: the rotations below happen meanwhile. The
  // descriptor must still name the file it named when the fsync was asked for (a closed one fails with
  // EBADF, or worse, its number is reused by the next segment and the wrong file is synced).
  const slow = (fd: number) => {
    const ino = fstatSync(fd).ino;
    return new Promise<void>((r) => setTimeout(r, 20)).then(() => {
      if (fstatSync(fd).ino !== ino) throw new Error(`fd ${fd} names another file by the time it is synced`);
      return fsyncP(fd);
    });
  };
  const w = Wal.open(dir, { segmentSize: 2 * PAGE_SIZE, sync: "fsync", fsync: slow });
  const want: Uint8Array[] = [];
  const syncs: Promise<void>[] = [];
  for (let i = 0; i < 200; i++) {
    const batch = [bytes(3000 + (i * 131) % 2000, i + 1)];
    w.log(batch);
    want.push(...batch);
    // The fsync starts on the thread pool; the next log() rotates the segment under it (2 pages hold
    // about two batches) before it has finished.
    syncs.push(w.sync());
  }
  await Promise.all(syncs);
  await w.close();
  assert.ok(listSegments(dir).length > 5, "segments rotated under running fsyncs");
  assert.equal(replayRecords(dir).recs, want);
});

test("Wal on disk: damage in a middle segment drops that segment's rest and every later segment (Prometheus' repair)", async () => {
  const dir = tempDir("wal-mid-").path;
  const w = Wal.open(dir, { segmentSize: 2 * PAGE_SIZE });
  const want: Uint8Array[] = [];
  for (let i = 0; i < 60; i++) { const b = bytes(3000 + i, i + 1); w.log([b]); want.push(b); }
  await w.close();
  const segs = listSegments(dir);
  assert.ok(segs.length >= 3);
  // Flip a data byte of the second record of segment 1.
  const p = join(dir, segs[1]!.name);
  const b = readFileSync(p);
  const firstLen = (b[1]! << 8) | b[2]!;
  const second = 7 + firstLen;
  b[second + 7 + 10]! ^= 0xff;
  writeFileSync(p, b);
  const inSeg0 = (() => { const r = new SegmentReader(memorySegment(readFileSync(join(dir, segs[0]!.name))), 0, "s"); let n = 0; while (r.next()) n++; return n; })();
  const r = replayRecords(dir);
  assert.equal(r.recs, want.slice(0, inSeg0 + 1));
  assert.is(r.repairs[0]!.segment, 1);
  assert.equal(r.repairs[0]!.droppedSegments, segs.slice(2).map((s) => s.index));
  assert.equal(listSegments(dir).map((s) => s.index), [0, 1]);
});

test("a failed write leaves no partial record behind", async () => {
  const dir = tempDir("wal-fail-").path;
  const w = Wal.open(dir, { segmentSize: 4 * PAGE_SIZE });
  w.log([bytes(100, 1)]);
  // Close the descriptor under the WAL: the next write fails.
  const { closeSync } = await import("node:fs");
  closeSync((w as unknown as { fd: number }).fd);
  assert.throws(() => w.log([bytes(100, 2)]), /write WAL segment/);
  assert.throws(() => w.log([bytes(100, 3)]), /accepts no writes until restart/);
  assert.equal(replayRecords(dir).recs, [bytes(100, 1)]);
});

test("checkpoint: keeps wanted series and samples >= mint; replay reads the checkpoint then later segments", async () => {
  const dir = tempDir("wal-cp-").path;
  const w = Wal.open(dir, { segmentSize: 2 * PAGE_SIZE, compress: true });
  const lab = (i: number) => labelsFrom({ __name__: "m", i: String(i) });
  w.log([encodeSeries([1, 2, 3, 4].map((ref) => ({ ref, labels: lab(ref) })))]);
  for (let t = 0; t < 400; t++) {
    const c = new SampleColumns();
    for (let ref = 1; ref <= 4; ref++) c.push(ref, t * 1000, 0, t);
    w.log([encodeSamples(c)]);
  }
  w.nextSegment();
  const c = new SampleColumns();
  c.push(1, 999_000, 0, 1);
  w.log([encodeSamples(c)]);
  await w.close();
  const segs = listSegments(dir);
  const last = segs[segs.length - 2]!.index;
  const st = await checkpoint(dir, segs[0]!.index, last, (ref) => ref !== 3, 200_000, { compress: true, segmentSize: 2 * PAGE_SIZE });
  assert.is(st.droppedSeries, 1);
  assert.ok(st.droppedSamples >= 200 * 4);
  assert.equal(listCheckpoints(dir).map((x) => x.index), [last]);
  // Segments up to `last` can go now.
  for (const s of segs) if (s.index <= last) (await import("node:fs")).rmSync(join(dir, s.name));
  const seen = new Map<number, number[]>();
  let series: number[] = [];
  replayWal(dir, (rec) => {
    if (recordType(rec) === RecordType.Series) series = series.concat(decodeSeries(rec).map((s) => s.ref));
    else if (recordType(rec) === RecordType.Samples) {
      const d = new SampleColumns();
      decodeSamples(rec, d);
      for (let i = 0; i < d.n; i++) { const l = seen.get(d.refs[i]!) ?? []; l.push(d.ts[i]!); seen.set(d.refs[i]!, l); }
    }
  });
  assert.equal(series, [1, 2, 4]);
  assert.is(seen.get(2)!.length, 200);
  assert.is(seen.get(2)![0], 200_000);
  assert.is(seen.get(1)!.at(-1), 999_000);
  assert.is(seen.get(3)!.length, 200, "samples of a dropped series stay only if their series is kept: Prometheus filters samples by time only");
  assert.ok(!existsSync(join(dir, `checkpoint.${String(last).padStart(8, "0")}.tmp`)));
  mkdirSync(join(dir, "ignored"));
  assert.ok(readdirSync(dir).includes("ignored"));
});

test.run();

export type { WalWrite };
