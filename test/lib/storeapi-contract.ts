// The StoreAPI contract: one suite every StoreAPI implementation runs (sidecar now; store gateway, ruler
// and the querier's fan-out later). Parameterised by a fixture that gives clients for the store under test
// and an oracle for what its data is (for the sidecar: the Prometheus behind it, through remote read).
//
//   const t = suite("sidecar (streamed)");
//   addStoreApiContract(t, () => fixture);
//   t.run();

import type { Test } from "uvu";
import * as assert from "uvu/assert";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type Client, ConnectError, Code } from "@connectrpc/connect";
import { compareLabels, labelsEqual, labelsFrom, labelsString, type Labels } from "../../shared/labels/labels.ts";
import { XorIterator } from "../../shared/chunkenc/xor.ts";
import type { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { type SeriesRequest, SeriesRequestSchema } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import type { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { Chunk_Encoding, LabelMatcher_Type, PartialResponseStrategy } from "../../shared/gen/thanos/storepb/types_pb.ts";
import { LabelMatcher_Type as PromMatchType } from "../../shared/gen/prometheus/types_pb.ts";
import { ReadRequest_ResponseType } from "../../shared/gen/prometheus/remote_pb.ts";
import { remoteRead } from "../../shared/remote/read.ts";

export type M = [name: string, op: "=" | "!=" | "=~" | "!~", value: string];

export interface SeriesData {
  labels: Labels;
  ts: number[];
  /** Values; stale markers as "stale" (their NaN payload does not survive a JS number reliably). */
  vs: (number | "stale")[];
}

export interface Case { ms: M[]; mint: number; maxt: number }

export interface StoreApiFixture {
  store: Client<typeof Store>;
  info: Client<typeof Info>;
  externalLabels: Labels;
  /** What the store holds for these matchers (external-label matchers already stripped) in [mint, maxt]. */
  oracle(ms: M[], mint: number, maxt: number): Promise<SeriesData[]>;
  /** Label names/values the backend knows for these matchers (without external labels). */
  oracleLabelNames(ms: M[], mint: number, maxt: number): Promise<string[]>;
  oracleLabelValues(name: string, ms: M[], mint: number, maxt: number): Promise<string[]>;
  /** Oldest sample time the store holds. */
  oldest: number;
  /**
   * Optional: a store over finished data (store gateway) reports a closed max time; when set, Info's max
   * time must be at least this (the newest sample) instead of open-ended (>= now).
   */
  infoMaxTime?: number;
  /** Matcher sets and time ranges to compare (each must select something). */
  cases: { ms: M[]; mint: number; maxt: number }[];
  /** Optional: a client of the same store started with --store.limits.request-series/-samples. */
  limited?: { store: Client<typeof Store>; overSeries: Case; overSamples: Case; under: Case };
  /** Optional: a client without credentials for a store that requires a bearer token, and one with it. */
  auth?: { without: Client<typeof Store>; withToken: Client<typeof Store>; wrongToken: Client<typeof Store> };
  /**
   * Optional: a client of the same store speaking Connect with JSON messages
   * (`createConnectTransport({ useBinaryFormat: false })`, content type application/connect+json).
   */
  json?: Client<typeof Store>;
}

const OPS: Record<M[1], LabelMatcher_Type> = { "=": LabelMatcher_Type.EQ, "!=": LabelMatcher_Type.NEQ, "=~": LabelMatcher_Type.RE, "!~": LabelMatcher_Type.NRE };
const PROM_OPS: Record<M[1], PromMatchType> = { "=": PromMatchType.EQ, "!=": PromMatchType.NEQ, "=~": PromMatchType.RE, "!~": PromMatchType.NRE };

export function seriesRequest(ms: M[], mint: number, maxt: number, extra: MessageInitShape<typeof SeriesRequestSchema> = {}): SeriesRequest {
  return create(SeriesRequestSchema, {
    minTime: BigInt(mint), maxTime: BigInt(maxt),
    matchers: ms.map(([name, op, value]) => ({ type: OPS[op], name, value })),
    ...extra,
  });
}

export function selector(ms: M[]): string {
  return "{" + ms.map(([n, op, v]) => `${n}${op}${JSON.stringify(v)}`).join(", ") + "}";
}

/** Everything a Series call streams: series decoded to samples within [mint, maxt], warnings. */
export async function collectSeries(c: Client<typeof Store>, req: SeriesRequest, headers?: Record<string, string>): Promise<{ series: SeriesData[]; warnings: string[]; raw: Labels[] }> {
  const series: SeriesData[] = [];
  const raw: Labels[] = [];
  const warnings: string[] = [];
  const mint = Number(req.minTime), maxt = Number(req.maxTime);
  for await (const r of c.series(req, { headers })) {
    if (r.result.case === "warning") { warnings.push(r.result.value); continue; }
    if (r.result.case !== "series") continue;
    const s = r.result.value;
    const labels = s.labels.map((l) => ({ name: l.name, value: l.value }));
    raw.push(labels);
    const ts: number[] = [], vs: (number | "stale")[] = [];
    for (const c of s.chunks) {
      assert.is(c.raw?.type, Chunk_Encoding.XOR, `chunk encoding of ${labelsString(labels)}`);
      const it = new XorIterator(c.raw!.data, `chunk of ${labelsString(labels)}`);
      let n = 0;
      while (it.next()) {
        n++;
        const t = it.at();
        if (n === 1) assert.is(t, Number(c.minTime), `chunk minTime of ${labelsString(labels)}`);
        if (t < mint || t > maxt) continue;
        ts.push(t);
        vs.push(it.isStale() ? "stale" : it.value());
      }
      assert.is(it.err(), null);
    }
    series.push({ labels, ts, vs });
  }
  return { series, warnings, raw };
}

/** The oracle for a Prometheus-backed store: Prometheus' own remote read, SAMPLES, exact range. */
export async function promRemoteReadOracle(promUrl: string, ms: M[], mint: number, maxt: number): Promise<SeriesData[]> {
  const res = await remoteRead((u, init) => fetch(u, init), `${promUrl}/api/v1/read`, {
    queries: [{ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(maxt), matchers: ms.map(([name, op, value]) => ({ type: PROM_OPS[op], name, value })) }],
    acceptedResponseTypes: [ReadRequest_ResponseType.SAMPLES],
  });
  if (res.type !== "samples") throw new Error("oracle: expected a SAMPLES answer");
  const out: SeriesData[] = [];
  for (const t of res.response.results[0]?.timeseries ?? []) {
    if (t.samples.length === 0) continue;
    out.push({
      labels: labelsFrom(t.labels.map((l) => ({ name: l.name, value: l.value }))),
      ts: t.samples.map((s) => Number(s.timestamp)),
      // Node keeps the stale NaN's payload (2) and sets the quiet bit; a plain NaN has payload 0.
      vs: t.samples.map((s) => (Number.isNaN(s.value) && isStalePayload(s.value) ? "stale" : s.value)),
    });
  }
  return out.sort((a, b) => compareLabels(a.labels, b.labels));
}

const f64 = new Float64Array(1), u32 = new Uint32Array(f64.buffer);
function isStalePayload(v: number): boolean { f64[0] = v; return u32[0] === 2 && (u32[1]! & 0x7ff7ffff) === 0x7ff00000; }

export function extend(ls: Labels, ext: Labels, drop: string[] = []): Labels {
  const o: Record<string, string> = {};
  for (const l of ls) if (!drop.includes(l.name)) o[l.name] = l.value;
  for (const l of ext) if (!drop.includes(l.name)) o[l.name] = l.value;
  return labelsFrom(o);
}

function assertSorted(ls: Labels[], what: string): void {
  for (let i = 1; i < ls.length; i++) {
    assert.ok(compareLabels(ls[i - 1]!, ls[i]!) < 0, `${what}: series ${i} ${labelsString(ls[i]!)} is not after ${labelsString(ls[i - 1]!)}`);
  }
}

function sameData(got: SeriesData[], want: SeriesData[], what: string): void {
  const g = got.filter((s) => s.ts.length > 0);
  assert.equal(g.map((s) => labelsString(s.labels)), want.map((s) => labelsString(s.labels)), `${what}: series label sets`);
  for (let i = 0; i < want.length; i++) {
    assert.equal(g[i]!.ts, want[i]!.ts, `${what}: timestamps of ${labelsString(want[i]!.labels)}`);
    const gv = g[i]!.vs.map((v) => (typeof v === "number" && Number.isNaN(v) ? "NaN" : v));
    const wv = want[i]!.vs.map((v) => (typeof v === "number" && Number.isNaN(v) ? "NaN" : v));
    assert.equal(gv, wv, `${what}: values of ${labelsString(want[i]!.labels)}`);
  }
}

async function rpcError(p: Promise<unknown>): Promise<ConnectError> {
  try { await p; } catch (e) { return ConnectError.from(e); }
  throw new Error("expected the call to fail");
}

/** Which optional parts of the contract a fixture gives: their cases are registered only then. */
export interface ContractParts {
  /** The fixture sets `limited` (a client of the store started with request limits). */
  limits?: boolean;
  /** The fixture sets `auth` (clients of a store that requires a bearer token). */
  auth?: boolean;
  /** The fixture sets `json` (a Connect JSON client). */
  json?: boolean;
}

export function addStoreApiContract(t: Test, fx: () => StoreApiFixture, parts: ContractParts = {}): void {
  t("Info: external labels, min time at the oldest data, open max time", async () => {
    const f = fx();
    const info = await f.info.info({});
    assert.equal(info.labelSets.map((s) => s.labels.map((l) => ({ name: l.name, value: l.value }))), [f.externalLabels]);
    assert.ok(info.store, "store info present");
    assert.ok(Number(info.store!.minTime) <= f.oldest, `min time ${info.store!.minTime} <= oldest sample ${f.oldest}`);
    if (f.infoMaxTime !== undefined) assert.ok(Number(info.store!.maxTime) >= f.infoMaxTime, `max time ${info.store!.maxTime} >= newest sample ${f.infoMaxTime}`);
    else assert.ok(info.store!.maxTime >= BigInt(Date.now()), "max time is open (>= now)");
  });

  t("Series equals the backend's data for each matcher set and time range: sorted, external labels attached", async () => {
    const f = fx();
    for (const c of f.cases) {
      const what = `${selector(c.ms)} [${c.mint}, ${c.maxt}]`;
      const [got, want] = await Promise.all([collectSeries(f.store, seriesRequest(c.ms, c.mint, c.maxt)), f.oracle(c.ms, c.mint, c.maxt)]);
      assert.ok(want.length > 0, `${what}: the case selects data`);
      assert.equal(got.warnings, [], `${what}: no warnings`);
      assertSorted(got.raw, what);
      for (const ls of got.raw) {
        for (const e of f.externalLabels) assert.ok(ls.some((l) => l.name === e.name && l.value === e.value), `${what}: ${labelsString(ls)} carries ${e.name}`);
      }
      sameData(got.series, want.map((s) => ({ ...s, labels: extend(s.labels, f.externalLabels) })), what);
    }
  });

  t("Series: matchers on external labels are decided by the store (stripped or contradicting)", async () => {
    const f = fx();
    const c = f.cases[0]!;
    const e = f.externalLabels[0]!;
    const plain = await collectSeries(f.store, seriesRequest(c.ms, c.mint, c.maxt));
    const withExt = await collectSeries(f.store, seriesRequest([...c.ms, [e.name, "=", e.value]], c.mint, c.maxt));
    assert.equal(withExt.raw, plain.raw);
    const re = await collectSeries(f.store, seriesRequest([...c.ms, [e.name, "=~", `${e.value}|nope`]], c.mint, c.maxt));
    assert.equal(re.raw, plain.raw);
    const none = await collectSeries(f.store, seriesRequest([...c.ms, [e.name, "=", e.value + "-other"]], c.mint, c.maxt));
    assert.equal(none.raw, []);
    assert.equal(none.warnings, []);
    const neq = await collectSeries(f.store, seriesRequest([...c.ms, [e.name, "!=", e.value]], c.mint, c.maxt));
    assert.equal(neq.raw, []);
  });

  t("Series: skip_chunks gives the same label sets without chunks", async () => {
    const f = fx();
    for (const c of f.cases.slice(0, 3)) {
      const full = await collectSeries(f.store, seriesRequest(c.ms, c.mint, c.maxt));
      const req = seriesRequest(c.ms, c.mint, c.maxt, { skipChunks: true });
      const labels: Labels[] = [];
      for await (const r of f.store.series(req)) {
        if (r.result.case !== "series") continue;
        assert.is(r.result.value.chunks.length, 0);
        labels.push(r.result.value.labels.map((l) => ({ name: l.name, value: l.value })));
      }
      assertSorted(labels, `skip_chunks ${selector(c.ms)}`);
      assert.equal(labels.map(labelsString), full.series.filter((s) => s.ts.length > 0).map((s) => labelsString(s.labels)));
    }
  });

  t("Series: without_replica_labels removes those labels and keeps the order", async () => {
    const f = fx();
    const c = f.cases[0]!;
    const drop = f.externalLabels.at(-1)!.name;
    const got = await collectSeries(f.store, seriesRequest(c.ms, c.mint, c.maxt, { withoutReplicaLabels: [drop] }));
    const want = (await f.oracle(c.ms, c.mint, c.maxt)).map((s) => ({ ...s, labels: extend(s.labels, f.externalLabels, [drop]) }))
      .sort((a, b) => compareLabels(a.labels, b.labels));
    assertSorted(got.raw, "without_replica_labels");
    for (const ls of got.raw) assert.ok(!ls.some((l) => l.name === drop), `${labelsString(ls)} has no ${drop}`);
    sameData(got.series, want, "without_replica_labels");
  });

  t("Series: an empty time range or one before the data selects nothing", async () => {
    const f = fx();
    const c = f.cases[0]!;
    assert.equal((await collectSeries(f.store, seriesRequest(c.ms, f.oldest - 10_000_000, f.oldest - 5_000_000))).raw, []);
    assert.equal((await collectSeries(f.store, seriesRequest(c.ms, c.maxt, c.mint))).raw, []);
  });

  t("Series: a bad regex is InvalidArgument naming it", async () => {
    const f = fx();
    const err = await rpcError(collectSeries(f.store, seriesRequest([["__name__", "=~", "a("]], 0, Date.now())));
    assert.is(err.code, Code.InvalidArgument);
    assert.match(err.rawMessage, /a\(/);
  });

  t("LabelNames and LabelValues: the backend's answer plus external labels, with matchers and time range", async () => {
    const f = fx();
    for (const c of f.cases.slice(0, 4)) {
      const req = { start: BigInt(c.mint), end: BigInt(c.maxt), matchers: c.ms.map(([name, op, value]) => ({ type: OPS[op], name, value })) };
      const names = await f.store.labelNames(req);
      const want = [...new Set([...(await f.oracleLabelNames(c.ms, c.mint, c.maxt)), ...f.externalLabels.map((l) => l.name)])].sort();
      assert.equal(names.names, want, `label names for ${selector(c.ms)}`);
      for (const n of want.filter((x) => x !== "__name__").slice(0, 3)) {
        const vals = await f.store.labelValues({ ...req, label: n });
        const ext = f.externalLabels.find((l) => l.name === n);
        const wantV = ext ? [ext.value] : await f.oracleLabelValues(n, c.ms, c.mint, c.maxt);
        assert.equal(vals.values, wantV, `values of ${n} for ${selector(c.ms)}`);
      }
    }
    const e = f.externalLabels[0]!;
    const c = f.cases[0]!;
    const contra = await f.store.labelNames({ start: BigInt(c.mint), end: BigInt(c.maxt), matchers: [{ type: LabelMatcher_Type.EQ, name: e.name, value: e.value + "-x" }] });
    assert.equal(contra.names, []);
  });

  if (parts.limits) t("limits: too many series or samples is ResourceExhausted with the limit in the message", async () => {
    const l = fx().limited;
    assert.ok(l, "registered with limits, but the fixture has no limited client");
    const e1 = await rpcError(collectSeries(l.store, seriesRequest(l.overSeries.ms, l.overSeries.mint, l.overSeries.maxt)));
    assert.is(e1.code, Code.ResourceExhausted);
    assert.match(e1.rawMessage, /exceeded series limit: limit \d+ violated/);
    const e2 = await rpcError(collectSeries(l.store, seriesRequest(l.overSamples.ms, l.overSamples.mint, l.overSamples.maxt)));
    assert.is(e2.code, Code.ResourceExhausted);
    assert.match(e2.rawMessage, /exceeded samples limit: limit \d+ violated/);
    // Under the limits the same store answers.
    const ok = await collectSeries(l.store, seriesRequest(l.under.ms, l.under.mint, l.under.maxt));
    assert.ok(ok.raw.length > 0);
  });

  if (parts.auth) t("auth: a call without or with a wrong bearer token is Unauthenticated; with it, it works", async () => {
    const f = fx();
    assert.ok(f.auth, "registered with auth, but the fixture has no auth clients");
    const c = f.cases[0]!;
    for (const cl of [f.auth.without, f.auth.wrongToken]) {
      const err = await rpcError(collectSeries(cl, seriesRequest(c.ms, c.mint, c.maxt)));
      assert.is(err.code, Code.Unauthenticated);
      const e2 = await rpcError(cl.labelNames({ start: 0n, end: BigInt(Date.now()) }));
      assert.is(e2.code, Code.Unauthenticated);
    }
    const ok = await f.auth.withToken.labelNames({ start: BigInt(c.mint), end: BigInt(c.maxt) });
    assert.ok(ok.names.length > 0);
  });

  if (parts.json) t("Connect JSON: Series (single and batched, with and without chunks) and label calls equal the binary answer", async () => {
    const f = fx();
    assert.ok(f.json, "registered with json, but the fixture has no JSON client");
    for (const c of f.cases) {
      const what = `JSON ${selector(c.ms)} [${c.mint}, ${c.maxt}]`;
      const [got, bin, want] = await Promise.all([
        collectSeries(f.json, seriesRequest(c.ms, c.mint, c.maxt)),
        collectSeries(f.store, seriesRequest(c.ms, c.mint, c.maxt)),
        f.oracle(c.ms, c.mint, c.maxt),
      ]);
      assert.ok(want.length > 0, `${what}: the case selects data`);
      assert.equal(got.warnings, [], `${what}: no warnings`);
      assert.equal(got.raw.map(labelsString), bin.raw.map(labelsString), `${what}: the binary answer's series`);
      sameData(got.series, want.map((s) => ({ ...s, labels: extend(s.labels, f.externalLabels) })), what);
    }
    const c = f.cases[0]!;
    const full = await collectSeries(f.json, seriesRequest(c.ms, c.mint, c.maxt));
    // Batched (SeriesResponse.batch): the same series, chunks and order as unbatched, at most 2 per message.
    const flat = (s: { labels: { name: string; value: string }[]; chunks: { minTime: bigint; maxTime: bigint; raw?: { data: Uint8Array } }[] }) =>
      `${labelsString(s.labels)} ${s.chunks.map((x) => `${x.minTime}-${x.maxTime}:${Array.from(x.raw?.data ?? [], (b) => b.toString(16).padStart(2, "0")).join("")}`).join(",")}`;
    const single: string[] = [], batched: string[] = [];
    for await (const r of f.json.series(seriesRequest(c.ms, c.mint, c.maxt))) if (r.result.case === "series") single.push(flat(r.result.value));
    let batches = 0;
    for await (const r of f.json.series(seriesRequest(c.ms, c.mint, c.maxt, { responseBatchSize: 2n }))) {
      assert.is(r.result.case, "batch", "JSON batched answer: batch messages only");
      if (r.result.case !== "batch") continue;
      batches++;
      assert.ok(r.result.value.series.length >= 1 && r.result.value.series.length <= 2, `batch of ${r.result.value.series.length}`);
      for (const x of r.result.value.series) batched.push(flat(x));
    }
    assert.is(single.length, full.raw.length);
    assert.is(batches, Math.ceil(single.length / 2));
    assert.equal(batched, single, "JSON batched: the unbatched series and chunks");
    const skip: Labels[] = [];
    for await (const r of f.json.series(seriesRequest(c.ms, c.mint, c.maxt, { skipChunks: true }))) {
      if (r.result.case !== "series") continue;
      assert.is(r.result.value.chunks.length, 0);
      skip.push(r.result.value.labels.map((l) => ({ name: l.name, value: l.value })));
    }
    assert.equal(skip.map(labelsString), full.series.filter((s) => s.ts.length > 0).map((s) => labelsString(s.labels)), "JSON skip_chunks");
    const req = { start: BigInt(c.mint), end: BigInt(c.maxt), matchers: c.ms.map(([name, op, value]) => ({ type: OPS[op], name, value })) };
    assert.equal((await f.json.labelNames(req)).names, (await f.store.labelNames(req)).names, "JSON LabelNames");
    const n = f.externalLabels[0]!.name;
    assert.equal((await f.json.labelValues({ ...req, label: n })).values, [f.externalLabels[0]!.value], "JSON LabelValues");
  });
}

/** For a stopped backend: WARN gives a warning frame and no error, ABORT gives an error. */
export async function assertPartialResponse(store: Client<typeof Store>, ms: M[], mint: number, maxt: number): Promise<void> {
  const warn = await collectSeries(store, seriesRequest(ms, mint, maxt, { partialResponseStrategy: PartialResponseStrategy.WARN }));
  assert.is(warn.raw.length, 0);
  assert.is(warn.warnings.length, 1, "one warning frame");
  const err = await rpcError(collectSeries(store, seriesRequest(ms, mint, maxt, { partialResponseStrategy: PartialResponseStrategy.ABORT })));
  assert.is(err.code, Code.Unavailable, `ABORT: ${err.message}`);
  const ln = await store.labelNames({ start: BigInt(mint), end: BigInt(maxt) });
  assert.is(ln.warnings.length, 1);
  const lnErr = await rpcError(store.labelNames({ start: BigInt(mint), end: BigInt(maxt), partialResponseStrategy: PartialResponseStrategy.ABORT }));
  assert.is(lnErr.code, Code.Unavailable);
}

export { labelsEqual };
