// Shipper: uploads the completed blocks of a TSDB directory to the bucket, as Thanos' shipper does: the
// sidecar's (Prometheus' --tsdb.path, source "sidecar") and the ruler's (its own TSDB, source "ruler"),
// each with its own external labels.
//
// - A block is a directory named by a ULID with a meta.json; level 1 only unless upload-compacted.
// - Before uploading, the block's files are hard-linked into <tsdb>/thanos/upload/<ULID>, so Prometheus'
//   retention deleting the block mid-upload cannot pull files from under us (Thanos does the same).
// - Files go up chunks/*, index, then meta.json LAST (with the `thanos` section); shared/objstore/block.ts
//   removes what it stored when a file still fails after retries, so no partial block is ever visible.
// - Uploaded ULIDs are recorded in <tsdb>/thanos.shipper.json ({"version":1,"uploaded":[…]}, Thanos'
//   shape), written to a temp file and renamed. A block whose meta.json is already in the bucket counts as
//   uploaded (a crash after the upload, before the state write); a block without it is uploaded again.

import { createReadStream } from "node:fs";
import { link, mkdir, readdir, readFile, rename, rm, stat, open } from "node:fs/promises";
import { join } from "node:path";
import { CodedError, errorCode, errorMessage } from "../../shared/encoding/errors.ts";
import type { Labels } from "../../shared/labels/labels.ts";
import type { Bucket } from "../../shared/objstore/bucket.ts";
import { type BlockFile, isBlockId, META_FILE, uploadBlock } from "../../shared/objstore/block.ts";
import type { RetryOptions } from "../../shared/objstore/retry.ts";
import { type BlockMeta, parseBlockMeta } from "../../shared/tsdb/meta.ts";
import { updateBucketIndex } from "../../shared/block/bucketindex.ts";
import type { Logger } from "../log.ts";
import type { Registry, Counter, Gauge } from "../metrics.ts";

export const SHIPPER_STATE_FILE = "thanos.shipper.json";
const UPLOAD_DIR = join("thanos", "upload");

export interface ShipperState { version: 1; uploaded: string[] }

export interface ShipperOptions {
  dir: string;
  bucket: Bucket;
  /** The labels every uploaded block gets in meta.json's `thanos` section (current ones at upload). */
  externalLabels(): Labels;
  /** meta.json `thanos.source`: the component that produced the blocks ("sidecar", "ruler"). */
  source: string;
  uploadCompacted?: boolean;
  log: Logger;
  registry?: Registry;
  retry?: RetryOptions;
}

export interface SyncResult { uploaded: number; failed: number; skipped: number }

export class Shipper {
  private readonly m: { uploads: Counter; failures: Counter; syncs: Counter; syncFailures: Counter; lastUpload: Gauge } | null;
  private running: Promise<SyncResult> | null = null;

  constructor(private readonly o: ShipperOptions) {
    const r = o.registry;
    this.m = r ? {
      uploads: r.counter("thanos_shipper_uploads_total", "Blocks uploaded to the bucket."),
      failures: r.counter("thanos_shipper_upload_failures_total", "Block uploads that failed (retried next sync)."),
      syncs: r.counter("thanos_shipper_dir_syncs_total", "Syncs of the TSDB directory with the bucket."),
      syncFailures: r.counter("thanos_shipper_dir_sync_failures_total", "Syncs that could not list or read the TSDB directory."),
      lastUpload: r.gauge("thanos_shipper_last_successful_upload_time", "Unix time (s) of the last successful block upload."),
    } : null;
  }

  async readState(): Promise<ShipperState> {
    const p = join(this.o.dir, SHIPPER_STATE_FILE);
    let text: string;
    try {
      text = await readFile(p, "utf8");
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return { version: 1, uploaded: [] };
      throw e;
    }
    try {
      const j = JSON.parse(text) as { version?: unknown; uploaded?: unknown };
      if (j.version !== 1) throw new Error(`unsupported version ${JSON.stringify(j.version)}`);
      const up = Array.isArray(j.uploaded) ? j.uploaded.filter((x): x is string => typeof x === "string") : [];
      return { version: 1, uploaded: up };
    } catch (e) {
      // Thanos treats an unreadable state file as empty: every block is checked against the bucket again.
      this.o.log.warn("shipper state file unreadable; checking every block against the bucket", { file: p, err: errorMessage(e) });
      return { version: 1, uploaded: [] };
    }
  }

  /** Temp file + fsync + rename: a crash leaves the old or the new state, never a torn file. */
  async writeState(s: ShipperState): Promise<void> {
    const p = join(this.o.dir, SHIPPER_STATE_FILE);
    const tmp = `${p}.tmp`;
    const body = JSON.stringify({ version: 1, uploaded: s.uploaded }, null, "\t") + "\n";
    const fh = await open(tmp, "w");
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, p);
  }

  /** One pass; concurrent calls share the running pass. */
  sync(): Promise<SyncResult> {
    this.running ??= this.syncOnce().finally(() => { this.running = null; });
    return this.running;
  }

  private async syncOnce(): Promise<SyncResult> {
    this.m?.syncs.inc();
    const res: SyncResult = { uploaded: 0, failed: 0, skipped: 0 };
    let names: string[];
    try {
      names = (await readdir(this.o.dir)).filter(isBlockId).sort();
    } catch (e) {
      this.m?.syncFailures.inc();
      throw new CodedError("unavailable", `shipper: list TSDB dir ${this.o.dir}: ${errorMessage(e)}`);
    }
    const state = await this.readState();
    const uploaded = new Set(state.uploaded);
    let changed = false;
    for (const id of names) {
      if (uploaded.has(id)) continue;
      let meta: BlockMeta;
      try {
        meta = parseBlockMeta(await readFile(join(this.o.dir, id, META_FILE)), `block ${id} in ${this.o.dir}`);
      } catch (e) {
        if ((e as { code?: string }).code === "ENOENT") { res.skipped++; continue; } // still being written or gone
        this.o.log.warn("shipper: skipping block with unreadable meta.json", { block: id, err: errorMessage(e) });
        res.skipped++;
        continue;
      }
      if (meta.compaction.level > 1 && !this.o.uploadCompacted) { res.skipped++; continue; }
      try {
        if (await this.o.bucket.exists(`${id}/${META_FILE}`)) {
          uploaded.add(id); changed = true;
          continue;
        }
        await this.upload(id, meta);
        uploaded.add(id); changed = true;
        res.uploaded++;
        this.m?.uploads.inc();
        this.m?.lastUpload.set(Date.now() / 1000);
        // Record progress after each block, so a crash loses at most the block in flight.
        await this.writeState({ version: 1, uploaded: names.filter((n) => uploaded.has(n)).concat(state.uploaded.filter((n) => !names.includes(n))) });
        changed = false;
      } catch (e) {
        if (errorCode(e) === "not_found") {
          this.o.log.warn("shipper: block disappeared before it could be uploaded (deleted by retention?)", { block: id, err: errorMessage(e) });
          res.skipped++;
          continue;
        }
        res.failed++;
        this.m?.failures.inc();
        this.o.log.error("shipper: block upload failed; retrying next sync", { block: id, err: errorMessage(e) });
      }
    }
    if (changed) {
      await this.writeState({ version: 1, uploaded: names.filter((n) => uploaded.has(n)).concat(state.uploaded.filter((n) => !names.includes(n))) });
    }
    return res;
  }

  private async upload(id: string, meta: BlockMeta): Promise<void> {
    const src = join(this.o.dir, id);
    const dst = join(this.o.dir, UPLOAD_DIR, id);
    await rm(dst, { recursive: true, force: true });
    let rels: string[];
    try {
      rels = await hardlinkBlock(src, dst);
    } catch (e) {
      await rm(dst, { recursive: true, force: true });
      if ((e as { code?: string }).code === "ENOENT") throw new CodedError("not_found", `shipper: hard-link block ${id}: ${errorMessage(e)}`);
      throw e;
    }
    try {
      const ext = this.o.externalLabels();
      const labels: Record<string, string> = {};
      for (const l of ext) labels[l.name] = l.value;
      const files: BlockFile[] = [];
      const sizes: { rel_path: string; size_bytes: number }[] = [];
      for (const rel of rels) {
        if (rel === META_FILE || rel === "tombstones") continue;
        const size = (await stat(join(dst, rel))).size;
        sizes.push({ rel_path: rel, size_bytes: size });
        files.push({ path: rel, data: () => createReadStream(join(dst, rel)) as AsyncIterable<Uint8Array> });
      }
      const segments = rels.filter((r) => r.startsWith("chunks/")).map((r) => r.slice("chunks/".length)).sort();
      const thanosMeta = {
        ...(meta.thanos ?? {}),
        labels,
        downsample: { resolution: 0 },
        source: this.o.source,
        segment_files: segments,
        files: [...sizes, { rel_path: META_FILE }].sort((a, b) => (a.rel_path < b.rel_path ? -1 : a.rel_path > b.rel_path ? 1 : 0)),
      };
      const out = { ...meta, thanos: thanosMeta };
      const metaBytes = new TextEncoder().encode(JSON.stringify(out, null, "\t") + "\n");
      files.push({ path: META_FILE, data: metaBytes });
      const log = this.o.log;
      await uploadBlock(this.o.bucket, id, files, {
        ...this.o.retry,
        onRetry: (what, attempt, err) => log.warn("shipper: retrying", { what, attempt, err: errorMessage(err) }),
      });
      this.o.log.info("shipper: uploaded block", { block: id, minTime: meta.minTime, maxTime: meta.maxTime, files: files.length });
      // Keep bucket-index.json current for store gateways (docs/bucket-index.md). The block is already
      // visible through a listing, so a failure here only delays its discovery: logged, not fatal.
      await updateBucketIndex(this.o.bucket, { add: [out as BlockMeta] })
        .catch((e) => log.warn("shipper: updating the bucket index failed; store gateways find the block by listing", { block: id, err: errorMessage(e) }));
    } finally {
      await rm(dst, { recursive: true, force: true });
    }
  }
}

/** Hard-links every file of a block dir into dst; returns relative "/"-separated paths. */
async function hardlinkBlock(src: string, dst: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    await mkdir(join(dst, rel), { recursive: true });
    for (const e of await readdir(join(src, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) { await link(join(src, r), join(dst, r)); out.push(r); }
    }
  };
  await walk("");
  return out.sort();
}
