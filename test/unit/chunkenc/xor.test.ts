import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  XorAppender, XorIterator, decodeXorInto, encodeXor, floatBits, isStaleBits, STALE_HI, STALE_LO, STALE_NAN, xorNumSamples,
} from "../../../shared/chunkenc/xor.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { bitsOf, goXorChunk, hex } from "./goref.ts";

const bytes = (s: string) => Uint8Array.from(s.trim().split(/\s+/), (x) => parseInt(x, 16));

// Decode and return timestamps plus raw value bits (hi, lo) read through the typed-array alias.
function decode(b: Uint8Array): { ts: number[]; bits: bigint[] } {
  const n = xorNumSamples(b);
  const ts = new Float64Array(n), vs = new Float64Array(n);
  const c = decodeXorInto(b, ts, vs, "test chunk");
  const dv = new DataView(vs.buffer);
  const bits: bigint[] = [];
  for (let i = 0; i < c; i++) bits.push(dv.getBigUint64(i * 8, true));
  return { ts: [...ts.subarray(0, c)], bits };
}

function appendAll(samples: { t: number; bits: bigint }[], a = new XorAppender()): Uint8Array {
  for (const s of samples) a.appendBits(s.t, Number(s.bits >> 32n), Number(s.bits & 0xffffffffn));
  return a.bytes();
}

function expectCorrupt(fn: () => unknown, re: RegExp): void {
  try { fn(); } catch (e) {
    assert.is(errorCode(e), "corrupt", String(e));
    assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable("expected a corrupt error");
}

// Worked by hand from the layout in tsdb/chunkenc/xor.go (see the comment at the top of xor.ts).
test("hand-derived vector: 1 sample (varint t, raw value, Go's trailing pad byte)", () => {
  // zigzag(1000) = 2000 = 0x7d0 -> d0 0f; 1.0 = 3ff0000000000000; writeByte leaves an empty last byte.
  const want = bytes("00 01 d0 0f 3f f0 00 00 00 00 00 00 00");
  assert.is(hex(encodeXor([1000], [1])), hex(want));
  assert.equal(decode(want), { ts: [1000], bits: [bitsOf(1)] });
  // Without Go's pad the stream is one byte shorter and decodes the same.
  assert.is(hex(encodeXor([1000], [1], { goPad: false })), hex(want.subarray(0, 12)));
  assert.equal(decode(want.subarray(0, 12)), { ts: [1000], bits: [bitsOf(1)] });
});

test("hand-derived vector: 2 samples, unchanged value is one 0 bit", () => {
  // uvarint(1000) = e8 07, then '0' padded to a byte.
  const want = bytes("00 02 d0 0f 3f f0 00 00 00 00 00 00 e8 07 00");
  assert.is(hex(encodeXor([1000, 2000], [1, 1])), hex(want));
  assert.equal(decode(want).ts, [1000, 2000]);
});

test("hand-derived vector: 3 samples with a new window each time", () => {
  // 1->2: x=7ff0.. leading 1, trailing 52, 11 bits: '11' 00001 001011 11111111111 = c2 5f ff
  // 2->3: dod 0 '0'; x=0008.. leading 12, trailing 51 (not covered by 1/52): '11' 01100 000001 '1'
  //       -> 0 11 01100 000001 1 = 6c 06 (last byte padded with zeros)
  const want = bytes("00 03 d0 0f 3f f0 00 00 00 00 00 00 e8 07 c2 5f ff 6c 06");
  assert.is(hex(encodeXor([1000, 2000, 3000], [1, 2, 3])), hex(want));
  assert.equal(decode(want), { ts: [1000, 2000, 3000], bits: [bitsOf(1), bitsOf(2), bitsOf(3)] });
});

test("hand-derived vector: staleness marker is bit-exact (0x7ff0000000000002)", () => {
  // 1.0 -> stale: x = 4000000000000002, leading 1, trailing 1, 62 bits: '11' 00001 111110 then
  // 1, 60 zeros, 1 -> c3 f4 00*7 20. varint(0)=00, uvarint(15000)= 98 75.
  const want = bytes("00 02 00 3f f0 00 00 00 00 00 00 98 75 c3 f4 00 00 00 00 00 00 00 20");
  const a = new XorAppender();
  a.append(0, 1);
  a.appendStale(15000);
  assert.is(hex(a.bytes()), hex(want));
  const it = new XorIterator(want);
  assert.ok(it.next()); assert.not.ok(it.isStale());
  assert.ok(it.next()); assert.ok(it.isStale());
  assert.is(it.valueHi(), STALE_HI); assert.is(it.valueLo(), STALE_LO);
  assert.ok(Number.isNaN(it.value()));
  assert.not.ok(it.next()); assert.is(it.err(), null);
  assert.equal(decode(want).bits[1], 0x7ff0000000000002n);
  assert.ok(isStaleBits(STALE_HI, STALE_LO));
  assert.not.ok(isStaleBits(0x7ff80000, 0));
});

test("STALE_NAN appended as a number is written with the stale bits where the engine keeps them", () => {
  // A bare number may already be canonicalized by the engine; appendStale never is. Only check that
  // whatever bits the number carries are what gets encoded.
  const [hi, lo] = floatBits(STALE_NAN);
  const a = new XorAppender(); a.append(5, STALE_NAN);
  assert.equal(decode(a.bytes()).bits, [(BigInt(hi) << 32n) | BigInt(lo)]);
});

// Edge values, all as raw bits so payloads survive every runtime.
const EDGE: bigint[] = [
  bitsOf(0), 0x8000000000000000n /* -0 */, bitsOf(Infinity), bitsOf(-Infinity), 0x7ff8000000000000n /* NaN */,
  0x7ff0000000000002n /* stale */, 0x7ff8000000000001n, 0xfff0000000000001n /* signalling NaN, sign set */,
  0x0000000000000001n /* min subnormal */, 0x7fefffffffffffffn /* max */, bitsOf(1), bitsOf(-1), bitsOf(0.1),
  bitsOf(1e300), bitsOf(-123456.789), 0xffffffffffffffffn, 0x00000000ffffffffn, 0xffffffff00000000n,
];

test("every edge value after every edge value matches Go's byte layout and decodes bit-exact", () => {
  const samples = [] as { t: number; bits: bigint }[];
  let t = -5_000_000;
  for (const a of EDGE) for (const b of EDGE) { samples.push({ t, bits: a }); t += 15_000; samples.push({ t, bits: b }); t += 15_000; }
  for (let i = 0; i < samples.length; i += 120) {
    const part = samples.slice(i, i + 120);
    const ours = appendAll(part);
    assert.is(hex(ours), hex(goXorChunk(part)), `chunk at ${i}`);
    assert.equal(decode(ours), { ts: part.map((s) => s.t), bits: part.map((s) => s.bits) });
  }
});

test("timestamp deltas at every dod class boundary and beyond match Go", () => {
  const dods = [0, 1, -1, 8191, 8192, -8191, -8192, 8193, 65535, 65536, 65537, -65535, -65536, 524287, 524288,
    524289, -524287, -524288, -524289, 2 ** 31, -(2 ** 31), 2 ** 40 + 3, -(2 ** 40) - 7];
  for (const dod of dods) {
    const s = [{ t: 1_600_000_000_000, bits: bitsOf(1) }, { t: 1_600_000_015_000, bits: bitsOf(2) }];
    let delta = 15_000;
    for (let i = 0; i < 3; i++) { delta += dod; s.push({ t: s[s.length - 1]!.t + delta, bits: bitsOf(i) }); }
    const ours = appendAll(s);
    assert.is(hex(ours), hex(goXorChunk(s)), `dod ${dod}`);
    assert.equal(decode(ours).ts, s.map((x) => x.t), `dod ${dod}`);
  }
});

test("negative timestamps, a negative first delta (10-byte uvarint) and large jumps", () => {
  const cases: number[][] = [
    [-1, 0, 1],
    [-1_000_000_000_000, -999_999_985_000, -999_999_970_000],
    [0, -15_000, -30_000, -30_000], // decreasing: uint64(t - a.t) wraps like Go
    [0, 2 ** 52, 2 ** 52 + 1, -(2 ** 51)],
    [-(2 ** 52), 2 ** 52 - 1, -(2 ** 52) + 5, 2 ** 52 - 3], // |dod| near 2^54: past exact doubles
    [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER],
    [-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER + 10, -Number.MAX_SAFE_INTEGER + 20],
    [1, 1, 1, 1], // zero deltas
  ];
  for (const ts of cases) {
    const s = ts.map((t, i) => ({ t, bits: bitsOf(i * 1.5) }));
    const ours = appendAll(s);
    assert.is(hex(ours), hex(goXorChunk(s)), ts.join(","));
    assert.equal(decode(ours).ts, ts);
  }
  assert.throws(() => new XorAppender().append(2 ** 53, 1), /not an integer within/);
  assert.throws(() => new XorAppender().append(1.5, 1), /not an integer within/);
});

test("1-sample and 120-sample chunks of realistic data match Go; the iterator agrees with the batch decoder", () => {
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0) / 4294967296;
  for (let series = 0; series < 40; series++) {
    const n = series % 2 === 0 ? 120 : 1 + Math.floor(rnd() * 5);
    const s: { t: number; bits: bigint }[] = [];
    let t = 1_700_000_000_000 + series, v = series % 3 === 0 ? 100 : rnd() * 1000;
    for (let i = 0; i < n; i++) {
      s.push({ t, bits: bitsOf(v) });
      t += 15_000 + (rnd() < 0.2 ? Math.floor(rnd() * 40) - 20 : 0);
      v = series % 3 === 0 ? v + Math.floor(rnd() * 10) : series % 3 === 1 ? rnd() * 1000 : v;
    }
    const ours = appendAll(s);
    assert.is(hex(ours), hex(goXorChunk(s)), `series ${series}`);
    const d = decode(ours);
    const it = new XorIterator(ours, "series chunk");
    let i = 0;
    while (it.next()) {
      assert.is(it.at(), d.ts[i]);
      assert.is((BigInt(it.valueHi()) << 32n) | BigInt(it.valueLo()), d.bits[i]);
      i++;
    }
    assert.is(i, n);
    assert.is(it.err(), null);
  }
});

test("appender: reset, numSamples, bytes() is a copy, 65535-sample limit", () => {
  const a = new XorAppender();
  a.append(1, 1); a.append(2, 2);
  const b1 = a.bytes();
  a.append(3, 3);
  assert.is(xorNumSamples(b1), 2);
  assert.is(a.numSamples(), 3);
  assert.is(a.byteLength(), a.bytes().length);
  a.reset();
  assert.is(a.byteLength(), 2);
  a.append(1, 1);
  assert.is(a.byteLength(), 12); // 2 header + varint(1) + 8 value bytes + Go's trailing pad
  a.reset();
  assert.is(a.numSamples(), 0);
  assert.is(hex(a.bytes()), "00 00");
  assert.equal(decode(a.bytes()), { ts: [], bits: [] });
  for (let i = 0; i < 65535; i++) a.append(i, i);
  assert.throws(() => a.append(70000, 1), /at most 65535/);
  assert.is(decode(a.bytes()).ts.length, 65535);
});

test("fromChunk continues a chunk like Go's XORChunk.Appender() (window taken from the reader)", () => {
  const s = Array.from({ length: 50 }, (_, i) => ({ t: 1000 + i * 15_000 + (i % 3), bits: bitsOf(i < 4 ? 7 : i % 5 === 0 ? i : i * 0.37) }));
  for (const cut of [1, 2, 3, 4, 5, 17, 49]) {
    const a = XorAppender.fromChunk(appendAll(s.slice(0, cut)));
    assert.is(a.numSamples(), cut);
    assert.is(a.lastT(), s[cut - 1]!.t);
    const b = appendAll(s.slice(cut), a);
    assert.is(hex(b), hex(goXorChunk(s, [cut])), `cut ${cut}`);
    assert.equal(decode(b), { ts: s.map((x) => x.t), bits: s.map((x) => x.bits) }, `cut ${cut}`);
  }
  // Samples 0-3 are unchanged values: reopening there really changes the bytes (reused 0/0 window).
  assert.is.not(hex(goXorChunk(s, [3])), hex(goXorChunk(s)));
  assert.is(hex(goXorChunk(s, [10])), hex(goXorChunk(s)));
  assert.is(hex(XorAppender.fromChunk(new XorAppender().bytes()).bytes()), "00 00");
  expectCorrupt(() => XorAppender.fromChunk(Uint8Array.from([0, 3, 0]), "head chunk"), /^head chunk: truncated/);
});

test("iterator seek: Prometheus semantics (stay when current >= t, end when none)", () => {
  const b = encodeXor([10, 20, 30, 40], [1, 2, 3, 4]);
  const it = new XorIterator(b);
  assert.ok(it.seek(15)); assert.is(it.at(), 20);
  assert.ok(it.seek(5)); assert.is(it.at(), 20); // never goes back
  assert.ok(it.seek(20)); assert.is(it.at(), 20);
  assert.ok(it.next()); assert.is(it.at(), 30);
  assert.ok(it.seek(40)); assert.is(it.value(), 4);
  assert.not.ok(it.seek(41));
  assert.not.ok(it.next());
  assert.not.ok(it.seek(0));
  it.reset(b);
  assert.ok(it.seek(-100)); assert.is(it.at(), 10);
  it.reset(encodeXor([], []));
  assert.not.ok(it.seek(0)); assert.not.ok(it.next()); assert.is(it.err(), null);
});

test("corrupt: every truncation of a valid chunk is a corrupt error naming the chunk and an offset", () => {
  const s = [] as { t: number; bits: bigint }[];
  for (let i = 0; i < 30; i++) s.push({ t: 1000 + i * 15000 + (i % 7) * 3, bits: bitsOf(Math.sin(i) * 100) });
  s.push({ t: 1e12, bits: bitsOf(1) }); // a 64-bit dod near the end
  const full = appendAll(s);
  const ts = new Float64Array(64), vs = new Float64Array(64);
  // The last byte of a Go chunk may be pure padding: only shorter cuts must fail.
  for (let cut = 0; cut < full.length - 1; cut++) {
    expectCorrupt(() => decodeXorInto(full.subarray(0, cut), ts, vs, "chunk 7 of block X"), /^chunk 7 of block X: .* at (byte )?offset \d+/);
    const it = new XorIterator(full.subarray(0, cut), "iter chunk");
    let n = 0;
    while (it.next()) { assert.is(it.at(), s[n]!.t, "prefix before the damage is intact"); n++; }
    assert.ok(n < s.length);
    assert.is(errorCode(it.err()), "corrupt");
    assert.match(it.err()!.message, /^iter chunk: /);
  }
});

test("corrupt: specific damage gets a specific message", () => {
  const ts = new Float64Array(8), vs = new Float64Array(8);
  expectCorrupt(() => decodeXorInto(new Uint8Array([]), ts, vs, "c"), /c: chunk of 0 bytes has no 2-byte sample count at offset 0/);
  expectCorrupt(() => decodeXorInto(new Uint8Array([0, 1]), ts, vs, "c"), /truncated first timestamp \(varint\) at byte offset 2, sample 0/);
  expectCorrupt(() => decodeXorInto(bytes("00 01 00 3f f0"), ts, vs, "c"), /truncated first value \(64 bits\) at byte offset 3/);
  expectCorrupt(() => decodeXorInto(bytes("00 01 ff ff ff ff ff ff ff ff ff ff 01"), ts, vs, "c"), /varint overflows 64 bits/);
  expectCorrupt(() => decodeXorInto(bytes("00 01 80 80 80 80 80 80 80 80 02 00 00 00 00 00 00 00 00"), ts, vs, "c"), /overflows 64 bits|exceeds 2\^53/);
  // Window of 31 leading zeros + 40 significant bits: '11' 11111 101000 -> ff 40 (+ bits)
  expectCorrupt(() => decodeXorInto(bytes("00 02 00 00 00 00 00 00 00 00 00 01 ff 40 00 00 00 00 00 00 00 00 00 00"), ts, vs, "c"),
    /value window of 31 leading zeros \+ 40 significant bits exceeds 64 at byte offset 12 \(bit 0\), sample 1/);
  // A header claiming 65535 samples over 20 bytes ends quickly with an error (no hang, no huge alloc).
  const big = new Float64Array(65535), bigv = new Float64Array(65535);
  expectCorrupt(() => decodeXorInto(bytes("ff ff 00 3f f0 00 00 00 00 00 00 01 00 00 00 00 00 00 00"), big, bigv, "c"), /truncated/);
  // Output arrays too small are the caller's bug, not corruption.
  try { decodeXorInto(encodeXor([1, 2, 3], [1, 2, 3]), new Float64Array(2), new Float64Array(2)); assert.unreachable(); }
  catch (e) { assert.is(errorCode(e), "internal"); }
});

test("trailing bytes after the declared samples are ignored, like Go", () => {
  const b = encodeXor([1, 2], [5, 6]);
  const longer = new Uint8Array(b.length + 5); longer.set(b); longer.fill(0xff, b.length);
  assert.equal(decode(longer), decode(b));
});

test.run();
