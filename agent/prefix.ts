// --web.route-prefix and --web.external-prefix, as Thanos' querier, compactor and bucket web have them
// (cmd/thanos/query.go, tools_bucket.go):
// - the route prefix (default: the external prefix) is where the API, the UI and the querier's Connect
//   StoreAPI are served: /thanos/api/v1/query, /thanos/graph, /thanos/static/ui.js, ...;
// - `/` and the bare prefix redirect (302) to the home page under the prefix (<prefix>/graph for the
//   querier, <prefix>/ for the blocks page);
// - /metrics, /-/healthy and /-/ready stay at the root (Thanos serves them beside the prefixed router);
// - anything else outside the prefix is 404.
// The external prefix is where a reverse proxy exposes the UI; our page links relatively (static/ui.js,
// api/v1/...), so it works under either without rewriting, and only the prefix defaulting matters here.

type FetchFn = (r: Request) => Response | Promise<Response>;

const ROOT_PATHS = new Set(["/metrics", "/-/healthy", "/-/ready"]);

/** "/" + the prefix trimmed of slashes, as Thanos normalises it ("" for none). */
export function normalizePrefix(p: string): string {
  const t = p.replace(/^\/+|\/+$/g, "");
  return t === "" ? "" : `/${t}`;
}

/** The route prefix Thanos uses: the route prefix flag, else the external prefix. */
export function routePrefix(route: string | undefined, external: string | undefined): string {
  return normalizePrefix(route !== undefined && route !== "" ? route : (external ?? ""));
}

export function withRoutePrefix(fetchFn: FetchFn, prefix: string, home = "graph"): FetchFn {
  const p = normalizePrefix(prefix);
  if (p === "") return fetchFn;
  return (req) => {
    const u = new URL(req.url);
    if (ROOT_PATHS.has(u.pathname)) return fetchFn(req);
    if (u.pathname === "/" || u.pathname === p) {
      if (req.method === "GET" || req.method === "HEAD") return new Response(null, { status: 302, headers: { Location: `${p}/${home}` } });
    }
    if (!u.pathname.startsWith(`${p}/`)) {
      return new Response("404 page not found\n", { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" } });
    }
    u.pathname = u.pathname.slice(p.length);
    return fetchFn(new Request(u, req));
  };
}
