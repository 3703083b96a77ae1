// Filesystem bucket (Thanos' `type: FILESYSTEM`): one file per object under a root directory.
//
// Writes go to a hidden temp file in the target directory and are renamed into place, so a reader sees
// the old object or the whole new one, and a crash leaves only a temp file that listings skip. (rename
// within one directory is atomic on POSIX filesystems.) Deleting the last object of a directory removes
// the directory, so listings show a "directory" only while an object is below it, as object stores do.

import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join, resolve } from "node:path";
import { CodedError, type ErrorCode } from "../../shared/encoding/errors.ts";
import {
  type Bucket, type IterOptions, type ObjectAttributes, type UploadData,
  checkKey, checkRange, compareKeys, dirPrefix, notFound, rangePastEnd,
} from "../../shared/objstore/bucket.ts";

const TMP_PREFIX = ".thanots-tmp-";

export class FilesystemBucket implements Bucket {
  readonly name: string;
  readonly root: string;

  constructor(directory: string) {
    this.root = resolve(directory);
    this.name = `fs:${this.root}`;
  }

  private path(key: string, op: string): string {
    checkKey(this.name, key, op);
    if (key.split("/").some((s) => s.startsWith(TMP_PREFIX))) {
      throw new CodedError("bad_data", `${op} ${key} in bucket ${this.name}: names starting with ${TMP_PREFIX} are reserved for uploads in progress`);
    }
    return join(this.root, ...key.split("/"));
  }

  private fail(e: unknown, op: string, key: string): never {
    const c = (e as { code?: string }).code;
    if (c === "ENOENT" || c === "ENOTDIR" || c === "EISDIR") throw notFound(this.name, key, op);
    throw new CodedError(fsCode(c), `${op} ${key} in bucket ${this.name}: ${(e as Error).message}`, { cause: e });
  }

  async get(key: string): Promise<Uint8Array> {
    const p = this.path(key, "get");
    try {
      const b = await readFile(p);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) { this.fail(e, "get", key); }
  }

  async getRange(key: string, off: number, len: number): Promise<Uint8Array> {
    checkRange(this.name, key, off, len);
    const p = this.path(key, "get range of");
    let fh;
    try {
      fh = await open(p, "r");
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
      if (off > st.size) throw rangePastEnd(this.name, key, off, st.size);
      const end = len < 0 ? st.size : Math.min(st.size, off + len);
      const out = new Uint8Array(end - off);
      let got = 0;
      while (got < out.length) {
        const { bytesRead } = await fh.read(out, got, out.length - got, off + got);
        if (bytesRead === 0) break; // truncated under us by a concurrent writer of a non-atomic tool
        got += bytesRead;
      }
      return got === out.length ? out : out.subarray(0, got);
    } catch (e) {
      if (e instanceof CodedError) throw e;
      return this.fail(e, "get range of", key);
    } finally {
      await fh?.close();
    }
  }

  async exists(key: string): Promise<boolean> {
    const p = this.path(key, "exists");
    try {
      return (await stat(p)).isFile();
    } catch (e) {
      const c = (e as { code?: string }).code;
      if (c === "ENOENT" || c === "ENOTDIR") return false;
      this.fail(e, "exists", key);
    }
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    const p = this.path(key, "attributes of");
    try {
      const st = await stat(p);
      if (!st.isFile()) throw Object.assign(new Error("not a file"), { code: "EISDIR" });
      return { size: st.size, lastModified: st.mtime };
    } catch (e) { this.fail(e, "attributes of", key); }
  }

  async *iter(prefix: string, opts?: IterOptions): AsyncIterable<string> {
    const dir = dirPrefix(prefix);
    if (dir !== "") checkKey(this.name, dir.slice(0, -1), "list");
    yield* this.walk(dir, opts?.recursive ?? false);
  }

  /** Entries of directory `dir` ("" or "a/b/"), sorted as full keys so recursion keeps byte order. */
  private async entries(dir: string): Promise<{ key: string; isDir: boolean }[]> {
    let ents;
    try {
      ents = await readdir(join(this.root, ...dir.split("/").filter(Boolean)), { withFileTypes: true });
    } catch (e) {
      const c = (e as { code?: string }).code;
      if (c === "ENOENT" || c === "ENOTDIR") return [];
      this.fail(e, "list", dir || "(root)");
    }
    const out: { key: string; isDir: boolean }[] = [];
    for (const d of ents) {
      if (d.name.startsWith(TMP_PREFIX)) continue;
      if (d.isDirectory()) out.push({ key: `${dir}${d.name}/`, isDir: true });
      else if (d.isFile()) out.push({ key: dir + d.name, isDir: false });
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  private async *walk(dir: string, recursive: boolean): AsyncGenerator<string> {
    for (const e of await this.entries(dir)) {
      if (!e.isDir) { yield e.key; continue; }
      if (recursive) { yield* this.walk(e.key, true); continue; }
      // A directory holding only an upload in progress (or left empty by a crash) is no "directory".
      if (await this.hasObject(e.key)) yield e.key;
    }
  }

  private async hasObject(dir: string): Promise<boolean> {
    for (const e of await this.entries(dir)) {
      if (!e.isDir || (await this.hasObject(e.key))) return true;
    }
    return false;
  }

  async upload(key: string, data: UploadData): Promise<void> {
    const p = this.path(key, "upload");
    const parent = p.slice(0, p.lastIndexOf("/"));
    const tmp = join(parent, TMP_PREFIX + randomBytes(8).toString("hex"));
    try {
      // A concurrent delete removes directories it empties (see delete), which can pull the parent away
      // between (or during) mkdir and open: then both are tried again. Bun's recursive mkdir reports that
      // race as EEXIST as well as ENOENT. A file really standing where a directory must be fails every try,
      // and ends in the "parent is an object" error below.
      for (let i = 0; ; i++) {
        try {
          await mkdir(parent, { recursive: true });
          await writeAll(tmp, data); // ENOENT can only come from its open, before the body is read
          break;
        } catch (e) {
          const c = (e as { code?: string }).code;
          if ((c !== "ENOENT" && c !== "EEXIST") || i >= 10) throw e;
        }
      }
      // Once the temp file is in it, the parent cannot be removed (rmdir fails on a non-empty directory).
      try {
        await rename(tmp, p);
      } catch (e) {
        const c = (e as { code?: string }).code;
        if (c === "EISDIR" || c === "ENOTEMPTY" || c === "EEXIST") {
          throw new CodedError("bad_data", `upload ${key} to bucket ${this.name}: a directory of that name exists`);
        }
        throw e;
      }
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      if (e instanceof CodedError) throw e;
      const c = (e as { code?: string }).code;
      if (c === "ENOTDIR" || c === "EEXIST") {
        throw new CodedError("bad_data", `upload ${key} to bucket ${this.name}: a parent of the key is an object`);
      }
      throw new CodedError(fsCode(c), `upload ${key} to bucket ${this.name}: ${(e as Error).message}`, { cause: e });
    }
  }

  async delete(key: string): Promise<void> {
    const p = this.path(key, "delete");
    try {
      await unlink(p);
    } catch (e) {
      const c = (e as { code?: string }).code;
      if (c === "ENOENT" || c === "ENOTDIR") return; // already gone: deletes are idempotent
      if (c === "EISDIR" || c === "EPERM") return; // a "directory" is no object (EPERM: Linux unlink on a dir)
      this.fail(e, "delete", key);
    }
    // Remove directories the deletion left empty, up to (not including) the root.
    const segs = key.split("/");
    for (let i = segs.length - 1; i > 0; i--) {
      try {
        await rmdir(join(this.root, ...segs.slice(0, i)));
      } catch {
        break; // not empty (or already gone): stop
      }
    }
  }
}

async function writeAll(path: string, data: UploadData): Promise<void> {
  const fh = await open(path, "wx");
  try {
    if (data instanceof Uint8Array) {
      await fh.writeFile(data);
    } else {
      for await (const chunk of data) {
        let o = 0;
        while (o < chunk.length) o += (await fh.write(chunk, o, chunk.length - o)).bytesWritten;
      }
    }
  } finally {
    await fh.close();
  }
}

function fsCode(c: string | undefined): ErrorCode {
  // Resource pressure is transient; permissions and other errors are not worth retrying.
  return c === "EMFILE" || c === "ENFILE" || c === "EAGAIN" || c === "EBUSY" || c === "EIO" ? "unavailable" : "internal";
}
