// The STREAMED_XOR_CHUNKS frame parser and the remote-read codec on awkward input: every split point,
// truncations, corrupted CRCs, oversize frames, bad varints and bad messages, with exact errors.
// (Its agreement with a real Prometheus is in test/integration/remote-read-prometheus.test.ts.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create, toBinary } from "@bufbuild/protobuf";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { crc32c } from "../../../shared/encoding/crc32c.ts";
import {
  ChunkedReadResponseSchema, ReadResponseSchema, ReadRequest_ResponseType, type ChunkedReadResponse,
} from "../../../shared/gen/prometheus/remote_pb.ts";
import { LabelMatcher_Type, Chunk_Encoding } from "../../../shared/gen/prometheus/types_pb.ts";
import { DEFAULT_MAX_FRAME_BYTES, encodeChunkedFrame, readChunkedStream, STREAMED_CONTENT_TYPE } from "../../../shared/remote/stream.ts";
import {
  decodeReadRequest, decodeReadResponse, encodeReadRequest, remoteRead, type FetchLike, type ResponseLike,
} from "../../../shared/remote/read.ts";
import { snappyEncode } from "../../../shared/remote/snappy.ts";

function frameMsg(i: number, chunkBytes = 20): ChunkedReadResponse {
  const data = new Uint8Array(chunkBytes);
  for (let k = 0; k < data.length; k++) data[k] = (i * 31 + k * 7) & 0xff;
  return create(ChunkedReadResponseSchema, {
    queryIndex: BigInt(i % 2),
    chunkedSeries: [{
      labels: [{ name: "__name__", value: "up" }, { name: "i", value: String(i) }],
      chunks: [{ minTimeMs: BigInt(i * 1000), maxTimeMs: BigInt(i * 1000 + 999), type: Chunk_Encoding.XOR, data }],
    }],
  });
}

function stream(frames: Uint8Array[]): Uint8Array {
  const n = frames.reduce((a, f) => a + f.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const f of frames) { out.set(f, o); o += f.length; }
  return out;
}

async function* pieces(b: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let prev = 0;
  for (const c of [...cuts, b.length]) { yield b.subarray(prev, c); prev = c; }
}

async function collect(src: AsyncIterable<Uint8Array>, maxFrameBytes?: number): Promise<ChunkedReadResponse[]> {
  const out: ChunkedReadResponse[] = [];
  for await (const m of readChunkedStream(src, { maxFrameBytes, what: "test stream" })) out.push(m);
  return out;
}

async function failure(p: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  try { await p; } catch (e) { return { code: errorCode(e), message: (e as Error).message }; }
  throw new Error("expected an error");
}

const msgs = [frameMsg(0), frameMsg(1, 300), frameMsg(2, 0), frameMsg(3, 5000)];
const frames = msgs.map((m) => encodeChunkedFrame(m));
const whole = stream(frames);
const offsets = frames.reduce<number[]>((a, f, i) => (a.push(i === 0 ? 0 : a[i - 1]! + frames[i - 1]!.length), a), []);

test("frame layout: uvarint length, big-endian CRC-32C of the message, message", () => {
  const body = toBinary(ChunkedReadResponseSchema, msgs[1]!);
  const f = frames[1]!;
  // 300+ bytes: a 2-byte varint
  assert.is(f[0]! & 0x7f | (f[1]! << 7), body.length);
  const crc = crc32c(body);
  assert.equal([...f.subarray(2, 6)], [crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff]);
  // the CRC-32C itself against the published check value
  assert.is(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
});

test("every single split point and 1-byte pieces give the same frames", async () => {
  const want = msgs.map((m) => toBinary(ChunkedReadResponseSchema, m));
  for (let cut = 0; cut <= whole.length; cut += cut < 400 ? 1 : 37) {
    const got = await collect(pieces(whole, [cut]));
    assert.equal(got.map((m) => toBinary(ChunkedReadResponseSchema, m)), want, `split at ${cut}`);
  }
  const ones = Array.from({ length: whole.length - 1 }, (_, i) => i + 1);
  const got = await collect(pieces(whole, ones));
  assert.equal(got.map((m) => toBinary(ChunkedReadResponseSchema, m)), want);
  assert.is(got[3]!.chunkedSeries[0]!.chunks[0]!.data.length, 5000);
});

test("errors name each frame's index and offset; empty stream is zero frames", async () => {
  for (let i = 0; i < frames.length; i++) {
    const bad = whole.slice();
    bad[offsets[i]! + frames[i]!.length - 1]! ^= 1; // last byte of frame i
    const e = await failure(collect(pieces(bad, [3, 50])));
    assert.match(e.message, `test stream: frame ${i} at byte offset ${offsets[i]}: CRC-32C mismatch`);
  }
  assert.equal(await collect(pieces(new Uint8Array(0), [])), []);
  // The one limit: Prometheus' DefaultChunkedReadLimit (storage/remote/chunked.go: 5e+7).
  assert.is(DEFAULT_MAX_FRAME_BYTES, 50_000_000);
});

test("truncation anywhere inside a frame is an error naming frame and offset", async () => {
  // cut inside frame 2's header
  let e = await failure(collect(pieces(whole.subarray(0, offsets[1]! + 1), [])));
  assert.is(e.code, "corrupt");
  assert.is(e.message, `test stream: frame 1 at byte offset ${offsets[1]}: stream ends inside the frame length (1 bytes read)`);
  // cut inside frame 3's body
  const end = offsets[3]! + 100;
  e = await failure(collect(pieces(whole.subarray(0, end), [7, offsets[3]! + 2])));
  assert.is(e.code, "corrupt");
  assert.match(e.message, `test stream: frame 3 at byte offset ${offsets[3]}: truncated frame: need 5`);
  assert.match(e.message, "stream has 100");
  // every cut that is not a frame boundary fails, every boundary succeeds
  for (let cut = 1; cut < whole.length; cut += 13) {
    const boundary = offsets.includes(cut);
    const r = await collect(pieces(whole.subarray(0, cut), [])).then(() => null, (x) => errorCode(x));
    assert.is(r, boundary ? null : "corrupt", `cut at ${cut}`);
  }
});

test("a flipped byte fails the CRC with both values in the message", async () => {
  const bad = whole.slice();
  bad[offsets[2]! + 1 + 4 + 3]! ^= 0x40;
  const e = await failure(collect(pieces(bad, [5])));
  assert.is(e.code, "corrupt");
  assert.match(e.message, new RegExp(`^test stream: frame 2 at byte offset ${offsets[2]}: CRC-32C mismatch: frame says 0x[0-9a-f]{8}, message has 0x[0-9a-f]{8}$`));
  // a flipped CRC byte too
  const bad2 = whole.slice();
  bad2[2]! ^= 1;
  assert.match((await failure(collect(pieces(bad2, [])))).message, "frame 0 at byte offset 0: CRC-32C mismatch");
});

test("a frame over the limit is refused before buffering it (corrupt: the stream cannot be read past it)", async () => {
  let pulled = 0;
  async function* counting(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < whole.length; i += 64) { pulled++; yield whole.subarray(i, i + 64); }
  }
  const e = await failure(collect(counting(), 1000));
  assert.is(e.code, "corrupt");
  assert.is(e.message, `test stream: frame 3 at byte offset ${offsets[3]}: frame of ${frames[3]!.length - 6} bytes exceeds the limit of 1000 bytes`);
  assert.ok(pulled < Math.ceil(whole.length / 64), "stopped pulling at the oversize header");
  // a 2^62 length from a hostile peer
  const huge = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x3f, 0, 0, 0, 0]);
  assert.is((await failure(collect(pieces(huge, [])))).code, "corrupt");
});

test("an over-long varint and a bad message with a good CRC are corrupt", async () => {
  const long = new Uint8Array(12).fill(0x80);
  const e = await failure(collect(pieces(long, [])));
  assert.is(e.code, "corrupt");
  assert.is(e.message, "test stream: frame 0 at byte offset 0: frame length varint longer than 10 bytes");
  const junk = new Uint8Array([0x0a, 0xff, 0xff]); // field 1, length 32767+: truncated
  const c = crc32c(junk);
  const f = new Uint8Array([junk.length, c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff, ...junk]);
  const e2 = await failure(collect(pieces(stream([frames[0]!, f]), [])));
  assert.is(e2.code, "corrupt");
  assert.match(e2.message, `test stream: frame 1 at byte offset ${frames[0]!.length}: bad ChunkedReadResponse message:`);
});

test("fuzz: mutated streams give frames or a coded error, never a crash or a hang", async () => {
  let seed = 99;
  const rnd = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) | 0) >>> 0) / 4294967296;
  const small = stream(frames.slice(0, 3));
  const codes = new Map<string, number>();
  for (let i = 0; i < 1500; i++) {
    const m = small.slice(0, Math.max(1, Math.floor(small.length * (0.5 + rnd()))));
    for (let k = 0, n = 1 + Math.floor(rnd() * 4); k < n; k++) m[Math.floor(rnd() * m.length)] = Math.floor(rnd() * 256);
    const cuts = [Math.floor(rnd() * m.length)].sort((a, b) => a - b);
    try {
      await collect(pieces(m, cuts), 4096);
      codes.set("ok", (codes.get("ok") ?? 0) + 1);
    } catch (e) {
      const c = errorCode(e);
      assert.ok(c === "corrupt" || c === "resource_exhausted", `case ${i}: ${String(e)}`);
      assert.match((e as Error).message, /frame \d+ at byte offset \d+/);
      codes.set(c!, (codes.get(c!) ?? 0) + 1);
    }
  }
  assert.ok((codes.get("corrupt") ?? 0) > 100, JSON.stringify([...codes]));
});

test("breaking out early releases the source", async () => {
  let returned = false;
  const src: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]() {
      let i = 0;
      return {
        async next() { return i < frames.length ? { done: false, value: frames[i++]! } : { done: true, value: undefined }; },
        async return() { returned = true; return { done: true, value: undefined }; },
      };
    },
  };
  for await (const _ of readChunkedStream(src)) break;
  assert.ok(returned);
});

test("ReadRequest round trip through snappy; corrupt and oversize bodies are coded errors", () => {
  const body = encodeReadRequest({
    queries: [{ startTimestampMs: 1000n, endTimestampMs: 2000n, matchers: [{ type: LabelMatcher_Type.RE, name: "job", value: "a.*" }] }],
    acceptedResponseTypes: [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS],
  });
  const req = decodeReadRequest(body);
  assert.is(req.queries[0]!.endTimestampMs, 2000n);
  assert.is(req.queries[0]!.matchers[0]!.value, "a.*");
  assert.equal(req.acceptedResponseTypes, [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS]);

  const bad = body.slice(0, 6);
  assert.throws(() => decodeReadResponse(bad), (e: unknown) => errorCode(e) === "corrupt" && /remote read response: snappy block/.test((e as Error).message));
  const big = snappyEncode(new Uint8Array(5000));
  assert.throws(() => decodeReadResponse(big, 4096), (e: unknown) => errorCode(e) === "resource_exhausted" &&
    (e as Error).message === "remote read response: snappy block declares 5000 uncompressed bytes, over the limit of 4096");
  assert.throws(() => decodeReadResponse(snappyEncode(new Uint8Array([0x0a, 0x05, 1]))), (e: unknown) => errorCode(e) === "corrupt");
});

function fakeFetch(status: number, ctype: string, body: Uint8Array, seen?: { headers?: Record<string, string>; body?: Uint8Array }): FetchLike {
  return async (_url, init) => {
    if (seen) { seen.headers = init.headers; seen.body = init.body; }
    const res: ResponseLike = {
      status,
      headers: { get: (n) => (n.toLowerCase() === "content-type" ? ctype : null) },
      body: pieces(body, [1, 2, 3]),
      arrayBuffer: async () => body.slice().buffer,
      text: async () => new TextDecoder().decode(body),
    };
    return res;
  };
}

test("remoteRead picks the answer by content type and maps HTTP errors", async () => {
  const seen: { headers?: Record<string, string>; body?: Uint8Array } = {};
  const r = await remoteRead(fakeFetch(200, STREAMED_CONTENT_TYPE, whole, seen), "http://x/api/v1/read",
    { queries: [{ startTimestampMs: 0n, endTimestampMs: 1n }] }, { headers: { Authorization: "Bearer t" } });
  assert.is(r.type, "chunked");
  assert.is(seen.headers!["Content-Encoding"], "snappy");
  assert.is(seen.headers!["X-Prometheus-Remote-Read-Version"], "0.1.0");
  assert.is(seen.headers!["Authorization"], "Bearer t");
  assert.is(decodeReadRequest(seen.body!).queries.length, 1);
  let n = 0;
  if (r.type === "chunked") for await (const _ of r.frames) n++;
  assert.is(n, 4);

  const rr = snappyEncode(toBinary(ReadResponseSchema, create(ReadResponseSchema, {
    results: [{ timeseries: [{ labels: [{ name: "a", value: "b" }], samples: [{ value: 1.5, timestamp: 7n }] }] }],
  })));
  const r3 = await remoteRead(fakeFetch(200, "application/x-protobuf", rr), "u", { queries: [] });
  assert.is(r3.type, "samples");
  if (r3.type === "samples") assert.is(r3.response.results[0]!.timeseries[0]!.samples[0]!.value, 1.5);

  const e = await failure(remoteRead(fakeFetch(400, "text/plain", new TextEncoder().encode("bad matcher\n")), "http://p/api/v1/read", { queries: [] }));
  assert.equal(e, { code: "bad_data", message: "remote read http://p/api/v1/read: HTTP 400: bad matcher" });
  assert.is((await failure(remoteRead(fakeFetch(503, "text/plain", new Uint8Array()), "u", { queries: [] }))).code, "unavailable");
  assert.is((await failure(remoteRead(fakeFetch(200, "text/html", new Uint8Array()), "u", { queries: [] }))).code, "corrupt");
  assert.is((await failure(remoteRead(async () => { throw new Error("ECONNREFUSED"); }, "u", { queries: [] }))).message, "remote read u: ECONNREFUSED");
});

test.run();
