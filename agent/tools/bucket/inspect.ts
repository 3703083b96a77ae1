// `tools bucket inspect`: every block of the bucket as a table (or CSV, TSV) with Thanos' columns,
// selected by external labels (-l name="value") and sorted by --sort-by, byte for byte as Thanos prints it
// (shared/block/inspect.ts).

import { INSPECT_COLUMNS, inspectTable, parseFlagLabels, renderCsv, renderTable } from "../../../shared/block/inspect.ts";
import { errorMessage } from "../../../shared/encoding/errors.ts";
import { FlagError, type FlagSpec, parseDurationMs } from "../../flags.ts";
import { done, setupTool, syncMetas } from "./common.ts";

const OUTPUTS = ["table", "tsv", "csv"];

const specs: FlagSpec[] = [
  { name: "selector", short: "l", repeatable: true, help: "Selects blocks based on label, e.g. '-l key1=\\\"value1\\\" -l key2=\\\"value2\\\"'. All key value pairs must match." },
  { name: "sort-by", repeatable: true, help: "Sort by columns (repeated; default FROM, UNTIL). If the first column's values are equal, the rows are sorted by the next." },
  { name: "timeout", help: "Timeout to download metadata from remote storage", default: "5m" },
  { name: "output", help: "Output format for result. Currently supports table, csv, tsv.", default: "table" },
];

export async function run(argv: string[]): Promise<number> {
  const t = await setupTool("inspect", "Inspect all blocks in the bucket in detailed, table-like way.", specs, argv);
  if (!t) return 0;
  const { f } = t;
  const output = f.get("output")!;
  if (!OUTPUTS.includes(output)) throw new FlagError(`--output: enum value must be one of ${OUTPUTS.join(",")}, got '${output}'`);
  const sortBy = f.all("sort-by").length > 0 ? f.all("sort-by") : ["FROM", "UNTIL"];
  for (const c of sortBy) {
    if (!(INSPECT_COLUMNS as readonly string[]).includes(c)) throw new FlagError(`--sort-by: enum value must be one of ${INSPECT_COLUMNS.join(",")}, got '${c}'`);
  }
  let selector;
  try { selector = parseFlagLabels(f.all("selector")); } catch (e) { throw new FlagError(`error parsing selector flag: ${errorMessage(e)}`); }
  const r = await syncMetas(t, [], { timeoutMs: parseDurationMs("timeout", f.get("timeout")!) });
  const table = inspectTable(r.metas.values(), selector, sortBy);
  process.stdout.write(output === "table" ? renderTable(table) : renderCsv(table, output === "csv" ? "," : "\t"));
  return done(t);
}
