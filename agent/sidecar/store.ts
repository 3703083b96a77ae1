// The sidecar's StoreAPI over its Prometheus: Series through remote read (streamed XOR chunks, raw bytes
// forwarded; SAMPLES re-encoded as a fallback), skip_chunks and the label calls through the JSON API,
// Info from the external labels. Transport-free: a StoreImpl + InfoImpl (shared/rpc/store.ts) that the
// shared server stack serves; seriesEnveloped is its fast path.

import { create, fromBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { CodedError, errorCode, errorMessage } from "../../shared/encoding/errors.ts";
import { XorAppender } from "../../shared/chunkenc/xor.ts";
import { type Chunk, Encoding } from "../../shared/chunkenc/chunk.ts";
import { labelsFrom, labelsString, type Label, type Labels } from "../../shared/labels/labels.ts";
import { newMatcher, type Matcher, type MatchType } from "../../shared/labels/matcher.ts";
import { msFromProto, msToProto, MAX_INT64 } from "../../shared/rpc/time.ts";
import {
  dropLabelNames, extendLabels, externalLabelsWithout, matchExternalLabels, mergeSortedStrings,
} from "../../shared/store/labels.ts";
import { chunkSampleCount, RequestLimiter } from "../../shared/store/limits.ts";
import { MAX_RESPONSE_BATCH_SIZE } from "../../shared/rpc/series.ts";
import type { CallContext, InfoImpl, StoreImpl } from "../../shared/rpc/store.ts";
import { PrefixReorderer } from "../../shared/store/reorder.ts";
import {
  decodeChunkedReadResponse, encodeLabels, envelopedMessages, type OutSeries, SeriesResponseWriter,
} from "../../shared/store/wire.ts";
import { compareLabels } from "../../shared/labels/labels.ts";
import { type InfoResponse, InfoResponseSchema, StoreInfoSchema } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { LabelSetSchema, type Label as PbLabel, LabelSchema } from "../../shared/gen/thanos/labelpb/types_pb.ts";
import {
  type LabelNamesRequest, type LabelNamesResponse, LabelNamesResponseSchema, type LabelValuesRequest,
  type LabelValuesResponse, LabelValuesResponseSchema, type SeriesRequest, type SeriesResponse, SeriesResponseSchema,
} from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import {
  type LabelMatcher, LabelMatcher_Type, PartialResponseStrategy,
} from "../../shared/gen/thanos/storepb/types_pb.ts";
import { LabelMatcher_Type as PromMatchType, ReadHintsSchema } from "../../shared/gen/prometheus/types_pb.ts";
import { ReadRequest_ResponseType } from "../../shared/gen/prometheus/remote_pb.ts";
import type { RawSeries as RawSampleSeries } from "../../shared/remote/samples.ts";
import type { PromClient } from "../prom/client.ts";
import type { Logger } from "../log.ts";
import type { Counter, Histogram } from "../metrics.ts";

/** Thanos' MaxSamplesPerChunk when re-encoding SAMPLES answers. */
const SAMPLES_PER_CHUNK = 120;

export interface SidecarStoreOptions {
  prom: PromClient;
  /** Current external labels (refreshed elsewhere). */
  externalLabels(): Labels;
  /** Oldest time served: max(--min-time, oldest data); requests are clipped to it. */
  minTime(): number;
  maxSeries?: number;
  maxSamples?: number;
  /** Response types to ask remote read for (tests force SAMPLES to exercise the fallback). */
  accept?: ReadRequest_ResponseType[];
  log: Logger;
  metrics?: { remoteReadSeconds: Histogram; remoteReadErrors: Counter; outOfOrder?: Counter };
  /**
   * Called once a Series call has streamed at least `largeAnswerBytes` (default LARGE_ANSWER_BYTES) from
   * Prometheus, after its last piece (main.ts: a garbage collection on Bun, see there).
   */
  afterLargeAnswer?: () => void;
  largeAnswerBytes?: number;
}

/** What counts as a large answer for afterLargeAnswer. */
export const LARGE_ANSWER_BYTES = 16 * 1024 * 1024;

const MATCH_TYPES: Record<number, MatchType> = {
  [LabelMatcher_Type.EQ]: "=", [LabelMatcher_Type.NEQ]: "!=", [LabelMatcher_Type.RE]: "=~", [LabelMatcher_Type.NRE]: "!~",
};
const PROM_TYPES: Record<MatchType, PromMatchType> = {
  "=": PromMatchType.EQ, "!=": PromMatchType.NEQ, "=~": PromMatchType.RE, "!~": PromMatchType.NRE,
};

export function matchersFromProto(ms: readonly LabelMatcher[]): Matcher[] {
  return ms.map((m) => {
    const t = MATCH_TYPES[m.type];
    if (!t) throw new CodedError("bad_data", `matcher on ${JSON.stringify(m.name)}: unknown matcher type ${m.type}`);
    return newMatcher(t, m.name, m.value);
  });
}

function labelsFromPb(ls: readonly { name: string; value: string }[]): Labels {
  // Prometheus sends sorted, unique label sets; checking costs a pass and protects the merge below.
  for (let i = 1; i < ls.length; i++) {
    if (!(ls[i - 1]!.name < ls[i]!.name)) return labelsFrom(ls.map((l) => ({ name: l.name, value: l.value })));
  }
  return ls as Labels;
}

function toPbLabels(ls: Labels): PbLabel[] {
  return ls.map((l: Label) => create(LabelSchema, { name: l.name, value: l.value }));
}

function withoutExternal(ls: Labels, ext: Labels): Labels {
  // Plain loops: this runs once per streamed series (closures here showed in profiles).
  let hit = -1;
  for (let i = 0; i < ls.length && hit < 0; i++) {
    const l = ls[i]!;
    for (let j = 0; j < ext.length; j++) if (ext[j]!.name === l.name && ext[j]!.value === l.value) { hit = i; break; }
  }
  if (hit < 0) return ls;
  const out: Label[] = ls.slice(0, hit);
  for (let i = hit + 1; i < ls.length; i++) {
    const l = ls[i]!;
    let isExt = false;
    for (let j = 0; j < ext.length; j++) if (ext[j]!.name === l.name && ext[j]!.value === l.value) { isExt = true; break; }
    if (!isExt) out.push(l);
  }
  return out;
}

function isAbort(strategy: PartialResponseStrategy, disabled: boolean): boolean {
  return disabled || strategy === PartialResponseStrategy.ABORT;
}

/** Errors that are the caller's (or a limit), never turned into partial-response warnings. */
function isRequestError(e: unknown): boolean {
  const c = errorCode(e);
  return c === "bad_data" || c === "resource_exhausted" || c === "canceled" || c === "unauthenticated";
}

/** A series on its way out: final labels (for ordering), their encoding when already known, chunks. */
interface RawOut { labels: Labels; labelBytes: Uint8Array | null; chunks: Chunk[] }

function outSeries(s: RawOut): OutSeries {
  return { labelBytes: s.labelBytes ?? encodeLabels(s.labels), chunks: s.chunks };
}

/** True when every external label is in `ls` with its value (both sorted; strings interned, so === is cheap). */
function hasAllLabels(ls: Labels, ext: Labels): boolean {
  let i = 0;
  for (let j = 0; j < ext.length; j++) {
    const e = ext[j]!;
    while (i < ls.length && ls[i]!.name < e.name) i++;
    if (i >= ls.length || ls[i]!.name !== e.name || ls[i]!.value !== e.value) return false;
  }
  return true;
}

function hasAnyName(ls: Labels, names: ReadonlySet<string>): boolean {
  if (names.size === 0) return false;
  for (let i = 0; i < ls.length; i++) if (names.has(ls[i]!.name)) return true;
  return false;
}

/** A SeriesResponse whose field 1 (series) or 4 (batch) is pre-encoded bytes, carried as an unknown field. */
function preEncoded(field: 1 | 4, data: Uint8Array): SeriesResponse {
  const m = create(SeriesResponseSchema);
  m.$unknown = [{ no: field, wireType: WireType.LengthDelimited, data }];
  return m;
}

/** Hand the written messages over once this many bytes are ready. */
const OUT_YIELD_BYTES = 128 * 1024;

const IDLE = Symbol("idle");
let idleTick: Promise<typeof IDLE> | null = null;
/** Resolves on the next macrotask: whatever the network already delivered has been seen by then. */
function idle(): Promise<typeof IDLE> {
  return (idleTick ??= new Promise((r) => setImmediate(() => { idleTick = null; r(IDLE); })));
}

export class SidecarStore implements StoreImpl, InfoImpl {
  constructor(private readonly o: SidecarStoreOptions) {}

  async info(): Promise<InfoResponse> {
    const ext = this.o.externalLabels();
    return create(InfoResponseSchema, {
      labelSets: ext.length ? [create(LabelSetSchema, { labels: toPbLabels(ext) })] : [],
      ComponentType: "sidecar",
      store: create(StoreInfoSchema, {
        minTime: msToProto(this.o.minTime()),
        maxTime: MAX_INT64,
        supportsSharding: false,
        supportsWithoutReplicaLabels: true,
      }),
    });
  }

  /**
   * Series as SeriesResponse messages (connect's generic path and tests). The messages are the ones
   * seriesEnveloped writes: pre-encoded series/batches travel as unknown fields, never re-encoded.
   */
  async *series(req: SeriesRequest, ctx: CallContext): AsyncGenerator<SeriesResponse> {
    for await (const b of this.seriesEnveloped(req, ctx, { reuse: false })) {
      for (const m of envelopedMessages(b, "Series")) {
        const tag = m[0];
        if (tag === 0x0a || tag === 0x22) yield preEncoded(tag === 0x0a ? 1 : 4, m.subarray(1));
        else yield fromBinary(SeriesResponseSchema, m);
      }
    }
  }

  /**
   * Series as enveloped SeriesResponse bytes (flags | length | message, the framing of gRPC, gRPC-Web and
   * Connect streaming), handed over in pieces of up to ~128 KiB as they are written: the fast transports
   * write these straight to the socket. With `reuse`, output buffers are recycled: a yielded piece is valid
   * only until the generator is resumed, so the caller must have copied or sent it by then.
   */
  async *seriesEnveloped(req: SeriesRequest, ctx: CallContext, opts: { reuse: boolean }): AsyncGenerator<Uint8Array> {
    const signal = ctx.signal;
    const ext = this.o.externalLabels();
    const { match, rest } = matchExternalLabels(matchersFromProto(req.matchers), ext);
    if (!match) return;
    if (rest.length === 0) throw new CodedError("bad_data", "no matchers specified (excluding external labels)");
    const outExt = externalLabelsWithout(ext, req.withoutReplicaLabels);
    const drop = new Set(req.withoutReplicaLabels);
    const extNames = new Set(ext.map((l) => l.name));
    const mint = Math.max(msFromProto(req.minTime), this.o.minTime());
    const maxt = msFromProto(req.maxTime);
    const limiter = new RequestLimiter(this.o.maxSeries ?? 0, this.o.maxSamples ?? 0);
    const abort = isAbort(req.partialResponseStrategy, req.partialResponseDisabled);
    if (maxt < mint) return;

    // Final labels: what Prometheus returned (stored labels + its external labels) without the replica
    // labels being dropped, with our external labels set on top.
    const finalLabels = (ls: Labels) => extendLabels(dropLabelNames(ls, drop), outExt);
    const w = new SeriesResponseWriter(Math.min(Number(req.responseBatchSize), MAX_RESPONSE_BATCH_SIZE), { reuse: opts.reuse });
    const add = (s: RawOut) => { limiter.addSeries(); w.add(outSeries(s)); };
    // Labels go out as Prometheus sent them (bytes copied verbatim) unless a replica label is dropped or
    // an external label is missing or differs (then they are re-encoded from the final label set).
    const asIs = (ls: Labels) => !hasAnyName(ls, drop) && hasAllLabels(ls, outExt);

    const ro = new PrefixReorderer<RawOut>((into, from) => { into.chunks.push(...from.chunks); });
    try {
      if (req.skipChunks) {
        const maps = await this.o.prom.series(rest, mint, maxt, signal);
        const all = maps.map((m) => finalLabels(labelsFrom(m))).sort(compareLabels);
        for (const ls of all) {
          add({ labels: ls, labelBytes: null, chunks: [] });
          if (w.bytes >= OUT_YIELD_BYTES) yield* w.take();
        }
        w.flush();
        yield* w.take();
        return;
      }
      const stop = this.o.metrics?.remoteReadSeconds.startTimer();
      // Prometheus is asked for whole 2 h ranges (see alignedWindow); what lies outside [mint, maxt] is
      // dropped here, chunk by chunk, without decoding anything.
      const win = alignedWindow(mint, maxt);
      const inWindow = (c: Chunk) => c.maxTime >= mint && c.minTime <= maxt;
      const res = await this.o.prom.remoteRead({
        startTimestampMs: msToProto(win.mint),
        endTimestampMs: msToProto(win.maxt),
        matchers: rest.map((m) => ({ type: PROM_TYPES[m.type], name: m.name, value: m.value })),
        // The hints' range too: Prometheus' block querier trims to the hints' start and end.
        hints: create(ReadHintsSchema, hintsOf(req, win.mint, win.maxt)),
      }, { accept: this.o.accept, signal });
      if (res.type !== "chunked") {
        stop?.();
        // Prometheus sends SAMPLES whole (and unsorted); decoded by hand so value bits, stale markers
        // included, reach the XOR encoder without passing through a JS number.
        // One query per request: later results are not ours.
        const ss = (res.results[0]?.series ?? [])
          .map((t) => trimSamples(t, mint, maxt))
          .filter((t) => t.ts.length > 0)
          .map((t) => ({ labels: finalLabels(labelsFromPb(t.labels)), t }))
          .sort((a, b) => compareLabels(a.labels, b.labels));
        for (const { labels, t } of ss) {
          limiter.addSamples(t.ts.length);
          add({ labels, labelBytes: null, chunks: samplesToChunks(t) });
          if (w.bytes >= OUT_YIELD_BYTES) yield* w.take();
        }
        w.flush();
        yield* w.take();
        return;
      }
      let streamed = 0;
      try {
        let i = 0;
        // Frames come in groups (every frame complete in one network read): one await per group, not
        // per series. Written messages are handed over when 128 KiB are ready, or when the next group is
        // not there yet (Prometheus is the bottleneck): fewer, larger socket writes, and no added latency.
        const groups = res.payloadBatches;
        let pending: Promise<IteratorResult<Uint8Array[]>> | null = null;
        try {
          for (;;) {
            pending ??= groups.next();
            let r: IteratorResult<Uint8Array[]> | typeof IDLE;
            if (w.bytes > 0) {
              r = await Promise.race([pending, idle()]);
              if (r === IDLE) { yield* w.take(); continue; }
            } else r = await pending;
            pending = null;
            if (r.done) break;
            for (const payload of r.value) {
              streamed += payload.length;
              for (const s of decodeChunkedReadResponse(payload, `remote read frame ${i++}`).series) {
                const got = labelsFromPb(s.labels);
                // Prometheus sorted by the stored labels: what it sent minus the external labels it merged in
                // (a stored label with an external name but another value is the series' own: it stays).
                const key = extNames.size ? withoutExternal(got, ext) : got;
                const verbatim = got === s.labels && s.labelBytes !== null && asIs(got);
                const labels = verbatim ? got : finalLabels(got);
                let chunks = s.chunks;
                if (win.widened && !chunks.every(inWindow)) {
                  chunks = chunks.filter(inWindow);
                  if (chunks.length === 0) continue; // nothing in the asked window: not in Prometheus' answer to it either
                }
                for (let j = 0; j < chunks.length; j++) {
                  const c = chunks[j]!;
                  if (c.encoding < Encoding.XOR || c.encoding > Encoding.FloatHistogram) throw new CodedError("corrupt", `remote read: series ${labelsString(got)} has a chunk of unknown encoding ${c.encoding}`);
                  limiter.addSamples(chunkSampleCount(c.encoding, c.data));
                }
                const ready = ro.push(key, labels, { labels, labelBytes: verbatim ? s.labelBytes : null, chunks });
                for (let j = 0; j < ready.length; j++) add(ready[j]!);
              }
              // A network read can hold megabytes of frames: hand over encoded messages as they pile up,
              // so the copies held at once stay small (peak RSS), with the writer's back-pressure between.
              if (w.bytes >= OUT_YIELD_BYTES) yield* w.take();
            }
          }
        } finally {
          // Left early (error, cancel): the read in flight fails once the body is canceled; not unhandled.
          pending?.catch(() => {});
        }
        for (const ready of ro.flush()) add(ready);
        w.flush();
        yield* w.take();
        stop?.();
        if (ro.outOfOrder > 0) {
          this.o.log.warn("series left out of label order (stored labels clash with external label names)", { count: ro.outOfOrder });
          this.o.metrics?.outOfOrder?.inc(undefined, ro.outOfOrder);
        }
      } finally {
        await res.cancel();
        if (streamed >= (this.o.largeAnswerBytes ?? LARGE_ANSWER_BYTES)) this.o.afterLargeAnswer?.();
      }
    } catch (e) {
      if (signal?.aborted) throw new CodedError("canceled", "Series: canceled by the caller");
      if (isRequestError(e)) throw e;
      this.o.metrics?.remoteReadErrors.inc();
      const msg = `sidecar: Series from Prometheus ${this.o.prom.base}: ${errorMessage(e)}`;
      if (abort) throw e instanceof CodedError ? new CodedError(e.code, msg, { cause: e }) : new CodedError("unavailable", msg, { cause: e });
      this.o.log.warn("Series failed, answering with a partial-response warning", { err: errorMessage(e) });
      // Series complete before the failure are still valid data; send them, then the warning.
      for (const ready of ro.flush()) w.add(outSeries(ready));
      w.warning(msg);
      yield* w.take();
    }
  }

  async labelNames(req: LabelNamesRequest, ctx: CallContext): Promise<LabelNamesResponse> {
    const signal = ctx.signal;
    const ext = this.o.externalLabels();
    const { match, rest } = matchExternalLabels(matchersFromProto(req.matchers), ext);
    if (!match) return create(LabelNamesResponseSchema, {});
    const outExt = externalLabelsWithout(ext, req.withoutReplicaLabels);
    const drop = new Set(req.withoutReplicaLabels);
    const start = Math.max(msFromProto(req.start), this.o.minTime());
    try {
      let names = await this.o.prom.labelNames(rest, start, msFromProto(req.end), signal);
      // Prometheus' label API does not know external labels; add them only when some series matched.
      if (names.length > 0) names = mergeSortedStrings([names, outExt.map((l) => l.name)]);
      names = names.filter((n) => !drop.has(n));
      if (req.limit > 0n && names.length > Number(req.limit)) names = names.slice(0, Number(req.limit));
      return create(LabelNamesResponseSchema, { names });
    } catch (e) {
      return this.labelError(e, "LabelNames", isAbort(req.partialResponseStrategy, req.partialResponseDisabled), (w) =>
        create(LabelNamesResponseSchema, { warnings: [w] }));
    }
  }

  async labelValues(req: LabelValuesRequest, ctx: CallContext): Promise<LabelValuesResponse> {
    const signal = ctx.signal;
    if (req.label === "") throw new CodedError("bad_data", "LabelValues: label name is empty");
    const ext = this.o.externalLabels();
    const { match, rest } = matchExternalLabels(matchersFromProto(req.matchers), ext);
    if (!match || req.withoutReplicaLabels.includes(req.label)) return create(LabelValuesResponseSchema, {});
    const extValue = ext.find((l) => l.name === req.label)?.value;
    const start = Math.max(msFromProto(req.start), this.o.minTime());
    try {
      if (extValue !== undefined) {
        // An external label has exactly one value here; with other matchers, only if a series matches.
        if (rest.length > 0 && (await this.o.prom.labelNames(rest, start, msFromProto(req.end), signal)).length === 0) {
          return create(LabelValuesResponseSchema, {});
        }
        return create(LabelValuesResponseSchema, { values: [extValue] });
      }
      let values = await this.o.prom.labelValues(req.label, rest, start, msFromProto(req.end), signal);
      if (req.limit > 0n && values.length > Number(req.limit)) values = values.slice(0, Number(req.limit));
      return create(LabelValuesResponseSchema, { values });
    } catch (e) {
      return this.labelError(e, "LabelValues", isAbort(req.partialResponseStrategy, req.partialResponseDisabled), (w) =>
        create(LabelValuesResponseSchema, { warnings: [w] }));
    }
  }

  private labelError<T>(e: unknown, call: string, abort: boolean, warn: (msg: string) => T): T {
    if (isRequestError(e)) throw e;
    const msg = `sidecar: ${call} from Prometheus ${this.o.prom.base}: ${errorMessage(e)}`;
    if (abort) throw new CodedError(errorCode(e) ?? "unavailable", msg, { cause: e });
    this.o.log.warn(`${call} failed, answering with a partial-response warning`, { err: errorMessage(e) });
    return warn(msg);
  }
}

/** Prometheus' block range, to which its chunks are aligned (no chunk crosses a multiple of it). */
const BLOCK_MS = 2 * 3600_000;
/** Past this, windows are left as asked (the arithmetic below stays exact, and far futures stay far). */
const ALIGN_LIMIT = 2 ** 50;

/**
 * The remote-read window for [mint, maxt]: widened to whole 2 h block ranges.
 *
 * Why: Prometheus trims every chunk that a window cuts (tsdb's querier turns the cut into deletion
 * intervals and re-encodes the chunk sample by sample), and that is most of its remote-read CPU for
 * short windows: measured over 10 000 series, a 5 min window cost Prometheus 128 ms of CPU, the 30 min
 * around it 88 ms, the whole 2 h block 64 ms, though the last sends 4.4x the bytes. Its chunks never
 * cross a multiple of the block range (the head cuts them there), so a window of whole block ranges
 * cuts none. The sidecar then drops the chunks wholly outside [mint, maxt] from their headers; the
 * chunks left overlap the window and go out whole, as a store gateway sends them (StoreAPI clients
 * trim to their range).
 */
export function alignedWindow(mint: number, maxt: number): { mint: number; maxt: number; widened: boolean } {
  if (!(Math.abs(mint) < ALIGN_LIMIT && Math.abs(maxt) < ALIGN_LIMIT) || maxt < mint) return { mint, maxt, widened: false };
  const a = Math.floor(mint / BLOCK_MS) * BLOCK_MS;
  const b = Math.floor(maxt / BLOCK_MS) * BLOCK_MS + BLOCK_MS - 1;
  return { mint: a, maxt: b, widened: a !== mint || b !== maxt };
}

/** The samples of a SAMPLES answer within [mint, maxt] (Prometheus answered the widened window). */
function trimSamples(t: RawSampleSeries, mint: number, maxt: number): RawSampleSeries {
  const ts = t.ts;
  let lo = 0, hi = ts.length;
  while (lo < hi && ts[lo]! < mint) lo++;
  while (hi > lo && ts[hi - 1]! > maxt) hi--;
  return lo === 0 && hi === ts.length ? t : { labels: t.labels, ts: ts.subarray(lo, hi), vals: t.vals.subarray(lo, hi) };
}

function hintsOf(req: SeriesRequest, mint: number, maxt: number) {
  const qh = req.queryHints;
  return {
    startMs: msToProto(mint),
    endMs: msToProto(maxt),
    stepMs: qh?.stepMillis || req.step,
    rangeMs: qh?.range?.millis || req.range,
    func: qh?.func?.name ?? "",
    grouping: qh?.grouping?.labels ?? [],
    by: qh?.grouping?.by ?? false,
  };
}

function samplesToChunks(s: RawSampleSeries): Chunk[] {
  const out: Chunk[] = [];
  // The values' exact bits (a staleness NaN's payload must not pass through a number): little-endian
  // words of the Float64Array, as floatBitsAt reads them.
  const bits = new Uint32Array(s.vals.buffer, s.vals.byteOffset, 2 * s.vals.length);
  for (let i = 0; i < s.ts.length; i += SAMPLES_PER_CHUNK) {
    const end = Math.min(s.ts.length, i + SAMPLES_PER_CHUNK);
    const app = new XorAppender();
    for (let j = i; j < end; j++) app.appendBits(s.ts[j]!, bits[2 * j + 1]!, bits[2 * j]!);
    out.push({ minTime: s.ts[i]!, maxTime: s.ts[end - 1]!, encoding: Encoding.XOR, data: app.bytes() });
  }
  return out;
}
