// Our PromQL test scripts (test/promql/*.test) take their expected values from the real Prometheus
// 2.42, never from our engine. This tool runs them through upstream's own harness
// (test/promql/oracle/main.go: promql.NewTest at v0.42.0):
//
//   tsx test/promql/oracle.ts check [FILE.test...]   every eval of every file (default: all of
//                                                    test/promql/*.test) must pass in Prometheus
//   tsx test/promql/oracle.ts fill FILE.test...      rewrite the expected lines of each `eval` and
//                                                    `eval_ordered` with Prometheus' answer (review
//                                                    the diff!); `eval_fail` must fail in Prometheus
//
// The first run builds the Go program (a few minutes; cached afterwards).
import { OWN_DIR, testFiles } from "../lib/promqltest.ts";
import { checkScripts, fillScript } from "../lib/promql-oracle.ts";

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === "fill" && args.length > 0) {
    for (const f of args) await fillScript(f);
  } else if (mode === "check") {
    const failures = await checkScripts(args.length > 0 ? args : testFiles(OWN_DIR));
    for (const x of failures) console.log(`${x.file}:${x.line}: ${x.error}`);
    console.log(`oracle: ${failures.length} evals fail in Prometheus 2.42`);
    if (failures.length > 0) process.exitCode = 1;
  } else {
    console.error("usage: tsx test/promql/oracle.ts check [FILE.test...] | fill FILE.test...");
    process.exitCode = 2;
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
