// shared/store/wire.ts against protobuf-es and the generated schemas (the reference encoder/decoder).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ChunkedReadResponseSchema } from "../../../shared/gen/prometheus/remote_pb.ts";
import { SeriesResponseSchema } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { decodeChunkedReadResponse, encodeLabels, envelopedMessages, SeriesResponseWriter } from "../../../shared/store/wire.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
// Timestamps: zero (omitted on the wire), small, ms-now, beyond 2^49 (BigInt path), negative (10 bytes).
const times = [0, 1, 1_700_000_000_123, 2 ** 50 + 3, -1, -1_700_000_000_000, 2 ** 53 - 1];

test("decodeChunkedReadResponse equals protobuf-es fromBinary, chunk data is a view", () => {
  const msg = create(ChunkedReadResponseSchema, {
    queryIndex: 3n,
    chunkedSeries: times.map((t, i) => ({
      labels: [{ name: "__name__", value: "m" }, { name: "k", value: `v${i}é` }, { name: "long", value: "x".repeat(40 * i) }, { name: "u", value: "ü".repeat(30 * i) }],
      chunks: [{ minTimeMs: BigInt(t), maxTimeMs: BigInt(t + 5), type: 1, data: bytes(i * 50, i) }, { minTimeMs: 0n, maxTimeMs: 0n, type: 0, data: new Uint8Array() }],
    })),
  });
  const b = toBinary(ChunkedReadResponseSchema, msg);
  const got = decodeChunkedReadResponse(b);
  assert.is(got.queryIndex, 3);
  const ref = fromBinary(ChunkedReadResponseSchema, b);
  assert.equal(got.series.map((s) => s.labels), ref.chunkedSeries.map((s) => s.labels.map((l) => ({ name: l.name, value: l.value }))));
  assert.equal(got.series.map((s) => s.chunks.map((c) => [c.minTime, c.maxTime, c.encoding, [...c.data]])),
    ref.chunkedSeries.map((s) => s.chunks.map((c) => [Number(c.minTimeMs), Number(c.maxTimeMs), c.type, [...c.data]])));
  assert.is(got.series[2]!.chunks[0]!.data.buffer, b.buffer);
});

test("decodeChunkedReadResponse: truncation and bad lengths are corrupt errors with an offset", () => {
  const b = toBinary(ChunkedReadResponseSchema, create(ChunkedReadResponseSchema, { chunkedSeries: [{ labels: [{ name: "a", value: "b" }], chunks: [{ data: bytes(40, 1) }] }] }));
  for (const n of [1, 5, b.length - 1]) {
    try { decodeChunkedReadResponse(b.subarray(0, n), "frame 7"); assert.unreachable(`cut at ${n}`); } catch (e) {
      assert.is(errorCode(e), "corrupt");
      assert.match((e as Error).message, /^frame 7: .* at offset \d+$/);
    }
  }
});

function envelope(msg: Uint8Array): number[] {
  return [0, msg.length >>> 24, (msg.length >>> 16) & 0xff, (msg.length >>> 8) & 0xff, msg.length & 0xff, ...msg];
}

const writerCases = times.map((t, i) => ({
  labels: [{ name: "__name__", value: "up" }, { name: "cluster", value: "eu" }, { name: "z", value: "ünïcode ✓".repeat(i) }],
  // Prometheus' numbering (XOR = 1), as remote read sends it.
  chunks: [
    { minTime: t, maxTime: t + 119, encoding: 1, data: bytes(100 + i, i) },
    { minTime: 0, maxTime: 0, encoding: 2, data: new Uint8Array() },
    { minTime: t, maxTime: t, encoding: 3, data: bytes(300, 9) },
  ],
}));
const refSeries = (c: (typeof writerCases)[number]) => ({
  labels: c.labels,
  chunks: c.chunks.map((x) => ({ minTime: BigInt(x.minTime), maxTime: BigInt(x.maxTime), raw: { type: x.encoding - 1, data: x.data } })),
});
const flat = (parts: Uint8Array[]) => parts.flatMap((p) => [...p]);

test("SeriesResponseWriter: one enveloped SeriesResponse{series} per series, byte-identical to protobuf-es", () => {
  // A small output buffer forces messages across buffer boundaries.
  const w = new SeriesResponseWriter(0, { bufferSize: 64 });
  const want: number[] = [];
  for (const c of writerCases) {
    w.add({ labelBytes: encodeLabels(c.labels), chunks: c.chunks });
    want.push(...envelope(toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "series", value: refSeries(c) } }))));
  }
  w.warning("careful: ✓");
  want.push(...envelope(toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "warning", value: "careful: ✓" } }))));
  assert.is(w.bytes, want.length);
  assert.equal(flat(w.take()), want);
  assert.is(w.bytes, 0);
  assert.equal(w.take(), []);
});

test("SeriesResponseWriter: batches of N series as SeriesResponse{batch}, the last partial one on flush", () => {
  const w = new SeriesResponseWriter(3);
  for (const c of writerCases) w.add({ labelBytes: encodeLabels(c.labels), chunks: c.chunks });
  w.flush();
  const want: number[] = [];
  for (let i = 0; i < writerCases.length; i += 3) {
    want.push(...envelope(toBinary(SeriesResponseSchema, create(SeriesResponseSchema, {
      result: { case: "batch", value: { series: writerCases.slice(i, i + 3).map(refSeries) } },
    }))));
  }
  assert.equal(flat(w.take()), want);
  // Every message decodes with the reference decoder.
  const msgs = [...envelopedMessages(Uint8Array.from(want), "test")].map((m) => fromBinary(SeriesResponseSchema, m));
  assert.equal(msgs.map((m) => m.result.case === "batch" ? m.result.value.series.length : -1), [3, 3, 1]);
});

test("SeriesResponseWriter with reuse: buffers come back only after their pieces were taken and written past", () => {
  const w = new SeriesResponseWriter(0, { bufferSize: 2048, reuse: true });
  const want: number[] = [];
  const got: number[] = [];
  const buffers = new Set<ArrayBufferLike>();
  for (let round = 0; round < 40; round++) {
    // Several messages per take, some rolling over into a new buffer before the take.
    for (let k = 0; k < 3; k++) {
      const c = writerCases[(round + k) % writerCases.length]!;
      w.add({ labelBytes: encodeLabels(c.labels), chunks: c.chunks });
      want.push(...envelope(toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "series", value: refSeries(c) } }))));
    }
    // The consumer copies what it takes before the writer goes on (the contract).
    for (const p of w.take()) { got.push(...p); buffers.add(p.buffer); }
  }
  assert.equal(got, want);
  assert.ok(buffers.size < 8, `buffers are recycled (${buffers.size} distinct for ${want.length} bytes)`);
});

test("decodeChunkedReadResponse: labelBytes are the label records verbatim, the same bytes a Series carries", () => {
  const labels = [{ name: "__name__", value: "m" }, { name: "k", value: "vé" }];
  const b = toBinary(ChunkedReadResponseSchema, create(ChunkedReadResponseSchema, { chunkedSeries: [{ labels, chunks: [{ type: 1, data: bytes(20, 3) }] }, { labels: [], chunks: [] }] }));
  const got = decodeChunkedReadResponse(b);
  assert.equal([...got.series[0]!.labelBytes!], [...encodeLabels(labels)]);
  assert.equal([...got.series[1]!.labelBytes!], []);
});

test.run();
