// Our downsampler over a block directory, with the same interface as test/lib/go/thanos-downsample.go,
// so tests and bench/downsample.ts run both the same way (and ours under Bun as well as Node):
//
//   downsample-cli.ts IN_BLOCK_DIR OUT_DIR RESOLUTION_MS [REPEAT]
//
// Prints {"ulid": "...", "ns": [ns of each run], "samples": N}; every run but the last is removed.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { DiskSink, localBlockFiles } from "../../agent/tsdb/local.ts";
import { downsampleBlock } from "../../shared/compact/downsample.ts";
import { openBlock } from "../../shared/tsdb/block.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";

const [inDir, outDir, resArg, repeatArg] = process.argv.slice(2);
if (!inDir || !outDir || !resArg) {
  console.error("usage: downsample-cli.ts IN_BLOCK_DIR OUT_DIR RESOLUTION_MS [REPEAT]");
  process.exit(2);
}
const repeat = Number(repeatArg ?? 1);
const ns: number[] = [];
let ulid = "", samples = 0;
for (let i = 0; i < repeat; i++) {
  const files = localBlockFiles(inDir);
  const block = await openBlock(files);
  ulid = newUlid();
  const t0 = performance.now();
  const meta = await downsampleBlock(block, Number(resArg), new DiskSink(outDir, ulid), { ulid });
  ns.push(Math.round((performance.now() - t0) * 1e6));
  await files.close();
  samples = meta?.stats.numSamples ?? 0;
  if (i < repeat - 1) rmSync(join(outDir, ulid), { recursive: true, force: true });
}
console.log(JSON.stringify({ ulid, ns, samples }));
