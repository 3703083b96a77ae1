// The blocks page as a hono app: the page at `/`, `/blocks` (the bucket) and `/loaded` (the compactor's
// own view, when it has one), its script and stylesheet as strings compiled into the bundle, and the API
// of api.ts. Served by the compactor on --http-address (agent/compact/main.ts) and by
// `tools bucket web` (agent/tools/bucket/web.ts). No runtime API here.

import { Hono } from "hono";
import { blocksApi, type BlocksApiOptions } from "./api.ts";
import { blocksPage } from "./page.ts";
import { BLOCKS_SCRIPT } from "./script.ts";
import { BLOCKS_CSS } from "./style.ts";

// The page loads nothing from elsewhere and has no inline script or style; the download link is a
// blob: URL.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** FNV-1a over UTF-16 code units, as hex: enough to tell versions of our own assets apart. */
function etagOf(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 0x01000193); }
  return `"${(h >>> 0).toString(16).padStart(8, "0")}${s.length.toString(16)}"`;
}

export interface BlocksAppOptions extends BlocksApiOptions {
  /** Shown in the header and the window title. */
  title?: string;
}

export function blocksApp(o: BlocksAppOptions): Hono {
  const app = new Hono();
  const title = o.title ?? "thanots blocks";
  const hasLoaded = o.views.loaded !== undefined;
  const assets: Record<string, { body: string; type: string; page?: boolean }> = {
    "/": { body: blocksPage(title, "global", hasLoaded, ""), type: "text/html; charset=utf-8", page: true },
    "/blocks": { body: blocksPage(title, "global", hasLoaded, ""), type: "text/html; charset=utf-8", page: true },
    "/static/blocks.js": { body: BLOCKS_SCRIPT, type: "text/javascript; charset=utf-8" },
    "/static/blocks.css": { body: BLOCKS_CSS, type: "text/css; charset=utf-8" },
  };
  if (hasLoaded) assets["/loaded"] = { body: blocksPage(title, "loaded", hasLoaded, ""), type: "text/html; charset=utf-8", page: true };
  for (const [path, a] of Object.entries(assets)) {
    const etag = etagOf(a.body);
    app.on(["GET", "HEAD"], path, (c) => {
      const headers: Record<string, string> = { "Content-Type": a.type, "Cache-Control": "no-cache", ETag: etag, "X-Content-Type-Options": "nosniff" };
      if (a.page) { headers["Content-Security-Policy"] = CSP; headers["Referrer-Policy"] = "no-referrer"; }
      const inm = c.req.header("If-None-Match");
      if (inm !== undefined && inm.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) return c.body(null, 304, headers);
      if (c.req.method === "HEAD") return c.body(null, 200, headers);
      return c.body(a.body, 200, headers);
    });
  }
  app.route("/", blocksApi(o));
  return app;
}
