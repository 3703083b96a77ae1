// The querier as a Cloudflare Worker. Settings come from wrangler.toml [vars] and secrets (names in
// edge/querier/env.ts): STORE_ENDPOINTS, REPLICA_LABELS, ...; STORE_TOKENS and QUERY_TOKEN as secrets.
// With an R2 binding named BUCKET, the bucket's blocks are one more store, read in-process (the store
// gateway's bucket store, edge/store).
// The app (and with it each store's cached Info) lives as long as the isolate; a change of settings
// builds a new one.
import type { Hono } from "hono";
import { createQuerierApp } from "../../shared/query/app.ts";
import { buildQuerier, checkEndpointTokens } from "../../shared/query/config.ts";
import { type Env, settingsFromEnv } from "../querier/env.ts";
import { errorMessage, errorStatus } from "../../shared/encoding/errors.ts";
import { errorJson } from "../../shared/api/json.ts";
import { R2Bucket, type R2BucketLike } from "../objstore/r2.ts";
import { bucketStoreEndpoint } from "../../shared/query/bucket.ts";

type WorkerEnv = Record<string, unknown> & { BUCKET?: R2BucketLike };

let cached: { key: string; app: Hono } | null = null;

function appFor(env: WorkerEnv): Hono {
  const strings: Env = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === "string") strings[k] = v;
  const key = JSON.stringify(strings);
  if (cached?.key === key) return cached.app;
  const settings = settingsFromEnv(strings);
  checkEndpointTokens(settings, "STORE_TOKENS", "STORE_ENDPOINTS");
  const cfg = buildQuerier(settings, {
    extraStores: env.BUCKET ? [bucketStoreEndpoint(new R2Bucket(env.BUCKET, { name: "BUCKET" }), { syncTtlMs: 60_000 }, "bucket BUCKET")] : [],
  });
  // compress: null: Cloudflare compresses Worker answers at its edge for clients that accept it, and
  // CPU spent in the Worker is billed.
  const app = createQuerierApp({ ...cfg.app, proxy: cfg.proxy, buildInfo: { version: "0.1.0", branch: "main", goVersion: "workerd" }, compress: null });
  cached = { key, app };
  return app;
}

export default {
  async fetch(req: Request, env: WorkerEnv, ctx: ExecutionContext): Promise<Response> {
    let app: Hono;
    try {
      app = appFor(env);
    } catch (e) {
      const s = errorStatus(e);
      return new Response(errorJson(s.errorType, `querier configuration: ${errorMessage(e)}`), { status: s.http, headers: { "Content-Type": "application/json" } });
    }
    return await app.fetch(req, env, ctx);
  },
};
