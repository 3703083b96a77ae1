// `tools bucket ls`: the blocks in a bucket (as Thanos' `tools bucket ls`): one ULID per line, or
// `-o wide` with time range, compaction level, resolution and external labels, or `-o json` (meta.json
// per line). Reads the bucket by listing, the ground truth; `--bucket-index` reads bucket-index.json.

import { discoverBlocks } from "../../shared/block/fetcher.ts";
import { FlagError, flagsHelp, parseFlags, type FlagSpec } from "../flags.ts";
import { bucketFromFlags, OBJSTORE_FLAGS } from "../objstore/factory.ts";
import { PROGRAM } from "../program.ts";

const specs: FlagSpec[] = [
  ...OBJSTORE_FLAGS,
  { name: "output", help: "format: empty (ULIDs), wide or json", default: "" },
  { name: "bucket-index", help: "read bucket-index.json instead of listing (falls back to listing without one)", boolean: true },
  { name: "help", help: "show this help", boolean: true },
];

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("tools bucket ls", specs, argv.map((a) => (a === "-o" ? "--output" : a)));
  if (f.bool("help")) { console.log(`usage: ${PROGRAM} tools bucket ls --objstore.config-file=FILE [-o wide|json]\n\n${flagsHelp(specs)}`); return 0; }
  const out = f.get("output")!;
  if (!["", "wide", "json"].includes(out)) throw new FlagError(`--output: ${JSON.stringify(out)} is not "", wide or json`);
  const bkt = await bucketFromFlags(f, "tools bucket ls");
  if (!bkt) throw new FlagError("tools bucket ls: --objstore.config-file or --objstore.config is required");
  const d = await discoverBlocks(bkt, { indexMaxStaleMs: f.bool("bucket-index") ? Number.MAX_SAFE_INTEGER : 0, now: Date.now() });
  if (d.fallback && f.bool("bucket-index")) console.error(`listing the bucket: ${d.fallback}`);
  for (const p of d.problems) console.error(`warning: ${p}`);
  const metas = [...d.metas].sort((a, b) => (a.ulid < b.ulid ? -1 : 1));
  for (const m of metas) {
    if (out === "json") { console.log(JSON.stringify(m)); continue; }
    if (out === "") { console.log(m.ulid); continue; }
    const labels = Object.entries(m.thanos?.labels ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",");
    const mark = d.marks.get(m.ulid);
    console.log([m.ulid, new Date(m.minTime).toISOString(), new Date(m.maxTime).toISOString(), `level=${m.compaction.level}`,
      `resolution=${m.thanos?.downsample.resolution ?? 0}`, `source=${m.thanos?.source ?? ""}`, `{${labels}}`,
      ...(mark ? [`marked-for-deletion=${new Date(mark.deletion_time * 1000).toISOString()}`] : [])].join("\t"));
  }
  console.error(`${metas.length} blocks (${d.source === "index" ? "from bucket-index.json" : "by listing"})`);
  return 0;
}


