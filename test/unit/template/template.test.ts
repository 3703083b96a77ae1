// shared/template: text/template semantics, Prometheus' functions, error texts and the async `query`
// path. Expected outputs are Go's: many come from Prometheus 2.42's own template/template_test.go
// (cited), the rest were checked against Prometheus' template package with test/template/oracle.go;
// test/integration/template-go.test.ts compares thousands more with Go directly.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { AlertTemplate, expandTemplate, type AlertTemplateData, type ExpandOptions } from "../../../shared/template/index.ts";

const NAME = "__alert_Test";
const data: AlertTemplateData = {
  labels: { job: "api", instance: "host-1.example.com:9090", severity: "critical" },
  externalLabels: { cluster: "eu-1" },
  externalURL: "http://prom.example.com",
  value: 0.5,
};
const opts: ExpandOptions = { timestampMs: 1700000000000 };

const run = (text: string, d: Partial<AlertTemplateData> = {}, o: Partial<ExpandOptions> = {}) =>
  expandTemplate(NAME, text, { ...data, ...d }, { ...opts, ...o });

/** Runs `text` with no prefix and `.` = data, like Prometheus' tests call the Expander. */
const raw = (text: string, d: Partial<AlertTemplateData> = {}) => AlertTemplate.compileRaw("test", text).expandSync({ ...data, ...d }, opts);

test("the alert prefix: $labels, $externalLabels, $externalURL, $value", async () => {
  assert.is(await run("{{ $labels.job }} {{ $externalLabels.cluster }} {{ $externalURL }} {{ $value }}"), "api eu-1 http://prom.example.com 0.5");
  assert.is(await run("{{ .Labels.instance }} {{ .Value }}"), "host-1.example.com:9090 0.5");
  assert.is(await run("{{ $value }}", { value: 1e6 }), "1e+06");
});

test("missingkey=zero: a missing label is the empty string, a missing struct field an error", async () => {
  assert.is(await run("[{{ $labels.nope }}][{{ index $labels \"nope\" }}]"), "[][]");
  // template_test.go: "{{ .Foo }}" on a map with missingkey=zero gives "".
  assert.is(await run("{{ .Nope }}"),
    "<error expanding template: error executing template __alert_Test: template: __alert_Test:1:115: executing \"__alert_Test\" at <.Nope>: can't evaluate field Nope in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }>");
});

test("parse errors render as Prometheus' alerting rule shows them", async () => {
  assert.is(await run("{{ foo }}"), "<error expanding template: error parsing template __alert_Test: template: __alert_Test:1: function \"foo\" not defined>");
  assert.is(await run("{{ if true }}x"), "<error expanding template: error parsing template __alert_Test: template: __alert_Test:1: unexpected EOF>");
  assert.is(await run("a\n{{ $x }}"), "<error expanding template: error parsing template __alert_Test: template: __alert_Test:2: undefined variable \"$x\">");
  assert.is(await run("{{ 1 | 2 }}"), "<error expanding template: error parsing template __alert_Test: template: __alert_Test:1: non executable command in pipeline stage 2>");
  assert.is(await run("{{ \"x }}"), "<error expanding template: error parsing template __alert_Test: template: __alert_Test:1: unterminated quoted string>");
});

test("execution errors give line and byte column of the failing node", async () => {
  // Go counts columns from 0 in bytes: the prefix is 112 bytes long and "é" is two.
  assert.is(await run("é{{ humanize \"x\" }}"),
    "<error expanding template: error executing template __alert_Test: template: __alert_Test:1:117: executing \"__alert_Test\" at <humanize \"x\">: error calling humanize: strconv.ParseFloat: parsing \"x\": invalid syntax>");
  assert.is(await run("a\nbc {{ .Nope }}"),
    "<error expanding template: error executing template __alert_Test: template: __alert_Test:2:6: executing \"__alert_Test\" at <.Nope>: can't evaluate field Nope in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }>");
  assert.is(await run("{{ eq $value 1 }}"),
    "<error expanding template: error executing template __alert_Test: template: __alert_Test:1:115: executing \"__alert_Test\" at <eq $value 1>: error calling eq: incompatible types for comparison: float64 and int>");
});

test("control structures: if/else if, with/else, range over maps in key order, break, continue, variables", async () => {
  assert.is(await run("{{ if gt $value 0.9 }}a{{ else if gt $value 0.4 }}b{{ else }}c{{ end }}"), "b");
  assert.is(await run("{{ with $labels.nope }}x{{ else with $labels.job }}{{ . }}{{ end }}"), "api");
  assert.is(await run("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}"), "instance=host-1.example.com:9090;job=api;severity=critical;");
  assert.is(await run("{{ range $k, $v := $labels }}{{ if eq $k \"job\" }}{{ break }}{{ end }}{{ $k }}{{ end }}"), "instance");
  assert.is(await run("{{ range $k, $v := $labels }}{{ if eq $k \"job\" }}{{ continue }}{{ end }}{{ $k }},{{ end }}"), "instance,severity,");
  assert.is(await run("{{ range 3 }}{{ . }}{{ end }}{{ range (args).nope }}x{{ else }}none{{ end }}"), "012none");
  assert.ok((await run("{{ range $labels.nope }}{{ end }}")).endsWith("at <$labels.nope>: range can't iterate over >"));
  assert.is(await run("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ end }}{{ $x }}"), "2");
  assert.is(await run("{{- \" a \" -}}  \n  {{- \"b\" }} {{/* c */}}"), " a b ");
});

test("define, template and block", async () => {
  // template_test.go
  assert.is(await run("{{define \"x\"}}{{.arg0}} {{.arg1}}{{end}}{{template \"x\" (args 1 \"2\")}}"), "1 2");
  assert.is(await run("{{ block \"b\" $labels.job }}<{{ . }}>{{ end }}"), "<api>");
});

test("and/or short-circuit; comparisons; len, index, slice", async () => {
  assert.is(await run("{{ and 0 (humanize \"x\") }}|{{ or 1 (humanize \"x\") }}|{{ and 1 2 }}|{{ or 0 \"\" }}"), "0|1|2|");
  assert.is(await run("{{ lt 1 2 }} {{ le \"b\" \"a\" }} {{ ne 1.5 2.5 }} {{ eq 1 2 3 1 }} {{ not \"\" }}"), "true false true true true");
  assert.is(await run("{{ len $labels }} {{ len \"héllo\" }} {{ index \"abc\" 1 }} {{ slice \"abcdef\" 1 3 }}"), "3 6 98 bc");
});

test("Prometheus' humanize family (cases from template_test.go)", async () => {
  assert.is(await run("{{ range (args 0.0 1.0 1234567.0 .12) }}{{ humanize . }}:{{ end }}"), "0:1:1.235M:120m:");
  assert.is(await run("{{ range (args 0.0 1.0 1048576.0 .12) }}{{ humanize1024 . }}:{{ end }}"), "0:1:1Mi:0.12:");
  assert.is(await run("{{ range (args 0 -1 1 1234567 9223372036854775807) }}{{ humanize . }}:{{ end }}"), "0:-1:1:1.235M:9.223E:");
  assert.is(await run("{{ range (args 0 1 60 3600 86400 90000 -183845 899.99) }}{{ humanizeDuration . }}:{{ end }}"),
    "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:");
  assert.is(await run("{{ range (args .1 .0001 .12345 60.1 60.5 1.2345 12.345) }}{{ humanizeDuration . }}:{{ end }}"),
    "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:");
  assert.is(await run("{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}"),
    "-22.22%:0%:12.35%:123.5%");
  assert.is(await run("{{ range (args \"+Inf\" \"-Inf\" \"NaN\") }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}"),
    "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:");
  assert.is(await run("{{ 1435065584.128 | humanizeTimestamp }}|{{ (1435065584.128 | toTime).Format \"2006\" }}"), "2015-06-23 13:19:44.128 +0000 UTC|2015");
  assert.is(await run("{{ range (args 0 -1 1 1234567 9223372036) }}{{ humanizeTimestamp . }}:{{ end }}"),
    "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:");
  assert.ok((await run("{{ humanize \"one\" }}")).includes("error calling humanize: strconv.ParseFloat: parsing \"one\": invalid syntax"));
});

test("strings: title/toUpper/toLower use Go's simple case mapping; stripPort, stripDomain, reReplaceAll, match", async () => {
  assert.is(await run("{{ title \"hello wörld ǆemal\" }}|{{ toUpper \"straße ǆ\" }}|{{ toLower \"İ ΑΣ\" }}"), "Hello Wörld ǅemal|STRAßE Ǆ|i ασ");
  // template_test.go
  for (const [hp, want] of [["foo.example.com", "foo.example.com"], ["foo.example.com:12345", "foo.example.com"], ["192.0.2.1:12345", "192.0.2.1"],
    ["2001:0DB8::1", "2001:0DB8::1"], ["[2001:0DB8::1]:12345", "2001:0DB8::1"], ["[2001:0DB8::1]::12345", "[2001:0DB8::1]::12345"]]) {
    assert.is(await run(`{{ "${hp}" | stripPort }}`), want, hp);
  }
  assert.is(await run("{{ stripDomain \"foo.example.com:12345\" }} {{ stripDomain \"192.0.2.1:80\" }} {{ stripDomain \"[::1]:80\" }}"), "foo:12345 192.0.2.1:80 [::1]:80");
  assert.is(await run("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }} {{ reReplaceAll \"(?P<h>[^:]+):.*\" \"${h}\" $labels.instance }} {{ reReplaceAll \"x*\" \"-\" \"abc\" }}"),
    "xa host-1.example.com -a-b-c-");
  assert.is(await run("{{ match \"^api$\" $labels.job }} {{ match \"(?i)API\" $labels.job }}"), "true true");
  assert.ok((await run("{{ reReplaceAll \"(\" \"\" \"\" }}")).endsWith("error calling reReplaceAll: regexp: Compile(`(`): error parsing regexp: missing closing ): `(`>"));
});

test("query: awaited once per distinct query, samples with .Labels and .Value, errors as Go shows them", async () => {
  const asked: string[] = [];
  const query = async (q: string, t: number) => {
    asked.push(`${q}@${t}`);
    if (q === "bad") throw new Error("1:4: parse error: unexpected end of input");
    if (q === "up") return [{ labels: { instance: "b" }, value: 1 }, { labels: { instance: "a" }, value: 0 }];
    return [];
  };
  const text = "{{ range query \"up\" | sortByLabel \"instance\" }}{{ .Labels.instance }}={{ .Value }} {{ end }}" +
    "{{ with query \"up\" }}{{ (first .).Labels.instance }}{{ end }} {{ len (query \"none\") }}";
  assert.is(await run(text, {}, { query }), "a=0 b=1 b 0");
  assert.equal(asked, ["up@1700000000000", "none@1700000000000"]);
  assert.is(await run("{{ query \"bad\" }}", {}, { query }),
    "<error expanding template: error executing template __alert_Test: template: __alert_Test:1:115: executing \"__alert_Test\" at <query \"bad\">: error calling query: 1:4: parse error: unexpected end of input>");
  // template_test.go
  assert.ok((await run("{{ query \"none\" | first }}", {}, { query })).endsWith("error calling first: first() called on vector with no elements>"));
  // Without a query function Go calls a nil func.
  assert.ok((await run("{{ query \"up\" }}")).endsWith("error calling query: runtime error: invalid memory address or nil pointer dereference>"));
});

test("expandSync needs no await and declines templates that query", () => {
  const t = AlertTemplate.compile(NAME, "{{ $labels.job }} {{ $value | humanizePercentage }}");
  assert.is(t.expandSync(data, opts), "api 50%");
  assert.is(AlertTemplate.compile(NAME, "{{ query \"up\" }}").expandSync(data, opts), null);
  assert.is(AlertTemplate.compile(NAME, "{{ if false }}{{ query \"up\" }}{{ end }}ok").expandSync(data, opts), "ok");
  assert.is(AlertTemplate.compile(NAME, "{{ foo }}").parseError, "template: __alert_Test:1: function \"foo\" not defined");
  assert.is(AlertTemplate.compile(NAME, "x"), AlertTemplate.compile(NAME, "x"), "parsed once per text");
});

test("pathPrefix and externalURL: the external URL, or a nil URL as in Thanos", async () => {
  assert.is(await run("{{ pathPrefix }}|{{ externalURL }}", {}, { externalURL: "https://example.com/prom/" }), "/prom/|https://example.com/prom/");
  assert.ok((await run("{{ pathPrefix }}")).endsWith("error calling pathPrefix: runtime error: invalid memory address or nil pointer dereference>"));
  assert.is(await run("{{ pathPrefix }}", {}, { externalURL: "http://x/a", pathPrefix: "/b" }), "/b");
});

test("templates never throw, never loop forever and never eat the heap", async () => {
  assert.ok((await run("{{ range 9223372036854775807 }}{{ end }}")).endsWith("execution stopped after 1000000 steps (a limit of thanots; Go has none)>"));
  assert.ok((await run("{{ range 1000 }}{{ printf \"%100000d\" 1 }}{{ end }}")).endsWith("execution stopped after 16777216 characters of output (a limit of thanots; Go has none)>"));
  assert.ok((await run("{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}")).endsWith("exceeded maximum template depth (100000)>"));
  assert.is(raw("{{ .Value }}"), "0.5");
});

test.run();
