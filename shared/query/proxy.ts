// The fan-out (Thanos pkg/store/proxy.go in spirit): one StoreAPI request sent to every store that can
// answer it, the sorted Series streams merged as they arrive.
//
// - Store selection: each store's Info is cached for a TTL and refreshed lazily on the next request
//   (Workers have no background timers), the stale answer serving that request meanwhile. A store is asked only when its time range overlaps the request
//   and one of its external label sets can match the matchers, and when storeMatch[] (matchers on
//   `__address__`, i.e. the store's name) lets it. A store whose Info never answered is asked anyway:
//   its failure then shows up as a partial-response warning instead of silently missing data.
// - Merge: a k-way merge (a loser tree) over the stores' sorted streams. Series with equal labels from
//   several stores, or time slices of one series, become one, with chunks identical in time range and
//   bytes kept once (replicas behind one querier, or one block visible through two paths).
// - Partial response: under WARN a failing or timed-out store becomes a warning naming it (what it sent
//   before failing is kept); under ABORT the request fails naming it. Limits always fail the request.
// - Cancellation: the caller's signal aborts every store stream; so does an early return.

import { create } from "@bufbuild/protobuf";
import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import { compareLabels, type Label, labelsFrom, type Labels } from "../labels/labels.ts";
import type { Matcher } from "../labels/matcher.ts";
import {
  type LabelNamesRequest, LabelNamesRequestSchema, type LabelValuesRequest, LabelValuesRequestSchema,
  type SeriesRequest, SeriesRequestSchema,
} from "../gen/thanos/storepb/rpc_pb.ts";
import { PartialResponseStrategy } from "../gen/thanos/storepb/types_pb.ts";
import type { CallContext, InfoResponseInit, SeriesResponseInit, StoreImpl, InfoImpl, LabelNamesResponseInit, LabelValuesResponseInit, RulesImpl, RulesResponseInit } from "../rpc/store.ts";
import type { RuleGroup, RulesRequest } from "../gen/thanos/rulespb/rpc_pb.ts";
import { MAX_INT64, msFromProto, msToProto } from "../rpc/time.ts";
import { chunkSampleCount, RequestLimiter } from "../store/limits.ts";
import { mergeSortedStrings } from "../store/labels.ts";
import { matchersFromPb, type StoreEndpoint, type StoreInfo } from "./store.ts";
import { type SeriesFrame, toPbAggrChunk } from "./wire.ts";
import { LoserTree } from "../merge/losertree.ts";
import type { ChunkData, StoreChunk } from "../chunkenc/chunk.ts";

/** One merged series: labels sorted, chunks sorted by minTime (core representation, see wire.ts). */
export interface MergedSeries {
  labels: Labels;
  chunks: StoreChunk[];
}

export interface ProxyOptions {
  /** How long an Info answer is trusted (ms); default 30 s. */
  infoTtlMs?: number;
  /** After a failed Info, retry no sooner than this (ms); default 5 s. */
  infoRetryMs?: number;
  /** Deadline of one Info call (ms); default 5 s. */
  infoTimeoutMs?: number;
  /** Deadline of one store's whole Series/LabelNames/LabelValues call (ms); 0 = none (default). */
  storeTimeoutMs?: number;
  /** Most series one store may send for one request; 0 = unlimited. */
  maxSeriesPerStore?: number;
  /** Most samples (counted from chunk headers) one request may gather from all stores; 0 = unlimited. */
  maxSamples?: number;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/** One row of /api/v1/stores. */
export interface StoreStatus {
  name: string;
  /** Info answered on the last check. */
  healthy: boolean;
  /** ms, null before the first check. */
  lastCheck: number | null;
  lastError: string | null;
  labelSets: Labels[];
  minTime: number;
  maxTime: number;
  componentType: string;
}

interface Entry {
  ep: StoreEndpoint;
  info: StoreInfo | null;
  checkedAt: number | null;
  ok: boolean;
  lastError: string | null;
  inflight: Promise<void> | null;
}

/** Per-request choices that are not part of the StoreAPI request. */
export interface FanoutOptions {
  /** The request's matchers, already parsed (saves re-parsing req.matchers). */
  matchers?: Matcher[];
  /** storeMatch[]: a store is used when one set matches its `__address__` (empty: all stores). */
  storeMatchers?: Matcher[][];
  signal?: AbortSignal;
  /** Partial-response warnings are appended here. */
  warnings: string[];
}

export function isAbortStrategy(req: { partialResponseDisabled?: boolean; partialResponseStrategy?: PartialResponseStrategy }): boolean {
  return req.partialResponseDisabled === true || req.partialResponseStrategy === PartialResponseStrategy.ABORT;
}

/**
 * Thanos' labelSetsMatch: with no label sets a store may hold anything; otherwise some set must agree
 * with every matcher whose label it carries (matchers on other labels are the store's business).
 */
export function labelSetsMatch(matchers: readonly Matcher[], sets: readonly Labels[]): boolean {
  if (sets.length === 0) return true;
  outer: for (const ls of sets) {
    for (const m of matchers) {
      const l = ls.find((x) => x.name === m.name);
      if (l !== undefined && !m.matches(l.value)) continue outer;
    }
    return true;
  }
  return false;
}

/** storeMatch[] as Thanos reads it: only `__address__` matchers count; no sets = every store. */
export function storeMatches(name: string, sets: readonly Matcher[][] | undefined): boolean {
  if (!sets || sets.length === 0) return true;
  return sets.some((ms) => ms.every((m) => m.name !== "__address__" || m.matches(name)));
}

function sortedLabels(ls: Labels): Labels {
  for (let i = 1; i < ls.length; i++) {
    if (!(ls[i - 1]!.name < ls[i]!.name)) return labelsFrom(ls);
  }
  return ls;
}

function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameChunk(a: ChunkData | undefined, b: ChunkData | undefined): boolean {
  if (!a || !b) return a === b;
  return a.encoding === b.encoding && bytesEqual(a.data, b.data);
}

/** Same time range and the same bytes in every aggregate: the same chunk reached us twice. */
export function identicalChunks(a: StoreChunk, b: StoreChunk): boolean {
  return a.minTime === b.minTime && a.maxTime === b.maxTime &&
    sameChunk(a.raw, b.raw) && sameChunk(a.count, b.count) && sameChunk(a.sum, b.sum) &&
    sameChunk(a.min, b.min) && sameChunk(a.max, b.max) && sameChunk(a.counter, b.counter);
}

/** Samples a chunk holds, from its header (raw, else the first aggregate present). */
function chunkSamples(c: StoreChunk): number {
  const x = c.raw ?? c.count ?? c.sum ?? c.counter ?? c.min ?? c.max;
  return x ? chunkSampleCount(x.encoding, x.data) : 0;
}

/** Most series fanoutSeriesBatches hands over per yield. */
const YIELD_BATCH = 256;

/** One store's stream during a merge. */
class Cursor {
  cur: MergedSeries | null = null;
  private readonly it: AsyncIterator<SeriesFrame>;
  private batch: MergedSeries[] = [];
  private bi = 0;
  readonly limiter: RequestLimiter;

  constructor(readonly ep: StoreEndpoint, src: AsyncIterable<SeriesFrame>, readonly ctl: AbortController, maxSeries: number, private readonly onWarning: (ep: StoreEndpoint, w: string) => void) {
    this.it = src[Symbol.asyncIterator]();
    this.limiter = new RequestLimiter(maxSeries, 0);
  }

  /** Next series into `cur` from the batch already received; false when the stream must be read. */
  advanceBuffered(): boolean {
    if (this.bi >= this.batch.length) return false;
    this.set(this.batch[this.bi++]!);
    return true;
  }

  /** Next series into `cur` (null at the end). Throws what the store's stream throws. */
  async advance(): Promise<void> {
    for (;;) {
      if (this.bi < this.batch.length) { this.set(this.batch[this.bi++]!); return; }
      const r = await this.it.next();
      if (r.done) { this.cur = null; return; }
      const f = r.value;
      if (f.kind === "series") {
        this.set({ labels: sortedLabels(f.labels), chunks: f.chunks });
        return;
      }
      if (f.kind === "batch") {
        // The frame's series are this merge's own (decoded for it): used as they are.
        const ss = f.series;
        for (let i = 0; i < ss.length; i++) ss[i]!.labels = sortedLabels(ss[i]!.labels) as Label[];
        this.batch = ss;
        this.bi = 0;
        continue;
      }
      if (f.kind === "warning") this.onWarning(this.ep, f.warning);
      // hints: nothing to do with them here
    }
  }

  private set(s: MergedSeries): void {
    this.limiter.addSeries();
    this.cur = s;
  }

  async close(): Promise<void> {
    this.ctl.abort();
    try { await this.it.return?.(); } catch { /* the stream is being torn down */ }
  }
}

const NO_DATA_MIN_TIME = Number(MAX_INT64);

/**
 * Info of a store with no data yet: a ruler or sidecar before its first sample says min time MaxInt64
 * (Thanos' TSDB store does the same); a store gateway over an empty bucket, min time past max time.
 */
function holdsNothing(i: StoreInfo): boolean {
  return i.minTime >= NO_DATA_MIN_TIME || i.minTime > i.maxTime;
}

export class ProxyStore implements StoreImpl, InfoImpl, RulesImpl {
  private entries: Entry[] = [];
  private readonly o: Required<ProxyOptions>;

  constructor(endpoints: readonly StoreEndpoint[], opts: ProxyOptions = {}) {
    this.o = {
      infoTtlMs: 30_000, infoRetryMs: 5_000, infoTimeoutMs: 5_000, storeTimeoutMs: 0, maxSeriesPerStore: 0, maxSamples: 0,
      now: () => Date.now(),
    };
    // Options left undefined keep their defaults (a spread would overwrite them with undefined).
    for (const [k, v] of Object.entries(opts)) if (v !== undefined) (this.o as unknown as Record<string, unknown>)[k] = v;
    this.setEndpoints(endpoints);
  }

  /** Replace the store set (keeps cached Info of stores that stay). Names must be unique. */
  setEndpoints(endpoints: readonly StoreEndpoint[]): void {
    const old = new Map(this.entries.map((e) => [e.ep.name, e]));
    const seen = new Set<string>();
    this.entries = endpoints.map((ep) => {
      if (seen.has(ep.name)) throw new CodedError("bad_data", `store ${JSON.stringify(ep.name)} is configured twice`);
      seen.add(ep.name);
      const e = old.get(ep.name);
      return e && e.ep === ep ? e : { ep, info: null, checkedAt: null, ok: false, lastError: null, inflight: null };
    });
  }

  get endpoints(): StoreEndpoint[] { return this.entries.map((e) => e.ep); }

  /** The entry's Info is due for a refresh at `now` (never checked, or older than the TTL / retry delay). */
  private infoStale(e: Entry, now: number): boolean {
    return e.checkedAt === null || now - e.checkedAt >= (e.ok ? this.o.infoTtlMs : this.o.infoRetryMs);
  }

  private refresh(e: Entry, force = false): Promise<void> {
    if (!force && !this.infoStale(e, this.o.now())) return Promise.resolve();
    if (e.inflight) return e.inflight;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(new CodedError("timeout", `Info timed out after ${this.o.infoTimeoutMs} ms`)), this.o.infoTimeoutMs);
    e.inflight = (async () => {
      try {
        e.info = await e.ep.info(ctl.signal);
        e.ok = true;
        e.lastError = null;
      } catch (err) {
        e.ok = false;
        e.lastError = ctl.signal.aborted ? `Info timed out after ${this.o.infoTimeoutMs} ms` : errorMessage(err);
      } finally {
        clearTimeout(timer);
        e.checkedAt = this.o.now();
        e.inflight = null;
      }
    })();
    return e.inflight;
  }

  /** Every store's health and Info, refreshing what is older than the TTL. */
  async status(force = false): Promise<StoreStatus[]> {
    await Promise.all(this.entries.map((e) => this.refresh(e, force)));
    return this.entries.map((e) => ({
      name: e.ep.name,
      healthy: e.ok,
      lastCheck: e.checkedAt,
      lastError: e.lastError,
      labelSets: e.info?.labelSets ?? [],
      minTime: e.info?.minTime ?? Number.NEGATIVE_INFINITY,
      maxTime: e.info?.maxTime ?? Number.POSITIVE_INFINITY,
      componentType: e.info?.componentType ?? "",
    }));
  }

  /** Stores that may hold data for these matchers and times (see the header). */
  private async storesFor(mint: number, maxt: number, matchers: readonly Matcher[], storeMatchers?: Matcher[][]): Promise<Entry[]> {
    const cands = this.entries.filter((e) => storeMatches(e.ep.name, storeMatchers));
    const fits = (e: Entry): boolean => {
      const i = e.info;
      if (i === null) return true; // never reached: ask, so its failure is reported
      return i.minTime <= maxt && i.maxTime >= mint && labelSetsMatch(matchers, i.labelSets);
    };
    await this.ensureInfo(cands, fits);
    return cands.filter(fits);
  }

  /**
   * Info of `cands` refreshed where due. Stale Info is used while it is refreshed (a hung endpoint must
   * not delay every query by the Info deadline), but only to include a store: a store never heard from,
   * or whose stale Info `fits` would leave out, is waited for. An empty store's Info (holdsNothing) is
   * asked again, whatever its age, before the store is left out: otherwise the first query after a
   * ruler's first evaluation could miss it for up to the TTL, and with worker threads (each with its own
   * Info) one answer could show the data and the next not.
   */
  private async ensureInfo(cands: readonly Entry[], fits: (e: Entry) => boolean): Promise<void> {
    const now = this.o.now();
    await Promise.all(cands.map((e) => {
      if (e.info === null) return this.refresh(e);
      if (!fits(e) && (holdsNothing(e.info) || this.infoStale(e, now))) return this.refresh(e, true);
      void this.refresh(e);
      return undefined;
    }));
  }

  /** A controller for one store call: aborts with the caller and at the store deadline. */
  private storeCall(signal: AbortSignal | undefined): { ctl: AbortController; timedOut: () => boolean; done: () => void } {
    const ctl = new AbortController();
    let timedOut = false;
    const onAbort = () => ctl.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) ctl.abort(signal.reason);
    const timer = this.o.storeTimeoutMs > 0
      ? setTimeout(() => { timedOut = true; ctl.abort(new CodedError("timeout", "store deadline")); }, this.o.storeTimeoutMs)
      : undefined;
    return {
      ctl,
      timedOut: () => timedOut,
      done: () => { if (timer !== undefined) clearTimeout(timer); signal?.removeEventListener("abort", onAbort); },
    };
  }

  /** A store's failure as a warning (WARN) or a thrown error (ABORT); the caller's cancel always throws. */
  private storeFailure(ep: StoreEndpoint, call: string, e: unknown, timedOut: boolean, abort: boolean, signal: AbortSignal | undefined, warnings: string[]): void {
    if (signal?.aborted) throw new CodedError("canceled", `${call}: canceled by the caller`, { cause: e });
    const code = errorCode(e);
    if (code === "resource_exhausted" && !timedOut) throw new CodedError(code, `${call} from store ${ep.name}: ${errorMessage(e)}`, { cause: e });
    const why = timedOut ? `timed out after ${this.o.storeTimeoutMs} ms` : errorMessage(e);
    const msg = why.includes(ep.name) ? why : `${call} from store ${ep.name}: ${why}`;
    // A store that fails for its own reasons (down, reset, internal error) is unavailable to this query;
    // only the caller's mistakes and deadlines keep their own code.
    if (abort) throw new CodedError(timedOut ? "timeout" : code === "bad_data" || code === "unauthenticated" ? code : "unavailable", msg, { cause: e });
    warnings.push(msg);
  }

  /**
   * Merged series for one request, in label order. Stores' warnings and (under WARN) their failures are
   * appended to `o.warnings`; under ABORT a failure throws naming the store.
   */
  async *fanoutSeries(req: SeriesRequest, o: FanoutOptions): AsyncGenerator<MergedSeries> {
    for await (const batch of this.fanoutSeriesBatches(req, o)) yield* batch;
  }

  /**
   * fanoutSeries in batches (up to YIELD_BATCH series per yield). Why: per series, an await of the
   * store's cursor and a yield through an async generator cost more than the merge itself (20 000
   * series per query for an HA pair over 10 000): here a cursor is awaited only when its received
   * batch is used up, and the caller resumes once per batch.
   */
  async *fanoutSeriesBatches(req: SeriesRequest, o: FanoutOptions): AsyncGenerator<MergedSeries[]> {
    const matchers = o.matchers ?? matchersFromPb(req.matchers, "Series");
    const mint = msFromProto(req.minTime), maxt = msFromProto(req.maxTime);
    const abort = isAbortStrategy(req);
    const stores = await this.storesFor(mint, maxt, matchers, o.storeMatchers);
    if (stores.length === 0) return;
    const samples = new RequestLimiter(0, this.o.maxSamples);
    const warn = (ep: StoreEndpoint, w: string) => {
      const msg = storeWarning(ep, w);
      if (abort) throw new CodedError("unavailable", msg);
      o.warnings.push(msg);
    };
    const calls = stores.map((e) => {
      const call = this.storeCall(o.signal);
      // Stores that cannot drop replica labels themselves get the request without them.
      const sreq = req.withoutReplicaLabels.length > 0 && e.info && !e.info.supportsWithoutReplicaLabels
        ? create(SeriesRequestSchema, { ...req, withoutReplicaLabels: [] }) : req;
      let cursor: Cursor;
      try {
        cursor = new Cursor(e.ep, e.ep.series(sreq, call.ctl.signal), call.ctl, this.o.maxSeriesPerStore, warn);
      } catch (err) {
        cursor = new Cursor(e.ep, failing(err), call.ctl, this.o.maxSeriesPerStore, warn);
      }
      return { cursor, call };
    });
    type Call = (typeof calls)[number];
    const failed = (x: Call, e: unknown): void => {
      x.cursor.cur = null;
      x.call.ctl.abort();
      this.storeFailure(x.cursor.ep, "Series", e, x.call.timedOut(), abort, o.signal, o.warnings);
    };
    const readOn = async (x: Call): Promise<void> => {
      try {
        await x.cursor.advance();
      } catch (e) {
        failed(x, e);
      }
    };
    /** Advance one store: from its received batch when it can (no await), else a promise to wait for. */
    const step = (x: Call): Promise<void> | undefined => {
      try {
        if (x.cursor.advanceBuffered()) return undefined;
      } catch (e) {
        failed(x, e);
        return undefined;
      }
      return readOn(x);
    };
    let out: MergedSeries[] = [];
    const emit = (s: MergedSeries): void => {
      for (const c of s.chunks) samples.addSamples(chunkSamples(c));
      out.push(s);
    };
    try {
      await Promise.all(calls.map(readOn));
      // The k-way merge: a loser tree over the stores' current series (shared/merge/losertree.ts, as
      // Thanos' proxy merges). A store's next series is set as its head once read (from its received
      // batch, or awaited when that is used up).
      const tree = new LoserTree<MergedSeries>(calls.map((x) => x.cursor.cur ?? undefined), (a, b) => compareLabels(a.labels, b.labels) < 0);
      for (let w = tree.winner(); w >= 0; w = tree.winner()) {
        if (o.signal?.aborted) throw new CodedError("canceled", "Series: canceled by the caller");
        if (out.length >= YIELD_BATCH) { yield out; out = []; }
        const first = calls[w]!, head = first.cursor.cur!;
        let p = step(first);
        if (p) await p;
        tree.replace(w, first.cursor.cur ?? undefined);
        let next = tree.winner();
        if (next < 0 || compareLabels(tree.head(next)!.labels, head.labels) !== 0) {
          // The common case (replicas differ in their replica label): one series from one store.
          emit(head);
          continue;
        }
        // The same series again: from another store (replicas behind one querier, a block visible
        // through two paths) or the next time slice from the same one. One series; chunks identical
        // in time range and bytes kept once.
        const chunks: StoreChunk[] = [...head.chunks];
        do {
          const x = calls[next]!;
          for (const c of x.cursor.cur!.chunks) if (!chunks.some((d) => identicalChunks(c, d))) chunks.push(c);
          p = step(x);
          if (p) await p;
          tree.replace(next, x.cursor.cur ?? undefined);
          next = tree.winner();
        } while (next >= 0 && compareLabels(tree.head(next)!.labels, head.labels) === 0);
        chunks.sort((a, b) => a.minTime - b.minTime);
        emit({ labels: head.labels, chunks });
      }
      if (out.length > 0) yield out;
    } finally {
      for (const x of calls) x.call.done();
      await Promise.all(calls.map((x) => x.cursor.close()));
    }
  }

  private async fanoutLabels(
    call: "LabelNames" | "LabelValues", mint: number, maxt: number, matchers: Matcher[], abort: boolean, o: FanoutOptions,
    ask: (ep: StoreEndpoint, signal: AbortSignal) => Promise<{ items: string[]; warnings: string[] }>,
  ): Promise<string[]> {
    const stores = await this.storesFor(mint, maxt, matchers, o.storeMatchers);
    const lists = await Promise.all(stores.map(async (e) => {
      const c = this.storeCall(o.signal);
      try {
        const r = await ask(e.ep, c.ctl.signal);
        for (const w of r.warnings) {
          const msg = storeWarning(e.ep, w);
          if (abort) throw new CodedError("unavailable", msg);
          o.warnings.push(msg);
        }
        return r.items;
      } catch (err) {
        this.storeFailure(e.ep, call, err, c.timedOut(), abort, o.signal, o.warnings);
        return [];
      } finally {
        c.done();
      }
    }));
    return mergeSortedStrings(lists);
  }

  /** Label names across the stores that may match (sorted, unique). */
  async fanoutLabelNames(req: LabelNamesRequest, o: FanoutOptions): Promise<string[]> {
    const matchers = o.matchers ?? matchersFromPb(req.matchers, "LabelNames");
    return await this.fanoutLabels("LabelNames", msFromProto(req.start), msFromProto(req.end), matchers, isAbortStrategy(req), o,
      async (ep, signal) => { const r = await ep.labelNames(req, signal); return { items: r.names, warnings: r.warnings }; });
  }

  async fanoutLabelValues(req: LabelValuesRequest, o: FanoutOptions): Promise<string[]> {
    const matchers = o.matchers ?? matchersFromPb(req.matchers, "LabelValues");
    // A matcher on the asked label itself also picks stores by their external labels.
    return await this.fanoutLabels("LabelValues", msFromProto(req.start), msFromProto(req.end), matchers, isAbortStrategy(req), o,
      async (ep, signal) => { const r = await ep.labelValues(req, signal); return { items: r.values, warnings: r.warnings }; });
  }

  /**
   * thanos.Rules/Rules of every endpoint that serves rules (its last Info said so; one never reached
   * is asked too, so that its failure is reported), asked in parallel, their groups in endpoint
   * order (Thanos' Proxy: in the order they arrive). A failing endpoint or one past the store
   * deadline is a warning under WARN and the error under ABORT; endpoints' own warnings are warnings.
   * The groups are the decoded messages, for the caller to merge (shared/query/rules.ts).
   */
  async fanoutRules(req: RulesRequest, o: FanoutOptions): Promise<RuleGroup[]> {
    await this.ensureInfo(this.entries, () => true);
    const abort = req.partialResponseStrategy === PartialResponseStrategy.ABORT;
    const asked = this.entries.filter((e) => e.ep.rules !== undefined && (e.info === null || e.info.rules === true));
    const answers = await Promise.all(asked.map(async (e) => {
      const c = this.storeCall(o.signal);
      const groups: RuleGroup[] = [];
      try {
        for await (const m of e.ep.rules!(req, c.ctl.signal)) {
          if (m.result.case === "group") groups.push(m.result.value);
          else if (m.result.case === "warning") o.warnings.push(storeWarning(e.ep, m.result.value));
        }
        return groups;
      } catch (err) {
        // Thanos drops what a failing stream sent before it failed; so do we.
        this.storeFailure(e.ep, "Rules", err, c.timedOut(), abort, o.signal, o.warnings);
        return [];
      } finally {
        c.done();
      }
    }));
    return answers.flat();
  }

  /** thanos.Rules served by the fan-out (Thanos' Proxy): every endpoint's groups and warnings, unmerged. */
  async *rules(req: RulesRequest, ctx: CallContext): AsyncIterable<RulesResponseInit> {
    const warnings: string[] = [];
    const groups = await this.fanoutRules(req, { signal: ctx.signal, warnings });
    for (const w of warnings) yield { result: { case: "warning", value: w } };
    for (const g of groups) yield { result: { case: "group", value: g } };
  }

  // ---- The fan-out served as a StoreAPI itself, so queriers stack. ----

  async *series(req: SeriesRequest, ctx: CallContext): AsyncIterable<SeriesResponseInit> {
    const warnings: string[] = [];
    let sent = 0;
    for await (const s of this.fanoutSeries(req, { signal: ctx.signal, warnings })) {
      while (sent < warnings.length) yield { result: { case: "warning", value: warnings[sent++]! } };
      yield { result: { case: "series", value: { labels: s.labels as { name: string; value: string }[], chunks: s.chunks.map(toPbAggrChunk) } } };
    }
    while (sent < warnings.length) yield { result: { case: "warning", value: warnings[sent++]! } };
  }

  async labelNames(req: LabelNamesRequest, ctx: CallContext): Promise<LabelNamesResponseInit> {
    const warnings: string[] = [];
    const names = await this.fanoutLabelNames(req, { signal: ctx.signal, warnings });
    return { names: req.limit > 0n ? names.slice(0, Number(req.limit)) : names, warnings };
  }

  async labelValues(req: LabelValuesRequest, ctx: CallContext): Promise<LabelValuesResponseInit> {
    const warnings: string[] = [];
    const values = await this.fanoutLabelValues(req, { signal: ctx.signal, warnings });
    return { values: req.limit > 0n ? values.slice(0, Number(req.limit)) : values, warnings };
  }

  /** Union of the stores' label sets and time ranges (what Thanos' querier reports about itself). */
  async info(): Promise<InfoResponseInit> {
    const st = await this.status();
    const seen = new Set<string>();
    const labelSets: { labels: { name: string; value: string }[] }[] = [];
    let mint = Number.POSITIVE_INFINITY, maxt = Number.NEGATIVE_INFINITY;
    for (const s of st) {
      if (!s.healthy) continue;
      for (const ls of s.labelSets) {
        const key = JSON.stringify(ls);
        if (!seen.has(key)) { seen.add(key); labelSets.push({ labels: ls.map((l) => ({ name: l.name, value: l.value })) }); }
      }
      mint = Math.min(mint, s.minTime);
      maxt = Math.max(maxt, s.maxTime);
    }
    if (mint > maxt) { mint = 0; maxt = 0; }
    // Rules too, as Thanos' querier announces (its Rules API is this fan-out's).
    return {
      labelSets,
      rules: {},
      ComponentType: "query",
      store: { minTime: msToProto(mint), maxTime: msToProto(maxt), supportsWithoutReplicaLabels: true, supportsSharding: false },
    };
  }
}

/** A store's own warning, prefixed with its name unless it names the store already. */
function storeWarning(ep: StoreEndpoint, w: string): string {
  return w.includes(ep.name) ? w : `store ${ep.name}: ${w}`;
}

async function* failing(e: unknown): AsyncGenerator<SeriesFrame> {
  throw e;
}

/** Build a StoreAPI Series request (times ms). */
export function seriesRequest(init: Parameters<typeof create<typeof SeriesRequestSchema>>[1]): SeriesRequest {
  return create(SeriesRequestSchema, init);
}
export function labelNamesRequest(init: Parameters<typeof create<typeof LabelNamesRequestSchema>>[1]): LabelNamesRequest {
  return create(LabelNamesRequestSchema, init);
}
export function labelValuesRequest(init: Parameters<typeof create<typeof LabelValuesRequestSchema>>[1]): LabelValuesRequest {
  return create(LabelValuesRequestSchema, init);
}
