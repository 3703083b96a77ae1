// `tools tsdb dump <dir>`: every sample as `{labels} value timestamp`, byte for byte what
// `promtool tsdb dump` prints (labels.String() with Go-quoted values, %g values), series in label order.
import { parseFlags, flagsHelp, type FlagSpec } from "../../flags.ts";
import { labelsString } from "../../../shared/labels/labels.ts";
import type { Matcher } from "../../../shared/labels/matcher.ts";
import { CodedError } from "../../../shared/encoding/errors.ts";
import { parseMetricSelector } from "../../../shared/promql/parser.ts";
import { openLocalBlocks } from "../../tsdb/local.ts";
import { goFormatG } from "../gofmt.ts";
import { writeOut } from "../out.ts";
import { PROGRAM } from "../../program.ts";

const specs: FlagSpec[] = [
  { name: "min-time", help: "minimum timestamp to dump (ms, inclusive)", default: "-9223372036854775808" },
  { name: "max-time", help: "maximum timestamp to dump (ms, inclusive)", default: "9223372036854775807" },
  { name: "match", help: "series selector", default: "{__name__=~'(?s:.*)'}" },
  { name: "help", help: "show this help", boolean: true },
];


function selectorMatchers(sel: string): Matcher[] {
  // The default selects everything: no matchers means all postings, no regex needed.
  if (sel === specs[2]!.default) return [];
  return parseMetricSelector(sel);
}

function parseTime(flag: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new CodedError("bad_data", `--${flag}: ${JSON.stringify(v)} is not an integer timestamp in ms`);
  return Number(v);
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("tools tsdb dump", specs, argv);
  if (f.bool("help")) {
    console.log(`usage: ${PROGRAM} tools tsdb dump [flags] [<db path>]\n\nDump samples from a TSDB (block dirs under the path; default data/).\n\n${flagsHelp(specs)}`);
    return 0;
  }
  if (f.positionals.length > 1) throw new CodedError("bad_data", `tools tsdb dump: one db path expected, got ${f.positionals.length}`);
  const dir = f.positionals[0] ?? "data/";
  const mint = parseTime("min-time", f.get("min-time")!);
  const maxt = parseTime("max-time", f.get("max-time")!);
  const matchers = selectorMatchers(f.get("match")!);
  const { querier, close } = await openLocalBlocks(dir);
  try {
    const out = writeOut();
    for await (const s of querier.selectStream({ start: mint, end: maxt }, matchers)) {
      const prefix = labelsString(s.labels) + " ";
      const it = s.iterator();
      while (it.next()) await out.write(prefix + goFormatG(it.value()) + " " + it.at() + "\n");
      const e = it.err();
      if (e) throw e;
    }
    await out.end();
  } finally {
    await close();
  }
  return 0;
}
