// Our write-ahead log against Prometheus 2.42's own Go code (tsdb/wlog + tsdb/record, built from the
// module cache by test/integration/tsdb/walgo.go):
//   - framing: the same records logged in the same batches give byte-identical segment files;
//   - Prometheus reads our WAL (compressed or not, with a checkpoint) record for record, and we read a
//     WAL Prometheus wrote;
//   - damage: for a torn tail, a flipped CRC in the last record, a flipped byte in a middle record of
//     a middle segment, garbage in page padding and a half-written fragment header, Prometheus' repair
//     (what tsdb.Open does) and ours keep exactly the same records, and Prometheus reads our repaired
//     WAL without error.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile, spawn } from "node:child_process";
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { buildGo } from "../lib/gobuild.ts";
import { tempDir } from "../lib/proc.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import { decodeSamples, decodeSeries, encodeSamples, encodeSeries, recordType, RecordType, SampleColumns } from "../../shared/tsdb/wal/record.ts";
import { PAGE_SIZE } from "../../shared/tsdb/wal/wlog.ts";
import { listSegments, replayWal, Wal } from "../../agent/tsdb/wal/wal.ts";
import { checkpoint } from "../../agent/tsdb/wal/checkpoint.ts";

const run = promisify(execFile);
const GO_MOD = `module walgo

go 1.21

require (
	github.com/go-kit/log v0.2.1
	github.com/pkg/errors v0.9.1
	github.com/prometheus/prometheus v0.42.0
)
`;
let bin = "";

async function walgo(args: string[], stdin?: string): Promise<string> {
  if (stdin === undefined) return (await run(bin, args, { maxBuffer: 1 << 30 })).stdout;
  return await new Promise((resolve, reject) => {
    const p = spawn(bin, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "", err = "";
    p.stdout.on("data", (b) => { out += b; });
    p.stderr.on("data", (b) => { err += b; });
    p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`walgo ${args.join(" ")}: ${err}`))));
    p.stdin.end(stdin);
  });
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Batches of records like commits make: sometimes a series record, always a samples record, some big. */
function batches(n: number, seed = 1): Uint8Array[][] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out: Uint8Array[][] = [];
  let ref = 0;
  for (let b = 0; b < n; b++) {
    const recs: Uint8Array[] = [];
    const fresh = b % 5 === 0 ? 1 + Math.floor(rnd() * (b % 25 === 0 ? 900 : 20)) : 0;
    if (fresh) {
      recs.push(encodeSeries(Array.from({ length: fresh }, () => ({ ref: ++ref, labels: labelsFrom({ __name__: "rule:x", n: String(ref), team: rnd() < 0.5 ? "a☃" : "b" }) }))));
    }
    const c = new SampleColumns();
    const k = 1 + Math.floor(rnd() * (b % 17 === 0 ? 4000 : 40));
    for (let i = 0; i < k; i++) {
      const hi = i % 50 === 7 ? 0x7ff00000 : Math.floor(rnd() * 2 ** 32);
      c.push(1 + Math.floor(rnd() * Math.max(ref, 1)), 1_700_000_000_000 + b * 15_000 + i, hi >>> 0, i % 50 === 7 ? 2 : Math.floor(rnd() * 2 ** 32));
    }
    recs.push(encodeSamples(c));
    out.push(recs);
  }
  return out;
}

/** Records as Go prints them (JSON lines without "where"), from our decoders. */
function ourView(recs: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const rec of recs) {
    if (recordType(rec) === RecordType.Series) {
      out.push(JSON.stringify({ series: decodeSeries(rec).map((s) => ({ labels: Object.fromEntries(s.labels.map((l) => [l.name, l.value])), ref: s.ref })), type: "series" }));
    } else {
      const c = new SampleColumns();
      decodeSamples(rec, c);
      const samples: string[][] = [];
      for (let i = 0; i < c.n; i++) samples.push([String(c.refs[i]), String(c.ts[i]), c.hi[i]!.toString(16).padStart(8, "0") + c.lo[i]!.toString(16).padStart(8, "0")]);
      out.push(JSON.stringify({ samples, type: "samples" }));
    }
  }
  return out;
}

/** Go's JSON lines normalized to ourView's shape (keys sorted as ours). */
function goView(stdout: string): { recs: string[]; err: { err: string; segment?: number; offset?: number } | null } {
  const recs: string[] = [];
  let err: { err: string; segment?: number; offset?: number } | null = null;
  for (const line of stdout.split("\n")) {
    if (!line) continue;
    const j = JSON.parse(line);
    if (j.err) { err = j; continue; }
    if (j.type === "series") recs.push(JSON.stringify({ series: j.series.map((s: { labels: Record<string, string>; ref: number }) => ({ labels: Object.fromEntries(Object.entries(s.labels).sort(([a], [b]) => (a < b ? -1 : 1))), ref: s.ref })), type: "series" }));
    else if (j.type === "samples") recs.push(JSON.stringify({ samples: j.samples, type: "samples" }));
  }
  return { recs, err };
}

function ourRecords(dir: string): { recs: Uint8Array[]; repairs: number } {
  const recs: Uint8Array[] = [];
  const r = replayWal(dir, (rec) => { recs.push(rec.slice()); });
  return { recs, repairs: r.repairs.length };
}

async function writeOurs(dir: string, bs: Uint8Array[][], segmentSize: number, compress: boolean): Promise<void> {
  const w = Wal.open(dir, { segmentSize, compress });
  for (const b of bs) w.log(b);
  await w.close();
}

test.before(async () => {
  bin = await buildGo("walgo", GO_MOD, readFileSync(join(process.cwd(), "test/integration/tsdb/walgo.go"), "utf8"));
});

test("framing: byte-identical segment files for the same batches (2-page and 128 MiB segments)", async () => {
  const bs = batches(300);
  for (const size of [2 * PAGE_SIZE, 128 * 1024 * 1024]) {
    const ours = tempDir("wal-ours-").path, theirs = tempDir("wal-go-").path;
    await writeOurs(ours, bs, size, false);
    await walgo(["frame", theirs, String(size), "0"], bs.map((b) => b.map(hex).join(" ")).join("\n") + "\n");
    const a = readdirSync(ours).sort(), b = readdirSync(theirs).sort();
    assert.equal(a, b, `segment files for segment size ${size}`);
    if (size === 2 * PAGE_SIZE) assert.ok(a.length > 10, `${a.length} segments`);
    for (const f of a) assert.ok(readFileSync(join(ours, f)).equals(readFileSync(join(theirs, f))), `segment ${f} (size ${size}) differs`);
  }
});

test("Prometheus reads our WAL (snappy records, a checkpoint) and we read the WAL Prometheus wrote", async () => {
  const bs = batches(200, 7);
  const flat = bs.flat();
  const ours = tempDir("wal-ours-").path;
  await writeOurs(ours, bs, 4 * PAGE_SIZE, true);
  let g = goView(await walgo(["read", ours]));
  assert.is(g.err, null);
  assert.equal(g.recs, ourView(flat));
  // With a checkpoint over the older segments (every series kept, samples from a time on).
  const segs = listSegments(ours);
  const last = segs[Math.floor(segs.length / 2)]!.index;
  await checkpoint(ours, 0, last, () => true, 1_700_000_000_000 + 50 * 15_000, { compress: true, segmentSize: 4 * PAGE_SIZE });
  for (const s of segs) if (s.index <= last) (await import("node:fs")).rmSync(join(ours, s.name));
  g = goView(await walgo(["read", ours]));
  assert.is(g.err, null);
  assert.equal(g.recs, ourView(ourRecords(ours).recs), "Prometheus reads our checkpoint + segments as we do");
  // Their WAL, compressed by Go's snappy: we read it record for record.
  const theirs = tempDir("wal-go-").path;
  await walgo(["frame", theirs, String(4 * PAGE_SIZE), "1"], bs.map((b) => b.map(hex).join(" ")).join("\n") + "\n");
  const r = ourRecords(theirs);
  assert.is(r.repairs, 0);
  assert.equal(ourView(r.recs), ourView(flat));
});

type Damage = (dir: string) => string;
const damages: [string, Damage][] = [
  ["torn tail: the last segment cut inside its last record", (dir) => {
    const segs = listSegments(dir);
    const p = join(dir, segs[segs.length - 1]!.name);
    const b = readFileSync(p);
    let end = b.length;
    while (end > 0 && b[end - 1] === 0) end--;
    writeFileSync(p, b.subarray(0, end - 100));
    return p;
  }],
  ["flipped CRC byte in the last record", (dir) => {
    const segs = listSegments(dir);
    const p = join(dir, segs[segs.length - 1]!.name);
    const b = readFileSync(p);
    // Find the last fragment header by walking the fragments.
    let pos = 0, lastHdr = 0;
    while (pos + 7 <= b.length) {
      const typ = b[pos]! & 7;
      if (typ === 0) { pos = pos - (pos % PAGE_SIZE) + PAGE_SIZE; continue; }
      lastHdr = pos;
      pos += 7 + ((b[pos + 1]! << 8) | b[pos + 2]!);
    }
    b[lastHdr + 4]! ^= 0x40;
    writeFileSync(p, b);
    return p;
  }],
  ["flipped data byte in a middle record of a middle segment", (dir) => {
    const segs = listSegments(dir);
    const p = join(dir, segs[Math.floor(segs.length / 2)]!.name);
    const b = readFileSync(p);
    b[Math.floor(b.length / 3)]! ^= 0x10;
    writeFileSync(p, b);
    return p;
  }],
  ["garbage in the zero padding at the end of a page", (dir) => {
    const segs = listSegments(dir);
    const p = join(dir, segs[1]!.name);
    const b = readFileSync(p);
    let at = PAGE_SIZE - 1;
    while (at < b.length && b[at] !== 0) at += PAGE_SIZE;
    b[at] = 0x55;
    writeFileSync(p, b);
    return p;
  }],
  ["half a fragment header at the end (a write cut after its first bytes)", (dir) => {
    const segs = listSegments(dir);
    const p = join(dir, segs[segs.length - 1]!.name);
    const b = readFileSync(p);
    let end = b.length;
    while (end > 0 && b[end - 1] === 0) end--;
    writeFileSync(p, Buffer.concat([b.subarray(0, end), Buffer.from([1, 0, 9])]));
    return p;
  }],
];

for (const [name, damage] of damages) {
  test(`repair like Prometheus: ${name}`, async () => {
    const base = tempDir("wal-dmg-").path;
    await writeOurs(base, batches(120, 3), 2 * PAGE_SIZE, false);
    const segCount = listSegments(base).length;
    assert.ok(segCount >= 5, `${segCount} segments`);
    damage(base);
    const goDir = tempDir("wal-dmg-go-").path, ourDir = tempDir("wal-dmg-ours-").path;
    cpSync(base, goDir, { recursive: true });
    cpSync(base, ourDir, { recursive: true });
    // Both detect it.
    assert.ok(goView(await walgo(["read", goDir])).err, "Prometheus' reader reports the damage");
    await walgo(["repair", goDir]);
    const theirs = goView(await walgo(["read", goDir]));
    assert.is(theirs.err, null, "Prometheus reads its repaired WAL");
    const ours = ourRecords(ourDir);
    assert.is(ours.repairs, 1);
    assert.equal(ourView(ours.recs), theirs.recs, "the same records survive both repairs");
    const again = goView(await walgo(["read", ourDir]));
    assert.is(again.err, null, "Prometheus reads our repaired WAL without error");
    assert.equal(again.recs, theirs.recs);
    for (const s of listSegments(ourDir)) assert.is(statSync(join(ourDir, s.name)).size % PAGE_SIZE, 0, `segment ${s.name} is page-aligned after repair`);
  });
}

test.run();
