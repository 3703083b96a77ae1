// `npm run promqltest [-- [-v] [--own] [FILE.test...]]`: run Prometheus 2.42's own PromQL test
// scripts (promql/testdata/*.test from the Go module cache) against our engine. Prints each
// failure not in test/promql/known-failures.txt with the reason, each known failure in one line,
// each known-failures entry that now passes, and as the last line
//   promqltest: P/T passed (K known failures)
// counting eval commands. Exit status 1 on an unlisted failure or a listed one that passes.
// --own runs our scripts in test/promql/*.test instead; FILE arguments run just those files.
// -v also prints the reason of every known failure.
import { OWN_DIR, readKnownFailures, runFile, summarize, testFiles, upstreamTestdataDir, type FileRun } from "../lib/promqltest.ts";

const args = process.argv.slice(2);
const verbose = args.includes("-v");
const own = args.includes("--own");
const files = args.filter((a) => !a.startsWith("-"));

const upstream = own && files.length === 0 ? null : upstreamTestdataDir();
const list = files.length > 0 ? files : own ? testFiles(OWN_DIR) : testFiles(upstream!);
const known = readKnownFailures();
const runs: FileRun[] = [];
for (const f of list) runs.push(await runFile(f, upstream));
const names = new Set(runs.map((r) => r.name));
const s = summarize(runs, known, (key) => names.has(key.slice(0, key.lastIndexOf(":"))));

for (const r of s.broken) console.log(`BROKEN ${r.name}: ${r.error}`);
for (const e of s.unexpected) console.log(`FAIL ${e.key}: ${e.expr}\n     ${e.message}`);
for (const e of s.known) console.log(`known ${e.key}: ${e.expr}${verbose ? `\n     reason: ${e.reason}\n     got: ${e.message}` : ""}`);
for (const k of s.stale) console.log(`PASSES NOW ${k.key} (known-failures.txt:${k.line}): remove it from the file ("${k.reason}")`);
if (s.unexpected.length > 0 || s.stale.length > 0 || s.broken.length > 0) process.exitCode = 1;
console.log(`promqltest: ${s.passed}/${s.total} passed (${s.known.length} known failures)`);
