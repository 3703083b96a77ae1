// Protocol-layer throughput on one core: the STREAMED_XOR_CHUNKS frame parser (what a sidecar does
// with every byte Prometheus sends), the SAMPLES decoder, and a StoreAPI Series stream through the
// Connect and gRPC-Web handlers in memory (hono app.fetch, no socket) — the per-series RPC cost.
// Run: bun bench/remote.ts   |   npx tsx bench/remote.ts   (optional arg: seconds per figure, default 1)
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeChunkedFrame, readChunkedStream } from "../shared/remote/stream.ts";
import { decodeReadResponse } from "../shared/remote/read.ts";
import { snappyEncode } from "../shared/remote/snappy.ts";
import { decodeSamplesResponse, decodeRawReadResponse } from "../shared/remote/samples.ts";
import { snappyDecode } from "../shared/remote/snappy.ts";
import { fromBinary } from "@bufbuild/protobuf";
import { ReadResponseSchema } from "../shared/gen/prometheus/remote_pb.ts";
import { storeApiApp } from "../shared/rpc/server.ts";
import { createStoreClient, type FetchFn } from "../shared/rpc/client.ts";
import type { StoreImpl } from "../shared/rpc/store.ts";
import type { SeriesResponse } from "../shared/gen/thanos/storepb/rpc_pb.ts";

const secs = Number(process.argv[2] ?? 1);
const runtime = (globalThis as any).Bun ? `bun ${(globalThis as any).Bun.version}` : `node ${process.version}`;
console.log(`# protocol benchmark on ${runtime}\n`);

async function measure(name: string, unit: string, fn: () => Promise<number> | number, bytesPer?: number): Promise<void> {
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let n = 0;
    const start = performance.now();
    let el = 0;
    do { n += await fn(); el = performance.now() - start; } while (el < (secs * 1000) / 3);
    best = Math.max(best, n / (el / 1000));
  }
  const mb = bytesPer ? `  (${((best * bytesPer) / 1e6).toFixed(0)} MB/s)` : "";
  console.log(`${name.padEnd(58)} ${(best / 1e3).toFixed(1).padStart(9)} k${unit}/s${mb}`);
}

// 2000 series x 8 chunks of 180 bytes (a 120-sample XOR chunk is typically 100-300 bytes).
const SERIES = 2000, CHUNKS = 8, CHUNK_BYTES = 180;
const chunkData = new Uint8Array(CHUNK_BYTES).map((_, i) => (i * 37) & 0xff);
const frames = Array.from({ length: SERIES }, (_, s) => encodeChunkedFrame({
  chunkedSeries: [{
    labels: [{ name: "__name__", value: "http_requests_total" }, { name: "instance", value: `10.0.${s >> 8}.${s & 255}:9100` }, { name: "job", value: "node" }],
    chunks: Array.from({ length: CHUNKS }, (_, c) => ({ minTimeMs: BigInt(c * 1_800_000), maxTimeMs: BigInt(c * 1_800_000 + 1_785_000), type: 1, data: chunkData })),
  }],
}));
const body = new Uint8Array(frames.reduce((a, f) => a + f.length, 0));
{ let o = 0; for (const f of frames) { body.set(f, o); o += f.length; } }
async function* pieces(size: number): AsyncGenerator<Uint8Array> { for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size); }

console.log(`## STREAMED_XOR_CHUNKS parse (${SERIES} frames, ${(body.length / 1e6).toFixed(1)} MB, ${CHUNKS} chunks/series)`);
for (const size of [65536, 1500]) {
  await measure(`readChunkedStream, ${size}-byte network pieces: series`, "series", async () => {
    let n = 0;
    for await (const _ of readChunkedStream(pieces(size))) n++;
    return n;
  }, body.length / SERIES);
}

// SAMPLES: 200 series x 1000 samples.
const rr = snappyEncode(toBinary(ReadResponseSchema, create(ReadResponseSchema, {
  results: [{
    timeseries: Array.from({ length: 200 }, (_, s) => ({
      labels: [{ name: "__name__", value: "m" }, { name: "i", value: String(s) }],
      samples: Array.from({ length: 1000 }, (_, i) => ({ value: i * 0.5 + s, timestamp: BigInt(1_700_000_000_000 + i * 15_000) })),
    })),
  }],
})));
console.log(`\n## SAMPLES decode (200 series x 1000 samples, ${(rr.length / 1e6).toFixed(1)} MB snappy)`);
await measure("decodeReadResponse (snappy + protobuf-es): samples", "samples", () => {
  const r = decodeReadResponse(rr);
  return r.results[0]!.timeseries.length * 1000;
});
await measure("decodeSamplesResponse (snappy + direct, typed arrays): samples", "samples", () => {
  const r = decodeSamplesResponse(rr);
  return r[0]!.series.length * 1000;
});

const rrRaw = snappyDecode(rr, 1 << 30, "bench");
await measure(`snappy decompress only (${(rrRaw.length / 1e6).toFixed(1)} MB out): samples`, "samples", () => {
  snappyDecode(rr, 1 << 30, "bench");
  return 200 * 1000;
}, rrRaw.length / 200_000);
await measure("protobuf-es fromBinary only: samples", "samples", () => fromBinary(ReadResponseSchema, rrRaw).results[0]!.timeseries.length * 1000);
await measure("decodeRawReadResponse only: samples", "samples", () => decodeRawReadResponse(rrRaw)[0]!.series.length * 1000);

// Series over the in-memory hono app: the same 2000 series, as thanos.Series with raw chunks.
const seriesMsgs: SeriesResponse[] = [];
const store: StoreImpl = {
  async *series() { for (const m of seriesMsgs) yield m; },
  async labelNames() { return {}; },
  async labelValues() { return {}; },
};
{
  const { create: c } = await import("@bufbuild/protobuf");
  const { SeriesResponseSchema } = await import("../shared/gen/thanos/storepb/rpc_pb.ts");
  for (let s = 0; s < SERIES; s++) {
    seriesMsgs.push(c(SeriesResponseSchema, { result: { case: "series", value: {
      labels: [{ name: "__name__", value: "http_requests_total" }, { name: "instance", value: `10.0.${s >> 8}.${s & 255}:9100` }, { name: "job", value: "node" }],
      chunks: Array.from({ length: CHUNKS }, (_, k) => ({ minTime: BigInt(k * 1_800_000), maxTime: BigInt(k * 1_800_000 + 1_785_000), raw: { type: 0, data: chunkData } })),
    } } }));
  }
}
const app = storeApiApp({ store });
const viaApp: FetchFn = async (input, init) => app.fetch(new Request(input, init));
console.log(`\n## StoreAPI Series stream in memory (server + client, ${SERIES} series x ${CHUNKS} chunks)`);
for (const protocol of ["connect", "grpc-web"] as const) {
  const client = createStoreClient("http://bench.invalid", { protocol, fetch: viaApp });
  for (const batch of [0, 100]) {
    await measure(`${protocol} Series via hono app.fetch, batch ${batch}: series`, "series", async () => {
      let n = 0;
      for await (const r of client.series({ responseBatchSize: BigInt(batch) })) n += r.result.case === "batch" ? r.result.value.series.length : 1;
      return n;
    });
  }
}
