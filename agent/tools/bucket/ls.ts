// `tools bucket ls`: the blocks in a bucket, as Thanos' `tools bucket ls` prints them: one ULID per line,
// `-o wide`, `-o json` (each meta as Go's json.Encoder with a tab indent writes metadata.Meta) or
// `-o '<Go template>'`; filtered by --selector.relabel-config, --min-time/--max-time and
// --exclude-delete. Thanos prints in its map's (random) order; here blocks come in ULID order.
// `--bucket-index` (ours) reads bucket-index.json instead of listing when there is one.

import { ignoreDeletionMarkFilter, labelShardFilter, timePartitionFilter, type MetaFilter } from "../../../shared/block/fetcher.ts";
import { lsWideLine } from "../../../shared/block/inspect.ts";
import { lsTemplate } from "../../../shared/block/lstemplate.ts";
import { goJson } from "../../../shared/encoding/gotext.ts";
import { thanosMetaGoValue, type BlockMeta } from "../../../shared/tsdb/meta.ts";
import type { FlagSpec } from "../../flags.ts";
import { writeOut } from "../out.ts";
import { done, SELECTOR_FLAGS, selectorRelabel, setupTool, syncMetas } from "./common.ts";
import { parseDurationMs, parseTimeOrDuration } from "../../flags.ts";

const specs: FlagSpec[] = [
  ...SELECTOR_FLAGS,
  { name: "output", short: "o", help: "Optional format in which to print each block's information. Options are 'json', 'wide' or a custom template.", default: "" },
  { name: "exclude-delete", boolean: true, help: "Exclude blocks marked for deletion." },
  { name: "min-time", help: "Start of time range limit to list blocks: RFC3339 or a duration relative to now (e.g. -1d).", default: "0000-01-01T00:00:00Z" },
  { name: "max-time", help: "End of time range limit to list blocks: RFC3339 or a duration relative to now.", default: "9999-12-31T23:59:59Z" },
  { name: "timeout", help: "Timeout to download metadata from remote storage", default: "5m" },
  { name: "bucket-index", boolean: true, help: "Read bucket-index.json instead of listing (falls back to listing without one)." },
];

export async function run(argv: string[]): Promise<number> {
  const t = await setupTool("ls", "List all blocks in the bucket.", specs, argv);
  if (!t) return 0;
  const { f } = t;
  const timeoutMs = parseDurationMs("timeout", f.get("timeout")!);
  if (timeoutMs < 60e3) t.log("warn", "Timeout less than 1m could lead to frequent failures");
  const filters: MetaFilter[] = [
    labelShardFilter(await selectorRelabel(f)),
    timePartitionFilter(parseTimeOrDuration("min-time", f.get("min-time")!), parseTimeOrDuration("max-time", f.get("max-time")!)),
  ];
  if (f.bool("exclude-delete")) filters.push(ignoreDeletionMarkFilter(0));
  const format = f.get("output")!;
  let print: (m: BlockMeta) => string;
  if (format === "") print = (m) => `${m.ulid}\n`;
  else if (format === "wide") print = (m) => `${lsWideLine(m)}\n`;
  else if (format === "json") print = (m) => `${goJson(thanosMetaGoValue(m), "\t")}\n`;
  else {
    const tmpl = lsTemplate(format);
    print = (m) => `${tmpl.render(m)}\n`;
  }
  const r = await syncMetas(t, filters, { timeoutMs, indexMaxStaleMs: f.bool("bucket-index") ? Number.MAX_SAFE_INTEGER : 0 });
  const out = writeOut();
  const metas = [...r.metas.values()].sort((a, b) => (a.ulid < b.ulid ? -1 : 1));
  for (const m of metas) {
    try {
      await out.write(print(m));
    } catch (e) {
      throw new Error(`iter: ${(e as Error).message}`, { cause: e });
    }
  }
  await out.end();
  t.log("info", "ls done", { objects: metas.length });
  return done(t);
}
