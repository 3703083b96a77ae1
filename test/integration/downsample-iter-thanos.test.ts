// Our querier's reading of downsampled series against Thanos' own, sample by sample and bit by bit,
// before any PromQL: test/lib/go/thanos-series-iter.go asks a store for series as Thanos' querier does
// and reads them with Thanos' query.NewPromSeriesSet (the aggregate per function, the counter-resets
// iterator, averages, chunk chaining, bounds); ours asks the same store through FanoutQuerier and reads
// StoreSeries iterators. Engine-free, so awkward data is fine here: counters resetting to 0, stale
// markers, NaNs, gaps of hours, irregular scrapes, series shorter than a window, and raw chunks of a
// newer block filling in after the downsampled ones.
// Needs `go` (the first run builds the Go program, a few minutes; then cached).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { createGrpcClients } from "../../agent/grpc/client.ts";
import { DiskSink, localBlockFiles } from "../../agent/tsdb/local.ts";
import { storeFromClients } from "../../shared/query/remote.ts";
import { floatBits } from "../../shared/chunkenc/xor.ts";
import { downsampleBlock, RES_1H, RES_5M } from "../../shared/compact/downsample.ts";
import { labelsString } from "../../shared/labels/labels.ts";
import { newMatcher } from "../../shared/labels/matcher.ts";
import { ProxyStore } from "../../shared/query/proxy.ts";
import { FanoutQuerier } from "../../shared/query/querier.ts";
import { openBlock } from "../../shared/tsdb/block.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";
import { writeRawBlock } from "../lib/downsample-data.ts";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";
import { thanosSeriesIter } from "../lib/thanos-downsample.ts";

const run = promisify(execFile);
const root = process.cwd();
const dir = tempDir("downsample-iter-").path;
const H = 3600_000;
const T0 = 1_700_000_000_000 - (1_700_000_000_000 % (2 * H));
let proc: Proc | null = null;
let addr = "";
let grpc: ReturnType<typeof createGrpcClients> | null = null;

async function downsample(bucket: string, from: string, res: number): Promise<string> {
  const files = localBlockFiles(join(bucket, from));
  try {
    const u = newUlid();
    assert.ok(await downsampleBlock(await openBlock(files), res, new DiskSink(bucket, u), { ulid: u }));
    return u;
  } finally {
    await files.close();
  }
}

test("set up: awkward raw blocks, their 5m and 1h blocks, our store gateway", async () => {
  await thanosSeriesIter();
  const b = join(dir, "bucket");
  mkdirSync(b);
  const gen = { seed: 21, series: 36, mint: T0, maxt: T0 + 62 * H, interval: 30_000, ext: { cluster: "it" } };
  const [u1, u2] = [newUlid(T0), newUlid(T0 + 60 * H)];
  await writeRawBlock(new DiskSink(b, u1), { ...gen, ulid: u1, keep: [T0, T0 + 60 * H] });
  await writeRawBlock(new DiskSink(b, u2), { ...gen, ulid: u2, keep: [T0 + 60 * H, T0 + 62 * H] });
  await downsample(b, await downsample(b, u1, RES_5M), RES_1H);
  const yml = join(dir, "bucket.yml");
  writeFileSync(yml, `type: FILESYSTEM\nconfig:\n  directory: ${b}\n`);
  const [h, g] = [await freePort(), await freePort()];
  proc = startProcess(join(root, "node_modules/.bin/bun"), ["agent/main.ts", "store", `--objstore.config-file=${yml}`,
    `--grpc-address=127.0.0.1:${g}`, `--http-address=127.0.0.1:${h}`, "--log.level=warn"], { cwd: root });
  await waitForHttp(`http://127.0.0.1:${h}/-/ready`, proc, 60_000);
  addr = `127.0.0.1:${g}`;
  grpc = createGrpcClients(addr);
});

interface Out { labels: string; samples: [string, string][]; err: string }

async function theirs(mint: number, maxt: number, maxRes: number, func: string): Promise<Out[]> {
  const req = { mint, maxt, maxRes, func, matchers: [["=~", "__name__", "ds_.*"]] };
  const { stdout } = await run(await thanosSeriesIter(), [addr, JSON.stringify(req)], { maxBuffer: 1 << 28 });
  return JSON.parse(stdout) as Out[];
}

async function ours(mint: number, maxt: number, maxRes: number, func: string): Promise<Out[]> {
  const q = new FanoutQuerier(new ProxyStore([storeFromClients(`grpc://${addr}`, grpc!)]), { maxResolutionMs: maxRes, partialResponse: false });
  const r = await q.select({ start: mint, end: maxt, func: func || undefined }, [newMatcher("=~", "__name__", "ds_.*")]);
  return r.series.map((s) => {
    const it = s.iterator();
    const samples: [string, string][] = [];
    while (it.next()) {
      const [hi, lo] = floatBits(it.value());
      samples.push([String(it.at()), it.isStale() ? "stale" : ((BigInt(hi) << 32n) | BigInt(lo)).toString(16)]);
    }
    return { labels: labelsString(s.labels), samples, err: it.err()?.message ?? "" };
  });
}

const FUNCS = ["rate", "increase", "resets", "max_over_time", "min_over_time", "count_over_time", "sum_over_time", "", "sum", "avg_over_time"];
const WINDOWS: [string, number, number][] = [
  ["all, into the newer raw block", T0 + H + 17, T0 + 62 * H],
  ["mid-chunk to mid-chunk", T0 + 10 * H + 123_457, T0 + 31 * H + 7],
];

for (const res of [RES_5M, RES_1H]) {
  test(`max_resolution_window=${res}: every function reads the same samples as Thanos' querier`, async () => {
    let samples = 0, series = 0;
    for (const [name, mint, maxt] of WINDOWS) {
      for (const f of FUNCS) {
        const [want, got] = [await theirs(mint, maxt, res, f), await ours(mint, maxt, res, f)];
        const what = `${f || "(no function)"} over ${name}`;
        assert.ok(want.length >= 30, `${what}: Thanos read ${want.length} series`);
        assert.equal(got.map((s) => s.labels).join("\n"), want.map((s) => s.labels).join("\n"), `${what}: series`);
        for (let i = 0; i < want.length; i++) {
          assert.is(got[i]!.err, "", `${what}: ${got[i]!.labels}: our error`);
          assert.is(want[i]!.err, "", `${what}: ${want[i]!.labels}: Thanos' error`);
          const [g, w] = [got[i]!.samples, want[i]!.samples];
          if (JSON.stringify(g) !== JSON.stringify(w)) {
            let k = 0;
            while (k < Math.min(g.length, w.length) && g[k]![0] === w[k]![0] && g[k]![1] === w[k]![1]) k++;
            assert.unreachable(`${what}: ${want[i]!.labels}: ${g.length} vs ${w.length} samples, first difference at ${k}: ours ${JSON.stringify(g[k])}, Thanos ${JSON.stringify(w[k])}`);
          }
          samples += w.length;
        }
        series += want.length;
      }
    }
    console.log(`max_resolution_window=${res}: ${series} series, ${samples} samples read identically`);
  });
}

test("stop", async () => {
  grpc?.close();
  await proc?.stop();
});

test.run();
