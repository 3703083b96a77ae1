// Matchers. Go/Prometheus semantics are checked against a real Prometheus in
// test/integration/matchers-prometheus.test.ts; here: the API, Prometheus' exact error messages (as a
// Prometheus 2.42 answered them), fast paths against the automaton (re2js, which implements Go's
// regexp semantics independently of our fast-path code), set matches, hostile patterns, the cache.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { RE2JS } from "re2js";
import { errorCode } from "../../../shared/encoding/errors.ts";
import {
  MAX_SET_MATCHES, matcherString, matchesEmpty, newMatcher, regexCacheSize, regexKind, setMatches,
  type MatchType,
} from "../../../shared/labels/matcher.ts";

test("=, !=, =~, !~ and matchesEmpty", () => {
  const eq = newMatcher("=", "job", "api");
  assert.ok(eq.matches("api"));
  assert.not.ok(eq.matches("api2"));
  assert.not.ok(matchesEmpty(eq));
  assert.ok(matchesEmpty(newMatcher("=", "job", "")));
  const ne = newMatcher("!=", "job", "");
  assert.ok(ne.matches("x"));
  assert.not.ok(matchesEmpty(ne));
  const re = newMatcher("=~", "job", "api|web");
  assert.ok(re.matches("web"));
  assert.not.ok(re.matches("api|web"));
  assert.not.ok(re.matches("xapi")); // anchored
  const nre = newMatcher("!~", "job", "a.*");
  assert.ok(nre.matches("b"));
  assert.not.ok(nre.matches("abc"));
  assert.ok(matchesEmpty(nre));
  assert.ok(matchesEmpty(newMatcher("=~", "job", ".*")));
  assert.ok(matchesEmpty(newMatcher("=~", "job", "a|")));
  assert.equal([re.type, re.name, re.value], ["=~", "job", "api|web"]);
});

test("matcherString: Prometheus Matcher.String() with Go-quoted values", () => {
  assert.is(matcherString(newMatcher("=~", "job", "a.*")), 'job=~"a.*"');
  assert.is(matcherString(newMatcher("!=", "l", 'x"y\n')), 'l!="x\\"y\\n"');
  assert.is(matcherString(newMatcher("!~", "l", "\\d+")), 'l!~"\\\\d+"');
  assert.is(String(newMatcher("=", "a", "b")), 'a="b"');
});

test("bad regexes: CodedError bad_data with Prometheus 2.42's messages", () => {
  // Messages as a real Prometheus 2.42 (Go 1.19) returned them for {__name__="m",l=~"<re>"}, minus
  // the "1:15: parse error: " position the PromQL parser adds.
  const cases: [string, string][] = [
    ["(", "error parsing regexp: missing closing ): `^(?:()$`"],
    ["a)|(b", "error parsing regexp: unexpected ): `a)|(b`"],
    ["(?<n>x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`"],
    ["((a{100}){100}){100}", "error parsing regexp: invalid repeat count: `{100}`"],
  ];
  for (const [re, msg] of cases) {
    for (const t of ["=~", "!~"] as MatchType[]) {
      try {
        newMatcher(t, "l", re);
        assert.unreachable(`${re} accepted`);
      } catch (e) {
        assert.is(errorCode(e), "bad_data", re);
        assert.is((e as Error).message, msg);
      }
    }
  }
  // Go syntax, not JS: lookarounds, backreferences, possessive quantifiers, \Z are errors.
  for (const re of ["(?=a)", "(?<=a)b", "(a)\\1", "a++", "\\Z", "x**", "[[:foo:]]", "\\pX", "a{1001}"]) {
    assert.throws(() => newMatcher("=~", "l", re), (e: unknown) => errorCode(e) === "bad_data", re);
  }
  // `(?<` inside a class, an escape or \Q..\E is not a group.
  assert.ok(newMatcher("=~", "l", "[(?<]").matches("<"));
  assert.ok(newMatcher("=~", "l", "\\(?<").matches("(<"));
  assert.ok(newMatcher("=~", "l", "\\Q(?<\\E").matches("(?<"));
  assert.throws(() => newMatcher("~~" as MatchType, "l", "x"), (e: unknown) => errorCode(e) === "bad_data");
  // Not a regex: never an error.
  assert.ok(newMatcher("=", "l", "(").matches("("));
});

test("Go semantics that differ from JS RegExp", () => {
  const m = (re: string, v: string) => newMatcher("=~", "l", re).matches(v);
  assert.not.ok(m("a.b", "a\nb")); // Prometheus 2.42: `.` does not match newline
  assert.ok(m("(?s)a.b", "a\nb"));
  assert.not.ok(m(".*", "x\ny"));
  assert.ok(m("(?i)k", "\u212a")); // Kelvin sign folds to k in Go
  assert.ok(m("(?i)s", "\u017f")); // long s
  assert.ok(m("(?i)straße", "STRAßE"));
  assert.not.ok(m("(?i)straße", "STRASSE")); // simple folding only
  assert.ok(m("[[:alpha:]]+", "abcXYZ"));
  assert.not.ok(m("[[:alpha:]]+", "é")); // ASCII only
  assert.ok(m("\\pL+", "éß日本"));
  assert.ok(m("\\p{Greek}+", "αβγ"));
  assert.ok(m("a\\z", "a"));
  assert.ok(m("\\Aab", "ab"));
  assert.ok(m("(?m)a$\\nb", "a\nb"));
  assert.ok(m("\\x{1F600}", "😀"));
  assert.ok(m(".", "😀")); // one code point, two UTF-16 units
  assert.not.ok(m("..", "😀"));
  assert.ok(m("(?P<name>a)b", "ab"));
  assert.ok(m("a{,3}", "a{,3}")); // not a repeat in Go: literal
  assert.ok(m("(?U)a+", "aaa"));
  assert.ok(m("\\d+", "123"));
  assert.not.ok(m("\\d", "٣")); // \d is ASCII-only in Go
});

// A deterministic PRNG so failures reproduce.
function rng(seed: number): (n: number) => number {
  return (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    seed ^= seed >>> 13; // the LCG's low bits alone cycle quickly
    return seed % n;
  };
}

test("fast paths agree with the automaton on generated patterns and values", () => {
  const r = rng(42);
  // Tokens from which the fast-path planner's subset (and its edges) is built.
  const toks = ["a", "b", "ab", "foo", ".*", ".+", "|", "(a|b)", "(?:foo|ba)", "\\.", "x", "\n", "é", "😀", "-", "(|a)", "()", "(b|ab|a)", "\\|", "\\-", "K", "S", "FOO", "(?:Ab|K)", "(a\\.|b)", "(\\)|x)", "(\\d|a)"];
  const vchars = ["a", "b", "f", "o", "\n", ".", "é", "x", "😀", "-", "|", "A", "B", "K", "k", "\u212a", "s", "S", "\u017f", "\u0130", "O"];
  const values = ["", "a", "b", "ab", "foo", "xfoox", "a\nb", "\n", "a.b", "ba", "aba"];
  for (let i = 0; i < 300; i++) {
    let v = "";
    for (let n = r(8); n > 0; n--) v += vchars[r(vchars.length)];
    values.push(v);
  }
  const kinds = new Map<string, number>();
  // Regressions first: an empty alternative after a `.+` gap (indexOf("", from) returns less than
  // from past the end), gaps counted in code points, not UTF-16 units.
  const fixed = [".+(|a).*", ".+(|a)", "a.+()", ".+.+", ".+.*.+", "(?i).+.+k", ".+😀", "😀.+", "(a|)(|b).+"];
  for (let i = 0; i < 2500 + fixed.length; i++) {
    let p = r(3) === 0 ? "(?i)" : "";
    for (let n = 1 + r(5); n > 0; n--) p += toks[r(toks.length)];
    if (i < fixed.length) p = fixed[i]!;
    let auto: RE2JS;
    try {
      auto = RE2JS.compile("^(?:" + p + ")$");
      RE2JS.compile(p);
    } catch {
      assert.throws(() => newMatcher("=~", "l", p), undefined, p);
      continue;
    }
    const m = newMatcher("=~", "l", p);
    const kind = regexKind(p);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    for (const v of values) {
      if (m.matches(v) !== auto.test(v)) assert.unreachable(`${JSON.stringify(p)} (${kind}) on ${JSON.stringify(v)}: got ${m.matches(v)}`);
    }
    const set = setMatches(m);
    if (set !== null) {
      for (const v of set) assert.ok(auto.test(v), `set value ${JSON.stringify(v)} of ${JSON.stringify(p)}`);
      for (const v of values) if (auto.test(v)) assert.ok(v === "" || set.includes(v), `${JSON.stringify(v)} missing from set of ${JSON.stringify(p)}`);
    }
  }
  // The generator must actually exercise every path.
  for (const k of ["literal", "set", "plan", "automaton"]) assert.ok((kinds.get(k) ?? 0) > 50, `${k}: ${kinds.get(k)}`);
});

test("random patterns: a matcher or a bad_data error, never anything else; matching never throws", () => {
  const r = rng(7);
  const alphabet = "ab.|()[]{}*+?^$\\-:=<>!PpQEdDwWsSbBAzZx0123456789,iUsm\n\u00e9\u212a😀\ud800";
  const values = ["", "a", "ab", "a\nb", "é😀", "\ud800", "x".repeat(300)];
  let ok = 0, bad = 0;
  for (let i = 0; i < 3000; i++) {
    let p = "";
    for (let n = r(12); n > 0; n--) p += alphabet[r(alphabet.length)];
    let m;
    try {
      m = newMatcher(r(2) ? "=~" : "!~", "l", p);
    } catch (e) {
      assert.is(errorCode(e), "bad_data", `${JSON.stringify(p)}: ${e}`);
      assert.match((e as Error).message, /^error parsing regexp: /);
      bad++;
      continue;
    }
    for (const v of values) m.matches(v);
    ok++;
  }
  assert.ok(ok > 300 && bad > 300, `${ok} accepted, ${bad} rejected`);
});

test("typical matchers take a fast path", () => {
  const cases: [string, string][] = [
    ["foo", "literal"], ["a|b|c", "set"], ["prefix.*", "plan"], [".*suffix", "plan"], [".*mid.*", "plan"],
    [".+", "plan"], [".*", "plan"], ["(a|b)c", "set"], ["api\\.example\\.com", "set"], ["foo.*bar", "plan"],
    ["(?i)foo", "plan"], ["(?i)prefix.*", "plan"], ["(?i)a|b", "plan"], ["(?i)é", "automaton"],
    ["[0-9]+", "automaton"], ["a+", "automaton"],
  ];
  for (const [p, kind] of cases) assert.is(regexKind(p), kind, p);
});

test("setMatches: like Prometheus' SetMatches (no empty value, at most 256)", () => {
  const sm = (t: MatchType, v: string) => setMatches(newMatcher(t, "l", v));
  assert.equal(sm("=~", "a|b|c"), ["a", "b", "c"]);
  assert.equal(sm("=~", "foo"), ["foo"]);
  assert.equal(sm("=~", "(a|b)(c|d)"), ["ac", "ad", "bc", "bd"]);
  assert.equal(sm("=~", "x\\.y|z"), ["x.y", "z"]);
  assert.equal(sm("=~", "a|a|b"), ["a", "b"]);
  assert.equal(sm("=", "v"), ["v"]);
  assert.is(sm("=", ""), null);
  assert.is(sm("=~", "a|"), null); // matches "" too
  assert.is(sm("=~", ""), null);
  assert.is(sm("=~", "a.*"), null);
  assert.is(sm("!~", "a|b"), null);
  assert.is(sm("!=", "a"), null);
  const many = Array.from({ length: MAX_SET_MATCHES + 1 }, (_, i) => `v${i}`);
  assert.is(sm("=~", many.join("|")), null);
  assert.ok(newMatcher("=~", "l", many.join("|")).matches("v256")); // still matches without a set
  assert.is(sm("=~", many.slice(0, MAX_SET_MATCHES).join("|"))!.length, MAX_SET_MATCHES);
  // The returned array is a copy.
  const m = newMatcher("=~", "l", "p|q");
  setMatches(m)!.push("r");
  assert.equal(setMatches(m), ["p", "q"]);
});

test("hostile patterns on a 10 kB value finish in linear time", () => {
  const a = "a".repeat(10_000) + "!";
  const x = "x".repeat(10_000);
  const long = Array.from({ length: 2000 }, (_, i) => `value_${i}_x`).join("|");
  const cases: [string, string][] = [
    ["(a+)+$", a], ["(.*a){25}", a], ["(x+x+)+y", x], ["(a|aa)+b", a], ["(.*a){25}", x],
    ["(?i)(a+)+b", a], [".*a.*a.*a.*a.*b", a], [long, x], ["(" + long + ")+", x],
  ];
  for (const [p, v] of cases) {
    const m = newMatcher("=~", "l", p);
    m.matches(v); // warm up (lazy DFA states)
    const t0 = performance.now();
    const got = m.matches(v);
    const ms = performance.now() - t0;
    // Target is < 5 ms (bench/matchers.ts); this bound only catches exponential blow-ups on a
    // loaded CI machine.
    assert.ok(ms < 250, `${p.slice(0, 40)}: ${ms.toFixed(1)} ms`);
    assert.is(got, RE2JS.compile("^(?:" + p + ")$").test(v));
  }
});

test("Grafana-style (a|b|...) groups with thousands of values stay a hash set", () => {
  const vals = Array.from({ length: 5000 }, (_, i) => `host-${i}.example.com`);
  const group = "(" + vals.map((v) => v.replace(/\./g, "\\.")).join("|") + ")";
  assert.is(regexKind(group), "set");
  const m = newMatcher("=~", "l", group);
  assert.ok(m.matches("host-4999.example.com"));
  assert.not.ok(m.matches("host-5000.example.com"));
  assert.not.ok(m.matches("host-1xexample.com")); // the dots were escaped
  assert.is(setMatches(m), null); // more than 256: no set matches, like Prometheus
  // Up to the planner's limit of 100k values.
  const huge = "(" + Array.from({ length: 100_000 }, (_, i) => `h${i}`).join("|") + ")";
  assert.is(regexKind(huge), "set");
  assert.ok(newMatcher("=~", "l", huge).matches("h99999"));
  // With a gap, each alternative is searched: large groups go to the automaton instead.
  const gapped = "(" + vals.slice(0, 100).join("|") + ").*";
  assert.is(regexKind(gapped), "automaton");
  assert.ok(newMatcher("=~", "l", gapped).matches("host-99.example.com:9090"));
});

test("compiled regex cache stays bounded", () => {
  for (let i = 0; i < 2500; i++) newMatcher("=~", "l", `x${i}[0-9]+`);
  assert.ok(regexCacheSize() <= 1000, String(regexCacheSize()));
  // Huge patterns are not cached at all.
  const before = regexCacheSize();
  const huge = Array.from({ length: 9000 }, (_, i) => `value-${i}`).join("|") + "|x.*"; // > 64 KiB
  assert.ok(huge.length > 64 * 1024);
  assert.ok(newMatcher("=~", "l", huge).matches("x1"));
  assert.ok(regexCacheSize() <= before);
  // A cached pattern still behaves.
  assert.ok(newMatcher("=~", "l", "x2499[0-9]+").matches("x24997"));
});

test.run();
