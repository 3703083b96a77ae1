// Local TSDB blocks (a BlocksQuerier) as one more store of the fan-out. Chunks are forwarded as stored
// (no re-encoding); the fan-out trims them to the query range. Tombstones apply as in BlocksQuerier:
// a chunk a deleted interval touches is re-encoded without those samples (withoutDeleted), so
// `--tsdb.path` answers the same alone or beside other stores.

import { Encoding, type StoreChunk } from "../chunkenc/chunk.ts";
import { decodeAggrChunk } from "../chunkenc/aggr.ts";
import { CodedError } from "../encoding/errors.ts";
import { type Label, labelsFrom, type Labels } from "../labels/labels.ts";
import { msFromProto } from "../rpc/time.ts";
import { extendLabels, matchExternalLabels } from "../store/labels.ts";
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
      return { labelSets: e.length ? [e] : [], minTime: mint, maxTime: maxt, componentType: "store", supportsWithoutReplicaLabels: false };
    },
    series: (req, signal) => (async function* (): AsyncGenerator<SeriesFrame> {
      const e = ext();
      const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, `Series on ${name}`), e);
      if (!match) return;
      if (rest.length === 0) throw new CodedError("bad_data", `Series on ${name}: no matchers specified (excluding external labels)`);
      const hints = { start: msFromProto(req.minTime), end: msFromProto(req.maxTime), signal };
      for await (const s of q.selectStream(hints, rest, !req.skipChunks)) {
        const ls = extendLabels(s.labels, e);
        let chunks: StoreChunk[];
        if (req.skipChunks) chunks = s.chunks.map(storeChunk);
        else {
          chunks = [];
          for (const c of s.chunks) {
            const kept = withoutDeleted(c);
            if (kept) chunks.push(storeChunk(kept));
          }
          if (chunks.length === 0) continue; // every sample deleted: BlocksQuerier has nothing for it either
        }
        yield { kind: "series", labels: ls as Label[], chunks };
      }
    })(),
    labelNames: async (req) => {
      const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, `LabelNames on ${name}`), ext());
      if (!match) return { names: [], warnings: [] };
      const r = await q.labelNames(msFromProto(req.start), msFromProto(req.end), rest);
      const names = r.names.length ? [...new Set([...r.names, ...ext().map((l) => l.name)])].sort() : [];
      return { names, warnings: r.warnings };
    },
    labelValues: async (req) => {
      const e = ext();
      const { match, rest } = matchExternalLabels(matchersFromPb(req.matchers, `LabelValues on ${name}`), e);
      if (!match) return { values: [], warnings: [] };
      const ev = e.find((l) => l.name === req.label);
      if (ev) return { values: [ev.value], warnings: [] };
      return await q.labelValues(req.label, msFromProto(req.start), msFromProto(req.end), rest);
    },
  };
}
