// agent/grpc/h2client.ts: round trips against our server (large bodies both ways, many calls at once
// over one connection, the server's stream limit queued), cancellation (RST_STREAM reaches the
// server), a connection refused, and a server's GOAWAY (calls it never processed fail as Unavailable,
// and the next call makes a new connection). Interop with grpc-go servers and Thanos stores is in
// test/integration (rpc-go-thanos, querier-*).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { Connection, type H2Handler } from "../../../agent/grpc/h2server.ts";
import { createH2Client } from "../../../agent/grpc/h2client.ts";
import { encodeHeaders } from "../../../shared/h2/hpack.ts";

async function serve(handler: H2Handler): Promise<{ port: number; conns: () => number; close(): Promise<void> }> {
  const conns: Connection[] = [];
  const srv = net.createServer((s) => conns.push(new Connection(s, handler)));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    conns: () => conns.length,
    close: async () => { for (const c of conns) c.close(); await new Promise<void>((r) => srv.close(() => r())); },
  };
}

async function* once(b: Uint8Array): AsyncIterable<Uint8Array> { yield b; }

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const c of body) { parts.push(c); n += c.length; }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

test("round trips: a 1 MiB request and a 20 MiB answer with trailers; 300 calls at once on one connection", async () => {
  // The answer repeats the request's bytes; the server holds 256 streams at most, so calls queue.
  const srv = await serve((req, res) => {
    void (async () => {
      const body = await readAll(req.body);
      const times = Number(req.headers["x-times"] ?? "1");
      res.respond(200, [["content-type", "application/octet-stream"], ["x-len", String(body.length)]]);
      for (let i = 0; i < times; i++) if (!(await res.write(body))) return;
      res.end([["x-done", "yes"]]);
    })();
  });
  const c = createH2Client(`http://127.0.0.1:${srv.port}`);
  try {
    const big = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 0xff);
    const r = await c.fetch({ url: `http://127.0.0.1:${srv.port}/x`, method: "POST", header: new Headers({ "x-times": "20" }), body: once(big) });
    assert.is(r.status, 200);
    assert.is(r.header.get("x-len"), String(1 << 20));
    const got = await readAll(r.body);
    assert.is(got.length, 20 << 20);
    for (let k = 0; k < 20; k++) assert.ok(got[(k << 20) + 12345] === big[12345], `piece ${k}`);
    assert.is(r.trailer.get("x-done"), "yes");
    const many = await Promise.all(Array.from({ length: 300 }, async (_, i) => {
      const rr = await c.fetch({ url: `http://127.0.0.1:${srv.port}/y`, method: "POST", header: new Headers(), body: once(Uint8Array.of(i & 0xff, i >> 8)) });
      const b = await readAll(rr.body);
      return b[0]! | (b[1]! << 8);
    }));
    assert.equal(many, Array.from({ length: 300 }, (_, i) => i));
    assert.is(srv.conns(), 1, "one connection for every call");
  } finally {
    c.close();
    await srv.close();
  }
});

test("cancelling a call resets its stream: the server's signal aborts", async () => {
  let aborted = false;
  const srv = await serve((req, res) => {
    req.signal.addEventListener("abort", () => { aborted = true; });
    res.respond(200);
    void res.write(new Uint8Array(10));
  });
  const c = createH2Client(`http://127.0.0.1:${srv.port}`);
  try {
    const ac = new AbortController();
    const r = await c.fetch({ url: `http://127.0.0.1:${srv.port}/z`, method: "POST", header: new Headers(), body: once(new Uint8Array(1)), signal: ac.signal });
    const it = r.body[Symbol.asyncIterator]();
    assert.is((await it.next()).value?.length, 10);
    ac.abort(new ConnectError("stop", Code.Canceled));
    const err = await it.next().then(() => null, (e: unknown) => e);
    assert.ok(err instanceof ConnectError && err.code === Code.Canceled, String(err));
    for (let i = 0; i < 100 && !aborted; i++) await new Promise((r2) => setTimeout(r2, 10));
    assert.ok(aborted, "the server saw the reset");
  } finally {
    c.close();
    await srv.close();
  }
});

test("a refused connection is Unavailable, naming the target", async () => {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const c = createH2Client(`http://127.0.0.1:${port}`);
  const err = await c.fetch({ url: `http://127.0.0.1:${port}/x`, method: "POST", header: new Headers(), body: once(new Uint8Array(1)) }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof ConnectError && err.code === Code.Unavailable, String(err));
  assert.match(String((err as ConnectError).message), `127.0.0.1:${port}`);
  c.close();
});

test("GOAWAY: a call the server never processed fails Unavailable; the next call makes a new connection", async () => {
  // A raw server: the first connection answers stream 1 after sending GOAWAY(last stream 1) while
  // stream 3 is open; the second connection answers normally.
  let conns = 0;
  const srv = net.createServer((sock) => {
    const n = ++conns;
    let seen = 0;
    sock.on("data", (d: Uint8Array) => {
      const s = new TextDecoder("latin1").decode(d);
      seen += (s.match(/\/slow/g) ?? []).length;
      if (n === 1 && seen === 2) {
        // SETTINGS, GOAWAY(last=1), then the answer to stream 1.
        const f = (type: number, flags: number, id: number, p: Uint8Array) => {
          const b = new Uint8Array(9 + p.length);
          b[2] = p.length & 0xff; b[1] = p.length >> 8; b[3] = type; b[4] = flags;
          new DataView(b.buffer).setUint32(5, id);
          b.set(p, 9);
          sock.write(b);
        };
        f(4, 0, 0, new Uint8Array(0));
        f(7, 0, 0, Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0));
        f(1, 0x5, 1, encodeHeaders([[":status", "200"], ["x-ok", "1"]]));
      }
      if (n === 2 && s.includes("/after")) {
        const b = encodeHeaders([[":status", "200"], ["x-ok", "2"]]);
        const h = new Uint8Array(9 + b.length);
        h[2] = b.length; h[3] = 1; h[4] = 0x5; h[8] = 1; h.set(b, 9);
        const settings = Uint8Array.of(0, 0, 0, 4, 0, 0, 0, 0, 0);
        sock.write(settings); sock.write(h);
      }
    });
    sock.on("error", () => {});
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as net.AddressInfo).port;
  const c = createH2Client(`http://127.0.0.1:${port}`);
  try {
    const url = `http://127.0.0.1:${port}/slow`;
    const [a, b] = await Promise.allSettled([
      c.fetch({ url, method: "POST", header: new Headers(), body: once(new Uint8Array(1)) }),
      c.fetch({ url, method: "POST", header: new Headers(), body: once(new Uint8Array(1)) }),
    ]);
    assert.is(a.status, "fulfilled");
    assert.is((a as PromiseFulfilledResult<{ header: Headers }>).value.header.get("x-ok"), "1");
    assert.is(b.status, "rejected");
    const e = (b as PromiseRejectedResult).reason;
    assert.ok(e instanceof ConnectError && e.code === Code.Unavailable, String(e));
    const r = await c.fetch({ url: `http://127.0.0.1:${port}/after`, method: "POST", header: new Headers(), body: once(new Uint8Array(1)) });
    assert.is(r.header.get("x-ok"), "2");
    assert.is(conns, 2);
  } finally {
    c.close();
    await new Promise<void>((r) => srv.close(() => r()));
  }
});

test.run();
