import { test } from "uvu";
import * as assert from "uvu/assert";
import { crc32c, crc32cImpl, crc32cJs, Crc32cRanges } from "../../shared/encoding/crc32c.ts";
import { Decbuf, Encbuf } from "../../shared/encoding/bytes.ts";
import { errorCode } from "../../shared/encoding/errors.ts";

const ascii = (s: string) => new TextEncoder().encode(s);

test("crc32c: published check values (RFC 3720 B.4 and the CRC catalogue)", () => {
  assert.is(crc32c(ascii("123456789")), 0xe3069283);
  assert.is(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.is(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const inc = Uint8Array.from({ length: 32 }, (_, i) => i);
  assert.is(crc32c(inc), 0x46dd794e);
  assert.is(crc32c(new Uint8Array(0)), 0);
});

test("crc32c: incremental equals one-shot at every split", () => {
  const b = Uint8Array.from({ length: 100 }, (_, i) => (i * 37 + 11) & 0xff);
  const whole = crc32c(b);
  for (let k = 0; k <= b.length; k++) assert.is(crc32c(b, k, b.length, crc32c(b, 0, k)), whole);
});

/** The textbook bit-at-a-time CRC-32C: an oracle sharing no tables or code with either implementation. */
function crc32cBitwise(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

test("Crc32cRanges: every range of a 3 MiB buffer equals the bitwise oracle, in order, out of order, and interleaved with other users", () => {
  let seed = 99;
  const rnd = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  const big = Uint8Array.from({ length: 3 << 20 }, () => rnd(256));
  const other = Uint8Array.from({ length: 5000 }, () => rnd(256));
  const view = big.subarray(7, big.length - 3); // offsets are the view's
  const r = new Crc32cRanges(view), o = new Crc32cRanges(other);
  const ranges: [number, number][] = [];
  for (let p = 0; p < view.length - 2000; p += 600 + rnd(1400)) ranges.push([p, p + rnd(1500)]);
  ranges.push([0, 0], [view.length - 10, view.length], [100, 100 + (1 << 20) + 5], [5, 60], [2 << 20, (2 << 20) + 64]);
  for (let k = 0; k < 40; k++) ranges.push(ranges[rnd(ranges.length)]!); // going back to windows already passed
  for (const [i, [a, b]] of ranges.entries()) {
    assert.is(r.crc(a, b), crc32cBitwise(view.subarray(a, b)), `range ${a}-${b} (#${i})`);
    if (i % 7 === 0) {
      // Another buffer's ranges, and a one-shot crc32c, take the module's memory in between.
      assert.is(o.crc(100, 4100), crc32cBitwise(other.subarray(100, 4100)));
      assert.is(crc32c(other, 0, 3000), crc32cBitwise(other.subarray(0, 3000)));
    }
  }
});

test("crc32c: the WebAssembly path is the one in use on this runtime (Node, Bun)", () => {
  assert.is(crc32cImpl, "wasm");
});

test("crc32c: WebAssembly and JavaScript paths equal the bitwise oracle at every length 0-700 and offset", () => {
  let seed = 12345;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
  const buf = Uint8Array.from({ length: 1024 }, rnd);
  for (let n = 0; n <= 700; n++) {
    const off = n % 19; // unaligned starts: the loop loads 8-byte words from any address
    const want = crc32cBitwise(buf.subarray(off, off + n));
    assert.is(crc32c(buf, off, off + n), want, `length ${n} at offset ${off}`);
    assert.is(crc32cJs(buf, off, off + n), want, `js, length ${n} at offset ${off}`);
  }
});

test("crc32c: inputs larger than the module's scratch memory, whole and continued across its boundary", () => {
  const big = Uint8Array.from({ length: 300_001 }, (_, i) => Math.imul(i, 0x9e3779b1) >>> 24);
  const want = crc32cBitwise(big);
  assert.is(crc32c(big), want);
  assert.is(crc32cJs(big), want);
  for (const k of [1, 127, 128, 114_687, 114_688, 114_689, 229_376, 300_000]) {
    assert.is(crc32c(big, k, big.length, crc32c(big, 0, k)), want, `split at ${k}`);
  }
});

test("uvarint/varint round trip incl. 2^53-1 and negatives; Go encoding bytes", () => {
  const e = new Encbuf(1);
  const vals = [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
  for (const v of vals) e.uvarint(v);
  const sv = [0, -1, 1, -64, 64, -(2 ** 40), 2 ** 40, 1700000000000, -1700000000000];
  for (const v of sv) e.varint(v);
  const d = new Decbuf(e.get().slice(), "test");
  for (const v of vals) assert.is(d.uvarint(), v);
  for (const v of sv) assert.is(d.varint(), v);
  assert.is(d.len, 0);
  const g = new Encbuf();
  g.uvarint(300);
  assert.equal([...g.get()], [0xac, 0x02]); // Go binary.PutUvarint(300)
  g.reset(); g.varint(-3);
  assert.equal([...g.get()], [0x05]); // zigzag(-3) = 5
});

test("truncation and overflow are errors naming what and the offset", () => {
  const d = new Decbuf(new Uint8Array([0x80, 0x80]), "postings of block X", 1000);
  try { d.uvarint(); assert.unreachable(); } catch (e) {
    assert.is(errorCode(e), "corrupt");
    assert.match((e as Error).message, "postings of block X: truncated uvarint at offset 1000");
  }
  const big = new Decbuf(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), "t");
  assert.throws(() => big.uvarint(), /exceeds 2\^53|overflows/);
  const s = new Decbuf(new Uint8Array([5, 0x61]), "symbols");
  assert.throws(() => s.uvarintStr(), /symbols: truncated reading bytes: need 5 bytes, have 1 at offset 1/);
  const bad = new Decbuf(new Uint8Array([1, 0xff]), "symbols");
  assert.throws(() => bad.uvarintStr(), /invalid UTF-8/);
});

test("be32/be64 round trip", () => {
  const e = new Encbuf();
  e.be32(0xdeadbeef); e.be64(2 ** 52 + 3); e.be64big(0x7ff0000000000002n);
  const d = new Decbuf(e.get(), "t");
  assert.is(d.be32(), 0xdeadbeef);
  assert.is(d.be64(), 2 ** 52 + 3);
  assert.is(d.be64big(), 0x7ff0000000000002n);
});

test.run();
