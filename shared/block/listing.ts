// Which blocks a bucket holds, by listing it: the ground truth every reader and writer falls back to.
//
// A block is a "<ULID>/" folder whose meta.json exists. The root is listed once; then, per block, either
// meta.json is fetched directly (and deletion-mark.json tried), or (`folders`) the block folder is
// listed first: one LIST says whether meta.json is there and which markers are, so a known block costs
// one request per sync and a marker is fetched only when it exists (the compactor syncs often and reads
// three kinds of marker). Uploaders write meta.json last and deleters remove
// it first, so a folder without meta.json is an upload in progress, an aborted upload or a deletion in
// progress: a *partial* block (Thanos: "no-meta-json"), reported so the compactor can clean it once it is
// old enough. A meta.json that does not parse or names another block is partial too ("corrupted-meta-json"
// in Thanos, which also cleans those). A meta.json that could not be fetched (the bucket failed) makes the
// view incomplete: callers that act on absence (the compactor) must not trust such a listing.

import { errorCode, errorMessage } from "../encoding/errors.ts";
import { isNotFound, type Bucket } from "../objstore/bucket.ts";
import { iterBlockDirs, META_FILE } from "../objstore/block.ts";
import { DELETION_MARK_FILE, NO_COMPACT_MARK_FILE, NO_DOWNSAMPLE_MARK_FILE } from "./markers.ts";
import { type BlockMeta, parseBlockMeta } from "../tsdb/meta.ts";
import { type DeletionMark, readMarker } from "./markers.ts";

export interface Discovered {
  /** meta.json of every visible block (in listing order). */
  metas: BlockMeta[];
  /** Deletion marks found; complete for the listed blocks when `marksKnown`. */
  marks: Map<string, DeletionMark>;
  marksKnown: boolean;
  /** Marker files present per block (from the block folder listings), when known. */
  markers?: Map<string, Set<string>>;
  source: "index" | "listing";
  /** Block folders without a usable meta.json: id -> why ("no meta.json", "corrupted meta.json: …"). Listing only. */
  partial: Map<string, string>;
  /** Human-readable problems (corrupt metas or marks, fetch failures), one per block. */
  problems: string[];
  /** Blocks whose meta.json could not be fetched because the bucket failed: the view is incomplete. */
  incomplete: string[];
  /** The index's updated_at when source is "index". */
  indexUpdatedAt?: number;
  /** Why the listing was used although an index was wanted ("no bucket index", "… old", "unreadable: …"). */
  fallback?: string;
}

const MARKERS = new Set([DELETION_MARK_FILE, NO_COMPACT_MARK_FILE, NO_DOWNSAMPLE_MARK_FILE]);

export interface ListOptions {
  /** meta.json GETs in flight (Thanos --block-meta-fetch-concurrency, default 32). */
  concurrency?: number;
  /** Also read each visible block's deletion-mark.json (default true). */
  deletionMarks?: boolean;
  /**
   * Metas already known (blocks are immutable once visible): for these only the existence of meta.json
   * is checked (one HEAD instead of a GET), as Thanos' fetcher does with its cache.
   */
  known?: (id: string) => BlockMeta | undefined;
  /** Called with each meta.json fetched (e.g. to save it in a disk cache). */
  onFetched?: (meta: BlockMeta, bytes: Uint8Array) => void;
  /** List each block folder first (see above); fills `markers`. */
  folders?: boolean;
}

/**
 * Every block by listing: one LIST of the bucket root, then per block folder a GET of meta.json (or a
 * HEAD when `known`), and, when asked, of deletion-mark.json; `concurrency` blocks at a time.
 */
export async function listBucketBlocks(bkt: Bucket, opts: ListOptions = {}): Promise<Discovered> {
  const ids: string[] = [];
  for await (const id of iterBlockDirs(bkt)) ids.push(id);
  const metas: (BlockMeta | null)[] = new Array(ids.length).fill(null);
  const marks = new Map<string, DeletionMark>();
  const partial = new Map<string, string>();
  const problems: string[] = [];
  const incomplete: string[] = [];
  const markers = new Map<string, Set<string>>();
  const wantMarks = opts.deletionMarks ?? true;
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      const id = ids[i]!;
      const key = `${id}/${META_FILE}`;
      try {
        const known = opts.known?.(id);
        if (opts.folders) {
          let hasMeta = false;
          const present = new Set<string>();
          for await (const k of bkt.iter(id)) {
            const name = k.slice(id.length + 1);
            if (name === META_FILE) hasMeta = true;
            else if (MARKERS.has(name)) present.add(name);
          }
          markers.set(id, present);
          if (!hasMeta) { partial.set(id, `no ${META_FILE}`); continue; }
        } else if (known && !(await bkt.exists(key))) {
          partial.set(id, `no ${META_FILE}`);
          continue;
        }
        if (known) {
          metas[i] = known;
        } else {
          const mb = await bkt.get(key);
          let m: BlockMeta;
          try {
            m = parseBlockMeta(mb, `block ${id} ${META_FILE}`);
            if (m.ulid !== id) throw new Error(`block ${id} ${META_FILE}: names block ${m.ulid}`);
          } catch (e) {
            partial.set(id, `corrupted ${META_FILE}: ${errorMessage(e)}`);
            problems.push(`block ${id}: ${errorMessage(e)}`);
            continue;
          }
          metas[i] = m;
          opts.onFetched?.(m, mb);
        }
      } catch (e) {
        if (isNotFound(e)) { partial.set(id, `no ${META_FILE}`); continue; }
        incomplete.push(id);
        problems.push(`block ${id}: ${errorMessage(e)}`);
        continue;
      }
      if (!wantMarks || (opts.folders && !markers.get(id)!.has(DELETION_MARK_FILE))) continue;
      try {
        const mk = await readMarker(bkt, id, "deletion");
        if (mk) marks.set(id, mk);
      } catch (e) {
        problems.push(`block ${id}: ${errorMessage(e)}`);
        if (errorCode(e) !== "corrupt") incomplete.push(id);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 32) }, worker));
  return {
    metas: metas.filter((m): m is BlockMeta => m !== null), marks, marksKnown: wantMarks, ...(opts.folders ? { markers } : {}),
    source: "listing", partial, problems, incomplete,
  };
}
