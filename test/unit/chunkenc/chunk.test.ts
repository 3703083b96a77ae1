import { test } from "uvu";
import * as assert from "uvu/assert";
import { Encoding, chunkIterator, encodingName } from "../../../shared/chunkenc/chunk.ts";
import { encodeXor } from "../../../shared/chunkenc/xor.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

test("encoding numbers and names are Prometheus' (chunkenc.Encoding) plus Thanos' 0xff", () => {
  assert.equal([Encoding.None, Encoding.XOR, Encoding.Histogram, Encoding.FloatHistogram, Encoding.Aggr], [0, 1, 2, 3, 0xff]);
  assert.equal([0, 1, 2, 3].map(encodingName), ["none", "XOR", "histogram", "floathistogram"]);
  assert.is(encodingName(0xff), "aggr");
  assert.is(encodingName(9), "<unknown 9>");
});

test("chunkIterator reads XOR chunks", () => {
  const it = chunkIterator(Encoding.XOR, encodeXor([1, 2], [3, 4]), "c");
  assert.ok(it.next()); assert.is(it.value(), 3);
  assert.ok(it.next()); assert.is(it.at(), 2);
  assert.not.ok(it.next()); assert.is(it.err(), null);
});

test("unsupported encodings are rejected by name, never misread as XOR", () => {
  const data = encodeXor([1], [1]);
  const cases: [number, RegExp][] = [
    [Encoding.Histogram, /^chunk 3 of series \{a="b"\}: unsupported chunk encoding histogram \(2\): native histogram chunks are not supported yet$/],
    [Encoding.FloatHistogram, /unsupported chunk encoding floathistogram \(3\): native histogram/],
    [Encoding.None, /unsupported chunk encoding none \(0\): not a known chunk encoding/],
    [4, /unsupported chunk encoding XOR2 \(4\)/],
    [77, /unsupported chunk encoding <unknown 77> \(77\)/],
    [Encoding.Aggr, /aggr \(255\): a downsampled aggregate chunk has no single sample stream/],
  ];
  for (const [enc, re] of cases) {
    try {
      chunkIterator(enc, data, 'chunk 3 of series {a="b"}');
      assert.unreachable(`encoding ${enc} accepted`);
    } catch (e) {
      assert.is(errorCode(e), "corrupt");
      assert.match((e as Error).message, re);
    }
  }
});

test.run();
