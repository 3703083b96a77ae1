// The store gateway's Series bytes (SeriesResponseWriter with hashes and aggregates, as
// BucketStore.seriesEnveloped writes them) against protobuf-es, the reference encoder, on awkward inputs:
// empty and non-ASCII labels, zero/negative/large times, hashes with the top bit set, empty data,
// downsampled chunks with every subset of aggregates, one message per series and batches.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SeriesResponseSchema } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { encodeLabels, envelopedMessages, SeriesResponseWriter } from "../../../shared/store/wire.ts";
import { decodeAggrChunk, encodeAggrChunk } from "../../../shared/chunkenc/aggr.ts";
import { type Chunk, Encoding } from "../../../shared/chunkenc/chunk.ts";
import { xxhash64 } from "../../../shared/encoding/xxhash64.ts";
import type { Labels } from "../../../shared/labels/labels.ts";

const FIELDS = ["count", "sum", "min", "max", "counter"] as const;

function refSeries(labels: Labels, chunks: Chunk[], aggrs: number[]) {
  return {
    labels: labels.map((l) => ({ name: l.name, value: l.value })),
    chunks: chunks.map((c) => {
      const out: Record<string, unknown> = { minTime: BigInt(c.minTime), maxTime: BigInt(c.maxTime) };
      if (c.encoding !== Encoding.Aggr) out.raw = { type: c.encoding - 1, data: c.data, hash: xxhash64(c.data) };
      else {
        const subs = decodeAggrChunk(c.data);
        for (const a of aggrs) {
          const s = subs[a];
          if (s) out[FIELDS[a]!] = { type: s.encoding - 1, data: s.data, hash: xxhash64(s.data) };
        }
      }
      return out;
    }),
  };
}

function written(w: SeriesResponseWriter): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const piece of w.take()) for (const m of envelopedMessages(piece, "test")) out.push(m.slice());
  return out;
}

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, j) => (seed * 31 + j * 17) & 0xff);
const aggr = (present: boolean[]) => encodeAggrChunk(present.map((p, i) => (p ? bytes(5 + i * 3, i + 1) : null)));

const cases: [string, Labels, Chunk[]][] = [
  ["plain", [{ name: "__name__", value: "up" }, { name: "job", value: "a" }], [{ minTime: 1_700_000_000_000, maxTime: 1_700_000_100_000, encoding: 1, data: new Uint8Array([0, 2, 1, 2, 3]) }]],
  ["empty value, unicode", [{ name: "a", value: "" }, { name: "ü", value: "日本\u{1F600}" }], []],
  ["zero and negative times", [{ name: "x", value: "y" }], [{ minTime: 0, maxTime: -5, encoding: 1, data: new Uint8Array(300).fill(7) }, { minTime: -1_000_000_000_000, maxTime: 0, encoding: 2, data: new Uint8Array([9]) }]],
  ["empty data", [], [{ minTime: 1, maxTime: 2, encoding: 1, data: new Uint8Array(0) }]],
  ["downsampled, all five", [{ name: "a", value: "b" }], [{ minTime: 10, maxTime: 20, encoding: Encoding.Aggr, data: aggr([true, true, true, true, true]) }]],
  ["downsampled, some absent, beside a raw chunk", [{ name: "a", value: "c" }], [
    { minTime: 10, maxTime: 20, encoding: Encoding.Aggr, data: aggr([true, false, true, false, true]) },
    { minTime: 21, maxTime: 30, encoding: 1, data: bytes(40, 9) },
    { minTime: 31, maxTime: 40, encoding: Encoding.Aggr, data: aggr([false, true, false, true, false]) },
  ]],
];
for (let i = 0; i < 200; i++) {
  cases.push([`random ${i}`, [{ name: `n${i}`, value: "v".repeat(i) }], [{ minTime: i * 1e9, maxTime: i * 1e9 + 7, encoding: 1, data: bytes(i * 3 % 257, i) }]]);
}

const aggrSets = [[0, 1, 2, 3, 4], [0, 1], [4], [3, 1], []];

test("one SeriesResponse{series} per series: byte-identical to protobuf-es, hashes and asked aggregates included", () => {
  for (const aggrs of aggrSets) {
    const w = new SeriesResponseWriter(0, { hashes: true, aggregates: aggrs, bufferSize: 128 });
    for (const [, ls, cs] of cases) w.add({ labelBytes: encodeLabels(ls), chunks: cs });
    const got = written(w);
    assert.is(got.length, cases.length);
    cases.forEach(([name, ls, cs], i) => {
      const want = toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "series", value: refSeries(ls, cs, aggrs) } } as never));
      assert.equal(got[i], want, `${name}, aggregates ${aggrs}`);
    });
  }
});

test("batches: SeriesResponse{batch} of N series, byte-identical to protobuf-es; a warning closes the batch", () => {
  const aggrs = [0, 1, 2, 3, 4];
  const w = new SeriesResponseWriter(7, { hashes: true, aggregates: aggrs });
  for (const [, ls, cs] of cases.slice(0, 10)) w.add({ labelBytes: encodeLabels(ls), chunks: cs });
  w.warning("partial: block X");
  for (const [, ls, cs] of cases.slice(10, 12)) w.add({ labelBytes: encodeLabels(ls), chunks: cs });
  w.flush();
  const got = written(w);
  const batch = (xs: typeof cases) => toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "batch", value: { series: xs.map(([, ls, cs]) => refSeries(ls, cs, aggrs)) } } } as never));
  assert.equal(got, [
    batch(cases.slice(0, 7)), batch(cases.slice(7, 10)),
    toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "warning", value: "partial: block X" } })),
    batch(cases.slice(10, 12)),
  ]);
});

test("decodes as a normal SeriesResponse with the xxhash64 of each chunk", () => {
  const [, ls, cs] = cases[0]!;
  const w = new SeriesResponseWriter(0, { hashes: true });
  w.add({ labelBytes: encodeLabels(ls), chunks: cs });
  const r = fromBinary(SeriesResponseSchema, written(w)[0]!);
  assert.is(r.result.case, "series");
  const s = r.result.value as { chunks: { raw?: { hash?: bigint } }[] };
  assert.is(s.chunks[0]!.raw!.hash, xxhash64(cs[0]!.data));
});

test.run();
