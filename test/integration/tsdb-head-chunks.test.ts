// The head's chunk cutting against Prometheus 2.42's head: the same samples, in the same order and
// commits, go to a real Prometheus (remote write, one request per minute of data) and through our
// Appender API. Prometheus cuts its head into 2 h blocks by itself; the blocks we cut must hold, per
// series, the same chunks: same time ranges and the same bytes. Then our WAL reader reads the WAL that
// Prometheus wrote (snappy records, after its own checkpointing) and finds the samples of its head.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { tempDir } from "../lib/proc.ts";
import { startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { openTSDB } from "../../agent/tsdb/db.ts";
import { localBlockFiles } from "../../agent/tsdb/local.ts";
import { replayWal } from "../../agent/tsdb/wal/wal.ts";
import { openBlock, type Block } from "../../shared/tsdb/block.ts";
import { expandPostings } from "../../shared/tsdb/postings.ts";
import { labelsString } from "../../shared/labels/labels.ts";
import { snappyEncode } from "../../shared/remote/snappy.ts";
import { WriteRequestSchema } from "../../shared/gen/prometheus/remote_pb.ts";
import { decodeSamples, decodeSeries, recordType, RecordType, SampleColumns } from "../../shared/tsdb/wal/record.ts";
import { generateDataset, T0 } from "../promql/data.ts";

const H = 3600_000;
const ds = generateDataset({ hours: 5 });

/** (series index, sample index) in time order, cut into one batch per minute of data. */
function minuteBatches(): { s: number; i: number }[][] {
  const rows: { s: number; i: number; t: number }[] = [];
  ds.series.forEach((s, si) => s.ts.forEach((t, i) => rows.push({ s: si, i, t })));
  rows.sort((a, b) => a.t - b.t || a.s - b.s);
  const out: { s: number; i: number }[][] = [];
  let cur: { s: number; i: number }[] = [];
  let minute = Math.floor(rows[0]!.t / 60_000);
  for (const r of rows) {
    const m = Math.floor(r.t / 60_000);
    if (m !== minute) { out.push(cur); cur = []; minute = m; }
    cur.push(r);
  }
  out.push(cur);
  return out;
}

let prom: Prometheus;

test.after(async () => { await prom?.stop(); });

async function blocksIn(dir: string): Promise<Block[]> {
  const out: Block[] = [];
  for (const n of readdirSync(dir).filter((x) => /^[0-9A-Z]{26}$/.test(x) && existsSync(join(dir, x, "meta.json")))) out.push(await openBlock(localBlockFiles(join(dir, n))));
  return out.sort((a, b) => a.meta.minTime - b.meta.minTime);
}

/** labels -> [minTime, maxTime, chunk bytes as hex][] of a block. */
async function chunkMap(b: Block): Promise<Map<string, [number, number, string][]>> {
  const out = new Map<string, [number, number, string][]>();
  const refs = expandPostings(await b.index.allPostings());
  for (const s of await b.index.series(refs)) {
    const datas = await b.chunks.chunks(s.chunks.map((c) => c.ref));
    out.set(labelsString(s.labels), s.chunks.map((c, k) => [c.minTime, c.maxTime, Buffer.from(datas[k]!.data).toString("hex")]));
  }
  return out;
}

test("blocks cut by our head hold the same chunks, byte for byte, as Prometheus' head cuts from the same samples", async () => {
  const promDir = tempDir("chunks-prom-").path;
  prom = await startPrometheus({ dataDir: promDir, args: ["--web.enable-remote-write-receiver"] });
  const ours = await openTSDB(tempDir("chunks-ours-").path, { blockDurationMs: 2 * H, checkIntervalMs: 0 });
  const batches = minuteBatches();
  for (const batch of batches) {
    const bySeries = new Map<number, number[]>();
    for (const r of batch) { const l = bySeries.get(r.s) ?? []; l.push(r.i); bySeries.set(r.s, l); }
    const req = create(WriteRequestSchema, {
      timeseries: [...bySeries].map(([s, idx]) => ({
        labels: ds.series[s]!.labels.map((l) => ({ name: l.name, value: l.value })),
        samples: idx.map((i) => ({ value: ds.series[s]!.vs[i]!, timestamp: BigInt(ds.series[s]!.ts[i]!) })),
      })),
    });
    const res = await fetch(`${prom.url}/api/v1/write`, {
      method: "POST",
      body: snappyEncode(toBinary(WriteRequestSchema, req)) as unknown as BodyInit,
      headers: { "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "0.1.0" },
    });
    assert.is(res.status, 204, `remote write: ${await res.text()}`);
    const app = ours.appender();
    for (const r of batch) app.append(ds.series[r.s]!.labels, ds.series[r.s]!.ts[r.i]!, ds.series[r.s]!.vs[r.i]!);
    await app.commit();
  }
  await ours.compact();
  const ourBlocks = ours.blocks();
  assert.ok(ourBlocks.length >= 2, `${ourBlocks.length} blocks`);
  // Prometheus compacts its head on its own (checked after commits and every minute).
  const deadline = Date.now() + 120_000;
  let theirs: Block[] = [];
  while (Date.now() < deadline) {
    theirs = await blocksIn(promDir);
    if (theirs.length >= ourBlocks.length) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  assert.equal(theirs.map((b) => [b.meta.minTime, b.meta.maxTime]), ourBlocks.map((m) => [m.minTime, m.maxTime]), "the same block ranges");
  const mine = await blocksIn(ours.dir);
  let chunks = 0;
  for (let k = 0; k < mine.length; k++) {
    const [a, b] = await Promise.all([chunkMap(theirs[k]!), chunkMap(mine[k]!)]);
    assert.equal([...b.keys()], [...a.keys()], `series of block ${k}`);
    for (const [ls, want] of a) {
      const got = b.get(ls)!;
      assert.equal(got.map((c) => [c[0], c[1]]), want.map((c) => [c[0], c[1]]), `chunk ranges of ${ls} in block ${k}`);
      for (let c = 0; c < want.length; c++) assert.is(got[c]![2], want[c]![2], `bytes of chunk ${c} of ${ls} in block ${k}`);
      chunks += want.length;
    }
    assert.equal(mine[k]!.meta.stats, theirs[k]!.meta.stats, `stats of block ${k}`);
    // meta.json as Prometheus writes it, but for the ULIDs.
    const text = (dir: string, b: Block) => readFileSync(join(dir, b.ulid, "meta.json"), "utf8").replaceAll(b.ulid, "ULID");
    assert.is(text(ours.dir, mine[k]!), text(promDir, theirs[k]!), `meta.json of block ${k}`);
  }
  assert.ok(chunks > 500, `${chunks} chunks compared`);
  await ours.close();

  // Prometheus' own WAL (snappy-compressed, possibly checkpointed): our reader gets every sample of its head.
  await prom.stop();
  const seen = new Map<number, number>(); // ref -> samples
  const refs = new Map<number, string>();
  const res = replayWal(join(promDir, "wal"), (rec) => {
    if (recordType(rec) === RecordType.Series) for (const s of decodeSeries(rec)) refs.set(s.ref, labelsString(s.labels));
    else if (recordType(rec) === RecordType.Samples) {
      const c = new SampleColumns();
      decodeSamples(rec, c);
      for (let i = 0; i < c.n; i++) if (c.ts[i]! >= theirs.at(-1)!.meta.maxTime) seen.set(c.refs[i]!, (seen.get(c.refs[i]!) ?? 0) + 1);
    }
  });
  assert.is(res.repairs.length, 0);
  const byLabels = new Map<string, number>();
  for (const [ref, n] of seen) byLabels.set(refs.get(ref)!, n);
  const headStart = theirs.at(-1)!.meta.maxTime;
  let compared = 0;
  for (const s of ds.series) {
    const n = s.ts.filter((t) => t >= headStart).length;
    if (n === 0) continue;
    assert.is(byLabels.get(labelsString(s.labels)), n, `samples of ${labelsString(s.labels)} in Prometheus' WAL`);
    compared++;
  }
  assert.ok(compared > 100);
});

test.run();
