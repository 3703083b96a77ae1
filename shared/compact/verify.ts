// `tools bucket verify`: Thanos' pkg/verifier over a bucket. Issues:
//
//   overlapped_blocks      (verify only) blocks of one stream and resolution whose ranges overlap;
//   index_known_issues     every block's index read through Thanos' health checks (chunks outside the
//                          range, issue 347, out-of-order or duplicated chunks, out-of-order labels);
//                          --repair rewrites the block (shared/compact/repair.ts), checks and uploads
//                          the result, then backs the broken block up and deletes it (or marks it);
//   duplicated_compaction  overlapping blocks with the same range, level, sources and stats (an old
//                          compactor bug): --repair backs up and deletes all but the first.
//
// The default set is index_known_issues and overlapped_blocks; verifiers run before repairers, as in
// Thanos. Blocks marked for deletion are not looked at. Repairs need a backup bucket.
//
// Differences from Thanos (on purpose): blocks are visited in ULID order and groups in key order (Thanos
// walks Go maps in random order), so the duplicate kept is the first by minTime then ULID; after a
// backup with --delete-delay=0 the block is deleted without also writing a deletion mark into its
// emptied folder (Thanos does both, leaving a folder holding only deletion-mark.json); a downsampled
// block with index issues is reported as not repairable (Thanos' repairIndex returns without an error
// and logs "all good").

import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import { anyHealthError, type HealthStats, indexHealthStats } from "../block/health.ts";
import type { LogFn } from "../block/log.ts";
import { markBlockLogged } from "../block/markers.ts";
import { overlappingBlocks, overlapsString, spanString, type Overlap } from "../block/overlaps.ts";
import type { Bucket } from "../objstore/bucket.ts";
import { deleteBlock, uploadBlock, META_FILE } from "../objstore/block.ts";
import { bucketSource } from "../objstore/source.ts";
import { IndexReader } from "../tsdb/index.ts";
import { encodeBlockMeta, type BlockMeta } from "../tsdb/meta.ts";
import { newUlid } from "../tsdb/ulid.ts";
import { groupBlocks } from "./group.ts";
import { repairBlock } from "./repair.ts";
import type { Workspace } from "./workspace.ts";

export const VERIFIERS = ["overlapped_blocks"] as const;
export const REPAIRERS = ["index_known_issues", "duplicated_compaction"] as const;
export const DEFAULT_ISSUES = ["index_known_issues", "overlapped_blocks"];

export interface Selected { verifiers: string[]; repairers: string[] }

/** Thanos' Registry.SubstractByIDs: with repair only repairers qualify. */
export function selectIssues(ids: readonly string[], repair: boolean): Selected {
  const out: Selected = { verifiers: [], repairers: [] };
  for (const id of ids) {
    if (!repair && (VERIFIERS as readonly string[]).includes(id)) { out.verifiers.push(id); continue; }
    if ((REPAIRERS as readonly string[]).includes(id)) { out.repairers.push(id); continue; }
    throw new CodedError("bad_data", `no such issue ID ${id}`);
  }
  return out;
}

export interface VerifyDeps {
  bkt: Bucket;
  /** Where repairs copy a block before deleting it (Thanos' --objstore-backup.config). */
  backup: Bucket | null;
  log: LogFn;
  /** The blocks to check: a sync that leaves out blocks marked for deletion. */
  fetch(): Promise<Map<string, BlockMeta>>;
  /** 0: repaired blocks are deleted at once; otherwise they get a deletion mark. */
  deleteDelayMs: number;
  /** Local space for repairs (downloads, the rewritten block). */
  ws: Workspace;
  /** Upload a local block directory as the compactor does (files, meta.json last). */
  upload(dir: string, meta: BlockMeta): Promise<BlockMeta>;
  now?: () => number;
}

type Ctx = VerifyDeps & { log: LogFn };

function withFields(log: LogFn, fields: Record<string, unknown>): LogFn {
  return (lv, msg, kv) => log(lv, msg, { ...fields, ...kv });
}

/** Blocks grouped by Thanos' group key, each group's overlaps (groups in key order). */
async function fetchOverlaps(d: Ctx): Promise<[string, Overlap<BlockMeta>[]][]> {
  const out: [string, Overlap<BlockMeta>[]][] = [];
  for (const g of groupBlocks((await d.fetch()).values())) {
    const o = overlappingBlocks(g.metas);
    if (o.length > 0) out.push([g.key, o]);
  }
  return out;
}

async function overlappedBlocks(d: Ctx, ids: ReadonlySet<string> | null): Promise<void> {
  if (ids) throw new CodedError("bad_data", "id matching is not supported");
  d.log("info", "started verifying issue");
  for (const [k, o] of await fetchOverlaps(d)) d.log("warn", "found overlapped blocks", { group: k, overlap: overlapsString(o) });
}

/** Same range, level, sources and stats (Thanos' duplicatedBlocks); only sets of two or more. */
export function duplicatedBlocks(blocks: readonly BlockMeta[]): BlockMeta[][] {
  const sets: BlockMeta[][] = [];
  const same = (a: BlockMeta, b: BlockMeta) =>
    a.minTime === b.minTime && a.maxTime === b.maxTime && a.compaction.level === b.compaction.level &&
    a.compaction.sources.length === b.compaction.sources.length && a.compaction.sources.every((s, i) => s === b.compaction.sources[i]) &&
    (["numSamples", "numFloatSamples", "numHistogramSamples", "numSeries", "numChunks", "numTombstones"] as const).every((k) => (a.stats[k] ?? 0) === (b.stats[k] ?? 0));
  for (const b of blocks) {
    const s = sets.find((x) => same(x[0]!, b));
    if (s) s.push(b); else sets.push([b]);
  }
  return sets.filter((s) => s.length > 1);
}

function sprintMetas(ms: readonly BlockMeta[]): string {
  return `blocks: ${ms.length}, [${ms.map(spanString).join(",")}]`;
}

async function duplicatedCompaction(d: Ctx, ids: ReadonlySet<string> | null, repair: boolean): Promise<void> {
  if (ids) throw new CodedError("bad_data", "id matching is not supported");
  d.log("info", "started verifying issue", { "with-repair": repair });
  const overlaps = await fetchOverlaps(d);
  if (overlaps.length === 0) return;
  const kill: string[] = [];
  for (const [k, groups] of overlaps) {
    for (const o of groups) {
      const dups = duplicatedBlocks(o.blocks);
      for (const s of dups) {
        d.log("warn", "found duplicated blocks", { group: k, "range-min": o.min, "range-max": o.max, kill: sprintMetas(s.slice(1)) });
        for (const m of s.slice(1)) if (!kill.includes(m.ulid)) kill.push(m.ulid);
      }
      if (dups.length === 0) {
        d.log("warn", "found overlapped blocks, but all of the blocks are unique. Seems like unrelated issue. Ignoring overlap", { group: k, range: `{${o.min} ${o.max}}`, overlap: sprintMetas(o.blocks) });
      }
    }
  }
  d.log("warn", "Found duplicated blocks that are ok to be removed", { ULIDs: `[${kill.join(" ")}]`, num: kill.length });
  if (!repair) return;
  const metas = await d.fetch();
  for (const [i, id] of kill.entries()) {
    const m = metas.get(id);
    if (!m) throw new CodedError("not_found", `block ${id}: gone from the bucket`);
    await backupAndDelete(d, m, null);
    d.log("info", "Removed duplicated block", { id, "to-be-removed": kill.length - (i + 1), removed: i + 1 });
  }
  d.log("info", "Removed all duplicated blocks. You might want to rerun this verify to check if there is still any unrelated overlap");
}

/**
 * Thanos' BackupAndDelete(Downloaded): copy the block to the backup bucket (refusing when it is there
 * already), then delete it from the bucket (delete delay 0) or mark it for deletion.
 */
async function backupAndDelete(d: Ctx, m: BlockMeta, downloaded: string | null): Promise<void> {
  const id = m.ulid;
  if (!d.backup) throw new CodedError("bad_data", "repair needs a backup bucket");
  for await (const _ of d.backup.iter(id)) {
    throw new CodedError("bad_data", `${id} dir seems to exists in backup bucket. Remove this block manually if you are sure it is safe to do`);
  }
  const dir = downloaded ?? `verify/safe-delete-${id}/${id}`;
  try {
    if (!downloaded) await d.ws.download(d.bkt, m, dir, { concurrency: 1 }).catch((e) => { throw new CodedError("unavailable", `download from source: ${errorMessage(e)}`, { cause: e }); });
    d.log("info", "Uploading block to backup bucket", { id });
    const { upload } = await d.ws.blockFiles(dir, "");
    await uploadBlock(d.backup, id, [...upload, { path: META_FILE, data: encodeBlockMeta(m) }]).catch((e) => { throw new CodedError("unavailable", `upload to backup: ${errorMessage(e)}`, { cause: e }); });
  } finally {
    if (!downloaded) await d.ws.remove(`verify/safe-delete-${id}`).catch(() => {});
  }
  if (d.deleteDelayMs === 0) {
    d.log("info", "Deleting block", { id });
    await deleteBlock(d.bkt, id).catch((e) => { throw new CodedError("unavailable", `delete from source: ${errorMessage(e)}`, { cause: e }); });
    return;
  }
  d.log("info", "Marking block as deleted", { id });
  await markBlockLogged(d.bkt, id, "deletion", { details: "manual verify-repair", now: d.now?.() }, d.log);
}

/** The index of block `m` through Thanos' health checks, read in sequential ranges from the bucket. */
async function blockIndexHealth(bkt: Bucket, m: BlockMeta): Promise<HealthStats> {
  const ix = await IndexReader.open(bucketSource(bkt, `${m.ulid}/index`), `block ${m.ulid} index`, { postingsTable: false });
  return indexHealthStats(ix, m.minTime, m.maxTime);
}

async function indexKnownIssues(d: Ctx, ids: ReadonlySet<string> | null, repair: boolean): Promise<void> {
  d.log("info", "started verifying issue", { "with-repair": repair });
  const metas = await d.fetch();
  for (const id of [...metas.keys()].sort()) {
    if (ids && !ids.has(id)) continue;
    const m = metas.get(id)!;
    let stats: HealthStats | null = null;
    let problem: string | null;
    try {
      stats = await blockIndexHealth(d.bkt, m);
      problem = anyHealthError(stats);
    } catch (e) {
      problem = `gather index issues ${id}: ${errorMessage(e)}`;
    }
    if (problem === null) { d.log("debug", "no issue", { id }); continue; }
    d.log("warn", "detected issue", { id, err: problem });
    if (!repair) continue;
    try {
      if (!stats) throw new CodedError("corrupt", `block ${id}: the index could not be read, so it cannot be repaired`);
      await repairIndex(d, m, stats);
    } catch (e) {
      d.log("error", "could not repair index", { err: errorMessage(e) });
      continue;
    }
    d.log("info", "all good, continuing", { id });
  }
  d.log("info", "verified issue", { "with-repair": repair });
}

async function repairIndex(d: Ctx, m: BlockMeta, s: HealthStats): Promise<void> {
  const id = m.ulid;
  if (s.outOfOrderChunks > s.duplicatedChunks) d.log("warn", "detected overlaps are not entirely by duplicated chunks. We are able to repair only duplicates", { id });
  if (s.outsideChunks > s.completeOutsideChunks + s.issue347OutsideChunks) {
    d.log("warn", "detected outsiders are not all 'complete' outsiders or outsiders from https://github.com/prometheus/tsdb/issues/347. We can safely delete only these outsiders", { id });
  }
  if ((m.thanos?.downsample?.resolution ?? 0) > 0) throw new CodedError("bad_data", "cannot repair downsampled blocks");
  const base = `verify/repair-${id}`;
  try {
    d.log("info", "downloading block for repair", { id });
    await d.ws.download(d.bkt, m, `${base}/${id}`, { concurrency: 1 }).catch((e) => { throw new CodedError("unavailable", `download block ${id}: ${errorMessage(e)}`, { cause: e }); });
    d.log("info", "downloaded block to be repaired", { id });
    d.log("info", "repairing block", { id });
    const resid = newUlid(d.now?.());
    const src = await d.ws.open(`${base}/${id}`);
    let meta: BlockMeta;
    try {
      meta = await repairBlock(src.block, d.ws.sink(base, resid), { ulid: resid, log: d.log });
    } catch (e) {
      throw new CodedError("corrupt", `repair failed for block ${id}: ${errorMessage(e)}`, { cause: e });
    } finally {
      await src.close();
    }
    d.log("info", "verifying repaired block", { id, newID: resid });
    const out = await d.ws.open(`${base}/${resid}`, { sequential: true });
    try {
      const bad = anyHealthError(await indexHealthStats(out.block.index, meta.minTime, meta.maxTime));
      if (bad) throw new CodedError("corrupt", `repaired block is invalid ${resid}: ${bad}`);
    } finally {
      await out.close();
    }
    d.log("info", "uploading repaired block", { newID: resid });
    await d.upload(`${base}/${resid}`, meta).catch((e) => { throw new CodedError("unavailable", `upload of ${resid} failed: ${errorMessage(e)}`, { cause: e }); });
    d.log("info", "safe deleting broken block", { id });
    await backupAndDelete(d, m, `${base}/${id}`).catch((e) => { throw new CodedError("unavailable", `safe deleting old block ${id} failed: ${errorMessage(e)}`, { cause: e }); });
  } finally {
    await d.ws.remove(base).catch(() => {});
  }
}

/**
 * Thanos' Manager.Verify / VerifyAndRepair. `ids`: only these blocks (issues that cannot select blocks
 * fail, as in Thanos).
 */
export async function verifyBucket(deps: VerifyDeps, sel: Selected, ids: ReadonlySet<string> | null, repair: boolean): Promise<void> {
  if (sel.verifiers.length + sel.repairers.length === 0) {
    throw new CodedError("bad_data", repair ? "nothing to verify. No verifierRepairers registered" : "nothing to verify. No verifiers and verifierRepairers registered");
  }
  const all = repair ? sel.repairers : [...sel.verifiers, ...sel.repairers];
  const log = withFields(deps.log, { verifiers: all.join(",") });
  if (repair) log("warn", "GLOBAL COMPACTOR SHOULD __NOT__ BE RUNNING ON THE SAME BUCKET");
  log("info", repair ? "Starting verify and repair task" : "Starting verify task");
  const run = async (id: string) => {
    const d: Ctx = { ...deps, log: withFields(log, { verifier: id }) };
    try {
      if (id === "overlapped_blocks") await overlappedBlocks(d, ids);
      else if (id === "index_known_issues") await indexKnownIssues(d, ids, repair);
      else await duplicatedCompaction(d, ids, repair);
    } catch (e) {
      throw new CodedError(errorCode(e) ?? "internal", `${repair ? "verify and repair" : "verify"} ${id}: ${errorMessage(e)}`, { cause: e });
    }
  };
  if (!repair) for (const v of sel.verifiers) await run(v);
  for (const r of sel.repairers) await run(r);
  log("info", repair ? "verify and repair task completed" : "verify task completed");
}
