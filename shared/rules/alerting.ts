// Alerting rules with Prometheus 2.42's semantics (rules/alerting.go):
// - each sample of the expression becomes an alert: __name__ dropped, the rule's labels expanded as
//   templates and set (so a templated label is part of the alert's identity), `alertname` set,
//   annotations expanded; two samples with the same resulting labels fail the evaluation;
// - a new alert is pending with ActiveAt = ts; it fires once ts - ActiveAt >= `for` (at once for
//   `for: 0`); an alert already active only takes the new value and annotations;
// - a vanished pending alert is deleted; a vanished firing one becomes inactive (ResolvedAt = ts) and
//   is kept 15 minutes so Alertmanager hears it resolved, unless keep_firing_for holds it firing;
// - limit: more active alerts than the group's limit clears all of them and fails the evaluation;
// - ALERTS{..., alertstate} = 1 and ALERTS_FOR_STATE{...} = ActiveAt (unix seconds) are returned only
//   once the rule is restored (see Group.restoreForState).
// Note: in 2.42 a firing alert stays firing when a reload raises `for` (later Prometheus versions
// move it back to pending); we follow 2.42, the version `promtool` here judges.

import { METRIC_NAME, type Labels } from "../labels/labels.ts";
import type { Expr } from "../promql/ast.ts";
import { exprString } from "../promql/printer.ts";
import type { RuleDef } from "./rulefmt.ts";
import { ruleIdentity } from "./rulefmt.ts";
import { LabelsBuilder, labelsKey, labelsToRecord, type EvalContext, type Rule, type RuleHealth } from "./rule.ts";
import type { Sample } from "./query.ts";
import { AlertTemplate, type QuerySample } from "../template/index.ts";

export type AlertState = "inactive" | "pending" | "firing";

const STATE_RANK: Record<AlertState, number> = { inactive: 0, pending: 1, firing: 2 };

/** The `query` template function: an instant query at the evaluation time. */
export type TemplateQuery = (q: string, tMs: number) => Promise<Sample[]>;

/** One alert instance. Times are ms since the epoch; null is Go's zero time. */
export interface Alert {
  state: AlertState;
  labels: Labels;
  annotations: Labels;
  value: number;
  activeAt: number;
  firedAt: number | null;
  resolvedAt: number | null;
  lastSentAt: number | null;
  validUntil: number | null;
  keepFiringSince: number | null;
}

/** Alert.needsSending: never pending; resolved since the last send; or not sent for resendDelay. */
export function needsSending(a: Alert, ts: number, resendDelay: number): boolean {
  if (a.state === "pending") return false;
  if (a.resolvedAt !== null && (a.lastSentAt === null || a.resolvedAt > a.lastSentAt)) return true;
  return a.lastSentAt === null || a.lastSentAt + resendDelay < ts;
}

export const RESOLVED_RETENTION = 15 * 60_000;
export const ALERT_METRIC_NAME = "ALERTS";
export const ALERT_FOR_STATE_METRIC_NAME = "ALERTS_FOR_STATE";

export interface AlertingRuleOptions {
  externalLabels: Labels;
  /** `$externalURL` / `.ExternalURL` in templates (Thanos: --alert.query-url). */
  externalURL: string;
  /**
   * What the `externalURL` and `pathPrefix` template functions return (Prometheus' --web.external-url).
   * Unset as in Thanos, which passes none: those two functions then fail with Go's nil-pointer error.
   */
  functionsURL?: string;
  /** Whether the `for` state has been restored (or needs none): ALERTS series are written only then. */
  restored: boolean;
  /** Template path prefix (the `pathPrefix` function). */
  pathPrefix?: string;
  warn?: (msg: string, kv: Record<string, unknown>) => void;
}

export class AlertingRule implements Rule {
  readonly kind = "alerting";
  readonly name: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly holdDuration: number;
  readonly keepFiringFor: number;
  readonly query: string;
  health: RuleHealth = "unknown";
  lastError: string | null = null;
  evaluationDuration = 0;
  evaluationTimestamp: number | null = null;
  restored: boolean;
  /** Active (pending, firing) and recently resolved alerts, by label set. */
  active = new Map<string, Alert>();
  private readonly extLabels: Record<string, string>;
  private readonly labelTemplates: AlertTemplate[];
  private readonly annotationTemplates: AlertTemplate[];

  constructor(def: RuleDef, readonly expr: Expr, private readonly opts: AlertingRuleOptions) {
    this.name = def.name;
    this.labels = def.labels;
    this.annotations = def.annotations;
    this.holdDuration = def.for;
    this.keepFiringFor = def.keepFiringFor;
    this.query = exprString(expr);
    this.restored = opts.restored;
    this.extLabels = labelsToRecord(opts.externalLabels);
    // Parsed once (Prometheus parses on every expansion; the output is the same).
    this.labelTemplates = this.labels.map((l) => AlertTemplate.compile("__alert_" + this.name, l.value));
    this.annotationTemplates = this.annotations.map((a) => AlertTemplate.compile("__alert_" + this.name, a.value));
  }

  identity(): string {
    return ruleIdentity({ kind: "alerting", name: this.name, expr: "", for: this.holdDuration, keepFiringFor: this.keepFiringFor, labels: this.labels, annotations: this.annotations }, this.query);
  }

  async eval(ctx: EvalContext): Promise<Sample[]> {
    const { ts } = ctx;
    const res = await ctx.query(this.query, ts, ctx.signal);
    ctx.signal.throwIfAborted();
    const resultKeys = new Set<string>();
    const alerts = new Map<string, Alert>();
    const query = ctx.templateQuery;
    const topts = {
      timestampMs: ts,
      query: query ? async (q: string, t: number): Promise<QuerySample[]> => (await query(q, t)).map((x) => ({ labels: labelsToRecord(x.metric), value: x.v })) : undefined,
      externalURL: this.opts.functionsURL,
      pathPrefix: this.opts.pathPrefix,
    };
    for (const smpl of res) {
      const data = { labels: labelsToRecord(smpl.metric), externalLabels: this.extLabels, externalURL: this.opts.externalURL, value: smpl.v };
      const expand = async (t: AlertTemplate): Promise<string> => {
        // Nearly every template runs synchronously; only `query` needs the async path.
        const out = t.expandSync(data, topts) ?? (await t.expand(data, topts));
        if (out.startsWith("<error expanding template:")) this.opts.warn?.("Expanding alert template failed", { alert: this.name, err: out, data });
        return out;
      };
      const lb = new LabelsBuilder(smpl.metric).del(METRIC_NAME);
      for (let i = 0; i < this.labels.length; i++) lb.set(this.labels[i]!.name, await expand(this.labelTemplates[i]!));
      lb.set("alertname", this.name);
      const annotations = [];
      for (let i = 0; i < this.annotations.length; i++) annotations.push({ name: this.annotations[i]!.name, value: await expand(this.annotationTemplates[i]!) });
      ctx.signal.throwIfAborted();
      const lbs = lb.labels();
      const k = labelsKey(lbs);
      resultKeys.add(k);
      if (alerts.has(k)) throw new Error("vector contains metrics with the same labelset after applying alert labels");
      alerts.set(k, {
        state: "pending", labels: lbs, annotations, value: smpl.v, activeAt: ts,
        firedAt: null, resolvedAt: null, lastSentAt: null, validUntil: null, keepFiringSince: null,
      });
    }

    for (const [k, a] of alerts) {
      const cur = this.active.get(k);
      if (cur !== undefined && cur.state !== "inactive") {
        cur.value = a.value;
        cur.annotations = a.annotations;
        continue;
      }
      this.active.set(k, a);
    }

    const vec: Sample[] = [];
    let numActivePending = 0;
    for (const [k, a] of this.active) {
      if (!resultKeys.has(k)) {
        let keepFiring = false;
        if (a.state === "firing" && this.keepFiringFor > 0) {
          if (a.keepFiringSince === null) a.keepFiringSince = ts;
          if (ts - a.keepFiringSince < this.keepFiringFor) keepFiring = true;
        }
        if (a.state === "pending" || (a.resolvedAt !== null && ts - a.resolvedAt > RESOLVED_RETENTION)) this.active.delete(k);
        if (a.state !== "inactive" && !keepFiring) {
          a.state = "inactive";
          a.resolvedAt = ts;
        }
        if (!keepFiring) continue;
      } else {
        a.keepFiringSince = null;
      }
      numActivePending++;
      if (a.state === "pending" && ts - a.activeAt >= this.holdDuration) {
        a.state = "firing";
        a.firedAt = ts;
      }
      if (this.restored) {
        // The same label arrays every evaluation while the alert's labels and state hold: no garbage
        // per alert per evaluation, and the TSDB head finds its series by the array's identity.
        let c = this.seriesCache.get(a);
        if (c === undefined || c.labels !== a.labels) {
          c = { labels: a.labels, state: a.state, alerts: this.seriesLabels(a, ALERT_METRIC_NAME, a.state), forState: this.seriesLabels(a, ALERT_FOR_STATE_METRIC_NAME, null) };
          this.seriesCache.set(a, c);
        } else if (c.state !== a.state) {
          c.state = a.state;
          c.alerts = this.seriesLabels(a, ALERT_METRIC_NAME, a.state);
        }
        vec.push({ metric: c.alerts, t: ts, v: 1 });
        vec.push({ metric: c.forState, t: ts, v: Math.floor(a.activeAt / 1000) });
      }
    }
    if (ctx.limit > 0 && numActivePending > ctx.limit) {
      this.active = new Map();
      throw new Error(`exceeded limit of ${ctx.limit} with ${numActivePending} alerts`);
    }
    return vec;
  }

  /** ALERTS / ALERTS_FOR_STATE labels of each alert, built once per alert (and state). */
  private readonly seriesCache = new WeakMap<Alert, { labels: Labels; state: AlertState; alerts: Labels; forState: Labels }>();

  /** Labels of the ALERTS / ALERTS_FOR_STATE series of an alert (rule labels, then the alert's). */
  seriesLabels(a: Alert, metric: string, state: AlertState | null): Labels {
    const lb = new LabelsBuilder(this.labels);
    for (const l of a.labels) lb.set(l.name, l.value);
    lb.set(METRIC_NAME, metric);
    lb.set("alertname", this.name);
    if (state !== null) lb.set("alertstate", state);
    return lb.labels();
  }

  /** The highest state of the rule's alerts (firing > pending > inactive). */
  state(): AlertState {
    let s: AlertState = "inactive";
    for (const a of this.active.values()) if (STATE_RANK[a.state] > STATE_RANK[s]) s = a.state;
    return s;
  }

  /** Alerts not resolved (pending and firing, and keep_firing_for ones), copies. */
  activeAlerts(): Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) if (a.resolvedAt === null) out.push({ ...a });
    return out;
  }

  /** Every alert held, including resolved ones still reported to Alertmanager (copies). */
  currentAlerts(): Alert[] {
    return [...this.active.values()].map((a) => ({ ...a }));
  }

  /**
   * sendAlerts: the alerts due for (re)sending at ts, marked sent; ValidUntil is ts + 4 x max(interval,
   * resendDelay) so Alertmanager resolves them if two evaluations or sends fail.
   */
  alertsToSend(ts: number, resendDelay: number, interval: number): Alert[] {
    const out: Alert[] = [];
    for (const a of this.active.values()) {
      if (!needsSending(a, ts, resendDelay)) continue;
      a.lastSentAt = ts;
      a.validUntil = ts + 4 * Math.max(resendDelay, interval);
      out.push({ ...a });
    }
    return out;
  }
}
