// The hono StoreAPI app (shared/rpc) on the runtime running this file: Node, Bun and Deno (npm test
// runs test/edge under all three). Connect and gRPC-Web clients (connect-web) call it
//   1. in memory through app.fetch (no socket), and
//   2. over a real HTTP/1.1 listener of this runtime (Deno.serve, Bun.serve, @hono/node-server),
// and must get the fixture's answers; without the token, Unauthenticated.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { create, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { SeriesResponseSchema, Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { SeriesSchema, SeriesBatchSchema } from "../../shared/gen/thanos/storepb/types_pb.ts";
import { frameOf } from "../../shared/query/wire.ts";
import type { StoreImpl } from "../../shared/rpc/store.ts";
import { storeApiApp } from "../../shared/rpc/server.ts";
import { createStoreApiClients, proxyStoreApi, type FetchFn } from "../../shared/rpc/client.ts";
import type { SeriesResponse } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { TOKEN, services, expectedSeries, hex, MIN_TIME, MAX_TIME, type NSeriesAnswer } from "../unit/proto/storeapi-fixture.ts";

const app = storeApiApp(services, { token: TOKEN });
const g = globalThis as any;
const runtime: string = g.Deno ? "deno" : g.Bun ? "bun" : "node";

async function seriesOf(c: ReturnType<typeof createStoreApiClients>): Promise<NSeriesAnswer> {
  const out: NSeriesAnswer = { series: [], warnings: [] };
  for await (const r of c.store.series({ minTime: BigInt(MIN_TIME), maxTime: BigInt(MAX_TIME) }) as AsyncIterable<SeriesResponse>) {
    if (r.result.case === "series") {
      out.series.push({
        labels: r.result.value.labels.map((l) => `${l.name}=${l.value}`),
        chunks: r.result.value.chunks.map((ch) => ({
          min: String(ch.minTime), max: String(ch.maxTime), type: ch.raw!.type, data: hex(ch.raw!.data), hash: ch.raw!.hash === undefined ? null : String(ch.raw!.hash),
        })),
      });
    } else if (r.result.case === "warning") out.warnings.push(r.result.value);
  }
  return out;
}

async function check(baseUrl: string, fetchFn: FetchFn | undefined, where: string): Promise<void> {
  for (const protocol of ["connect", "grpc-web"] as const) {
    const c = createStoreApiClients(baseUrl, { token: TOKEN, protocol, fetch: fetchFn });
    assert.equal(await seriesOf(c), expectedSeries(() => true), `${where} ${protocol} Series`);
    assert.equal((await c.store.labelValues({ label: "job" })).values, ["a", "b"], `${where} ${protocol} LabelValues`);
    assert.equal((await c.store.labelNames({})).names, ["__name__", "job", "zone"], `${where} ${protocol} LabelNames`);
    assert.is((await c.info.info({})).store!.maxTime, BigInt(MAX_TIME), `${where} ${protocol} Info`);
    const anon = createStoreApiClients(baseUrl, { protocol, fetch: fetchFn });
    try {
      await anon.store.labelNames({});
      assert.unreachable(`${where} ${protocol}: call without token went through`);
    } catch (e) {
      assert.ok(e instanceof ConnectError && e.code === Code.Unauthenticated, `${where} ${protocol}: ${String(e)}`);
    }
  }
}

test(`in memory through app.fetch on ${runtime}`, async () => {
  const viaApp: FetchFn = async (input, init) => app.fetch(new Request(input, init));
  await check("http://store.invalid", viaApp, "app.fetch");
});

test(`Connect JSON (what curl sends) on ${runtime}; int64 as strings`, async () => {
  const res = await app.fetch(new Request("http://x/thanos.info.Info/Info", {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: "{}",
  }));
  assert.is(res.status, 200);
  assert.equal(await res.json(), {
    labelSets: [{ labels: [{ name: "replica", value: "r1" }] }],
    ComponentType: "store",
    store: { minTime: String(MIN_TIME), maxTime: String(MAX_TIME), supportsWithoutReplicaLabels: true },
  });
  const anon = await app.fetch(new Request("http://x/thanos.info.Info/Info", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }));
  assert.is(anon.status, 401);
  assert.equal(await anon.json(), { code: "unauthenticated", message: "missing or wrong bearer token" });
});

test("observe sees every call, refused ones included, with the mapped status", async () => {
  const seen: string[] = [];
  const counted = storeApiApp(services, {
    token: TOKEN,
    observe: (c) => seen.push(`${c.service}/${c.method} ${c.status === 0 ? "ok" : c.status}`),
  });
  const f: FetchFn = async (i, init) => counted.fetch(new Request(i, init));
  await createStoreApiClients("http://x", { token: TOKEN, fetch: f }).store.labelNames({});
  await createStoreApiClients("http://x", { fetch: f }).store.labelNames({}).catch(() => {});
  await createStoreApiClients("http://x", { token: TOKEN, fetch: f }).store.labelValues({ label: "" }).catch(() => {});
  for await (const _ of createStoreApiClients("http://x", { token: TOKEN, fetch: f }).store.series({ matchers: [{ name: "a", value: "b" }] })) { /* drain */ }
  assert.equal(seen, [
    "thanos.Store/LabelNames ok", `thanos.Store/LabelNames ${Code.Unauthenticated}`, `thanos.Store/LabelValues ${Code.InvalidArgument}`,
    "thanos.Store/Series ok",
  ]);
});

test("readMaxBytes: an oversize announced message fails with ResourceExhausted before it arrives", async () => {
  // A hostile peer: one gRPC-Web/Connect envelope header announcing 1 GiB, then a trickle.
  const hostile: FetchFn = async (_i, init) => {
    const ct = new Headers(init?.headers).get("content-type")!;
    const body = new ReadableStream<Uint8Array>({ start(c) { c.enqueue(new Uint8Array([0, 0x40, 0, 0, 0, 1, 2, 3])); } });
    return new Response(body, { status: 200, headers: { "content-type": ct } });
  };
  for (const protocol of ["connect", "grpc-web"] as const) {
    const c = createStoreApiClients("http://x", { protocol, readMaxBytes: 1 << 20, fetch: hostile });
    try {
      for await (const _ of c.store.series({})) { /* nothing arrives */ }
      assert.unreachable("should fail");
    } catch (e) {
      assert.ok(e instanceof ConnectError && e.code === Code.ResourceExhausted, `${protocol}: ${String(e)}`);
      assert.match((e as ConnectError).rawMessage, "response message from http://x of 1073741824 bytes exceeds the limit of 1048576 bytes");
    }
  }
  // The real answers pass under a limit that each message fits, though the stream is larger.
  const viaApp: FetchFn = async (input, init) => app.fetch(new Request(input, init));
  for (const protocol of ["connect", "grpc-web"] as const) {
    const c = createStoreApiClients("http://x", { token: TOKEN, protocol, readMaxBytes: 1024, fetch: viaApp });
    assert.equal(await seriesOf(c), expectedSeries(() => true), protocol);
  }
});

test("a proxy (querier behind a querier) answers the same and keeps error statuses", async () => {
  const backend: FetchFn = async (i, init) => app.fetch(new Request(i, init));
  const proxy = storeApiApp(proxyStoreApi(createStoreApiClients("http://backend", { token: TOKEN, fetch: backend }), "http://backend"));
  const c = createStoreApiClients("http://proxy", { protocol: "grpc-web", fetch: async (i, init) => proxy.fetch(new Request(i, init)) });
  assert.equal(await seriesOf(c), expectedSeries(() => true));
  assert.is((await c.info.info({})).ComponentType, "store");
  try {
    await c.store.labelValues({ label: "" });
    assert.unreachable("should fail");
  } catch (e) {
    assert.ok(e instanceof ConnectError && e.code === Code.InvalidArgument, String(e));
    assert.is(e.rawMessage, "thanos.Store/LabelValues on http://backend: fixture store: label name must not be empty");
  }
});

test("a client deadline reaches the server (connect-timeout-ms / grpc-timeout) and aborts the call", async () => {
  // An implementation that waits on its signal, as every store should.
  const slow = storeApiApp({ info: { info: (_req, ctx) => new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve({}), 2000);
    ctx.signal.addEventListener("abort", () => { clearTimeout(t); reject(ctx.signal.reason); }, { once: true });
  }) } });
  for (const protocol of ["connect", "grpc-web"] as const) {
    const c = createStoreApiClients("http://x", { protocol, timeoutMs: 50, fetch: async (i, init) => slow.fetch(new Request(i, init)) });
    const t = Date.now();
    try {
      await c.info.info({});
      assert.unreachable("should time out");
    } catch (e) {
      assert.ok(e instanceof ConnectError && e.code === Code.DeadlineExceeded, `${protocol}: ${String(e)}`);
    }
    assert.ok(Date.now() - t < 1500, protocol);
  }
});

test(`over a real ${runtime} HTTP server`, async () => {
  let url: string, stop: () => Promise<void>;
  if (runtime === "deno") {
    const ac = new AbortController();
    const srv = g.Deno.serve({ port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen() {} }, app.fetch);
    url = `http://127.0.0.1:${srv.addr.port}`;
    stop = async () => { ac.abort(); await srv.finished; };
  } else if (runtime === "bun") {
    const srv = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
    url = `http://127.0.0.1:${srv.port}`;
    stop = async () => { srv.stop(true); };
  } else {
    const { serve } = await import("@hono/node-server");
    const srv = await new Promise<any>((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s)); });
    url = `http://127.0.0.1:${srv.address().port}`;
    stop = () => new Promise<void>((r) => srv.close(() => r()));
  }
  try {
    await check(url, undefined, `${runtime} server`);
  } finally {
    await stop();
  }
});

test("pre-encoded series (carried as unknown fields) reach Connect JSON, binary and in-process readers alike", async () => {
  // What the sidecar and the bucket store yield: SeriesResponse field 1 (series) or 4 (batch) as bytes
  // written once. Connect's JSON encoder writes only known fields: without the stack decoding them, a JSON
  // client got `{}` for each series.
  const mk = (i: number) => create(SeriesSchema, {
    labels: [{ name: "__name__", value: "up" }, { name: "i", value: String(i) }],
    chunks: [{ minTime: BigInt(i), maxTime: BigInt(i + 10), raw: { type: 0, data: new Uint8Array([i, 1, 2]) } }],
  });
  const carried = (no: 1 | 4, bytes: Uint8Array) => {
    const m = create(SeriesResponseSchema);
    let n = bytes.length; const len: number[] = [];
    while (n >= 128) { len.push((n & 0x7f) | 0x80); n >>>= 7; }
    len.push(n);
    m.$unknown = [{ no, wireType: WireType.LengthDelimited, data: new Uint8Array([...len, ...bytes]) }];
    return m;
  };
  const pre: StoreImpl = {
    async *series() {
      yield carried(1, toBinary(SeriesSchema, mk(0)));
      yield carried(4, toBinary(SeriesBatchSchema, create(SeriesBatchSchema, { series: [mk(1), mk(2)] })));
      yield { result: { case: "warning", value: "w" } };
      yield carried(1, toBinary(SeriesSchema, mk(3)));
    },
    labelNames: async () => ({ names: [] }),
    labelValues: async () => ({ values: [] }),
  };
  const preApp = storeApiApp({ store: pre });
  const f = (async (i: RequestInfo | URL, init?: RequestInit) => preApp.fetch(new Request(i, init))) as typeof fetch;
  const want = ["series 0", "batch 1,2", "warning w", "series 3"];
  const show = (r: SeriesResponse) => r.result.case === "series" ? `series ${r.result.value.labels[1]!.value}` + (r.result.value.chunks[0]!.raw!.data[0] === Number(r.result.value.labels[1]!.value) ? "" : " (wrong chunk)")
    : r.result.case === "batch" ? `batch ${r.result.value.series.map((x) => x.labels[1]!.value).join(",")}` : r.result.case === "warning" ? `warning ${r.result.value}` : `${r.result.case}`;
  for (const [what, t] of [
    ["Connect JSON", createConnectTransport({ baseUrl: "http://x", useBinaryFormat: false, fetch: f })],
    ["Connect binary", createConnectTransport({ baseUrl: "http://x", fetch: f })],
    ["gRPC-Web JSON", createGrpcWebTransport({ baseUrl: "http://x", useBinaryFormat: false, fetch: f })],
  ] as const) {
    const got: string[] = [];
    for await (const r of createClient(Store, t).series({})) got.push(show(r));
    assert.equal(got, want, what);
  }
  // JSON with response_batch_size: the decoded single series are batched like any other.
  const got: string[] = [];
  for await (const r of createClient(Store, createConnectTransport({ baseUrl: "http://x", useBinaryFormat: false, fetch: f })).series({ responseBatchSize: 5n })) got.push(show(r));
  assert.equal(got, ["series 0", "batch 1,2", "warning w", "series 3"].map((x) => x.startsWith("series") ? x.replace("series", "batch") : x));
  // In process (the fan-out over an in-process StoreImpl): frameOf decodes them too.
  const frames: string[] = [];
  for await (const r of pre.series({} as never, { signal: new AbortController().signal })) {
    const fr = frameOf(r);
    frames.push(fr.kind === "series" ? `series ${fr.labels[1]!.value}` : fr.kind === "batch" ? `batch ${fr.series.map((x) => x.labels[1]!.value).join(",")}` : fr.kind === "warning" ? `warning ${fr.warning}` : fr.kind);
  }
  assert.equal(frames, want);
});

test.run();
