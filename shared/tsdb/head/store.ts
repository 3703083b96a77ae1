// The StoreAPI over a local TSDB (head + blocks), as Thanos' TSDBStore (pkg/store/tsdb.go) serves the
// ruler's and receiver's TSDB: external labels added to every series (a matcher on one is decided here),
// whole raw chunks overlapping the asked range (not trimmed, with their xxhash64), series in order of
// their final labels, Info with the store's time range (the oldest block or the head, to "forever").

import { CodedError } from "../../encoding/errors.ts";
import { xxhash64 } from "../../encoding/xxhash64.ts";
import { toStorepbEncoding } from "../../chunkenc/chunk.ts";
import type { Labels } from "../../labels/labels.ts";
import { MAX_INT64, msFromProto, msToProto } from "../../rpc/time.ts";
import type {
  CallContext, InfoImpl, InfoResponseInit, LabelNamesResponseInit, LabelValuesResponseInit, SeriesResponseInit, StoreImpl,
} from "../../rpc/store.ts";
import type { InfoRequest } from "../../gen/thanos/infopb/rpc_pb.ts";
import type { LabelNamesRequest, LabelValuesRequest, SeriesRequest } from "../../gen/thanos/storepb/rpc_pb.ts";
import { matchersFromPb } from "../../query/store.ts";
import { dropLabelNames, extendLabels, externalLabelsWithout, matchExternalLabels, mergeSortedStrings } from "../../store/labels.ts";
import { chunkSampleCount, RequestLimiter } from "../../store/limits.ts";
import { PrefixReorderer } from "../../store/reorder.ts";
import type { TsdbReader } from "./reader.ts";

export interface TsdbStoreOptions {
  /** The external labels (Thanos --label), sorted; read per call so a reload takes effect. */
  externalLabels: () => Labels;
  /** Info's component type: "rule" for the ruler (Thanos component.Rule), "receive", ... */
  component?: string;
  /** Per Series call (0 = unlimited): Thanos --store.limits.request-series / request-samples. */
  maxSeries?: number;
  maxSamples?: number;
  /** More Info fields (e.g. `rules: {}` when the process also serves the Rules API). */
  infoExtra?: () => Record<string, unknown>;
}

const pbLabels = (ls: Labels) => ls.map((l) => ({ name: l.name, value: l.value }));

interface Out { labels: Labels; chunks: { minTime: number; maxTime: number; encoding: number; data: Uint8Array }[] }

export class TsdbStore implements StoreImpl, InfoImpl {
  constructor(private readonly r: TsdbReader, private readonly o: TsdbStoreOptions) {}

  async info(_req?: InfoRequest, _ctx?: CallContext): Promise<InfoResponseInit> {
    const ext = this.o.externalLabels();
    const start = this.r.startTime();
    const minTime = start === Infinity ? MAX_INT64 : msToProto(start);
    const labels = pbLabels(ext);
    const r = {
      labelSets: ext.length ? [{ labels }] : [],
      ComponentType: this.o.component ?? "rule",
      store: {
        minTime,
        maxTime: MAX_INT64,
        supportsSharding: false,
        supportsWithoutReplicaLabels: true,
        tsdbInfos: ext.length ? [{ labels: { labels }, minTime, maxTime: MAX_INT64 }] : [],
      },
      ...this.o.infoExtra?.(),
    };
    return r as InfoResponseInit;
  }

  async *series(req: SeriesRequest, ctx: CallContext): AsyncGenerator<SeriesResponseInit> {
    const ext = this.o.externalLabels();
    const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, "Series"), ext);
    if (!match) return;
    if (rest.length === 0) throw new CodedError("bad_data", "no matchers specified (excluding external labels)");
    const mint = msFromProto(req.minTime), maxt = msFromProto(req.maxTime);
    if (maxt < mint) return;
    const outExt = externalLabelsWithout(ext, req.withoutReplicaLabels);
    const drop = new Set(req.withoutReplicaLabels);
    const limiter = new RequestLimiter(this.o.maxSeries ?? 0, this.o.maxSamples ?? 0);
    const skip = req.skipChunks;
    const msg = (s: Out): SeriesResponseInit => ({
      result: {
        case: "series",
        value: {
          labels: pbLabels(s.labels),
          chunks: s.chunks.map((c) => ({
            minTime: BigInt(c.minTime), maxTime: BigInt(c.maxTime),
            raw: { type: toStorepbEncoding(c.encoding), data: c.data, hash: xxhash64(c.data) },
          })),
        },
      },
    });
    // Stored labels sort differently once external labels join them (a prefix set can move after its
    // extensions): the reorderer restores the final order with at most one run held.
    const ro = new PrefixReorderer<Out>((into, from) => {
      into.chunks = [...into.chunks, ...from.chunks].sort((a, b) => a.minTime - b.minTime);
    });
    for await (const s of this.r.selectChunks(mint, maxt, rest, !skip, ctx.signal)) {
      const labels = extendLabels(dropLabelNames(s.labels, drop), outExt);
      const out: Out = { labels, chunks: skip ? [] : s.chunks };
      for (const ready of ro.push(s.labels, labels, out)) {
        limiter.addSeries();
        if (!skip) for (const c of ready.chunks) limiter.addSamples(chunkSampleCount(c.encoding, c.data));
        yield msg(ready);
      }
    }
    for (const ready of ro.flush()) {
      limiter.addSeries();
      if (!skip) for (const c of ready.chunks) limiter.addSamples(chunkSampleCount(c.encoding, c.data));
      yield msg(ready);
    }
  }

  async labelNames(req: LabelNamesRequest, _ctx: CallContext): Promise<LabelNamesResponseInit> {
    const ext = this.o.externalLabels();
    const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, "LabelNames"), ext);
    if (!match) return { names: [] };
    let names = await this.r.labelNames(msFromProto(req.start), msFromProto(req.end), rest);
    const drop = new Set(req.withoutReplicaLabels);
    if (names.length > 0) names = mergeSortedStrings([names, externalLabelsWithout(ext, req.withoutReplicaLabels).map((l) => l.name)]);
    names = names.filter((n) => !drop.has(n));
    if (req.limit > 0n && names.length > Number(req.limit)) names = names.slice(0, Number(req.limit));
    return { names };
  }

  async labelValues(req: LabelValuesRequest, _ctx: CallContext): Promise<LabelValuesResponseInit> {
    if (req.label === "") throw new CodedError("bad_data", "label name parameter cannot be empty");
    if (req.withoutReplicaLabels.includes(req.label)) return { values: [] };
    const ext = this.o.externalLabels();
    const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, "LabelValues"), ext);
    if (!match) return { values: [] };
    const start = msFromProto(req.start), end = msFromProto(req.end);
    const ev = ext.find((l) => l.name === req.label)?.value;
    if (ev !== undefined) {
      if (rest.length === 0) return { values: [ev] };
      for await (const _ of this.r.selectChunks(start, end, rest, false)) return { values: [ev] };
      return { values: [] };
    }
    let values = await this.r.labelValues(req.label, start, end, rest);
    if (req.limit > 0n && values.length > Number(req.limit)) values = values.slice(0, Number(req.limit));
    return { values };
  }
}
