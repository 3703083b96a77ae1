// Local TSDB blocks (a BlocksQuerier) as one more store of the fan-out. Chunks are forwarded as stored
// (no re-encoding); the fan-out trims them to the query range. Tombstones apply as in BlocksQuerier:
// a chunk a deleted interval touches is re-encoded without those samples (withoutDeleted), so
// `--tsdb.path` answers the same alone or beside other stores.

import { Encoding, type StoreChunk } from "../chunkenc/chunk.ts";
import { decodeAggrChunk } from "../chunkenc/aggr.ts";
import { CodedError } from "../encoding/errors.ts";
import { type Label, labelsFrom, type Labels } from "../labels/labels.ts";
import { msFromProto } from "../rpc/time.ts";
import { dropLabelNames, extendLabels, externalLabelsWithout, matchExternalLabels, mergeSortedStrings } from "../store/labels.ts";
import { PrefixReorderer } from "../store/reorder.ts";
import { type BlocksQuerier, type SeriesChunk, withoutDeleted } from "../tsdb/querier.ts";
import type { SeriesFrame } from "./wire.ts";
import { matchersFromPb, type StoreEndpoint } from "./store.ts";

/** A block's chunk as a store chunk: a raw one as it is, a downsampled one (AggrChunk) split into its aggregates. */
function storeChunk(c: SeriesChunk): StoreChunk {
  const { minTime, maxTime } = c;
  if (c.encoding !== Encoding.Aggr) return { minTime, maxTime, raw: { encoding: c.encoding, data: c.data } };
  const subs = decodeAggrChunk(c.data, c.what);
  const sub = (i: number) => (subs[i] ? { encoding: subs[i]!.encoding, data: subs[i]!.data } : undefined);
  return { minTime, maxTime, count: sub(0), sum: sub(1), min: sub(2), max: sub(3), counter: sub(4) };
}

/**
 * A store over local blocks. External labels: the blocks' Thanos labels (one set per distinct set), or
 * `labels` when given; matchers on them are decided here like a sidecar does.
 */
export function blocksEndpoint(name: string, q: BlocksQuerier, labels?: Labels): StoreEndpoint {
  const ext = (): Labels => {
    if (labels) return labels;
    const first = q.blocks.find((b) => b.meta.thanos)?.meta.thanos?.labels;
    return first ? labelsFrom(first) : [];
  };
  return {
    name,
    info: async () => {
      let mint = Number.POSITIVE_INFINITY, maxt = Number.NEGATIVE_INFINITY;
      for (const b of q.blocks) { mint = Math.min(mint, b.meta.minTime); maxt = Math.max(maxt, b.meta.maxTime); }
      const e = ext();
      return { labelSets: e.length ? [e] : [], minTime: mint, maxTime: maxt, componentType: "store", supportsWithoutReplicaLabels: true };
    },
    series: (req, signal) => (async function* (): AsyncGenerator<SeriesFrame> {
      const e = ext();
      const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, `Series on ${name}`), e);
      if (!match) return;
      if (rest.length === 0) throw new CodedError("bad_data", `Series on ${name}: no matchers specified (excluding external labels)`);
      const hints = { start: msFromProto(req.minTime), end: msFromProto(req.maxTime), signal };
      // without_replica_labels as every store does it (Thanos' TSDB store): those labels left off.
      const outExt = externalLabelsWithout(e, req.withoutReplicaLabels);
      const drop = new Set(req.withoutReplicaLabels);
      // The blocks yield series sorted by their stored labels; with external labels attached that order
      // can flip ({a="1"} before {a="1", b="2"}, but {a="1", replica="r"} after {a="1", b="2", replica="r"}):
      // the reorderer restores it, holding at most one run of series that extend the first.
      const ro = outExt.length > 0 || drop.size > 0
        ? new PrefixReorderer<SeriesFrame & { kind: "series" }>((into, from) => { into.chunks = [...into.chunks, ...from.chunks].sort((a, b) => a.minTime - b.minTime); })
        : null;
      for await (const s of q.selectStream(hints, rest, !req.skipChunks)) {
        let chunks: StoreChunk[];
        if (req.skipChunks) chunks = []; // a skip_chunks answer has labels only (selectStream already left out deleted ranges)
        else {
          chunks = [];
          for (const c of s.chunks) {
            const kept = withoutDeleted(c);
            if (kept) chunks.push(storeChunk(kept));
          }
          if (chunks.length === 0) continue; // every sample deleted: BlocksQuerier has nothing for it either
        }
        if (ro === null) { yield { kind: "series", labels: s.labels as Label[], chunks }; continue; }
        const ls = extendLabels(dropLabelNames(s.labels, drop), outExt) as Label[];
        yield* ro.push(s.labels, ls, { kind: "series", labels: ls, chunks });
      }
      if (ro !== null) yield* ro.flush();
    })(),
    labelNames: async (req) => {
      const e = ext();
      const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, `LabelNames on ${name}`), e);
      if (!match) return { names: [], warnings: [] };
      const r = await q.labelNames(msFromProto(req.start), msFromProto(req.end), rest);
      const drop = new Set(req.withoutReplicaLabels);
      const names = r.names.length ? mergeSortedStrings([r.names, externalLabelsWithout(e, req.withoutReplicaLabels).map((l) => l.name)]).filter((n) => !drop.has(n)) : [];
      return { names, warnings: r.warnings };
    },
    labelValues: async (req) => {
      const e = ext();
      const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, `LabelValues on ${name}`), e);
      if (!match || req.withoutReplicaLabels.includes(req.label)) return { values: [], warnings: [] };
      const ev = e.find((l) => l.name === req.label);
      if (ev) return { values: [ev.value], warnings: [] };
      return await q.labelValues(req.label, msFromProto(req.start), msFromProto(req.end), rest);
    },
  };
}
