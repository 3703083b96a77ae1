// Blocks between a local directory and a bucket (the sidecar's shipper, the compactor's downloads).
// Files are streamed from and to disk, so a 512 MiB chunk segment never sits in memory whole.

import { createReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import {
  type BlockFile, type UploadBlockOptions, CHUNKS_DIR, INDEX_FILE, META_FILE, isBlockId, uploadBlock,
} from "../../shared/objstore/block.ts";
import { type RetryOptions, retry } from "../../shared/objstore/retry.ts";

export interface UploadDirOptions extends UploadBlockOptions {
  /** Replaces the directory's meta.json in the bucket (the sidecar adds Thanos' `thanos` section). */
  meta?: Uint8Array;
}

/**
 * Uploads the block in `dir` (named by its ULID) with meta.json last. Like Thanos' block.Upload only
 * chunks/*, index and meta.json are shipped; anything else in the directory (tombstones, temp files) is
 * left out and returned so the caller can log it.
 */
export async function uploadBlockDir(bkt: Bucket, dir: string, opts: UploadDirOptions = {}): Promise<{ ulid: string; skipped: string[] }> {
  const ulid = basename(dir);
  const what = `upload block directory ${dir}`;
  if (!isBlockId(ulid)) throw new CodedError("bad_data", `${what}: directory name is not a block ULID`);
  const files: BlockFile[] = [];
  const skipped: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    throw new CodedError("not_found", `${what}: ${errorMessage(e)}`);
  }
  for (const name of entries.sort()) {
    if (name === CHUNKS_DIR) {
      for (const c of (await readdir(join(dir, CHUNKS_DIR))).sort()) {
        const p = join(dir, CHUNKS_DIR, c);
        if ((await stat(p)).isFile()) files.push({ path: `${CHUNKS_DIR}/${c}`, data: () => fileChunks(p) });
        else skipped.push(`${CHUNKS_DIR}/${c}`);
      }
    } else if (name === INDEX_FILE) {
      const p = join(dir, INDEX_FILE);
      files.push({ path: INDEX_FILE, data: () => fileChunks(p) });
    } else if (name === META_FILE) {
      files.push({ path: META_FILE, data: opts.meta ?? (await readFile(join(dir, META_FILE))) });
    } else {
      skipped.push(name);
    }
  }
  await uploadBlock(bkt, ulid, files, opts);
  return { ulid, skipped };
}

export async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  // 1 MiB reads: few syscalls, and bounded memory whatever the file size.
  for await (const b of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const buf = b as Buffer;
    yield new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  }
}

/**
 * Downloads block `ulid` into `<parent>/<ulid>`. Files land in a temp directory that is renamed into place
 * at the end, so the block directory appears complete or not at all. Objects are read in ranges of
 * `rangeBytes` (default 8 MiB) and written as they arrive. Fails "not_found" when the block has no
 * meta.json (absent, or an upload in progress).
 */
export async function downloadBlock(bkt: Bucket, ulid: string, parent: string, opts: RetryOptions & { rangeBytes?: number } = {}): Promise<string> {
  const what = `download block ${ulid} from bucket ${bkt.name}`;
  if (!isBlockId(ulid)) throw new CodedError("bad_data", `${what}: ${JSON.stringify(ulid)} is not a block ULID`);
  if (!(await retry(what, () => bkt.exists(`${ulid}/${META_FILE}`), opts))) {
    throw new CodedError("not_found", `${what}: no ${META_FILE} (no such block, or its upload is not finished)`);
  }
  const step = opts.rangeBytes ?? 8 << 20;
  const target = join(parent, ulid);
  const tmp = join(parent, `.${ulid}.download-${randomBytes(4).toString("hex")}`);
  try {
    const keys: string[] = [];
    await retry(`${what}: listing`, async () => {
      keys.length = 0;
      for await (const k of bkt.iter(ulid, { recursive: true })) keys.push(k);
    }, opts);
    for (const key of keys) {
      const rel = key.slice(ulid.length + 1);
      const dest = join(tmp, ...rel.split("/"));
      await mkdir(dirname(dest), { recursive: true });
      const { size } = await retry(`${what}: ${rel}`, () => bkt.attributes(key), opts);
      const fh = await open(dest, "w");
      try {
        for (let off = 0; off < size; off += step) {
          const b = await retry(`${what}: ${rel} at ${off}`, () => bkt.getRange(key, off, Math.min(step, size - off)), opts);
          if (b.length === 0) throw new CodedError("corrupt", `${what}: ${rel} ended at ${off} of ${size} bytes`);
          let o = 0;
          while (o < b.length) o += (await fh.write(b, o, b.length - o, off + o)).bytesWritten;
        }
      } finally {
        await fh.close();
      }
    }
    await rm(target, { recursive: true, force: true });
    await rename(tmp, target);
    return target;
  } catch (e) {
    await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    throw e;
  }
}
