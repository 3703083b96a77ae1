// `bun run agent rule` flag parsing (agent/rule/flags.ts): Thanos' defaults, the exclusive flag
// groups and their error texts, --label quoting (Go's strconv.Unquote), durations in Go's and
// Prometheus' forms. Thanos' own parsing of the query and Alertmanager configurations is the oracle in
// test/integration/rule-config-thanos.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { parseFlagLabels, parseGoDuration, parseRuleFlags } from "../../../agent/rule/flags.ts";

test("Thanos' defaults", () => {
  const c = parseRuleFlags(["--query=q:9090"]);
  assert.equal(c.http, { hostname: "0.0.0.0", port: 10902 });
  assert.equal(c.grpc, { hostname: "0.0.0.0", port: 10901 });
  assert.is(c.dataDir, "data/");
  assert.equal(c.ruleFiles, ["rules/"]);
  assert.is(c.evalIntervalMs, 60_000);
  assert.is(c.resendDelayMs, 60_000);
  assert.is(c.outageToleranceMs, 3_600_000);
  assert.is(c.forGracePeriodMs, 600_000);
  assert.is(c.blockDurationMs, 7_200_000);
  assert.is(c.retentionMs, 48 * 3_600_000);
  assert.is(c.walCompression, true);
  assert.is(c.queryMethod, "POST");
  assert.is(c.queryDefaultStepMs, 1000);
  assert.is(c.queryTimeoutMs, undefined);
  assert.is(c.alertQueryTemplate, "/graph?g0.expr={{.Expr}}&g0.tab=1");
  assert.equal(c.alertmanagers, []);
  assert.is(c.remoteWrite, null);
  assert.equal(c.query[0]!.http!.endpoints, { staticAddresses: ["q:9090"], fileSD: [], scheme: "http", pathPrefix: "" });
});

test("query and alertmanager flags: required, exclusive, duplicates", () => {
  assert.throws(() => parseRuleFlags([]), /no query configuration parameter was given/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--query=a:1"]), /Address a:1 is duplicated for --query flag/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--query.config=- static_configs: [b:1]"]), /cannot be defined at the same time/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--alertmanagers.url=http://am:9093", "--alertmanagers.config=alertmanagers: []"]), /--alertmanagers.url and --alertmanagers.config\* parameters cannot be defined at the same time/);
  assert.throws(() => parseRuleFlags(["--query=ftp://a:1"]), /"ftp" is not supported scheme for address/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--query.http-method=PUT"]), /want GET or POST/);
  const c = parseRuleFlags(["--query=https://q:9090/prefix", "--alertmanagers.url=http://u:p@am:9093/x", "--alertmanagers.send-timeout=3s", "--query.timeout=0s"]);
  assert.equal(c.query[0]!.http!.endpoints, { staticAddresses: ["q:9090"], fileSD: [], scheme: "https", pathPrefix: "/prefix" });
  assert.equal(c.alertmanagers[0]!.endpoints.staticAddresses, ["am:9093"]);
  assert.is(c.alertmanagers[0]!.endpoints.pathPrefix, "/x");
  assert.equal(c.alertmanagers[0]!.client.basicAuth, { username: "u", password: "p", passwordFile: "" });
  assert.is(c.alertmanagers[0]!.timeout, 3000);
  assert.is(c.queryTimeoutMs, Infinity);
});

test("--label: Go-quoted values, sorted; errors as Thanos words them", () => {
  assert.equal(parseFlagLabels(['replica="a"', 'cluster="eu\\t1"', "raw=`x\"y`"]), [
    { name: "cluster", value: "eu\t1" }, { name: "raw", value: 'x"y' }, { name: "replica", value: "a" },
  ]);
  assert.equal(parseFlagLabels(['u="\\u00e9\\x41\\101"']), [{ name: "u", value: "éAA" }]);
  assert.throws(() => parseFlagLabels(["replica"]), /unrecognized label "replica"/);
  assert.throws(() => parseFlagLabels(["replica=a"]), /unquote label value/);
  assert.throws(() => parseFlagLabels(['a="1"', 'a="2"']), /given twice/);
});

test("durations: Go's time.ParseDuration forms and Prometheus' d/w/y", () => {
  assert.is(parseGoDuration("x", "1m30s"), 90_000);
  assert.is(parseGoDuration("x", "1.5h"), 5_400_000);
  assert.is(parseGoDuration("x", "500ms"), 500);
  assert.is(parseGoDuration("x", "2d"), 172_800_000);
  assert.is(parseGoDuration("x", "0"), 0);
  assert.throws(() => parseGoDuration("eval-interval", "5"), /--eval-interval: "5" is not a duration/);
});

test.run();
