// A client of a Prometheus-compatible server (the sidecar's Prometheus; the ruler's query API):
// readiness, config (external labels), flags, TSDB status, the JSON series/label APIs, and remote read
// through the one remote-read client (shared/remote/read.ts), over the raw HTTP fast path on Bun.

import { parse as parseYaml } from "yaml";
import { type FetchLike, type ReadRequestInit, remoteRead, type RemoteReadResult } from "../../shared/remote/read.ts";
import { ReadRequest_ResponseType, type QuerySchema } from "../../shared/gen/prometheus/remote_pb.ts";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { rawHttpPost } from "./rawhttp.ts";
import { CodedError, codeFromDependencyHttp } from "../../shared/encoding/errors.ts";
import { labelsFrom, type Labels } from "../../shared/labels/labels.ts";
import type { Matcher } from "../../shared/labels/matcher.ts";
import { lowestTimestampFromMetrics } from "../sidecar/mintime.ts";

export interface PromClientOptions {
  /** Per-request timeout for the small JSON calls (not remote read). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /**
   * The HTTP client of remote read. Default: on Bun the raw socket client (rawhttp.ts: a plain http://
   * Prometheus, the sidecar's common case; bench/rrclient.ts measures why), unless
   * THANOTS_REMOTE_READ_CLIENT=fetch; fetch everywhere else.
   */
  remoteReadPost?: FetchLike;
  /** Sent as User-Agent; default "thanots". */
  userAgent?: string;
}

/**
 * The default remote-read client. On Bun, the raw socket client unless THANOTS_REMOTE_READ_CLIENT=fetch
 * (a switch kept for comparison and as a way out).
 */
const defaultRemoteReadPost: FetchLike = (() => {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const raw = env.THANOTS_REMOTE_READ_CLIENT === "fetch" ? null : rawHttpPost();
  return raw ?? ((url, init) => fetch(url, init));
})();

/** A selector for `match[]`: `{name="value", …}`; values quoted so Go's strconv.Unquote reads them back. */
export function selectorString(ms: readonly Matcher[]): string {
  return "{" + ms.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(", ") + "}";
}

// Prometheus' API parses times as float seconds; bounds such as Go's MinInt64 "no limit" do not survive
// that, so times beyond about year 5000 / before year -1000 are left out (= Prometheus' own min/max).
const TIME_BOUND = 1e14;
function setTime(u: URL, name: string, ms: number): void {
  if (Number.isFinite(ms) && Math.abs(ms) < TIME_BOUND) u.searchParams.set(name, (ms / 1000).toFixed(3));
}

export class PromClient {
  readonly base: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly post: FetchLike;
  private readonly userAgent: string;

  constructor(base: string, opts: PromClientOptions = {}) {
    this.base = base.endsWith("/") ? base : base + "/";
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetch = opts.fetch ?? fetch;
    this.post = opts.remoteReadPost ?? defaultRemoteReadPost;
    this.userAgent = opts.userAgent ?? "thanots";
  }

  /**
   * One remote-read query (`<base>/api/v1/read`). `accept`: the answer types asked for, in preference
   * order (default streamed chunks, then samples); a SAMPLES answer comes decoded with exact value bits.
   */
  async remoteRead(query: MessageInitShape<typeof QuerySchema>, opts: { accept?: ReadRequest_ResponseType[]; signal?: AbortSignal } = {}): Promise<Exclude<RemoteReadResult, { type: "samples" }>> {
    const req: ReadRequestInit = {
      queries: [query],
      acceptedResponseTypes: opts.accept ?? [ReadRequest_ResponseType.STREAMED_XOR_CHUNKS, ReadRequest_ResponseType.SAMPLES],
    };
    const res = await remoteRead(this.post, this.url("api/v1/read").toString(), req, { signal: opts.signal, headers: { "User-Agent": this.userAgent }, samples: "raw" });
    if (res.type === "samples") throw new CodedError("internal", "remote read: SAMPLES decoded as messages where raw samples were asked for");
    return res;
  }

  url(path: string): URL { return new URL(path.replace(/^\//, ""), this.base); }

  private async get(u: URL, signal?: AbortSignal, accept?: string): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const s = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { "User-Agent": this.userAgent };
    if (accept !== undefined) headers.Accept = accept;
    try {
      return await this.fetch(u, { signal: s, headers });
    } catch (e) {
      if (signal?.aborted) throw new CodedError("canceled", `GET ${u.pathname} from Prometheus ${this.base}: canceled`);
      if (timeout.aborted) throw new CodedError("timeout", `GET ${u.pathname} from Prometheus ${this.base}: no answer within ${this.timeoutMs} ms`);
      throw new CodedError("unavailable", `GET ${u.pathname} from Prometheus ${this.base}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** GET a JSON API path and return `data`; Prometheus' own error text is kept in the message. */
  async api<T>(path: string, params: Record<string, string | string[]> = {}, signal?: AbortSignal, times?: { start?: number; end?: number }): Promise<T> {
    const u = this.url(path);
    for (const [k, v] of Object.entries(params)) for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, x);
    if (times?.start !== undefined) setTime(u, "start", times.start);
    if (times?.end !== undefined) setTime(u, "end", times.end);
    const r = await this.get(u, signal);
    const text = await r.text();
    let j: { status?: string; data?: T; error?: string; errorType?: string };
    try {
      j = JSON.parse(text);
    } catch {
      throw new CodedError(codeFromDependencyHttp(r.status), `GET ${u.pathname} from Prometheus ${this.base}: HTTP ${r.status}, not JSON: ${text.slice(0, 300)}`);
    }
    if (j.status !== "success") {
      throw new CodedError(codeFromDependencyHttp(r.status, j.errorType), `GET ${u.pathname} from Prometheus ${this.base}: ${j.errorType ?? "error"}: ${j.error ?? `HTTP ${r.status}`}`);
    }
    return j.data as T;
  }

  async ready(signal?: AbortSignal): Promise<boolean> {
    try {
      const r = await this.get(this.url("-/ready"), signal);
      await r.arrayBuffer().catch(() => {});
      return r.ok;
    } catch {
      return false;
    }
  }

  /** Polls /-/ready until it answers 200; throws "unavailable" after timeoutMs. */
  async waitReady(timeoutMs: number, signal?: AbortSignal, onWait?: (attempt: number) => void): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      if (await this.ready(signal)) return;
      if (signal?.aborted) throw new CodedError("canceled", `waiting for Prometheus ${this.base} to be ready: canceled`);
      if (Date.now() >= deadline) {
        throw new CodedError("unavailable", `Prometheus ${this.base} not ready after ${timeoutMs} ms (--prometheus.ready_timeout); is it running and is --prometheus.url right?`);
      }
      onWait?.(attempt);
      await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
    }
  }

  /** External labels from /api/v1/status/config (the config comes back as one YAML string). */
  async externalLabels(signal?: AbortSignal): Promise<Labels> {
    const d = await this.api<{ yaml: string }>("api/v1/status/config", {}, signal);
    return parseExternalLabels(d.yaml, `config of Prometheus ${this.base}`);
  }

  async flags(signal?: AbortSignal): Promise<Record<string, string>> {
    return await this.api<Record<string, string>>("api/v1/status/flags", {}, signal);
  }

  /**
   * Oldest time Prometheus holds: its prometheus_tsdb_lowest_timestamp_seconds gauge from /metrics
   * (agent/sidecar/mintime.ts reads it; -inf for an empty TSDB, null when the gauge is missing).
   */
  async lowestTimestamp(signal?: AbortSignal): Promise<number | null> {
    const u = this.url("metrics");
    const r = await this.get(u, signal, "text/plain;version=0.0.4");
    if (!r.ok) {
      await r.body?.cancel();
      throw new CodedError("unavailable", `GET ${u.pathname} from Prometheus ${this.base}: HTTP ${r.status}`);
    }
    return lowestTimestampFromMetrics(await r.text());
  }

  /** Head block time range from /api/v1/status/tsdb (minTime is MaxInt64-ish when the head is empty). */
  async headStats(signal?: AbortSignal): Promise<{ minTime: number; maxTime: number; numSeries: number }> {
    const d = await this.api<{ headStats: { minTime: number; maxTime: number; numSeries: number } }>("api/v1/status/tsdb", {}, signal);
    return d.headStats;
  }

  async series(ms: readonly Matcher[], start: number, end: number, signal?: AbortSignal): Promise<Record<string, string>[]> {
    return await this.api<Record<string, string>[]>("api/v1/series", { "match[]": selectorString(ms) }, signal, { start, end });
  }

  async labelNames(ms: readonly Matcher[], start: number, end: number, signal?: AbortSignal): Promise<string[]> {
    const p: Record<string, string> = ms.length ? { "match[]": selectorString(ms) } : {};
    return (await this.api<string[] | null>("api/v1/labels", p, signal, { start, end })) ?? [];
  }

  async labelValues(name: string, ms: readonly Matcher[], start: number, end: number, signal?: AbortSignal): Promise<string[]> {
    const p: Record<string, string> = ms.length ? { "match[]": selectorString(ms) } : {};
    return (await this.api<string[] | null>(`api/v1/label/${encodeURIComponent(name)}/values`, p, signal, { start, end })) ?? [];
  }
}

/** `global.external_labels` of a Prometheus config, sorted; empty values dropped as Prometheus does. */
export function parseExternalLabels(yamlText: string, what: string): Labels {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText);
  } catch (e) {
    throw new CodedError("bad_data", `${what}: not valid YAML: ${(e as Error).message}`);
  }
  const global = (doc as { global?: { external_labels?: unknown } } | null)?.global;
  const ext = global?.external_labels;
  if (ext === undefined || ext === null) return [];
  if (typeof ext !== "object" || Array.isArray(ext)) throw new CodedError("bad_data", `${what}: global.external_labels is not a map`);
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(ext as Record<string, unknown>)) {
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      throw new CodedError("bad_data", `${what}: external label ${k} has a non-scalar value`);
    }
    o[k] = String(v);
  }
  return labelsFrom(o);
}
