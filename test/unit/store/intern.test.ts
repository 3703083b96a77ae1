// StringInterner: the same bytes give the same string (identical, not just equal), colliding slots and
// long or non-ASCII input decode exactly as TextDecoder does, invalid UTF-8 still fails.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { StringInterner } from "../../../shared/store/intern.ts";

const enc = new TextEncoder();

test("decodes like TextDecoder for ASCII, UTF-8, empty and long strings; repeats hit", () => {
  const it = new StringInterner(4); // 16 slots: forces collisions below
  const inputs = ["", "__name__", "job", "héllo wörld", "日本語", "x".repeat(64), "y".repeat(65), "z".repeat(200)];
  for (let i = 0; i < 100; i++) inputs.push(`value-${i}`);
  for (let round = 0; round < 3; round++) {
    for (const s of inputs) {
      // Embedded in a larger buffer at an offset, as labels are in a message.
      const b = new Uint8Array([1, 2, 3, ...enc.encode(s), 4]);
      assert.is(it.get(b, 3, b.length - 1), new TextDecoder().decode(enc.encode(s)));
    }
  }
});

test("equal bytes from different buffers give the cached string", () => {
  const it = new StringInterner();
  const a = it.get(enc.encode("instance"), 0, 8);
  const b = it.get(enc.encode("xxinstance"), 2, 10);
  assert.is(a, "instance");
  assert.is(b, "instance");
  // The cache holds its own copy: mutating the source buffer does not change later answers.
  const buf = enc.encode("region");
  assert.is(it.get(buf, 0, 6), "region");
  buf[0] = 0x6c; // "legion"
  assert.is(it.get(buf, 0, 6), "legion");
  assert.is(it.get(enc.encode("region"), 0, 6), "region");
});

test("invalid UTF-8 throws, short or long", () => {
  const it = new StringInterner();
  assert.throws(() => it.get(new Uint8Array([0x61, 0xff, 0x62]), 0, 3));
  assert.throws(() => it.get(new Uint8Array(80).fill(0xc3), 0, 80));
});

test("slot count outside 4..20 bits is refused", () => {
  assert.throws(() => new StringInterner(2), /bits 2/);
  assert.throws(() => new StringInterner(21), /bits 21/);
});

test.run();
