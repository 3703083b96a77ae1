// agent/grpc/h2server.ts spoken to frame by frame over a real TCP connection: send flow control
// (including a raised SETTINGS_INITIAL_WINDOW_SIZE while a stream is open, RFC 9113 §6.9.2, what grpc-go
// does and Bun's node:http2 got wrong), request bodies and their credit, trailers, CONTINUATION and
// padding, PING, resets both ways, the stream limit, and protocol errors ending the connection with the
// GOAWAY code the RFC names. The end-to-end proofs with real clients (grpc-go, grpc-js, Thanos) are in
// test/integration/rpc-*.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { Connection, type H2Handler } from "../../../agent/grpc/h2server.ts";
import { encodeHeaders, HpackDecoder, type HeaderField } from "../../../shared/h2/hpack.ts";

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const DATA = 0, HEADERS = 1, RST_STREAM = 3, SETTINGS = 4, PUSH_PROMISE = 5, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8, CONTINUATION = 9;

interface Frame { type: number; flags: number; id: number; payload: Uint8Array }

function frame(type: number, flags: number, id: number, payload: Uint8Array | number[] = []): Uint8Array {
  const p = Uint8Array.from(payload);
  const f = new Uint8Array(9 + p.length);
  f[0] = p.length >>> 16; f[1] = (p.length >>> 8) & 0xff; f[2] = p.length & 0xff; f[3] = type; f[4] = flags;
  new DataView(f.buffer).setUint32(5, id);
  f.set(p, 9);
  return f;
}
const u32 = (v: number) => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
const setting = (id: number, v: number) => [id >> 8, id & 0xff, ...u32(v)];

/** A raw HTTP/2 client: frames in, frames out (collected), with a decoder for header blocks. */
class Raw {
  frames: Frame[] = [];
  closed = false;
  private buf = new Uint8Array(0);
  private waiters: (() => void)[] = [];
  readonly dec = new HpackDecoder();
  constructor(readonly sock: net.Socket) {
    sock.on("data", (c: Uint8Array) => {
      const b = new Uint8Array(this.buf.length + c.length);
      b.set(this.buf); b.set(c, this.buf.length);
      let o = 0;
      while (b.length - o >= 9) {
        const len = (b[o]! << 16) | (b[o + 1]! << 8) | b[o + 2]!;
        if (b.length - o < 9 + len) break;
        this.frames.push({ type: b[o + 3]!, flags: b[o + 4]!, id: new DataView(b.buffer, o + 5, 4).getUint32(0) & 0x7fffffff, payload: b.slice(o + 9, o + 9 + len) });
        o += 9 + len;
      }
      this.buf = b.slice(o);
      this.wake();
    });
    sock.on("close", () => { this.closed = true; this.wake(); });
    sock.on("error", () => {});
  }
  private wake() { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
  send(...fs: Uint8Array[]) { for (const f of fs) this.sock.write(f); }
  /** Waits until `pred` holds over the frames received (or the connection closed), 3 s at most. */
  async until(pred: (fs: Frame[]) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!pred(this.frames)) {
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${this.frames.map((f) => `${f.type}/${f.flags}/${f.id}`).join(" ")}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
  }
  async closedWithin(): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!this.closed && Date.now() < deadline) await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
  }
  dataBytes(id: number) { return this.frames.filter((f) => f.type === DATA && f.id === id).reduce((n, f) => n + f.payload.length, 0); }
  goaway(): number | undefined {
    const g = this.frames.find((f) => f.type === GOAWAY);
    return g ? new DataView(g.payload.buffer).getUint32(4) : undefined;
  }
  headerBlocks(id: number): HeaderField[][] {
    return this.frames.filter((f) => f.type === HEADERS && f.id === id).map((f) => this.dec.decode(f.payload));
  }
}

async function withServer(handler: H2Handler, run: (connect: (opts?: { settings?: number[][] }) => Promise<Raw>) => Promise<void>): Promise<void> {
  const conns: Connection[] = [];
  const srv = net.createServer((s) => conns.push(new Connection(s, handler)));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  const raws: Raw[] = [];
  try {
    await run(async (opts = {}) => {
      const sock = net.connect(port, "127.0.0.1");
      await new Promise<void>((r) => sock.once("connect", r));
      const raw = new Raw(sock);
      raws.push(raw);
      raw.send(PREFACE, frame(SETTINGS, 0, 0, (opts.settings ?? []).flat()));
      await raw.until((fs) => fs.some((f) => f.type === SETTINGS && f.flags === 1), "the SETTINGS ACK");
      return raw;
    });
  } finally {
    for (const r of raws) r.sock.destroy();
    for (const c of conns) c.close();
    await new Promise<void>((r) => srv.close(() => r()));
  }
}

const request = (path: string, extra: HeaderField[] = []): Uint8Array =>
  encodeHeaders([[":method", "POST"], [":scheme", "http"], [":path", path], [":authority", "x"], ["content-type", "application/grpc"], ...extra]);

test("send flow control: stops at the windows, resumes on WINDOW_UPDATE and on a raised initial window (§6.9.2)", async () => {
  const total = 300_000;
  let wrote = false;
  await withServer((req, res) => {
    void (async () => {
      for await (const _ of req.body) { /* drain */ }
      res.respond(200, [["content-type", "application/grpc"]]);
      wrote = await res.write(new Uint8Array(total).fill(7));
      res.end([["grpc-status", "0"]]);
    })();
  }, async (connect) => {
    const c = await connect();
    c.send(frame(HEADERS, 0x4 | 0x1, 1, request("/a")));
    // Default windows: 65535 on the stream and the connection.
    await c.until((fs) => fs.filter((f) => f.type === DATA).reduce((n, f) => n + f.payload.length, 0) >= 65535, "the first window of data");
    await new Promise((r) => setTimeout(r, 100));
    assert.is(c.dataBytes(1), 65535);
    // The connection gets room for everything; the stream's window is raised by SETTINGS only.
    c.send(frame(WINDOW_UPDATE, 0, 0, u32(1_000_000)));
    await new Promise((r) => setTimeout(r, 100));
    assert.is(c.dataBytes(1), 65535, "the stream window is still spent");
    c.send(frame(SETTINGS, 0, 0, setting(4, 165535)));
    await c.until(() => c.dataBytes(1) >= 165535, "data after the raised initial window");
    await new Promise((r) => setTimeout(r, 100));
    assert.is(c.dataBytes(1), 165535, "an open stream's window grows by the difference, no more");
    c.send(frame(WINDOW_UPDATE, 0, 1, u32(total)));
    await c.until((fs) => fs.some((f) => f.type === HEADERS && (f.flags & 1) && f.id === 1), "the trailers");
    assert.is(c.dataBytes(1), total);
    assert.ok(c.frames.filter((f) => f.type === DATA).every((f) => f.payload.length <= 16384), "frames of at most 16 KiB");
    const blocks = c.headerBlocks(1);
    assert.equal(blocks[0], [[":status", "200"], ["content-type", "application/grpc"]]);
    assert.equal(blocks[1], [["grpc-status", "0"]]);
    assert.ok(wrote);
  });
});

test("request bodies: CONTINUATION, padding, DATA in pieces, the client credited as the body is read; PING answered", async () => {
  let got: { path: string; auth?: string; body: number } | undefined;
  await withServer((req, res) => {
    void (async () => {
      let n = 0;
      for await (const c of req.body) n += c.length;
      got = { path: req.path, auth: req.headers["authorization"], body: n };
      res.respond(200);
      res.end();
    })();
  }, async (connect) => {
    const c = await connect();
    const block = request("/b", [["authorization", "Bearer " + "t".repeat(100)]]);
    // HEADERS padded with 3 bytes, carrying half the block; the rest in a CONTINUATION.
    const half = block.length >> 1;
    c.send(frame(HEADERS, 0x8, 3, [3, ...block.subarray(0, half), 0, 0, 0]), frame(CONTINUATION, 0x4, 3, block.subarray(half)));
    // 300 KiB of body (above the 256 KiB stream window: needs the credit the server gives as it reads).
    const piece = new Uint8Array(16384);
    for (let i = 0; i < 18; i++) c.send(frame(DATA, 0, 3, piece));
    await c.until((fs) => fs.some((f) => f.type === WINDOW_UPDATE && f.id === 3), "the stream's credit");
    c.send(frame(DATA, 0x8 | 0x1, 3, [2, 9, 9, 9, 0, 0]));
    c.send(frame(PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]));
    await c.until((fs) => fs.some((f) => f.type === DATA && f.id === 3 && (f.flags & 1)), "the end of the answer");
    await c.until((fs) => fs.some((f) => f.type === PING && f.flags === 1), "the PING ACK");
    assert.equal([...c.frames.find((f) => f.type === PING)!.payload], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(got, { path: "/b", auth: "Bearer " + "t".repeat(100), body: 18 * 16384 + 3 });
  });
});

test("RST_STREAM from the client aborts the handler's signal; the stream limit refuses with REFUSED_STREAM", async () => {
  const aborted: number[] = [];
  let open = 0;
  await withServer((req) => {
    open++;
    req.signal.addEventListener("abort", () => aborted.push(Number(req.path.slice(1))));
  }, async (connect) => {
    const c = await connect();
    for (let i = 0; i < 257; i++) c.send(frame(HEADERS, 0x5, 1 + 2 * i, request(`/${1 + 2 * i}`)));
    await c.until((fs) => fs.some((f) => f.type === RST_STREAM), "a refusal");
    const r = c.frames.find((f) => f.type === RST_STREAM)!;
    assert.is(r.id, 513);
    assert.is(new DataView(r.payload.buffer).getUint32(0), 7); // REFUSED_STREAM
    assert.is(open, 256);
    c.send(frame(RST_STREAM, 0, 5, u32(8)));
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(aborted, [5]);
  });
});

for (const [name, bad, code] of [
  ["PUSH_PROMISE from a client", frame(PUSH_PROMISE, 0x4, 1, [0, 0, 0, 2]), 1],
  ["a frame above 16 KiB", frame(DATA, 0, 1, new Uint8Array(16385)), 6],
  ["a malformed header block", frame(HEADERS, 0x5, 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]), 9],
  ["DATA on an idle stream", frame(DATA, 0, 7, [1]), 1],
  ["a SETTINGS frame of 5 bytes", frame(SETTINGS, 0, 0, [0, 4, 0, 0, 0]), 6],
  ["an initial window above 2^31-1", frame(SETTINGS, 0, 0, setting(4, 0x80000000)), 3],
  ["a connection window overflow", frame(WINDOW_UPDATE, 0, 0, u32(0x7fffffff)), 3],
  ["a frame between HEADERS and its CONTINUATION", new Uint8Array([...frame(HEADERS, 0, 1, request("/x").subarray(0, 3)), ...frame(PING, 0, 0, new Uint8Array(8))]), 1],
  ["an even stream id", frame(HEADERS, 0x5, 2, request("/x")), 1],
] as [string, Uint8Array, number][]) {
  test(`protocol error: ${name} ends the connection with GOAWAY ${code}`, async () => {
    let calls = 0;
    await withServer(() => { calls++; }, async (connect) => {
      const c = await connect();
      c.send(bad);
      await c.until((fs) => fs.some((f) => f.type === GOAWAY), "GOAWAY");
      assert.is(c.goaway(), code);
      await c.closedWithin();
      assert.ok(c.closed, "the server closed the connection");
      assert.is(calls, 0);
    });
  });
}

test("not HTTP/2: a connection that does not start with the preface is closed", async () => {
  const srv = net.createServer((s) => new Connection(s, () => assert.unreachable("no request")));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const sock = net.connect((srv.address() as net.AddressInfo).port, "127.0.0.1");
  const raw = new Raw(sock);
  sock.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
  await raw.closedWithin();
  assert.ok(raw.closed);
  assert.is(raw.goaway(), 1);
  await new Promise<void>((r) => srv.close(() => r()));
});

test.run();
