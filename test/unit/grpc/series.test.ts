// agent/grpc/series.ts against our HTTP/2 server answering as a gRPC store would, and as a broken one:
// messages split across DATA frames decode; a failing status in the trailers or in a trailers-only
// answer, a non-gRPC answer, an answer without a status, a compressed message and a message above the
// limit each fail with the code and the store named. Real stores (ours, Go Thanos') are in
// test/integration (querier-storeapi, rpc-go-thanos, downsample-query-thanos).
import { test } from "uvu";
import * as assert from "uvu/assert";
import * as net from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { Connection, type H2Handler } from "../../../agent/grpc/h2server.ts";
import { createH2Client } from "../../../agent/grpc/h2client.ts";
import { grpcSeries } from "../../../agent/grpc/series.ts";
import { SeriesRequestSchema, SeriesResponseSchema } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";
import type { SeriesFrame } from "../../../shared/query/wire.ts";

function envelope(flags: number, msg: Uint8Array): Uint8Array {
  const b = new Uint8Array(5 + msg.length);
  b[0] = flags;
  new DataView(b.buffer).setUint32(1, msg.length);
  b.set(msg, 5);
  return b;
}
const seriesMsg = (i: number) => toBinary(SeriesResponseSchema, create(SeriesResponseSchema, {
  result: { case: "series", value: { labels: [{ name: "__name__", value: "m" }, { name: "i", value: String(i) }], chunks: [{ minTime: 0n, maxTime: 1000n, raw: { type: 1, data: new Uint8Array(300).fill(i) } }] } },
}));

async function withStore(handler: H2Handler, run: (call: (limit?: number) => Promise<SeriesFrame[]>) => Promise<void>): Promise<void> {
  const conns: Connection[] = [];
  const srv = net.createServer((s) => conns.push(new Connection(s, handler)));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  const c = createH2Client(base);
  try {
    await run(async (limit = 1 << 20) => {
      const out: SeriesFrame[] = [];
      for await (const f of grpcSeries(create(SeriesRequestSchema, {}), new AbortController().signal, { name: "store-x", call: c.fetch, baseUrl: base, readMaxBytes: limit })) out.push(f);
      return out;
    });
  } finally {
    c.close();
    for (const k of conns) k.close();
    await new Promise<void>((r) => srv.close(() => r()));
  }
}

const grpcHead: [string, string][] = [["content-type", "application/grpc+proto"]];

test("messages split at every few bytes decode in order; status 0 ends the call", async () => {
  await withStore((req, res) => {
    void (async () => {
      for await (const _ of req.body) { /* the request */ }
      assert.is(req.headers["content-type"], "application/grpc+proto");
      res.respond(200, grpcHead);
      const all = new Uint8Array([...envelope(0, seriesMsg(1)), ...envelope(0, seriesMsg(2)), ...envelope(0, seriesMsg(3))]);
      for (let o = 0; o < all.length; o += 7) await res.write(all.slice(o, o + 7));
      res.end([["grpc-status", "0"]]);
    })();
  }, async (call) => {
    const got = await call();
    assert.is(got.length, 3);
    assert.equal(got.map((f) => f.kind), ["series", "series", "series"]);
  });
});

for (const [name, handler, code, text] of [
  ["a failing status in the trailers", (res: Parameters<H2Handler>[1]) => { res.respond(200, grpcHead); void res.write(envelope(0, seriesMsg(1))).then(() => res.end([["grpc-status", "8"], ["grpc-message", "too%20many%20series"]])); }, "resource_exhausted", "thanos.Store/Series on store-x: too many series"],
  ["a trailers-only failure", (res: Parameters<H2Handler>[1]) => { res.respond(200, [...grpcHead, ["grpc-status", "16"], ["grpc-message", "no token"]]); res.end(); }, "unauthenticated", "no token"],
  ["a non-gRPC answer", (res: Parameters<H2Handler>[1]) => { res.respond(503, [["content-type", "text/plain"]]); res.end(); }, "unavailable", "HTTP 503"],
  ["an answer without a status", (res: Parameters<H2Handler>[1]) => { res.respond(200, grpcHead); void res.write(envelope(0, seriesMsg(1))).then(() => res.end()); }, "internal", "without a gRPC status"],
  ["a compressed message", (res: Parameters<H2Handler>[1]) => { res.respond(200, grpcHead); void res.write(envelope(1, seriesMsg(1))).then(() => res.end([["grpc-status", "0"]])); }, "corrupt", "compressed message"],
  ["a message above the limit", (res: Parameters<H2Handler>[1]) => { res.respond(200, grpcHead); void res.write(envelope(0, new Uint8Array(5000))).then(() => res.end([["grpc-status", "0"]])); }, "resource_exhausted", "more than the limit of 1000 bytes"],
  ["an answer cut inside a message", (res: Parameters<H2Handler>[1]) => { res.respond(200, grpcHead); void res.write(envelope(0, seriesMsg(1)).subarray(0, 20)).then(() => res.end([["grpc-status", "0"]])); }, "unavailable", "ended inside a message"],
] as [string, (res: Parameters<H2Handler>[1]) => void, string, string][]) {
  test(`errors: ${name} fails as ${code}, naming the store`, async () => {
    await withStore((req, res) => { void (async () => { for await (const _ of req.body) { /* drain */ } handler(res); })(); }, async (call) => {
      const e = await call(name === "a message above the limit" ? 1000 : undefined).then(() => null, (err: unknown) => err);
      assert.ok(e instanceof Error, "the call failed");
      assert.is(errorCode(e), code, String(e));
      assert.match((e as Error).message, "store-x");
      assert.match((e as Error).message, text);
    });
  });
}

test.run();
