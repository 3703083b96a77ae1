// The fan-out's side of the StoreAPI wire: a store's SeriesResponse messages become SeriesFrames in core
// terms (shared/chunkenc/chunk.ts: ms numbers, Prometheus' encoding numbers), and the fan-out's own
// merged chunks go back to storepb shape when it serves as a StoreAPI itself. The only place the
// fan-out meets Thanos' numbering.
//
// decodeSeriesResponse is the direct decoder (the hot message of the fan-out), bypassing protobuf-es
// message objects: labels become plain {name, value} pairs, chunk bytes stay views into the received
// buffer. In a profile of the querier over 10 000 series, protobuf-es decoding plus the GC of its
// objects was the largest single cost after the network. frameOf does the same for messages that
// protobuf-es already decoded (gRPC and gRPC-Web clients, in-process stores).
//
// Field numbers (proto/thanos/storepb/{rpc,types}.proto, labelpb/types.proto):
//   SeriesResponse { Series series = 1; string warning = 2; Any hints = 3; SeriesBatch batch = 4 }
//   SeriesBatch { repeated Series series = 1 }
//   Series { repeated Label labels = 1; repeated AggrChunk chunks = 2 }
//   Label { string name = 1; string value = 2 }
//   AggrChunk { int64 min_time = 1; int64 max_time = 2; Chunk raw = 3, count = 4, sum = 5, min = 6, max = 7, counter = 8 }
//   Chunk { Encoding type = 1; bytes data = 2; optional uint64 hash = 3 }

import { ProtoReader } from "../encoding/protoreader.ts";
import type { Label } from "../labels/labels.ts";
import { type ChunkData, fromStorepbEncoding, type StoreChunk, toStorepbEncoding } from "../chunkenc/chunk.ts";
import { decodeString, StringInterner } from "../store/intern.ts";
import type { SeriesResponseInit } from "../rpc/store.ts";
import { decodeCarried } from "../rpc/series.ts";

/** Label names and values repeat across series: interned (see shared/store/intern.ts). */
const labelStrings = new StringInterner();

/** A series as a store sent it: labels (sorted, as the StoreAPI requires) and chunks. */
export interface FrameSeries { labels: Label[]; chunks: StoreChunk[] }

/** One message of a store's Series stream, in core terms. */
export type SeriesFrame =
  | { kind: "series"; labels: Label[]; chunks: StoreChunk[] }
  | { kind: "batch"; series: FrameSeries[] }
  | { kind: "warning"; warning: string }
  | { kind: "hints" };

// Each reads fields until `e`, with the caller's cursor positioned at the nested message's start;
// the cursor's `end` bounds the varint/length reads of the nested message and is restored after.

function chunk(r: ProtoReader, e: number): ChunkData {
  const b = r.b, outer = r.end;
  r.end = e;
  let type = 0, data: Uint8Array | undefined;
  while (r.pos < e) {
    const tag = r.varint();
    if (tag === 8) type = r.varint();
    else if (tag === 18) { const ds = r.bytes(); data = b.subarray(ds, r.pos); }
    else r.skip(tag & 7);
  }
  r.end = outer;
  return { encoding: fromStorepbEncoding(type), data: data ?? b.subarray(0, 0) };
}

function aggrChunk(r: ProtoReader, e: number): StoreChunk {
  const outer = r.end;
  r.end = e;
  const out: StoreChunk = { minTime: 0, maxTime: 0 };
  while (r.pos < e) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (w === 0 && f === 1) out.minTime = r.varint();
    else if (w === 0 && f === 2) out.maxTime = r.varint();
    else if (w === 2 && f >= 3 && f <= 8) {
      const n = r.varint();
      const ce = r.pos + n;
      if (n < 0 || ce > e) r.fail(`length ${n} runs past the end (${e - r.pos} bytes left)`);
      const c = chunk(r, ce);
      switch (f) {
        case 3: out.raw = c; break;
        case 4: out.count = c; break;
        case 5: out.sum = c; break;
        case 6: out.min = c; break;
        case 7: out.max = c; break;
        default: out.counter = c;
      }
    } else r.skip(w);
  }
  r.end = outer;
  return out;
}

function series(r: ProtoReader, e: number): FrameSeries {
  const b = r.b, outer = r.end;
  r.end = e;
  const labels: Label[] = [];
  const chunks: StoreChunk[] = [];
  while (r.pos < e) {
    const tag = r.varint();
    if (tag === 10) {
      const n = r.varint();
      const le = r.pos + n;
      if (n < 0 || le > e) r.fail(`length ${n} runs past the end (${e - r.pos} bytes left)`);
      r.end = le;
      let name = "", value = "";
      while (r.pos < le) {
        const t = r.varint();
        if (t === 10) { const a = r.bytes(); name = labelStrings.get(b, a, r.pos); }
        else if (t === 18) { const a = r.bytes(); value = labelStrings.get(b, a, r.pos); }
        else r.skip(t & 7);
      }
      r.end = e;
      labels.push({ name, value });
    } else if (tag === 18) {
      const n = r.varint();
      const ce = r.pos + n;
      if (n < 0 || ce > e) r.fail(`length ${n} runs past the end (${e - r.pos} bytes left)`);
      chunks.push(aggrChunk(r, ce));
    } else r.skip(tag & 7);
  }
  r.end = outer;
  return { labels, chunks };
}

/** Decode one SeriesResponse message occupying b[start, end). */
export function decodeSeriesResponse(b: Uint8Array, start = 0, end = b.length, what = "SeriesResponse"): SeriesFrame {
  const r = new ProtoReader(b, start, end, what, "byte");
  let out: SeriesFrame = { kind: "hints" };
  while (r.pos < end) {
    const tag = r.varint();
    const f = tag >>> 3, w = tag & 7;
    if (w !== 2) { r.skip(w); continue; }
    const n = r.varint();
    const s = r.pos, e = s + n;
    if (n < 0 || e > end) r.fail(`length ${n} runs past the end (${end - s} bytes left)`);
    if (f === 1) out = { kind: "series", ...series(r, e) };
    else if (f === 2) { out = { kind: "warning", warning: decodeString(b, s, e) }; r.pos = e; }
    else if (f === 4) {
      const list: FrameSeries[] = [];
      r.end = e;
      while (r.pos < e) {
        const t = r.varint();
        if (t === 10) {
          const m = r.varint();
          const se = r.pos + m;
          if (m < 0 || se > e) r.fail(`length ${m} runs past the end (${e - r.pos} bytes left)`);
          list.push(series(r, se));
        } else r.skip(t & 7);
      }
      r.end = end;
      out = { kind: "batch", series: list };
    } else { out = { kind: "hints" }; r.pos = e; }
  }
  return out;
}

// ---- protobuf-es messages (or their init shapes) <-> frames ----

type PbChunk = { type?: number; data?: Uint8Array };
type PbAggrChunk = {
  minTime?: bigint; maxTime?: bigint;
  raw?: PbChunk; count?: PbChunk; sum?: PbChunk; min?: PbChunk; max?: PbChunk; counter?: PbChunk;
};
type PbSeries = { labels?: { name?: string; value?: string }[]; chunks?: PbAggrChunk[] };

function fromPbChunk(c: PbChunk | undefined): ChunkData | undefined {
  return c ? { encoding: fromStorepbEncoding(c.type ?? 0), data: c.data ?? new Uint8Array(0) } : undefined;
}

function fromPbAggrChunk(c: PbAggrChunk): StoreChunk {
  const out: StoreChunk = { minTime: Number(c.minTime ?? 0n), maxTime: Number(c.maxTime ?? 0n) };
  if (c.raw) out.raw = fromPbChunk(c.raw);
  if (c.count) out.count = fromPbChunk(c.count);
  if (c.sum) out.sum = fromPbChunk(c.sum);
  if (c.min) out.min = fromPbChunk(c.min);
  if (c.max) out.max = fromPbChunk(c.max);
  if (c.counter) out.counter = fromPbChunk(c.counter);
  return out;
}

function fromPbSeries(s: PbSeries): FrameSeries {
  return {
    labels: (s.labels ?? []).map((l) => ({ name: l.name ?? "", value: l.value ?? "" })),
    chunks: (s.chunks ?? []).map(fromPbAggrChunk),
  };
}

/** A SeriesResponse already decoded by protobuf-es (or built in process) as a frame. */
export function frameOf(r: SeriesResponseInit): SeriesFrame {
  const res = decodeCarried(r).result;
  switch (res?.case) {
    case "series": return { kind: "series", ...fromPbSeries(res.value as PbSeries) };
    case "batch": return { kind: "batch", series: ((res.value as { series?: PbSeries[] }).series ?? []).map(fromPbSeries) };
    case "warning": return { kind: "warning", warning: res.value as string };
    default: return { kind: "hints" };
  }
}

function toPbChunk(c: ChunkData | undefined): { type: number; data: Uint8Array } | undefined {
  return c ? { type: toStorepbEncoding(c.encoding), data: c.data } : undefined;
}

/** A chunk of ours as a storepb.AggrChunk init (int64 times as bigint). */
export function toPbAggrChunk(c: StoreChunk) {
  return {
    minTime: BigInt(c.minTime), maxTime: BigInt(c.maxTime),
    raw: toPbChunk(c.raw), count: toPbChunk(c.count), sum: toPbChunk(c.sum), min: toPbChunk(c.min), max: toPbChunk(c.max), counter: toPbChunk(c.counter),
  };
}
