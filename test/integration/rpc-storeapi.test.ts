// Proof of wire compatibility (issue #2): one in-memory StoreAPI served by our two servers
//   - agent/grpc (gRPC over plaintext HTTP/2), called by @grpc/grpc-js with descriptors that
//     @grpc/proto-loader reads from proto/ on its own (an independent protobuf + gRPC stack);
//   - shared/rpc on hono over HTTP/1.1 (@hono/node-server), called with Connect and gRPC-Web;
// gives identical Series (stream), LabelNames, LabelValues and Info answers, equal to the fixture;
// refuses calls without the bearer token; maps coded errors (also mid-stream) to the same statuses.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { serve } from "@hono/node-server";
import { ConnectError } from "@connectrpc/connect";
import { startGrpcServer, type GrpcServer } from "../../agent/grpc/server.ts";
import { createGrpcClients } from "../../agent/grpc/client.ts";
import { storeApiApp } from "../../shared/rpc/server.ts";
import { createStoreApiClients } from "../../shared/rpc/client.ts";
import { flattenSeries } from "../../shared/rpc/series.ts";
import { LabelMatcher_Type } from "../../shared/gen/thanos/storepb/types_pb.ts";
import type { SeriesResponse } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import type { InfoResponse } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import {
  TOKEN, services, expectedSeries, expectedInfo, hex, type NSeriesAnswer,
} from "../unit/proto/storeapi-fixture.ts";

const root = new URL("../../", import.meta.url).pathname;

// ---- an independent client: grpc-js + proto-loader reading our .proto files ----
const def = protoLoader.loadSync(
  ["thanos/storepb/rpc.proto", "thanos/infopb/rpc.proto"],
  { includeDirs: [join(root, "proto")], longs: String, enums: Number, bytes: Array, defaults: false, oneofs: true },
);
const pkg = grpc.loadPackageDefinition(def) as any;

type Q = {
  series(req: object): Promise<NSeriesAnswer & { batches?: number }>;
  labelNames(req: object): Promise<string[]>;
  labelValues(req: object): Promise<string[]>;
  info(): Promise<typeof expectedInfo>;
};

function grpcJsClient(addr: string, token?: string): Q & { close(): void } {
  const creds = grpc.credentials.createInsecure();
  const store = new pkg.thanos.Store(addr, creds);
  const infoC = new pkg.thanos.info.Info(addr, creds);
  const md = () => { const m = new grpc.Metadata(); if (token) m.add("authorization", `Bearer ${token}`); return m; };
  const unary = (c: any, m: string, req: object) => new Promise<any>((res, rej) => c[m](req, md(), (e: Error | null, r: any) => (e ? rej(e) : res(r))));
  return {
    series: (req) => new Promise((resolve, reject) => {
      const out: NSeriesAnswer & { batches?: number } = { series: [], warnings: [] };
      const call = store.Series(req, md());
      const push = (ser: any) => out.series.push({
        labels: ser.labels.map((l: any) => `${l.name}=${l.value}`),
        chunks: (ser.chunks ?? []).map((c: any) => ({
          min: String(c.minTime ?? "0"), max: String(c.maxTime ?? "0"), type: c.raw.type ?? 0,
          data: hex(Uint8Array.from(c.raw.data ?? [])), hash: c.raw.hash === undefined || c.raw.hash === null ? null : String(c.raw.hash),
        })),
      });
      call.on("data", (r: any) => {
        if (r.result === "series") push(r.series);
        else if (r.result === "batch") { out.batches = (out.batches ?? 0) + 1; for (const x of r.batch.series) push(x); }
        else if (r.result === "warning") out.warnings.push(r.warning);
      });
      call.on("error", (e: Error) => reject(Object.assign(e, { partial: out })));
      call.on("end", () => resolve(out));
    }),
    labelNames: async (req) => (await unary(store, "LabelNames", req)).names ?? [],
    labelValues: async (req) => (await unary(store, "LabelValues", req)).values ?? [],
    info: async () => {
      const r = await unary(infoC, "Info", {});
      return {
        componentType: r.ComponentType,
        labelSets: r.labelSets.map((s: any) => s.labels.map((l: any) => `${l.name}=${l.value}`)),
        minTime: r.store.minTime, maxTime: r.store.maxTime, supportsWithoutReplicaLabels: r.store.supportsWithoutReplicaLabels,
      };
    },
    close: () => { store.close(); infoC.close(); },
  };
}

// ---- our clients (protobuf-es) ----
function normSeries(rs: SeriesResponse[]): NSeriesAnswer {
  const out: NSeriesAnswer = { series: [], warnings: [] };
  for (const r of rs) {
    if (r.result.case === "series") {
      const s = r.result.value;
      out.series.push({
        labels: s.labels.map((l) => `${l.name}=${l.value}`),
        chunks: s.chunks.map((c) => ({
          min: String(c.minTime), max: String(c.maxTime), type: c.raw!.type, data: hex(c.raw!.data), hash: c.raw!.hash === undefined ? null : String(c.raw!.hash),
        })),
      });
    } else if (r.result.case === "warning") out.warnings.push(r.result.value);
  }
  return out;
}

function normInfo(r: InfoResponse): typeof expectedInfo {
  return {
    componentType: r.ComponentType,
    labelSets: r.labelSets.map((s) => s.labels.map((l) => `${l.name}=${l.value}`)),
    minTime: String(r.store!.minTime), maxTime: String(r.store!.maxTime), supportsWithoutReplicaLabels: r.store!.supportsWithoutReplicaLabels,
  };
}

function esClient(c: ReturnType<typeof createStoreApiClients>): Q {
  return {
    series: async (req) => {
      const rs: SeriesResponse[] = [];
      let batches = 0;
      const counted = async function* () { for await (const r of c.store.series(req)) { if (r.result.case === "batch") batches++; yield r; } };
      for await (const r of flattenSeries(counted())) rs.push(r);
      return { ...normSeries(rs), ...(batches ? { batches } : {}) };
    },
    labelNames: async (req) => (await c.store.labelNames(req)).names,
    labelValues: async (req) => (await c.store.labelValues(req)).values,
    info: async () => normInfo(await c.info.info({})),
  };
}

let grpcServer: GrpcServer;
let http: ReturnType<typeof serve>;
let httpUrl: string;
const closers: (() => void)[] = [];

test.before(async () => {
  grpcServer = await startGrpcServer(services, { token: TOKEN });
  const app = storeApiApp(services, { token: TOKEN });
  await new Promise<void>((resolve) => { http = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve()); });
  httpUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

test.after(async () => {
  for (const c of closers) c();
  await grpcServer?.close();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
});

function clients(token?: string): [string, Q][] {
  const g = grpcJsClient(grpcServer.address, token);
  const ours = createGrpcClients(grpcServer.address, { token });
  closers.push(g.close, ours.close);
  return [
    ["grpc-js over HTTP/2", g],
    ["connect over HTTP/1.1", esClient(createStoreApiClients(httpUrl, { token }))],
    ["grpc-web over HTTP/1.1", esClient(createStoreApiClients(httpUrl, { token, protocol: "grpc-web" }))],
    ["our gRPC client over HTTP/2", esClient(ours)],
  ];
}

const MINT = "1700000000000", MAXT = "1700002250000";

test("Series, LabelNames, LabelValues, Info: identical through every client and equal to the fixture", async () => {
  const want = {
    all: expectedSeries(() => true),
    jobB: expectedSeries((s) => s.labels.some(([n, v]) => n === "job" && v === "b")),
    skip: expectedSeries(() => true, true),
    names: ["__name__", "job", "zone"],
    namesUp: ["__name__", "job"],
    jobs: ["a", "b"],
    info: expectedInfo,
  };
  for (const [name, c] of clients(TOKEN)) {
    const got = {
      all: await c.series({ minTime: MINT, maxTime: MAXT, matchers: [] }),
      jobB: await c.series({ minTime: MINT, maxTime: MAXT, matchers: [{ type: LabelMatcher_Type.EQ, name: "job", value: "b" }] }),
      skip: await c.series({ minTime: MINT, maxTime: MAXT, skipChunks: true }),
      names: await c.labelNames({ start: MINT, end: MAXT }),
      namesUp: await c.labelNames({ start: MINT, end: MAXT, matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "up" }] }),
      jobs: await c.labelValues({ label: "job", start: MINT, end: MAXT }),
      info: await c.info(),
    };
    assert.equal(got, want, name);
  }
});

// grpc-message is percent-encoded. connect-node encodes with encodeURIComponent (":" -> "%3A", valid
// per the gRPC spec), grpc-js decodes with decodeURI, which leaves reserved characters like "%3A"
// encoded (Go's grpc decodes every %XX). So grpc-js shows "store%3A ..."; decode fully to compare.
function messageOf(e: unknown): string {
  const m = String((e as Error).message);
  try { return decodeURIComponent(m); } catch { return m; }
}

test("response_batch_size: the server packs series into batch messages (field 4), clients see the same series", async () => {
  for (const [name, c] of clients(TOKEN)) {
    const got = await c.series({ minTime: MINT, maxTime: MAXT, responseBatchSize: 2 });
    assert.equal(got, { ...expectedSeries(() => true), batches: 2 }, name);
  }
});

function statusOf(e: unknown): number {
  if (e instanceof ConnectError) return e.code;
  return (e as { code?: number }).code ?? -1;
}

async function fails(p: Promise<unknown>): Promise<unknown> {
  try { await p; } catch (e) { return e; }
  throw new Error("expected the call to fail");
}

test("no token or a wrong token: Unauthenticated (16) on every call, every client", async () => {
  for (const token of [undefined, "wrong", `${TOKEN}x`]) {
    for (const [name, c] of clients(token)) {
      for (const [what, call] of [
        ["Series", () => c.series({ minTime: MINT, maxTime: MAXT })],
        ["LabelNames", () => c.labelNames({})],
        ["LabelValues", () => c.labelValues({ label: "job" })],
        ["Info", () => c.info()],
      ] as const) {
        const e = await fails(call());
        assert.is(statusOf(e), 16, `${name} ${what} with token ${token}: ${String(e)}`);
      }
    }
  }
});

test("coded errors keep their meaning: InvalidArgument, and Unavailable after a streamed series", async () => {
  for (const [name, c] of clients(TOKEN)) {
    const e = await fails(c.labelValues({ label: "" }));
    assert.is(statusOf(e), 3, name);
    assert.match(messageOf(e), "fixture store: label name must not be empty", `${name}: ${(e as Error).message}`);

    const series: NSeriesAnswer = { series: [], warnings: [] };
    const e2 = await fails((async () => {
      if (name.startsWith("grpc-js")) {
        try { await c.series({ matchers: [{ type: LabelMatcher_Type.EQ, name: "fail", value: "1" }] }); } catch (x) {
          series.series.push(...((x as { partial: NSeriesAnswer }).partial.series));
          throw x;
        }
      } else {
        await c.series({ matchers: [{ type: LabelMatcher_Type.EQ, name: "fail", value: "1" }] });
      }
    })());
    assert.is(statusOf(e2), 14, name);
    assert.match(messageOf(e2), "fixture store: backend went away after one series", `${name}: ${(e2 as Error).message}`);
    if (name.startsWith("grpc-js")) assert.is(series.series.length, 1, "the series before the error arrived");
  }
});

// The unary fast path (agent/grpc/fastunary.ts) beside connect-node: what it must keep of gRPC.
test("gRPC unary calls: deadlines, malformed and compressed requests, observation", async () => {
  const seen: string[] = [];
  let aborted = false;
  const slow: typeof services = {
    ...services,
    info: { info: (_req, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => { aborted = true; reject(new Error("stopped")); })) },
  };
  const srv = await startGrpcServer(slow, { observe: (c) => seen.push(`${c.service}/${c.method} ${c.status}`) });
  const g = grpcJsClient(srv.address);
  try {
    // A deadline (grpc-timeout) the implementation does not meet: DeadlineExceeded, and its signal aborts.
    const infoC = new pkg.thanos.info.Info(srv.address, grpc.credentials.createInsecure());
    const t0 = performance.now();
    const e = await fails(new Promise((res, rej) => infoC.Info({}, new grpc.Metadata(), { deadline: Date.now() + 300 }, (err: Error | null, r: unknown) => (err ? rej(err) : res(r)))));
    infoC.close();
    assert.is(statusOf(e), 4, String(e));
    assert.ok(performance.now() - t0 < 2000, "answered at the deadline");
    // The client's own deadline fires at the same moment: give the server's a moment to be seen.
    for (let i = 0; i < 100 && !aborted; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(aborted, "the implementation's signal aborted");
    // Answers as connect-node gives them, also to a client that compresses its requests (gzip: connect-node serves those).
    const ref = clients(TOKEN)[1]![1]; // Connect over HTTP/1.1: no fast path there
    const names = await g.labelNames({});
    assert.ok(names.length > 0);
    assert.equal(names, await ref.labelNames({}));
    const gz = new pkg.thanos.Store(srv.address, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 });
    const values = await new Promise<any>((res, rej) => gz.LabelValues({ label: "job" }, (err: Error | null, r: unknown) => (err ? rej(err) : res(r))));
    gz.close();
    assert.ok(values.values.length > 0);
    assert.equal(values.values, await ref.labelValues({ label: "job" }));
    // A malformed request: InvalidArgument, and the server goes on.
    const h2 = await import("node:http2");
    const session = h2.connect(`http://${srv.address}`);
    const raw = (body: Uint8Array) => new Promise<Record<string, unknown>>((resolve, reject) => {
      const r = session.request({ ":method": "POST", ":path": "/thanos.Store/LabelNames", "content-type": "application/grpc", te: "trailers" });
      let trailers: Record<string, unknown> = {};
      r.on("trailers", (t) => { trailers = t; });
      r.on("response", (h) => { if (h["grpc-status"] !== undefined) trailers = h; });
      r.on("data", () => {});
      r.on("end", () => resolve(trailers));
      r.on("error", reject);
      r.end(body);
    });
    const bad = await raw(Uint8Array.of(0, 0, 0, 0, 9, 0xff, 0xff));
    assert.is(bad["grpc-status"], "3", JSON.stringify(bad));
    assert.match(decodeURIComponent(String(bad["grpc-message"])), "LabelNames request envelope says 9 bytes, body has 2");
    const junk = await raw(Uint8Array.of(0, 0, 0, 0, 2, 0xff, 0xff));
    assert.is(junk["grpc-status"], "3", JSON.stringify(junk));
    session.close();
    assert.equal(await g.labelValues({ label: "job" }), values.values);
    // Every call observed once, with the status the client got.
    for (const want of ["thanos.info.Info/Info 4", "thanos.Store/LabelNames 0", "thanos.Store/LabelValues 0", "thanos.Store/LabelNames 3"]) {
      assert.ok(seen.includes(want), `${want} in ${seen.join(", ")}`);
    }
  } finally {
    g.close();
    await srv.close();
  }
});

test.run();
