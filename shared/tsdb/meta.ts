// meta.json: Prometheus' BlockMeta (version 1) plus Thanos' optional `thanos` section
// (pkg/block/metadata: external labels, downsample resolution, source, segment files, file list).
// Unknown fields are kept in `extra` so a rewrite does not drop what a newer writer added.

import { CodedError } from "../encoding/errors.ts";
import { isUlid } from "./ulid.ts";

export interface BlockStats {
  numSamples: number;
  numSeries: number;
  numChunks: number;
  numTombstones?: number;
  numFloatSamples?: number;
  numHistogramSamples?: number;
  numBytes?: number;
}

export interface BlockDesc { ulid: string; minTime: number; maxTime: number }

export interface Compaction {
  level: number;
  sources: string[];
  parents?: BlockDesc[];
  deletable?: boolean;
  failed?: boolean;
  hints?: string[];
}

/** Thanos metadata.File: JSON field names as Thanos writes them ("size_bytes", not "size_in_bytes"; hash {"hashFunc","value"}). */
export interface ThanosFile { rel_path: string; size_bytes?: number; hash?: { hashFunc: string; value: string } }

export interface ThanosMeta {
  version?: number;
  labels: Record<string, string>;
  downsample: { resolution: number };
  /** "sidecar", "compactor", "receive", "ruler", "bucket.replicate", "blockgen", … */
  source: string;
  segment_files?: string[];
  files?: ThanosFile[];
  index_stats?: { series_max_size?: number; chunk_max_size?: number };
  [k: string]: unknown;
}

export interface BlockMeta {
  ulid: string;
  /** Inclusive. */
  minTime: number;
  /** Exclusive: one past the last sample's timestamp. */
  maxTime: number;
  stats: BlockStats;
  compaction: Compaction;
  version: number;
  thanos?: ThanosMeta;
  [k: string]: unknown;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function parseBlockMeta(bytes: Uint8Array, what: string): BlockMeta {
  let j: unknown;
  try {
    j = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    throw new CodedError("corrupt", `${what}: meta.json is not valid JSON: ${(e as Error).message}`);
  }
  const bad = (msg: string): never => { throw new CodedError("corrupt", `${what}: meta.json: ${msg}`); };
  if (typeof j !== "object" || j === null || Array.isArray(j)) bad("not a JSON object");
  const m = j as Record<string, unknown>;
  if (typeof m.ulid !== "string" || !isUlid(m.ulid)) bad(`"ulid" ${JSON.stringify(m.ulid)} is not a ULID`);
  if (!Number.isSafeInteger(m.minTime)) bad(`"minTime" ${JSON.stringify(m.minTime)} is not an integer`);
  if (!Number.isSafeInteger(m.maxTime)) bad(`"maxTime" ${JSON.stringify(m.maxTime)} is not an integer`);
  if ((m.maxTime as number) < (m.minTime as number)) bad(`maxTime ${m.maxTime} before minTime ${m.minTime}`);
  if (m.version !== 1) bad(`unsupported version ${JSON.stringify(m.version)} (want 1)`);
  const stats = (m.stats ?? {}) as Record<string, unknown>;
  if (typeof stats !== "object") bad(`"stats" is not an object`);
  for (const k of ["numSamples", "numSeries", "numChunks"]) {
    stats[k] ??= 0;
    if (!Number.isSafeInteger(stats[k])) bad(`stats.${k} ${JSON.stringify(stats[k])} is not an integer`);
  }
  const comp = (m.compaction ?? { level: 1, sources: [m.ulid] }) as Record<string, unknown>;
  if (typeof comp !== "object" || !Number.isSafeInteger(comp.level)) bad(`"compaction.level" missing or not an integer`);
  comp.sources ??= [];
  if (!Array.isArray(comp.sources) || comp.sources.some((s) => typeof s !== "string")) bad(`"compaction.sources" is not a list of strings`);
  if (m.thanos !== undefined) {
    const t = m.thanos as Record<string, unknown>;
    if (typeof t !== "object" || t === null) bad(`"thanos" is not an object`);
    t.labels ??= {};
    if (typeof t.labels !== "object" || Object.values(t.labels as object).some((v) => typeof v !== "string")) bad(`"thanos.labels" is not a string map`);
    t.downsample ??= { resolution: 0 };
    const res = (t.downsample as Record<string, unknown>).resolution ?? 0;
    if (!Number.isSafeInteger(res)) bad(`"thanos.downsample.resolution" ${JSON.stringify(res)} is not an integer`);
    (t.downsample as Record<string, unknown>).resolution = res;
    t.source ??= "";
  }
  return m as unknown as BlockMeta;
}

/** meta.json bytes, tab-indented like Prometheus writes it. */
export function encodeBlockMeta(meta: BlockMeta): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(meta, null, "\t"));
}
