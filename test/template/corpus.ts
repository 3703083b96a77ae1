// The template corpus that test/integration/template-go.test.ts runs through Prometheus 2.42's own
// template package (the Go oracle) and through shared/template, requiring identical output.
// Thanos' example alerts are read from the Go module cache at test time (see thanosAlertCases).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";

export interface QueryAnswerCase {
  samples?: { labels: Record<string, string>; value: string }[];
  error?: string;
}

export interface TemplateCase {
  /** Stable key for known-failures.txt. */
  id: string;
  name: string;
  text: string;
  labels: Record<string, string>;
  externalLabels: Record<string, string>;
  externalURL: string;
  /** Float as Go's strconv.ParseFloat reads it ("NaN", "+Inf", "-0", "1e21"). */
  value: string;
  tsMs: number;
  queries: Record<string, QueryAnswerCase>;
  /** URL for pathPrefix/externalURL; null: a nil *url.URL, as Thanos passes. */
  funcURL: string | null;
}

export const DEFAULT_LABELS: Record<string, string> = {
  alertname: "HighErrorRate",
  job: "api-server",
  instance: "node-1.eu-west.example.com:9100",
  namespace: "monitoring",
  pod: "prometheus-k8s-0",
  container: "prometheus",
  severity: "critical",
  service: "kube-prometheus",
  device: "/dev/sda1",
  node: "worker-3",
  deployment: "web",
  grpc_method: "Range",
  rule_group: "/etc/rules.yaml;node",
  tenant: "team-a",
  "with-dash": "dashed",
  unicode: "straße über Ǆemal",
};

const QUERIES: Record<string, QueryAnswerCase> = {
  up: {
    samples: [
      { labels: { __name__: "up", instance: "b:9090", job: "prometheus" }, value: "1" },
      { labels: { __name__: "up", instance: "a:9090", job: "prometheus" }, value: "0" },
      { labels: { __name__: "up", instance: "c:9100", job: "node" }, value: "1" },
    ],
  },
  "up == 0": { samples: [{ labels: { __name__: "up", instance: "a:9090", job: "prometheus" }, value: "0" }] },
  "sum(rate(http_requests_total[5m]))": { samples: [{ labels: {}, value: "1234.5678" }] },
  "vector(1e21)": { samples: [{ labels: {}, value: "1e21" }] },
  "node_filesystem_free_bytes": {
    samples: [
      { labels: { device: "/dev/sda1", instance: "x:9100", mountpoint: "/" }, value: "1073741824" },
      { labels: { device: "/dev/sdb1", instance: "x:9100", mountpoint: "/data" }, value: "5.5e11" },
    ],
  },
  "strval": { samples: [{ labels: { __value__: "the string value", name: "s" }, value: "0" }] },
  "empty": { samples: [] },
  "broken(": { error: "1:8: parse error: unclosed left parenthesis" },
  "timeout": { error: "query timed out in expression evaluation" },
  "nan": { samples: [{ labels: { k: "v" }, value: "NaN" }] },
};

export function base(id: string, text: string, over: Partial<TemplateCase> = {}): TemplateCase {
  return {
    id,
    name: "__alert_HighErrorRate",
    text,
    labels: DEFAULT_LABELS,
    externalLabels: { cluster: "eu-1", replica: "a" },
    externalURL: "http://prometheus.example.com:9090",
    value: "0.5",
    tsMs: 1700000000123,
    queries: QUERIES,
    funcURL: "http://prometheus.example.com:9090/prom",
    ...over,
  };
}

/** Every label and annotation template in Thanos v0.41.0's examples/alerts/alerts.yaml. */
export function thanosAlertCases(): TemplateCase[] {
  const dir = thanosModuleDir();
  const doc = parseYaml(readFileSync(join(dir, "examples/alerts/alerts.yaml"), "utf8")) as {
    groups: { rules: { alert?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
  };
  const out: TemplateCase[] = [];
  const values = ["0.05234", "12.5", "1e+06", "3"];
  for (const g of doc.groups) {
    for (const r of g.rules) {
      if (r.alert === undefined) continue;
      const texts = { ...(r.labels ?? {}), ...(r.annotations ?? {}) };
      for (const [k, text] of Object.entries(texts)) {
        for (const v of values) {
          out.push(base(`thanos ${r.alert}.${k} v=${v}`, text, { name: `__alert_${r.alert}`, value: v, labels: { ...DEFAULT_LABELS, alertname: r.alert } }));
        }
      }
    }
  }
  return out;
}

let thanosDir: string | undefined;
function thanosModuleDir(): string {
  if (thanosDir !== undefined) return thanosDir;
  const cached = "/root/go/pkg/mod/github.com/thanos-io/thanos@v0.41.0";
  if (existsSync(join(cached, "examples/alerts/alerts.yaml"))) return (thanosDir = cached);
  const out = execFileSync("go", ["mod", "download", "-json", "github.com/thanos-io/thanos@v0.41.0"], {
    encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" }, cwd: "/tmp",
  });
  return (thanosDir = (JSON.parse(out) as { Dir: string }).Dir);
}

// kube-prometheus / kubernetes-mixin / node-mixin style annotations (written for this corpus in the
// forms those mixins use).
const KUBE = [
  "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is restarting {{ printf \"%.2f\" $value }} times / 10 minutes.",
  "Pod {{ $labels.namespace }}/{{ $labels.pod }} has been in a non-ready state for longer than 15 minutes.",
  "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has not matched the expected number of replicas for longer than 15 minutes.",
  "{{ printf \"%.4g\" $value }}% of the {{ $labels.job }}/{{ $labels.service }} targets in {{ $labels.namespace }} namespace are down.",
  "{{ $value | humanizePercentage }} of the {{ $labels.job }}/{{ $labels.service }} targets in {{ $labels.namespace }} namespace are down.",
  "Cluster has overcommitted CPU resource requests for Pods by {{ $value }} CPU shares and cannot tolerate node failure.",
  "Filesystem on {{ $labels.device }} at {{ $labels.instance }} has only {{ printf \"%.2f\" $value }}% available space left and is filling up.",
  "{{ $labels.instance }} interface {{ $labels.device }} has encountered {{ printf \"%.0f\" $value }} receive errors in the last two minutes.",
  "Kubelet '{{ $labels.node }}' is running at {{ $value | humanizePercentage }} of its Pod capacity.",
  "Job {{ $labels.namespace }}/{{ $labels.job_name }} is taking more than {{ \"43200\" | humanizeDuration }} to complete.",
  "PVC {{ $labels.persistentvolumeclaim }} in namespace {{ $labels.namespace }} {{ with $labels.cluster -}} on Cluster {{ . }} {{- end }} is only {{ $value | humanizePercentage }} free.",
  "{{ $labels.job }} Alertmanager {{ $labels.instance }} failed to send {{ $value | humanizePercentage }} of notifications to {{ $labels.integration }}.",
  "Prometheus {{$labels.namespace}}/{{$labels.pod}} has failed to evaluate {{ printf \"%.0f\" $value }} rules in the last 5m.",
  "Prometheus {{$labels.namespace}}/{{$labels.pod}} remote write is {{ printf \"%.1f\" $value }}s behind for {{ $labels.remote_name}}:{{ $labels.url }}.",
  "etcd cluster \"{{ $labels.job }}\": {{ $value }}% of requests for {{ $labels.grpc_method }} failed on etcd instance {{ $labels.instance }}.",
  "etcd cluster \"{{ $labels.job }}\": 99th percentile commit durations {{ $value }}s on etcd instance {{ $labels.instance }}.",
  "Memory on {{ $labels.instance }}: {{ $value | humanize1024 }}B used.",
  "Disk on {{ $labels.instance }} will be full in {{ $value | humanizeDuration }}.",
  "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/{{ $labels.alertname | toLower }}",
  "{{ $labels.alertname }} on {{ $labels.instance | stripPort }} ({{ $labels.instance | stripDomain }})",
  "API server is returning errors for {{ $value | humanizePercentage }} of requests for {{ $labels.verb }} {{ $labels.resource }} {{ $labels.subresource }}.",
  "Node {{ $labels.node }} has been unready for more than 15 minutes.",
  "The readiness status of node {{ $labels.node }} has changed {{ $value }} times in the last 15 minutes.",
  "Summary: {{ $labels.alertname }} [{{ $labels.severity | toUpper }}] {{ $externalLabels.cluster }}",
  "{{ $externalURL }}/alerts?search={{ $labels.alertname | urlquery }}",
  "{{ $externalURL }}{{ graphLink \"rate(http_requests_total{job=\\\"api\\\"}[5m]) > 0.5\" }}",
  "{{ tableLink \"up == 0\" }}",
  "Value is {{ .Value }}, labels {{ .Labels.job }}, external {{ .ExternalLabels.replica }}, url {{ .ExternalURL }}",
  "{{ if gt $value 0.9 }}critical{{ else if gt $value 0.5 }}warning{{ else }}info{{ end }}",
  "{{ with $labels.missing }}has {{ . }}{{ else }}none{{ end }}",
  "{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
  "{{ range $labels }}{{ . }},{{ end }}",
  "{{- /* a comment */ -}} trimmed {{- \" x \" -}} done",
  "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
  "{{ define \"d\" }}[{{ .job }}]{{ end }}{{ template \"d\" $labels }}",
  "{{ block \"b\" $labels.severity }}<{{ . }}>{{ end }}",
  "{{ $labels.with-dash }}",
  "{{ index $labels \"with-dash\" }}",
  "{{ $labels.unicode | title }} {{ $labels.unicode | toUpper }} {{ $labels.unicode | toLower }}",
  "{{ reReplaceAll \"([a-z]+)-([0-9]+)\" \"$2/$1\" \"node-1 pod-22 x\" }}",
  "{{ reReplaceAll \"(?P<host>[^:]+):(?P<port>.*)\" \"${port}@${host}\" $labels.instance }}",
  "{{ if match \"^node-\" $labels.instance }}node{{ else }}other{{ end }}",
  "{{ with query \"up\" }}{{ . | first | value }} of {{ len . }}{{ end }}",
  "{{ range query \"up\" }}{{ .Labels.instance }}={{ .Value }} {{ end }}",
  "{{ range query \"up\" | sortByLabel \"instance\" }}{{ .Labels.instance }} {{ end }}",
  "{{ with query \"up == 0\" }}{{ range . }}{{ label \"instance\" . }} is down{{ end }}{{ else }}all up{{ end }}",
  "{{ (query \"sum(rate(http_requests_total[5m]))\" | first | value) | humanize }} req/s",
  "{{ query \"strval\" | first | strvalue }}",
  "{{ with query \"empty\" }}some{{ else }}empty{{ end }}",
  "{{ query \"empty\" | first }}",
  "{{ query \"broken(\" }}",
  "{{ with query \"timeout\" }}{{ . }}{{ end }}",
  "{{ query \"not in the fixture\" }}",
  "{{ (query \"nan\" | first).Value }} {{ (query \"nan\" | first).Labels }}",
  "{{ query \"up\" | first }}",
  "{{ $r := query \"up\" }}{{ $s := sortByLabel \"instance\" $r }}{{ range $r }}{{ .Labels.instance }} {{ end }}",
  "{{ pathPrefix }} {{ externalURL }}",
];

/** $value edge cases: Go's float formatting and the humanize family. */
const VALUES = [
  "0", "-0", "1", "-1", "0.1", "0.5", "1.5", "2.5", "0.125", "0.30000000000000004", "1e21", "1e20", "123456789",
  "1234567", "1e6", "999999.5", "1e-7", "1e-9", "1e-5", "0.0001", "5e-324", "1.7976931348623157e308", "NaN", "+Inf",
  "-Inf", "3.14159", "-1500", "59.9", "3600", "90061", "86400", "1e9", "1700000000.123", "1e15", "0.0025", "0.05",
  "99.995", "1024", "1048576", "1023.9", "-0.0001", "12345.6789", "0.9999", "1e100", "-1e-300", "2147483648",
  "9007199254740993", "0.000123456", "123.456e10", "-90061.5", "1e19", "1e-20",
];

const VALUE_TEMPLATES = [
  "{{ $value }}",
  "{{ humanize $value }}",
  "{{ humanize1024 $value }}",
  "{{ humanizeDuration $value }}",
  "{{ humanizePercentage $value }}",
  "{{ humanizeTimestamp $value }}",
  "{{ printf \"%.2f|%g|%e|%v|%5.1f|%08.3f|%+.1e|%G|%E\" $value $value $value $value $value $value $value $value $value }}",
  "{{ printf \"%x|%X|%.3x|%b\" $value $value $value $value }}",
  "{{ printf \"%#v|%#g|%#.3g|% .2f|%-12.4g|\" $value $value $value $value $value }}",
  "{{ toTime $value }}",
  "{{ print $value }} {{ println $value }}",
];

const STRINGS = [
  "hello world", "HELLO", "straße", "ǆemal ǳ ǉ", "İstanbul ıi", "ΑΣ σς", "hello_world-foo.bar", "o'neil mc-donald",
  "émilie dupont", "日本語 テキスト", "ﬁne ﬂow", "ᾳ ᾀ", "123abc 4_5", "a\tb\nc", "", "  leading", "ǅ", "Ω℧", "ⓐⓑ",
  "𐐨𐐩 deseret", "tschüß",
];

const STRING_TEMPLATES = [
  "{{ title .Labels.s }}",
  "{{ toUpper .Labels.s }}",
  "{{ toLower .Labels.s }}",
  "{{ printf \"%q|%s|%10s|%-10s|%.3s|%x|% X|%+q|%#q\" .Labels.s .Labels.s .Labels.s .Labels.s .Labels.s .Labels.s .Labels.s .Labels.s .Labels.s }}",
  "{{ len .Labels.s }} {{ html .Labels.s }} {{ js .Labels.s }} {{ urlquery .Labels.s }}",
  "{{ stripPort .Labels.s }}|{{ stripDomain .Labels.s }}",
  "{{ reReplaceAll \"[aeiou]\" \"*\" .Labels.s }}|{{ reReplaceAll \"x*\" \"-\" .Labels.s }}",
  "{{ graphLink .Labels.s }}",
  "{{ humanize .Labels.s }}",
];

const HOSTS = [
  "host:9090", "host.example.com:9090", "host.example.com", "10.0.0.1:80", "10.0.0.1", "[::1]:9090", "::1", "[fe80::1%eth0]:80",
  "2001:db8::1", "a.b.c", ":9090", "host:", "[::1]", "01.2.3.4:5", "1.2.3.4.5", "::ffff:1.2.3.4", "host:a:b", "[host]:1",
  "1.2.3", "localhost", "x.y:z:1",
];

const SYNTAX = [
  // printf and friends
  "{{ printf \"%d %5d %-5d| %05d %x %X %o %b %c %q %U %#U\" 42 42 42 42 255 255 8 5 65 65 128512 128512 }}",
  "{{ printf \"%t %v %s\" true false \"x\" }}",
  "{{ printf \"%s %d\" \"only one\" }}",
  "{{ printf \"%d\" \"str\" }}",
  "{{ printf \"%s\" 1.5 }}",
  "{{ printf \"no verbs\" 1 \"a\" }}",
  "{{ printf \"%!\" }} {{ printf \"%\" }} {{ printf \"%z\" 1 }}",
  "{{ printf \"%[2]s %[1]s\" \"a\" \"b\" }} {{ printf \"%[3]d\" 1 }}",
  "{{ printf \"%*d|%-*d|%.*f\" 5 1 5 2 2 3.14159 }}",
  "{{ printf \"%v %v\" $labels .ExternalLabels }}",
  "{{ printf \"%q\" $labels }} {{ printf \"%+v\" . }}",
  "{{ printf \"%T %T %T %T %T %T\" $value $labels \"s\" 1 true nil }}",
  "{{ printf \"%v|%d\" nil nil }}",
  "{{ printf \"%6.2f%%\" 12.3456 }}",
  "{{ printf \"%s\" (args 1 \"a\" 2.5 true) }}",
  "{{ print 1 2 \"a\" \"b\" 3 true nil }}",
  "{{ println \"a\" 1 2.5 }}",
  "{{ print }}|{{ println }}|",
  "{{ printf \"%v\" (query \"up\" | first) }}",
  "{{ printf \"%v %d %s\" 'a' 'a' 'a' }}",
  "{{ 1 }} {{ 1.5 }} {{ 1e3 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 'x' }} {{ -0 }} {{ +3 }} {{ .5 }} {{ 0x1p-2 }}",
  "{{ 1i }} {{ 1+2i }}",
  "{{ 11+i }}", "{{ 1-2i }} {{ 1e3+2e-1i }} {{ 0x1p2+1i }} {{ 1_0+1i }} {{ -1-1i }} {{ 1.5+0i }} {{ 1e+3i }}", "{{ 0x10+1i }}",
  "{{ 1+0b1i }}", "{{ 1p2+1i }}", "{{ eq 1i 1i }} {{ printf \"%v %.2f %g\" 1+2i 1.5-1i 1e3i }}", "{{ lt 1i 2i }}",
  "{{ 9223372036854775807 }}",
  "{{ 9223372036854775808 }}",
  "{{ 18446744073709551616 }}",
  "{{ \"a\\tb\\u00e9\\x41\\101\" }} {{ `raw\\n` }}",
  // comparisons and logic
  "{{ eq 1 1 }} {{ eq 1 2 3 1 }} {{ ne \"a\" \"b\" }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt 1.5 1.4 }} {{ ge \"b\" \"a\" }}",
  "{{ eq $value 0.5 }} {{ eq .Labels.job \"api-server\" }} {{ eq $labels.nope \"\" }}",
  "{{ eq $value 1 }}",
  "{{ lt \"a\" 1 }}",
  "{{ lt true false }}",
  "{{ eq $labels $labels }}",
  "{{ eq nil nil }} {{ eq 1 }}",
  "{{ and 1 0 2 }} {{ or 0 \"\" \"x\" }} {{ and }} ",
  "{{ and 1 0 }} {{ or 0 2 }} {{ not 0 }} {{ not \"x\" }} {{ and $labels $value }}",
  "{{ if and (gt $value 0.1) (eq $labels.severity \"critical\") }}page{{ end }}",
  "{{ if not $labels.nope }}missing{{ end }}",
  "{{ 0 | not }} {{ \"\" | or \"dflt\" }}",
  // len index slice
  "{{ len $labels }} {{ len \"héllo\" }} {{ len (query \"up\") }}",
  "{{ len 3 }}",
  "{{ len nil }}",
  "{{ index $labels \"job\" }} {{ index $labels \"nope\" }}|{{ index \"abc\" 1 }} {{ index (query \"up\") 1 }}",
  "{{ index \"abc\" 3 }}",
  "{{ index \"abc\" 5 }}",
  "{{ index $labels 1 }}",
  "{{ index 1 1 }}",
  "{{ index nil 1 }}",
  "{{ slice \"abcdef\" 1 3 }} {{ slice \"abcdef\" 2 }} {{ slice \"abcdef\" }} {{ len (slice (query \"up\") 1) }}",
  "{{ slice \"abc\" 2 1 }}",
  "{{ slice \"abc\" 1 2 3 }}",
  // html js urlquery
  "{{ html \"<a href='x'>&\\\"</a>\" }} {{ js \"<script>alert('x' + \\\"y\\\")</script>=\\\\\" }} {{ urlquery \"a b&c=d/é\" }}",
  "{{ html 1 2 }} {{ urlquery nil }} {{ js $labels.nope }}",
  "{{ \"a<b\" | html }} {{ safeHtml \"<b>\" }} {{ safeHtml \"x\" | printf \"%T\" }}",
  "{{ toUpper (safeHtml \"x\") }}",
  // variables and scopes
  "{{ $a := \"outer\" }}{{ with $labels.job }}{{ $a := \"inner\" }}{{ $a }}{{ end }} {{ $a }}",
  "{{ range $i, $e := query \"up\" }}{{ $i }}:{{ $e.Labels.instance }} {{ end }}",
  "{{ range $i, $e := $labels }}{{ if eq $i \"job\" }}{{ break }}{{ end }}{{ $i }} {{ end }}",
  "{{ range $k, $v := $labels }}{{ if eq $k \"device\" \"node\" }}{{ continue }}{{ end }}{{ $k }},{{ end }}",
  "{{ range 3 }}{{ . }}{{ end }} {{ range $i := 2 }}[{{ $i }}]{{ end }} {{ range 0 }}x{{ else }}none{{ end }}",
  "{{ range $a, $b := 3 }}{{ end }}",
  "{{ range $value }}{{ end }}",
  "{{ range \"abc\" }}{{ . }}{{ end }}",
  "{{ range .Labels.nope }}x{{ else }}empty{{ end }}",
  "{{ range $x := query \"empty\" }}x{{ else }}no results{{ end }}",
  "{{ $v := 0 }}{{ range $v = query \"up\" }}{{ end }}{{ len $v }}",
  "{{ with $value }}{{ . }}{{ end }} {{ with 0 }}zero{{ else }}falsy{{ end }} {{ with $x := \"y\" }}{{ $x }}{{ end }}",
  "{{ with $labels.nope }}a{{ else with $labels.job }}b={{ . }}{{ end }}",
  "{{ if 0 }}a{{ else if \"\" }}b{{ else if $labels }}c{{ end }}",
  "{{ if 1.5 }}y{{ end }}{{ if -0.0 }}n{{ end }}{{ if $labels.nope }}n{{ end }}{{ if .ExternalLabels }}ext{{ end }}",
  "{{ $ü := 1 }}{{ $ü }} {{ $labels.unicode }} {{ $x1 := 2 }}{{ $x1 }} {{ $_ := 3 }}{{ $_ }}",
  "{{ $labels.über }}",
  "{{ range $labels }}{{ $.Value }}{{ $.Labels.job }}{{ break }}{{ end }} {{ with $labels.job }}{{ $.ExternalURL }}{{ end }}",
  "{{ range $i, $e := query \"up\" }}{{ $i }}{{ . }}{{ $e.Value }}|{{ end }}",
  "{{ len (query \"up\" | first) }}",
  "{{ range (query \"up\" | first).Labels }}{{ . }},{{ end }}",
  "{{ (query \"up\" | first).Labels.instance | toUpper }} {{ with query \"up\" | first }}{{ .Value | humanize }}{{ end }}",
  "{{ html (query \"up\" | first) }} {{ print (query \"up\" | first) }} {{ printf \"%+v\" (query \"up\" | first) }}",
  "{{ slice (query \"up\") 1 2 3 | len }} {{ slice (query \"up\") 0 3 4 }}",
  "{{- -}}|{{-3}}|{{- 3}}|{{3 -}}|{{- /* c */ -}}|{{/* c */ -}} x",
  "{{/* c */ 1}}",
  "{{ $x := \"a\" }}{{ define \"t\" }}{{ $ }}{{ end }}{{ template \"t\" $x }}",
  // templates
  "{{ define \"a\" }}A{{ template \"b\" . }}{{ end }}{{ define \"b\" }}B{{ .job }}{{ end }}{{ template \"a\" $labels }}",
  "{{ template \"missing\" }}",
  "{{ define \"r\" }}{{ template \"r\" }}{{ end }}{{ template \"r\" }}",
  "{{ define \"v\" }}{{ $value }}{{ end }}",
  "{{ define \"x\" }}{{ .Value }}{{ end }}{{ template \"x\" . }} {{ template \"x\" }}",
  "{{ define \"x\" }}1{{ end }}{{ define \"x\" }}2{{ end }}",
  "{{ define \"__alert_HighErrorRate\" }}override{{ end }}",
  // fields
  "{{ .Labels.job.x }}",
  "{{ $value.x }}",
  "{{ .labels }}",
  "{{ .Labels \"x\" }}",
  "{{ $labels.job \"x\" }}",
  "{{ (query \"up\" | first).Labels.instance }} {{ (query \"up\" | first).Nope }}",
  "{{ (toTime 1700000000.5).Format \"2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3:04PM MST\" }}",
  "{{ $t := toTime $value }}{{ $t.Year }} {{ $t.Month }} {{ $t.Weekday }} {{ $t.YearDay }} {{ $t.UnixMilli }} {{ $t.UTC }} {{ $t.Unix }}",
  "{{ (toTime 1).wall }}",
  "{{ (toTime 1).Nope }}",
  "{{ (toTime 1).Format }}",
  "{{ toTime \"NaN\" }}",
  "{{ toTime 1e300 }}",
  "{{ humanizeTimestamp 1e300 }}",
  // time.Time from toTime: methods, Format layouts, fields as fmt prints them
  "{{ printf \"%d|%v|%+v|%5.1f|%s\" (toTime 1.5) (toTime -0.25).UTC (toTime 1).UTC (toTime 2) (toTime 3) }}",
  "{{ eq (toTime 1).UTC (toTime 1).UTC }} {{ eq (toTime 1) (toTime 1) }} {{ eq (toTime 1).UTC (toTime 2).UTC }}",
  "{{ $t := toTime 1 }}{{ eq $t $t }} {{ (toTime 1).constructor }}",
  "{{ (toTime 1700000000.123).Format \"Mon Monday Jan January 1 01 2 _2 02 __2 002 15 3 03 4 04 5 05 2006 06 PM pm MST Z0700 Z07:00 -0700 -07:00 -07 .000 .999 ,000 .9 Janet\" }}",
  "{{ (toTime 1700000000.123).Format \"_2006 2006-01-02T15:04:05.999999999Z07:00 .0 .00 .000000000 05.9\" }}",
  "{{ (toTime 0).Month }} {{ printf \"%d %v %s\" (toTime 0).Month (toTime 0).Weekday (toTime 0).YearDay }}",
  "{{ (toTime -1e9).Year }} {{ humanizeTimestamp -1e10 }} {{ toTime -1e10 }}",
  "{{ printf \"%v\" (toTime 1) }} {{ print (toTime 1) }} {{ (toTime 1).UnixNano }} {{ (toTime 1.001).UnixMilli }} {{ (toTime 1).IsZero }} {{ (toTime 86399.999).Hour }}:{{ (toTime 86399.999).Minute }}:{{ (toTime 86399.999).Second }}.{{ (toTime 86399.999).Nanosecond }}",
  "{{ printf \"%#v|%#v|%#v|%#v\" (toTime 1) (toTime 1.5).UTC (toTime 0).Month (toTime 0).Weekday }}",
  // calls and conversions
  "{{ humanize \"1234\" }} {{ humanize 1234 }} {{ humanize \"0x10\" }} {{ humanize \"1e3\" }} {{ humanize \"inf\" }} {{ humanize \"-Infinity\" }}",
  "{{ humanize \"50%\" }}",
  "{{ humanize \"1e400\" }}",
  "{{ humanize true }}",
  "{{ humanize nil }}",
  "{{ humanize (index \"a\" 0) }}",
  "{{ humanize 1 2 }}",
  "{{ humanize }}",
  "{{ title 1 }}",
  "{{ title nil }}",
  "{{ title $labels }}",
  "{{ \"x\" | title | toUpper | printf \"%s!\" }}",
  "{{ 1 | printf \"%d\" }} {{ \"a\" | printf \"%s-%s\" \"b\" }}",
  "{{ $labels | len }} {{ 1 | len }}",
  "{{ call $value }}",
  "{{ call nil }}",
  "{{ \"x\" 1 }}",
  "{{ $labels 1 }}",
  "{{ nil }}",
  "{{ (1) 2 }}",
  "{{ args 1 \"two\" 3.5 }} {{ (args 1 2).arg1 }} {{ (args).nope }}|{{ (args nil).arg0 }}",
  "{{ parseDuration \"1h30m\" }} {{ parseDuration \"1y2w3d4h5m6s7ms\" }} {{ parseDuration \"0\" }} {{ parseDuration \"500ms\" }}",
  "{{ parseDuration \"1.5h\" }}",
  "{{ parseDuration \"\" }}",
  "{{ parseDuration \"300y\" }}",
  "{{ parseDuration \"99999999999999999999s\" }}",
  "{{ match \"(\" \"x\" }}",
  "{{ reReplaceAll \"(\" \"x\" \"y\" }}",
  "{{ reReplaceAll \"a(\" \"x\" \"y\" }}",
  "{{ reReplaceAll \"`\" \"x\" \"y\" }}{{ reReplaceAll \"(?i)B\" \"[$0$$]\" \"abcB\" }}{{ reReplaceAll \"\" \"-\" \"héllo\" }}",
  "{{ reReplaceAll \"(a)|(b)\" \"<$1|$2|${1}x|$1x|$9|$x>\" \"ab\" }}",
  "{{ reReplaceAll \"^\" \">\" \"a\\nb\" }} {{ reReplaceAll \"(?m)^\" \">\" \"a\\nb\" }} {{ reReplaceAll \"\\\\b\" \"|\" \"ab cd\" }}",
  "{{ match \"^a.c$\" \"abc\" }} {{ match \"b\" \"abc\" }} {{ match \"(?i)ABC\" \"abc\" }} {{ match \"\\\\d+\" \"x\" }}",
  "{{ stripDomain \"a.b.c:80\" }} {{ stripPort \"[::1]:80\" }}",
  "{{ first nil }}",
  "{{ label \"x\" nil }}",
  "{{ value nil }}",
  "{{ first \"x\" }}",
  "{{ sortByLabel \"x\" nil }}",
  "{{ pathPrefix 1 }}",
  // parse errors
  "{{ $value",
  "{{ if true }}x",
  "{{ end }}",
  "{{ else }}",
  "{{ if }}x{{ end }}",
  "{{ range }}{{ end }}",
  "{{ $undefined }}",
  "{{ foo }}",
  "{{ 1 | 2 }}",
  "{{ .Labels | \"x\" }}",
  "{{ 3x }}",
  "{{ 1.2.3 }}",
  "{{ \"unterminated }}",
  "{{ `unterminated }}",
  "{{ 'ab' }}",
  "{{ '' }}",
  "{{ \"\\q\" }}",
  "{{ ( }}",
  "{{ ) }}",
  "{{ (1 }}",
  "{{ $x := 1 2 := }}",
  "{{ $a, $b := 1 }}",
  "{{ range $a, $b, $c := $labels }}{{ end }}",
  "{{ range $a, 1 }}{{ end }}",
  "{{ break }}",
  "{{ range $labels }}{{ break 1 }}{{ end }}",
  "{{ with $labels }}{{ continue }}{{ end }}",
  "{{ define \"x\" }}",
  "{{ define 1 }}{{ end }}",
  "{{ template }}",
  "{{ template \"a\" 1 2 }}",
  "{{ block \"b\" }}{{ end }}",
  "{{ /* unclosed comment }}",
  "{{ /* c */ 1 }}",
  "{{ 1 }",
  "{{ \u0001 }}",
  "{{ $x.%y }}",
  "{{ $x := 1 }}{{ $x.y.z }}",
  "{{ 1.x }}",
  "{{ nil.x }}",
  "{{ \"a\".b }}",
  "{{ (nil).x }}",
  "{{ if true }}{{ else }}{{ else }}{{ end }}",
  "{{ if true }}{{ end }}{{ end }}",
  "line1\nline2 {{ $value }}\nline3 {{ .Nope }}",
  "multi\nline {{ if\ntrue }}",
  "{{ 1 }}\n\n{{ \"é\" }} {{ humanize \"é\" }}",
  "😀 {{ humanize \"x\" }}",
  "{{ printf \"%d%%\" 5 | humanize }}",
  "{{ \"a%b\" | humanize }}",
  "{{-1}} {{- -1 -}} {{ -1 -}}x",
  "{{- \" a \" }}  \n {{- \" b \" -}}  \n  c",
  "{{ 1 -}}\n\t x",
  "{{\"x\"}}{{/**/}}{{- /* c */ -}} y",
  "",
  "plain text only",
  "{{ \"{{\" }} }} {{ \"}}\" }}",
];

function withString(id: string, text: string, s: string): TemplateCase {
  return base(id, text, { labels: { ...DEFAULT_LABELS, s } });
}

/** Hand-written texts (kube-style and syntax cases), for mutation. */
export const CORPUS_TEXTS: readonly string[] = [...KUBE, ...SYNTAX];

export function builtinCorpus(): TemplateCase[] {
  const out: TemplateCase[] = [];
  KUBE.forEach((t, i) => {
    out.push(base(`kube#${i}`, t));
    out.push(base(`kube#${i} v=1e21`, t, { value: "1e21" }));
    out.push(base(`kube#${i} thanos-url`, t, { value: "0.0001", funcURL: null, labels: { job: "j" } }));
  });
  for (const v of VALUES) VALUE_TEMPLATES.forEach((t, i) => out.push(base(`value#${i} v=${v}`, t, { value: v })));
  for (const s of STRINGS) STRING_TEMPLATES.forEach((t, i) => out.push(withString(`string#${i} s=${JSON.stringify(s)}`, t, s)));
  for (const h of HOSTS) out.push(withString(`host s=${h}`, "{{ stripPort .Labels.s }}|{{ stripDomain .Labels.s }}", h));
  SYNTAX.forEach((t, i) => out.push(base(`syntax#${i}`, t)));
  // No external labels, odd names and empty data.
  out.push(base("empty-data", "{{ $labels }}|{{ $externalLabels }}|{{ .Labels.x }}|{{ $value }}", { labels: {}, externalLabels: {}, externalURL: "", value: "0" }));
  out.push(base("name-with-percent", "{{ .Nope }}", { name: "__alert_50%" }));
  out.push(base("name-quote", "{{ .Nope }}", { name: "__alert_a\"b" }));
  out.push(base("url-path", "{{ pathPrefix }}|{{ externalURL }}", { funcURL: "https://example.com/some/prefix/" }));
  out.push(base("url-root", "{{ pathPrefix }}|{{ externalURL }}", { funcURL: "http://localhost:9090" }));
  return out;
}
