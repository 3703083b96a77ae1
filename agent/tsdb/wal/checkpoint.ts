// WAL checkpoints as Prometheus 2.42 makes them (tsdb/wlog/checkpoint.go): the records of the last
// checkpoint and of segments [from, to], minus series the head no longer has and samples before `mint`,
// written as a WAL of their own into <wal>/checkpoint.<to>.tmp, fsynced, renamed to checkpoint.<to>.
// Replay then reads the checkpoint and the segments after `to` only, so segments up to `to` can go.

import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CodedError, errorMessage } from "../../../shared/encoding/errors.ts";
import { Encbuf } from "../../../shared/encoding/bytes.ts";
import {
  decodeSamples, decodeSeries, encodeSamples, encodeSeries, metadataRefs, recordType, RecordType, SampleColumns,
} from "../../../shared/tsdb/wal/record.ts";
import { groupWrites, PageWriter, segmentName, type WalWrite } from "../../../shared/tsdb/wal/wlog.ts";
import type { Logger } from "../../log.ts";
import { checkpointDirName, listCheckpoints, listSegments, readSegments, type SegmentRef } from "./wal.ts";

export interface CheckpointStats {
  droppedSeries: number;
  droppedSamples: number;
  /** Records of types we do not keep (tombstones, exemplars, histograms): dropped. */
  droppedOther: number;
  totalSeries: number;
  totalSamples: number;
  /** Size of the checkpoint written. */
  bytes: number;
}

export interface CheckpointOptions {
  compress: boolean;
  segmentSize: number;
  log?: Logger;
  /** Rewrite a sample's series ref (aliases of one series folded into one ref). */
  mapRef?: (ref: number) => number;
  /** Called every few thousand records so a long checkpoint does not hold the event loop. */
  yieldEvery?: () => Promise<void>;
}

/**
 * Checkpoint segments [from, to] of `dir` (with the last checkpoint, which must end at from - 1 or
 * later). Throws on damage in what it reads: then nothing changes (Prometheus does the same; the next
 * truncation tries again).
 */
export async function checkpoint(dir: string, from: number, to: number, keep: (ref: number) => boolean, mint: number, o: CheckpointOptions): Promise<CheckpointStats> {
  const stats: CheckpointStats = { droppedSeries: 0, droppedSamples: 0, droppedOther: 0, totalSeries: 0, totalSamples: 0, bytes: 0 };
  const sources: { dir: string; segs: SegmentRef[] }[] = [];
  const cps = listCheckpoints(dir);
  if (cps.length > 0) {
    const last = cps[cps.length - 1]!;
    if (from > last.index + 1) throw new CodedError("internal", `checkpoint WAL ${dir}: unexpected gap to the last checkpoint ${last.name}: asked from segment ${from}`);
    from = last.index + 1;
    const cpDir = join(dir, last.name);
    sources.push({ dir: cpDir, segs: listSegments(cpDir) });
  }
  sources.push({ dir, segs: listSegments(dir).filter((s) => s.index >= from && s.index <= to) });

  const final = join(dir, checkpointDirName(to));
  const tmp = final + ".tmp";
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const pw = new PageWriter(o.segmentSize, o.compress);
  let seg = 0;
  let fd = openSync(join(tmp, segmentName(seg)), "a");
  const writeOut = (ws: WalWrite[]) => {
    for (const w of groupWrites(ws)) {
      if (w === "rotate") {
        fsyncSync(fd); closeSync(fd);
        fd = openSync(join(tmp, segmentName(++seg)), "a");
        continue;
      }
      let off = 0;
      while (off < w.length) off += writeSync(fd, w, off, w.length - off);
      stats.bytes += w.length;
    }
  };

  try {
    const buf = new Encbuf(1 << 16);
    const cols = new SampleColumns(1024);
    const out = new SampleColumns(1024);
    const latestMeta = new Map<number, Uint8Array>();
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    let n = 0;
    const flush = () => { if (pending.length) { writeOut(pw.write(pending)); pending = []; pendingBytes = 0; } };
    for (const src of sources) {
      const recs: Uint8Array[] = [];
      // Collect per segment, then filter: readSegments is synchronous; yielding happens between segments.
      for (const s of src.segs) {
        const r = readSegments(src.dir, [s], (rec) => { recs.push(rec.slice()); });
        if (r.corruption) throw new CodedError("corrupt", `checkpoint WAL ${dir}: read ${join(src.dir, s.name)}: ${r.corruption.message}`, { cause: r.corruption });
        for (const rec of recs.splice(0)) {
          switch (recordType(rec)) {
            case RecordType.Series: {
              const ss = decodeSeries(rec, `series record in ${join(src.dir, s.name)}`);
              const kept = ss.filter((x) => keep(x.ref));
              stats.totalSeries += ss.length;
              stats.droppedSeries += ss.length - kept.length;
              if (kept.length) { const e = encodeSeries(kept, buf); pending.push(e); pendingBytes += e.length; }
              break;
            }
            case RecordType.Samples: {
              cols.reset(); out.reset();
              decodeSamples(rec, cols, `samples record in ${join(src.dir, s.name)}`);
              const map = o.mapRef;
              for (let i = 0; i < cols.n; i++) {
                if (cols.ts[i]! >= mint) out.push(map ? map(cols.refs[i]!) : cols.refs[i]!, cols.ts[i]!, cols.hi[i]!, cols.lo[i]!);
              }
              stats.totalSamples += cols.n;
              stats.droppedSamples += cols.n - out.n;
              if (out.n) { const e = encodeSamples(out, buf); pending.push(e); pendingBytes += e.length; }
              break;
            }
            case RecordType.Metadata: {
              // Only the latest metadata of each kept series, written at the end (as Prometheus does).
              for (const ref of metadataRefs(rec)) if (keep(ref)) latestMeta.set(ref, rec);
              break;
            }
            default:
              stats.droppedOther++;
          }
          if (pendingBytes > 1 << 20) flush();
          if (++n % 4096 === 0 && o.yieldEvery) await o.yieldEvery();
        }
      }
    }
    flush();
    // A metadata record may describe several series; keep each distinct record once.
    const metas = [...new Set(latestMeta.values())];
    if (metas.length) writeOut(pw.write(metas));
    const ws: WalWrite[] = [];
    pw.padPage(ws);
    writeOut(ws);
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    const dfd = openSync(tmp, "r");
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
    const pdfd = openSync(dir, "r");
    try { fsyncSync(pdfd); } finally { closeSync(pdfd); }
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { recursive: true, force: true });
    throw e instanceof CodedError ? e : new CodedError("unavailable", `checkpoint WAL ${dir} segments ${from}..${to}: ${errorMessage(e)}`, { cause: e });
  }
  return stats;
}

/** Delete checkpoints older than index `maxIndex`. */
export function deleteCheckpoints(dir: string, maxIndex: number): void {
  for (const c of listCheckpoints(dir)) {
    if (c.index >= maxIndex) break;
    rmSync(join(dir, c.name), { recursive: true, force: true });
  }
}
