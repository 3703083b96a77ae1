// The write-ahead log on disk, in Prometheus 2.42's layout (tsdb/wlog): <dir>/00000000, 00000001, ...
// segments of at most 128 MiB in 32 KiB pages (framing in shared/tsdb/wal/wlog.ts), and
// <dir>/checkpoint.NNNNNNNN/ holding a compacted copy of the segments up to NNNNNNNN. Prometheus and
// `promtool tsdb dump` read a directory we wrote, and we read theirs.
//
// Durability: log() writes the framed records to the segment with one write(2) before it returns, so a
// kill -9 afterwards loses nothing (the bytes are in the kernel). With sync: "fsync" (the default),
// sync() also fsyncs the segment before it resolves, which covers a power loss too; concurrent callers
// share one fsync (group commit). sync: "write" skips the fsync, as Prometheus does (it never fsyncs per
// commit, only when a segment is finished).
//
// Opening: replayWal() reads the last checkpoint and the segments after it. Damage (a torn last record
// after a crash, a flipped bit) is repaired the way Prometheus' WL.Repair does it: the damaged segment
// keeps the records before the damage, later segments are deleted; what was dropped is logged. A damaged
// checkpoint is cut the same way (Prometheus refuses to start on one; we start with what is readable).
// Then Wal.open() starts writing a new segment after the last, as Prometheus does.

import {
  closeSync, fstatSync, fsync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readSync,
  rmSync, statSync, writeSync,
} from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { CodedError, errorMessage } from "../../../shared/encoding/errors.ts";
import {
  DEFAULT_SEGMENT_SIZE, groupWrites, PAGE_SIZE, PageWriter, SegmentReader, segmentName, type SegmentSource, type WalCorruption, type WalWrite,
} from "../../../shared/tsdb/wal/wlog.ts";
import type { Logger } from "../../log.ts";

const fsyncAsync = promisify(fsync);

export type WalSyncPolicy = "fsync" | "write";

export interface WalOptions {
  segmentSize?: number;
  /** Snappy-compress records (Prometheus' --storage.tsdb.wal-compression, Thanos' --tsdb.wal-compression). */
  compress?: boolean;
  sync?: WalSyncPolicy;
  log?: Logger;
  /** The asynchronous fsync sync() runs (tests slow it down to rotate segments under it). */
  fsync?: (fd: number) => Promise<void>;
}

export interface SegmentRef { index: number; name: string }

/** Numbered segment files of a WAL (or checkpoint) directory, in order. */
export function listSegments(dir: string): SegmentRef[] {
  let names: string[];
  try { names = readdirSync(dir); } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return [];
    throw new CodedError("unavailable", `list WAL dir ${dir}: ${errorMessage(e)}`, { cause: e });
  }
  const out: SegmentRef[] = [];
  for (const n of names) if (/^\d+$/.test(n)) out.push({ index: Number(n), name: n });
  return out.sort((a, b) => a.index - b.index);
}

const CHECKPOINT_PREFIX = "checkpoint.";

/** Checkpoint directories (checkpoint.NNNNNNNN), oldest first; unfinished ".tmp" ones are not listed. */
export function listCheckpoints(dir: string): SegmentRef[] {
  let names: string[];
  try { names = readdirSync(dir); } catch { return []; }
  const out: SegmentRef[] = [];
  for (const n of names) {
    const m = /^checkpoint\.(\d+)$/.exec(n);
    if (m && statSync(join(dir, n)).isDirectory()) out.push({ index: Number(m[1]), name: n });
  }
  return out.sort((a, b) => a.index - b.index);
}

export function checkpointDirName(i: number): string { return CHECKPOINT_PREFIX + segmentName(i); }

/** A segment file read by page windows (positional reads on one descriptor). */
export class FileSegment implements SegmentSource {
  readonly size: number;
  private fd: number;
  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, "r");
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      throw new CodedError("unavailable", `open WAL segment ${path}: ${errorMessage(e)}`, { cause: e });
    }
  }
  read(offset: number, length: number): Uint8Array {
    const b = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, b, got, length - got, offset + got);
      if (n === 0) throw new CodedError("corrupt", `${this.path}: short read: ${got} of ${length} bytes at offset ${offset}`);
      got += n;
    }
    return b;
  }
  close(): void { if (this.fd >= 0) { closeSync(this.fd); this.fd = -1; } }
}

/** Every record of the segments of `dir` from index `from` on, in order; stops at the first damage. */
export function readSegments(
  dir: string, segs: readonly SegmentRef[], onRecord: (rec: Uint8Array, segment: number) => void,
): { records: number; corruption: WalCorruption | null; goodEnd: number } {
  let records = 0;
  for (const s of segs) {
    const f = new FileSegment(join(dir, s.name));
    try {
      const r = new SegmentReader(f, s.index, join(dir, s.name));
      while (r.next()) { onRecord(r.record(), s.index); records++; }
      const e = r.err();
      if (e) return { records, corruption: e, goodEnd: r.end() };
    } finally {
      f.close();
    }
  }
  return { records, corruption: null, goodEnd: 0 };
}

export interface RepairReport {
  segment: number;
  offset: number;
  reason: string;
  /** Bytes cut from the damaged segment (from the damage to its end). */
  droppedBytes: number;
  /** Later segments deleted, with their total size. */
  droppedSegments: number[];
  droppedSegmentBytes: number;
}

/**
 * Keep the records of segment `c.segment` before the damage (cut at `goodEnd`, zero-padded to the page
 * end so the segment stays well-formed) and delete every later segment: Prometheus' WL.Repair, which
 * re-writes the damaged segment with the records before the damage and removes the ones after it.
 */
export function repairSegments(dir: string, c: WalCorruption, goodEnd: number): RepairReport {
  const path = join(dir, segmentName(c.segment));
  const size = statSync(path).size;
  const report: RepairReport = {
    segment: c.segment, offset: c.offset, reason: c.reason, droppedBytes: size - goodEnd, droppedSegments: [], droppedSegmentBytes: 0,
  };
  for (const s of listSegments(dir)) {
    if (s.index <= c.segment) continue;
    const p = join(dir, s.name);
    report.droppedSegmentBytes += statSync(p).size;
    rmSync(p, { force: true });
    report.droppedSegments.push(s.index);
  }
  const fd = openSync(path, "r+");
  try {
    const padded = goodEnd % PAGE_SIZE === 0 ? goodEnd : goodEnd - (goodEnd % PAGE_SIZE) + PAGE_SIZE;
    ftruncateSync(fd, goodEnd);
    // Extend with zeros to the page end (ftruncate zero-fills).
    if (padded !== goodEnd) ftruncateSync(fd, padded);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return report;
}

export interface ReplayResult {
  records: number;
  checkpoint: number | null;
  /** Damage repaired in the checkpoint or the segments. */
  repairs: (RepairReport & { where: "checkpoint" | "segments" })[];
  /** Index of the last segment read (-1: none). */
  lastSegment: number;
}

/**
 * Replay a WAL directory: the last checkpoint, then every segment after it, each record handed to
 * `onRecord`. Damage is repaired and logged (see the file comment); replay never fails on it.
 */
export function replayWal(
  dir: string, onRecord: (rec: Uint8Array, where: { checkpoint: boolean; segment: number }) => void, log?: Logger,
): ReplayResult {
  mkdirSync(dir, { recursive: true });
  const res: ReplayResult = { records: 0, checkpoint: null, repairs: [], lastSegment: -1 };
  const cps = listCheckpoints(dir);
  let from = 0;
  const report = (r: RepairReport, where: "checkpoint" | "segments", d: string) => {
    res.repairs.push({ ...r, where });
    log?.warn("WAL corruption repaired: records from the damage on are dropped", {
      dir: d, segment: segmentName(r.segment), offset: r.offset, reason: r.reason,
      dropped_bytes: r.droppedBytes, dropped_segments: r.droppedSegments.map(segmentName).join(",") || "none",
      dropped_segment_bytes: r.droppedSegmentBytes,
    });
  };
  if (cps.length > 0) {
    const cp = cps[cps.length - 1]!;
    const cpDir = join(dir, cp.name);
    res.checkpoint = cp.index;
    const r = readSegments(cpDir, listSegments(cpDir), (rec, segment) => onRecord(rec, { checkpoint: true, segment }));
    res.records += r.records;
    if (r.corruption) {
      log?.error("WAL checkpoint is damaged; starting with what is readable (Prometheus would refuse to start)", { checkpoint: cp.name, err: r.corruption.message });
      report(repairSegments(cpDir, r.corruption, r.goodEnd), "checkpoint", cpDir);
    }
    from = cp.index + 1;
  }
  const all = listSegments(dir);
  const segs = all.filter((s) => s.index >= from);
  if (all.length > segs.length) log?.info("WAL segments older than the checkpoint are ignored", { count: all.length - segs.length });
  for (let i = 1; i < segs.length; i++) {
    if (segs[i]!.index !== segs[i - 1]!.index + 1) {
      log?.warn("WAL segments are not sequential; reading them in order anyway", { after: segs[i - 1]!.name, next: segs[i]!.name });
    }
  }
  const r = readSegments(dir, segs, (rec, segment) => onRecord(rec, { checkpoint: false, segment }));
  res.records += r.records;
  res.lastSegment = segs.length ? segs[segs.length - 1]!.index : -1;
  if (r.corruption) {
    report(repairSegments(dir, r.corruption, r.goodEnd), "segments", dir);
    res.lastSegment = r.corruption.segment;
  }
  return res;
}

/** Remove checkpoint.N.tmp directories left by a crash during checkpointing. */
export function removeTempCheckpoints(dir: string, log?: Logger): void {
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const n of names) {
    if (/^checkpoint\.\d+\.tmp$/.test(n)) {
      rmSync(join(dir, n), { recursive: true, force: true });
      log?.info("removed unfinished WAL checkpoint", { dir: join(dir, n) });
    }
  }
}

/**
 * The writing end: appends to segment files, starting a new segment after the last existing one.
 * Single-threaded by construction (JS): log() is synchronous, so records of concurrent commits never
 * interleave.
 */
export class Wal {
  private fd = -1;
  private seg = -1;
  private readonly pw: PageWriter;
  private readonly policy: WalSyncPolicy;
  private writeSeq = 0;
  private syncedSeq = 0;
  private inflight: { seq: number; p: Promise<void>; fd: number } | null = null;
  private broken: Error | null = null;
  private closed = false;
  /** Bytes written (for metrics/benchmarks). */
  bytesWritten = 0;
  fsyncs = 0;

  private constructor(readonly dir: string, private readonly opts: WalOptions) {
    this.pw = new PageWriter(opts.segmentSize ?? DEFAULT_SEGMENT_SIZE, opts.compress ?? false);
    this.policy = opts.sync ?? "fsync";
  }

  /** Open for writing: a new segment numbered after the last existing one (the WAL was replayed before). */
  static open(dir: string, opts: WalOptions = {}): Wal {
    mkdirSync(dir, { recursive: true });
    const w = new Wal(dir, opts);
    const segs = listSegments(dir);
    w.createSegment(segs.length ? segs[segs.length - 1]!.index + 1 : 0, true);
    return w;
  }

  get segment(): number { return this.seg; }
  get compress(): boolean { return this.pw.compress; }
  get segmentSize(): number { return this.pw.segmentSize; }

  /** Open segment i for appending; `resume`: take the page position from its size (not on rotation: the PageWriter already moved on). */
  private createSegment(i: number, resume: boolean): void {
    const path = join(this.dir, segmentName(i));
    try {
      this.fd = openSync(path, "a");
    } catch (e) {
      throw new CodedError("unavailable", `create WAL segment ${path}: ${errorMessage(e)}`, { cause: e });
    }
    this.seg = i;
    if (resume) this.pw.resumeAt(fstatSync(this.fd).size);
  }

  /** Close the current segment (fsynced) and continue in a new one; returns its index. */
  nextSegment(): number {
    this.check();
    const ws: WalWrite[] = [];
    this.pw.rotate(ws);
    this.apply(ws);
    return this.seg;
  }

  private check(): void {
    if (this.closed) throw new CodedError("internal", `WAL ${this.dir} is closed`);
    if (this.broken) throw new CodedError("unavailable", `WAL ${this.dir} failed earlier and accepts no writes until restart: ${this.broken.message}`, { cause: this.broken });
  }

  /** Append records (in order, one write per segment touched); on return they are in the kernel. */
  log(records: readonly Uint8Array[]): void {
    this.check();
    if (records.length === 0) return;
    const before = { seg: this.seg, state: this.pw.state(), size: this.pw.offset };
    const ws = this.pw.write(records);
    try {
      this.apply(ws);
    } catch (e) {
      // Undo a partial write where we can, so the segment holds only whole records.
      if (this.seg === before.seg) {
        try {
          ftruncateSync(this.fd, before.size);
          this.pw.restore(before.state);
        } catch (e2) {
          this.broken = e2 as Error;
        }
      } else {
        this.broken = e as Error;
      }
      throw new CodedError("unavailable", `write WAL segment ${join(this.dir, segmentName(this.seg))}: ${errorMessage(e)}`, { cause: e });
    }
    this.writeSeq++;
  }

  private apply(ws: readonly WalWrite[]): void {
    for (const w of groupWrites(ws)) {
      if (w === "rotate") {
        // The finished segment is made durable before we move on: a later sync() only fsyncs the new one.
        const old = this.fd;
        if (this.policy === "fsync") { fsyncSync(old); this.fsyncs++; }
        // A sync() may have an fsync of this segment running on the thread pool: close the descriptor
        // once it is done, or it fails with EBADF (or syncs whatever file gets the number next).
        const running = this.inflight?.fd === old ? this.inflight.p : null;
        if (running) {
          const closeOld = () => { try { closeSync(old); } catch { /* already gone */ } };
          running.then(closeOld, closeOld);
        } else closeSync(old);
        this.fd = -1;
        this.createSegment(this.seg + 1, false);
        continue;
      }
      let off = 0;
      while (off < w.length) off += writeSync(this.fd, w, off, w.length - off);
      this.bytesWritten += w.length;
    }
  }

  /**
   * Resolves when every record logged before the call is durable (policy "fsync"); immediately with
   * policy "write". Callers arriving while an fsync runs share the next one.
   */
  async sync(): Promise<void> {
    if (this.policy !== "fsync") return;
    const target = this.writeSeq;
    while (this.syncedSeq < target) {
      if (!this.inflight) {
        const seq = this.writeSeq;
        const fd = this.fd, seg = this.seg;
        this.fsyncs++;
        const p = (this.opts.fsync ?? fsyncAsync)(fd).then(
          () => { this.syncedSeq = Math.max(this.syncedSeq, seq); this.inflight = null; },
          (e) => { this.inflight = null; throw new CodedError("unavailable", `fsync WAL segment ${join(this.dir, segmentName(seg))}: ${errorMessage(e)}`, { cause: e }); },
        );
        this.inflight = { seq, p, fd };
      }
      await this.inflight!.p;
    }
  }

  /** Delete segments numbered below `i` (after a checkpoint covers them). */
  truncate(i: number): void {
    for (const s of listSegments(this.dir)) {
      if (s.index >= i) break;
      rmSync(join(this.dir, s.name), { force: true });
    }
  }

  /** Pad the last page, fsync and close (the next open starts a new segment). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.inflight?.p.catch(() => {});
    this.closed = true;
    if (this.fd < 0) return;
    try {
      if (!this.broken) {
        const ws: WalWrite[] = [];
        this.pw.padPage(ws);
        this.apply(ws);
        fsyncSync(this.fd);
      }
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
  }
}

