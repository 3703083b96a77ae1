// The querier's rules merge and its JSON against Thanos' own code on random HA inputs: rule groups as
// two or three replicas of a ruler would send them (external labels with different replica values,
// rules missing on one side, ties in last evaluation, templated labels, awkward strings and floats),
// in a random arrival order, with random filters. Thanos' rules.NewGRPCClientWithDedup (compiled from
// v0.41.0, test/lib/go/thanos-rules-merge.go) decides, and its answer is written with jsoniter as
// Thanos' API writes it; ours must be the same bytes (but for `"alerts":null`, which we write as []).
//
// Sizes stay at most 12 groups and 12 rules per merged group: there Go's sort.Slice is an insertion
// sort, stable like Array#sort, so even exact ties resolve the same way. (Beyond 12, Go's order among
// equal elements is unspecified.)
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { buildGo } from "../lib/gobuild.ts";
import { THANOS_GO_MOD } from "../lib/thanos-downsample.ts";
import {
  AlertInstanceSchema, AlertSchema, AlertState, RecordingRuleSchema, RuleGroupSchema, RuleSchema, type Rule, type RuleGroup,
} from "../../shared/gen/thanos/rulespb/rpc_pb.ts";
import { PartialResponseStrategy } from "../../shared/gen/thanos/storepb/types_pb.ts";
import { parseMetricSelector } from "../../shared/promql/parser.ts";
import { mergeRuleGroups } from "../../shared/query/rules.ts";
import { alertsDataJson, rulesDataJson } from "../../shared/api/rules-api.ts";

const run = promisify(execFile);

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  replicaLabels: string[];
  match: string[];
  ruleName: string[];
  ruleGroup: string[];
  file: string[];
  groups: RuleGroup[];
}

const NAMES = ["HighLatency", "InstanceDown", "job:up:sum", "Ω<&>\"x\"", "a"];
const QUERIES = ["up", "up == 0", 'sum by (job) (rate(x{a="<b>"}[5m]))'];
const LABELS: [string, string][][] = [[], [["severity", "page"]], [["severity", "warn"]], [["team", "{{ $labels.team }}"]], [["severity", "page"], ["team", "db&\u2028"]]];
const FLOATS = [0, 1, 0.5, 60, 300.5, 0.000123456, 1.5e-7, 1234567.891, 3e21];

function generate(r: () => number): Case {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = (p: number) => r() < p;
  const nReplicas = 1 + Math.floor(r() * 3);
  const replicaLabels = maybe(0.15) ? [] : maybe(0.2) ? ["replica", "rule_replica"] : ["replica"];
  // The rule set every replica loads: 1-3 groups of 1-4 rules.
  const base = Array.from({ length: 1 + Math.floor(r() * 3) }, (_, gi) => ({
    name: maybe(0.2) ? "g" : `g${gi}`,
    file: pick(["rules/a.yml", "rules/b.yml"]),
    rules: Array.from({ length: 1 + Math.floor(r() * 4) }, () => ({
      alert: maybe(0.6), name: pick(NAMES), query: pick(QUERIES), labels: pick(LABELS), duration: pick([0, 60, 300.5]), keepFiringFor: pick([0, 30]),
    })),
  }));
  // At most 4 rules per group key, so that a merged group holds at most 12 (3 replicas).
  const perKey = new Map<string, number>();
  base.forEach((g, gi) => {
    const n = (perKey.get(`${g.file};${g.name}`) ?? 0) + g.rules.length;
    if (n > 4) g.name = `g${gi}`;
    perKey.set(`${g.file};${g.name}`, (perKey.get(`${g.file};${g.name}`) ?? 0) + g.rules.length);
  });
  const groups: RuleGroup[] = [];
  const t0 = 1_700_000_000 + Math.floor(r() * 1000);
  for (let k = 0; k < nReplicas; k++) {
    const replica = "abc"[k]!;
    for (const g of base) {
      if (nReplicas > 1 && maybe(0.08)) continue;
      const rules: Rule[] = [];
      for (const b of g.rules) {
        if (nReplicas > 1 && maybe(0.08)) continue;
        const ext: [string, string][] = [["cluster", "c1"]];
        if (!maybe(0.05)) ext.push(["replica", replica]);
        if (replicaLabels.length > 1) ext.push(["rule_replica", `r${k}`]);
        const m = new Map<string, string>([...b.labels, ...ext]);
        const labels = { labels: [...m].sort((x, y) => (x[0] < y[0] ? -1 : 1)).map(([name, value]) => ({ name, value })) };
        // Evaluations within a couple of seconds of each other; sometimes exactly equal across replicas.
        const lastEvaluation = { seconds: BigInt(t0 + Math.floor(r() * 3)), nanos: maybe(0.5) ? 0 : pick([0, 1, 500_000_000, 123_456_789]) };
        const health = pick(["ok", "ok", "err", "unknown"]);
        const lastError = health === "err" ? pick(["query timed out after 30s", "vector contains metrics with the same labelset after applying rule labels <x>"]) : "";
        if (b.alert) {
          const state = pick([AlertState.INACTIVE, AlertState.PENDING, AlertState.FIRING]);
          const alerts = state === AlertState.INACTIVE ? [] : Array.from({ length: 1 + Math.floor(r() * 2) }, (_, i) => create(AlertInstanceSchema, {
            labels: { labels: [{ name: "alertname", value: b.name }, { name: "instance", value: `host-${i}` }] },
            annotations: { labels: maybe(0.5) ? [{ name: "summary", value: `host-${i} <down> "${replica}"` }] : [] },
            state: maybe(0.8) ? state : AlertState.PENDING,
            activeAt: maybe(0.9) ? { seconds: BigInt(t0 - Math.floor(r() * 600)), nanos: pick([0, 250_000_000, 7]) } : undefined,
            value: pick(["1e+00", "0e+00", "NaN", "+Inf", "1.5e-07"]),
            PartialResponseStrategy: pick([PartialResponseStrategy.WARN, PartialResponseStrategy.ABORT]),
          }));
          rules.push(create(RuleSchema, { result: { case: "alert", value: create(AlertSchema, {
            state, name: b.name, query: b.query, durationSeconds: b.duration, keepFiringForSeconds: b.keepFiringFor, labels,
            annotations: { labels: maybe(0.5) ? [{ name: "description", value: "{{ $value }} > 1" }] : [] },
            alerts, health, lastError, evaluationDurationSeconds: pick(FLOATS), lastEvaluation,
          }) } }));
        } else {
          rules.push(create(RuleSchema, { result: { case: "recording", value: create(RecordingRuleSchema, {
            name: b.name, query: b.query, labels, health, lastError, evaluationDurationSeconds: pick(FLOATS), lastEvaluation,
          }) } }));
        }
      }
      groups.push(create(RuleGroupSchema, {
        name: g.name, file: g.file, rules, interval: pick([60, 30, 0.5]), evaluationDurationSeconds: pick(FLOATS),
        lastEvaluation: maybe(0.1) ? { seconds: -62135596800n, nanos: 0 } : { seconds: BigInt(t0), nanos: pick([0, 999_999_999]) },
        limit: BigInt(pick([0, 10])), PartialResponseStrategy: pick([PartialResponseStrategy.WARN, PartialResponseStrategy.ABORT]),
      }));
    }
  }
  // Arrival order: the replicas' answers interleaved at random.
  for (let i = groups.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [groups[i], groups[j]] = [groups[j]!, groups[i]!];
  }
  const names = [...new Set(base.flatMap((g) => g.rules.map((x) => x.name)))];
  return {
    replicaLabels,
    match: maybe(0.25) ? [pick(['{severity="page"}', '{cluster="c1"}', '{team=~"db.*"}', '{severity!="page",cluster="c1"}'])] : [],
    ruleName: maybe(0.15) ? [pick(names)] : [],
    ruleGroup: maybe(0.15) ? [pick(base).name] : [],
    file: maybe(0.1) ? ["rules/a.yml"] : [],
    groups,
  };
}

test("random HA ruler answers: our merge and JSON equal Thanos' querier's, byte for byte", async () => {
  const bin = await buildGo("thanos-rules-merge", THANOS_GO_MOD, readFileSync(fileURLToPath(new URL("../lib/go/thanos-rules-merge.go", import.meta.url)), "utf8"), { tags: "slicelabels" });
  const N = 3000;
  const r = rng(20251207);
  const cases = Array.from({ length: N }, () => generate(r));
  const input = JSON.stringify(cases.map((c) => ({
    replicaLabels: c.replicaLabels, type: 0, match: c.match, ruleName: c.ruleName, ruleGroup: c.ruleGroup, file: c.file,
    groups: c.groups.map((g) => Buffer.from(toBinary(RuleGroupSchema, g)).toString("base64")),
  })));
  const child = run(bin, [], { maxBuffer: 1 << 28, timeout: 300_000 });
  child.child.stdin!.end(input);
  const want = JSON.parse((await child).stdout) as { rules: string; alerts: string; err: string }[];
  assert.is(want.length, N);
  let dedupedSome = 0, withAlerts = 0;
  for (let i = 0; i < N; i++) {
    const c = cases[i]!, w = want[i]!;
    assert.is(w.err, "", `case ${i}: Thanos failed`);
    // As from the wire: our merge gets freshly decoded messages, as Thanos' does.
    const groups = c.groups.map((g) => fromBinary(RuleGroupSchema, toBinary(RuleGroupSchema, g)));
    const before = groups.reduce((n, g) => n + g.rules.length, 0);
    const merged = mergeRuleGroups(groups, { matchers: c.match.map(parseMetricSelector), ruleNames: c.ruleName, ruleGroups: c.ruleGroup, files: c.file, replicaLabels: c.replicaLabels });
    if (merged.reduce((n, g) => n + g.rules.length, 0) < before) dedupedSome++;
    const rules = rulesDataJson(merged), alerts = alertsDataJson(merged);
    if (rules !== w.rules) {
      assert.fixture(rules, w.rules, `case ${i} /api/v1/rules (replicaLabels ${JSON.stringify(c.replicaLabels)}, match ${JSON.stringify(c.match)}, rule_name ${JSON.stringify(c.ruleName)}, rule_group ${JSON.stringify(c.ruleGroup)}, file ${JSON.stringify(c.file)})`);
    }
    const wantAlerts = w.alerts === '{"alerts":null}' ? '{"alerts":[]}' : w.alerts;
    if (alerts !== wantAlerts) assert.fixture(alerts, wantAlerts, `case ${i} /api/v1/alerts`);
    if (wantAlerts !== '{"alerts":[]}') withAlerts++;
  }
  // The cases must exercise what they are for.
  assert.ok(dedupedSome > N / 3, `only ${dedupedSome} of ${N} cases deduplicated anything`);
  assert.ok(withAlerts > N / 3, `only ${withAlerts} of ${N} cases had alerts`);
  console.log(`${N} random cases equal to Thanos' (${dedupedSome} with replicas collapsed, ${withAlerts} with alerts)`);
});

test.run();
