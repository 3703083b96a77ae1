// Template expansion benchmark: typical alert annotations and labels, time per expansion, against
// Prometheus 2.42's own template package (the Go oracle, test/template/oracle.go) in the same run.
// Go's Expander parses the template on every expansion (that is what rules/alerting.go does); ours
// parses once per text (AlertTemplate.compile caches it), so both columns are shown for ours.
// Run: `npm run bench -- template` (Bun and Node) or `npx tsx bench/template.ts`.
import { execFileSync } from "node:child_process";
import { loadavg } from "node:os";
import { AlertTemplate } from "../shared/template/index.ts";
import { base, type TemplateCase } from "../test/template/corpus.ts";
import { runTemplateOracle } from "../test/lib/template-oracle.ts";
import { expandOurs } from "../test/template/run.ts";

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}` : `node ${process.version}`;
console.log(`# template benchmark on ${runtime}; load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} (${execFileSync("nproc").toString().trim()} cores)`);

const CASES: [string, string][] = [
  ["plain text", "ThanosSidecar has disappeared. Prometheus target for the component cannot be discovered."],
  ["$labels + humanize", "Thanos Query {{$labels.job}} is failing to handle {{$value | humanize}}% of requests."],
  ["$value (%v float)", "Thanos Query {{$labels.job}} has a 99th percentile latency of {{$value}} seconds for instant queries."],
  ["printf %.2f", "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is restarting {{ printf \"%.2f\" $value }} times / 10 minutes."],
  ["humanizePercentage", "{{ $value | humanizePercentage }} of the {{ $labels.job }}/{{ $labels.service }} targets in {{ $labels.namespace }} namespace are down."],
  ["if/else label", "{{ if gt $value 0.9 }}critical{{ else if gt $value 0.5 }}warning{{ else }}info{{ end }}"],
  ["range over labels", "{{ range $k, $v := $labels }}{{ $k }}={{ $v }} {{ end }}"],
  ["toLower url", "https://runbooks.example.com/{{ $labels.alertname | toLower }}#{{ $labels.job | urlquery }}"],
  ["query + first", "{{ with query \"up\" }}{{ . | first | value | humanize }}{{ end }} of the fleet"],
];

const cases: TemplateCase[] = CASES.map(([id, text]) => base(id, text, { value: "0.0523" }));

// Check we agree with Go before timing anything.
const goOut = await runTemplateOracle<{ result: string }[]>(["expand"], { cases });
for (let i = 0; i < cases.length; i++) {
  const ours = await expandOurs(cases[i]!);
  if (ours !== goOut[i]!.result) throw new Error(`${cases[i]!.id}: ours ${JSON.stringify(ours)} != Go ${JSON.stringify(goOut[i]!.result)}`);
}

const N = Number(process.env.N ?? 20000);
const goNs = await runTemplateOracle<number[]>(["bench", String(N)], { cases });

function data(c: TemplateCase) {
  return { labels: c.labels, externalLabels: c.externalLabels, externalURL: c.externalURL, value: Number(c.value) };
}

const query = async () => [{ labels: { instance: "a" }, value: 1 }, { labels: { instance: "b" }, value: 0 }];

/** ns per call: best of 5 rounds of n/5 (the machine is shared; the best round is the least disturbed). */
async function perOp(f: () => unknown | Promise<unknown>, n: number): Promise<number> {
  for (let i = 0; i < Math.min(n, 2000); i++) await f(); // warm
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let i = 0; i < n / 5; i++) await f();
    best = Math.min(best, ((performance.now() - t) * 1e6) / (n / 5));
  }
  return best;
}

console.log(`\n${N} expansions each, best of 5 rounds; ns per expansion (Go: Prometheus' Expander, which parses every time)`);
console.log(`${"template".padEnd(22)} ${"ours cached".padStart(12)} ${"ours +parse".padStart(12)} ${"Go".padStart(10)} ${"Go/ours".padStart(8)}`);
for (let i = 0; i < cases.length; i++) {
  const c = cases[i]!;
  const d = data(c);
  const opts = { timestampMs: c.tsMs, externalURL: c.funcURL ?? undefined, query };
  const t = AlertTemplate.compile(c.name, c.text);
  const sync = t.expandSync(d, opts) !== null;
  // Templates without `query` take the synchronous path the ruler uses for them.
  const cached = await perOp(sync ? () => t.expandSync(d, opts) : () => t.expand(d, opts), N);
  const withParse = await perOp(sync ? () => AlertTemplate.create(c.name, "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}" + c.text).expandSync(d, opts) : () => AlertTemplate.create(c.name, "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}" + c.text).expand(d, opts), Math.floor(N / 4));
  const go = goNs[i]!;
  console.log(`${c.id.padEnd(22)} ${cached.toFixed(0).padStart(12)} ${withParse.toFixed(0).padStart(12)} ${go.toFixed(0).padStart(10)} ${(go / cached).toFixed(1).padStart(8)}`);
}
