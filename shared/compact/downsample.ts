// STUB until the downsampling codec lands on main (branch `downsample` writes this file): the compactor
// is coded against this signature and deletes the stub at the merge. Calling it fails loudly; run the
// compactor with --downsampling.disable meanwhile.

import { CodedError } from "../encoding/errors.ts";
import type { Block } from "../tsdb/block.ts";
import type { BlockMeta } from "../tsdb/meta.ts";
import type { BlockSink } from "../tsdb/writer.ts";

export const RES_RAW = 0;
export const RES_5M = 300_000;
export const RES_1H = 3_600_000;
/** Raw blocks of at least this range (40h) are downsampled to 5m. */
export const DOWNSAMPLE_RANGE_5M = 40 * 3600_000;
/** 5m blocks of at least this range (10d) are downsampled to 1h. */
export const DOWNSAMPLE_RANGE_1H = 10 * 86_400_000;

export async function downsampleBlock(src: Block, resolution: number, _sink: BlockSink, _opts: { ulid?: string } = {}): Promise<BlockMeta | null> {
  throw new CodedError("internal", `downsample ${src.what} to resolution ${resolution}: downsampling is not in this build yet; run with --downsampling.disable`);
}
