// `tools tsdb list [<db path>]`: the blocks under a TSDB path, as `promtool tsdb list` prints them.
import { statSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseFlags, flagsHelp, type FlagSpec } from "../../flags.ts";
import type { BlockMeta } from "../../../shared/tsdb/meta.ts";
import { openLocalBlocks } from "../../tsdb/local.ts";
import { goDuration } from "../../../shared/encoding/gotext.ts";
import { PROGRAM } from "../../program.ts";

const specs: FlagSpec[] = [{ name: "help", help: "show this help", boolean: true }];

/** Block dir size as Prometheus' Block.Size() counts it: chunks + index + tombstones + meta.json. */
export function blockDirSize(dir: string): number {
  let n = 0;
  for (const f of ["index", "tombstones", "meta.json"]) { try { n += statSync(join(dir, f)).size; } catch { /* absent */ } }
  try { for (const f of readdirSync(join(dir, "chunks"))) n += statSync(join(dir, "chunks", f)).size; } catch { /* none */ }
  return n;
}

/** promtool's block table: Go tabwriter with minwidth 13 and padding 2. */
export function blockTable(rows: { meta: BlockMeta; size: number }[]): string {
  const head = ["BLOCK ULID", "MIN TIME", "MAX TIME", "DURATION", "NUM SAMPLES", "NUM CHUNKS", "NUM SERIES", "SIZE"];
  const cells = [head, ...rows.map(({ meta: m, size }) => [m.ulid, String(m.minTime), String(m.maxTime), goDuration(m.maxTime - m.minTime), String(m.stats.numSamples), String(m.stats.numChunks), String(m.stats.numSeries), String(size)])];
  const w = head.map((_, i) => Math.max(13, ...cells.map((r) => r[i]!.length + 2)));
  return cells.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(w[i]!) : c)).join("")).join("\n") + "\n";
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("tools tsdb list", specs, argv);
  if (f.bool("help")) {
    console.log(`usage: ${PROGRAM} tools tsdb list [<db path>]\n\nList the blocks under a TSDB path (default data/).\n\n${flagsHelp(specs)}`);
    return 0;
  }
  const dir = f.positionals[0] ?? "data/";
  const { blocks, close } = await openLocalBlocks(dir);
  try {
    // promtool lists in ULID order (the directory order Prometheus loads blocks in).
    const sorted = [...blocks].sort((a, b) => (a.ulid < b.ulid ? -1 : 1));
    process.stdout.write(blockTable(sorted.map((b) => ({ meta: b.meta, size: blockDirSize(join(dir, b.ulid)) }))));
  } finally {
    await close();
  }
  return 0;
}
