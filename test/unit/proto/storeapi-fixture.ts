// A tiny in-memory StoreAPI for the RPC tests: three series with real XOR chunk bytes, one chunk
// with a uint64 hash beyond 2^63, label names/values, Info. `expected*` are computed from the
// fixture data directly (not through any client) and normalised to plain JSON for comparison.
import { CodedError } from "../../../shared/encoding/errors.ts";
import { encodeXor } from "../../../shared/chunkenc/xor.ts";
import type { InfoImpl, StoreApiServices, StoreImpl } from "../../../shared/rpc/store.ts";
import { LabelMatcher_Type } from "../../../shared/gen/thanos/storepb/types_pb.ts";

export const TOKEN = "s3cret-token";
const T0 = 1_700_000_000_000;

export interface FixtureSeries {
  labels: [string, string][];
  chunks: { minTime: number; maxTime: number; data: Uint8Array; hash?: bigint }[];
}

function chunk(start: number, n: number, v0: number, hash?: bigint) {
  const ts: number[] = [], vs: number[] = [];
  for (let i = 0; i < n; i++) { ts.push(start + i * 15_000); vs.push(v0 + i * 0.5); }
  return { minTime: ts[0]!, maxTime: ts[n - 1]!, data: encodeXor(ts, vs), hash };
}

// Sorted by labels, as the stream contract requires.
export const SERIES: FixtureSeries[] = [
  { labels: [["__name__", "up"], ["job", "a"]], chunks: [chunk(T0, 120, 1), chunk(T0 + 120 * 15_000, 30, 2)] },
  { labels: [["__name__", "up"], ["job", "b"]], chunks: [chunk(T0, 10, 0, 0xfedcba9876543210n)] },
  { labels: [["__name__", "x"], ["job", "b"], ["zone", "é✓"]], chunks: [chunk(T0 + 5000, 3, -1, 0n)] },
];
export const MIN_TIME = T0, MAX_TIME = T0 + 150 * 15_000;

function matches(s: FixtureSeries, ms: { type: number; name: string; value: string }[]): boolean {
  return ms.every((m) => {
    const v = s.labels.find(([n]) => n === m.name)?.[1] ?? "";
    if (m.type === LabelMatcher_Type.EQ) return v === m.value;
    if (m.type === LabelMatcher_Type.NEQ) return v !== m.value;
    throw new CodedError("bad_data", `fixture store: matcher type ${m.type} not supported`);
  });
}

export const store: StoreImpl = {
  async *series(req, ctx) {
    if (req.matchers.some((m) => m.name === "fail")) {
      yield { result: { case: "series", value: wire(SERIES[0]!, false) } };
      throw new CodedError("unavailable", "fixture store: backend went away after one series");
    }
    for (const s of SERIES) {
      // A server must stop when the call is cancelled; this also catches a runtime whose request
      // signal fires before a streamed answer is fully sent.
      await new Promise((r) => setTimeout(r, 1));
      if (ctx.signal.aborted) throw new CodedError("canceled", "fixture store: call cancelled mid-stream");
      if (!matches(s, req.matchers)) continue;
      yield { result: { case: "series", value: wire(s, req.skipChunks) } };
    }
    yield { result: { case: "warning", value: "fixture warning" } };
  },
  async labelNames(req) {
    const names = new Set<string>();
    for (const s of SERIES) if (matches(s, req.matchers)) for (const [n] of s.labels) names.add(n);
    return { names: [...names].sort() };
  },
  async labelValues(req) {
    if (req.label === "") throw new CodedError("bad_data", "fixture store: label name must not be empty");
    const vals = new Set<string>();
    for (const s of SERIES) if (matches(s, req.matchers)) for (const [n, v] of s.labels) if (n === req.label) vals.add(v);
    return { values: [...vals].sort() };
  },
};

export const info: InfoImpl = {
  async info() {
    return {
      ComponentType: "store",
      labelSets: [{ labels: [{ name: "replica", value: "r1" }] }],
      store: { minTime: BigInt(MIN_TIME), maxTime: BigInt(MAX_TIME), supportsWithoutReplicaLabels: true },
    };
  },
};

export const services: StoreApiServices = { store, info };

function wire(s: FixtureSeries, skip: boolean) {
  return {
    labels: s.labels.map(([name, value]) => ({ name, value })),
    chunks: skip ? [] : s.chunks.map((c) => ({
      minTime: BigInt(c.minTime), maxTime: BigInt(c.maxTime),
      raw: { type: 0, data: c.data, ...(c.hash !== undefined ? { hash: c.hash } : {}) },
    })),
  };
}

// ---- the normal form every client's answer is converted to ----
export interface NSeries { labels: string[]; chunks: { min: string; max: string; type: number; data: string; hash: string | null }[] }
export interface NSeriesAnswer { series: NSeries[]; warnings: string[] }

export const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

export function expectedSeries(filter: (s: FixtureSeries) => boolean, skip = false): NSeriesAnswer {
  return {
    series: SERIES.filter(filter).map((s) => ({
      labels: s.labels.map(([n, v]) => `${n}=${v}`),
      chunks: skip ? [] : s.chunks.map((c) => ({
        min: String(c.minTime), max: String(c.maxTime), type: 0, data: hex(c.data), hash: c.hash === undefined ? null : String(c.hash),
      })),
    })),
    warnings: ["fixture warning"],
  };
}

export const expectedInfo = {
  componentType: "store",
  labelSets: [["replica=r1"]],
  minTime: String(MIN_TIME),
  maxTime: String(MAX_TIME),
  supportsWithoutReplicaLabels: true,
};
