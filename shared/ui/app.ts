// The querier's web UI as a hono sub-app: one HTML page plus its script and stylesheet, all plain
// strings compiled into the bundle. No runtime API here and no build step, so the same module serves
// the page on Workers, Deno, Bun and Node. The page talks only to relative URLs (api/v1/...), so it
// works behind any host and port; the API itself is not part of this app.
//
//   const app = createQueryApi(...); mountUi(app);   // `/`, `/graph`, `/alerts`, `/rules`, `/stores`, `/static/ui.{js,css}`

import { Hono } from "hono";
import { UI_CSS } from "./style.ts";
import { UI_SCRIPT } from "./script.ts";
import { uiPage } from "./page.ts";

export interface UiOptions {
  /** Shown in the header and the window title. */
  title?: string;
}

/** Paths the UI answers (GET/HEAD). Everything else falls through to the host app. */
export const UI_PATHS = ["/", "/graph", "/alerts", "/rules", "/stores", "/static/ui.js", "/static/ui.css"] as const;

// The page loads nothing from elsewhere and keeps no inline script or style, so the policy can be
// strict; element.style set from the script is CSSOM, which style-src does not restrict.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

type Handler = (c: { req: { header(n: string): string | undefined; method: string } }) => Response;

/**
 * A GET/HEAD handler for one asset compiled into the bundle: revalidated every time (no-cache) but 304 on
 * a matching ETag, so a redeploy shows at once and an unchanged page costs no body. A `page` also gets
 * the strict CSP. Shared by every page of ours (the query UI, the blocks page in ./blocks/).
 */
export function assetHandler(body: string, type: string, page = false): Handler {
  const etag = `"${fnv1a(body)}"`;
  return (c) => {
    const headers: Record<string, string> = {
      "Content-Type": type,
      "Cache-Control": "no-cache",
      ETag: etag,
      "X-Content-Type-Options": "nosniff",
    };
    if (page) {
      headers["Content-Security-Policy"] = CSP;
      headers["Referrer-Policy"] = "no-referrer";
    }
    if (etagMatches(c.req.header("If-None-Match"), etag)) return new Response(null, { status: 304, headers });
    return new Response(c.req.method === "HEAD" ? null : body, { status: 200, headers });
  };
}

/** The UI as its own hono app; mount it with `mountUi` or `app.route("/", uiApp())`. */
export function uiApp(opts: UiOptions = {}): Hono {
  const title = opts.title ?? "thanots query";
  const page = assetHandler(uiPage(title), "text/html; charset=utf-8", true);
  const app = new Hono();
  for (const p of ["/", "/graph", "/alerts", "/rules", "/stores"]) app.on(["GET", "HEAD"], p, page);
  app.on(["GET", "HEAD"], "/static/ui.js", assetHandler(UI_SCRIPT, "text/javascript; charset=utf-8"));
  app.on(["GET", "HEAD"], "/static/ui.css", assetHandler(UI_CSS, "text/css; charset=utf-8"));
  return app;
}

/** Add the UI's routes to an existing app (e.g. the query API from shared/api/query-api.ts). */
export function mountUi<A extends Hono<any, any, any>>(app: A, opts: UiOptions = {}): A {
  app.route("/", uiApp(opts));
  return app;
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/** FNV-1a over UTF-16 code units, as hex: enough to tell versions of our own assets apart. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, "0") + s.length.toString(16);
}
