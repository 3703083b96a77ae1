// The querier's `GET /api/v1/rules` and `GET /api/v1/alerts`: the rule groups of every ruler the
// fan-out knows, filtered, merged and deduplicated as Thanos' querier does (shared/query/rules.ts),
// written as Thanos' querier writes them (pkg/api/query/v1.go NewRulesHandler/NewAlertsHandler over
// rulespb's JSON): Prometheus 2.42's shapes plus `partialResponseStrategy` on groups and alert
// instances, `limit` and `keepFiringFor`, and `alerts` (lowercase, since thanos#5534) for the alerts.
//
// Parameters: `type` (alert|record|all, any case; Thanos' error text), `match[]`, `rule_name[]`,
// `rule_group[]`, `file[]` (rules only; Thanos' querier ignores them on /alerts, and so do we), and,
// as for queries, `dedup` (false keeps every replica's rules apart), `replicaLabels[]` and
// `partial_response` (Thanos' querier reads neither of the last three here; its --rule.partial-response
// and --query.replica-label always apply).
//
// Differences from Thanos' querier, on purpose: no alerts is `"alerts":[]` (Thanos writes null,
// Prometheus []), and a match[] that does not parse is a 400 bad_data (Thanos answers 500).

import { Hono } from "hono";
import { create } from "@bufbuild/protobuf";
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { CodedError, ERROR_TABLE, errorMessage, errorStatus } from "../encoding/errors.ts";
import { compareStrings } from "../labels/labels.ts";
import { formatJsonFloat, jsonString } from "../promql/format.ts";
import { PartialResponseStrategy } from "../gen/thanos/storepb/types_pb.ts";
import type { LabelSet } from "../gen/thanos/labelpb/types_pb.ts";
import {
  AlertState, RulesRequestSchema, RulesRequest_Type, type AlertInstance, type Rule, type RuleGroup, type RulesRequest,
} from "../gen/thanos/rulespb/rpc_pb.ts";
import { mergeRuleGroups } from "../query/rules.ts";
import { GO_ZERO_SECONDS } from "../rules/rule.ts";
import { errorJson, successJson } from "./json.ts";
import { matcherSetsParam, parseBool, readParams, type Params } from "./params.ts";

/** The fan-out's Rules call (ProxyStore.fanoutRules): groups as decoded, warnings appended. */
export type RulesFanout = (req: RulesRequest, o: { signal?: AbortSignal; warnings: string[] }) => Promise<RuleGroup[]>;

export interface RulesApiOptions {
  fanout: RulesFanout;
  /** --query.replica-label (replicaLabels[] overrides per request). */
  replicaLabels?: string[];
  /** dedup when the request does not say; default true. */
  dedupDefault?: boolean;
  /** partial_response when the request does not say: Thanos' --rule.partial-response, default true. */
  partialResponseDefault?: boolean;
}

function ruleType(p: Params): RulesRequest_Type {
  const v = p.get("type");
  switch (v.toUpperCase()) {
    case "": case "ALL": return RulesRequest_Type.ALL;
    case "ALERT": return RulesRequest_Type.ALERT;
    case "RECORD": return RulesRequest_Type.RECORD;
  }
  throw new CodedError("bad_data", `invalid rules parameter type='${v}'`);
}

// ---- JSON, as rulespb's types marshal (encoding/json field order; jsoniter in standard mode) ----

/** A Timestamp as Go's time.Time MarshalJSON (RFC3339Nano, UTC); absent = Go's zero time. */
function timestampJson(t: Timestamp | undefined): string {
  const s = t?.seconds ?? GO_ZERO_SECONDS, n = t?.nanos ?? 0;
  const d = new Date(Number(s) * 1000);
  // Go refuses to marshal years outside [0, 9999]; a peer cannot have sent one that means anything.
  const iso = Number.isNaN(d.getTime()) ? "0001-01-01T00:00:00.000Z" : d.toISOString(); // ....sssZ, ms always 000 here
  const frac = n === 0 ? "" : "." + String(n).padStart(9, "0").replace(/0+$/, "");
  return `"${iso.slice(0, -5)}${frac}Z"`;
}

/** A label set as Prometheus' labels.Labels marshal: an object, keys in byte order. */
function labelSetJson(ls: LabelSet | undefined): string {
  const m = new Map<string, string>();
  for (const l of ls?.labels ?? []) m.set(l.name, l.value);
  const keys = [...m.keys()].sort(compareStrings);
  return "{" + keys.map((k) => jsonString(k) + ":" + jsonString(m.get(k)!)).join(",") + "}";
}

const STATE: Record<number, string> = { [AlertState.UNKNOWN]: "unknown", [AlertState.INACTIVE]: "inactive", [AlertState.PENDING]: "pending", [AlertState.FIRING]: "firing" };
const STRATEGY: Record<number, string> = { [PartialResponseStrategy.WARN]: "WARN", [PartialResponseStrategy.ABORT]: "ABORT" };

function stateJson(s: AlertState): string {
  return `"${STATE[s] ?? String(s)}"`;
}
function strategyJson(s: PartialResponseStrategy): string {
  return `"${STRATEGY[s] ?? String(s)}"`;
}

function alertInstanceJson(a: AlertInstance): string {
  return `{"labels":${labelSetJson(a.labels)},"annotations":${labelSetJson(a.annotations)},"state":${stateJson(a.state)}` +
    (a.activeAt ? `,"activeAt":${timestampJson(a.activeAt)}` : "") +
    `,"value":${jsonString(a.value)},"partialResponseStrategy":${strategyJson(a.PartialResponseStrategy)}}`;
}

function ruleJson(r: Rule): string | null {
  if (r.result.case === "alert") {
    const a = r.result.value;
    return `{"state":${stateJson(a.state)},"name":${jsonString(a.name)},"query":${jsonString(a.query)},"duration":${formatJsonFloat(a.durationSeconds)}` +
      `,"labels":${labelSetJson(a.labels)},"annotations":${labelSetJson(a.annotations)},"alerts":[${a.alerts.map(alertInstanceJson).join(",")}]` +
      `,"health":${jsonString(a.health)}` + (a.lastError !== "" ? `,"lastError":${jsonString(a.lastError)}` : "") +
      `,"evaluationTime":${formatJsonFloat(a.evaluationDurationSeconds)},"lastEvaluation":${timestampJson(a.lastEvaluation)}` +
      `,"keepFiringFor":${formatJsonFloat(a.keepFiringForSeconds)},"type":"alerting"}`;
  }
  if (r.result.case === "recording") {
    const x = r.result.value;
    return `{"name":${jsonString(x.name)},"query":${jsonString(x.query)},"labels":${labelSetJson(x.labels)},"health":${jsonString(x.health)}` +
      (x.lastError !== "" ? `,"lastError":${jsonString(x.lastError)}` : "") +
      `,"evaluationTime":${formatJsonFloat(x.evaluationDurationSeconds)},"lastEvaluation":${timestampJson(x.lastEvaluation)},"type":"recording"}`;
  }
  return null; // neither kind: nothing a client could read
}

function ruleGroupJson(g: RuleGroup): string {
  const rules = g.rules.map(ruleJson).filter((r) => r !== null);
  return `{"name":${jsonString(g.name)},"file":${jsonString(g.file)},"rules":[${rules.join(",")}],"interval":${formatJsonFloat(g.interval)}` +
    `,"evaluationTime":${formatJsonFloat(g.evaluationDurationSeconds)},"lastEvaluation":${timestampJson(g.lastEvaluation)}` +
    `,"limit":${String(g.limit)},"partialResponseStrategy":${strategyJson(g.PartialResponseStrategy)}}`;
}

/** `/api/v1/rules` data. */
export function rulesDataJson(groups: readonly RuleGroup[]): string {
  return `{"groups":[${groups.map(ruleGroupJson).join(",")}]}`;
}

/** `/api/v1/alerts` data: the alert instances of every alerting rule, in group and rule order. */
export function alertsDataJson(groups: readonly RuleGroup[]): string {
  const out: string[] = [];
  for (const g of groups) for (const r of g.rules) if (r.result.case === "alert") for (const a of r.result.value.alerts) out.push(alertInstanceJson(a));
  return `{"alerts":[${out.join(",")}]}`;
}

// ---- routes ----

function json(body: string, status = 200): Response {
  return new Response(body, { status, headers: { "Content-Type": "application/json" } });
}

/**
 * The merged groups for one request: fan-out, then filters and dedup. A ruler's failure is a warning
 * (WARN) or, under ABORT, the error as Thanos' querier words it ("error retrieving rules: ...").
 */
async function mergedRules(o: RulesApiOptions, p: Params, type: RulesRequest_Type, filters: boolean, signal?: AbortSignal): Promise<{ groups: RuleGroup[]; warnings: string[] }> {
  const dedup = parseBool(p, "dedup", o.dedupDefault ?? true);
  const partial = parseBool(p, "partial_response", o.partialResponseDefault ?? true);
  const replicaLabels = !dedup ? [] : p.has("replicaLabels[]") ? p.all("replicaLabels[]").filter((l) => l !== "") : (o.replicaLabels ?? []);
  const req = create(RulesRequestSchema, {
    type,
    partialResponseStrategy: partial ? PartialResponseStrategy.WARN : PartialResponseStrategy.ABORT,
    ...(filters ? { matcherString: p.all("match[]"), ruleName: p.all("rule_name[]"), ruleGroup: p.all("rule_group[]"), file: p.all("file[]") } : {}),
  });
  const matchers = filters ? matcherSetsParam(p, "match[]") : [];
  const warnings: string[] = [];
  let groups: RuleGroup[];
  try {
    groups = await o.fanout(req, { signal, warnings });
  } catch (e) {
    const code = errorStatus(e) === ERROR_TABLE.canceled ? "canceled" : "internal";
    throw new CodedError(code, `error retrieving rules: ${errorMessage(e)}`, { cause: e });
  }
  groups = mergeRuleGroups(groups, { matchers, ruleNames: req.ruleName, ruleGroups: req.ruleGroup, files: req.file, replicaLabels });
  return { groups, warnings };
}

/** The two routes as a hono app; `app.route("/", rulesApi(...))` adds them to the querier. */
export function rulesApi(o: RulesApiOptions): Hono {
  const app = new Hono();
  const handle = (fn: (p: Params, signal: AbortSignal) => Promise<Response>) => async (c: { req: { raw: Request } }): Promise<Response> => {
    try {
      return await fn(await readParams(c.req.raw), c.req.raw.signal);
    } catch (e) {
      const s = errorStatus(e);
      return json(errorJson(s.errorType, errorMessage(e)), s.http);
    }
  };
  app.get("/api/v1/rules", handle(async (p, signal) => {
    const type = ruleType(p);
    const { groups, warnings } = await mergedRules(o, p, type, true, signal);
    return json(successJson(rulesDataJson(groups), warnings));
  }));
  app.get("/api/v1/alerts", handle(async (p, signal) => {
    const { groups, warnings } = await mergedRules(o, p, RulesRequest_Type.ALERT, false, signal);
    return json(successJson(alertsDataJson(groups), warnings));
  }));
  for (const path of ["/api/v1/rules", "/api/v1/alerts"]) {
    app.all(path, () => new Response("Method Not Allowed\n", { status: 405, headers: { Allow: "GET, OPTIONS", "Content-Type": "text/plain; charset=utf-8" } }));
  }
  return app;
}
