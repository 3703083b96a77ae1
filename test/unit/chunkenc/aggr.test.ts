import { test } from "uvu";
import * as assert from "uvu/assert";
import { AggrType, aggrChunkGet, aggrIterator, aggrNumSamples, aggrSpans, decodeAggrChunk, encodeAggrChunk } from "../../../shared/chunkenc/aggr.ts";
import { Encoding } from "../../../shared/chunkenc/chunk.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { bitsOf, goXorChunk, hex } from "./goref.ts";

// Thanos pkg/compact/downsample/aggr_test.go TestAggrChunk input (max absent).
const INPUT: ([number, number][] | null)[] = [
  [[100, 30], [200, 50], [300, 60], [400, 67]],
  [[100, 130], [200, 1000], [300, 2000], [400, 5555]],
  [[100, 0], [200, -10], [300, 1000], [400, -9.5]],
  null,
  [[100, 5], [200, 10], [300, 10.1], [400, 15], [400, 3]],
];
const xor = (s: [number, number][]) => goXorChunk(s.map(([t, v]) => ({ t, bits: bitsOf(v) })));

// Layout from aggr.go EncodeAggrChunk: per aggregate uvarint(len(data)) [+ encoding byte + data].
function expected(): Uint8Array {
  const out: number[] = [];
  for (const s of INPUT) {
    if (s === null) { out.push(0); continue; }
    const d = xor(s);
    if (d.length >= 128) throw new Error("test assumes 1-byte lengths");
    out.push(d.length, Encoding.XOR, ...d);
  }
  return Uint8Array.from(out);
}

function samples(it: ReturnType<typeof aggrIterator>): [number, number][] {
  const out: [number, number][] = [];
  while (it!.next()) out.push([it!.at(), it!.value()]);
  assert.is(it!.err(), null);
  return out;
}

test("encode matches Thanos' layout; decode returns each aggregate (Thanos TestAggrChunk data)", () => {
  const subs = INPUT.map((s) => (s === null ? null : xor(s)));
  const b = encodeAggrChunk(subs);
  assert.is(hex(b), hex(expected()));
  for (let t = 0; t < 5; t++) {
    const it = aggrIterator(b, t as AggrType);
    if (INPUT[t] === null) { assert.is(it, null); continue; }
    assert.equal(samples(it), INPUT[t]);
  }
  assert.is(aggrChunkGet(b, AggrType.Max), null);
  assert.is(aggrNumSamples(b), 4);
  // Sub-chunks given with an explicit encoding encode the same.
  assert.is(hex(encodeAggrChunk(subs.map((d) => (d ? { encoding: Encoding.XOR, data: d } : null)))), hex(b));
  // Trailing absent aggregates may be left out of the input.
  assert.is(hex(encodeAggrChunk([subs[0]])), hex(Uint8Array.from([...expected().subarray(0, 1 + 1 + subs[0]!.length), 0, 0, 0, 0])));
});

test("all absent, and sub-chunk lengths needing multi-byte uvarints", () => {
  assert.is(hex(encodeAggrChunk([])), "00 00 00 00 00");
  assert.equal(decodeAggrChunk(Uint8Array.from([0, 0, 0, 0, 0])), [null, null, null, null, null]);
  const long: [number, number][] = Array.from({ length: 120 }, (_, i) => [i * 1000, Math.sin(i) * 1e6]);
  const d = xor(long);
  assert.ok(d.length >= 128);
  const b = encodeAggrChunk([null, d, null, null, d]);
  assert.equal([b[0], b[1]! & 0x7f | (b[2]! << 7)], [0, d.length]);
  assert.equal(samples(aggrIterator(b, AggrType.Counter)), long);
  assert.equal(samples(aggrIterator(b, AggrType.Sum)), long);
});

test("corrupt aggregate chunks: truncation, bad lengths, trailing bytes, nesting, unknown sub-encoding", () => {
  const good = expected();
  const bad = (b: Uint8Array, re: RegExp) => {
    try { decodeAggrChunk(b, "aggr chunk of series X"); assert.unreachable(); } catch (e) {
      assert.is(errorCode(e), "corrupt", String(e));
      assert.match((e as Error).message, /^aggr chunk of series X: /);
      assert.match((e as Error).message, re);
    }
  };
  for (let cut = 0; cut < good.length; cut++) bad(good.subarray(0, cut), /truncated|offset \d+/);
  bad(Uint8Array.from([...good, 0]), /1 unexpected bytes after the 5 aggregates at offset \d+/);
  bad(Uint8Array.from([3, 0xff, 1, 2, 3, 0, 0, 0, 0]), /count aggregate nests another aggregate chunk at offset 1/);
  bad(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]), /uvarint/);
  bad(Uint8Array.from([0, 0, 0, 0, 200, 1]), /truncated counter aggregate: length 200/);
  try { aggrIterator(Uint8Array.from([1, 2, 9, 0, 0, 0, 0]), AggrType.Count, "a"); assert.unreachable(); } catch (e) {
    assert.match((e as Error).message, /^a, count aggregate: unsupported chunk encoding histogram \(2\)/);
  }
  assert.throws(() => encodeAggrChunk([new Uint8Array(0)]), /count sub-chunk is empty/);
  assert.throws(() => encodeAggrChunk([null, null, null, null, null, null]), /at most 5/);
  assert.is(aggrNumSamples(Uint8Array.from([9])), 0);
});


test("aggrSpans: the same sub-chunks as decodeAggrChunk, and the same errors, on valid and mangled chunks", () => {
  const long: [number, number][] = Array.from({ length: 120 }, (_, i) => [i * 1000, Math.sin(i) * 1e6]);
  const subs = INPUT.map((s) => (s === null ? null : xor(s)));
  const valid = [
    encodeAggrChunk(subs),
    encodeAggrChunk([]),
    encodeAggrChunk([null, xor(long), null, null, xor(long)]),
    encodeAggrChunk([{ encoding: 7, data: Uint8Array.of(1, 2, 3) }]),
  ];
  const spans = new Int32Array(15);
  const check = (b: Uint8Array, label: string) => {
    let want: ReturnType<typeof decodeAggrChunk> | Error;
    try { want = decodeAggrChunk(b, "chunk X"); } catch (e) { want = e as Error; }
    let got: Error | null = null;
    try { aggrSpans(b, spans, "chunk X"); } catch (e) { got = e as Error; }
    if (want instanceof Error) {
      assert.ok(got, `${label}: decodeAggrChunk rejects it, aggrSpans must too`);
      assert.is(got!.message, want.message, label);
      assert.is(errorCode(got), errorCode(want), label);
      return;
    }
    assert.is(got, null, label);
    for (let a = 0; a < 5; a++) {
      const w = want[a]!;
      if (w === null) { assert.is(spans[3 * a], -1, `${label}: aggregate ${a} absent`); continue; }
      assert.is(hex(b.subarray(spans[3 * a]!, spans[3 * a + 1]!)), hex(w.data), `${label}: aggregate ${a}`);
      assert.is(spans[3 * a + 2], w.encoding, `${label}: aggregate ${a} encoding`);
    }
  };
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  for (const [i, b] of valid.entries()) {
    check(b, `valid ${i}`);
    // A view into a larger buffer (offsets are relative to the view).
    const wide = new Uint8Array(b.length + 10);
    wide.set(b, 5);
    check(wide.subarray(5, 5 + b.length), `valid ${i} as a view`);
    for (let n = 0; n < b.length; n++) check(b.subarray(0, n), `valid ${i} cut to ${n} bytes`);
    check(Uint8Array.from([...b, 0]), `valid ${i} with a byte more`);
    for (let k = 0; k < 300; k++) {
      const m = b.slice();
      m[rnd(m.length)] = [0, 0x7f, 0x80, 0xff, rnd(256)][rnd(5)]!;
      check(m, `valid ${i} with a byte changed (${k})`);
    }
  }
  // Over-long but valid uvarints (0x80 0x00 is 0) go the slow way and still read.
  check(Uint8Array.from([0x80, 0x00, 0, 0, 0, 0]), "padded zero length");
  check(Uint8Array.from([0x83, 0x80, 0x80, 0x80, 0x80, 0x00, 1, 9, 9, 9, 0, 0, 0, 0]), "six-byte length");
  assert.is(aggrNumSamples(Uint8Array.from([0x80])), 0, "a corrupt chunk counts no samples");
});

test.run();
