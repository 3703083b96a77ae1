// shared/remote/stream.ts readFrames/readFrameGroups, the one frame reader: Prometheus' chunked
// remote-read framing (uvarint length | big-endian CRC-32C | payload), fed awkwardly. (Decoded
// messages on top of it: remote-stream.test.ts.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFrameGroups, readFrames } from "../../../shared/remote/stream.ts";
import { crc32c } from "../../../shared/encoding/crc32c.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

function frame(payload: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = payload.length;
  while (n >= 128) { len.push((n & 0x7f) | 0x80); n >>>= 7; }
  len.push(n);
  const out = new Uint8Array(len.length + 4 + payload.length);
  out.set(len, 0);
  new DataView(out.buffer).setUint32(len.length, crc32c(payload));
  out.set(payload, len.length + 4);
  return out;
}

const payloads = [new Uint8Array([1, 2, 3]), new Uint8Array(0), Uint8Array.from({ length: 300 }, (_, i) => i & 0xff), new Uint8Array([9])];
const stream = (() => { const parts = payloads.map(frame); const all = new Uint8Array(parts.reduce((s, p) => s + p.length, 0)); let o = 0; for (const p of parts) { all.set(p, o); o += p.length; } return all; })();

async function* split(b: Uint8Array, size: number) { for (let i = 0; i < b.length; i += size) yield b.slice(i, i + size); }

async function collect(src: AsyncIterable<Uint8Array>, limit?: number): Promise<number[][]> {
  const out: number[][] = [];
  for await (const p of readFrames(src, { what: "test stream", maxFrameBytes: limit })) out.push([...p]);
  return out;
}

test("frames come out whole whatever the network chunking (1 byte, 7 bytes, all at once)", async () => {
  for (const size of [1, 2, 7, 64, stream.length]) {
    assert.equal(await collect(split(stream, size)), payloads.map((p) => [...p]), `chunks of ${size}`);
  }
});

test("a payload inside one network chunk is a view, not a copy", async () => {
  const src = (async function* () { yield stream; })();
  const views: Uint8Array[] = [];
  for await (const p of readFrames(src, { what: "s" })) views.push(p);
  assert.is(views[2]!.buffer, stream.buffer);
});

test("corrupt CRC, truncation and oversized frames are corrupt errors naming the stream, frame and offset", async () => {
  const bad = stream.slice();
  bad[frame(payloads[0]!).length + frame(payloads[1]!).length + 4] ^= 1; // a byte of the third payload
  const cases: [AsyncIterable<Uint8Array>, RegExp, number?][] = [
    [split(bad, 5), /^test stream: frame 2 at byte offset 13: CRC-32C mismatch/],
    [split(stream.subarray(0, stream.length - 1), 3), /^test stream: frame 3 at byte offset 319: truncated frame: need 6 bytes \(length 1\), stream has 5$/],
    [split(stream, 10), /^test stream: frame 2 at byte offset 13: frame of 300 bytes exceeds the limit of 100 bytes$/, 100],
  ];
  for (const [src, re, limit] of cases) {
    try { await collect(src, limit); assert.unreachable(String(re)); } catch (e) {
      assert.is(errorCode(e), "corrupt");
      assert.match((e as Error).message, re);
    }
  }
});

test("readFrameGroups: one group per network read, same frames; frames before a corrupt one still arrive", async () => {
  for (const size of [1, 7, 64, stream.length]) {
    const flat: number[][] = [];
    let groups = 0;
    for await (const g of readFrameGroups(split(stream, size), { what: "test stream" })) {
      assert.ok(g.length > 0, "no empty groups");
      groups++;
      for (const p of g) flat.push([...p]);
    }
    assert.equal(flat, payloads.map((p) => [...p]), `chunks of ${size}`);
    if (size === stream.length) assert.is(groups, 1);
  }
  const bad = stream.slice();
  bad[bad.length - 1] ^= 0xff; // last payload byte: the last frame's CRC no longer matches
  const got: number[][] = [];
  try {
    for await (const g of readFrameGroups((async function* () { yield bad; })(), { what: "test stream" })) for (const p of g) got.push([...p]);
    assert.unreachable("corrupt frame accepted");
  } catch (e) {
    assert.is(errorCode(e), "corrupt");
    assert.match((e as Error).message, /CRC-32C mismatch/);
  }
  assert.equal(got, payloads.slice(0, -1).map((p) => [...p]));
});

test("readFrameGroups: every network split size, and a corrupt frame's offset is the same whatever the split", async () => {
  for (let size = 1; size <= stream.length; size++) {
    const flat: number[][] = [];
    for await (const g of readFrameGroups(split(stream, size), { what: "s" })) for (const p of g) flat.push([...p]);
    assert.equal(flat, payloads.map((p) => [...p]), `chunks of ${size}`);
  }
  const bad = stream.slice();
  bad[frame(payloads[0]!).length + frame(payloads[1]!).length + 4] ^= 1;
  for (let size = 1; size <= bad.length; size += 3) {
    try { for await (const _ of readFrameGroups(split(bad, size), { what: "s" })) { /* drain */ } assert.unreachable(); } catch (e) {
      assert.match((e as Error).message, /^s: frame 2 at byte offset 13: CRC-32C mismatch/, `chunks of ${size}`);
    }
  }
});

test.run();
