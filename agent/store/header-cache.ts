// Index headers saved under --data-dir (<dir>/index-headers/<ULID>), like Thanos' store keeps its
// index-header files in its data dir: a restart opens blocks without reading their index headers again.
// Written to a temp file and renamed, so a crash never leaves a half-written header (and a damaged one
// fails its CRC and is rebuilt).
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { HeaderCache } from "../../shared/bucketstore/header.ts";
import { isUlid } from "../../shared/tsdb/ulid.ts";

export class FileHeaderCache implements HeaderCache {
  private readonly dir: string;
  constructor(dataDir: string) { this.dir = join(dataDir, "index-headers"); }
  async get(ulid: string): Promise<Uint8Array | null> {
    if (!isUlid(ulid)) return null;
    try { return new Uint8Array(await readFile(join(this.dir, ulid))); } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return null;
      throw e;
    }
  }
  async put(ulid: string, b: Uint8Array): Promise<void> {
    if (!isUlid(ulid)) return;
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `${ulid}.tmp-${process.pid}`);
    await writeFile(tmp, b);
    await rename(tmp, join(this.dir, ulid));
  }
}
