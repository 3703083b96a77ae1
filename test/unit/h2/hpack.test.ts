// shared/h2/hpack.ts against the RFC 7541 Appendix C examples (C.3: literals, C.4: Huffman; each a
// sequence of three requests on one connection, so the dynamic table carries over), and the encoder
// read back by the decoder.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { encodeHeaders, HeaderListTooLarge, HpackDecoder, HpackError, huffmanDecode } from "../../../shared/h2/hpack.ts";

const hex = (s: string) => Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => parseInt(b, 16)));

const requests = [
  [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"]],
  [[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"], ["cache-control", "no-cache"]],
  [[":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], ["custom-key", "custom-value"]],
];

test("RFC 7541 C.3: requests without Huffman coding", () => {
  const d = new HpackDecoder();
  assert.equal(d.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d")), requests[0]);
  assert.equal(d.decode(hex("8286 84be 5808 6e6f 2d63 6163 6865")), requests[1]);
  assert.equal(d.decode(hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65")), requests[2]);
});

test("RFC 7541 C.4: requests with Huffman coding", () => {
  const d = new HpackDecoder();
  assert.equal(d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff")), requests[0]);
  assert.equal(d.decode(hex("8286 84be 5886 a8eb 1064 9cbf")), requests[1]);
  assert.equal(d.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf")), requests[2]);
});

test("RFC 7541 C.6: responses with Huffman coding and evictions (table size 256)", () => {
  const d = new HpackDecoder(256);
  // The encoder lowers the table to 256 first (a size update), then the three responses of C.6.
  assert.equal(d.decode(hex("3fe1 01 4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3")), [
    [":status", "302"], ["cache-control", "private"], ["date", "Mon, 21 Oct 2013 20:13:21 GMT"], ["location", "https://www.example.com"],
  ]);
  assert.equal(d.decode(hex("4883 640e ffc1 c0bf")), [
    [":status", "307"], ["cache-control", "private"], ["date", "Mon, 21 Oct 2013 20:13:21 GMT"], ["location", "https://www.example.com"],
  ]);
  assert.equal(d.decode(hex("88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07")), [
    [":status", "200"], ["cache-control", "private"], ["date", "Mon, 21 Oct 2013 20:13:22 GMT"], ["location", "https://www.example.com"],
    ["content-encoding", "gzip"], ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
  ]);
});

test("encodeHeaders: static matches, literal names, non-ASCII values, long values; read back", () => {
  const fields: [string, string][] = [[":status", "200"], ["content-type", "application/grpc+proto"], ["grpc-status", "13"],
    ["grpc-message", "x".repeat(300)], ["te", "trailers"]];
  const block = encodeHeaders(fields);
  assert.is(block[0], 0x88); // :status 200 is static entry 8
  assert.equal(new HpackDecoder().decode(block), fields);
});

test("malformed blocks are HpackErrors, never crashes or hangs", () => {
  const bad = ["80", "c0", "ff ff ff ff ff ff 0f", "41", "41 85 ab", "40 81 ff 00", "3f ff 7f", "00 81", "00 01 61 8f ff"];
  for (const b of bad) assert.throws(() => new HpackDecoder().decode(hex(b)), (e: unknown) => e instanceof HpackError, b);
  assert.throws(() => huffmanDecode(hex("ff ff ff ff"), 0, 4), (e: unknown) => e instanceof HpackError); // EOS / padding
  // A size update after a field is an error; a table size above our limit too.
  assert.throws(() => new HpackDecoder().decode(hex("82 20")), (e: unknown) => e instanceof HpackError);
  assert.throws(() => new HpackDecoder(100).decode(hex("3f 46")), (e: unknown) => e instanceof HpackError);
  // Random bytes: either decode or HpackError.
  let seed = 7, decoded = 0, refused = 0;
  for (let i = 0; i < 2000; i++) {
    const n = 1 + (i % 40);
    const b = new Uint8Array(n);
    for (let j = 0; j < n; j++) { seed = (seed * 1103515245 + 12345) >>> 0; b[j] = seed >>> 24; }
    try {
      new HpackDecoder().decode(b);
      decoded++;
    } catch (e) {
      if (!(e instanceof HpackError)) throw e;
      refused++;
    }
  }
  assert.is(decoded + refused, 2000);
  assert.ok(refused > 1000, `most random blocks are refused (${refused})`);
});

test("a header list above the limit is refused after the table was kept in step", () => {
  const d = new HpackDecoder();
  const big = encodeHeaders([["x", "y".repeat(100)]]);
  // Literal with incremental indexing of "a: b", then a list too large.
  const block = Uint8Array.from([0x40, 1, 0x61, 1, 0x62, ...big]);
  assert.throws(() => d.decode(block, 64), (e: unknown) => e instanceof HeaderListTooLarge);
  assert.equal(d.decode(hex("be")), [["a", "b"]]); // the entry added before the refusal is there
});

test.run();
