// The rules engine's entry point: a Manager holds the rule groups of a set of rule files, runs their
// schedules, and keeps state across reloads, as Prometheus 2.42's rules.Manager (with Thanos' group
// field partial_response_strategy: each group's queries go through the query function of its
// strategy, and metrics carry a `strategy` label).
//
// How the ruler agent uses it (agent/rule/, built on this):
//
//   const m = new Manager({
//     queryFuncFor: (strategy) => httpQueryFunc(querierURLs, { partialResponse: strategy === "WARN" }),
//     appendable: tsdbHead,              // or a remote-write appender in stateless mode
//     queryable: tsdbHead,               // where ALERTS_FOR_STATE is read back to restore `for` state
//     notify: (expr, alerts) => queue.push(toAlertmanagerAlerts(alerts, { expr, ... })), // shared/alert
//     externalLabels, externalURL: alertQueryURL,
//     outageTolerance, forGracePeriod, resendDelay, queryTimeout,  // flags; ms
//     logger,
//   });
//   await m.update(evalInterval, files.map((f) => ({ file: f, content: readFileSync(f, "utf8") })));
//   m.start();                           // SIGHUP / POST /-/reload: m.update(...) again; throws
//                                        // RulesLoadError and keeps the old rules on a bad file
//   m.rulesJSON(filter), m.alertsJSON()  // /api/v1/rules, /api/v1/alerts data (api.ts)
//   m.rulesImpl()                        // thanos.Rules/Rules gRPC (RulesImpl of shared/rpc/store.ts)
//   m.metrics.families(), m.reloadStatus, m.loadedRules() // /metrics
//   await m.stop();
//
// Differences from Prometheus, on purpose: every rule evaluation has a deadline (queryTimeout) so a
// hung query fails that evaluation instead of stalling its group; a failed reload's error names the
// file and rule (Prometheus only logs them).

import { CodedError } from "../encoding/errors.ts";
import type { Labels } from "../labels/labels.ts";
import { parseExpr } from "../promql/parser.ts";
import type { Appendable } from "../storage/appender.ts";
import type { Querier } from "../storage/types.ts";
import { AlertingRule } from "./alerting.ts";
import { alertsJSON, rulesImpl, rulesJSON, type AlertJSON, type RuleGroupJSON, type RulesFilter } from "./api.ts";
import type { RulesImpl } from "../rpc/store.ts";
import { Group, groupKey, nopLogger, systemClock, type Clock, type GroupRuntime, type NotifyFunc, type RuleLogger } from "./group.ts";
import { RuleMetrics } from "./metrics.ts";
import type { QueryFunc } from "./query.ts";
import { RecordingRule } from "./recording.ts";
import type { Rule } from "./rule.ts";
import { parseRules, prefixErrors, type PartialResponseStrategy } from "./rulefmt.ts";

export interface RuleFileInput {
  /** The path as configured (group identity, phase offset and the `file` the APIs report). */
  file: string;
  content: string;
}

export interface ManagerOptions {
  /** The query function of every group, unless queryFuncFor is given. */
  queryFunc?: QueryFunc;
  /** One query function per partial-response strategy (Thanos: partial_response=true for WARN). */
  queryFuncFor?: (strategy: PartialResponseStrategy) => QueryFunc;
  appendable: Appendable;
  queryable?: Querier;
  notify?: NotifyFunc;
  externalLabels?: Labels;
  /** `$externalURL` in templates (Thanos: --alert.query-url). */
  externalURL?: string;
  /**
   * What the `externalURL` and `pathPrefix` template functions return (Prometheus: --web.external-url).
   * Thanos passes none, so there they fail with Go's nil-pointer error; unset here does the same.
   */
  functionsURL?: string;
  /** ms; defaults as Thanos' flags: 1h, 10m, 1m. */
  outageTolerance?: number;
  forGracePeriod?: number;
  resendDelay?: number;
  /** Deadline of one rule evaluation (ms); default half the group's interval, at most 2m. */
  queryTimeout?: number;
  /** Accept Thanos' partial_response_strategy group field (default true). */
  thanos?: boolean;
  clock?: Clock;
  logger?: RuleLogger;
}

/** A reload that failed: `errors` are promtool-style lines naming file, group and rule. */
export class RulesLoadError extends CodedError {
  constructor(readonly errors: string[]) {
    super("bad_data", `error loading rules, previous rule set restored: ${errors.join("; ")}`);
  }
}

export class Manager {
  readonly metrics = new RuleMetrics();
  /** thanos_rule_config_last_reload_successful / _success_timestamp_seconds. */
  readonly reloadStatus = { successful: true, lastSuccessMs: 0 };
  private groups = new Map<string, Group>();
  private restored = false;
  private started = false;
  private readonly rt: GroupRuntime;
  private readonly externalLabels: Labels;
  private readonly externalURL: string;
  private updating: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ManagerOptions) {
    const perStrategy = (s: PartialResponseStrategy): QueryFunc => {
      if (opts.queryFuncFor) return opts.queryFuncFor(s);
      if (opts.queryFunc) return opts.queryFunc;
      throw new CodedError("bad_data", "rules manager: queryFunc or queryFuncFor is required");
    };
    const cache = new Map<PartialResponseStrategy, QueryFunc>();
    this.rt = {
      queryFunc: (s) => {
        let f = cache.get(s);
        if (!f) cache.set(s, (f = perStrategy(s)));
        return f;
      },
      appendable: opts.appendable,
      queryable: opts.queryable,
      notify: opts.notify,
      outageTolerance: opts.outageTolerance ?? 3_600_000,
      forGracePeriod: opts.forGracePeriod ?? 600_000,
      resendDelay: opts.resendDelay ?? 60_000,
      queryTimeout: opts.queryTimeout,
      clock: opts.clock ?? systemClock,
      logger: opts.logger ?? nopLogger,
      metrics: this.metrics,
    };
    this.externalLabels = opts.externalLabels ?? [];
    this.externalURL = opts.externalURL ?? "";
  }

  /**
   * Parse rule files into new groups (Manager.LoadGroups). Groups are not started. Errors are
   * promtool-style and name the file.
   */
  loadGroups(interval: number, files: RuleFileInput[]): { groups: Map<string, Group>; errors: string[] } {
    const groups = new Map<string, Group>();
    const errors: string[] = [];
    const shouldRestore = !this.restored;
    const parsed = [];
    for (const f of files) {
      const rf = parseRules(f.content, { thanos: this.opts.thanos !== false });
      // Like Prometheus, the first file with errors stops the load and its errors are reported.
      if (rf.errors.length > 0) return { groups, errors: prefixErrors(f.file, rf.errors) };
      parsed.push({ f, rf });
    }
    for (const { f, rf } of parsed) {
      for (const g of rf.groups) {
        const rules: Rule[] = g.rules.map((r) => {
          const expr = parseExpr(r.expr);
          if (r.kind === "alerting") {
            return new AlertingRule(r, expr, {
              externalLabels: this.externalLabels,
              externalURL: this.externalURL,
              functionsURL: this.opts.functionsURL,
              restored: this.restored,
              warn: (msg, kv) => this.rt.logger.warn(msg, kv),
            });
          }
          return new RecordingRule(r, expr);
        });
        groups.set(groupKey(f.file, g.name), new Group({
          name: g.name,
          file: f.file,
          interval: g.interval || interval,
          limit: g.limit,
          rules,
          shouldRestore,
          strategy: g.partialResponseStrategy,
          runtime: this.rt,
        }));
      }
    }
    return { groups, errors };
  }

  /**
   * Load new rule files, keeping the state of groups that continue (Manager.Update). On a bad file the
   * running rules are untouched and RulesLoadError is thrown. Calls are serialized.
   */
  update(interval: number, files: RuleFileInput[]): Promise<void> {
    const run = this.updating.then(() => this.doUpdate(interval, files));
    this.updating = run.catch(() => {});
    return run;
  }

  private async doUpdate(interval: number, files: RuleFileInput[]): Promise<void> {
    const { groups, errors } = this.loadGroups(interval, files);
    if (errors.length > 0) {
      for (const e of errors) this.rt.logger.error("loading groups failed", { err: e });
      this.reloadStatus.successful = false;
      throw new RulesLoadError(errors);
    }
    this.restored = true;
    const old = this.groups;
    const next = new Map<string, Group>();
    const work: Promise<void>[] = [];
    for (const [key, g] of groups) {
      const o = old.get(key);
      old.delete(key);
      if (o !== undefined && o.equals(g)) {
        next.set(key, o);
        // The new group object registered its metrics values; put the running group's back.
        o.metrics.rules = o.rules.length;
        o.metrics.intervalSeconds = o.interval / 1000;
        continue;
      }
      next.set(key, g);
      work.push((async () => {
        if (o !== undefined) {
          await o.stop();
          g.copyState(o);
        }
        if (this.started) g.start();
      })());
    }
    for (const [key, o] of old) {
      o.markStale = true;
      work.push(o.stop().then(() => { this.metrics.deleteGroup(key); }));
    }
    await Promise.all(work);
    this.groups = next;
    this.reloadStatus.successful = true;
    this.reloadStatus.lastSuccessMs = this.rt.clock.now();
  }

  /** Start evaluating (groups loaded before and after). */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const g of this.groups.values()) g.start();
  }

  /** Stop every group after its current rule; removed groups stop waiting to write staleness markers. */
  async stop(): Promise<void> {
    await this.updating;
    this.metrics.stopAll();
    await Promise.all([...this.groups.values()].map((g) => g.stop()));
    this.started = false;
  }

  /** Groups sorted by file, then name. */
  ruleGroups(): Group[] {
    return [...this.groups.values()].sort((a, b) => (a.file !== b.file ? (a.file < b.file ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  alertingRules(): { rule: AlertingRule; group: Group }[] {
    const out: { rule: AlertingRule; group: Group }[] = [];
    for (const g of this.ruleGroups()) for (const r of g.alertingRules()) out.push({ rule: r, group: g });
    return out;
  }

  /** thanos_rule_loaded_rules{strategy, file, group}. */
  loadedRules(): { strategy: PartialResponseStrategy; file: string; group: string; rules: number }[] {
    return this.ruleGroups().map((g) => ({ strategy: g.strategy, file: g.file, group: g.name, rules: g.rules.length }));
  }

  /** `/api/v1/rules` data (Prometheus 2.42 shape plus Thanos' partialResponseStrategy). */
  rulesJSON(filter?: RulesFilter): { groups: RuleGroupJSON[] } {
    return rulesJSON(this, filter);
  }

  /** `/api/v1/alerts` data. */
  alertsJSON(): { alerts: AlertJSON[] } {
    return alertsJSON(this);
  }

  /** thanos.Rules/Rules. */
  rulesImpl(): RulesImpl {
    return rulesImpl(this);
  }

  get options(): { externalLabels: Labels; externalURL: string } {
    return { externalLabels: this.externalLabels, externalURL: this.externalURL };
  }
}
