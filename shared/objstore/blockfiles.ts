// A block in a bucket as the block reader's BlockFiles: meta.json and tombstones are fetched whole, the
// index and chunk segments are read by range (what the store gateway does instead of downloading).

import { errorCode } from "../encoding/errors.ts";
import type { BlockFiles } from "../tsdb/block.ts";
import type { Bucket } from "./bucket.ts";
import { CHUNKS_DIR, INDEX_FILE, META_FILE } from "./block.ts";
import { bucketSource } from "./source.ts";

export function bucketBlockFiles(bkt: Bucket, ulid: string): BlockFiles {
  return {
    meta: () => bkt.get(`${ulid}/${META_FILE}`),
    index: () => bucketSource(bkt, `${ulid}/${INDEX_FILE}`),
    chunkSegment: (n) => bucketSource(bkt, `${ulid}/${CHUNKS_DIR}/${String(n).padStart(6, "0")}`),
    // Thanos does not ship tombstones, so a block from a bucket usually has none; any other failure is
    // a real error, not "no deletions".
    tombstones: () => bkt.get(`${ulid}/tombstones`).catch((e) => {
      if (errorCode(e) === "not_found") return null;
      throw e;
    }),
  };
}
