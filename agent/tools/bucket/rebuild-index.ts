// `tools bucket index`: rebuild bucket-index.json from a listing of the bucket (docs/bucket-index.md).
// Run it after writing blocks by other means than our shipper, or when two writers may have raced.
import { rebuildBucketIndex, BUCKET_INDEX_FILE } from "../../../shared/block/bucketindex.ts";
import { FlagError, flagsHelp, parseFlags, type FlagSpec } from "../../flags.ts";
import { bucketFromFlags, OBJSTORE_FLAGS } from "../../objstore/factory.ts";
import { PROGRAM } from "../../program.ts";

const specs: FlagSpec[] = [...OBJSTORE_FLAGS, { name: "help", help: "show this help", boolean: true }];

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("tools bucket index", specs, argv);
  if (f.bool("help")) { console.log(`usage: ${PROGRAM} tools bucket index --objstore.config-file=FILE\n\nRebuild ${BUCKET_INDEX_FILE} by listing the bucket.\n\n${flagsHelp(specs)}`); return 0; }
  const bkt = await bucketFromFlags(f, "tools bucket index");
  if (!bkt) throw new FlagError("tools bucket index: --objstore.config-file or --objstore.config is required");
  const { index, problems } = await rebuildBucketIndex(bkt);
  for (const p of problems) console.error(`warning: ${p}`);
  console.log(`wrote ${BUCKET_INDEX_FILE} to bucket ${bkt.name}: ${index.blocks.length} blocks, ${index.deletion_marks.length} deletion marks`);
  return 0;
}
