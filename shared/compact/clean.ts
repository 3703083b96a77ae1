// Deleting blocks: the ones marked for deletion longer ago than --delete-delay (Thanos BlocksCleaner) and
// aborted partial uploads (BestEffortCleanAbortedPartialUploads), plus retention marks
// (ApplyRetentionPolicyByResolution). Plain functions over a bucket, for the compactor and for
// `tools bucket cleanup|retention`.

import { errorMessage } from "../encoding/errors.ts";
import { goDuration } from "../encoding/gotext.ts";
import type { Bucket } from "../objstore/bucket.ts";
import { deleteBlock } from "../objstore/block.ts";
import type { BlockMeta } from "../tsdb/meta.ts";
import { ulidTime } from "../tsdb/ulid.ts";
import { type DeletionMark, markBlockLogged, readMarker } from "../block/markers.ts";
import { timeString } from "../template/gotime.ts";
import { type LogFn, nopLog } from "../block/log.ts";

/** Thanos' PartialUploadThresholdAge: a block folder without meta.json this old is an aborted upload. */
export const PARTIAL_UPLOAD_THRESHOLD_MS = 48 * 3600e3;

export interface CleanCounters {
  cleaned?: () => void;
  failed?: () => void;
  attempted?: () => void;
}

async function eachLimit<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/**
 * Delete every block whose deletion mark is older than `deleteDelayMs` (32 at a time): meta.json first,
 * the mark last. Returns the ids deleted and the errors (one per block that failed).
 */
export async function deleteMarkedBlocks(bkt: Bucket, marks: Iterable<DeletionMark>, deleteDelayMs: number, now: number, o: { log?: LogFn; counters?: CleanCounters } = {}): Promise<{ deleted: string[]; errors: Error[] }> {
  o.log?.("info", "started cleaning of blocks marked for deletion");
  const due = [...marks].filter((m) => (now - m.deletion_time * 1000) / 1000 > deleteDelayMs / 1000);
  const deleted: string[] = [], errors: Error[] = [];
  await eachLimit(due, 32, async (m) => {
    try {
      await deleteBlock(bkt, m.id);
      deleted.push(m.id);
      o.counters?.cleaned?.();
      o.log?.("info", "deleted block marked for deletion", { block: m.id });
    } catch (e) {
      o.counters?.failed?.();
      errors.push(new Error(`delete block ${m.id}: ${errorMessage(e)}`, { cause: e }));
    }
  });
  o.log?.("info", "cleaning of blocks marked for deletion done");
  return { deleted: deleted.sort(), errors };
}

/** The newest modification time of the objects under a block's folder (ms), or null when unknown. */
async function newestObject(bkt: Bucket, id: string): Promise<number | null> {
  let newest: number | null = null;
  for await (const k of bkt.iter(id, { recursive: true })) {
    const a = await bkt.attributes(k);
    const t = a.lastModified.getTime();
    if (Number.isFinite(t) && (newest === null || t > newest)) newest = t;
  }
  return newest;
}

/**
 * Delete partial blocks (folders without meta.json) that are done for: their newest object is older than
 * 48h (falling back to the ULID time), as Thanos does; blocks in `deletionMarks` are the cleaner's. Also,
 * unlike Thanos (which waits the 48h), a partial block carrying its own deletion mark older than
 * `deleteDelayMs` is a deletion that was interrupted after meta.json went: it is finished right away.
 */
export async function cleanAbortedPartialUploads(
  bkt: Bucket, partial: Iterable<string>, deletionMarks: ReadonlyMap<string, DeletionMark>, now: number,
  o: { log?: LogFn; counters?: CleanCounters; deleteDelayMs?: number } = {},
): Promise<string[]> {
  const deleted: string[] = [];
  for (const id of partial) {
    if (deletionMarks.has(id)) continue;
    let due = false;
    try {
      const mark = o.deleteDelayMs !== undefined ? await readMarker(bkt, id, "deletion").catch(() => null) : null;
      if (mark && (now - mark.deletion_time * 1000) > o.deleteDelayMs!) due = true;
      else {
        let last: number | null = null;
        try { last = await newestObject(bkt, id); } catch (e) {
          o.log?.("warn", "failed to get last modified time for block; falling back to block creation time", { block: id, err: errorMessage(e) });
        }
        due = now - (last ?? ulidTime(id)) > PARTIAL_UPLOAD_THRESHOLD_MS;
      }
    } catch (e) {
      o.log?.("warn", "cannot check partial block; will retry in next iteration", { block: id, err: errorMessage(e) });
      continue;
    }
    if (!due) continue;
    o.counters?.attempted?.();
    o.log?.("info", "found partially uploaded block; deleting", { block: id });
    try {
      await deleteBlock(bkt, id);
      o.counters?.cleaned?.();
      deleted.push(id);
      o.log?.("info", "deleted aborted partial upload", { block: id, thresholdAge: goDuration(PARTIAL_UPLOAD_THRESHOLD_MS) });
    } catch (e) {
      o.counters?.failed?.();
      o.log?.("warn", "failed to delete aborted partial upload; will retry in next iteration", { block: id, err: errorMessage(e) });
    }
  }
  return deleted;
}

/** Retention per resolution in ms (0 = keep forever). */
export interface Retention { raw: number; fiveMin: number; oneHour: number }

export function retentionFor(r: Retention, resolution: number): number {
  return resolution === 0 ? r.raw : resolution === 300000 ? r.fiveMin : resolution === 3600000 ? r.oneHour : 0;
}

/** Blocks past their resolution's retention: now > maxTime (whole seconds, as Thanos) + retention. */
export function blocksPastRetention(metas: Iterable<BlockMeta>, r: Retention, now: number): BlockMeta[] {
  const out: BlockMeta[] = [];
  for (const m of metas) {
    const ret = retentionFor(r, m.thanos?.downsample?.resolution ?? 0);
    if (ret <= 0) continue;
    const maxTime = Math.trunc(m.maxTime / 1000) * 1000;
    if (now > maxTime + ret) out.push(m);
  }
  return out;
}

/** Thanos ApplyRetentionPolicyByResolution: mark blocks past retention for deletion. Returns the marks written. */
export async function applyRetention(bkt: Bucket, metas: Iterable<BlockMeta>, r: Retention, now: number, o: { log?: LogFn; marked?: (m: DeletionMark) => void } = {}): Promise<DeletionMark[]> {
  const out: DeletionMark[] = [];
  for (const m of blocksPastRetention(metas, r, now)) {
    const ret = retentionFor(r, m.thanos?.downsample?.resolution ?? 0);
    const log = o.log ?? nopLog;
    log("info", "applying retention: marking block for deletion", { id: m.ulid, maxTime: timeString(Math.trunc(m.maxTime / 1000) * 1000) });
    const mark = await markBlockLogged(bkt, m.ulid, "deletion", { details: `block exceeding retention of ${goDuration(ret)}`, now }, log);
    if (mark) { out.push(mark); o.marked?.(mark); }
  }
  return out;
}
