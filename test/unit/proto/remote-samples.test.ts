// The direct SAMPLES decoder against protobuf-es (an independent decoder of the same bytes), plus
// what only it can do (exact NaN payloads: the staleness marker) and corrupt input.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create, toBinary, fromBinary } from "@bufbuild/protobuf";
import { ReadResponseSchema } from "../../../shared/gen/prometheus/remote_pb.ts";
import { decodeRawReadResponse, decodeSamplesResponse, floatBitsAt } from "../../../shared/remote/samples.ts";
import { snappyEncode } from "../../../shared/remote/snappy.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

let seed = 7;
const rnd = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) | 0) >>> 0) / 4294967296;

function randomResponse() {
  const specialT = [0, -1, -1_700_000_000_000, 2 ** 53 - 1, -(2 ** 53 - 1), 1, 127, 128, 2 ** 31, 2 ** 32 + 5];
  const specialV = [0, 1.5, -2.25, 1e308, -5e-324, Infinity, -Infinity, NaN, 2 ** 63];
  return create(ReadResponseSchema, {
    results: Array.from({ length: 3 }, (_, q) => ({
      timeseries: Array.from({ length: q + 1 }, (_, s) => ({
        labels: [{ name: "__name__", value: `m${s}` }, { name: "z", value: "é✓🙂" }],
        samples: Array.from({ length: 40 * s }, (_, i) => ({
          timestamp: BigInt(i < specialT.length ? specialT[i]! : Math.floor((rnd() - 0.5) * 2 ** 50)),
          value: i < specialV.length ? specialV[i]! : (rnd() - 0.5) * 1e6,
        })),
        exemplars: s === 1 ? [{ labels: [{ name: "trace", value: "x" }], value: 1, timestamp: 5n }] : [],
      })),
    })),
  });
}

test("same labels, timestamps and values as protobuf-es on the same bytes", () => {
  for (let round = 0; round < 20; round++) {
    const bytes = toBinary(ReadResponseSchema, randomResponse());
    const ref = fromBinary(ReadResponseSchema, bytes);
    const got = decodeRawReadResponse(bytes);
    assert.is(got.length, ref.results.length);
    ref.results.forEach((q, qi) => {
      assert.is(got[qi]!.series.length, q.timeseries.length);
      q.timeseries.forEach((s, si) => {
        const g = got[qi]!.series[si]!;
        assert.equal(g.labels, s.labels.map((l) => ({ name: l.name, value: l.value })));
        assert.equal(Array.from(g.ts), s.samples.map((x) => Number(x.timestamp)));
        s.samples.forEach((x, i) => assert.ok(Object.is(g.vals[i], x.value) || (Number.isNaN(x.value) && Number.isNaN(g.vals[i]!)), `value ${i}`));
      });
    });
  }
});

// One ReadResponse written by hand: a sample whose value is the staleness marker.
function staleResponse(ts: number): Uint8Array {
  const sample = [0x09, 0x02, 0, 0, 0, 0, 0, 0xf0, 0x7f, 0x10]; // value bits 0x7ff0000000000002, little-endian
  let v = ts;
  while (v >= 0x80) { sample.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  sample.push(v);
  const label = [0x0a, 0x06, 0x0a, 0x01, 0x61, 0x12, 0x01, 0x62, 0x0a, 0x03, 0x0a, 0x01, 0x7a]; // {a="b"}, {z=""}
  const series = [...label, 0x12, sample.length, ...sample];
  const qr = [0x0a, series.length, ...series];
  return new Uint8Array([0x0a, qr.length, ...qr]);
}

test("the staleness marker keeps its exact bits; a label without a value field is empty", () => {
  const got = decodeSamplesResponse(snappyEncode(staleResponse(1_700_000_000_123)));
  const s = got[0]!.series[0]!;
  assert.equal(s.labels, [{ name: "a", value: "b" }, { name: "z", value: "" }]);
  assert.is(s.ts[0], 1_700_000_000_123);
  assert.equal(floatBitsAt(s.vals, 0), [0x7ff00000, 0x00000002]);
});

test("truncated or mutated input throws a coded 'corrupt' error naming the offset, never anything else", () => {
  const bytes = toBinary(ReadResponseSchema, randomResponse());
  let cutErrors = 0, cuts = 0;
  for (let cut = 1; cut < bytes.length; cut += 3) {
    cuts++;
    try {
      decodeRawReadResponse(bytes.subarray(0, cut), "test response");
    } catch (e) {
      cutErrors++;
      assert.is(errorCode(e), "corrupt", `cut ${cut}: ${String(e)}`);
      assert.match((e as Error).message, /^test response: .* at offset \d+$/);
    }
  }
  // A cut on a field boundary is a valid shorter message; most cuts are not.
  assert.ok(cutErrors > cuts / 2, `${cutErrors} of ${cuts} truncations rejected`);
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const m = bytes.slice();
    for (let k = 0; k < 3; k++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
    try { decodeRawReadResponse(m); } catch (e) { errors++; assert.is(errorCode(e), "corrupt", String(e)); }
  }
  assert.ok(errors > 0);
  assert.throws(() => decodeRawReadResponse(new Uint8Array([0x0a, 0x05, 0x0a])), (e: unknown) =>
    errorCode(e) === "corrupt" && (e as Error).message === "remote read response: field length 5 runs past the end (1 bytes left) at offset 2");
});

test.run();
