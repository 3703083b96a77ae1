import { test } from "uvu";
import * as assert from "uvu/assert";
import { crc32c, crc32cImpl, crc32cJs } from "../../shared/encoding/crc32c.ts";
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
