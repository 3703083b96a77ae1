// gRPC over plaintext HTTP/2 (agent/grpc, node:http2) on the runtime running this file — the agents
// run under Bun, and Node/Deno are supported too. Called by grpc-js with descriptors loaded from
// proto/ (independent stack) and by our connect-node gRPC client.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { startGrpcServer } from "../../agent/grpc/server.ts";
import { createGrpcClients } from "../../agent/grpc/client.ts";
import { flattenSeries } from "../../shared/rpc/series.ts";
import { TOKEN, services, SERIES } from "../unit/proto/storeapi-fixture.ts";

const root = new URL("../../", import.meta.url).pathname;
const g = globalThis as any;
const runtime: string = g.Deno ? "deno" : g.Bun ? "bun" : "node";

test(`gRPC server on ${runtime}: grpc-js and our client get the fixture; no token is refused`, async () => {
  const srv = await startGrpcServer(services, { token: TOKEN });
  const def = protoLoader.loadSync(["thanos/storepb/rpc.proto"], { includeDirs: [join(root, "proto")], longs: String, defaults: false, oneofs: true });
  const Store = (grpc.loadPackageDefinition(def) as any).thanos.Store;
  const gc = new Store(srv.address, grpc.credentials.createInsecure());
  const ours = createGrpcClients(srv.address, { token: TOKEN });
  try {
    const md = new grpc.Metadata();
    md.add("authorization", `Bearer ${TOKEN}`);
    const labels = await new Promise<string[][]>((resolve, reject) => {
      const out: string[][] = [];
      const call = gc.Series({ responseBatchSize: "2" }, md);
      call.on("data", (r: any) => {
        for (const s of r.result === "batch" ? r.batch.series : r.result === "series" ? [r.series] : []) out.push(s.labels.map((l: any) => `${l.name}=${l.value}`));
      });
      call.on("error", reject);
      call.on("end", () => resolve(out));
    });
    const want = SERIES.map((s) => s.labels.map(([n, v]) => `${n}=${v}`));
    assert.equal(labels, want, "grpc-js");

    const mine: string[][] = [];
    for await (const r of flattenSeries(ours.store.series({}))) if (r.result.case === "series") mine.push(r.result.value.labels.map((l) => `${l.name}=${l.value}`));
    assert.equal(mine, want, "our gRPC client");
    assert.equal((await ours.store.labelValues({ label: "job" })).values, ["a", "b"]);

    const code = await new Promise<number>((resolve) => gc.LabelNames({}, new grpc.Metadata(), (e: any) => resolve(e ? e.code : 0)));
    assert.is(code, grpc.status.UNAUTHENTICATED);
  } finally {
    gc.close();
    ours.close();
    await srv.close();
  }
});

test.run();
