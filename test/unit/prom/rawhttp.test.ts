// The raw HTTP/1.1 remote-read client (agent/prom/rawhttp.ts) against a scripted TCP server: the
// response is written in chosen pieces with pauses between them, so heads, chunk-size lines, chunk
// payloads and CRLFs arrive cut at every kind of place. Bodies come out byte-exact; broken framing,
// early close, refused connections and aborts are errors that say what happened; a slow reader pauses
// the socket so the server feels TCP back-pressure (memory stays bounded). Under Node there is no raw
// client: remoteRead uses fetch, and the test says so.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { proxied, rawHttpPost, type HttpPost } from "../../../agent/prom/rawhttp.ts";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const enc = new TextEncoder();

interface Script { pieces: (Uint8Array | number)[]; end?: boolean }

/** A server answering each connection with `script()`: byte pieces, numbers are pauses (ms). */
async function serve(script: () => Script | Promise<Script>, onSocket?: (s: Socket) => void): Promise<{ url: string; server: Server; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((s) => {
    onSocket?.(s);
    let req = "";
    let started = false;
    s.on("data", async (d) => {
      req += d.toString("latin1");
      if (started || !req.includes("\r\n\r\n")) return;
      const m = /content-length: (\d+)/i.exec(req);
      if (m && req.length - req.indexOf("\r\n\r\n") - 4 < Number(m[1])) return;
      started = true;
      requests.push(req);
      const sc = await script();
      for (const p of sc.pieces) {
        if (typeof p === "number") await new Promise((r) => setTimeout(r, p));
        else if (!s.destroyed) s.write(p);
      }
      if (sc.end !== false) s.end();
    });
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/read?x=1`, server, requests };
}

function chunked(body: Uint8Array, sizes: number[], ext = false): Uint8Array {
  const parts: Uint8Array[] = [];
  let o = 0, k = 0;
  while (o < body.length) {
    const n = Math.min(sizes[k++ % sizes.length]!, body.length - o);
    parts.push(enc.encode(`${n.toString(16)}${ext ? ";name=value" : ""}\r\n`), body.subarray(o, o + n), enc.encode("\r\n"));
    o += n;
  }
  parts.push(enc.encode(ext ? "0\r\nX-Trailer: t\r\n\r\n" : "0\r\n\r\n"));
  return join(parts);
}

function join(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** Cut b into pieces at the given sizes (repeating), a pause after each. */
function cut(b: Uint8Array, sizes: number[], pause = 1): (Uint8Array | number)[] {
  const out: (Uint8Array | number)[] = [];
  let o = 0, k = 0;
  while (o < b.length) {
    const n = sizes[k++ % sizes.length]!;
    out.push(b.subarray(o, o + n), pause);
    o += n;
  }
  return out;
}

const payload = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 131 + (i >> 8)) & 0xff);

async function readAll(post: HttpPost, url: string, signal?: AbortSignal): Promise<{ status: number; ct: string | null; body: Uint8Array }> {
  const r = await post(url, { method: "POST", headers: { "Content-Type": "application/x-protobuf", "X-Test": "1" }, body: enc.encode("request-body"), signal });
  const parts: Uint8Array[] = [];
  for await (const p of r.body!) parts.push(p);
  return { status: r.status, ct: r.headers.get("content-type"), body: join(parts) };
}

const HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/x-streamed-protobuf\r\nTransfer-Encoding: chunked\r\n\r\n";

test("a URL an http_proxy applies to is left to fetch (no_proxy exempts hosts and domains)", () => {
  const u = (h: string) => new URL(`http://${h}:9090/api/v1/read`);
  assert.is(proxied(u("prom"), {}), false);
  assert.is(proxied(u("prom"), { http_proxy: "http://proxy:3128" }), true);
  assert.is(proxied(u("prom"), { HTTP_PROXY: "http://proxy:3128", NO_PROXY: "prom" }), false);
  assert.is(proxied(u("prom.internal"), { http_proxy: "http://proxy:3128", no_proxy: ".internal" }), false);
  assert.is(proxied(u("prom.internal"), { http_proxy: "http://proxy:3128", no_proxy: "internal, other" }), false);
  assert.is(proxied(u("prominternal"), { http_proxy: "http://proxy:3128", no_proxy: "internal" }), true);
  assert.is(proxied(u("127.0.0.1"), { http_proxy: "http://proxy:3128", no_proxy: "*" }), false);
});

if (!isBun) {
  test("under Node there is no raw client (remoteRead uses fetch)", () => {
    assert.is(rawHttpPost(), null);
  });
} else {
  const post = rawHttpPost()!;

  test("the raw client exists under Bun and sends the request as given", async () => {
    assert.ok(post, "rawHttpPost() under Bun");
    const body = payload(1000);
    const s = await serve(() => ({ pieces: [enc.encode(HEAD), chunked(body, [300])] }));
    try {
      const r = await readAll(post, s.url);
      assert.is(r.status, 200);
      assert.is(r.ct, "application/x-streamed-protobuf");
      assert.equal([...r.body], [...body]);
      const req = s.requests[0]!;
      assert.match(req, /^POST \/api\/v1\/read\?x=1 HTTP\/1\.1\r\n/);
      assert.match(req, /\r\nHost: 127\.0\.0\.1:\d+\r\n/);
      assert.match(req, /\r\nContent-Length: 12\r\n/);
      assert.match(req, /\r\nX-Test: 1\r\n/);
      assert.ok(req.endsWith("\r\n\r\nrequest-body"), "body after the head");
    } finally { s.server.close(); }
  });

  test("credentials in the URL are sent as Basic auth; a given Authorization header wins", async () => {
    const s = await serve(() => ({ pieces: [enc.encode("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")] }));
    try {
      const u = new URL(s.url);
      u.username = "pr%C3%B6m";
      u.password = "s3cr%3At";
      const r = await post(u.toString(), { method: "POST", headers: {}, body: new Uint8Array(0) });
      assert.is(r.status, 204);
      assert.match(s.requests[0]!, /\r\nAuthorization: Basic cHLDtm06czNjcjp0\r\n/); // "pröm:s3cr:t"
      await post(u.toString(), { method: "POST", headers: { authorization: "Bearer x" }, body: new Uint8Array(0) });
      assert.match(s.requests[1]!, /\r\nauthorization: Bearer x\r\n/);
      assert.not.match(s.requests[1]!, /Basic/);
    } finally { s.server.close(); }
  });

  test("chunked bodies cut at every kind of place come out byte-exact", async () => {
    const body = payload(5000);
    const wire = join([enc.encode(HEAD), chunked(body, [1, 2, 397, 4096, 15, 16, 17])]);
    const short = join([enc.encode(HEAD), chunked(body.subarray(0, 300), [1, 2, 100, 15, 16, 17])]);
    const withExt = join([enc.encode(HEAD), chunked(body, [700, 3], true)]);
    for (const [name, bytes, sizes] of [
      ["1-byte pieces", short, [1]], ["3-byte pieces", wire, [3]], ["7/500/2", wire, [7, 500, 2]],
      ["whole", wire, [1 << 20]], ["extensions and trailer, 5-byte pieces", withExt, [5]], ["extensions, 1000", withExt, [1000]],
    ] as const) {
      const s = await serve(() => ({ pieces: cut(bytes, [...sizes], sizes[0] === 1 ? 0 : 1) }));
      try {
        const r = await readAll(post, s.url);
        assert.is(r.status, 200, name);
        const want = bytes === short ? body.subarray(0, 300) : body;
        assert.is(r.body.length, want.length, name);
        assert.equal([...r.body], [...want], name);
      } finally { s.server.close(); }
    }
  });

  test("Content-Length and close-delimited bodies; a 100 Continue before the answer", async () => {
    const body = payload(3000);
    for (const [name, pieces] of [
      ["content-length", cut(join([enc.encode(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body]), [11, 1000])],
      ["close-delimited", cut(join([enc.encode("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"), body]), [999])],
      ["100 continue", cut(join([enc.encode("HTTP/1.1 100 Continue\r\n\r\n"), enc.encode(HEAD), chunked(body, [1024])]), [20, 300])],
    ] as const) {
      const s = await serve(() => ({ pieces: [...pieces] }));
      try {
        const r = await readAll(post, s.url);
        assert.is(r.status, 200, name);
        assert.equal([...r.body], [...body], name);
      } finally { s.server.close(); }
    }
  });

  test("a non-2xx answer keeps its status and body text", async () => {
    const s = await serve(() => ({ pieces: [enc.encode("HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nbad request")] }));
    try {
      const r = await post(s.url, { method: "POST", headers: {}, body: new Uint8Array(0) });
      assert.is(r.ok, false);
      assert.is(r.status, 400);
      assert.is(await r.text(), "bad request");
    } finally { s.server.close(); }
  });

  test("broken framing, early close, refused connections and aborts are errors naming what happened", async () => {
    const cases: [string, Script, RegExp][] = [
      ["bad chunk size", { pieces: [enc.encode(HEAD + "zz\r\nhello\r\n")] }, /bad chunk size "zz"/],
      ["no CRLF after a chunk", { pieces: [enc.encode(HEAD + "5\r\nhelloXX")] }, /no CRLF after a chunk/],
      ["closed inside the body", { pieces: [enc.encode(HEAD + "a\r\nhello")] }, /connection closed inside the body \(5 bytes received\)/],
      ["closed inside content-length", { pieces: [enc.encode("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")] }, /connection closed inside the body \(3 bytes received\)/],
      ["not HTTP", { pieces: [enc.encode("SSH-2.0-OpenSSH\r\n\r\n")] }, /not an HTTP\/1\.x response/],
      ["closed before a response", { pieces: [] }, /connection closed before a response/],
      ["gzip transfer coding", { pieces: [enc.encode("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")] }, /unsupported transfer-encoding "gzip"/],
    ];
    for (const [name, sc, want] of cases) {
      const s = await serve(() => sc);
      try {
        let err: Error | null = null;
        try { await readAll(post, s.url); } catch (e) { err = e as Error; }
        assert.ok(err, `${name}: an error`);
        assert.match(err!.message, want, name);
      } finally { s.server.close(); }
    }
    // Nobody listening.
    const s = await serve(() => ({ pieces: [] }));
    const url = s.url;
    await new Promise((r) => s.server.close(r));
    let refused: Error | null = null;
    try { await readAll(post, url); } catch (e) { refused = e as Error; }
    assert.ok(refused, "connection refused is an error");
    // Abort in the middle of the body.
    const body = payload(1000);
    const slow = await serve(() => ({ pieces: [enc.encode(HEAD), chunked(body.subarray(0, 100), [100]).subarray(0, 105), 3000], end: false }));
    try {
      const ctl = new AbortController();
      const r = await post(slow.url, { method: "POST", headers: {}, body: new Uint8Array(0), signal: ctl.signal });
      const it = r.body![Symbol.asyncIterator]();
      const first = await it.next();
      assert.is(first.done, false);
      ctl.abort(new Error("caller gave up"));
      let aborted: Error | null = null;
      try { while (!(await it.next()).done); } catch (e) { aborted = e as Error; }
      assert.ok(aborted, "the read fails after abort");
      assert.match(aborted!.message, /caller gave up/);
    } finally { slow.server.close(); }
  });

  test("a slow reader pauses the socket: the server is held back, every byte arrives", async () => {
    const total = 64 << 20;
    const piece = payload(64 << 10);
    let sent = 0;
    let sock: Socket | null = null;
    const s = await serve(() => {
      const c = enc.encode(`${piece.length.toString(16)}\r\n`), crlf = enc.encode("\r\n");
      // Written here to count what the server got rid of; the script itself only sends the head.
      void (async () => {
        await new Promise((r) => setTimeout(r, 5));
        for (let o = 0; o < total; o += piece.length) {
          const ok = sock!.write(join([c, piece, crlf]));
          sent += piece.length;
          if (!ok) await new Promise((r) => sock!.once("drain", r));
        }
        sock!.end(enc.encode("0\r\n\r\n"));
      })();
      return { pieces: [enc.encode(HEAD)], end: false };
    }, (x) => { sock = x; });
    try {
      const r = await post(s.url, { method: "POST", headers: {}, body: new Uint8Array(0) });
      let n = 0, ok = true, ahead = -1;
      const t0 = Date.now();
      for await (const p of r.body!) {
        // For 400 ms the reader is busy elsewhere (5 ms per piece); then it reads at full speed.
        if (Date.now() - t0 < 400) await new Promise((res) => setTimeout(res, 5));
        else if (ahead < 0) ahead = sent - n;
        for (let i = 0; i < p.length; i += 4093) if (p[i] !== piece[(n + i) % piece.length]) ok = false;
        n += p.length;
      }
      assert.is(n, total, "every byte");
      assert.ok(ok, "bytes as sent");
      // Unread data is bounded by the client's 1 MiB high-water mark plus the kernel's socket buffers;
      // without the pause the server would have sent nearly everything by now.
      assert.ok(ahead >= 0 && ahead < 24 << 20, `the server was at most 24 MiB ahead of the slow reader (${(ahead / 1048576).toFixed(1)} MiB)`);
    } finally { s.server.close(); }
  });
}

test.run();
