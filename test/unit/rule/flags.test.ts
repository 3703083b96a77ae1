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
  assert.is(c.query[0]!.targets[0]!.urlFor(c.query[0]!.targets[0]!.host!), "http://q:9090");
});

test("query and alertmanager flags: required, exclusive, duplicates", () => {
  assert.throws(() => parseRuleFlags([]), /no query configuration parameter was given/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--query=a:1"]), /Address a:1 is duplicated for --query flag/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--query.config=- static_configs: [b:1]"]), /cannot be defined at the same time/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--alertmanagers.url=http://am:9093", "--alertmanagers.config=alertmanagers: []"]), /--alertmanagers.url and --alertmanagers.config\* parameters cannot be defined at the same time/);
  assert.throws(() => parseRuleFlags(["--query=ftp://a:1"]), /scheme "ftp" is not http or https/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--alertmanagers.url=am:9093"]), /has no scheme/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--query.http-method=PUT"]), /want GET or POST/);
  const c = parseRuleFlags(["--query=https://q:9090/prefix", "--query=dns+querier:10902", "--alertmanagers.url=http://u:p@am:9093/x",
    "--alertmanagers.url=dns+http://am-headless", "--alertmanagers.send-timeout=3s", "--query.timeout=0s"]);
  const q0 = c.query[0]!.targets[0]!;
  assert.is(q0.urlFor(q0.host!), "https://q:9090/prefix");
  assert.equal(c.query[1]!.targets[0]!.lookup, { qtype: "dns", name: "querier", port: 10902 });
  const a0 = c.alertmanagers[0]!;
  assert.is(a0.targets[0]!.urlFor(a0.targets[0]!.host!), "http://am:9093/x");
  assert.equal(a0.client.basicAuth, { username: "u", password: "p", passwordFile: "" });
  assert.is(a0.timeoutMs, 3000);
  assert.is(a0.apiVersion, "v2");
  assert.equal(c.alertmanagers[1]!.targets[0]!.lookup, { qtype: "dns", name: "am-headless", port: 9093 }, "Thanos' default Alertmanager port for dns+");
  assert.is(c.queryTimeoutMs, Infinity);
});

test("query and alerting configuration files: Thanos' YAML, file SD, api_version, timeout", () => {
  const c = parseRuleFlags([
    `--query.config=- static_configs: ["q1:9090", "dnssrv+_http._tcp.q"]\n  scheme: https\n  path_prefix: /thanos\n  http_config: {bearer_token: t}\n- file_sd_configs: [{files: ["/x/*.yml"], refresh_interval: 1m}]\n`,
    `--alertmanagers.config=alertmanagers:\n- static_configs: ["am1:9093"]\n  timeout: 5s\n  api_version: v1\n`,
  ]);
  assert.is(c.query.length, 2);
  assert.is(c.query[0]!.targets[0]!.urlFor("q1:9090"), "https://q1:9090/thanos");
  assert.equal(c.query[0]!.targets[1]!.lookup, { qtype: "dnssrv", name: "_http._tcp.q" });
  assert.is(c.query[0]!.client.bearerToken, "t");
  assert.equal(c.query[1]!.fileSd!.files, ["/x/*.yml"]);
  assert.is(c.query[1]!.fileSd!.refreshMs, 60_000);
  assert.is(c.alertmanagers[0]!.timeoutMs, 5000);
  assert.is(c.alertmanagers[0]!.apiVersion, "v1");
  assert.throws(() => parseRuleFlags(["--query.config=- static_configz: [a]"]), /field static_configz not found/);
  assert.throws(() => parseRuleFlags(["--query=a:1", "--alertmanagers.config=alertmanagers:\n- api_version: v3\n"]), /expected Alertmanager API version to be one of \[v1 v2\] but got "v3"/);
  assert.throws(() => parseRuleFlags(["--query.config=- grpc_config: {endpoint_addresses: [a:1]}"]), /grpc_config/);
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
