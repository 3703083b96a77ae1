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
import { flagsMap, type FlagSpec, parseDurationMs, parseTimeOrDuration } from "../../flags.ts";
import { HTTP_CONFIG_FLAG } from "../../tls/flags.ts";
import { HTTP_FLAGS, WEB_FLAGS } from "../../http.ts";
import { routePrefix } from "../../prefix.ts";
import { Registry } from "../../metrics.ts";
import { COMMON_FLAGS, SELECTOR_FLAGS, selectorRelabel, serveWhile, setupTool } from "./common.ts";

const specs: FlagSpec[] = [
  ...HTTP_FLAGS,
  HTTP_CONFIG_FLAG,
  ...WEB_FLAGS,
  { name: "refresh", help: "Refresh interval to download metadata from remote storage", default: "30m" },
  { name: "timeout", help: "Timeout to download metadata from remote storage", default: "5m" },
  { name: "label", help: "External block label to use as group title" },
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
  if (f.get("web.route-prefix") && f.get("web.external-prefix") && f.get("web.route-prefix") !== f.get("web.external-prefix")) {
    log("warn", "different values for --web.route-prefix and --web.external-prefix detected, web UI may not work without a reverse-proxy.");
  }
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
  const app = new Hono();
  if (!f.bool("web.disable-cors")) {
    app.use("*", async (c, next) => { await next(); if (c.req.path.includes("/api/")) c.header("Access-Control-Allow-Origin", "*"); });
  }
  app.route("/", page);
  const prefix = routePrefix(f.get("web.route-prefix"), f.get("web.external-prefix"));
  return serveWhile(t, app, new Registry(), (signal) => global.run({ intervalMs: refreshMs, timeoutMs, signal, log }), prefix);
}
