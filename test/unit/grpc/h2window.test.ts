// agent/grpc/h2window.ts: the client-frame rewriting that makes Bun's HTTP/2 server honour a raised
// SETTINGS_INITIAL_WINDOW_SIZE on open streams (RFC 9113 §6.9.2), fed in pieces cut at every byte.
// The end-to-end proof, a Go grpc client reading large answers from a Bun server, is in
// test/integration/rpc-go-thanos.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ClientFrames, ServerFrames } from "../../../agent/grpc/h2window.ts";

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

function frame(type: number, flags: number, stream: number, payload: number[] | Uint8Array = []): Uint8Array {
  const p = Uint8Array.from(payload);
  const f = new Uint8Array(9 + p.length);
  f[0] = p.length >>> 16; f[1] = (p.length >>> 8) & 0xff; f[2] = p.length & 0xff; f[3] = type; f[4] = flags;
  new DataView(f.buffer).setUint32(5, stream);
  f.set(p, 9);
  return f;
}
const setting = (id: number, v: number) => [id >> 8, id & 0xff, v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const settings = (...entries: number[][]) => frame(4, 0, 0, entries.flat());
const headers = (stream: number, flags = 0x4) => frame(1, flags, stream, [0x82, 0x86, 0x84]);
const windowUpdate = (stream: number, inc: number) => frame(8, 0, stream, [inc >>> 24, (inc >>> 16) & 0xff, (inc >>> 8) & 0xff, inc & 0xff]);
const data = (stream: number, n: number, flags = 0) => frame(0, flags, stream, new Uint8Array(n).fill(7));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** What the server receives for `input`, fed whole and cut at every byte position. */
function through(input: Uint8Array[]): string {
  const all = concat(input);
  const whole = hex(concat(new ClientFrames().push(all)));
  for (let cut = 1; cut < all.length; cut++) {
    const c = new ClientFrames();
    const got = hex(concat([...c.push(all.slice(0, cut)), ...c.push(all.slice(cut))]));
    assert.is(got, whole, `cut at byte ${cut}`);
  }
  // And one byte at a time.
  const c = new ClientFrames();
  const parts: Uint8Array[] = [];
  for (let i = 0; i < all.length; i++) parts.push(...c.push(all.slice(i, i + 1)));
  assert.is(hex(concat(parts)), whole, "one byte at a time");
  return whole;
}

test("before any stream, SETTINGS pass unchanged (the server applies them to streams to come)", () => {
  const input = [PREFACE, settings(setting(4, 1 << 20), setting(5, 16384)), headers(1), data(1, 5, 1)];
  assert.is(through(input), hex(concat(input)));
});

test("a raise with a stream open: the entry leaves SETTINGS, a WINDOW_UPDATE of the raise follows for it", () => {
  const input = [PREFACE, settings(), headers(1), data(1, 5, 1), windowUpdate(0, 983041), settings(setting(4, 1 << 20), setting(3, 100))];
  const want = [PREFACE, settings(), headers(1), data(1, 5, 1), windowUpdate(0, 983041),
    settings(setting(3, 100)), windowUpdate(1, (1 << 20) - 65535)];
  assert.is(through(input), hex(concat(want)));
});

test("several raises, several open streams; a stream opened later is credited after its header block", () => {
  const input = [PREFACE, settings(), headers(1), headers(3), settings(setting(4, 131070)), frame(4, 1, 0),
    settings(setting(4, 500000)), frame(3, 0, 1, [0, 0, 0, 8]), headers(5, 0), frame(9, 0x4, 5, [0x84]), settings(setting(4, 600000))];
  const want = [PREFACE, settings(), headers(1), headers(3),
    settings(), windowUpdate(1, 65535), windowUpdate(3, 65535), frame(4, 1, 0),
    settings(), windowUpdate(1, 500000 - 131070), windowUpdate(3, 500000 - 131070),
    frame(3, 0, 1, [0, 0, 0, 8]), // stream 1 reset by the client: no more credit for it
    headers(5, 0), frame(9, 0x4, 5, [0x84]), windowUpdate(5, 500000 - 65535), // after CONTINUATION, never inside the block
    settings(), windowUpdate(3, 100000), windowUpdate(5, 100000)];
  assert.is(through(input), hex(concat(want)));
});

test("a HEADERS frame on an ended stream (trailers, a confused client) does not reopen it for credit", () => {
  const c = new ClientFrames();
  const s = new ServerFrames((id) => c.open.delete(id));
  c.push(concat([PREFACE, settings(), headers(1), headers(3)]));
  s.scan(concat([frame(1, 0x5, 1, [0x88])])); // stream 1 ended by the server
  const out = hex(concat(c.push(concat([headers(1), settings(setting(4, 70000))]))));
  assert.is(out, hex(concat([headers(1), settings(), windowUpdate(3, 70000 - 65535)])));
});

test("a lowered initial window passes unchanged (it cannot be taken back with WINDOW_UPDATE)", () => {
  const input = [PREFACE, settings(), headers(1), settings(setting(4, 1000))];
  assert.is(through(input), hex(concat(input)));
});

test("streams the server ended get no credit; SETTINGS ACKs and other frames are untouched", () => {
  const c = new ClientFrames();
  const s = new ServerFrames((id) => c.open.delete(id));
  c.push(concat([PREFACE, settings(), headers(1), headers(3), headers(5)]));
  // Server: stream 1 ends with trailers, 3 is reset, 5 gets data in pieces (its frame header cut too).
  const srv = concat([frame(1, 0x4, 1, [0x88]), data(1, 100), frame(1, 0x5, 1, [0x40]), frame(3, 0, 3, [0, 0, 0, 2]), data(5, 40000)]);
  for (let i = 0; i < srv.length; i += 7) s.scan(srv.subarray(i, i + 7));
  assert.equal([...c.open], [5]);
  const out = hex(concat(c.push(concat([frame(4, 1, 0), settings(setting(4, 70000))]))));
  assert.is(out, hex(concat([frame(4, 1, 0), settings(), windowUpdate(5, 70000 - 65535)])));
});

test("a client frame over 1 MiB is refused, not buffered", () => {
  const c = new ClientFrames();
  c.push(PREFACE);
  assert.throws(() => c.push(Uint8Array.from([0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 1])), /frame of 16777215 bytes/);
});

test.run();
