// What the fan-out needs from one store: its Info, the three StoreAPI calls and, for rulers, the Rules
// call. Anything serving data is one of these: a remote StoreAPI client (shared/query/remote.ts), local
// blocks (blocks.ts), an in-process StoreImpl (fromServices below), another querier. Runtime-free.
// Requests are the generated StoreAPI messages; Series answers come as SeriesFrames (wire.ts: core chunk
// representation), each endpoint converting from its transport's shape once, at its wire.

import { clone, create } from "@bufbuild/protobuf";
import { CodedError } from "../encoding/errors.ts";
import { labelsFrom, type Labels } from "../labels/labels.ts";
import { newMatcher, type Matcher, type MatchType } from "../labels/matcher.ts";
import { LabelMatcherSchema, LabelMatcher_Type, type LabelMatcher } from "../gen/thanos/storepb/types_pb.ts";
import type { LabelNamesRequest, LabelValuesRequest, SeriesRequest } from "../gen/thanos/storepb/rpc_pb.ts";
import type { InfoImpl, InfoResponseInit, RulesImpl, SeriesResponseInit, StoreImpl } from "../rpc/store.ts";
import { RulesResponseSchema, type RulesRequest, type RulesResponse } from "../gen/thanos/rulespb/rpc_pb.ts";
import { msFromProto } from "../rpc/time.ts";
import { frameOf, type SeriesFrame } from "./wire.ts";

/** A store's Info, in engine terms (ms numbers, sorted label sets). */
export interface StoreInfo {
  labelSets: Labels[];
  minTime: number;
  maxTime: number;
  componentType: string;
  supportsWithoutReplicaLabels: boolean;
  /** Info's `rules` field is set: the endpoint serves thanos.Rules (a ruler, a querier, a sidecar). Absent: no. */
  rules?: boolean;
}

export interface StoreEndpoint {
  /** How the store is named in warnings, errors, /api/v1/stores and storeMatch[] (`__address__`). */
  readonly name: string;
  info(signal: AbortSignal): Promise<StoreInfo>;
  /** Sorted series (batches allowed), warnings anywhere; must stop when `signal` aborts. */
  series(req: SeriesRequest, signal: AbortSignal): AsyncIterable<SeriesFrame>;
  labelNames(req: LabelNamesRequest, signal: AbortSignal): Promise<{ names: string[]; warnings: string[] }>;
  labelValues(req: LabelValuesRequest, signal: AbortSignal): Promise<{ values: string[]; warnings: string[] }>;
  /**
   * thanos.Rules/Rules: rule groups and warnings as the endpoint streams them; absent when this kind
   * of endpoint can never serve rules (local blocks, a bucket). Must stop when `signal` aborts.
   */
  rules?(req: RulesRequest, signal: AbortSignal): AsyncIterable<RulesResponse>;
}

/** Info message (or its init shape) -> StoreInfo. A store with no StoreInfo serves no time range. */
export function storeInfoFrom(r: InfoResponseInit): StoreInfo {
  const st = r.store;
  return {
    labelSets: (r.labelSets ?? []).map((s) => labelsFrom((s.labels ?? []).map((l) => ({ name: l.name ?? "", value: l.value ?? "" })))),
    minTime: st ? msFromProto(BigInt(st.minTime ?? 0n)) : Number.POSITIVE_INFINITY,
    maxTime: st ? msFromProto(BigInt(st.maxTime ?? 0n)) : Number.NEGATIVE_INFINITY,
    componentType: r.ComponentType ?? "",
    supportsWithoutReplicaLabels: st?.supportsWithoutReplicaLabels ?? false,
    rules: r.rules !== undefined,
  };
}

/** An in-process StoreImpl + InfoImpl (+ RulesImpl) (sidecar logic, a test fixture, a nested fan-out) as a store. */
export function endpointFromServices(name: string, s: { store: StoreImpl; info: InfoImpl; rules?: RulesImpl }): StoreEndpoint {
  const rules = s.rules;
  return {
    name,
    info: async (signal) => storeInfoFrom(await s.info.info({} as never, { signal })),
    series: (req, signal) => frames(s.store.series(req, { signal })),
    labelNames: async (req, signal) => {
      const r = await s.store.labelNames(req, { signal });
      return { names: r.names ?? [], warnings: r.warnings ?? [] };
    },
    labelValues: async (req, signal) => {
      const r = await s.store.labelValues(req, { signal });
      return { values: r.values ?? [], warnings: r.warnings ?? [] };
    },
    ...(rules ? {
      rules: async function* (req: RulesRequest, signal: AbortSignal): AsyncGenerator<RulesResponse> {
        // A fresh message per answer: the merge changes what it is given.
        for await (const m of rules.rules(req, { signal })) yield clone(RulesResponseSchema, create(RulesResponseSchema, m));
      },
    } : {}),
  };
}

/** A StoreAPI Series stream (protobuf messages or init shapes) as frames. */
export async function* frames(src: AsyncIterable<SeriesResponseInit>): AsyncGenerator<SeriesFrame> {
  for await (const r of src) yield frameOf(r);
}

const TO_PB: Record<MatchType, LabelMatcher_Type> = {
  "=": LabelMatcher_Type.EQ, "!=": LabelMatcher_Type.NEQ, "=~": LabelMatcher_Type.RE, "!~": LabelMatcher_Type.NRE,
};
const FROM_PB: Record<number, MatchType> = {
  [LabelMatcher_Type.EQ]: "=", [LabelMatcher_Type.NEQ]: "!=", [LabelMatcher_Type.RE]: "=~", [LabelMatcher_Type.NRE]: "!~",
};

export function matchersToPb(ms: readonly Matcher[]): LabelMatcher[] {
  return ms.map((m) => create(LabelMatcherSchema, { type: TO_PB[m.type], name: m.name, value: m.value }));
}

export function matchersFromPb(ms: readonly LabelMatcher[], what: string): Matcher[] {
  return ms.map((m) => {
    const t = FROM_PB[m.type];
    if (t === undefined) throw new CodedError("bad_data", `${what}: matcher on ${JSON.stringify(m.name)} has unknown type ${m.type}`);
    return newMatcher(t, m.name, m.value);
  });
}
