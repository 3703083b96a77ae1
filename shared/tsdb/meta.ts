// meta.json: Prometheus' BlockMeta (version 1) plus Thanos' optional `thanos` section
// (pkg/block/metadata: external labels, downsample resolution, source, segment files, file list).
// Unknown fields are kept in `extra` so a rewrite does not drop what a newer writer added.

import { CodedError } from "../encoding/errors.ts";
import { goJsonTime, goSortedJsonValue } from "../encoding/gotext.ts";
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

/**
 * The meta as Thanos' metadata.Meta marshals it (what `thanos tools bucket ls -o json` prints and
 * /api/v1/blocks answers): Go's field order and omitempty rules, fields Go's structs do not know
 * dropped, zero values Go writes filled in (`index_stats: {}`, `upload_time: "0001-01-01T00:00:00Z"`,
 * `labels: null` without a thanos section). Serialise with goJson (shared/encoding/gotext.ts).
 */
export function thanosMetaGoValue(m: BlockMeta): Record<string, unknown> {
  const omit0 = (o: Record<string, unknown>, k: string, v: unknown) => { if (typeof v === "number" && v !== 0) o[k] = v; };
  const stats: Record<string, unknown> = {};
  for (const k of ["numSamples", "numFloatSamples", "numHistogramSamples", "numSeries", "numChunks", "numTombstones"] as const) omit0(stats, k, m.stats?.[k]);
  const c = m.compaction;
  const compaction: Record<string, unknown> = { level: c.level };
  if (c.sources?.length) compaction.sources = c.sources;
  if (c.deletable) compaction.deletable = true;
  if (c.parents?.length) compaction.parents = c.parents.map((p) => ({ ulid: p.ulid, minTime: p.minTime, maxTime: p.maxTime }));
  if (c.failed) compaction.failed = true;
  if (c.hints?.length) compaction.hints = c.hints;
  const t = m.thanos;
  const thanos: Record<string, unknown> = {};
  omit0(thanos, "version", t?.version);
  thanos.labels = t ? goSortedJsonValue(t.labels) : null;
  thanos.downsample = { resolution: t?.downsample?.resolution ?? 0 };
  thanos.source = t?.source ?? "";
  if (t?.segment_files?.length) thanos.segment_files = t.segment_files;
  if (t?.files?.length) {
    thanos.files = t.files.map((f) => {
      const o: Record<string, unknown> = { rel_path: f.rel_path };
      omit0(o, "size_bytes", f.size_bytes);
      if (f.hash) o.hash = { hashFunc: f.hash.hashFunc, value: f.hash.value };
      return o;
    });
  }
  if (Array.isArray(t?.rewrites) && t.rewrites.length) thanos.rewrites = t.rewrites;
  const is: Record<string, unknown> = {};
  omit0(is, "series_max_size", t?.index_stats?.series_max_size);
  omit0(is, "chunk_max_size", t?.index_stats?.chunk_max_size);
  thanos.index_stats = is;
  if (t?.extensions !== undefined && t.extensions !== null) thanos.extensions = goSortedJsonValue(t.extensions);
  thanos.upload_time = typeof t?.upload_time === "string" ? goJsonTime(t.upload_time) : "0001-01-01T00:00:00Z";
  return { ulid: m.ulid, minTime: m.minTime, maxTime: m.maxTime, stats, compaction, version: m.version, thanos };
}
