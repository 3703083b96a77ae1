// `tools tsdb create-blocks-from openmetrics <file> [<outdir>]`: backfill like promtool (blocks cut at
// block-duration boundaries, printed as a table like promtool prints them).
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseFlags, flagsHelp, type FlagSpec } from "../../flags.ts";
import { CodedError } from "../../../shared/encoding/errors.ts";
import { backfillBlocks } from "../../../shared/tsdb/backfill.ts";
import { writeBlock } from "../../../shared/tsdb/writer.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";
import { DiskSink } from "../../tsdb/local.ts";
import type { BlockMeta } from "../../../shared/tsdb/meta.ts";
import { blockDirSize, blockTable } from "./list.ts";
import { PROGRAM } from "../../program.ts";

const specs: FlagSpec[] = [
  { name: "max-block-duration", help: "maximum duration of created blocks (2h, 6h, 18h, … are used)", default: "2h" },
  { name: "quiet", help: "do not print created blocks", boolean: true },
  { name: "help", help: "show this help", boolean: true },
];

export function parseDurationFlag(flag: string, s: string): number {
  const re = /(\d+)(ms|y|w|d|h|m|s)/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };
  let total = 0, at = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== at) break;
    total += Number(m[1]) * unit[m[2]!]!;
    at += m[0].length;
  }
  if (s === "" || at !== s.length) throw new CodedError("bad_data", `--${flag}: ${JSON.stringify(s)} is not a duration like 2h or 90m`);
  return total;
}

/** Index of the subcommand (openmetrics|rules) in argv, skipping flag values. */
function subcommand(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith("--")) {
      if (!a.includes("=") && a === "--max-block-duration") i++;
      continue;
    }
    return a;
  }
  return undefined;
}

export async function run(argv: string[]): Promise<number> {
  if (subcommand(argv) === "rules") return await (await import("./create-blocks-rules.ts")).run(argv);
  const f = parseFlags("tools tsdb create-blocks-from", specs, argv);
  if (f.bool("help") || f.positionals[0] !== "openmetrics") {
    console.log(`usage: ${PROGRAM} tools tsdb create-blocks-from openmetrics [flags] <input file> [<output directory>]\n       ${PROGRAM} tools tsdb create-blocks-from rules --start T [flags] <rule-files>... (rules --help)\n\nImport samples from OpenMetrics input and produce TSDB blocks.\n\n${flagsHelp(specs)}`);
    return f.bool("help") ? 0 : 2;
  }
  if (f.positionals.length > 3) throw new CodedError("bad_data", `tools tsdb create-blocks-from openmetrics: unexpected argument ${JSON.stringify(f.positionals[3])}`);
  const [, file, outDir = "data/"] = f.positionals;
  if (!file) throw new CodedError("bad_data", "tools tsdb create-blocks-from openmetrics: input file missing");
  let text: string;
  try { text = readFileSync(file, "utf8"); } catch (e) { throw new CodedError("not_found", `read ${file}: ${(e as Error).message}`); }
  const maxBlockDuration = parseDurationFlag("max-block-duration", f.get("max-block-duration")!);
  mkdirSync(outDir, { recursive: true });
  const rows: { meta: BlockMeta; size: number }[] = [];
  for (const b of backfillBlocks(text, { maxBlockDuration, what: file })) {
    const ulid = newUlid();
    const meta = await writeBlock(new DiskSink(outDir, ulid), b.series, { ulid });
    rows.push({ meta, size: blockDirSize(join(outDir, ulid)) });
  }
  if (!f.bool("quiet")) process.stdout.write(blockTable(rows));
  return 0;
}

