// The rules engine (shared/rules) against Prometheus 2.42's own (github.com/prometheus/prometheus/rules,
// driven by test/lib/go/rules-oracle.go): the same rule files, input samples and steps (evaluate at t,
// restore `for` state, reload with CopyState) through both; after every step each alerting rule's
// alerts (state, labels, annotations, value, ActiveAt, FiredAt, ResolvedAt, LastSentAt, ValidUntil,
// KeepFiringSince), what was sent for notification, every rule's health and last error; at the end
// every sample in storage, staleness markers included. Plus the phase offset (Group.EvalTimestamp) and
// relabelling against the same Go code.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { type Labels } from "../../shared/labels/labels.ts";
import { parseRelabelConfigs, relabel } from "../../shared/labels/relabel.ts";
import { Engine } from "../../shared/promql/engine.ts";
import { formatGoFloat } from "../../shared/promql/format.ts";
import type { Alert } from "../../shared/rules/alerting.ts";
import { AlertingRule } from "../../shared/rules/alerting.ts";
import { evalTimestamp, type Group } from "../../shared/rules/group.ts";
import { Manager } from "../../shared/rules/manager.ts";
import { engineQueryFunc } from "../../shared/rules/query.ts";
import { TestStorage } from "../../shared/promqltest/index.ts";
import { goAppendable, liveQuerier } from "../../shared/rules/unittest.ts";
import { runOracle } from "../lib/rules-oracle.ts";

interface File { path: string; content: string }
/** Sample values travel as JSON strings to the Go side (JSON has no NaN or Inf). */
interface Series { labels: Record<string, string>; samples: [number, number][]; stale?: number[] }

function goFloatJSON(v: number): string {
  return Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v);
}

function toOracle(sc: Scenario): unknown {
  return { ...sc, series: sc.series.map((s) => ({ ...s, samples: s.samples.map(([t, v]) => [t, goFloatJSON(v)]) })) };
}
type Step = { action: "eval" | "restore"; t: number } | { action: "reload"; t: number; files: File[] };
interface Scenario {
  files: File[];
  interval_ms: number;
  external_labels?: Record<string, string>;
  external_url?: string;
  resend_delay_ms?: number;
  outage_tolerance_ms?: number;
  for_grace_period_ms?: number;
  series: Series[];
  steps: Step[];
}

interface AlertOut {
  state: string; labels: Record<string, string>; annotations: Record<string, string>; value: string;
  activeAt: number | null; firedAt: number | null; resolvedAt: number | null; lastSentAt: number | null; validUntil: number | null; keepFiringSince: number | null;
}
interface RuleOut { group: string; name: string; health: string; lastError: string; state?: string; alerts?: AlertOut[]; restored?: boolean }
interface Out { steps: { rules: RuleOut[]; sent: { expr: string; alerts: AlertOut[] }[] | null }[]; storage: { labels: Record<string, string>; samples: [number, string][] | null }[]; error?: string }

const M = 60_000;

function rec(ls: Labels): Record<string, string> {
  const o: Record<string, string> = {};
  for (const l of ls) o[l.name] = l.value;
  return o;
}

function cmpRec(a: Record<string, string>, b: Record<string, string>): number {
  const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    if (a[ka[i]!] !== b[kb[i]!]) return a[ka[i]!]! < b[kb[i]!]! ? -1 : 1;
  }
  return ka.length - kb.length;
}

function alertOut(a: Alert): AlertOut {
  return {
    state: a.state, labels: rec(a.labels), annotations: rec(a.annotations), value: formatGoFloat(a.value),
    activeAt: a.activeAt, firedAt: a.firedAt, resolvedAt: a.resolvedAt, lastSentAt: a.lastSentAt, validUntil: a.validUntil, keepFiringSince: a.keepFiringSince,
  };
}

/** The scenario through shared/rules, shaped like the oracle's output. */
async function runOurs(sc: Scenario): Promise<Out> {
  const storage = new TestStorage();
  const engine = new Engine({ noStepSubqueryInterval: sc.interval_ms });
  let sent: { expr: string; alerts: AlertOut[] }[] = [];
  const mgr = new Manager({
    queryFunc: engineQueryFunc(engine, liveQuerier(storage)),
    // refusals with Go's texts ("duplicate sample for timestamp"), as a rule's last error shows them
    appendable: goAppendable(storage),
    queryable: liveQuerier(storage),
    notify: (expr, alerts) => { sent.push({ expr, alerts: alerts.map(alertOut).sort((a, b) => cmpRec(a.labels, b.labels)) }); },
    externalLabels: Object.entries(sc.external_labels ?? {}).map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : 1)),
    externalURL: sc.external_url ?? "",
    resendDelay: sc.resend_delay_ms ?? 0,
    outageTolerance: sc.outage_tolerance_ms ?? 0,
    forGracePeriod: sc.for_grace_period_ms ?? 0,
    queryTimeout: Infinity,
    thanos: false,
  });
  const load = (files: File[]): Group[] => {
    const r = mgr.loadGroups(sc.interval_ms, files.map((f) => ({ file: f.path, content: f.content })));
    if (r.errors.length > 0) throw new Error(r.errors.join("\n"));
    return [...r.groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, g]) => g);
  };
  let groups = load(sc.files);
  const next = sc.series.map(() => ({ s: 0, st: 0 }));
  const out: Out = { steps: [], storage: [] };
  for (const st of sc.steps) {
    sent = [];
    if (st.action === "eval") {
      const app = storage.appender();
      sc.series.forEach((s, i) => {
        const n = next[i]!;
        const lbls = Object.entries(s.labels).map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : 1));
        for (;;) {
          const ts = n.s < s.samples.length ? s.samples[n.s]![0] : Infinity;
          const stale = s.stale && n.st < s.stale.length && s.stale[n.st]! < ts;
          const t = stale ? s.stale![n.st]! : ts;
          if (t === Infinity || t > st.t) break;
          if (stale) { app.append(lbls, t, 0, true); n.st++; } else { app.append(lbls, t, s.samples[n.s]![1]); n.s++; }
        }
      });
      await app.commit();
      for (const g of groups) await g.eval(st.t);
    } else if (st.action === "restore") {
      for (const g of groups) await g.restoreForState(st.t);
    } else if (st.action === "reload") {
      const ng = load(st.files);
      const old = new Map(groups.map((g) => [g.file + ";" + g.name, g]));
      for (const g of ng) {
        const o = old.get(g.file + ";" + g.name);
        if (o) g.copyState(o);
      }
      groups = ng;
    }
    const rules: RuleOut[] = [];
    for (const g of groups) {
      for (const r of g.rules) {
        const ro: RuleOut = { group: g.name, name: r.name, health: r.health, lastError: r.lastError ?? "" };
        if (r instanceof AlertingRule) {
          ro.state = r.state();
          const as = r.currentAlerts().map(alertOut).sort((a, b) => cmpRec(a.labels, b.labels));
          if (as.length > 0) ro.alerts = as;
          ro.restored = r.restored;
        }
        rules.push(ro);
      }
    }
    sent.sort((a, b) => (a.expr < b.expr ? -1 : a.expr > b.expr ? 1 : 0));
    out.steps.push({ rules, sent: sent.length > 0 ? sent : null });
  }
  for (const s of storage.series()) {
    out.storage.push({
      labels: rec(s.labels),
      samples: s.ts.map((t, i) => [t, s.stale?.[i] ? "stale" : formatGoFloat(s.vs[i]!)] as [number, string]),
    });
  }
  return out;
}

/** Go's encoding/json leaves out nothing we compare; normalise nil slices. */
function norm(o: Out): Out {
  return {
    steps: o.steps.map((s) => ({ rules: s.rules.map((r) => ({ ...r, alerts: r.alerts && r.alerts.length > 0 ? r.alerts : undefined })), sent: s.sent && s.sent.length > 0 ? s.sent : null })),
    storage: o.storage.map((s) => ({ labels: s.labels, samples: s.samples ?? [] })),
  };
}

/** The first place two JSON values differ, as "path: want X, got Y" (null when equal). */
function firstDiff(w: unknown, g: unknown, path = ""): string | null {
  if (JSON.stringify(w) === JSON.stringify(g)) return null;
  if (typeof w !== "object" || typeof g !== "object" || w === null || g === null || Array.isArray(w) !== Array.isArray(g)) {
    return `${path}: Prometheus ${JSON.stringify(w)}, ours ${JSON.stringify(g)}`;
  }
  const keys = [...new Set([...Object.keys(w), ...Object.keys(g)])];
  for (const k of keys) {
    const d = firstDiff((w as Record<string, unknown>)[k], (g as Record<string, unknown>)[k], `${path}.${k}`);
    if (d !== null) {
      const label = (x: unknown) => (x && typeof x === "object" && "labels" in x ? ` ${JSON.stringify((x as { labels: unknown }).labels)}` : x && typeof x === "object" && "name" in x ? ` ${(x as { name: string }).name}` : "");
      return d.replace(`${path}.${k}`, `${path}.${k}${label((w as Record<string, unknown>)[k] ?? (g as Record<string, unknown>)[k])}`);
    }
  }
  return `${path}: Prometheus ${JSON.stringify(w)}, ours ${JSON.stringify(g)}`;
}

async function differential(name: string, sc: Scenario): Promise<void> {
  const [want, got] = await Promise.all([runOracle<Out>(toOracle(sc)), runOurs(sc)]);
  assert.is(want.error, undefined, `${name}: oracle failed: ${want.error}`);
  const w = JSON.parse(JSON.stringify(norm(want))), g = JSON.parse(JSON.stringify(norm(got)));
  for (let i = 0; i < w.steps.length; i++) {
    const d = firstDiff(w.steps[i], g.steps[i]);
    if (d !== null) assert.unreachable(`${name}: step ${i} ${JSON.stringify(sc.steps[i]).slice(0, 60)}: ${d}`);
  }
  const d = firstDiff(w.storage, g.storage, "storage");
  if (d !== null) assert.unreachable(`${name}: ${d}`);
}

const evals = (from: number, to: number, step: number): Step[] => {
  const out: Step[] = [];
  for (let t = from; t <= to; t += step) out.push({ action: "eval", t });
  return out;
};

const series = (labels: Record<string, string>, values: (number | null)[], step = M, stale: number[] = []): Series => ({
  labels,
  samples: values.flatMap((v, i) => (v === null ? [] : [[i * step, v] as [number, number]])),
  stale,
});

test("for, firing, resolution, resend delay, resolved retention and ValidUntil", async () => {
  await differential("for", {
    files: [{ path: "a.yml", content: `
groups:
  - name: alerts
    rules:
      - alert: Down
        expr: up == 0
        for: 3m
        labels: {severity: page}
        annotations: {summary: "{{ $labels.instance }} is {{ $value }}"}
      - alert: Instant
        expr: up == 0
      - alert: Value
        expr: temperature > 20
        annotations: {v: "{{ $value }}"}
` }],
    interval_ms: M,
    resend_delay_ms: 2 * M,
    series: [
      series({ __name__: "up", instance: "a", job: "j" }, [1, 0, 0, 0, 0, 0, 1, 1, 0, 0, ...Array(30).fill(1)]),
      series({ __name__: "up", instance: "b", job: "j" }, Array(40).fill(0)),
      series({ __name__: "temperature", room: "x" }, [21, 25.5, 1e6, 19, 30, NaN, 22, -Infinity, 40, 0.000012]),
    ],
    steps: evals(0, 39 * M, M),
  });
});

test("keep_firing_for and templated labels changing identity", async () => {
  await differential("keep_firing_for", {
    files: [{ path: "a.yml", content: `
groups:
  - name: g
    rules:
      - alert: Flappy
        expr: flap > 0
        keep_firing_for: 3m
        for: 1m
      - alert: Templated
        expr: queue > 10
        for: 2m
        labels:
          size: "{{ $value }}"
          copy: "{{ $labels.q }}"
` }],
    interval_ms: M,
    resend_delay_ms: M,
    series: [
      series({ __name__: "flap", id: "1" }, [1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
      series({ __name__: "queue", q: "a" }, [20, 20, 20, 30, 30, 30, 30, 5, 5, 30]),
    ],
    steps: evals(0, 25 * M, M),
  });
});

test("recording rules: labels, duplicates, limit, staleness when series vanish, query errors", async () => {
  await differential("recording", {
    files: [{ path: "r.yml", content: `
groups:
  - name: rec
    rules:
      - record: job:x:sum
        expr: sum by (job) (x)
        labels: {team: infra}
      - record: renamed
        expr: x
        labels: {instance: "", __tmp: ""}
      - record: collapsed
        expr: x
        labels: {i: same}
      - record: joined
        expr: x + on(job) y
      - record: scalar_result
        expr: scalar(sum(x))
  - name: limited
    limit: 2
    rules:
      - record: limited:copy
        expr: x
      - alert: TooMany
        expr: x > 0
` }],
    interval_ms: M,
    series: [
      series({ __name__: "x", job: "a", instance: "1", i: "1" }, [1, 2, 3, 4, null, null, null, null, null, null, 5]),
      series({ __name__: "x", job: "a", instance: "2", i: "2" }, [1, 1, null, null, null, 1, 1, 1], M, [2 * M + 30_000]),
      series({ __name__: "x", job: "b", instance: "3", i: "3" }, [null, null, null, 7, 7, 7, 7]),
      series({ __name__: "y", job: "a", k: "1" }, [1, 1, 1, 1]),
      series({ __name__: "y", job: "a", k: "2" }, [null, null, 1, 1]),
    ],
    steps: evals(0, 14 * M, M),
  });
});

test("alerting limit, duplicate alert label sets, and append conflicts", async () => {
  await differential("alert errors", {
    files: [{ path: "a.yml", content: `
groups:
  - name: lim
    limit: 1
    rules:
      - alert: Many
        expr: v > 0
      - alert: Dup
        expr: v
        labels: {k: same}
      - record: conflict
        expr: v * 10
` }],
    interval_ms: M,
    series: [
      series({ __name__: "v", k: "1" }, [1, 1, 1, 1, 1]),
      series({ __name__: "v", k: "2" }, [null, null, 1, 1, null]),
      // an input series the recording rule also writes: duplicate sample at the same timestamp
      series({ __name__: "conflict", k: "1" }, [10, 11, 10, 10]),
    ],
    steps: evals(0, 5 * M, M),
  });
});

test("restoring `for` state from ALERTS_FOR_STATE (grace period, outage tolerance, stale last value)", async () => {
  const base = 10 * 60 * M;
  const forState = (labels: Record<string, string>, activeAtSec: number, from: number, to: number, staleAt?: number): Series => {
    const samples: [number, number][] = [];
    for (let t = from; t <= to; t += M) samples.push([t, activeAtSec]);
    return { labels: { __name__: "ALERTS_FOR_STATE", ...labels }, samples, stale: staleAt !== undefined ? [staleAt] : [] };
  };
  await differential("restore", {
    files: [{ path: "a.yml", content: `
groups:
  - name: g
    rules:
      - alert: LongFor
        expr: up == 0
        for: 30m
      - alert: ShortFor
        expr: up == 0
        for: 2m
      - alert: AlmostDone
        expr: down == 1
        for: 20m
      - alert: Fired
        expr: gone == 1
        for: 15m
      - alert: WasStale
        expr: stale_src == 1
        for: 20m
` }],
    interval_ms: M,
    outage_tolerance_ms: 60 * M,
    for_grace_period_ms: 10 * M,
    resend_delay_ms: M,
    series: [
      // history of a previous run, which went down at base - 5m
      forState({ alertname: "LongFor", instance: "a" }, (base - 25 * M) / 1000, base - 25 * M, base - 5 * M),
      forState({ alertname: "ShortFor", instance: "a" }, (base - 20 * M) / 1000, base - 20 * M, base - 5 * M),
      forState({ alertname: "AlmostDone" }, (base - 17 * M) / 1000, base - 17 * M, base - 5 * M),
      forState({ alertname: "Fired" }, (base - 40 * M) / 1000, base - 40 * M, base - 5 * M),
      forState({ alertname: "WasStale" }, (base - 12 * M) / 1000, base - 12 * M, base - 6 * M, base - 5 * M),
      { labels: { __name__: "up", instance: "a" }, samples: Array.from({ length: 60 }, (_, i) => [base + i * M, 0] as [number, number]) },
      { labels: { __name__: "down" }, samples: Array.from({ length: 60 }, (_, i) => [base + i * M, 1] as [number, number]) },
      { labels: { __name__: "gone" }, samples: Array.from({ length: 60 }, (_, i) => [base + i * M, 1] as [number, number]) },
      { labels: { __name__: "stale_src" }, samples: Array.from({ length: 60 }, (_, i) => [base + i * M, 1] as [number, number]) },
    ],
    steps: [
      { action: "eval", t: base },
      { action: "eval", t: base + M },
      { action: "restore", t: base + M + 5_000 },
      ...evals(base + 2 * M, base + 40 * M, M),
    ],
  });
});

test("reload: CopyState keeps alerts and previous series, removed rules' series go stale", async () => {
  const v1 = `
groups:
  - name: g
    rules:
      - record: keep:x
        expr: x
      - record: old:x
        expr: x
      - alert: A
        expr: x > 0
        for: 2m
      - record: dup
        expr: x
      - record: dup
        expr: x * 2
`;
  const v2 = `
groups:
  - name: g
    rules:
      - record: keep:x
        expr: x
      - record: new:x
        expr: x
      - alert: A
        expr: x > 0
        for: 10m
      - record: dup
        expr: x
  - name: added
    rules:
      - alert: B
        expr: x > 0
`;
  await differential("reload", {
    files: [{ path: "a.yml", content: v1 }],
    interval_ms: M,
    resend_delay_ms: M,
    series: [series({ __name__: "x", i: "1" }, Array(20).fill(1))],
    steps: [...evals(0, 4 * M, M), { action: "reload", t: 4 * M + 1, files: [{ path: "a.yml", content: v2 }] }, ...evals(5 * M, 8 * M, M)],
  });
});

test("external labels and URL in templates", async () => {
  await differential("external", {
    files: [{ path: "a.yml", content: `
groups:
  - name: g
    rules:
      - alert: Ext
        expr: up
        labels: {cluster_copy: "{{ $externalLabels.cluster }}"}
        annotations: {url: "{{ $externalURL }}", missing: "[{{ $labels.nope }}]"}
` }],
    interval_ms: M,
    external_labels: { cluster: "eu-1", replica: "a" },
    external_url: "https://thanos.example.com/prefix",
    series: [series({ __name__: "up", job: "x" }, [1, 1])],
    steps: evals(0, M, M),
  });
});

test("templates: functions, query, conditionals, errors, values printed as Go prints them", async () => {
  await differential("templates", {
    files: [{ path: "a.yml", content: `
groups:
  - name: g
    rules:
      - alert: T
        expr: m
        labels:
          level: '{{ if gt $value 100.0 }}high{{ else }}low{{ end }}'
        annotations:
          v: '{{ $value }} {{ humanize $value }} {{ $value | humanizePercentage }} {{ printf "%08.3f|%x|%q" $value 255 $labels.k }}'
          q: '{{ range query "sort_desc(m)" }}{{ .Labels.k }}:{{ .Value }};{{ end }}{{ with query "nosuch" }}{{ . | first | value }}{{ else }}none{{ end }}'
          err: '{{ query "sum(" }}'
          url: '[{{ $externalURL }}] [{{ externalURL }}]'
          t: '{{ 1700000000 | humanizeTimestamp }} {{ toUpper "ß" }} {{ title "héllo wörld" }} {{ reReplaceAll "(a+)" "<$1>" "baaac" }}'
` }],
    interval_ms: M,
    external_url: "https://x.example/p",
    series: [
      series({ __name__: "m", k: "a" }, [1e6, 0.000123, 150, -2.5, NaN]),
      series({ __name__: "m", k: "b" }, [42, 1e21, 3, 3, 3]),
    ],
    steps: evals(0, 4 * M, M),
  });
});

test("phase offset: Group.EvalTimestamp as Prometheus computes it", async () => {
  const cases: { file: string; name: string; interval_ms: number; now_ms: number }[] = [];
  const files = ["rules.yml", "/etc/prometheus/rules/a.yaml", "r/é ü.yml", ""];
  const names = ["g", "node-exporter", "ünïcode", "x".repeat(300)];
  const intervals = [1000, 15_000, 60_000, 300_000, 3_600_000, 90_000];
  let now = 1_700_000_000_123;
  for (const file of files) for (const name of names) for (const interval_ms of intervals) cases.push({ file, name, interval_ms, now_ms: (now += 7_777_777) });
  const want = await runOracle<number[]>({ mode: "hash", hash: cases });
  const got = cases.map((c) => evalTimestamp(c.file, c.name, c.interval_ms, c.now_ms));
  // Go returns ns; samples are written at ms (truncated).
  assert.equal(got, want.map((ns) => Math.floor(ns / 1e6)));
});

test("relabelling: every action as Prometheus' relabel.Process", async () => {
  const cases: { config: string; labels: Record<string, string> }[] = [];
  const ls = { __name__: "ALERTS", alertname: "HighLatency", job: "api", instance: "10.0.0.1:9090", severity: "page", replica: "a", env: "" };
  const configs = [
    "- action: labeldrop\n  regex: replica",
    "- action: labelkeep\n  regex: __name__|alertname|job",
    "- source_labels: [instance]\n  regex: '([^:]+):.*'\n  target_label: host\n  replacement: '$1'",
    "- source_labels: [instance]\n  regex: '([^:]+):(?P<port>.*)'\n  target_label: port_${port}\n  replacement: 'p${port}x$1x$2$$'",
    "- source_labels: [job, severity]\n  separator: '/'\n  target_label: route",
    "- source_labels: [job]\n  regex: api\n  action: drop",
    "- source_labels: [job]\n  regex: web\n  action: drop",
    "- source_labels: [job]\n  regex: a.*\n  action: keep",
    "- source_labels: [severity]\n  action: uppercase\n  target_label: sev",
    "- source_labels: [alertname]\n  action: lowercase\n  target_label: alertname",
    "- source_labels: [instance]\n  modulus: 7\n  target_label: shard\n  action: hashmod",
    "- regex: (.*)name\n  action: labelmap\n  replacement: copy_$1",
    "- source_labels: [job]\n  target_label: job\n  action: keepequal",
    "- source_labels: [job]\n  target_label: severity\n  action: dropequal",
    "- source_labels: [nope]\n  regex: ''\n  target_label: empty\n  replacement: x",
    "- source_labels: [job]\n  regex: (.*)\n  target_label: job\n  replacement: ''",
    "- source_labels: [job]\n  target_label: '1bad'",
    "- action: Replace\n  source_labels: [job]\n  target_label: j2\n  replacement: '$1x'",
  ];
  for (const config of configs) cases.push({ config, labels: ls });
  const want = await runOracle<(Record<string, string> | null)[]>({ mode: "relabel", relabel: cases });
  const got = cases.map((c) => {
    const lset = Object.entries(c.labels).filter(([, v]) => v !== "").map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : 1));
    let cfgs;
    try {
      cfgs = parseRelabelConfigs(c.config);
    } catch (e) {
      return { error: (e as Error).message };
    }
    const r = relabel(lset, cfgs);
    return r === null ? null : rec(r);
  });
  assert.equal(got, want);
});

test.run();
