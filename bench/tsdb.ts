// TSDB block benchmarks: open cost of a 100k-series block (time, bytes held vs the symbol table and
// postings offset table), a selective select (time, range reads), writer throughput, and our dump
// against `promtool tsdb dump` on the same block.
//
//   bun bench/tsdb.ts            npx tsx --expose-gc bench/tsdb.ts
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Encoding } from "../shared/chunkenc/chunk.ts";
import { XorAppender } from "../shared/chunkenc/xor.ts";
import { compareLabels, labelsFrom, type Labels } from "../shared/labels/labels.ts";
import { newMatcher } from "../shared/labels/matcher.ts";
import { openBlock } from "../shared/tsdb/block.ts";
import { BlocksQuerier } from "../shared/tsdb/querier.ts";
import { CountingSource } from "../shared/tsdb/source.ts";
import { newUlid } from "../shared/tsdb/ulid.ts";
import { BlockWriter, type WriterChunk } from "../shared/tsdb/writer.ts";
import { DiskSink, localBlockFiles } from "../agent/tsdb/local.ts";

const runtime = typeof Bun !== "undefined" ? `bun ${Bun.version}` : `node ${process.version}`;
const gc = (): void => {
  if (typeof Bun !== "undefined") Bun.gc(true);
  else if (typeof (globalThis as { gc?: () => void }).gc === "function") (globalThis as unknown as { gc: () => void }).gc();
};
// Bun counts ArrayBuffers in heapUsed; Node reports them separately.
const heap = (): number => {
  gc(); gc();
  const m = process.memoryUsage();
  return typeof Bun !== "undefined" ? m.heapUsed : m.heapUsed + m.arrayBuffers;
};
const mb = (n: number) => (n / 1048576).toFixed(2) + " MiB";
const now = () => performance.now();
const dir = mkdtempSync(join(tmpdir(), "bench-tsdb-"));
const T0 = 1_700_000_000_000;

function seriesLabels(n: number): Labels[] {
  const out: Labels[] = [];
  for (let k = 0; k < n; k++) {
    out.push(labelsFrom({
      __name__: `metric_${k % 20}`,
      job: ["x", "y", "z", "w"][k % 4]!,
      instance: `${k % 3 === 0 ? "a" : "b"}${Math.floor(k / 3)}.example:9100`,
      pod: `pod-${k}`,
    }));
  }
  return out.sort(compareLabels);
}

function chunksFor(k: number, samples: number, step: number): WriterChunk[] {
  const out: WriterChunk[] = [];
  for (let i = 0; i < samples; i += 120) {
    const a = new XorAppender();
    const end = Math.min(samples, i + 120);
    let v = k;
    for (let j = i; j < end; j++) { v += (j * 7 + k) % 13; a.append(T0 + j * step, v); }
    out.push({ minTime: T0 + i * step, maxTime: T0 + (end - 1) * step, encoding: Encoding.XOR, data: a.bytes() });
  }
  return out;
}

async function writeBlockTo(parent: string, labels: Labels[], chunks: (k: number) => WriterChunk[]): Promise<{ path: string; seconds: number; samples: number }> {
  const ulid = newUlid();
  const t = now();
  const w = new BlockWriter(new DiskSink(parent, ulid), { ulid });
  const syms = new Set<string>();
  for (const ls of labels) for (const l of ls) { syms.add(l.name); syms.add(l.value); }
  await w.start(syms);
  for (let k = 0; k < labels.length; k++) await w.addSeries(labels[k]!, chunks(k));
  const meta = await w.finish();
  return { path: join(parent, ulid), seconds: (now() - t) / 1000, samples: meta.stats.numSamples };
}

console.log(`# tsdb benchmark on ${runtime}\n`);

// 1. Open a 100k-series block.
{
  const parent = join(dir, "big");
  mkdirSync(parent);
  const labels = seriesLabels(100_000);
  const w = await writeBlockTo(parent, labels, (k) => chunksFor(k, 4, 15_000));
  const indexSize = statSync(join(w.path, "index")).size;
  const reps = 5;
  let best = Infinity;
  let idxReads = 0;
  for (let r = 0; r < reps; r++) {
    const files = localBlockFiles(w.path);
    const idx = new CountingSource(files.index());
    const t = now();
    await openBlock({ ...files, index: () => idx });
    best = Math.min(best, now() - t);
    idxReads = idx.reads;
    await files.close();
  }
  // Memory: one more open, measured on its own, the block kept alive across the second reading.
  const files0 = localBlockFiles(w.path);
  const before = heap();
  const block = await openBlock(files0);
  const held = heap() - before;
  const toc = block.index.toc;
  const symbols = toc.series - toc.symbols;
  const pot = indexSize - 52 - toc.postingsTable;
  console.log("## open a 100k-series block");
  console.log(`series 100000, symbols ${block.index.symbolCount}, index ${mb(indexSize)}, symbol table ${mb(symbols)}, postings offset table ${mb(pot)}`);
  console.log(`open: best of ${reps} ${best.toFixed(1)} ms, ${idxReads} index range reads`);
  console.log(`held (reader's own count): ${mb(block.index.heldBytes())} = ${(block.index.heldBytes() / (symbols + pot)).toFixed(2)}x (symbols + postings offset table)`);
  console.log(`held (heap delta after GC): ${mb(held)} = ${(held / (symbols + pot)).toFixed(2)}x (symbols + postings offset table); ${(held / indexSize * 100).toFixed(1)}% of the index file\n`);
  await files0.close();

  // 2. Select {job="x", instance=~"a.*"}.
  const files = localBlockFiles(w.path);
  const idx = new CountingSource(files.index());
  const segs = new Map<number, CountingSource>();
  const b = await openBlock({ ...files, index: () => idx, chunkSegment: (n) => { let s = segs.get(n); if (!s) segs.set(n, (s = new CountingSource(files.chunkSegment(n)))); return s; } });
  const q = new BlocksQuerier([b]);
  const ms = [newMatcher("=", "job", "x"), newMatcher("=~", "instance", "a.*")];
  const times: number[] = [];
  let nSeries = 0, reads = { idx: 0, chunks: 0, idxBytes: 0, chunkBytes: 0 };
  for (let r = 0; r < 7; r++) {
    idx.reads = 0; idx.bytes = 0;
    for (const s of segs.values()) { s.reads = 0; s.bytes = 0; }
    const t = now();
    const res = await q.select({ start: T0, end: T0 + 3600_000 }, ms);
    let n = 0;
    for (const s of res.series) { const it = s.iterator(); while (it.next()) n++; }
    times.push(now() - t);
    nSeries = res.series.length;
    reads = { idx: idx.reads, chunks: [...segs.values()].reduce((a, s) => a + s.reads, 0), idxBytes: idx.bytes, chunkBytes: [...segs.values()].reduce((a, s) => a + s.bytes, 0) };
  }
  times.sort((a, b) => a - b);
  console.log(`## select {job="x", instance=~"a.*"} (${nSeries} series of 100000)`);
  console.log(`median ${times[3]!.toFixed(1)} ms (min ${times[0]!.toFixed(1)}), index range reads ${reads.idx} (${mb(reads.idxBytes)}), chunk range reads ${reads.chunks} (${mb(reads.chunkBytes)})\n`);
  await files.close();
}

// 3. Writer: 10k series x 2 h at 15 s.
{
  const parent = join(dir, "w");
  mkdirSync(parent);
  const labels = seriesLabels(10_000);
  const pre = labels.map((_, k) => chunksFor(k, 480, 15_000));
  const t = now();
  const enc = labels.map((_, k) => chunksFor(k, 480, 15_000));
  const encS = (now() - t) / 1000;
  void enc;
  const w1 = await writeBlockTo(parent, labels, (k) => pre[k]!);
  const w2 = await writeBlockTo(parent, labels, (k) => chunksFor(k, 480, 15_000));
  console.log("## writer: 10k series x 2 h at 15 s (4.8 M samples), to local disk");
  console.log(`block writer only (chunks pre-encoded): ${(w1.samples / w1.seconds / 1e6).toFixed(2)} M samples/s (${w1.seconds.toFixed(2)} s)`);
  console.log(`XOR encoding + block writer:           ${(w2.samples / w2.seconds / 1e6).toFixed(2)} M samples/s (${w2.seconds.toFixed(2)} s; encoding alone ${encS.toFixed(2)} s)\n`);

  // 4. Our dump vs promtool's on a 2k-series slice of the same shape (0.96 M lines).
  const dparent = join(dir, "dump");
  mkdirSync(join(dparent, "wal"), { recursive: true });
  await writeBlockTo(dparent, seriesLabels(2_000), (k) => chunksFor(k, 480, 15_000));
  const time = (cmd: string, args: string[]) => {
    const t = now();
    const r = spawnSync(cmd, args, { stdio: ["ignore", "ignore", "inherit"], maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}`);
    return (now() - t) / 1000;
  };
  const bun = join(process.cwd(), "node_modules/.bin/bun");
  const ours: number[] = [], theirs: number[] = [];
  for (let r = 0; r < 3; r++) {
    theirs.push(time("promtool", ["tsdb", "dump", dparent]));
    ours.push(time(bun, ["agent/main.ts", "tools", "tsdb", "dump", dparent]));
  }
  const lines = execFileSync("promtool", ["tsdb", "dump", dparent], { maxBuffer: 1 << 30 }).toString().split("\n").length - 1;
  const best = (a: number[]) => Math.min(...a);
  console.log(`## dump: 2k series x 480 samples (${lines} lines), best of 3, output to /dev/null`);
  console.log(`promtool tsdb dump ${best(theirs).toFixed(2)} s, bun agent tools tsdb dump ${best(ours).toFixed(2)} s, ratio ours/promtool ${(best(ours) / best(theirs)).toFixed(2)}`);
}

rmSync(dir, { recursive: true, force: true });
