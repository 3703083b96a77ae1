// The blocks page as a hono app: the page at `/`, `/blocks` (the bucket) and `/loaded` (the compactor's
// own view, when it has one), its script and stylesheet as strings compiled into the bundle, and the API
// of api.ts. Served by the compactor on --http-address (agent/compact/main.ts) and by
// `tools bucket web` (agent/tools/bucket/web.ts). No runtime API here; assets are served as the query UI
// serves its own (../app.ts: ETag, no-cache, the strict CSP on pages).

import { Hono } from "hono";
import { assetHandler } from "../app.ts";
import { blocksApi, type BlocksApiOptions } from "./api.ts";
import { blocksPage } from "./page.ts";
import { BLOCKS_SCRIPT } from "./script.ts";
import { BLOCKS_CSS } from "./style.ts";

export interface BlocksAppOptions extends BlocksApiOptions {
  /** Shown in the header and the window title. */
  title?: string;
}

export function blocksApp(o: BlocksAppOptions): Hono {
  const app = new Hono();
  const title = o.title ?? "thanots blocks";
  const hasLoaded = o.views.loaded !== undefined;
  const html = (view: "global" | "loaded") => assetHandler(blocksPage(title, view, hasLoaded), "text/html; charset=utf-8", true);
  const global = html("global");
  for (const p of ["/", "/blocks"]) app.on(["GET", "HEAD"], p, global);
  if (hasLoaded) app.on(["GET", "HEAD"], "/loaded", html("loaded"));
  app.on(["GET", "HEAD"], "/static/blocks.js", assetHandler(BLOCKS_SCRIPT, "text/javascript; charset=utf-8"));
  app.on(["GET", "HEAD"], "/static/blocks.css", assetHandler(BLOCKS_CSS, "text/css; charset=utf-8"));
  app.route("/", blocksApi(o));
  return app;
}
