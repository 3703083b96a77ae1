// The compactor's local working space (Thanos: --data-dir), as an interface so the core stays free of
// runtime APIs: agent/compact/workspace.ts implements it on disk, tests in memory. Paths are "/"-joined
// and relative to the data directory: "compact/<group key>/<ULID>", "downsample/<ULID>",
// "meta-syncer/<ULID>/meta.json".

import type { Bucket } from "../objstore/bucket.ts";
import type { BlockFile } from "../objstore/block.ts";
import type { Block } from "../tsdb/block.ts";
import type { BlockMeta, ThanosFile } from "../tsdb/meta.ts";
import type { BlockSink } from "../tsdb/writer.ts";

export interface LocalBlock {
  block: Block;
  close(): Promise<void>;
}

export type HashFunc = "" | "SHA256";

export interface Workspace {
  /**
   * Download block `meta.ulid` into `dir` (the block directory itself), `concurrency` files at a time.
   * meta.json is always fetched again; a file whose Thanos hash (meta.thanos.files) matches the local
   * copy is not downloaded again, as Thanos does.
   */
  download(bkt: Bucket, meta: BlockMeta, dir: string, o: { concurrency: number }): Promise<void>;
  /** Open a local block directory; `sequential`: for series scans only (see openBlock). */
  open(dir: string, opts?: { sequential?: boolean }): Promise<LocalBlock>;
  /** A sink writing block `ulid` into `<parent>/<ulid>.tmp-for-creation`, renamed to `<parent>/<ulid>` on commit. */
  sink(parent: string, ulid: string): BlockSink;
  /**
   * A local block's files to upload (chunks/*, index; not meta.json) and their Thanos file stats, sorted
   * by path, with `meta.json` listed without size, and SHA256 hashes when asked (Thanos GatherFileStats).
   */
  blockFiles(dir: string, hash: HashFunc): Promise<{ upload: BlockFile[]; files: ThanosFile[] }>;
  /** Replace a local block's meta.json (atomically). */
  writeMeta(dir: string, meta: BlockMeta): Promise<void>;
  /** Remove a file or directory tree; missing is fine. */
  remove(path: string): Promise<void>;
  /** Names in a directory ([] when missing). */
  list(dir: string): Promise<string[]>;
}
