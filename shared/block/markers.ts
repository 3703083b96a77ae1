// Block markers: small JSON files beside a block's meta.json that change what the compactor and the
// store gateway do with it, written exactly as Thanos writes them (pkg/block/metadata/markers.go,
// pkg/block/block.go MarkFor*): Go's json.Marshal of the struct, so compact JSON with the fields in
// struct order, `details` left out when empty, times in Unix seconds, version 1.
//
//   <ULID>/deletion-mark.json       {"id":…,"version":1,"details":…,"deletion_time":…}
//   <ULID>/no-compact-mark.json     {"id":…,"version":1,"details":…,"no_compact_time":…,"reason":…}
//   <ULID>/no-downsample-mark.json  {"id":…,"version":1,"details":…,"no_downsample_time":…,"reason":…}
//
// Marking is idempotent like Thanos': an existing marker is left as it is (its time is not refreshed),
// so a retried mark does not postpone a deletion.

import { CodedError, errorMessage } from "../encoding/errors.ts";
import { isNotFound, type Bucket } from "../objstore/bucket.ts";
import { DELETION_MARK_FILE } from "../objstore/block.ts";
import { isUlid } from "../tsdb/ulid.ts";
import type { LogFn } from "./log.ts";

export { DELETION_MARK_FILE };
export const NO_COMPACT_MARK_FILE = "no-compact-mark.json";
export const NO_DOWNSAMPLE_MARK_FILE = "no-downsample-mark.json";
export const MARKER_VERSION = 1;

/** Thanos' NoCompactReason values. */
export const NoCompactReason = {
  Manual: "manual",
  IndexSizeExceeding: "index-size-exceeding",
  OutOfOrderChunks: "block-index-out-of-order-chunk",
  DownsampleVerticalCompaction: "downsample-vertical-compaction",
} as const;

export interface DeletionMark { id: string; version: number; details?: string; deletion_time: number }
export interface NoCompactMark { id: string; version: number; details?: string; no_compact_time: number; reason: string }
export interface NoDownsampleMark { id: string; version: number; details?: string; no_downsample_time: number; reason: string }

export type MarkerKind = "deletion" | "no-compact" | "no-downsample";
export interface MarkerOf { "deletion": DeletionMark; "no-compact": NoCompactMark; "no-downsample": NoDownsampleMark }

export const MARKER_FILES: Record<MarkerKind, string> = {
  "deletion": DELETION_MARK_FILE,
  "no-compact": NO_COMPACT_MARK_FILE,
  "no-downsample": NO_DOWNSAMPLE_MARK_FILE,
};
const TIME_FIELD: Record<MarkerKind, string> = { "deletion": "deletion_time", "no-compact": "no_compact_time", "no-downsample": "no_downsample_time" };

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** The marker as Thanos' json.Marshal writes it (field order of the Go struct, no whitespace). */
export function encodeMarker<K extends MarkerKind>(kind: K, m: MarkerOf[K]): Uint8Array {
  const o: Record<string, unknown> = { id: m.id, version: m.version };
  if (m.details) o.details = m.details;
  const tf = TIME_FIELD[kind];
  o[tf] = (m as unknown as Record<string, number>)[tf];
  if (kind !== "deletion") o.reason = (m as NoCompactMark).reason;
  return enc.encode(JSON.stringify(o));
}

/**
 * Parse a marker. Anything that is not a version-1 marker of this kind naming a block ULID is a
 * "corrupt" CodedError (Thanos: a partially uploaded or foreign marker, skipped with a warning).
 */
export function parseMarker<K extends MarkerKind>(kind: K, b: Uint8Array, what = MARKER_FILES[kind]): MarkerOf[K] {
  let j: unknown;
  try { j = JSON.parse(dec.decode(b)); } catch (e) {
    throw new CodedError("corrupt", `${what}: not valid JSON: ${errorMessage(e)}`);
  }
  const o = j as Record<string, unknown>;
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new CodedError("corrupt", `${what}: not a JSON object`);
  if (typeof o.id !== "string" || !isUlid(o.id)) throw new CodedError("corrupt", `${what}: "id" ${JSON.stringify(o.id)} is not a block ULID`);
  if (o.version !== MARKER_VERSION) throw new CodedError("corrupt", `${what}: unexpected version ${JSON.stringify(o.version)}, expected ${MARKER_VERSION}`);
  const tf = TIME_FIELD[kind];
  const t = o[tf] ?? 0; // Go decodes a missing field as 0
  if (typeof t !== "number" || !Number.isFinite(t)) throw new CodedError("corrupt", `${what}: "${tf}" is not a number`);
  if (o.details !== undefined && typeof o.details !== "string") throw new CodedError("corrupt", `${what}: "details" is not a string`);
  const out: Record<string, unknown> = { id: o.id, version: o.version, [tf]: t };
  if (o.details) out.details = o.details;
  if (kind !== "deletion") {
    if (o.reason !== undefined && typeof o.reason !== "string") throw new CodedError("corrupt", `${what}: "reason" is not a string`);
    out.reason = o.reason ?? "";
  }
  return out as unknown as MarkerOf[K];
}

/** The block's marker, or null when it has none. Unreadable: the bucket's error; unparseable: "corrupt". */
export async function readMarker<K extends MarkerKind>(bkt: Bucket, id: string, kind: K): Promise<MarkerOf[K] | null> {
  const key = `${id}/${MARKER_FILES[kind]}`;
  let b: Uint8Array;
  try {
    b = await bkt.get(key);
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
  return parseMarker(kind, b, `${key} in bucket ${bkt.name}`);
}

export interface MarkOptions {
  details?: string;
  /** For no-compact and no-downsample marks (default "manual"). */
  reason?: string;
  /** Clock (ms); the marker stores whole seconds, as Thanos' time.Now().Unix(). */
  now?: number;
}

/**
 * Put a marker on block `id`. Returns the marker written, or null when the block already had one (left
 * unchanged, as Thanos does). The block must not be checked for existence here: marking a block whose
 * meta.json is already gone is how a crashed deletion is finished.
 */
export async function markBlock<K extends MarkerKind>(bkt: Bucket, id: string, kind: K, o: MarkOptions = {}): Promise<MarkerOf[K] | null> {
  if (!isUlid(id)) throw new CodedError("bad_data", `mark block ${JSON.stringify(id)}: not a block ULID`);
  const key = `${id}/${MARKER_FILES[kind]}`;
  if (await bkt.exists(key)) return null;
  const t = Math.floor((o.now ?? Date.now()) / 1000);
  const m: Record<string, unknown> = { id, version: MARKER_VERSION, [TIME_FIELD[kind]]: t };
  if (o.details) m.details = o.details;
  if (kind !== "deletion") m.reason = o.reason ?? NoCompactReason.Manual;
  const mark = m as unknown as MarkerOf[K];
  await bkt.upload(key, encodeMarker(kind, mark));
  return mark;
}

/** Remove a marker (Thanos `tools bucket mark --remove`). Removing a missing marker succeeds. */
export async function unmarkBlock(bkt: Bucket, id: string, kind: MarkerKind): Promise<void> {
  if (!isUlid(id)) throw new CodedError("bad_data", `unmark block ${JSON.stringify(id)}: not a block ULID`);
  await bkt.delete(`${id}/${MARKER_FILES[kind]}`);
}

/** Thanos' log texts of block.MarkFor* (the no-downsample "exists" text says "no deletion", as Thanos'). */
const MARK_LOG: Record<MarkerKind, { done: string; exists: string }> = {
  "deletion": { done: "block has been marked for deletion", exists: "requested to mark for deletion, but file already exists; this should not happen; investigate" },
  "no-compact": { done: "block has been marked for no compaction", exists: "requested to mark for no compaction, but file already exists; this should not happen; investigate" },
  "no-downsample": { done: "block has been marked for no downsample", exists: "requested to mark for no deletion, but file already exists; this should not happen; investigate" },
};

/** markBlock with Thanos' block.MarkFor* log lines (an existing marker is a warning, not an error). */
export async function markBlockLogged<K extends MarkerKind>(bkt: Bucket, id: string, kind: K, o: MarkOptions, log: LogFn): Promise<MarkerOf[K] | null> {
  const m = await markBlock(bkt, id, kind, o);
  if (m) log("info", MARK_LOG[kind].done, { block: id });
  else log("warn", MARK_LOG[kind].exists, { err: `file ${id}/${MARKER_FILES[kind]} already exists in bucket` });
  return m;
}

/** Thanos' block.RemoveMark: a missing marker is a warning; returns whether one was removed. */
export async function unmarkBlockLogged(bkt: Bucket, id: string, kind: MarkerKind, log: LogFn): Promise<boolean> {
  const key = `${id}/${MARKER_FILES[kind]}`;
  if (!(await bkt.exists(key))) {
    log("warn", "requested to remove the mark, but file does not exist", { err: `file ${key} does not exist in bucket` });
    return false;
  }
  await unmarkBlock(bkt, id, kind);
  log("info", "mark has been removed from the block", { block: id });
  return true;
}
