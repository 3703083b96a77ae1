// The querier's rules merge (shared/query/rules.ts) against Thanos' own test cases: every case of
// TestDedupRules, TestDedupGroups and TestFilterRules in pkg/rules/rules_test.go (Thanos v0.41.0),
// inputs and expected values as Thanos wrote them, and TestProxy's cases (pkg/rules/proxy_test.go) on
// our fan-out. The same functions are also compared with Thanos' compiled code on random HA inputs in
// test/integration/rules-merge-thanos.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create } from "@bufbuild/protobuf";
import { errorMessage } from "../../../shared/encoding/errors.ts";
import { newMatcher, type Matcher } from "../../../shared/labels/matcher.ts";
import {
  AlertSchema, AlertState, RecordingRuleSchema, RuleGroupSchema, RuleSchema, RulesRequestSchema, RulesRequest_Type, RulesResponseSchema,
  type Rule, type RuleGroup, type RulesResponse,
} from "../../../shared/gen/thanos/rulespb/rpc_pb.ts";
import { PartialResponseStrategy } from "../../../shared/gen/thanos/storepb/types_pb.ts";
import { dedupGroups, dedupRules, filterRulesByMatchers, filterRulesByNamesAndFile, isPlainTextLabel, ruleLabels } from "../../../shared/query/rules.ts";
import { ProxyStore } from "../../../shared/query/proxy.ts";
import type { StoreEndpoint } from "../../../shared/query/store.ts";

// ---- a small notation for Thanos' rulespb literals ----
type L = [string, string][];
const ls = (l: L = []) => ({ labels: l.map(([name, value]) => ({ name, value })) });
/** time.Unix(s, 0) */
const unix = (s: number) => ({ seconds: BigInt(s), nanos: 0 });
function rec(o: { name: string; query?: string; labels?: L; lastEval?: number }): Rule {
  return create(RuleSchema, { result: { case: "recording", value: create(RecordingRuleSchema, { name: o.name, query: o.query ?? "", labels: ls(o.labels), lastEvaluation: o.lastEval !== undefined ? unix(o.lastEval) : undefined }) } });
}
function alert(o: { name: string; query?: string; labels?: L; duration?: number; state?: AlertState; lastEval?: number }): Rule {
  return create(RuleSchema, { result: { case: "alert", value: create(AlertSchema, { name: o.name, query: o.query ?? "", labels: ls(o.labels), durationSeconds: o.duration ?? 0, state: o.state ?? AlertState.UNKNOWN, lastEvaluation: o.lastEval !== undefined ? unix(o.lastEval) : undefined }) } });
}
function grp(o: { name: string; file?: string; rules?: Rule[] }): RuleGroup {
  return create(RuleGroupSchema, { name: o.name, file: o.file ?? "", rules: o.rules ?? [] });
}
/** What testutil.Equals compares, for the fields these cases set (labels in order). */
function show(r: Rule): string {
  const v = r.result.value!;
  const extra = r.result.case === "alert" ? ` for=${r.result.value.durationSeconds} state=${AlertState[r.result.value.state]}` : "";
  const t = v.lastEvaluation ? ` t=${v.lastEvaluation.seconds}` : "";
  return `${r.result.case} ${v.name} q=${JSON.stringify(v.query)} ${JSON.stringify(ruleLabels(r).map((l) => [l.name, l.value]))}${extra}${t}`;
}
const showGroups = (gs: RuleGroup[]) => gs.map((g) => ({ name: g.name, file: g.file, rules: g.rules.map(show) }));
const M = (type: "=" | "=~", name: string, value: string): Matcher => newMatcher(type, name, value);

// ---- TestDedupRules ----
const dedupCases: { name: string; rules: Rule[]; want: Rule[]; replicaLabels?: string[] }[] = [
  { name: "nil slice", rules: [], want: [] },
  { name: "empty rule slice", rules: [], want: [] },
  { name: "single recording rule", rules: [rec({ name: "a1" })], want: [rec({ name: "a1" })] },
  { name: "single alert", rules: [alert({ name: "a1" })], want: [alert({ name: "a1" })] },
  { name: "rule type", rules: [rec({ name: "a1" }), alert({ name: "a1" })], want: [alert({ name: "a1" }), rec({ name: "a1" })] },
  {
    name: "rule name",
    rules: [rec({ name: "a1" }), alert({ name: "a1" }), rec({ name: "a1" }), alert({ name: "a1" })],
    want: [alert({ name: "a1" }), rec({ name: "a1" })],
  },
  {
    name: "rule labels",
    rules: [alert({ name: "a1", labels: [["a", "1"]] }), rec({ name: "a1", labels: [["a", "1"]] }), rec({ name: "a1", labels: [["a", "1"]] }), alert({ name: "a1", labels: [["a", "1"]] })],
    want: [alert({ name: "a1", labels: [["a", "1"]] }), rec({ name: "a1", labels: [["a", "1"]] })],
  },
  {
    name: "rule expression",
    rules: [
      rec({ name: "a1", query: "up", labels: [["a", "1"]] }), rec({ name: "a1", query: "up", labels: [["a", "1"]] }),
      alert({ name: "a1", query: "up", labels: [["a", "1"]] }), rec({ name: "a1", labels: [["a", "1"]] }), alert({ name: "a1", query: "up", labels: [["a", "1"]] }),
    ],
    want: [alert({ name: "a1", query: "up", labels: [["a", "1"]] }), rec({ name: "a1", labels: [["a", "1"]] }), rec({ name: "a1", query: "up", labels: [["a", "1"]] })],
  },
  {
    name: "alert duration",
    rules: [
      rec({ name: "a1", query: "up", labels: [["a", "1"]] }), rec({ name: "a1", query: "up", labels: [["a", "1"]] }),
      alert({ name: "a1", query: "up", duration: 1, labels: [["a", "1"]] }), rec({ name: "a1", labels: [["a", "1"]] }),
      alert({ name: "a1", query: "up", duration: 1, labels: [["a", "1"]] }), alert({ name: "a1", query: "up", duration: 2, labels: [["a", "1"]] }),
    ],
    want: [
      alert({ name: "a1", query: "up", duration: 1, labels: [["a", "1"]] }), alert({ name: "a1", query: "up", duration: 2, labels: [["a", "1"]] }),
      rec({ name: "a1", labels: [["a", "1"]] }), rec({ name: "a1", query: "up", labels: [["a", "1"]] }),
    ],
  },
  {
    name: "alert duration with replicas",
    rules: [alert({ name: "a1", query: "up", duration: 1, labels: [["a", "1"], ["replica", "1"]] }), alert({ name: "a1", query: "up", duration: 2, labels: [["a", "1"]] })],
    want: [alert({ name: "a1", query: "up", duration: 1, labels: [["a", "1"]] }), alert({ name: "a1", query: "up", duration: 2, labels: [["a", "1"]] })],
    replicaLabels: ["replica"],
  },
  {
    name: "replica labels",
    rules: [rec({ name: "a1", labels: [["a", "1"], ["replica", "3"]] }), rec({ name: "a1", labels: [["a", "1"], ["replica", "1"]] }), rec({ name: "a1", labels: [["a", "1"], ["replica", "2"]] })],
    want: [rec({ name: "a1", labels: [["a", "1"]] })],
    replicaLabels: ["replica"],
  },
  {
    name: "ambiguous replica labels",
    rules: [
      rec({ name: "a1", labels: [["replica", "1"], ["a", "1"]] }), rec({ name: "a1", labels: [["replica", "1"]] }),
      rec({ name: "a1", labels: [["replica", "1"], ["a", "2"]] }), rec({ name: "a1", labels: [["replica", "1"], ["a", "1"]] }),
    ],
    want: [rec({ name: "a1" }), rec({ name: "a1", labels: [["a", "1"]] }), rec({ name: "a1", labels: [["a", "2"]] })],
    replicaLabels: ["replica"],
  },
  {
    name: "youngest recording rule",
    rules: [
      rec({ name: "a1", query: "up", labels: [["replica", "2"]], lastEval: 0 }), rec({ name: "a1", query: "up", labels: [["replica", "1"]], lastEval: 1 }),
      rec({ name: "a1", query: "up", labels: [["replica", "3"]], lastEval: 3 }), rec({ name: "a1", query: "up", lastEval: 2 }),
    ],
    want: [rec({ name: "a1", query: "up", lastEval: 3 })],
    replicaLabels: ["replica"],
  },
  {
    name: "youngest firing alert",
    rules: [
      alert({ name: "a1", labels: [["replica", "2"]], lastEval: 4 }),
      alert({ name: "a1", labels: [["replica", "2"], ["foo", "bar"]], lastEval: 2 }),
      alert({ name: "a2", lastEval: 2, state: AlertState.PENDING }),
      alert({ name: "a1", labels: [["replica", "1"]], lastEval: 3 }),
      alert({ name: "a2", labels: [["replica", "1"]], lastEval: 3, state: AlertState.PENDING }),
      alert({ name: "a1", labels: [["replica", "3"]], lastEval: 2, state: AlertState.FIRING }),
      alert({ name: "a1", labels: [["foo", "bar"]], state: AlertState.FIRING, lastEval: 1 }),
    ],
    want: [
      alert({ state: AlertState.FIRING, name: "a1", lastEval: 2 }),
      alert({ state: AlertState.FIRING, name: "a1", labels: [["foo", "bar"]], lastEval: 1 }),
      alert({ state: AlertState.PENDING, name: "a2", lastEval: 3 }),
    ],
    replicaLabels: ["replica"],
  },
  {
    name: "alerts with different severity",
    rules: [
      alert({ name: "a1", labels: [["replica", "1"], ["severity", "warning"]], lastEval: 1 }), alert({ name: "a1", labels: [["replica", "1"], ["severity", "critical"]], lastEval: 1 }),
      alert({ name: "a1", labels: [["replica", "2"], ["severity", "warning"]], lastEval: 1 }), alert({ name: "a1", labels: [["replica", "2"], ["severity", "critical"]], lastEval: 1 }),
    ],
    want: [alert({ name: "a1", labels: [["severity", "critical"]], lastEval: 1 }), alert({ name: "a1", labels: [["severity", "warning"]], lastEval: 1 })],
    replicaLabels: ["replica"],
  },
  {
    name: "alerts with missing replica labels",
    rules: [
      alert({ name: "a1", labels: [["replica", "1"], ["label", "foo"]], lastEval: 1 }), alert({ name: "a1", labels: [["replica", "2"], ["label", "foo"]], lastEval: 1 }),
      alert({ name: "a1", labels: [["label", "foo"]], lastEval: 1 }),
    ],
    want: [alert({ name: "a1", labels: [["label", "foo"]], lastEval: 1 })],
    replicaLabels: ["replica"],
  },
];

for (const tc of dedupCases) {
  test(`TestDedupRules/${tc.name}`, () => {
    assert.equal(dedupRules(tc.rules, new Set(tc.replicaLabels ?? [])).map(show), tc.want.map(show));
  });
}

// ---- TestDedupGroups ----
const ab = (p: string) => [rec({ name: `${p}1` }), rec({ name: `${p}2` })];
const groupCases: { name: string; groups: RuleGroup[]; want: RuleGroup[] }[] = [
  { name: "no groups", groups: [], want: [] },
  { name: "empty group", groups: [grp({ name: "a" })], want: [grp({ name: "a" })] },
  { name: "multiple empty groups", groups: [grp({ name: "a" }), grp({ name: "b" })], want: [grp({ name: "a" }), grp({ name: "b" })] },
  { name: "single group", groups: [grp({ name: "a", rules: ab("a") })], want: [grp({ name: "a", rules: ab("a") })] },
  { name: "separate groups", groups: [grp({ name: "a", rules: ab("a") }), grp({ name: "b", rules: ab("b") })], want: [grp({ name: "a", rules: ab("a") }), grp({ name: "b", rules: ab("b") })] },
  {
    name: "duplicate groups",
    groups: [grp({ name: "a", rules: ab("a") }), grp({ name: "b", rules: ab("b") }), grp({ name: "c" }), grp({ name: "a", rules: ab("a") })],
    want: [grp({ name: "a", rules: [...ab("a"), ...ab("a")] }), grp({ name: "b", rules: ab("b") }), grp({ name: "c" })],
  },
  {
    name: "distinct file names",
    groups: [grp({ name: "a", file: "foo.yaml", rules: ab("a") }), grp({ name: "a", rules: ab("a") }), grp({ name: "b", rules: ab("b") }), grp({ name: "c" }), grp({ name: "a", file: "bar.yaml", rules: ab("a") })],
    want: [grp({ name: "a", rules: ab("a") }), grp({ name: "b", rules: ab("b") }), grp({ name: "c" }), grp({ name: "a", file: "bar.yaml", rules: ab("a") }), grp({ name: "a", file: "foo.yaml", rules: ab("a") })],
  },
];

for (const tc of groupCases) {
  test(`TestDedupGroups/${tc.name}`, () => {
    assert.equal(showGroups(dedupGroups(tc.groups)), showGroups(tc.want));
  });
}

// ---- TestFilterRules ----
const a1Labeled = () => grp({
  name: "a",
  rules: [alert({ name: "a1", labels: [["replica", "1"], ["label", "foo"]] }), rec({ name: "r1", labels: [["label", "foo"]] }), rec({ name: "r2", labels: [["otherlabel", "bar"]] })],
});
const twoGroups = () => [
  grp({ name: "a", rules: [alert({ name: "a1a", labels: [["label", "foo"]] }), rec({ name: "r1a", labels: [["label", "foo"]] }), rec({ name: "r1b", labels: [["otherlabel", "bar"]] })] }),
  grp({ name: "b", rules: [alert({ name: "a1b", labels: [["some", "label"]] }), rec({ name: "r1b", labels: [["label", "foo"]] })] }),
];
const twoGroupsMatched = () => [
  grp({ name: "a", rules: [alert({ name: "a1a", labels: [["label", "foo"]] }), rec({ name: "r1a", labels: [["label", "foo"]] })] }),
  grp({ name: "b", rules: [rec({ name: "r1b", labels: [["label", "foo"]] })] }),
];
const files = () => [
  grp({ name: "group1", file: "group1.yml", rules: [alert({ name: "a1" }), rec({ name: "r1" }), rec({ name: "r2" })] }),
  grp({ name: "group2", file: "group2.yml", rules: [alert({ name: "a1" })] }),
];
const tmplGroups = () => [
  grp({ name: "a", rules: [alert({ name: "a1a", labels: [["templatedlabel", "{{ $externalURL }}"]] })] }),
  grp({ name: "b", rules: [alert({ name: "a1b", labels: [["templated", "{{ $externalURL }}"]] })] }),
];
const filterCases: { name: string; groups: RuleGroup[]; want: RuleGroup[]; matchers?: Matcher[][]; ruleName?: string[]; ruleGroup?: string[]; file?: string[] }[] = [
  { name: "no groups", groups: [], want: [] },
  { name: "empty group with no matcher", groups: [grp({ name: "a" })], want: [grp({ name: "a" })] },
  { name: "multiple empty groups with no matcher", groups: [grp({ name: "a" }), grp({ name: "b" })], want: [grp({ name: "a" }), grp({ name: "b" })] },
  { name: "single group with labeled rules and no matcher", groups: [a1Labeled()], want: [a1Labeled()] },
  {
    name: "single group with labeled rules and matcher", matchers: [[M("=", "label", "foo")]], groups: [a1Labeled()],
    want: [grp({ name: "a", rules: [alert({ name: "a1", labels: [["replica", "1"], ["label", "foo"]] }), rec({ name: "r1", labels: [["label", "foo"]] })] })],
  },
  { name: "single group with no match for matcher", matchers: [[M("=", "foo", "bar")]], groups: [a1Labeled()], want: [] },
  {
    name: "single group with templated labels", matchers: [[M("=", "templatedlabel", "{{ $externalURL }}")]],
    groups: [grp({ name: "a", rules: [alert({ name: "a1", labels: [["label", "foo"], ["templatedlabel", "{{ $externalURL }}"]] }), alert({ name: "a2", labels: [["label", "foo"]] })] })],
    want: [],
  },
  { name: "multiple group with labeled rules and matcher", matchers: [[M("=", "label", "foo")]], groups: twoGroups(), want: twoGroupsMatched() },
  { name: "multiple group with labeled rules and no match", matchers: [[M("=", "foo", "bar")]], groups: twoGroups(), want: [] },
  { name: "multiple group with templated labels", matchers: [[M("=", "templatedlabel", "{{ $externalURL }}")]], groups: tmplGroups(), want: [] },
  { name: "multiple group with templated labels and non templated matcher", matchers: [[M("=", "templatedlabel", "foo")]], groups: tmplGroups(), want: [] },
  { name: "multiple group with regex matcher", matchers: [[M("=~", "label", "f.*")]], groups: twoGroups(), want: twoGroupsMatched() },
  {
    name: "single group with rule name filter", ruleName: ["a1"], groups: [a1Labeled()],
    want: [grp({ name: "a", rules: [alert({ name: "a1", labels: [["replica", "1"], ["label", "foo"]] })] })],
  },
  {
    name: "two groups with group name filter", ruleGroup: ["group1"],
    groups: [grp({ name: "group1", rules: [alert({ name: "a1" }), rec({ name: "r1" }), rec({ name: "r2" })] }), grp({ name: "group2", rules: [alert({ name: "a1" })] })],
    want: [grp({ name: "group1", rules: [alert({ name: "a1" }), rec({ name: "r1" }), rec({ name: "r2" })] })],
  },
  { name: "two groups with group file filter", file: ["group2.yml"], groups: files(), want: [grp({ name: "group2", file: "group2.yml", rules: [alert({ name: "a1" })] })] },
  { name: "one group match multiple rules", ruleName: ["r1", "r2"], groups: files(), want: [grp({ name: "group1", file: "group1.yml", rules: [rec({ name: "r1" }), rec({ name: "r2" })] })] },
  { name: "two groups with group file filter (no match)", file: ["nomatch.yml"], groups: files(), want: [] },
  {
    name: "two groups with filter on group name, file and rulename", ruleName: ["a1"], ruleGroup: ["group1"], file: ["file1.yml"],
    groups: [
      grp({ name: "group1", file: "file1.yml", rules: [alert({ name: "a1" }), rec({ name: "r1" }), rec({ name: "r2" })] }),
      grp({ name: "group2", file: "file1.yml", rules: [alert({ name: "a1" })] }),
      grp({ name: "group3", file: "file2.yml", rules: [alert({ name: "a1" })] }),
    ],
    want: [grp({ name: "group1", file: "file1.yml", rules: [alert({ name: "a1" })] })],
  },
  {
    name: "single group with labeled rules, matcher and rule name filter", matchers: [[M("=", "label", "foo")]], ruleName: ["a1"], groups: [a1Labeled()],
    want: [grp({ name: "a", rules: [alert({ name: "a1", labels: [["replica", "1"], ["label", "foo"]] })] })],
  },
];

for (const tc of filterCases) {
  test(`TestFilterRules/${tc.name}`, () => {
    let gs = filterRulesByMatchers(tc.groups, tc.matchers ?? []);
    gs = filterRulesByNamesAndFile(gs, tc.ruleName ?? [], tc.ruleGroup ?? [], tc.file ?? []);
    assert.equal(showGroups(gs), showGroups(tc.want));
  });
}

test("plain-text label values (Go template of one text node)", () => {
  for (const [v, want] of [
    ["foo", true], ["", false], ["{{ $externalURL }}", false], ["a{{ $labels.x }}", false], ["{{ broken", false],
    ["a{{/* note */}}", true], ["a{{/* note */}}b", false], ["a {{- /* note */ -}} ", true], ["{{ /* not a comment */}}", false], ["}}", true],
  ] as const) assert.is(isPlainTextLabel(v), want, JSON.stringify(v));
});

// ---- TestProxy, on our fan-out: one endpoint that answers as testRulesClient is told ----
function rulesEndpoint(name: string, o: { response?: RulesResponse; rulesErr?: Error; recvErr?: Error }): StoreEndpoint {
  const none = async () => { throw new Error("not asked"); };
  return {
    name,
    info: async () => ({ labelSets: [], minTime: 0, maxTime: 0, componentType: "rule", supportsWithoutReplicaLabels: false, rules: true }),
    series: () => (async function* () { throw new Error("not asked"); })(),
    labelNames: none, labelValues: none,
    rules: () => {
      if (o.rulesErr) throw o.rulesErr;
      return (async function* () {
        if (o.recvErr) throw o.recvErr;
        if (o.response) yield o.response;
      })();
    },
  };
}
const groupResponse = (name: string) => create(RulesResponseSchema, { result: { case: "group", value: create(RuleGroupSchema, { name }) } });
const warningResponse = (w: string) => create(RulesResponseSchema, { result: { case: "warning", value: w } });

for (const tc of [
  { name: "rule group proxy success", strategy: PartialResponseStrategy.WARN, client: { response: groupResponse("foo") }, groups: ["foo"], warnings: [] as RegExp[] },
  { name: "warning proxy success", strategy: PartialResponseStrategy.WARN, client: { response: warningResponse("warning from client") }, groups: [], warnings: [/warning from client/] },
  { name: "warn: retrieving rules client failed", strategy: PartialResponseStrategy.WARN, client: { rulesErr: new Error("retrieving rules failed") }, groups: [], warnings: [/Rules from store test: retrieving rules failed/] },
  { name: "abort: retrieving rules client failed", strategy: PartialResponseStrategy.ABORT, client: { rulesErr: new Error("retrieving rules failed") }, error: /Rules from store test: retrieving rules failed/ },
  { name: "warn: receive failed", strategy: PartialResponseStrategy.WARN, client: { recvErr: new Error("503 from Prometheus") }, groups: [], warnings: [/Rules from store test: 503 from Prometheus/] },
  { name: "abort: receive failed", strategy: PartialResponseStrategy.ABORT, client: { recvErr: new Error("503 from Prometheus") }, error: /Rules from store test: 503 from Prometheus/ },
]) {
  test(`TestProxy/${tc.name}`, async () => {
    const proxy = new ProxyStore([rulesEndpoint("test", tc.client)]);
    const warnings: string[] = [];
    const req = create(RulesRequestSchema, { type: RulesRequest_Type.ALL, partialResponseStrategy: tc.strategy });
    const got = await proxy.fanoutRules(req, { warnings }).then((gs) => ({ gs, err: null }), (err: unknown) => ({ gs: null, err }));
    if ("error" in tc) {
      assert.is(got.gs, null, "want an error");
      assert.match(errorMessage(got.err), tc.error!);
      return;
    }
    assert.is(got.err, null);
    assert.equal(got.gs!.map((g) => g.name), tc.groups);
    assert.is(warnings.length, tc.warnings!.length, JSON.stringify(warnings));
    tc.warnings!.forEach((re, i) => assert.match(warnings[i]!, re));
  });
}

test.run();
