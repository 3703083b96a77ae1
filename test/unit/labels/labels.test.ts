// Label hashing, Go quoting and the xxh64 they rest on. Expected values: published xxHash vectors
// (cespare/xxhash's tests, which Prometheus uses; python-xxhash's README), xxhash-wasm (the reference
// C code compiled to wasm, an independent implementation) and `promtool tsdb dump` output.
import { test } from "uvu";
import * as assert from "uvu/assert";
import xxhashWasm from "xxhash-wasm";
import { xxhash64, xxhash64Into } from "../../../shared/encoding/xxhash64.ts";
import { XXH_WASM_MAX, xxhash64Fast, xxhash64Wasm } from "../../../shared/encoding/xxhash64wasm.ts";
import { goQuote, labelsFrom, labelsHash, labelsHashFor, labelsHashInto, labelsString, type Labels } from "../../../shared/labels/labels.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
// uvu loads test files through require under tsx, so no top-level await: load the wasm in a hook.
let h64Raw: (b: Uint8Array, seed?: bigint) => bigint;
test.before(async () => {
  h64Raw = (await xxhashWasm()).h64Raw;
});

test("xxhash64: published vectors", () => {
  // cespare/xxhash TestSum (the Go package behind Prometheus labels.Hash).
  const vectors: [string, bigint][] = [
    ["", 0xef46db3751d8e999n],
    ["a", 0xd24ec4f1a98c6e5bn],
    ["as", 0x1c330fb2d66be179n],
    ["asd", 0x631c37ce72a97393n],
    ["asdf", 0x415872f599cea71en],
    // 63 bytes: stripes, 8-byte lanes, a 4-byte lane and single bytes.
    ["Call me Ishmael. Some years ago--never mind how long precisely-", 0x02a2e85470d6fd96n],
    // python-xxhash README
    ["Nobody inspects the spammish repetition", 0xfbcea83c8a378bf1n],
  ];
  for (const [s, want] of vectors) assert.is(xxhash64(utf8(s)), want, JSON.stringify(s));
  assert.is(xxhash64(utf8("xxhash"), 20141025), 0xb559b98d844e0635n); // python-xxhash README, seeded
  assert.is(xxhash64(utf8("xxhash"), 20141025n), 0xb559b98d844e0635n);
});

test("xxhash64: equals xxhash-wasm for every length 0..300, several seeds and sub-ranges", () => {
  const buf = Uint8Array.from({ length: 340 }, (_, i) => (i * 167 + 13) & 0xff);
  const out = new Uint32Array(2);
  for (let n = 0; n <= 300; n++) {
    for (const seed of [0, 1, 0x9e3779b1, 2 ** 32, 2 ** 53 - 1]) {
      const want = h64Raw(buf.subarray(7, 7 + n), BigInt(seed));
      assert.is(xxhash64(buf, seed, 7, 7 + n), want, `n=${n} seed=${seed}`);
      xxhash64Into(buf, out, seed, 7, 7 + n);
      assert.is((BigInt(out[0]!) << 32n) | BigInt(out[1]!), want);
    }
  }
  assert.is(xxhash64(buf, 2n ** 64n - 1n), h64Raw(buf, 2n ** 64n - 1n));
  assert.throws(() => xxhash64(buf, -1), /seed/);
});

test("xxhash64Fast (WebAssembly here) equals xxhash-wasm at every length 0..300, large inputs and past its memory", () => {
  assert.ok(xxhash64Wasm, "the WebAssembly path runs on Node and Bun");
  const buf = Uint8Array.from({ length: XXH_WASM_MAX + 100 }, (_, i) => (i * 167 + 13 + (i >> 9)) & 0xff);
  const out = new Uint32Array(2);
  const lengths = [...Array.from({ length: 301 }, (_, n) => n), 1000, 4096, 65536 + 7, XXH_WASM_MAX, XXH_WASM_MAX + 1, XXH_WASM_MAX + 100];
  for (const n of lengths) {
    const b = buf.subarray(3, 3 + n);
    xxhash64Fast(b, out);
    assert.is((BigInt(out[0]!) << 32n) | BigInt(out[1]!), h64Raw(b, 0n), `n=${n}`);
  }
  // Published vectors too.
  xxhash64Fast(utf8("Call me Ishmael. Some years ago--never mind how long precisely-"), out);
  assert.is((BigInt(out[0]!) << 32n) | BigInt(out[1]!), 0x02a2e85470d6fd96n);
});

// The byte layout Prometheus' labels.Hash feeds to xxhash.Sum64: name 0xff value 0xff ...
function layout(ls: Labels, keep: (n: string) => boolean = () => true): Uint8Array {
  const parts: number[] = [];
  for (const l of ls) if (keep(l.name)) parts.push(...utf8(l.name), 0xff, ...utf8(l.value), 0xff);
  return Uint8Array.from(parts);
}

test("labelsHash: xxhash64 over name 0xff value 0xff, incl. unicode, big sets and the empty set", () => {
  const sets: Labels[] = [
    [],
    labelsFrom({ __name__: "up", job: "prometheus", instance: "localhost:9090" }),
    labelsFrom({ a: "ü日本😀", b: "line1\nline2", c: "\u0000\u00ff" }),
    labelsFrom(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`label_${i}`, "v".repeat(i * 7)]))), // > 1 kB
    labelsFrom({ x: "a".repeat(5000) }),
  ];
  assert.is(labelsHash([]), 0xef46db3751d8e999n);
  const out = new Uint32Array(2);
  for (const ls of sets) {
    const want = h64Raw(layout(ls), 0n);
    assert.is(labelsHash(ls), want, labelsString(ls).slice(0, 80));
    labelsHashInto(ls, out);
    assert.is((BigInt(out[0]!) << 32n) | BigInt(out[1]!), want);
  }
  // A lone surrogate hashes as U+FFFD (what its UTF-8 encoding becomes), never throws.
  assert.is(labelsHash([{ name: "a", value: "x\ud800y" }]), labelsHash([{ name: "a", value: "x\ufffdy" }]));
  // Values and names are separated: {ab=""} style ambiguity cannot collide.
  assert.is.not(labelsHash([{ name: "a", value: "bc" }]), labelsHash([{ name: "ab", value: "c" }]));
});

test("labelsHashFor: HashForLabels and HashWithoutLabels (which also drops __name__)", () => {
  const ls = labelsFrom({ __name__: "m", a: "1", b: "2", c: "3" });
  assert.is(labelsHashFor(ls, new Set(["a", "c"])), h64Raw(layout(ls, (n) => n === "a" || n === "c"), 0n));
  assert.is(labelsHashFor(ls, new Set(["b"]), true), h64Raw(layout(ls, (n) => n === "a" || n === "c"), 0n));
  assert.is(labelsHashFor(ls, new Set([]), true), labelsHash(labelsFrom({ a: "1", b: "2", c: "3" })));
});

test("goQuote: matches Go strconv.Quote as printed by promtool tsdb dump", () => {
  // Each pair: label value, and how `promtool tsdb dump` (Prometheus 2.42) printed it.
  const cases: [string, string][] = [
    ["foo", '"foo"'],
    ["a\nb", '"a\\nb"'],
    ["tab\there", '"tab\\there"'],
    ["ctl\u0001x", '"ctl\\x01x"'],
    ["del\u007fx", '"del\\x7fx"'],
    ["bell\u0007", '"bell\\a"'],
    ["nbsp\u00a0x", '"nbsp\\u00a0x"'],
    ["shy\u00adx", '"shy\\u00adx"'],
    ["emoji😀", '"emoji😀"'],
    ["\u212a", '"\u212a"'],
    ["zwj\u200dx", '"zwj\\u200dx"'],
    ["bom\ufeffx", '"bom\\ufeffx"'],
    ["ls\u2028x", '"ls\\u2028x"'],
    ['q"x', '"q\\"x"'],
    ["bs\\x", '"bs\\\\x"'],
    ["priv\ue000x", '"priv\\ue000x"'],
    ["unassigned\u0378x", '"unassigned\\u0378x"'],
    ["astral\u{1f600}\u{10ffff}x", '"astral😀\\U0010ffffx"'],
  ];
  for (const [v, want] of cases) assert.is(goQuote(v), want, JSON.stringify(v));
  // The rest of Go's single-letter escapes and a lone surrogate (U+FFFD after UTF-8 encoding).
  assert.is(goQuote("\b\f\r\v\u0000"), '"\\b\\f\\r\\v\\x00"');
  assert.is(goQuote("x\udc00"), '"x\ufffd"');
  assert.is(labelsString(labelsFrom({ __name__: "m", l: "a\nb" })), '{__name__="m", l="a\\nb"}');
});

test.run();
