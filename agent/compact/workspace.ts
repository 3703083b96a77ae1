// The compactor's --data-dir on disk: downloads (skipping files whose SHA256 in meta.json matches the
// local copy, as Thanos does), local blocks opened by positional reads, new blocks written through
// DiskSink (<ulid>.tmp-for-creation, renamed when complete), upload file lists with Thanos' file stats,
// and the meta.json cache of the block fetcher (<data-dir>/meta-syncer/<ulid>/meta.json).

import { createHash } from "node:crypto";
import { createReadStream, fsyncSync, closeSync, openSync, writeSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { type BlockFile, META_FILE } from "../../shared/objstore/block.ts";
import { retry } from "../../shared/objstore/retry.ts";
import type { MetaCache } from "../../shared/block/fetcher.ts";
import type { HashFunc, LocalBlock, Workspace } from "../../shared/compact/workspace.ts";
import { openBlock } from "../../shared/tsdb/block.ts";
import { encodeBlockMeta, type BlockMeta, type ThanosFile } from "../../shared/tsdb/meta.ts";
import type { BlockSink } from "../../shared/tsdb/writer.ts";
import { fileChunks } from "../objstore/block.ts";
import { DiskSink, localBlockFiles } from "../tsdb/local.ts";

async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const b of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(b as Buffer);
  return h.digest("hex");
}

async function exists(path: string): Promise<boolean> {
  try { await stat(path); return true; } catch { return false; }
}

/** Write a file atomically: temp file, fsync, rename. */
export function writeFileAtomic(path: string, data: Uint8Array, sync = true): Promise<void> {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    let o = 0;
    while (o < data.length) o += writeSync(fd, data, o, data.length - o);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return rename(tmp, path);
}

export class DiskWorkspace implements Workspace {
  /** `collect`: the paced GC, offered every MiB downloaded (each range read is a fresh buffer). */
  constructor(readonly root: string, private readonly collect?: () => void) {}

  private p(rel: string): string { return join(this.root, ...rel.split("/")); }

  async download(bkt: Bucket, meta: BlockMeta, dir: string, o: { concurrency: number }): Promise<void> {
    const id = meta.ulid;
    const what = `download block ${id} from bucket ${bkt.name}`;
    const target = this.p(dir);
    await mkdir(join(target, "chunks"), { recursive: true });
    const keys: string[] = [];
    await retry(`${what}: listing`, async () => {
      keys.length = 0;
      for await (const k of bkt.iter(id, { recursive: true })) keys.push(k);
    });
    if (!keys.includes(`${id}/${META_FILE}`)) throw new CodedError("not_found", `${what}: no ${META_FILE} (deleted, or its upload is not finished)`);
    // meta.json is always fetched again; the bucket's copy says which files' hashes are known.
    const metaBytes = await retry(`${what}: ${META_FILE}`, () => bkt.get(`${id}/${META_FILE}`));
    const hashes = new Map<string, string>();
    try {
      const m = JSON.parse(new TextDecoder().decode(metaBytes)) as BlockMeta;
      for (const f of m.thanos?.files ?? []) if (f.hash?.hashFunc === "SHA256" && f.hash.value) hashes.set(f.rel_path, f.hash.value);
    } catch { /* an unreadable meta.json fails later, when the block is opened */ }
    const files = keys.filter((k) => k !== `${id}/${META_FILE}`);
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const key = files[next++]!;
        const rel = key.slice(id.length + 1);
        const dest = join(target, ...rel.split("/"));
        const want = hashes.get(rel);
        if (want && (await exists(dest)) && (await sha256File(dest)) === want) continue;
        await mkdir(dirname(dest), { recursive: true });
        await retry(`${what}: ${rel}`, async () => {
          const { size } = await bkt.attributes(key);
          const fh = await open(`${dest}.part`, "w");
          try {
            const step = 1 << 20;
            for (let off = 0; off < size; off += step) {
              const b = await bkt.getRange(key, off, Math.min(step, size - off));
              if (b.length === 0) throw new CodedError("corrupt", `${what}: ${rel} ended at ${off} of ${size} bytes`);
              let w = 0;
              while (w < b.length) w += (await fh.write(b, w, b.length - w, off + w)).bytesWritten;
              this.collect?.();
            }
          } finally {
            await fh.close();
          }
        });
        await rename(`${dest}.part`, dest);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
    await writeFileAtomic(join(target, META_FILE), metaBytes, false);
  }

  async open(dir: string, opts: { sequential?: boolean } = {}): Promise<LocalBlock> {
    const files = localBlockFiles(this.p(dir));
    try {
      const block = await openBlock(files, opts);
      return { block, close: () => files.close() };
    } catch (e) {
      await files.close();
      throw new CodedError("corrupt", `open block directory ${this.p(dir)}: ${errorMessage(e)}`, { cause: e });
    }
  }

  sink(parent: string, ulid: string): BlockSink {
    // No fsync: a compaction's output is uploaded and deleted; after a crash the compaction starts over
    // (its directory is not a block of any group, so the next round removes it).
    return new DiskSink(this.p(parent), ulid, { fsync: false });
  }

  async blockFiles(dir: string, hash: HashFunc): Promise<{ upload: BlockFile[]; files: ThanosFile[] }> {
    const base = this.p(dir);
    const upload: BlockFile[] = [];
    const files: ThanosFile[] = [];
    const add = async (rel: string) => {
      const path = join(base, ...rel.split("/"));
      const st = await stat(path);
      const f: ThanosFile = { rel_path: rel, size_bytes: st.size };
      if (hash === "SHA256") f.hash = { hashFunc: "SHA256", value: await sha256File(path) };
      files.push(f);
      upload.push({ path: rel, data: () => fileChunks(path) });
    };
    for (const c of (await readdir(join(base, "chunks"))).sort()) await add(`chunks/${c}`);
    await add("index");
    files.push({ rel_path: META_FILE });
    files.sort((a, b) => (a.rel_path < b.rel_path ? -1 : a.rel_path > b.rel_path ? 1 : 0));
    return { upload, files };
  }

  async writeMeta(dir: string, meta: BlockMeta): Promise<void> {
    await writeFileAtomic(join(this.p(dir), META_FILE), encodeBlockMeta(meta), false);
  }

  async remove(path: string): Promise<void> {
    await rm(this.p(path), { recursive: true, force: true });
  }

  async list(dir: string): Promise<string[]> {
    try { return (await readdir(this.p(dir))).sort(); } catch { return []; }
  }
}

/** The fetcher's meta.json cache under <data-dir>/meta-syncer. */
export class DiskMetaCache implements MetaCache {
  constructor(private readonly dir: string) {}

  async loadAll(): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    let names: string[] = [];
    try { names = await readdir(this.dir); } catch { return out; }
    for (const n of names) {
      try { out.set(n, await readFile(join(this.dir, n, META_FILE))); } catch { /* gone or broken: refetched */ }
    }
    return out;
  }

  async save(id: string, bytes: Uint8Array): Promise<void> {
    await mkdir(join(this.dir, id), { recursive: true });
    await writeFileAtomic(join(this.dir, id, META_FILE), bytes, false);
  }

  async prune(keep: ReadonlySet<string>): Promise<void> {
    let names: string[] = [];
    try { names = await readdir(this.dir); } catch { return; }
    for (const n of names) if (!keep.has(n)) await rm(join(this.dir, n), { recursive: true, force: true });
  }
}
