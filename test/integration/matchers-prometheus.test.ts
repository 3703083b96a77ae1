// Matchers and Go quoting checked against a real Prometheus 2.42: promtool backfills one series per
// tricky label value; for each matcher, the set of series /api/v1/series returns for
// {__name__="m", l<op>"<re>"} must equal the set our matcher accepts, and matchers Prometheus rejects
// must be rejected by us with the same message. `promtool tsdb dump` is the oracle for goQuote.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../lib/proc.ts";
import { promApi, promtool, promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { errorCode } from "../../shared/encoding/errors.ts";
import { getLabel, goQuote, labelsFrom, labelsString, type Labels } from "../../shared/labels/labels.ts";
import { newMatcher, type MatchType } from "../../shared/labels/matcher.ts";

const VALUES = [
  "foo", "Foo", "FOO", "foobar", "barfoo", "xfoox", "bar", "baz", "a.b", "a/b", "axb", "a\nb", "line1\nline2",
  "\n", "ü", "Ü", "日本語", "émoji😀", "k", "K", "\u212a", "\u017f", "s", "S", "straße", "STRASSE", "STRAßE",
  " space ", "tab\tx", 'quote"q', "back\\slash", "123", "\u0663", "0x1F", "a", "aa", "aaa", "ab", "abc", "ABC",
  "-", "_", "x.y.z", "/api/v1/series", "é", "e\u0301", "ǅ", "ǆ", "Ǆ", "a|b", "(a)", "[x]", "{1}", "$^",
  "αβγ", "api.example.com", "nbsp\u00a0x", "ctl\u0001x", "astral\u{10ffff}", "FOOBAR", "\u0130", "\u0131",
  "Straße", "\u212aelvin", "\u017fup",
];

const MATCHERS: [MatchType, string][] = [
  ["=", "foo"], ["=", ""], ["=", "a\nb"], ["!=", "foo"], ["!=", ""],
  ["=~", "foo"], ["=~", "foo|bar"], ["=~", ".*"], ["=~", ".+"], ["=~", ""], ["=~", "foo.*"], ["=~", ".*foo"],
  ["=~", ".*foo.*"], ["=~", "f.*o.*r"], ["=~", "a.b"], ["=~", "(?s)a.b"], ["=~", "a\\.b"], ["=~", "(?i)foo"],
  ["=~", "(?i)k"], ["=~", "(?i)s"], ["=~", "(?i)straße"], ["=~", "(?i)STRASSE"], ["=~", "[[:alpha:]]+"],
  ["=~", "[[:alpha:]]*"], ["=~", "\\pL+"], ["=~", "\\p{Greek}+"], ["=~", "\\p{Han}+"], ["=~", "\\d+"],
  ["=~", "\\w+"], ["=~", ".*\\s.*"], ["=~", "[^a-z]+"], ["=~", "a*"], ["=~", "a{2,}"], ["=~", "(a|b)+"],
  ["=~", "(?i)[a-c]+"], ["=~", "\\x{212A}"], ["=~", "(?m)line1$\\nline2"], ["=~", "line1$\\nline2"],
  ["=~", "line1\\nline2"], ["=~", ".*\\n.*"], ["=~", "(?s).*\\n.*"], ["=~", "\\Aab\\z"], ["=~", "e\\x{301}"],
  ["=~", "(?i)é"], ["=~", "(?i)ǆ"], ["=~", "/api/.*"], ["=~", ".*/series"], ["=~", "x\\.y\\.z"],
  ["=~", "a\\|b"], ["=~", "\\(a\\)|\\[x\\]|\\{1\\}|\\$\\^"], ["=~", "[^/]+"], ["=~", "(?U)a+"],
  ["=~", "\\Q(a)\\E"], ["=~", "a|"], ["=~", "\\.*"], ["=~", "🙂|émoji😀"], ["=~", "émoji."], ["=~", "émoji.."],
  ["=~", "[😀]|.😀"], ["=~", "(?i)foo.*"], ["=~", "(?i)k.*"], ["=~", "(?i).*s.*"], ["=~", "(?i)bar|straSSe|i"],
  ["=~", "(?i)a.b"], ["!~", "(?i)f.*"], ["=~", "(?i)(foo|bar)baz|\\$\\^"], ["=~", ".+.+"], ["=~", ".+(|a).*"],
  ["=~", "(foo|bar|a\\.b|x\\.y\\.z|\\(a\\))"], ["=~", "(?:a\\|b|\\$\\^).*"], ["!~", "(foo|bar)"], ["=~", "a{,2}|\\{1}"], ["=~", "(a|b)(b|c)"], ["=~", ".+foo.*"], ["=~", "[\\d-z]+"],
  ["!~", "foo"], ["!~", ".*"], ["!~", ".+"], ["!~", "a.*"], ["!~", "(?i)foo"], ["!~", ""],
  // Rejected by Prometheus (and so by us).
  ["=~", "("], ["=~", "a)|(b"], ["=~", "(?<n>x)"], ["=~", "((a{100}){100}){100}"], ["=~", "a**"],
  ["=~", "\\Z"], ["=~", "(?=a)"], ["=~", "[z-a]"], ["=~", "\\pX"], ["=~", "a{1001}"], ["=~", "(a)\\1"],
  ["!~", "x{2}{3}"], ["=~", "[[:foo:]]"],
];

// OpenMetrics label value escaping: only backslash, double quote and newline.
const omEscape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

const T0 = 1_700_000_000;
let prom: Prometheus | undefined;
let dir = "";
const series: Labels[] = VALUES.map((v) => labelsFrom({ __name__: "m", l: v }));
series.push(labelsFrom({ __name__: "m", other: "no-l-label" })); // l is "" for this one

test.before(async () => {
  dir = tempDir("matchers-prom-").path;
  let om = "# TYPE m gauge\n";
  for (const v of VALUES) om += `m{l="${omEscape(v)}"} 1 ${T0}\n`;
  om += `m{other="no-l-label"} 1 ${T0}\n# EOF\n`;
  await promtoolBackfill(om, dir);
  prom = await startPrometheus({ dataDir: dir });
});

test.after(async () => {
  await prom?.stop();
});

const key = (ls: Labels) => labelsString(ls);

test("Prometheus stored every series as written", async () => {
  const r = await promApi(prom!.url, "/api/v1/series", { "match[]": '{__name__="m"}', start: String(T0 - 60), end: String(T0 + 60) });
  assert.is(r.status, "success");
  const got = (r.data as Record<string, string>[]).map((o) => key(labelsFrom(o))).sort();
  assert.equal(got, series.map(key).sort());
});

test(`${MATCHERS.length} matchers select the same series as Prometheus, or are rejected alike`, async () => {
  const problems: string[] = [];
  for (const [op, re] of MATCHERS) {
    const sel = `{__name__="m",l${op}${goQuote(re)}}`;
    const r = await promApi(prom!.url, "/api/v1/series", { "match[]": sel, start: String(T0 - 60), end: String(T0 + 60) });
    let ours: ReturnType<typeof newMatcher> | undefined;
    let err: unknown;
    try {
      ours = newMatcher(op, "l", re);
    } catch (e) {
      err = e;
    }
    if (r.status !== "success") {
      // e.g. invalid parameter "match[]": 1:15: parse error: error parsing regexp: missing closing ): `^(?:()$`
      if (ours !== undefined) { problems.push(`${sel}: Prometheus rejects (${r.error}), we accept`); continue; }
      if (errorCode(err) !== "bad_data") problems.push(`${sel}: our error is not bad_data: ${err}`);
      const msg = (err as Error).message;
      if (!String(r.error).endsWith(`parse error: ${msg}`)) problems.push(`${sel}: message ${JSON.stringify(msg)} vs Prometheus ${JSON.stringify(r.error)}`);
      continue;
    }
    if (ours === undefined) { problems.push(`${sel}: we reject (${(err as Error).message}), Prometheus accepts`); continue; }
    const want = (r.data as Record<string, string>[]).map((o) => key(labelsFrom(o))).sort();
    const got = series.filter((s) => ours!.matches(getLabel(s, "l"))).map(key).sort();
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      const extra = got.filter((g) => !want.includes(g)), missing = want.filter((w) => !got.includes(w));
      problems.push(`${sel}: we also select ${extra.join(" ")}; we miss ${missing.join(" ")}`);
    }
  }
  assert.equal(problems, []);
});

test("goQuote/labelsString print labels exactly as promtool tsdb dump does", async () => {
  mkdirSync(join(dir, "wal"), { recursive: true }); // dump opens the head too
  const { stdout } = await promtool(["tsdb", "dump", `--min-time=${T0 * 1000 - 1}`, `--max-time=${T0 * 1000 + 1}`, dir]);
  const got = stdout.split("\n").filter((l) => l !== "").sort();
  const want = series.map((s) => `${labelsString(s)} 1 ${T0 * 1000}`).sort();
  assert.equal(got, want);
});

test.run();
