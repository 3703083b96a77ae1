// The ruler's HTTP port (Thanos' pkg/api/rule + the ruler's router):
//   <prefix>/api/v1/rules      ?type=alert|record&match[]=&rule_name[]=&rule_group[]=&file[]=
//   <prefix>/api/v1/alerts     Prometheus 2.42 shapes plus Thanos' partialResponseStrategy
//   <prefix>/api/v1/status/buildinfo, <prefix>/api/v1/status/flags
//   <prefix>/-/reload          POST: re-read the rule files; 500 with the error when they are bad
//   /-/healthy, /-/ready, /metrics
//   /thanos.Store/*, /thanos.info.Info/*, /thanos.Rules/*   Connect + gRPC-Web
// --web.route-prefix is applied around this app (agent/prefix.ts): everything but /metrics and the
// health endpoints moves under it, and "/" redirects there, as in Thanos.

import { Hono } from "hono";
import { errorMessage, errorStatus } from "../../shared/encoding/errors.ts";
import type { Manager } from "../../shared/rules/manager.ts";
import type { RulesFilter } from "../../shared/rules/api.ts";
import type { StoreApiServices } from "../../shared/rpc/store.ts";
import { readParams } from "../../shared/api/params.ts";
import { matcherSets } from "../../shared/api/query-api.ts";
import { errorJson } from "../../shared/api/json.ts";
import { mountStoreApi } from "../../shared/rpc/server.ts";
import { CONTENT_TYPE, type Registry } from "../metrics.ts";

export const BUILD_INFO = { version: "0.1.0", revision: "unknown", branch: "", buildUser: "", buildDate: "", goVersion: "" };

export interface RuleHttpOptions {
  manager: Manager;
  registry: Registry;
  services: StoreApiServices;
  token?: string;
  flags: Record<string, string>;
  ready(): boolean;
  /** Re-read the rule files; throws with the reason. */
  reload(): Promise<void>;
}

const JSON_TYPE = { "Content-Type": "application/json" };

function success(data: unknown): Response {
  return new Response(JSON.stringify({ status: "success", data }), { status: 200, headers: JSON_TYPE });
}

function failure(e: unknown): Response {
  const st = errorStatus(e);
  return new Response(errorJson(st.errorType, errorMessage(e)), { status: st.http, headers: JSON_TYPE });
}

export function ruleHttpApp(o: RuleHttpOptions): Hono {
  const app = new Hono();
  const api = new Hono();

  api.on(["GET", "POST"], "/api/v1/rules", async (c) => {
    try {
      const p = await readParams(c.req.raw);
      const f: RulesFilter = {
        type: p.has("type") ? p.get("type") : undefined,
        matchers: p.has("match[]") ? matcherSets(p.all("match[]")) : undefined,
        ruleName: p.all("rule_name[]"),
        ruleGroup: p.all("rule_group[]"),
        file: p.all("file[]"),
      };
      return success(o.manager.rulesJSON(f));
    } catch (e) {
      return failure(e);
    }
  });
  api.on(["GET", "POST"], "/api/v1/alerts", () => success(o.manager.alertsJSON()));
  api.get("/api/v1/status/buildinfo", () => success(BUILD_INFO));
  api.get("/api/v1/status/flags", () => success(o.flags));
  api.post("/-/reload", async () => {
    try {
      await o.reload();
      return new Response(null, { status: 200 });
    } catch (e) {
      return new Response(errorMessage(e) + "\n", { status: 500, headers: { "Content-Type": "text/plain; charset=utf-8" } });
    }
  });

  app.route("/", api);
  app.get("/metrics", () => new Response(o.registry.render(), { headers: { "Content-Type": CONTENT_TYPE } }));
  app.on(["GET", "HEAD"], "/-/healthy", (c) => c.text("OK\n"));
  app.on(["GET", "HEAD"], "/-/ready", (c) => (o.ready() ? c.text("OK\n") : c.text("not ready\n", 503)));
  mountStoreApi(app, o.services, { token: o.token });
  return app;
}
