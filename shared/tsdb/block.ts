// A block: meta.json + index + chunk segments + tombstones, opened over any storage through
// BlockFiles (local disk in agent/tsdb/local.ts, a bucket in shared/objstore). Opening reads meta.json,
// the tombstones and the index's TOC, symbols and postings offset table; everything else on demand.

import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import type { Matcher } from "../labels/matcher.ts";
import { setMatches } from "../labels/matcher.ts";
import { ChunkReader } from "./chunks.ts";
import { IndexReader } from "./index.ts";
import { parseBlockMeta, type BlockMeta } from "./meta.ts";
import { emptyPostings, intersect, isEmptyPostings, merge, without, type Postings } from "./postings.ts";
import type { ByteSource } from "./source.ts";
import { parseTombstones, type Tombstones } from "./tombstones.ts";

export interface BlockFiles {
  meta(): Promise<Uint8Array>;
  index(): ByteSource;
  /** Segment file number n as in its name: 1 is chunks/000001 (chunk refs count from 0). */
  chunkSegment(n: number): ByteSource;
  /** null when the block has no tombstones file. */
  tombstones(): Promise<Uint8Array | null>;
}

export interface Block {
  readonly ulid: string;
  readonly meta: BlockMeta;
  readonly index: IndexReader;
  readonly chunks: ChunkReader;
  readonly tombstones: Tombstones;
  /** "block 01H…", the prefix of every error about this block. */
  readonly what: string;
  postingsForMatchers(ms: readonly Matcher[]): Promise<Postings>;
}

/** `sequential`: the index is opened for series scans only (compaction), without its postings table. */
export async function openBlock(files: BlockFiles, opts: { sequential?: boolean } = {}): Promise<Block> {
  let metaBytes: Uint8Array;
  try {
    metaBytes = await files.meta();
  } catch (e) {
    throw new CodedError(errorCode(e) ?? "unavailable", `read meta.json: ${errorMessage(e)}`, { cause: e });
  }
  const meta = parseBlockMeta(metaBytes, "block");
  const what = `block ${meta.ulid}`;
  const [index, tombBytes] = await Promise.all([
    IndexReader.open(files.index(), `${what} index`, { postingsTable: !opts.sequential }),
    files.tombstones().catch((e) => {
      throw new CodedError(errorCode(e) ?? "unavailable", `${what} tombstones: ${errorMessage(e)}`, { cause: e });
    }),
  ]);
  const tombstones = tombBytes ? parseTombstones(tombBytes, `${what} tombstones`) : new Map();
  const chunks = new ChunkReader((i) => files.chunkSegment(i + 1), what);
  return {
    ulid: meta.ulid, meta, index, chunks, tombstones, what,
    postingsForMatchers: (ms) => postingsForMatchers(index, ms),
  };
}

/**
 * What postingsForMatchers asks of an index: a block's IndexReader, or the head's MemPostings
 * (shared/tsdb/head/postings.ts), so matchers select head and block series alike.
 */
export interface PostingsIndex {
  postings(name: string, values: string[]): Promise<Postings>;
  /** Sorted values of a label name. */
  labelValues(name: string): string[];
  allPostings(): Promise<Postings>;
}

/** The matcher selecting exactly the values `m` rejects (Prometheus Matcher.Inverse). */
function inverse(m: Matcher): Matcher {
  const type = m.type === "=" ? "!=" : m.type === "!=" ? "=" : m.type === "=~" ? "!~" : "=~";
  return { type, name: m.name, value: m.value, matches: (v: string) => !m.matches(v) };
}

/** Postings of the series with the label set to a value `m` accepts (never series without it). */
async function postingsForMatcher(ix: PostingsIndex, m: Matcher): Promise<Postings> {
  if (m.type === "=") return ix.postings(m.name, [m.value]);
  if (m.type === "=~") {
    const set = setMatches(m);
    if (set !== null && set.length > 0) return ix.postings(m.name, set);
  }
  const vals = ix.labelValues(m.name).filter((v) => m.matches(v));
  if (vals.length === 0) return emptyPostings();
  return ix.postings(m.name, vals);
}

/** Postings of the series with the label set to a value `m` rejects. */
async function inversePostingsForMatcher(ix: PostingsIndex, m: Matcher): Promise<Postings> {
  const vals = ix.labelValues(m.name);
  const res = m.type === "=" && m.value === "" ? vals : vals.filter((v) => !m.matches(v));
  return ix.postings(m.name, res);
}

/**
 * Series refs matching every matcher, like Prometheus' PostingsForMatchers: a matcher that accepts ""
 * also selects series without the label, so it is applied by subtracting what it rejects; `!=`/`!~`
 * on a label that must be set subtract the inverse's postings.
 */
export async function postingsForMatchers(ix: PostingsIndex, ms: readonly Matcher[]): Promise<Postings> {
  const its: Postings[] = [];
  const notIts: Postings[] = [];
  const mustBeSet = new Set<string>();
  for (const m of ms) if (!m.matches("")) mustBeSet.add(m.name);
  for (const m of ms) {
    if (mustBeSet.has(m.name)) {
      const empty = m.matches("");
      const isNot = m.type === "!=" || m.type === "!~";
      if (isNot && empty) {
        notIts.push(await postingsForMatcher(ix, inverse(m)));
      } else if (isNot && !empty) {
        const it = await inversePostingsForMatcher(ix, inverse(m));
        if (isEmptyPostings(it)) return emptyPostings();
        its.push(it);
      } else {
        const it = await postingsForMatcher(ix, m);
        if (isEmptyPostings(it)) return emptyPostings();
        its.push(it);
      }
    } else {
      notIts.push(await inversePostingsForMatcher(ix, m));
    }
  }
  if (its.length === 0) its.push(await ix.allPostings());
  let it = intersect(its);
  for (const n of notIts) it = without(it, n);
  return it;
}

export { merge as mergePostings };

/** BlockFiles over in-memory files ("meta.json", "index", "chunks/000001", "tombstones"). */
export function memoryBlockFiles(get: (file: string) => Uint8Array | undefined, name = "memory"): BlockFiles {
  const need = (f: string): Uint8Array => {
    const b = get(f);
    if (!b) throw new CodedError("not_found", `${name}/${f}: no such file`);
    return b;
  };
  const src = (f: string): ByteSource => ({
    name: `${name}/${f}`,
    size: async () => need(f).length,
    read: async (off, len) => {
      const b = need(f);
      if (off < 0 || len < 0 || off + len > b.length) throw new CodedError("corrupt", `${name}/${f}: read of ${len} bytes at offset ${off} is past the end (size ${b.length})`);
      return b.subarray(off, off + len);
    },
  });
  return {
    meta: async () => need("meta.json"),
    index: () => src("index"),
    chunkSegment: (n) => src(`chunks/${String(n).padStart(6, "0")}`),
    tombstones: async () => get("tombstones") ?? null,
  };
}
