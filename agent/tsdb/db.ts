// The ruler's local TSDB (what Thanos' ruler gets from Prometheus' tsdb.Open): a head with a
// write-ahead log, 2 h blocks cut from it, retention, and reads over head + blocks.
//
// API for the ruler agent:
//
//   const db = await openTSDB("data/", {
//     blockDurationMs: 2 * 3600_000,      // --tsdb.block-duration (min = max: no local compaction)
//     retentionMs: 48 * 3600_000,         // --tsdb.retention (0: keep every block)
//     externalLabels: () => labels,       // --label; added to every StoreAPI series
//     walCompression: true,               // --tsdb.wal-compression
//     noLockfile: false,                  // --tsdb.no-lockfile
//     log,
//   });
//   const app = db.appender();            // shared/storage/appender.ts: one per transaction
//   app.append(labels, t, v); await app.commit();   // resolved = visible and in the WAL (fsynced)
//   db.querier()                          // shared/storage/types.ts Querier over head + blocks (PromQL)
//   db.store, db.info                     // StoreImpl / InfoImpl for the StoreAPI servers (component "rule")
//   db.onBlock(({ dir, meta }) => ...)    // a block was cut (for the shipper); returns an unsubscribe
//   await db.close();
//
// Layout of `dir`, as Prometheus 2.42 (Prometheus and promtool read it; we read theirs):
//   <ULID>/{meta.json,index,chunks/000001,tombstones}   blocks (meta.json without a `thanos` section:
//                                                       the shipper adds it on upload)
//   wal/00000000 ... wal/checkpoint.NNNNNNNN/           the write-ahead log (agent/tsdb/wal/)
//   lock                                                held while open (see acquireLock)
//
// Block cutting follows Prometheus' DB.Compact: when the head spans more than 1.5 block durations, the
// oldest whole block range is written to <ULID>.tmp-for-creation (shared/tsdb/writer.ts), fsynced and
// renamed; then the head drops that range and the WAL is checkpointed and truncated. A crash at any step
// is harmless: unfinished dirs are removed at open, and WAL samples older than the newest block are
// skipped on replay. Retention (Prometheus' BeyondTimeRetention) deletes blocks ending more than the
// retention before the newest block's end.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";
import type { Labels } from "../../shared/labels/labels.ts";
import type { Appendable } from "../../shared/storage/appender.ts";
import type { Querier } from "../../shared/storage/types.ts";
import type { InfoImpl, StoreImpl } from "../../shared/rpc/store.ts";
import { openBlock, type Block } from "../../shared/tsdb/block.ts";
import type { BlockMeta } from "../../shared/tsdb/meta.ts";
import { isUlid, newUlid } from "../../shared/tsdb/ulid.ts";
import { writeBlock } from "../../shared/tsdb/writer.ts";
import { Head, type HeadAppender, type HeadStats } from "../../shared/tsdb/head/head.ts";
import { TsdbReader, type BlockSet } from "../../shared/tsdb/head/reader.ts";
import { TsdbStore } from "../../shared/tsdb/head/store.ts";
import { decodeSamples, decodeSeries, recordType, RecordType, SampleColumns } from "../../shared/tsdb/wal/record.ts";
import { DEFAULT_SEGMENT_SIZE } from "../../shared/tsdb/wal/wlog.ts";
import type { Logger } from "../log.ts";
import { DiskSink, localBlockFiles } from "./local.ts";
import { checkpoint, deleteCheckpoints } from "./wal/checkpoint.ts";
import { listSegments, removeTempCheckpoints, replayWal, Wal, type ReplayResult, type WalSyncPolicy } from "./wal/wal.ts";

export const DEFAULT_BLOCK_DURATION = 2 * 3600_000;
export const DEFAULT_RETENTION = 48 * 3600_000;
/** Samples decoded before they are applied during replay (bounded memory: ~28 MB of columns). */
const REPLAY_BATCH = 1 << 20;

export interface TsdbOptions {
  blockDurationMs?: number;
  /** 0: no time retention. */
  retentionMs?: number;
  externalLabels?: Labels | (() => Labels);
  /** Snappy-compressed WAL records (default true, as Thanos' --tsdb.wal-compression). */
  walCompression?: boolean;
  /** "fsync" (default): commit() resolves after an fsync of the WAL. "write": after the write only (Prometheus). */
  walSync?: WalSyncPolicy;
  walSegmentSize?: number;
  /** Do not hold a lock file (Thanos --tsdb.no-lockfile); a stale one is still removed. */
  noLockfile?: boolean;
  log?: Logger;
  /** StoreAPI Info component type (default "rule"). */
  component?: string;
  maxSeries?: number;
  maxSamples?: number;
  /** More Info fields, e.g. `{ rules: {} }` when the process also serves the Rules API. */
  infoExtra?: () => Record<string, unknown>;
  /** How often to check for blocks to cut and retention (Prometheus: every minute). Default 60 s. */
  checkIntervalMs?: number;
}

export interface BlockEvent { dir: string; meta: BlockMeta }

export interface TsdbStats {
  head: HeadStats & { series: number; minTime: number; maxTime: number };
  blocks: number;
  wal: { bytesWritten: number; fsyncs: number; segment: number };
  replay: ReplayResult & { ms: number; aliases: number };
  blocksCut: number;
  blocksDeleted: number;
  checkpoints: number;
  compactionFailures: number;
}

export interface Tsdb extends Appendable {
  readonly dir: string;
  readonly head: Head;
  appender(): HeadAppender;
  querier(): Querier;
  readonly store: StoreImpl;
  readonly info: InfoImpl;
  readonly reader: TsdbReader;
  onBlock(cb: (b: BlockEvent) => void | Promise<void>): () => void;
  /** Cut every block that is due, then apply retention (also runs by itself; for tests and shutdown). */
  compact(): Promise<void>;
  blocks(): BlockMeta[];
  stats(): TsdbStats;
  close(): Promise<void>;
}

const openDirs = new Set<string>();

function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as { code?: string }).code === "EPERM"; }
}

/**
 * `<dir>/lock` holding our pid, like Prometheus' lock file. Node has no flock, so liveness is the pid:
 * a lock naming a running process (not us) refuses the open; one naming a dead process, or empty (a
 * Prometheus flock file), is stale and taken over with a warning.
 */
function acquireLock(dir: string, noLockfile: boolean, log?: Logger): () => void {
  const p = join(dir, "lock");
  if (existsSync(p)) {
    let pid = NaN;
    try { pid = Number.parseInt(readFileSync(p, "utf8").trim(), 10); } catch { /* unreadable: stale */ }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && pidAlive(pid)) {
      throw new CodedError("unavailable", `open TSDB ${dir}: locked by running process ${pid} (${p}); stop it or remove the file if it is not a TSDB writer`);
    }
    log?.warn("removing stale TSDB lock file", { file: p, pid: Number.isInteger(pid) ? pid : "none" });
    rmSync(p, { force: true });
  }
  if (noLockfile) return () => {};
  writeFileSync(p, String(process.pid));
  return () => {
    try { if (readFileSync(p, "utf8").trim() === String(process.pid)) rmSync(p, { force: true }); } catch { /* gone */ }
  };
}

/** Remove <ULID>.tmp-for-creation / .tmp-for-deletion / .tmp dirs a crash left (Prometheus does the same). */
function removeTmpBlockDirs(dir: string, log?: Logger): void {
  for (const n of readdirSync(dir)) {
    const m = /^([0-9A-Z]{26})(\.tmp-for-creation|\.tmp-for-deletion|\.tmp)$/.exec(n);
    if (!m || !isUlid(m[1]!)) continue;
    rmSync(join(dir, n), { recursive: true, force: true });
    log?.info("removed unfinished block dir", { dir: join(dir, n) });
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

interface LocalBlock {
  block: Block;
  dir: string;
  close(): Promise<void>;
  refs: number;
  deleted: boolean;
}

class Db implements Tsdb, BlockSet {
  readonly head: Head;
  readonly reader: TsdbReader;
  readonly store: TsdbStore;
  private list: LocalBlock[] = [];
  private wal!: Wal;
  private readonly walDir: string;
  private readonly blockDuration: number;
  private readonly retention: number;
  private readonly subs = new Set<(b: BlockEvent) => void | Promise<void>>();
  /** Series removed from the head, with the WAL segment current then: checkpoints keep them until past it. */
  private readonly deleted = new Map<number, number>();
  /** Replay aliases (old ref -> the ref its series has now, last WAL segment that may use the old one). */
  private readonly aliases = new Map<number, { to: number; seg: number }>();
  private lastWalTruncation = -Infinity;
  private compacting: Promise<void> | null = null;
  private again = false;
  private timer: ReturnType<typeof setInterval> | null = null;
  private closed = false;
  private unlock: () => void = () => {};
  private counters = { blocksCut: 0, blocksDeleted: 0, checkpoints: 0, compactionFailures: 0 };
  replay!: ReplayResult & { ms: number; aliases: number };

  constructor(readonly dir: string, private readonly o: TsdbOptions) {
    this.blockDuration = o.blockDurationMs ?? DEFAULT_BLOCK_DURATION;
    this.retention = o.retentionMs ?? DEFAULT_RETENTION;
    if (!(Number.isSafeInteger(this.blockDuration) && this.blockDuration > 0)) throw new CodedError("bad_data", `TSDB block duration ${this.blockDuration} ms is not a positive integer`);
    this.walDir = join(dir, "wal");
    this.head = new Head({ chunkRange: this.blockDuration });
    this.reader = new TsdbReader(this.head, this);
    const ext = o.externalLabels;
    this.store = new TsdbStore(this.reader, {
      externalLabels: typeof ext === "function" ? ext : () => ext ?? [],
      component: o.component ?? "rule",
      maxSeries: o.maxSeries, maxSamples: o.maxSamples, infoExtra: o.infoExtra,
    });
  }

  get info(): InfoImpl { return this.store; }

  async open(): Promise<void> {
    const log = this.o.log;
    mkdirSync(this.dir, { recursive: true });
    if (openDirs.has(this.dir)) throw new CodedError("unavailable", `open TSDB ${this.dir}: already open in this process`);
    this.unlock = acquireLock(this.dir, this.o.noLockfile ?? false, log);
    openDirs.add(this.dir);
    try {
      removeTmpBlockDirs(this.dir, log);
      removeTempCheckpoints(this.walDir, log);
      await this.loadBlocks();
      const newest = this.list.reduce((m, b) => Math.max(m, b.block.meta.maxTime), -Infinity);
      this.head.minValidTime = newest;
      this.replayInto(log);
      this.wal = Wal.open(this.walDir, {
        segmentSize: this.o.walSegmentSize ?? DEFAULT_SEGMENT_SIZE,
        compress: this.o.walCompression ?? true,
        sync: this.o.walSync ?? "fsync",
        log,
      });
      this.head.wal = this.wal;
      this.head.onCompactable = () => this.scheduleCompact();
      const every = this.o.checkIntervalMs ?? 60_000;
      if (every > 0) {
        this.timer = setInterval(() => this.scheduleCompact(), every);
        (this.timer as { unref?: () => void }).unref?.();
      }
      this.scheduleCompact();
    } catch (e) {
      openDirs.delete(this.dir);
      this.unlock();
      await Promise.all(this.list.map((b) => b.close()));
      throw e;
    }
  }

  private replayInto(log?: Logger): void {
    const t0 = performance.now();
    const cols = new SampleColumns(1 << 16);
    let other = 0;
    const res = replayWal(this.walDir, (rec, where) => {
      const what = `${where.checkpoint ? "checkpoint" : "WAL"} segment ${where.segment}`;
      try {
        switch (recordType(rec)) {
          case RecordType.Series:
            for (const s of decodeSeries(rec, `series record in ${what}`)) this.head.replaySeries(s.ref, s.labels);
            break;
          case RecordType.Samples:
            // Gathered over records and applied series by series (see Head.replaySamples).
            decodeSamples(rec, cols, `samples record in ${what}`);
            if (cols.n >= REPLAY_BATCH) { this.head.replaySamples(cols); cols.reset(); }
            break;
          default:
            other++;
        }
      } catch (e) {
        // A record that frames and checksums fine but does not decode: skip it, say so.
        log?.error("skipping undecodable WAL record", { where: what, err: errorMessage(e) });
      }
    }, log);
    if (cols.n > 0) this.head.replaySamples(cols);
    const { removed, aliases } = this.head.finishReplay();
    for (const s of removed) this.deleted.set(s.ref, res.lastSegment);
    for (const [from, to] of aliases) this.aliases.set(from, { to, seg: res.lastSegment });
    this.replay = { ...res, ms: performance.now() - t0, aliases: aliases.size };
    const st = this.head.stats;
    log?.info("WAL replay completed", {
      records: res.records, series: this.head.numSeries, checkpoint: res.checkpoint ?? "none", repairs: res.repairs.length,
      unknown_refs: st.replayUnknownRefs, too_old: st.replayTooOld, out_of_order: st.replayOutOfOrder, other_records: other,
      duration_ms: Math.round(this.replay.ms),
    });
  }

  private async loadBlocks(): Promise<void> {
    const log = this.o.log;
    const dirs = readdirSync(this.dir).filter((n) => isUlid(n) && existsSync(join(this.dir, n, "meta.json")));
    for (const n of dirs.sort()) {
      const d = join(this.dir, n);
      const files = localBlockFiles(d);
      try {
        const block = await openBlock(files);
        this.list.push({ block, dir: d, close: files.close, refs: 0, deleted: false });
      } catch (e) {
        await files.close();
        // Prometheus refuses to start on a damaged block; serving the rest is better for a ruler.
        log?.error("cannot open block; it is left in place and not served", { dir: d, err: errorMessage(e) });
      }
    }
    this.list.sort((a, b) => a.block.meta.minTime - b.block.meta.minTime);
  }

  // ---- BlockSet ----

  acquire(): { blocks: readonly Block[]; release(): void } {
    const held = this.list.slice();
    for (const b of held) b.refs++;
    let done = false;
    return {
      blocks: held.map((b) => b.block),
      release: () => {
        if (done) return;
        done = true;
        for (const b of held) { b.refs--; if (b.deleted && b.refs === 0) void this.removeBlockFiles(b); }
      },
    };
  }

  // ---- API ----

  appender(): HeadAppender {
    if (this.closed) throw new CodedError("unavailable", `TSDB ${this.dir} is closed`);
    return this.head.appender();
  }

  querier(): Querier { return this.reader.querier(); }

  onBlock(cb: (b: BlockEvent) => void | Promise<void>): () => void {
    this.subs.add(cb);
    return () => { this.subs.delete(cb); };
  }

  blocks(): BlockMeta[] { return this.list.map((b) => b.block.meta); }

  stats(): TsdbStats {
    const h = this.head;
    return {
      head: { ...h.stats, series: h.numSeries, minTime: h.minTime, maxTime: h.maxTime },
      blocks: this.list.length,
      wal: { bytesWritten: this.wal?.bytesWritten ?? 0, fsyncs: this.wal?.fsyncs ?? 0, segment: this.wal?.segment ?? -1 },
      replay: this.replay,
      ...this.counters,
    };
  }

  private scheduleCompact(): void {
    if (this.closed) return;
    if (this.compacting) { this.again = true; return; }
    this.compacting = (async () => {
      try {
        do {
          this.again = false;
          await this.compactOnce();
        } while (this.again && !this.closed);
      } catch (e) {
        this.counters.compactionFailures++;
        this.o.log?.error("block cutting failed; retrying at the next check", { err: errorMessage(e) });
      } finally {
        this.compacting = null;
      }
    })();
  }

  async compact(): Promise<void> {
    while (this.compacting) await this.compacting;
    this.scheduleCompact();
    while (this.compacting) await this.compacting;
  }

  private async compactOnce(): Promise<void> {
    const head = this.head;
    const log = this.o.log;
    let lastMaxt = -Infinity;
    while (head.compactable() && !this.closed) {
      const { mint, maxt } = head.nextBlockRange();
      if (head.lowestPendingTime() < maxt) {
        // An open appender holds samples for this range: wait for it (Prometheus' WaitForAppendersOverlapping).
        log?.debug("block cut waits for open appenders", { maxt });
        break;
      }
      const series = head.blockSeries(mint, maxt);
      if (series.length > 0) {
        const t0 = performance.now();
        const ulid = newUlid();
        const meta = await writeBlock(new DiskSink(this.dir, ulid), series, { ulid, minTime: mint, maxTime: maxt });
        fsyncDir(this.dir);
        const d = join(this.dir, ulid);
        const files = localBlockFiles(d);
        const block = await openBlock(files);
        // The block becomes visible and the head drops the range in one step (no await between), so a
        // read sees the range exactly once.
        this.list = [...this.list, { block, dir: d, close: files.close, refs: 0, deleted: false }].sort((a, b) => a.block.meta.minTime - b.block.meta.minTime);
        this.truncateHead(maxt);
        this.counters.blocksCut++;
        log?.info("write block", { ulid, mint, maxt, series: meta.stats.numSeries, samples: meta.stats.numSamples, duration_ms: Math.round(performance.now() - t0) });
        for (const cb of [...this.subs]) {
          // Not awaited: a slow listener (an upload) must not hold up the next cut.
          void (async () => { await cb({ dir: d, meta }); })().catch((e) => log?.warn("block listener failed", { ulid, err: errorMessage(e) }));
        }
      } else {
        this.truncateHead(maxt);
      }
      lastMaxt = maxt;
    }
    if (lastMaxt > -Infinity) await this.truncateWal(lastMaxt);
    this.applyRetention();
  }

  private truncateHead(maxt: number): void {
    for (const s of this.head.truncateMemory(maxt)) this.deleted.set(s.ref, this.wal.segment);
  }

  /** Prometheus' Head.truncateWAL: checkpoint the older 2/3 of the segments, drop them. */
  private async truncateWal(mint: number): Promise<void> {
    if (mint <= this.lastWalTruncation) return;
    this.lastWalTruncation = mint;
    const segs = listSegments(this.walDir);
    if (segs.length === 0) return;
    const first = segs[0]!.index;
    let last = segs[segs.length - 1]!.index;
    this.wal.nextSegment(); // so a quiet ruler does not keep more WAL than needed
    last--; // never the segment being written
    if (last < 0) return;
    last = first + Math.trunc(((last - first) * 2) / 3);
    if (last <= first) return;
    // An alias stays declared while segments after this checkpoint may still use it; within the
    // checkpoint its samples are rewritten to the series' current ref.
    const keep = (ref: number) => this.head.series(ref) !== undefined || this.deleted.has(ref) || (this.aliases.get(ref)?.seg ?? -1) > last;
    const mapRef = (ref: number) => { const a = this.aliases.get(ref); return a !== undefined && a.seg <= last ? a.to : ref; };
    const t0 = performance.now();
    const st = await checkpoint(this.walDir, first, last, keep, mint, {
      compress: this.wal.compress, segmentSize: this.wal.segmentSize, log: this.o.log, mapRef,
      yieldEvery: () => new Promise((r) => setImmediate(r)),
    });
    this.wal.truncate(last + 1);
    for (const [ref, seg] of this.deleted) if (seg < first) this.deleted.delete(ref);
    for (const [ref, a] of this.aliases) if (a.seg <= last) this.aliases.delete(ref);
    deleteCheckpoints(this.walDir, last);
    this.counters.checkpoints++;
    this.o.log?.info("WAL checkpoint complete", {
      first, last, series: st.totalSeries - st.droppedSeries, samples: st.totalSamples - st.droppedSamples, duration_ms: Math.round(performance.now() - t0),
    });
  }

  /** Delete blocks that ended more than the retention before the newest block ended. */
  private applyRetention(): void {
    if (this.retention <= 0 || this.list.length < 2) return;
    const byMax = [...this.list].sort((a, b) => b.block.meta.maxTime - a.block.meta.maxTime);
    const newest = byMax[0]!.block.meta.maxTime;
    const doomed = new Set<LocalBlock>();
    for (let i = 1; i < byMax.length; i++) {
      if (newest - byMax[i]!.block.meta.maxTime > this.retention) { for (const b of byMax.slice(i)) doomed.add(b); break; }
    }
    if (doomed.size === 0) return;
    this.list = this.list.filter((b) => !doomed.has(b));
    for (const b of doomed) {
      b.deleted = true;
      this.counters.blocksDeleted++;
      this.o.log?.info("deleting block beyond retention", { ulid: b.block.ulid, maxt: b.block.meta.maxTime, newest_maxt: newest });
      // Renamed now (invisible to a restart), removed once no read holds it.
      const tmp = b.dir + ".tmp-for-deletion";
      try { renameSync(b.dir, tmp); b.dir = tmp; } catch (e) { this.o.log?.warn("rename block for deletion failed", { dir: b.dir, err: errorMessage(e) }); }
      if (b.refs === 0) void this.removeBlockFiles(b);
    }
  }

  private async removeBlockFiles(b: LocalBlock): Promise<void> {
    await b.close().catch(() => {});
    rmSync(b.dir, { recursive: true, force: true });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    while (this.compacting) await this.compacting.catch(() => {});
    try {
      await this.wal?.close();
    } finally {
      await Promise.all(this.list.map((b) => b.close().catch(() => {})));
      openDirs.delete(this.dir);
      this.unlock();
    }
  }
}

/** Open (or create) the TSDB in `dir`: load blocks, replay and repair the WAL, start writing. */
export async function openTSDB(dir: string, opts: TsdbOptions = {}): Promise<Tsdb> {
  const db = new Db(dir, opts);
  await db.open();
  return db;
}
