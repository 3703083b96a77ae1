// Warm-up of the store gateway's code before it takes queries: a few hundred Series, LabelNames and
// LabelValues calls of the kinds a querier makes, against synthetic blocks held in memory.
//
// Why: a JavaScript engine runs new code slowly until it has seen it run (interpreter, then baseline,
// then optimising tiers). Measured behind a Thanos querier on 50 blocks (bench/store-data.ts blocks50,
// `range bench_metric{instance="i1234"}` over 24 h): the first query after start took 21 ms, the next
// twenty 4-8 ms, and only after ~200 queries did it settle at 1.7 ms, while Thanos' Go store answered
// 2.0 ms from the first. The code per call (postings lookup, series entries, chunk reads, the response
// writer) runs once per block per call, so it takes hundreds of calls to warm.
//
// The blocks are written by our block writer into a memory bucket and served by a BucketStore of their
// own: nothing is read from the real bucket and none of the real store's caches is touched. Raw blocks
// and a 5m-downsampled one, so the aggregate-chunk paths warm too.

import { create } from "@bufbuild/protobuf";
import { encodeAggrChunk } from "../chunkenc/aggr.ts";
import { Encoding } from "../chunkenc/chunk.ts";
import { XorAppender } from "../chunkenc/xor.ts";
import {
  Aggr, type LabelNamesRequest, LabelNamesRequestSchema, type LabelValuesRequest, LabelValuesRequestSchema, type SeriesRequest, SeriesRequestSchema,
} from "../gen/thanos/storepb/rpc_pb.ts";
import { LabelMatcher_Type } from "../gen/thanos/storepb/types_pb.ts";
import { compareLabels, labelsFrom, type Labels } from "../labels/labels.ts";
import { MemoryBucket } from "../objstore/memory.ts";
import { newUlid } from "../tsdb/ulid.ts";
import { BlockWriter, MemorySink, type WriterChunk } from "../tsdb/writer.ts";
import { BucketStore } from "./store.ts";

const H2 = 7_200_000;
const SERIES = 400;
const T0 = 1_600_000_000_000 - (1_600_000_000_000 % H2);

/** The synthetic blocks' span (ms): three raw 2 h blocks from `start`, and a 5m block over the same 6 h. */
export const WARMUP_SPAN = { start: T0, end: T0 + 3 * H2 } as const;

function xorChunk(mint: number, n: number, step: number, seed: number): WriterChunk {
  const a = new XorAppender();
  let v = seed;
  for (let i = 0; i < n; i++) { v += (i * 7 + seed) % 13; a.append(mint + i * step, v); }
  return { minTime: mint, maxTime: mint + (n - 1) * step, encoding: Encoding.XOR, data: a.bytes() };
}

async function putBlock(bkt: MemoryBucket, series: { labels: Labels; chunks: WriterChunk[] }[], mint: number, maxt: number, resolution: number): Promise<void> {
  const ulid = newUlid(mint + 1);
  const sink = new MemorySink();
  const w = new BlockWriter(sink, { ulid, minTime: mint, maxTime: maxt, thanos: { labels: { warmup: "1" }, downsample: { resolution }, source: "warmup" } });
  const syms = new Set<string>();
  for (const s of series) for (const l of s.labels) { syms.add(l.name); syms.add(l.value); }
  await w.start(syms);
  for (const s of series) await w.addSeries(s.labels, s.chunks);
  await w.finish();
  for (const [f] of sink.files) await bkt.upload(`${ulid}/${f}`, sink.file(f)!);
}

async function warmBucket(): Promise<MemoryBucket> {
  const bkt = new MemoryBucket("warmup");
  const labels = Array.from({ length: SERIES }, (_, k) => labelsFrom({ __name__: "warmup_metric", instance: `i${k}`, job: `j${k % 10}`, zone: `z${k % 3}` }))
    .sort(compareLabels);
  for (let b = 0; b < 3; b++) {
    const mint = T0 + b * H2;
    await putBlock(bkt, labels.map((l, i) => ({ labels: l, chunks: [xorChunk(mint, 120, 60_000, i + b)] })), mint, mint + H2, 0);
  }
  // 5m aggregates over the same 6 h: count, sum, min, max, counter, as Thanos' downsampler writes them.
  await putBlock(bkt, labels.map((l, i) => {
    const sub = (k: number) => xorChunk(T0, 72, 300_000, i + k).data;
    return { labels: l, chunks: [{ minTime: T0, maxTime: T0 + 71 * 300_000, encoding: Encoding.Aggr, data: encodeAggrChunk([sub(0), sub(1), sub(2), sub(3), sub(4)]) }] };
  }), T0, T0 + 3 * H2, 300_000);
  return bkt;
}

const eq = (name: string, value: string) => ({ type: LabelMatcher_Type.EQ, name, value });
const re = (name: string, value: string) => ({ type: LabelMatcher_Type.RE, name, value });
const neq = (name: string, value: string) => ({ type: LabelMatcher_Type.NEQ, name, value });

/** What the warm-up calls: the store's three calls, however they are reached (in process, over gRPC). */
export interface WarmUpTarget {
  series(req: SeriesRequest): Promise<void>;
  labelNames(req: LabelNamesRequest): Promise<unknown>;
  labelValues(req: LabelValuesRequest): Promise<unknown>;
}

/** A BucketStore over the synthetic blocks, and the calls to make of it. */
export interface WarmUpStore {
  store: BucketStore;
  /** The store itself as a target (Series through seriesEnveloped, the gRPC fast path's source). */
  direct: WarmUpTarget;
  /** The calls made, in the order made (one round). */
  requests: { series: SeriesRequest[]; labelNames: LabelNamesRequest[]; labelValues: LabelValuesRequest[] };
  /** Makes about `calls` calls of `target` (stopping early past `budgetMs`); the number made. */
  run(target: WarmUpTarget, calls: number, budgetMs: number): Promise<number>;
}

export async function warmUpStore(): Promise<WarmUpStore> {
  const store = new BucketStore({ bucket: await warmBucket(), bucketIndexMaxStaleMs: 0, preEncode: true });
  await store.sync();
  const ctx = { signal: new AbortController().signal };
  const mint = BigInt(T0), maxt = BigInt(T0 + 3 * H2);
  const series = (matchers: ReturnType<typeof eq>[], extra: Record<string, unknown> = {}) =>
    create(SeriesRequestSchema, { minTime: mint, maxTime: maxt, matchers, responseBatchSize: 64n, aggregates: [Aggr.COUNT, Aggr.SUM], ...extra });
  const requests = [
    series([eq("instance", "i7"), eq("__name__", "warmup_metric")]),
    series([eq("__name__", "warmup_metric"), eq("job", "j3")]),
    series([eq("__name__", "warmup_metric"), re("instance", "i1.*"), neq("zone", "z2")], { skipChunks: true }),
    series([re("job", "j1|j2"), eq("__name__", "warmup_metric")], { responseBatchSize: 1n }),
    series([eq("__name__", "warmup_metric"), eq("zone", "z1")], { maxResolutionWindow: 300_000n, aggregates: [Aggr.COUNTER] }),
    series([eq("instance", "i42")], { maxResolutionWindow: 300_000n, aggregates: [Aggr.COUNT, Aggr.SUM, Aggr.MIN, Aggr.MAX] }),
  ];
  const names = [create(LabelNamesRequestSchema, { start: mint, end: maxt }), create(LabelNamesRequestSchema, { start: mint, end: maxt, matchers: [eq("job", "j4")] })];
  const values = [
    create(LabelValuesRequestSchema, { label: "instance", start: mint, end: maxt }),
    create(LabelValuesRequestSchema, { label: "instance", start: mint, end: maxt, matchers: [eq("job", "j5")] }),
  ];
  return {
    store,
    requests: { series: requests, labelNames: names, labelValues: values },
    direct: {
      series: async (r) => { for await (const _ of store.seriesEnveloped(r, ctx, { reuse: true })) { /* written nowhere */ } },
      labelNames: (r) => store.labelNames(r, ctx),
      labelValues: (r) => store.labelValues(r, ctx),
    },
    async run(target, calls, budgetMs) {
      const t0 = Date.now();
      let done = 0;
      while (done < calls && Date.now() - t0 < budgetMs) {
        for (const r of requests) { await target.series(r); done++; }
        for (const r of names) { await target.labelNames(r); done++; }
        for (const r of values) { await target.labelValues(r); done++; }
      }
      return done;
    },
  };
}
