// Blocks on local disk: a ByteSource over positional file reads (node:fs, so Bun and Node alike), the
// block directories under a TSDB path (skipping the WAL, the head's chunks and unfinished temp dirs),
// and a BlockSink that writes a block into <dir>/<ulid>.tmp-for-creation and renames it when complete.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CodedError } from "../../shared/encoding/errors.ts";
import type { Querier } from "../../shared/storage/types.ts";
import { openBlock, type Block, type BlockFiles } from "../../shared/tsdb/block.ts";
import type { BlockMeta } from "../../shared/tsdb/meta.ts";
import { BlocksQuerier, type BlocksQuerierOptions } from "../../shared/tsdb/querier.ts";
import type { ByteSource } from "../../shared/tsdb/source.ts";
import { isUlid } from "../../shared/tsdb/ulid.ts";
import type { BlockSink } from "../../shared/tsdb/writer.ts";

function fsError(e: unknown, what: string): CodedError {
  const code = (e as { code?: string }).code;
  return new CodedError(code === "ENOENT" ? "not_found" : "unavailable", `${what}: ${(e as Error).message}`, { cause: e });
}

/** A file read by range; the descriptor is opened on first use and kept until close(). */
export class FileSource implements ByteSource {
  private fh: Promise<FileHandle> | null = null;
  private sz = -1;
  constructor(readonly name: string) {}

  private handle(): Promise<FileHandle> {
    if (!this.fh) {
      this.fh = open(this.name, "r").catch((e) => { this.fh = null; throw fsError(e, `open ${this.name}`); });
    }
    return this.fh;
  }

  async size(): Promise<number> {
    if (this.sz < 0) {
      const fh = await this.handle();
      this.sz = (await fh.stat()).size;
    }
    return this.sz;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    const fh = await this.handle();
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) throw new CodedError("corrupt", `${this.name}: short read: ${got} of ${length} bytes at offset ${offset}`);
      got += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    if (fh) await (await fh.catch(() => null))?.close();
  }
}

/** BlockFiles of a block directory; close() releases its descriptors. */
export function localBlockFiles(dir: string): BlockFiles & { close(): Promise<void> } {
  const sources: FileSource[] = [];
  const src = (rel: string) => { const s = new FileSource(join(dir, rel)); sources.push(s); return s; };
  const index = src("index");
  const segs = new Map<number, FileSource>();
  return {
    meta: async () => {
      try { return readFileSync(join(dir, "meta.json")); } catch (e) { throw fsError(e, `read ${join(dir, "meta.json")}`); }
    },
    index: () => index,
    chunkSegment: (n) => {
      let s = segs.get(n);
      if (!s) segs.set(n, (s = src(join("chunks", String(n).padStart(6, "0")))));
      return s;
    },
    tombstones: async () => {
      const p = join(dir, "tombstones");
      return existsSync(p) ? readFileSync(p) : null;
    },
    close: async () => { await Promise.all(sources.map((s) => s.close())); },
  };
}

/** Block directories under `dir` (or `dir` itself when it is a block). */
export function blockDirs(dir: string): string[] {
  if (existsSync(join(dir, "meta.json"))) return [dir];
  let names: string[];
  try { names = readdirSync(dir); } catch (e) { throw fsError(e, `list ${dir}`); }
  return names
    .filter((n) => isUlid(n) && existsSync(join(dir, n, "meta.json")) && statSync(join(dir, n)).isDirectory())
    .sort()
    .map((n) => join(dir, n));
}

export async function openLocalBlocks(dir: string, opts: BlocksQuerierOptions = {}): Promise<{ querier: BlocksQuerier & Querier; blocks: Block[]; close(): Promise<void> }> {
  const files = blockDirs(dir).map((d) => localBlockFiles(d));
  const close = async () => { await Promise.all(files.map((f) => f.close())); };
  let blocks: Block[];
  try {
    blocks = await Promise.all(files.map(async (f, i) => {
      try { return await openBlock(f); } catch (e) {
        throw new CodedError((e as CodedError).code ?? "corrupt", `open block dir ${blockDirs(dir)[i]}: ${(e as Error).message}`, { cause: e });
      }
    }));
  } catch (e) {
    await close();
    throw e;
  }
  blocks.sort((a, b) => a.meta.minTime - b.meta.minTime || (a.ulid < b.ulid ? -1 : 1));
  return { querier: new BlocksQuerier(blocks, opts), blocks, close };
}

/**
 * Writes a block under `parent`: into <ulid>.tmp-for-creation, renamed to <ulid> on commit. Files can be
 * read back while written (the index writer re-reads the series it wrote to build postings).
 */
export class DiskSink implements BlockSink {
  private fds = new Map<string, number>();
  private readers: FileSource[] = [];
  readonly tmp: string;
  readonly final: string;
  /**
   * `fsync: false` skips syncing the files before the rename: for blocks that are scratch output anyway
   * (the compactor uploads its result and deletes it; after a crash it starts that compaction over).
   */
  constructor(parent: string, ulid: string, private readonly opts: { fsync?: boolean } = {}) {
    this.final = join(parent, ulid);
    this.tmp = this.final + ".tmp-for-creation";
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(join(this.tmp, "chunks"), { recursive: true });
  }
  async append(file: string, data: Uint8Array): Promise<void> {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      const p = join(this.tmp, file);
      mkdirSync(dirname(p), { recursive: true });
      fd = openSync(p, "w");
      this.fds.set(file, fd);
    }
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
  }
  readback(file: string): ByteSource {
    const s = new FileSource(join(this.tmp, file));
    this.readers.push(s);
    return s;
  }
  async discard(file: string): Promise<void> {
    const fd = this.fds.get(file);
    if (fd !== undefined) { closeSync(fd); this.fds.delete(file); }
    await this.closeReaders();
    rmSync(join(this.tmp, file), { force: true });
  }
  private async closeReaders(): Promise<void> {
    const rs = this.readers;
    this.readers = [];
    await Promise.all(rs.map((r) => r.close()));
  }
  private closeAll(sync = false): void {
    for (const fd of this.fds.values()) {
      if (sync) fsyncSync(fd);
      closeSync(fd);
    }
    this.fds.clear();
  }
  async commit(_meta: BlockMeta): Promise<void> {
    // Data on disk before the rename makes the block visible (Prometheus fsyncs the same way).
    await this.closeReaders();
    this.closeAll(this.opts.fsync ?? true);
    renameSync(this.tmp, this.final);
  }
  async abort(): Promise<void> {
    await this.closeReaders();
    this.closeAll();
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
