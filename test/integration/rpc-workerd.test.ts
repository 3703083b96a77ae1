// The hono StoreAPI app (shared/rpc) inside workerd (wrangler dev, offline): Connect and gRPC-Web
// from outside, and connect-web clients running inside the Worker itself (the redirect: "manual"
// fix that workerd needs), all giving the fixture's answers; without the token, Unauthenticated.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import { startWranglerDev, tempDir, type Proc } from "../lib/proc.ts";
import { createStoreApiClients } from "../../shared/rpc/client.ts";
import { flattenSeries } from "../../shared/rpc/series.ts";
import { TOKEN, MIN_TIME, MAX_TIME, expectedSeries, hex } from "../unit/proto/storeapi-fixture.ts";

const root = new URL("../../", import.meta.url).pathname;
let proc: Proc;
let url: string;

test.before(async () => {
  const dir = tempDir("rpc-workerd-").path;
  // The entry imports the repo's modules by absolute path; wrangler's esbuild resolves the npm
  // packages from the repo's node_modules next to them.
  writeFileSync(join(dir, "entry.ts"), `
import { storeApiApp } from ${JSON.stringify(join(root, "shared/rpc/server.ts"))};
import { createStoreApiClients } from ${JSON.stringify(join(root, "shared/rpc/client.ts"))};
import { services, TOKEN } from ${JSON.stringify(join(root, "test/unit/proto/storeapi-fixture.ts"))};
const app = storeApiApp(services, { token: TOKEN });
app.get("/healthz", (c) => c.text("ok"));
// connect-web clients inside workerd, calling the app in memory
app.get("/selftest", async (c) => {
  const out: Record<string, unknown> = {};
  for (const protocol of ["connect", "grpc-web"] as const) {
    const cl = createStoreApiClients("http://self.invalid", { token: TOKEN, protocol, fetch: (i, init) => app.fetch(new Request(i, init)) });
    let series = 0;
    for await (const r of cl.store.series({})) if (r.result.case === "series") series++;
    out[protocol] = { series, jobs: (await cl.store.labelValues({ label: "job" })).values, component: (await cl.info.info({})).ComponentType };
  }
  return c.json(out);
});
export default app;
`);
  writeFileSync(join(dir, "wrangler.toml"), `name = "rpc-smoke"\nmain = "entry.ts"\ncompatibility_date = "2026-04-01"\n`);
  ({ proc, url } = await startWranglerDev({ args: ["--config", join(dir, "wrangler.toml")], cwd: dir, readyPath: "/healthz" }));
});

test.after(async () => { await proc?.stop(); });

test("Connect and gRPC-Web from outside get the fixture's answers from workerd", async () => {
  for (const protocol of ["connect", "grpc-web"] as const) {
    const c = createStoreApiClients(url, { token: TOKEN, protocol });
    const got = { series: [] as unknown[], warnings: [] as string[] };
    for await (const r of flattenSeries(c.store.series({ minTime: BigInt(MIN_TIME), maxTime: BigInt(MAX_TIME), responseBatchSize: 2n }))) {
      if (r.result.case === "series") {
        got.series.push({
          labels: r.result.value.labels.map((l) => `${l.name}=${l.value}`),
          chunks: r.result.value.chunks.map((ch) => ({
            min: String(ch.minTime), max: String(ch.maxTime), type: ch.raw!.type, data: hex(ch.raw!.data), hash: ch.raw!.hash === undefined ? null : String(ch.raw!.hash),
          })),
        });
      } else if (r.result.case === "warning") got.warnings.push(r.result.value);
    }
    assert.equal(got, expectedSeries(() => true), protocol);
    assert.equal((await c.store.labelNames({})).names, ["__name__", "job", "zone"], protocol);
    try {
      await createStoreApiClients(url, { protocol }).info.info({});
      assert.unreachable("no token went through");
    } catch (e) {
      assert.ok(e instanceof ConnectError && e.code === Code.Unauthenticated, String(e));
    }
  }
});

test("connect-web clients run inside the Worker", async () => {
  const r = await fetch(`${url}/selftest`);
  assert.is(r.status, 200, await r.clone().text());
  const want = { series: 3, jobs: ["a", "b"], component: "store" };
  assert.equal(await r.json(), { connect: want, "grpc-web": want });
});

test.run();
