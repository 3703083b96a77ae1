// Matcher benchmark: hostile regexes on a 10 kB value (linear time, target < 5 ms each) and
// evaluation cost per label value over 100k values for the common matcher shapes, plus label hashing.
// Run: `bun bench/matchers.ts` and `npx tsx bench/matchers.ts`.
import { RE2JS } from "re2js";
import { newMatcher, regexKind, type MatchType } from "../shared/labels/matcher.ts";
import { xxhash64Into } from "../shared/encoding/xxhash64.ts";
import { labelsFrom, labelsHashInto } from "../shared/labels/labels.ts";

const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}` : `node ${process.version}`;
console.log(`# matchers benchmark on ${runtime}`);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

// --- hostile patterns -------------------------------------------------------------------------
console.log("\n== hostile patterns against a 10 kB label value (ms)");
console.log("compile = newMatcher (uncached); first = first match (cold lazy-DFA); then median/max of 20 more");
// Warm the regex engine's own code (JIT) on look-alike patterns over other letters, so "first" measures
// a cold lazy DFA for the pattern, not the runtime compiling re2js itself (a once-per-process cost).
for (let i = 0; i < 3; i++) {
  const bbb = "b".repeat(10_000) + "!";
  for (const p of [`(b+)+$`, `(.*b){25}`, `(y+y+)+z`, `(b|bb)+c`, `(?i)(b+)+c`]) {
    newMatcher("=~", "l", p + "|w".repeat(i)).matches(bbb);
    newMatcher("=~", "l", p + "|w".repeat(i)).matches("y".repeat(10_000));
  }
}
const aaa = "a".repeat(10_000) + "!";
const xxx = "x".repeat(10_000);
const long = Array.from({ length: 2000 }, (_, i) => `value_${i}_x`).join("|");
const hostile: [string, string, string, string][] = [
  ["(a+)+$", "(a+)+$", aaa, "a*10000 + !"],
  ["(.*a){25}", "(.*a){25}", aaa, "a*10000 + !"],
  ["(.*a){25}", "(.*a){25}", xxx, "x*10000"],
  ["(x+x+)+y", "(x+x+)+y", xxx, "x*10000"],
  ["(a|aa)+b", "(a|aa)+b", aaa, "a*10000 + !"],
  ["(?i)(a+)+b", "(?i)(a+)+b", aaa, "a*10000 + !"],
  [".*a.*a.*a.*a.*a.*b", ".*a.*a.*a.*a.*a.*b", aaa, "a*10000 + !"],
  ["2000-literal alternation", long, xxx, "x*10000"],
  ["(2000-literal group)", `(${long})`, xxx, "x*10000"],
  ["(2000-literal alternation)+", `(${long})+`, xxx, "x*10000"],
];
for (const [label, p, v, what] of hostile) {
  let t = performance.now();
  const m = newMatcher("=~", "l", p + ""); // fresh string, same cache key: compile once per pattern
  const compile = performance.now() - t;
  t = performance.now();
  m.matches(v);
  const first = performance.now() - t;
  const runs: number[] = [];
  for (let i = 0; i < 20; i++) {
    t = performance.now();
    m.matches(v);
    runs.push(performance.now() - t);
  }
  console.log(`${label.padEnd(28)} on ${what.padEnd(12)} compile ${compile.toFixed(2).padStart(7)}  first ${first.toFixed(3).padStart(6)}  median ${median(runs).toFixed(3).padStart(6)}  max ${Math.max(...runs).toFixed(3).padStart(6)}  [${regexKind(p)}]`);
}

// --- evaluation over 100k values --------------------------------------------------------------
const N = 100_000;
const values: string[] = [];
// Round-trip through UTF-8 like values decoded from protobuf: flat strings, not the ropes that
// template literals build (string scans behave differently on those).
const enc = new TextEncoder(), dec = new TextDecoder();
for (let i = 0; i < N; i++) {
  const k = i % 10;
  const v = k < 3 ? `prefix_host_${i}` : k < 5 ? `pod-${(i * 7919).toString(36)}-suffix` : k === 5 ? "a" : k === 6 ? "c" : `service-${i % 977}.namespace.svc`;
  values.push(dec.decode(enc.encode(v)));
}

function evalNs(m: { matches(v: string): boolean }, passes = 7): { ns: number; hits: number } {
  let hits = 0;
  for (let i = 0; i < N; i++) if (m.matches(values[i]!)) hits++; // warm-up pass
  const runs: number[] = [];
  for (let r = 0; r < passes; r++) {
    hits = 0;
    const t = performance.now();
    for (let i = 0; i < N; i++) if (m.matches(values[i]!)) hits++;
    runs.push(((performance.now() - t) * 1e6) / N);
  }
  return { ns: median(runs), hits };
}

console.log(`\n== evaluation over ${N / 1000}k label values (ns/value, median of 7 passes)`);
const shapes: [MatchType, string][] = [
  ["=", "a"], ["=~", "a|b|c"], ["=~", "prefix.*"], ["=~", ".*suffix"], ["!=", ""],
  ["=~", ".*svc.*"], ["=~", ".+"], ["!~", "prefix.*"], ["=~", "(?i)PREFIX.*"], ["=~", "(?i)Pod-.*"], ["=~", "service-[0-9]+\\..*"],
];
// One throwaway round over every shape first: the first shapes would otherwise pay for warming the
// loop itself (and GC of the value array), which made `=` look 10x slower than it is.
for (const [op, v] of shapes) evalNs(newMatcher(op, "l", v), 1);
for (const [op, v] of shapes) {
  const m = newMatcher(op, "l", v);
  const { ns, hits } = evalNs(m);
  const kind = op === "=~" || op === "!~" ? regexKind(v) : "string";
  let line = `${(op + JSON.stringify(v)).padEnd(24)} ${ns.toFixed(1).padStart(7)} ns/value  hits ${String(hits).padStart(6)}  [${kind}]`;
  if (kind !== "automaton" && kind !== "string") {
    // The same regex through the automaton only, to show what the fast path saves.
    const re = RE2JS.compile("^(?:" + v + ")$");
    const neg = op === "!~";
    const auto = evalNs({ matches: (s) => re.test(s) !== neg });
    line += `  (automaton alone ${auto.ns.toFixed(1)} ns/value)`;
  }
  console.log(line);
}

// --- compile / cache ---------------------------------------------------------------------------
{
  const K = 2000;
  let t = performance.now();
  for (let i = 0; i < K; i++) newMatcher("=~", "l", `job_${i}_[a-z]+(foo|bar)?`);
  const cold = ((performance.now() - t) * 1000) / K;
  t = performance.now();
  for (let i = 0; i < K; i++) newMatcher("=~", "l", `job_${K - 1}_[a-z]+(foo|bar)?`);
  const warm = ((performance.now() - t) * 1000) / K;
  console.log(`\n== newMatcher: uncached regex compile ${cold.toFixed(1)} µs, cached ${warm.toFixed(2)} µs`);
}

// --- hashing -----------------------------------------------------------------------------------
{
  const chunk = Uint8Array.from({ length: 200 }, (_, i) => (i * 31) & 0xff);
  const out = new Uint32Array(2);
  const K = 200_000;
  for (let i = 0; i < K; i++) xxhash64Into(chunk, out);
  let t = performance.now();
  for (let i = 0; i < K; i++) xxhash64Into(chunk, out);
  const xx = ((performance.now() - t) * 1e6) / K;
  const ls = labelsFrom({ __name__: "http_requests_total", job: "api-server", instance: "10.0.0.12:8080", method: "GET", code: "200", handler: "/api/v1/query" });
  for (let i = 0; i < K; i++) labelsHashInto(ls, out);
  t = performance.now();
  for (let i = 0; i < K; i++) labelsHashInto(ls, out);
  const lh = ((performance.now() - t) * 1e6) / K;
  console.log(`\n== hashing: xxhash64 of a 200-byte chunk ${xx.toFixed(0)} ns; labelsHash of a 6-label series (~100 bytes) ${lh.toFixed(0)} ns`);
}
