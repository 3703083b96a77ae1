// Our downsampler against Thanos' own (pkg/compact/downsample at v0.41.0, run by
// test/lib/go/thanos-downsample.go the way the compactor's processDownsampling runs it): on the same
// input block both must write the same bytes — every chunk segment file and the index — and the same
// meta.json (apart from the new ULID, Thanos' stale `files` list that its upload rewrites, and
// upload_time). Ours runs in-process under Node and as a CLI under Bun.
//
// Inputs (test/lib/downsample-data.ts): a 2.5-day raw block full of awkward data (counter resets, stale
// markers, NaNs, gaps, irregular intervals, series shorter than a window, duplicate timestamps and
// samples going back in time, many 120-sample chunks per series), asserted below to really contain all
// of that; a 12-day raw block whose 5m block (>= 10 days) then goes 5m -> 1h; a block reaching below 0 ms.
// Needs `go` (first run builds the Go program through the module proxy, about a minute; then cached).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { DiskSink, localBlockFiles } from "../../agent/tsdb/local.ts";
import { AggrType, aggrIterator, CounterResetsIterator } from "../../shared/chunkenc/aggr.ts";
import { XorIterator } from "../../shared/chunkenc/xor.ts";
import { downsampleBlock, RES_1H, RES_5M } from "../../shared/compact/downsample.ts";
import { labelsString } from "../../shared/labels/labels.ts";
import { openBlock, type Block } from "../../shared/tsdb/block.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";
import { writeRawBlock, type GenOptions } from "../lib/downsample-data.ts";
import { tempDir } from "../lib/proc.ts";
import { thanosDownsample, thanosDownsampler } from "../lib/thanos-downsample.ts";

const run = promisify(execFile);
const root = process.cwd();
const dir = tempDir("downsample-thanos-").path;
const H = 3600_000, D = 24 * H;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % (2 * H));

async function rawBlock(name: string, o: GenOptions): Promise<string> {
  const u = newUlid();
  await writeRawBlock(new DiskSink(join(dir, name), u), { ...o, ulid: u });
  return join(dir, name, u);
}

async function withBlock<T>(path: string, f: (b: Block) => Promise<T>): Promise<T> {
  const files = localBlockFiles(path);
  try { return await f(await openBlock(files)); } finally { await files.close(); }
}

/** Ours, in this process: returns the output block's directory. */
async function ours(inDir: string, outParent: string, res: number): Promise<string> {
  const u = newUlid();
  const m = await withBlock(inDir, (b) => downsampleBlock(b, res, new DiskSink(outParent, u), { ulid: u }));
  assert.ok(m, `ours wrote no block from ${inDir}`);
  return join(outParent, u);
}

/** Ours under Bun, through the CLI the bench uses. */
async function oursBun(inDir: string, outParent: string, res: number): Promise<string> {
  const { stdout } = await run(join(root, "node_modules/.bin/bun"), [join(root, "test/lib/downsample-cli.ts"), inDir, outParent, String(res)], { cwd: root, maxBuffer: 1 << 24 });
  return join(outParent, (JSON.parse(stdout.trim()) as { ulid: string }).ulid);
}

async function theirs(inDir: string, outParent: string, res: number): Promise<string> {
  return join(outParent, (await thanosDownsample(inDir, outParent, res)).ulid);
}

function metaOf(d: string): Record<string, unknown> {
  const m = JSON.parse(readFileSync(join(d, "meta.json"), "utf8")) as Record<string, unknown> & { thanos: Record<string, unknown> };
  // Not comparable: the new ULID; Thanos' `files` is the source block's list until its upload rewrites
  // it (ours lists the new block's files); upload_time is Go's zero time until upload.
  delete m.ulid;
  delete m.thanos.files;
  delete m.thanos.upload_time;
  return m;
}

/** Same bytes in every file but meta.json; the same meta modulo metaOf. */
function assertSameBlock(got: string, want: string, what: string): void {
  const files = (d: string) => ["index", ...readdirSync(join(d, "chunks")).map((f) => `chunks/${f}`)];
  assert.equal(files(got), files(want), `${what}: file list`);
  for (const f of files(want)) {
    const a = readFileSync(join(got, f)), b = readFileSync(join(want, f));
    if (!a.equals(b)) {
      let i = 0;
      while (i < Math.min(a.length, b.length) && a[i] === b[i]) i++;
      assert.unreachable(`${what}: ${f} differs (ours ${a.length} bytes, Thanos ${b.length}; first difference at byte ${i})`);
    }
  }
  assert.equal(metaOf(got), metaOf(want), `${what}: meta.json`);
}

/** What the raw input holds, read back independently of the generator. */
async function inputFeatures(path: string) {
  const f = { series: 0, multiChunk: 0, short: 0, stale: 0, nan: 0, backInTime: 0, duplicate: 0, resets: 0, gapsOver1h: 0, intervals: new Set<number>(), negative: 0 };
  await withBlock(path, async (b) => {
    const p = await b.index.allPostings();
    const refs: number[] = [];
    while (p.next()) refs.push(p.at());
    for (const s of await b.index.series(refs)) {
      f.series++;
      if (s.chunks.length > 1) f.multiChunk++;
      if (s.chunks[s.chunks.length - 1]!.maxTime - s.chunks[0]!.minTime < 5 * 60_000) f.short++;
      const counter = labelsString(s.labels).includes("_total");
      let pt = -Infinity, pv = NaN;
      for (const c of await b.chunks.chunks(s.chunks.map((c) => c.ref))) {
        const it = new XorIterator(c.data);
        while (it.next()) {
          const t = it.at(), v = it.value();
          if (t < 0) f.negative++;
          if (it.isStale()) { f.stale++; continue; }
          if (v !== v) { f.nan++; continue; }
          if (t < pt) f.backInTime++;
          else if (t === pt) f.duplicate++;
          else if (pt > -Infinity) {
            if (t - pt > H) f.gapsOver1h++;
            f.intervals.add(Math.round((t - pt) / 1000));
            if (counter && v < pv) f.resets++;
          }
          pt = t; pv = v;
        }
      }
    }
  });
  return f;
}

async function maxChunksPerSeries(path: string): Promise<number> {
  return await withBlock(path, async (b) => {
    const p = await b.index.allPostings();
    const refs: number[] = [];
    while (p.next()) refs.push(p.at());
    return Math.max(...(await b.index.series(refs)).map((s) => s.chunks.length));
  });
}

test("build Thanos' downsampler", async () => {
  assert.ok(await thanosDownsampler());
});

test("raw -> 5m over awkward data: the same bytes as Thanos (Node and Bun)", async () => {
  const raw = await rawBlock("a-raw", { seed: 7, series: 60, mint: T0, maxt: T0 + 60 * H, interval: 30_000 });
  const f = await inputFeatures(raw);
  // The input really holds what the comparison claims to cover.
  assert.ok(f.stale >= 10 && f.nan >= 10 && f.backInTime >= 5 && f.duplicate >= 5, JSON.stringify({ ...f, intervals: f.intervals.size }));
  assert.ok(f.resets >= 10 && f.gapsOver1h >= 3 && f.short >= 5 && f.multiChunk >= 40 && f.intervals.size >= 100, JSON.stringify({ ...f, intervals: f.intervals.size }));
  const want = await theirs(raw, join(dir, "a-go"), RES_5M);
  assertSameBlock(await ours(raw, join(dir, "a-ts"), RES_5M), want, "raw -> 5m (Node)");
  assertSameBlock(await oursBun(raw, join(dir, "a-bun"), RES_5M), want, "raw -> 5m (Bun)");
  assert.ok(await maxChunksPerSeries(want) >= 3, "5m series should span several AggrChunks");
});

test("raw -> 5m -> 1h over 12 days: the same bytes as Thanos at both steps, from either 5m block", async () => {
  const raw = await rawBlock("b-raw", { seed: 11, series: 30, mint: T0, maxt: T0 + 12 * D, interval: 60_000 });
  const go5 = await theirs(raw, join(dir, "b-go5"), RES_5M);
  const ts5 = await ours(raw, join(dir, "b-ts5"), RES_5M);
  assertSameBlock(ts5, go5, "raw -> 5m");
  const m5 = JSON.parse(readFileSync(join(go5, "meta.json"), "utf8")) as { minTime: number; maxTime: number };
  assert.ok(m5.maxTime - m5.minTime >= 10 * D, "the 5m block spans at least 10 days");
  const go1 = await theirs(go5, join(dir, "b-go1"), RES_1H);
  assertSameBlock(await ours(go5, join(dir, "b-ts1"), RES_1H), go1, "5m -> 1h (from Thanos' 5m block)");
  assertSameBlock(await ours(ts5, join(dir, "b-ts1b"), RES_1H), go1, "5m -> 1h (from our 5m block)");
  assertSameBlock(await oursBun(go5, join(dir, "b-bun1"), RES_1H), go1, "5m -> 1h (Bun)");
  assert.ok(await maxChunksPerSeries(go1) >= 2, "1h series should span several AggrChunks");
  // The 1h counters keep every reset: for counter series, the counter-resets iterator over 1h and over
  // 5m ends on the same total (gauges go negative, where a "counter" means nothing).
  await withBlock(go1, async (b1) => withBlock(go5, async (b5) => {
    const totals = async (b: Block) => {
      const p = await b.index.allPostings();
      const refs: number[] = [];
      while (p.next()) refs.push(p.at());
      const out: number[] = [];
      for (const s of await b.index.series(refs)) {
        if (!labelsString(s.labels).includes("_total")) continue;
        const it = new CounterResetsIterator((await b.chunks.chunks(s.chunks.map((c) => c.ref))).map((c) => aggrIterator(c.data, AggrType.Counter)!));
        let last = NaN;
        while (it.next()) last = it.value();
        out.push(last);
      }
      return out;
    };
    const [a, c] = [await totals(b1), await totals(b5)];
    assert.is(a.length, c.length);
    assert.ok(a.length >= 10);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - c[i]!) <= 1e-9 * Math.abs(c[i]!), `series ${i}: 1h total ${a[i]} vs 5m total ${c[i]}`);
  }));
});

test("a block reaching below 0 ms (negative timestamps dropped as Thanos drops them)", async () => {
  const raw = await rawBlock("c-raw", { seed: 3, series: 12, mint: -6 * H, maxt: 42 * H, interval: 45_000 });
  assert.ok((await inputFeatures(raw)).negative > 100);
  assertSameBlock(await ours(raw, join(dir, "c-ts"), RES_5M), await theirs(raw, join(dir, "c-go"), RES_5M), "raw -> 5m around 0");
});

test.run();
