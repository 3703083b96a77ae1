// Fuzz every chunk decoder (XOR batch + iterator, chunkIterator's encoding dispatch, AggrChunk) with
// random and mutated inputs; print a summary and exit 1 on any violation.
// Run: bun bench/fuzz-chunks.ts [cases=300000] [seed=1]   |   npx tsx bench/fuzz-chunks.ts [cases] [seed]
import { fuzzChunks } from "../test/unit/chunkenc/fuzzlib.ts";

const cases = Number(process.argv[2] ?? 300_000);
const seed = Number(process.argv[3] ?? 1);
const start = performance.now();
const s = fuzzChunks({ cases, seed });
const secs = (performance.now() - start) / 1000;
const g = globalThis as any;
const rt = g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : `node ${process.version}`;
console.log(`${rt}: ${s.cases} cases (seed ${seed}) in ${secs.toFixed(1)} s: ${s.decoded} decoded, ${s.corrupt} rejected as corrupt, ` +
  `${s.roundTrips} round trips, slowest case ${s.maxCaseMs.toFixed(1)} ms`);
console.log("errors by message (numbers replaced by N):");
for (const [m, n] of [...s.byMessage].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(7)}  ${m}`);
if (s.violations.length > 0) {
  console.log(`VIOLATIONS (${s.violations.length}):`);
  for (const v of s.violations) console.log(`  ${v}`);
  process.exit(1);
}
console.log("no violations");
