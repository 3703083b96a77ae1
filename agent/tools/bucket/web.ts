// `tools bucket web`: the blocks page (shared/ui/blocks/) over a bucket, with Thanos' flags: the bucket
// is synced every --refresh (through --min-time/--max-time, --selector.relabel-config and the
// deduplication filter, as Thanos' bucket web does; marks are gathered too), the page and its API are
// served on --http-address under --web.route-prefix, and blocks can be marked from the page unless
// --disable-admin-operations.

import { Hono } from "hono";
import {
  deduplicateFilter, gatherNoCompactMarks, gatherNoDownsampleMarks, ignoreDeletionMarkFilter, labelShardFilter, timePartitionFilter,
} from "../../../shared/block/fetcher.ts";
import { markBlockLogged } from "../../../shared/block/markers.ts";
import { blocksApp } from "../../../shared/ui/blocks/app.ts";
import { GlobalBlocks } from "../../../shared/ui/blocks/api.ts";
import { flagsMap, type FlagSpec, parseAddress } from "../../flags.ts";
import { listenHttp } from "../../http.ts";
import { CONTENT_TYPE, Registry } from "../../metrics.ts";
import { parseDurationMs, parseTimeOrDuration } from "../../sidecar/flags.ts";
import { COMMON_FLAGS, done, SELECTOR_FLAGS, selectorRelabel, setupTool } from "./common.ts";

const specs: FlagSpec[] = [
  { name: "http-address", help: "Listen host:port for HTTP endpoints.", default: "0.0.0.0:10902" },
  { name: "http-grace-period", help: "Time to wait after an interrupt received for HTTP Server.", default: "2m" },
  { name: "web.route-prefix", help: "Prefix for API and UI endpoints. Defaults to the value of --web.external-prefix.", default: "" },
  { name: "web.external-prefix", help: "Static prefix for all HTML links and redirect URLs in the bucket web UI interface.", default: "" },
  { name: "web.prefix-header", help: "Name of HTTP request header used for dynamic prefixing of UI links and redirects (accepted; links are relative).", default: "" },
  { name: "web.disable-cors", boolean: true, help: "Whether to disable CORS headers to be set by Thanos. By default Thanos sets CORS headers to be allowed by all." },
  { name: "refresh", help: "Refresh interval to download metadata from remote storage", default: "30m" },
  { name: "timeout", help: "Timeout to download metadata from remote storage", default: "5m" },
  { name: "label", help: "External block label to use as group title" },
  { name: "disable-admin-operations", boolean: true, help: "Disable UI/API admin operations like marking blocks for deletion and no compaction." },
  { name: "min-time", help: "Start of time range limit to serve: RFC3339 or a duration relative to now.", default: "0000-01-01T00:00:00Z" },
  { name: "max-time", help: "End of time range limit to serve: RFC3339 or a duration relative to now.", default: "9999-12-31T23:59:59Z" },
  ...SELECTOR_FLAGS,
];

export async function run(argv: string[]): Promise<number> {
  const t = await setupTool("web", "Web interface for remote storage bucket.", specs, argv);
  if (!t) return 0;
  const { f, bkt, log } = t;
  const refreshMs = parseDurationMs("refresh", f.get("refresh")!);
  const timeoutMs = parseDurationMs("timeout", f.get("timeout")!);
  const http = parseAddress("http-address", f.get("http-address")!);
  let prefix = f.get("web.route-prefix") || f.get("web.external-prefix") || "";
  if (f.get("web.route-prefix") && f.get("web.external-prefix") && f.get("web.route-prefix") !== f.get("web.external-prefix")) {
    log("warn", "different values for --web.route-prefix and --web.external-prefix detected, web UI may not work without a reverse-proxy.");
  }
  prefix = "/" + prefix.replace(/^\/+|\/+$/g, "");
  if (refreshMs < 5 * 60e3) log("warn", "Refreshing more often than 5m could lead to large data transfers");
  if (timeoutMs < 60e3) log("warn", "Timeout less than 1m could lead to frequent failures");
  if (refreshMs < timeoutMs * 2) log("warn", "Refresh interval should be at least 2 times the timeout");

  const global = new GlobalBlocks(bkt, [
    timePartitionFilter(parseTimeOrDuration("min-time", f.get("min-time")!), parseTimeOrDuration("max-time", f.get("max-time")!)),
    labelShardFilter(await selectorRelabel(f)),
    deduplicateFilter(),
    // Not in Thanos' viewer: the marks, gathered without dropping any block.
    ignoreDeletionMarkFilter(Number.POSITIVE_INFINITY), gatherNoCompactMarks(), gatherNoDownsampleMarks(),
  ]);
  const page = blocksApp({
    title: "thanots bucket",
    label: f.get("label") ?? "",
    flags: flagsMap([...specs, ...COMMON_FLAGS], f),
    disableAdminOperations: f.bool("disable-admin-operations"),
    views: { global: () => global.view() },
    mark: async (id, kind, detail) => {
      await markBlockLogged(bkt, id, kind, { details: detail }, log);
      await global.refresh().catch(() => {});
    },
  });
  let ready = false;
  const app = new Hono();
  if (!f.bool("web.disable-cors")) {
    app.use("*", async (c, next) => { await next(); if (c.req.path.includes("/api/")) c.header("Access-Control-Allow-Origin", "*"); });
  }
  const reg = new Registry();
  app.get("/metrics", (c) => c.body(reg.render(), 200, { "Content-Type": CONTENT_TYPE }));
  app.get("/-/healthy", (c) => c.text("OK\n"));
  app.get("/-/ready", (c) => (ready ? c.text("OK\n") : c.text("not ready\n", 503)));
  if (prefix !== "/") {
    app.get("/", (c) => c.redirect(`${prefix}/`, 302));
    app.get(prefix, (c) => c.redirect(`${prefix}/`, 302));
    app.route(prefix, page);
  } else {
    app.route("/", page);
  }
  const srv = await listenHttp(app.fetch, http.hostname, http.port);
  log("info", "listening for requests and metrics", { component: "bucket", address: `${http.hostname}:${srv.port}` });
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  ready = true;
  try {
    await global.run({ intervalMs: refreshMs, timeoutMs, signal: ac.signal, log });
  } finally {
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    await srv.close();
  }
  return done(t);
}
