// A rule group: its schedule and one evaluation (Prometheus 2.42 rules/manager.go, type Group).
//
// Schedule: the group's phase offset is xxhash64(labels{file, name}) % interval, so every group keeps
// its own slot and a restart lands on the same one. The first evaluation runs at EvalTimestamp(now) +
// interval, then every interval; when an evaluation overruns, the ticks it covered are counted as
// missed and skipped. Rules run in order, each seeing the previous rules' output at the same timestamp.
//
// One evaluation of a rule: query (under a deadline: see query.ts), record or alert, send due alerts,
// append the output, then a staleness marker for every series the rule wrote last time and not now.
// A failed rule writes nothing, not even staleness markers, and is counted in
// prometheus_rule_evaluation_failures_total; the group carries on with the next rule.

import { groupKey } from "./rule.ts";
import { CodedError, errorCode } from "../encoding/errors.ts";
import { goDuration } from "../encoding/gotext.ts";
import { labelsHash, type Labels } from "../labels/labels.ts";
import { newMatcher } from "../labels/matcher.ts";
import type { Appendable } from "../storage/appender.ts";
import type { Querier } from "../storage/types.ts";
import { ALERT_FOR_STATE_METRIC_NAME, AlertingRule, type Alert } from "./alerting.ts";
import type { GroupMetrics, RuleMetrics } from "./metrics.ts";
import { withTimeout, type QueryFunc, type Sample } from "./query.ts";
import { labelsKey, type Rule } from "./rule.ts";
import type { PartialResponseStrategy } from "./rulefmt.ts";

/** Time, injectable for tests. */
export interface Clock {
  now(): number;
  /** Resolve after ms, or early (resolving) when signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => { clearTimeout(t); resolve(); };
    const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  }),
};

export interface RuleLogger {
  debug(msg: string, kv?: Record<string, unknown>): void;
  info(msg: string, kv?: Record<string, unknown>): void;
  warn(msg: string, kv?: Record<string, unknown>): void;
  error(msg: string, kv?: Record<string, unknown>): void;
}

export const nopLogger: RuleLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Alerts due for sending after an evaluation, with the expression that produced them. */
export type NotifyFunc = (expr: string, alerts: Alert[], group: { file: string; name: string; strategy: PartialResponseStrategy }) => void;

/** What groups share from their manager. */
export interface GroupRuntime {
  /** The query function for a group's partial-response strategy (Thanos runs one per strategy). */
  queryFunc(strategy: PartialResponseStrategy): QueryFunc;
  appendable: Appendable;
  /** Where ALERTS_FOR_STATE is read back to restore `for` state; no restore without it. */
  queryable?: Querier;
  notify?: NotifyFunc;
  outageTolerance: number;
  forGracePeriod: number;
  resendDelay: number;
  /** Deadline of one rule evaluation (ms); default: half the group's interval, at most 2m. */
  queryTimeout?: number;
  clock: Clock;
  logger: RuleLogger;
  metrics: RuleMetrics;
}

export interface GroupOptions {
  name: string;
  file: string;
  interval: number;
  limit: number;
  rules: Rule[];
  shouldRestore: boolean;
  strategy: PartialResponseStrategy;
  runtime: GroupRuntime;
}

export { groupKey };

/** The group's phase offset within its interval (ms). */
export function groupOffset(file: string, name: string, interval: number): number {
  if (interval <= 0) return 0;
  // labels.New sorts by name: file < name. Interval is in ms here, nanoseconds in Go: the hash is
  // taken modulo the interval in ns, then truncated to ms (the rest is below our resolution).
  const h = labelsHash([{ name: "file", value: file }, { name: "name", value: name }]);
  return Number(h % (BigInt(interval) * 1_000_000n) / 1_000_000n);
}

/** Group.EvalTimestamp: the slot (ms) at or before `now` (Go works in ns; samples are written in ms). */
export function evalTimestamp(file: string, name: string, interval: number, now: number): number {
  const iv = BigInt(interval) * 1_000_000n;
  const offset = labelsHash([{ name: "file", value: file }, { name: "name", value: name }]) % iv;
  const adj = BigInt(now) * 1_000_000n - offset;
  const t = adj - (adj % iv) + offset; // BigInt % keeps the dividend's sign, as Go's does
  return Number(t >= 0n ? t / 1_000_000n : -((-t + 999_999n) / 1_000_000n));
}

export class Group {
  readonly name: string;
  readonly file: string;
  readonly interval: number;
  readonly limit: number;
  readonly rules: Rule[];
  readonly strategy: PartialResponseStrategy;
  shouldRestore: boolean;
  /** Per rule: the series it wrote at its last successful evaluation. */
  seriesInPreviousEval: Map<string, Labels>[];
  /** Series of removed rules, to be marked stale at the next evaluation. */
  staleSeries: Labels[] = [];
  /** ms the last iteration took. */
  evaluationTime = 0;
  /** Wall-clock ms of the last iteration's start; null before the first. */
  lastEvaluation: number | null = null;
  /** ms the last `for` restore took. */
  lastRestoreDuration = 0;
  /** Removed from the configuration: write staleness markers for all its series 2 intervals after stop. */
  markStale = false;
  readonly metrics: GroupMetrics;
  private readonly rt: GroupRuntime;
  private readonly stopCtl = new AbortController();
  private running: Promise<void> | null = null;
  private staleDone: Promise<void> | null = null;
  private stopped = false;

  constructor(o: GroupOptions) {
    this.name = o.name;
    this.file = o.file;
    this.interval = o.interval;
    this.limit = o.limit;
    this.rules = o.rules;
    this.strategy = o.strategy;
    this.shouldRestore = o.shouldRestore;
    this.rt = o.runtime;
    this.seriesInPreviousEval = o.rules.map(() => new Map());
    this.metrics = o.runtime.metrics.group(groupKey(o.file, o.name), o.strategy);
    this.metrics.rules = o.rules.length;
    this.metrics.intervalSeconds = o.interval / 1000;
  }

  get key(): string {
    return groupKey(this.file, this.name);
  }

  /** The slot (ms) at or before `now`. */
  evalTimestamp(now: number): number {
    return evalTimestamp(this.file, this.name, this.interval, now);
  }

  alertingRules(): AlertingRule[] {
    return this.rules.filter((r): r is AlertingRule => r instanceof AlertingRule);
  }

  /** Same name, file, interval, limit, strategy and rules: a reload keeps such a group running as is. */
  equals(o: Group): boolean {
    if (this.name !== o.name || this.file !== o.file || this.interval !== o.interval || this.limit !== o.limit) return false;
    if (this.strategy !== o.strategy || this.rules.length !== o.rules.length) return false;
    return this.rules.every((r, i) => r.identity() === o.rules[i]!.identity());
  }

  /** CopyState: alert state and previous-series sets of rules matched by name and labels, in order. */
  copyState(from: Group): void {
    this.evaluationTime = from.evaluationTime;
    this.lastEvaluation = from.lastEvaluation;
    const id = (r: Rule) => r.name + "\x00" + labelsKey(r.labels);
    const byId = new Map<string, number[]>();
    from.rules.forEach((r, i) => {
      const l = byId.get(id(r)) ?? [];
      l.push(i);
      byId.set(id(r), l);
    });
    this.rules.forEach((r, i) => {
      const idx = byId.get(id(r));
      if (!idx || idx.length === 0) return;
      const fi = idx.shift()!;
      this.seriesInPreviousEval[i] = from.seriesInPreviousEval[fi]!;
      const fr = from.rules[fi]!;
      if (r instanceof AlertingRule && fr instanceof AlertingRule) {
        for (const [k, a] of fr.active) r.active.set(k, a);
      }
    });
    // Rules deleted, and unmatched duplicates: their series go stale.
    this.staleSeries = [...from.staleSeries];
    from.rules.forEach((r, fi) => {
      const idx = byId.get(id(r));
      if (idx && idx.length > 0 && idx.includes(fi)) {
        for (const s of from.seriesInPreviousEval[fi]!.values()) this.staleSeries.push(s);
      }
    });
  }

  /** Deadline of one rule evaluation: the configured one (Infinity: none), else half the interval, at most 2m. */
  private timeoutFor(): number {
    if (this.rt.queryTimeout !== undefined && this.rt.queryTimeout > 0) return this.rt.queryTimeout;
    return this.interval > 0 ? Math.max(1000, Math.min(this.interval / 2, 120_000)) : 120_000;
  }

  /** One evaluation of every rule at ts (ms). */
  async eval(ts: number): Promise<void> {
    const rt = this.rt;
    const log = rt.logger;
    let samplesTotal = 0;
    const query = rt.queryFunc(this.strategy);
    const timeout = this.timeoutFor();
    for (let i = 0; i < this.rules.length; i++) {
      if (this.stopped) return;
      const rule = this.rules[i]!;
      const start = rt.clock.now();
      this.metrics.evalTotal++;
      try {
        let vector: Sample[];
        try {
          vector = await withTimeout(timeout, this.stopCtl.signal, "", (signal) => rule.eval({
            ts, query, signal, limit: this.limit,
            templateQuery: (q, t) => query(q, t, signal),
          }));
        } catch (e) {
          rule.health = "err";
          rule.lastError = errMessage(e, timeout);
          this.metrics.evalFailures++;
          if (errorCode(e) !== "canceled") log.warn("Evaluating rule failed", { name: rule.name, index: i, rule: rule.query, err: rule.lastError });
          continue;
        }
        rule.health = "ok";
        rule.lastError = null;
        samplesTotal += vector.length;
        if (rule instanceof AlertingRule && rt.notify) {
          const due = rule.alertsToSend(ts, rt.resendDelay, this.interval);
          if (due.length > 0) rt.notify(rule.query, due, { file: this.file, name: this.name, strategy: this.strategy });
        }
        await this.write(i, rule, vector, ts);
      } finally {
        const end = rt.clock.now();
        rule.evaluationDuration = end - start;
        rule.evaluationTimestamp = start;
        rt.metrics.observeRuleDuration(this.strategy, (end - start) / 1000);
      }
    }
    this.metrics.lastEvaluationSamples = samplesTotal;
    await this.cleanupStaleSeries(ts);
  }

  private async write(i: number, rule: Rule, vector: Sample[], ts: number): Promise<void> {
    const log = this.rt.logger;
    const app = this.rt.appendable.appender();
    const prev = this.seriesInPreviousEval[i]!;
    const returned = new Map<string, Labels>();
    let rejected = 0;
    for (const s of vector) {
      try {
        app.append(s.metric, s.t, s.v);
        returned.set(labelsKey(s.metric), s.metric);
      } catch (e) {
        rule.health = "err";
        rule.lastError = (e as Error).message;
        if (errorCode(e) === "bad_data") rejected++;
        else log.warn("Rule evaluation result discarded", { name: rule.name, index: i, err: (e as Error).message });
      }
    }
    if (rejected > 0) log.warn("Error on ingesting out-of-order or duplicate result from rule evaluation", { name: rule.name, index: i, numDropped: rejected });
    for (const [k, lset] of prev) {
      if (returned.has(k)) continue;
      try {
        app.append(lset, ts, 0, true);
      } catch (e) {
        // Out-of-order and duplicates are expected when another rule now writes the series.
        if (errorCode(e) !== "bad_data") log.warn("Adding stale sample failed", { name: rule.name, index: i, err: (e as Error).message });
      }
    }
    try {
      await app.commit();
    } catch (e) {
      rule.health = "err";
      rule.lastError = (e as Error).message;
      this.metrics.evalFailures++;
      log.warn("Rule sample appending failed", { name: rule.name, index: i, err: (e as Error).message });
      return;
    }
    this.seriesInPreviousEval[i] = returned;
  }

  /** Staleness markers for the series of rules no longer configured. */
  async cleanupStaleSeries(ts: number): Promise<void> {
    if (this.staleSeries.length === 0) return;
    const app = this.rt.appendable.appender();
    for (const s of this.staleSeries) {
      try {
        app.append(s, ts, 0, true);
      } catch (e) {
        if (errorCode(e) !== "bad_data") this.rt.logger.warn("Adding stale sample for previous configuration failed", { err: (e as Error).message });
      }
    }
    try {
      await app.commit();
      this.staleSeries = [];
    } catch (e) {
      this.rt.logger.warn("Stale sample appending for previous configuration failed", { err: (e as Error).message });
    }
  }

  /**
   * RestoreForState: for each pending/firing alert of a rule whose `for` is at least the grace period,
   * read ALERTS_FOR_STATE over [ts - outage tolerance, ts]; the last sample gives when the alert went
   * down (its time) and its ActiveAt (its value). ActiveAt moves forward by the downtime, or so that it
   * fires no earlier than ts + grace period; an alert that had fired keeps its ActiveAt.
   */
  async restoreForState(ts: number): Promise<void> {
    const start = this.rt.clock.now();
    const q = this.rt.queryable;
    const mint = ts - this.rt.outageTolerance;
    for (const rule of this.alertingRules()) {
      if (q === undefined || rule.holdDuration < this.rt.forGracePeriod) {
        rule.restored = true;
        continue;
      }
      for (const a of rule.active.values()) {
        const lset = rule.seriesLabels(a, ALERT_FOR_STATE_METRIC_NAME, null);
        let last: { t: number; v: number; stale: boolean } | null = null;
        try {
          const r = await q.select({ start: mint, end: ts }, lset.map((l) => newMatcher("=", l.name, l.value)));
          const s = r.series.find((x) => x.labels.length === lset.length);
          if (!s) continue;
          const it = s.iterator();
          while (it.next()) {
            const t = it.at();
            if (t < mint || t > ts) continue;
            last = { t, v: it.value(), stale: it.isStale() };
          }
          if (it.err()) throw it.err();
        } catch (e) {
          this.rt.logger.error("Failed to restore 'for' state", { alertname: rule.name, stage: "Select", err: (e as Error).message });
          continue;
        }
        if (last === null || last.stale) continue;
        // Go truncates both to whole seconds (time.Unix(t/1000, 0), time.Unix(int64(v), 0)).
        const downAt = Math.trunc(last.t / 1000) * 1000;
        let restoredActiveAt = Math.trunc(last.v) * 1000;
        const remaining = rule.holdDuration - (downAt - restoredActiveAt);
        if (remaining <= 0) {
          // It had fired already: the next evaluation sets it firing again if it still holds.
        } else if (remaining < this.rt.forGracePeriod) {
          restoredActiveAt = ts + this.rt.forGracePeriod - rule.holdDuration;
        } else {
          restoredActiveAt += ts - downAt;
        }
        a.activeAt = restoredActiveAt;
        this.rt.logger.debug("'for' state restored", { alertname: rule.name, restored_time: new Date(a.activeAt).toISOString(), labels: labelsKey(a.labels) });
      }
      rule.restored = true;
    }
    this.lastRestoreDuration = this.rt.clock.now() - start;
  }

  /** Run the schedule until stop(). Resolves when the group has stopped. */
  start(): void {
    if (this.running) return;
    this.running = this.run().catch((e) => this.rt.logger.error("rule group stopped on an unexpected error", { group: this.name, file: this.file, err: (e as Error).message }));
  }

  private async iteration(ts: number): Promise<void> {
    const clock = this.rt.clock;
    this.metrics.iterationsScheduled++;
    const start = clock.now();
    await this.eval(ts);
    const took = clock.now() - start;
    this.rt.metrics.observeGroupDuration(this.strategy, took / 1000);
    this.evaluationTime = took;
    this.metrics.lastDurationSeconds = took / 1000;
    this.lastEvaluation = start;
    this.metrics.lastEvaluationTimestampSeconds = start / 1000;
  }

  private async run(): Promise<void> {
    const clock = this.rt.clock;
    const signal = this.stopCtl.signal;
    let ts = this.evalTimestamp(clock.now()) + this.interval;
    await clock.sleep(ts - clock.now(), signal);
    if (this.stopped) return;
    await this.iteration(ts);
    const next = async (): Promise<boolean> => {
      // A ticker started at the first slot: wait for the next tick, or go at once when one passed
      // while evaluating (Go's ticker holds one), skipping and counting the ticks missed beyond it.
      const due = ts + this.interval;
      if (clock.now() < due) await clock.sleep(due - clock.now(), signal);
      if (this.stopped) return false;
      const missed = Math.floor((clock.now() - ts) / this.interval) - 1;
      if (missed > 0) {
        this.metrics.iterationsMissed += missed;
        this.metrics.iterationsScheduled += missed;
      }
      ts += (Math.max(missed, 0) + 1) * this.interval;
      await this.iteration(ts);
      return true;
    };
    if (this.shouldRestore) {
      // Restore after the second evaluation: by then recording rules have fresh values.
      if (!(await next())) return;
      await this.restoreForState(clock.now());
      this.shouldRestore = false;
    }
    while (await next());
  }

  private async finish(): Promise<void> {
    if (!this.markStale) return;
    const now = this.rt.clock.now();
    for (const m of this.seriesInPreviousEval) for (const s of m.values()) this.staleSeries.push(s);
    this.seriesInPreviousEval = this.rules.map(() => new Map());
    // Wait 2 intervals so a renamed rule has written its new series first (not on manager shutdown).
    const shutdown = this.rt.metrics.shutdownSignal;
    await this.rt.clock.sleep(2 * this.interval, shutdown);
    if (shutdown.aborted) return;
    await this.cleanupStaleSeries(now);
  }

  /**
   * Stop evaluating (after the rule in progress) and wait until the group has stopped. A removed
   * group (markStale) goes on in the background to write its staleness markers; `done` resolves then.
   */
  async stop(): Promise<{ done: Promise<void> }> {
    this.stopped = true;
    this.stopCtl.abort(new CodedError("canceled", "rule group stopped"));
    if (this.running === null) return { done: Promise.resolve() };
    await this.running;
    if (this.markStale && this.staleDone === null) {
      this.staleDone = this.finish().catch((e) => this.rt.logger.warn("marking a removed group's series stale failed", { group: this.name, err: (e as Error).message }));
    }
    return { done: this.staleDone ?? Promise.resolve() };
  }
}

function errMessage(e: unknown, timeout: number): string {
  if (errorCode(e) === "timeout") return `query timed out after ${goDuration(timeout)}`;
  return e instanceof Error ? e.message : String(e);
}
