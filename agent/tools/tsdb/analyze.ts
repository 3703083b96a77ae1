// `tools tsdb analyze <dir> [<block id>]`: per block, series/chunk/sample counts and where the
// cardinality is (label names by number of values, label pairs and metric names by number of series).
import { parseFlags, flagsHelp, type FlagSpec } from "../../flags.ts";
import { CodedError } from "../../../shared/encoding/errors.ts";
import { blockSeries } from "../../../shared/tsdb/querier.ts";
import { openLocalBlocks } from "../../tsdb/local.ts";
import { goDuration } from "../../../shared/encoding/gotext.ts";
import { PROGRAM } from "../../program.ts";

const specs: FlagSpec[] = [
  { name: "limit", help: "how many items to show in each list", default: "20" },
  { name: "help", help: "show this help", boolean: true },
];

function top(m: Map<string, number>, n: number): string[] {
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n).map(([k, v]) => `${String(v).padStart(8)} ${k}`);
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("tools tsdb analyze", specs, argv);
  if (f.bool("help")) {
    console.log(`usage: ${PROGRAM} tools tsdb analyze [flags] [<db path>] [<block id>]\n\nAnalyze churn, label pair cardinality and chunk counts.\n\n${flagsHelp(specs)}`);
    return 0;
  }
  const limit = Number(f.get("limit"));
  if (!Number.isInteger(limit) || limit < 0) throw new CodedError("bad_data", `--limit: ${JSON.stringify(f.get("limit"))} is not a count`);
  const [dir = "data/", id] = f.positionals;
  const { blocks, close } = await openLocalBlocks(dir);
  try {
    const pick = id ? blocks.filter((b) => b.ulid === id) : blocks;
    if (pick.length === 0) throw new CodedError("not_found", id ? `block ${id} not found under ${dir}` : `no blocks under ${dir}`);
    for (const b of pick) {
      const ix = b.index;
      let series = 0, chunks = 0, pairs = 0, minChunks = Infinity, maxChunks = 0;
      const byPair = new Map<string, number>();
      const byName = new Map<string, number>();
      for await (const batch of blockSeries(b, -Infinity, Infinity, [], 4096, false)) {
        for (const s of batch) {
          series++;
          chunks += s.chunks.length;
          minChunks = Math.min(minChunks, s.chunks.length);
          maxChunks = Math.max(maxChunks, s.chunks.length);
          pairs += s.labels.length;
          for (const l of s.labels) {
            const k = `${l.name}=${l.value}`;
            byPair.set(k, (byPair.get(k) ?? 0) + 1);
            if (l.name === "__name__") byName.set(l.value, (byName.get(l.value) ?? 0) + 1);
          }
        }
      }
      const checked = await ix.verify();
      const valuesPerName = new Map<string, number>();
      for (const n of ix.labelNames()) valuesPerName.set(n, ix.labelValues(n).length);
      const m = b.meta;
      console.log([
        `Block ID: ${b.ulid}`,
        `Time range: ${m.minTime} .. ${m.maxTime} (${goDuration(m.maxTime - m.minTime)})`,
        `Total Series: ${series}`,
        `Total Chunks: ${chunks} (per series: min ${series ? minChunks : 0}, max ${maxChunks}, avg ${series ? (chunks / series).toFixed(2) : 0})`,
        `Total Samples: ${m.stats.numSamples} (meta.json; ${chunks ? (m.stats.numSamples / chunks).toFixed(1) : 0} per chunk)`,
        `Tombstoned series: ${b.tombstones.size}`,
        `Label names: ${valuesPerName.size}`,
        `Postings (unique label pairs): ${byPair.size}`,
        `Postings entries (total label pairs): ${pairs}`,
        `Symbols: ${ix.symbolCount}; index size: ${ix.size} bytes`,
        `Index checked: ${checked.series} series entries, ${checked.labelIndices} label indices, ${checked.postingsLists} postings lists, every CRC-32C matches`,
        "",
        "Highest cardinality labels:",
        ...top(valuesPerName, limit),
        "",
        "Label pairs most involved in series:",
        ...top(byPair, limit),
        "",
        "Metric names with the most series:",
        ...top(byName, limit),
        "",
      ].join("\n"));
    }
  } finally {
    await close();
  }
  return 0;
}
