// A slow client must slow the server down, not make it buffer the whole answer: a store streaming a
// huge Series answer to a querier that reads slowly stays within a bounded lead over the reader
// (HTTP/2 flow-control window or TCP buffers), for gRPC (node:http2) and Connect (HTTP/1.1, hono).
// Measured here: about 1.3k series (2 MB) ahead over gRPC, 2.6k (4 MB) over Connect; the bound
// checked is 10k.
// Cancelling the call stops the server's generator.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { serve } from "@hono/node-server";
import { startGrpcServer } from "../../agent/grpc/server.ts";
import { storeApiApp } from "../../shared/rpc/server.ts";
import { createStoreClient } from "../../shared/rpc/client.ts";
import type { StoreApiServices } from "../../shared/rpc/store.ts";

const root = new URL("../../", import.meta.url).pathname;
const TOTAL = 200_000; // x ~1.6 kB = ~320 MB if the server ran ahead unchecked
const data = new Uint8Array(1500).fill(7);
let produced = 0;
let finished = false;
const services: StoreApiServices = {
  store: {
    async *series(_req, ctx) {
      produced = 0; finished = false;
      try {
        for (let i = 0; i < TOTAL && !ctx.signal.aborted; i++) {
          produced++;
          yield { result: { case: "series", value: { labels: [{ name: "i", value: String(i).padStart(7, "0") }], chunks: [{ minTime: 0n, maxTime: 1n, raw: { type: 0, data } }] } } };
        }
      } finally {
        finished = true;
      }
    },
    async labelNames() { return {}; },
    async labelValues() { return {}; },
  },
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("gRPC: a paused grpc-js reader bounds the server's lead; cancel stops the generator", async () => {
  const srv = await startGrpcServer(services);
  const def = protoLoader.loadSync(["thanos/storepb/rpc.proto"], { includeDirs: [join(root, "proto")], longs: String, oneofs: true });
  const Store = (grpc.loadPackageDefinition(def) as any).thanos.Store;
  const c = new Store(srv.address, grpc.credentials.createInsecure());
  try {
    const call = c.Series({});
    let got = 0;
    await new Promise<void>((resolve) => call.on("data", () => { got++; if (got === 1) { call.pause(); resolve(); } }));
    await sleep(700);
    const lead = produced - got;
    assert.ok(lead < 10_000, `server ran ${lead} series (~${((lead * 1.6) / 1000).toFixed(0)} MB) ahead of a paused reader`);
    call.on("error", () => {});
    call.cancel();
    await sleep(300);
    assert.ok(finished, "generator finished after cancel");
    assert.ok(produced < TOTAL);
  } finally {
    c.close();
    await srv.close();
  }
});

test("Connect over HTTP/1.1: a reader that stops pulling bounds the server's lead; abort stops it", async () => {
  const app = storeApiApp(services);
  const http = await new Promise<ReturnType<typeof serve>>((resolve) => { const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s)); });
  try {
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const ac = new AbortController();
    const it = createStoreClient(url).series({}, { signal: ac.signal })[Symbol.asyncIterator]();
    await it.next();
    await sleep(700);
    const lead = produced - 1;
    assert.ok(lead < 10_000, `server ran ${lead} series ahead of a reader that stopped`);
    ac.abort();
    await it.return?.();
    await sleep(300);
    assert.ok(finished, "generator finished after abort");
  } finally {
    await new Promise<void>((r) => { http.close(() => r()); (http as any).closeAllConnections?.(); });
  }
});

test.run();
