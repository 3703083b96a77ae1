// shared/store/wire.ts against protobuf-es and the generated schemas (the reference encoder/decoder).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ChunkedReadResponseSchema, ReadResponseSchema } from "../../../shared/gen/prometheus/remote_pb.ts";
import { SeriesResponseSchema } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { decodeChunkedReadResponse, decodeReadResponseSamples, encodeSeriesField } from "../../../shared/store/wire.ts";
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
  assert.equal(got.series.map((s) => s.chunks.map((c) => [c.minTime, c.maxTime, c.type, [...c.data]])),
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

test("encodeSeriesField is byte-identical to protobuf-es for SeriesResponse{series}", () => {
  for (const [i, t] of times.entries()) {
    const labels = [{ name: "__name__", value: "up" }, { name: "cluster", value: "eu" }, { name: "z", value: "ünïcode ✓".repeat(i) }];
    const chunks = [
      { minTime: t, maxTime: t + 119, type: 0, data: bytes(100 + i, i) },
      { minTime: 0, maxTime: 0, type: 1, data: new Uint8Array() },
      { minTime: t, maxTime: t, type: 2, data: bytes(300, 9) },
    ];
    const field = encodeSeriesField(labels, chunks);
    const ref = toBinary(SeriesResponseSchema, create(SeriesResponseSchema, {
      result: { case: "series", value: {
        labels,
        chunks: chunks.map((c) => ({ minTime: BigInt(c.minTime), maxTime: BigInt(c.maxTime), raw: { type: c.type, data: c.data } })),
      } },
    }));
    const ours = new Uint8Array(1 + field.length);
    ours[0] = 0x0a; // SeriesResponse.series = 1, length-delimited
    ours.set(field, 1);
    assert.equal([...ours], [...ref], `timestamps ${t}`);
    // And through an unknown field, as the sidecar sends it.
    const m = create(SeriesResponseSchema);
    m.$unknown = [{ no: 1, wireType: 2, data: field }];
    assert.equal([...toBinary(SeriesResponseSchema, m)], [...ref]);
  }
  assert.equal([...encodeSeriesField([], [])], [0]);
});

test("decodeReadResponseSamples equals protobuf-es and keeps the staleness NaN's bits", () => {
  const series = [0, 1, 2].map((i) => ({
    labels: [{ name: "__name__", value: "m" }, { name: "i", value: String(i) }],
    samples: [1, 2, 3].map((k) => ({ timestamp: BigInt(1_700_000_000_000 + k * 15_000), value: k === 2 && i === 1 ? 1234.5 : k * i + 0.25 })),
  }));
  const b = toBinary(ReadResponseSchema, create(ReadResponseSchema, { results: [{ timeseries: series }, { timeseries: series.slice(0, 1) }] }));
  // Patch the 1234.5 (little-endian double) into the staleness marker 0x7ff0000000000002.
  const f = new Float64Array([1234.5]), pat = new Uint8Array(f.buffer);
  const at = b.findIndex((_, i) => pat.every((x, j) => b[i + j] === x));
  assert.ok(at > 0);
  b.set([2, 0, 0, 0, 0, 0, 0xf0, 0x7f], at);
  const got = decodeReadResponseSamples(b);
  assert.is(got.length, 3, "only the first query result");
  const ref = fromBinary(ReadResponseSchema, b).results[0]!.timeseries;
  for (let i = 0; i < 3; i++) {
    assert.equal(got[i]!.labels, ref[i]!.labels.map((l) => ({ name: l.name, value: l.value })));
    assert.equal(got[i]!.ts, ref[i]!.samples.map((x) => Number(x.timestamp)));
    for (let k = 0; k < 3; k++) {
      const [hi, lo] = [got[i]!.bits[2 * k]!, got[i]!.bits[2 * k + 1]!];
      if (i === 1 && k === 1) { assert.equal([hi, lo], [0x7ff00000, 2], "stale marker bits"); continue; }
      const v = new Float64Array(new Uint32Array([lo, hi]).buffer)[0];
      assert.is(v, ref[i]!.samples[k]!.value);
    }
  }
});

test.run();
