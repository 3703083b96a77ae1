// Alert notification, as Thanos' ruler does it (pkg/alert/alert.go, cmd/thanos/rule.go notifyFunc),
// with Prometheus 2.42's alert semantics (rules/alerting.go):
//
//   rules engine --notify(expr, alerts)--> toNotifierAlerts --> AlertQueue.push --> (loop) pop a batch
//     --> AlertSender.send: one POST per Alertmanager, in parallel, Alertmanager API v2 (or v1)
//
// - Only firing and resolved alerts are sent: startsAt = FiredAt, endsAt = ResolvedAt, or ValidUntil
//   while firing (ValidUntil = evaluation time + 4 x max(interval, resend delay), so Alertmanager
//   resolves an alert by itself if the ruler stops sending); generatorURL = --alert.query-url +
//   --alert.query-template with the URL-query-escaped expression. Times are RFC3339 with milliseconds.
// - The queue holds 10000 alerts; a push beyond that drops the oldest. push() never waits: a slow or
//   down Alertmanager never holds up rule evaluation.
// - Labels on push, in Thanos' order: drop --alert.label-drop labels; add the external labels (minus
//   the dropped ones), OVERWRITING an alert's label of the same name (Prometheus instead keeps the
//   alert's own value); then apply the alert relabel configs (an alert relabelled away is not sent).
// - A batch (at most 100) goes to every Alertmanager; it counts as sent if one answered 2xx. There are
//   no retries: a batch no Alertmanager took is dropped and counted.
// HTTP goes through a fetch-like function from the caller (shared/ has no runtime API).

import { goTimeJSON } from "../encoding/gotext.ts";
import type { Label, Labels } from "../labels/labels.ts";
import { compareStrings } from "../labels/labels.ts";
import { relabel, type RelabelConfig } from "../labels/relabel.ts";
import type { Alert } from "../rules/alerting.ts";

/** notifier.Alert: what is sent to Alertmanager. Times in ms; null is Go's zero time. */
export interface NotifierAlert {
  labels: Labels;
  annotations: Labels;
  startsAt: number | null;
  endsAt: number | null;
  generatorURL: string;
}

export const DEFAULT_QUERY_TEMPLATE = "/graph?g0.expr={{.Expr}}&g0.tab=1";

/** Go's url.QueryEscape: space as '+', unreserved [A-Za-z0-9-_.~] kept, the rest %XX (upper case). */
export function queryEscape(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** Thanos' tableLinkForExpression: the template with `{{.Expr}}` replaced by the escaped expression. */
export function tableLink(template: string, expr: string): string {
  return template.replace(/\{\{-?\s*\.Expr\s*-?\}\}/g, () => queryEscape(expr));
}

/** Thanos' notifyFunc: the rules engine's alerts due for sending, as Alertmanager alerts. */
export function toNotifierAlerts(alerts: readonly Alert[], expr: string, opts: { alertQueryURL?: string; queryTemplate?: string } = {}): NotifierAlert[] {
  const out: NotifierAlert[] = [];
  const link = (opts.alertQueryURL ?? "") + tableLink(opts.queryTemplate ?? DEFAULT_QUERY_TEMPLATE, expr);
  for (const a of alerts) {
    if (a.state === "pending") continue;
    out.push({
      labels: a.labels,
      annotations: a.annotations,
      startsAt: a.firedAt,
      endsAt: a.resolvedAt !== null ? a.resolvedAt : a.validUntil,
      generatorURL: link,
    });
  }
  return out;
}

/** strfmt.DateTime JSON: RFC3339 with exactly three fractional digits, UTC. */
export function dateTimeMillis(ms: number | null): string {
  if (ms === null) return "0001-01-01T00:00:00.000Z";
  return new Date(ms).toISOString();
}

/** time.Time JSON (RFC3339Nano, trailing zeros trimmed), for the v1 API. */
function labelSet(ls: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of ls) o[l.name] = l.value;
  return o;
}

/** The POST body for Alertmanager's API: v2 models.PostableAlerts, or v1's []notifier.Alert. */
export function alertsPayload(alerts: readonly NotifierAlert[], version: "v1" | "v2" = "v2"): string {
  if (version === "v1") {
    return JSON.stringify(alerts.map((a) => ({
      labels: labelSet(a.labels), annotations: labelSet(a.annotations),
      startsAt: goTimeJSON(a.startsAt), endsAt: goTimeJSON(a.endsAt), generatorURL: a.generatorURL,
    })));
  }
  return JSON.stringify(alerts.map((a) => {
    const o: Record<string, unknown> = {};
    if (a.annotations.length > 0) o.annotations = labelSet(a.annotations);
    o.endsAt = dateTimeMillis(a.endsAt);
    o.startsAt = dateTimeMillis(a.startsAt);
    if (a.generatorURL !== "") o.generatorURL = a.generatorURL;
    o.labels = labelSet(a.labels);
    return o;
  }));
}

export interface QueueOptions {
  /** Default 10000. */
  capacity?: number;
  /** Default 100 (Thanos). */
  maxBatchSize?: number;
  externalLabels?: Labels;
  /** --alert.label-drop. */
  dropLabels?: readonly string[];
  /** --alert.relabel-config(-file). */
  relabelConfigs?: readonly RelabelConfig[];
}

/** thanos_alert_queue_* values. */
export interface QueueMetrics {
  pushed: number;
  popped: number;
  dropped: number;
}

/** A bounded queue of alert notifications, consumed in batches; the oldest are dropped when full. */
export class AlertQueue {
  readonly capacity: number;
  readonly maxBatchSize: number;
  readonly metrics: QueueMetrics = { pushed: 0, popped: 0, dropped: 0 };
  private queue: NotifierAlert[] = [];
  private readonly toAdd: Labels;
  private readonly drop: ReadonlySet<string>;
  private readonly relabelConfigs: readonly RelabelConfig[];
  private waiter: (() => void) | null = null;

  constructor(o: QueueOptions = {}) {
    this.capacity = o.capacity ?? 10_000;
    this.maxBatchSize = o.maxBatchSize ?? 100;
    this.drop = new Set(o.dropLabels ?? []);
    this.toAdd = (o.externalLabels ?? []).filter((l) => !this.drop.has(l.name));
    this.relabelConfigs = o.relabelConfigs ?? [];
  }

  get length(): number {
    return this.queue.length;
  }

  /** The labels an alert is sent with (drop, add external labels overwriting, relabel), or null. */
  processLabels(ls: Labels): Labels | null {
    const m = new Map<string, string>();
    for (const l of ls) if (!this.drop.has(l.name)) m.set(l.name, l.value);
    for (const l of this.toAdd) m.set(l.name, l.value);
    const out: Label[] = [...m].map(([name, value]) => ({ name, value }));
    out.sort((a, b) => compareStrings(a.name, b.name));
    return this.relabelConfigs.length > 0 ? relabel(out, this.relabelConfigs) : out;
  }

  /** Add alerts (never waits). */
  push(alerts: readonly NotifierAlert[]): void {
    if (alerts.length === 0) return;
    this.metrics.pushed += alerts.length;
    let add: NotifierAlert[] = [];
    for (const a of alerts) {
      const labels = this.processLabels(a.labels);
      if (labels !== null) add.push({ ...a, labels });
    }
    if (add.length === 0) return;
    if (add.length > this.capacity) {
      const d = add.length - this.capacity;
      add = add.slice(d);
      this.metrics.dropped += d;
    }
    const over = this.queue.length + add.length - this.capacity;
    if (over > 0) {
      this.queue = this.queue.slice(over);
      this.metrics.dropped += over;
    }
    this.queue.push(...add);
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next batch; waits while empty. Resolves [] when `signal` aborts. */
  async pop(signal?: AbortSignal): Promise<NotifierAlert[]> {
    while (this.queue.length === 0) {
      if (signal?.aborted) return [];
      await new Promise<void>((resolve) => {
        const done = () => { signal?.removeEventListener("abort", done); resolve(); };
        this.waiter = done;
        signal?.addEventListener("abort", done, { once: true });
      });
    }
    const batch = this.queue.slice(0, this.maxBatchSize);
    this.queue = this.queue.slice(batch.length);
    this.metrics.popped += batch.length;
    return batch;
  }
}

/** The part of fetch the sender needs (the agent passes globalThis.fetch). */
export type FetchLike = (url: string, init: { method: "POST"; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ status: number; statusText?: string; body?: unknown; text?: () => Promise<string> }>;

export interface AlertmanagerEndpoint {
  /** Base URL with any path prefix, e.g. http://am:9093 or http://host/prefix. */
  url: string;
  version?: "v1" | "v2";
  /** Per POST; default 10s (--alertmanagers.send-timeout). */
  timeoutMs?: number;
  /** This Alertmanager's transport (its group's auth, TLS), instead of the sender's fetch. */
  fetch?: FetchLike;
}

/** thanos_alert_sender_* values, per Alertmanager host. */
export interface SenderMetrics {
  sent: Map<string, number>;
  errors: Map<string, number>;
  dropped: number;
  latencySeconds: Map<string, { sum: number; count: number }>;
}

/** Go's path.Join(prefix, "/api/<v>/alerts") on the URL's path. */
export function alertsURL(base: string, version: "v1" | "v2"): string {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*)([^?#]*)(.*)$/.exec(base);
  if (!m) return base.replace(/\/+$/, "") + `/api/${version}/alerts`;
  const parts = (m[2]! + `/api/${version}/alerts`).split("/").filter((p) => p !== "" && p !== ".");
  const out: string[] = [];
  for (const p of parts) { if (p === "..") out.pop(); else out.push(p); }
  return m[1] + "/" + out.join("/") + m[3];
}

function hostOf(url: string): string {
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/.exec(url)?.[1] ?? url;
}

export class AlertSender {
  readonly metrics: SenderMetrics = { sent: new Map(), errors: new Map(), dropped: 0, latencySeconds: new Map() };

  constructor(
    private readonly endpoints: () => readonly AlertmanagerEndpoint[],
    private readonly fetch: FetchLike,
    private readonly opts: { now?: () => number; warn?: (msg: string, kv: Record<string, unknown>) => void } = {},
  ) {}

  /** Send one batch to every Alertmanager at once; resolves when all have answered or timed out. */
  async send(alerts: readonly NotifierAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    const now = this.opts.now ?? (() => Date.now());
    const payloads = new Map<string, string>();
    let ok = 0;
    await Promise.all(this.endpoints().map(async (am) => {
      const version = am.version ?? "v2";
      let body = payloads.get(version);
      if (body === undefined) payloads.set(version, (body = alertsPayload(alerts, version)));
      const url = alertsURL(am.url, version);
      const host = hostOf(url);
      const start = now();
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(new Error(`send to ${JSON.stringify(url)}: timed out`)), am.timeoutMs ?? 10_000);
      try {
        const res = await (am.fetch ?? this.fetch)(url, { method: "POST", headers: { "Content-Type": "application/json" }, body, signal: ctl.signal });
        // Drain the body so the connection is reused.
        try { await res.text?.(); } catch { /* ignore */ }
        if (Math.floor(res.status / 100) !== 2) throw new Error(`bad response status ${res.status} ${res.statusText ?? ""}`.trim() + ` from ${JSON.stringify(url)}`);
        const l = this.metrics.latencySeconds.get(host) ?? { sum: 0, count: 0 };
        l.sum += (now() - start) / 1000;
        l.count++;
        this.metrics.latencySeconds.set(host, l);
        this.metrics.sent.set(host, (this.metrics.sent.get(host) ?? 0) + alerts.length);
        ok++;
      } catch (e) {
        this.metrics.errors.set(host, (this.metrics.errors.get(host) ?? 0) + 1);
        this.opts.warn?.("sending alerts failed", { alertmanager: host, err: (e as Error).message });
      } finally {
        clearTimeout(timer);
      }
    }));
    if (ok > 0) return;
    this.metrics.dropped += alerts.length;
    this.opts.warn?.("failed to send alerts to all alertmanagers", { numAlerts: alerts.length });
  }
}

/** Pop batches and send them until `signal` aborts (run it once, beside the rules manager). */
export async function runSendLoop(queue: AlertQueue, sender: AlertSender, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    const batch = await queue.pop(signal);
    if (batch.length > 0) await sender.send(batch);
  }
}
