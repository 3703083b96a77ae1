// The hand-written Series encoder against protobuf-es (the reference encoder) on awkward inputs:
// empty and non-ASCII labels, zero/negative/large times, hashes with the top bit set, empty data.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { SeriesResponseSchema } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { encodeRawSeries, type RawOutChunk } from "../../../shared/bucketstore/wire.ts";
import { xxhash64 } from "../../../shared/encoding/xxhash64.ts";
import type { Labels } from "../../../shared/labels/labels.ts";

function reference(labels: Labels, chunks: RawOutChunk[]): Uint8Array {
  return toBinary(SeriesResponseSchema, create(SeriesResponseSchema, {
    result: { case: "series", value: {
      labels: labels.map((l) => ({ name: l.name, value: l.value })),
      chunks: chunks.map((c) => ({ minTime: BigInt(c.minTime), maxTime: BigInt(c.maxTime), raw: { type: c.encoding - 1, data: c.data, hash: xxhash64(c.data) } })),
    } },
  }));
}

function ours(labels: Labels, chunks: RawOutChunk[]): Uint8Array {
  const m = create(SeriesResponseSchema);
  m.$unknown = [{ no: 1, wireType: WireType.LengthDelimited, data: encodeRawSeries(labels, chunks) }];
  return toBinary(SeriesResponseSchema, m);
}

const cases: [string, Labels, RawOutChunk[]][] = [
  ["plain", [{ name: "__name__", value: "up" }, { name: "job", value: "a" }], [{ minTime: 1_700_000_000_000, maxTime: 1_700_000_100_000, encoding: 1, data: new Uint8Array([0, 2, 1, 2, 3]) }]],
  ["empty value, unicode", [{ name: "a", value: "" }, { name: "ü", value: "日本\u{1F600}" }], []],
  ["zero and negative times", [{ name: "x", value: "y" }], [{ minTime: 0, maxTime: -5, encoding: 1, data: new Uint8Array(300).fill(7) }, { minTime: -1_000_000_000_000, maxTime: 0, encoding: 2, data: new Uint8Array([9]) }]],
  ["empty data", [], [{ minTime: 1, maxTime: 2, encoding: 1, data: new Uint8Array(0) }]],
];
for (let i = 0; i < 200; i++) {
  const d = new Uint8Array(i * 3 % 257);
  for (let j = 0; j < d.length; j++) d[j] = (i * 31 + j * 17) & 0xff;
  cases.push([`random ${i}`, [{ name: `n${i}`, value: "v".repeat(i) }], [{ minTime: i * 1e9, maxTime: i * 1e9 + 7, encoding: 1, data: d }]]);
}

test("encodeRawSeries is byte-identical to protobuf-es, hash included", () => {
  for (const [name, ls, cs] of cases) assert.equal(ours(ls, cs), reference(ls, cs), name);
});

test("decodes as a normal SeriesResponse with the xxhash64 of each chunk", () => {
  const [, ls, cs] = cases[0]!;
  const r = fromBinary(SeriesResponseSchema, ours(ls, cs));
  assert.is(r.result.case, "series");
  const s = r.result.value as { chunks: { raw?: { hash?: bigint } }[] };
  assert.is(s.chunks[0]!.raw!.hash, xxhash64(cs[0]!.data));
});

test.run();
