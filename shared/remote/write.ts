// Prometheus remote write (protocol 1.0: a snappy-compressed prometheus.WriteRequest), the sending side:
// what the ruler's stateless mode (--remote-write.config-file) writes its recorded series and ALERTS
// with, as Prometheus' storage/remote QueueManager does, minus its WAL:
//
//   rules engine --append/commit--> RemoteWriteStorage (an Appendable) --push--> one RemoteWriteQueue per
//   remote_write entry --(loop) batches of max_samples_per_send, or what is there after
//   batch_send_deadline--> POST <url> (Content-Encoding: snappy, Content-Type: application/x-protobuf,
//   X-Prometheus-Remote-Write-Version: 0.1.0)
//
// - Series get the external labels they lack (Prometheus' processExternalLabels: a series' own label
//   wins), then the entry's write_relabel_configs (a series relabelled away is not sent).
// - One request in flight per queue, so a receiver sees each series in time order.
// - Retries: a network error, a timeout (remote_timeout) or a 5xx (and a 429 with retry_on_http_429)
//   is retried with backoff doubling from min_backoff to max_backoff (Retry-After honoured on 429),
//   until it succeeds or the queue stops; any other status drops the batch (counted as failed).
// - Bounded memory: at most capacity x max_shards samples wait per queue (Prometheus' own bound on
//   what its shards hold; it keeps the rest in its WAL, which we do not have); beyond that the oldest
//   are dropped and counted. push() never waits, so a slow or down receiver never holds up evaluation.
// - Staleness markers are sent with the exact StaleNaN bits (0x7ff0000000000002): the encoder writes
//   the bits itself, since a JS number would not keep that NaN payload.
// HTTP goes through a fetch-like function from the caller (shared/ has no runtime API).

import { CodedError, errorMessage } from "../encoding/errors.ts";
import { compareStrings, type Label, type Labels } from "../labels/labels.ts";
import { relabel, relabelConfigFromDecoded, relabelConfigType, type RelabelConfig } from "../labels/relabel.ts";
import { decodeGoYaml, goBool, goMap, goSlice, goString, goStruct, type GoType } from "../encoding/goyaml.ts";
import { systemClock, type Clock } from "../rules/group.ts";
import { labelsKey } from "../rules/rule.ts";
import { goDuration } from "../rules/rulefmt.ts";
import { snappyEncode } from "./snappy.ts";

export interface WriteSample {
  t: number;
  v: number;
  stale?: boolean;
}

export interface WriteSeries {
  labels: Labels;
  samples: WriteSample[];
}

// ---- encoding: prometheus.WriteRequest { repeated TimeSeries timeseries = 1; } ----
//   TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
//   Label { string name = 1; string value = 2; }   Sample { double value = 1; int64 timestamp = 2; }

const enc = new TextEncoder();

function varintLen(n: number): number {
  let l = 1;
  while (n >= 0x80) { n = Math.floor(n / 128); l++; }
  return l;
}

/** int64 as a protobuf varint (two's complement for negatives: always 10 bytes). */
function int64Len(n: number): number {
  return n < 0 ? 10 : varintLen(n);
}

class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  varint(n: number): void {
    while (n >= 0x80) { this.buf[this.pos++] = (n % 128) | 0x80; n = Math.floor(n / 128); }
    this.buf[this.pos++] = n;
  }
  int64(n: number): void {
    if (n >= 0) { this.varint(n); return; }
    // Two's complement over 64 bits, 7 bits at a time, from the low end.
    let lo = n % 4294967296, hi = Math.floor(n / 4294967296);
    if (lo < 0) lo += 4294967296;
    hi = (hi + 4294967296) >>> 0;
    for (let i = 0; i < 9; i++) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo & 0x01;
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

const STALE_HI = 0x7ff00000, STALE_LO = 0x00000002;

/** The protobuf bytes of a WriteRequest holding these series (not compressed). */
export function encodeWriteRequest(series: readonly WriteSeries[]): Uint8Array {
  // Sizes first (strings encoded once), then one exact allocation.
  const encoded: { names: Uint8Array[]; values: Uint8Array[]; labelLens: number[]; sampleLens: number[]; tsLen: number }[] = [];
  let total = 0;
  for (const s of series) {
    const names: Uint8Array[] = [], values: Uint8Array[] = [], labelLens: number[] = [], sampleLens: number[] = [];
    let tsLen = 0;
    for (const l of s.labels) {
      const n = enc.encode(l.name), v = enc.encode(l.value);
      names.push(n); values.push(v);
      const ll = 1 + varintLen(n.length) + n.length + 1 + varintLen(v.length) + v.length;
      labelLens.push(ll);
      tsLen += 1 + varintLen(ll) + ll;
    }
    for (const smp of s.samples) {
      const sl = 9 + 1 + int64Len(smp.t);
      sampleLens.push(sl);
      tsLen += 1 + varintLen(sl) + sl;
    }
    encoded.push({ names, values, labelLens, sampleLens, tsLen });
    total += 1 + varintLen(tsLen) + tsLen;
  }
  const w = new Writer(total);
  series.forEach((s, i) => {
    const e = encoded[i]!;
    w.buf[w.pos++] = 0x0a; // field 1, length-delimited
    w.varint(e.tsLen);
    s.labels.forEach((_, j) => {
      w.buf[w.pos++] = 0x0a;
      w.varint(e.labelLens[j]!);
      w.buf[w.pos++] = 0x0a; w.varint(e.names[j]!.length); w.bytes(e.names[j]!);
      w.buf[w.pos++] = 0x12; w.varint(e.values[j]!.length); w.bytes(e.values[j]!);
    });
    s.samples.forEach((smp, j) => {
      w.buf[w.pos++] = 0x12;
      w.varint(e.sampleLens[j]!);
      w.buf[w.pos++] = 0x09; // field 1, fixed64
      if (smp.stale) {
        w.view.setUint32(w.pos, STALE_LO, true);
        w.view.setUint32(w.pos + 4, STALE_HI, true);
      } else {
        w.view.setFloat64(w.pos, smp.v, true);
      }
      w.pos += 8;
      w.buf[w.pos++] = 0x10; // field 2, varint
      w.int64(smp.t);
    });
  });
  if (w.pos !== total) throw new CodedError("internal", `encode WriteRequest: wrote ${w.pos} bytes, sized ${total}`);
  return w.buf;
}

// ---- configuration (Prometheus' remote_write entries) ----

export interface QueueConfig {
  capacity: number;
  maxShards: number;
  minShards: number;
  maxSamplesPerSend: number;
  /** ms */
  batchSendDeadline: number;
  minBackoff: number;
  maxBackoff: number;
  retryOnRateLimit: boolean;
}

/** Prometheus 2.42's DefaultQueueConfig. */
export const DEFAULT_QUEUE_CONFIG: QueueConfig = {
  capacity: 2500, maxShards: 200, minShards: 1, maxSamplesPerSend: 500,
  batchSendDeadline: 5000, minBackoff: 30, maxBackoff: 5000, retryOnRateLimit: false,
};

export interface RemoteWriteConfig {
  url: string;
  /** The name metrics carry (`remote_name`); default: a hash-free short form of the URL. */
  name: string;
  /** ms; default 30s. */
  remoteTimeout: number;
  headers: Record<string, string>;
  writeRelabelConfigs: RelabelConfig[];
  queue: QueueConfig;
}

/** How a remote_write entry authenticates (Prometheus' common HTTPClientConfig); files are read by the agent. */
export interface RemoteWriteAuth {
  basicAuth: { username: string; password: string; passwordFile: string } | null;
  /** `authorization:` (type defaults to Bearer), or the legacy bearer_token(_file). */
  authorization: { type: string; credentials: string; credentialsFile: string } | null;
  /** Fields we read but do not implement (tls_config, oauth2, proxy_url, sigv4): the agent warns. */
  unsupported: string[];
}

export interface ParsedRemoteWrite extends RemoteWriteConfig {
  auth: RemoteWriteAuth;
}

const queueType = goStruct("config.QueueConfig", {
  capacity: { kind: "int" }, max_shards: { kind: "int" }, min_shards: { kind: "int" }, max_samples_per_send: { kind: "int" },
  batch_send_deadline: goDuration, min_backoff: goDuration, max_backoff: goDuration, retry_on_http_429: goBool,
});
const rwType: GoType = goStruct("config.RemoteWriteConfig", {
  url: goString, remote_timeout: goDuration, headers: goMap(goString), write_relabel_configs: goSlice(relabelConfigType),
  name: goString, send_exemplars: goBool, send_native_histograms: goBool,
  basic_auth: goStruct("config.BasicAuth", { username: goString, password: goString, password_file: goString }),
  authorization: goStruct("config.Authorization", { type: goString, credentials: goString, credentials_file: goString }),
  bearer_token: goString, bearer_token_file: goString,
  oauth2: { kind: "node" }, tls_config: { kind: "node" }, proxy_url: goString, follow_redirects: goBool, enable_http2: goBool,
  queue_config: queueType, metadata_config: { kind: "node" }, sigv4: { kind: "node" },
});
const rwFileType = goStruct("rwConfig", { remote_write: goSlice(rwType) });

const RESERVED_HEADERS = new Set(["host", "content-encoding", "content-length", "content-type", "user-agent", "connection", "keep-alive",
  "proxy-authenticate", "proxy-authorization", "www-authenticate", "accept-encoding", "x-prometheus-remote-write-version",
  "x-prometheus-remote-read-version", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto"]);

/**
 * The `remote_write:` section of a Prometheus config, as Thanos' stateless ruler reads it (yaml.v2, not
 * strict: other sections and unknown fields are ignored), with Prometheus 2.42's defaults and checks.
 */
export function parseRemoteWriteConfig(text: string): ParsedRemoteWrite[] {
  const r = decodeGoYaml(text, rwFileType, { version: 2, strict: false });
  if (r.error !== null) throw new CodedError("bad_data", `failed to parse remote write config: ${r.error}`);
  const list = ((r.value as Record<string, unknown> | null)?.remote_write as (Record<string, unknown> | null)[] | null) ?? [];
  const out: ParsedRemoteWrite[] = [];
  const names = new Set<string>(), urls = new Set<string>();
  list.forEach((o, i) => {
    o ??= {};
    const url = (o.url as string | undefined) ?? "";
    if (url === "") throw new CodedError("bad_data", `remote_write[${i}]: url for remote_write is empty`);
    if (!/^https?:\/\/[^/]+/.test(url)) throw new CodedError("bad_data", `remote_write[${i}]: url ${JSON.stringify(url)} is not an http(s) URL`);
    const headers = Object.fromEntries((o.headers as Map<string, string> | undefined) ?? new Map());
    for (const h of Object.keys(headers)) {
      if (h.toLowerCase() === "authorization") throw new CodedError("bad_data", `remote_write[${i}]: authorization header must be changed via the basic_auth, authorization, oauth2, or sigv4 parameter`);
      if (RESERVED_HEADERS.has(h.toLowerCase())) throw new CodedError("bad_data", `remote_write[${i}]: ${h} is a reserved header. It must not be changed`);
    }
    const relabels = ((o.write_relabel_configs as (Record<string, unknown> | null)[] | null) ?? []).map((c) => {
      if (c === null) throw new CodedError("bad_data", `remote_write[${i}]: empty or null relabeling rule in remote write config`);
      return relabelConfigFromDecoded(c);
    });
    const q = (o.queue_config as Record<string, unknown> | undefined) ?? {};
    const d = DEFAULT_QUEUE_CONFIG;
    const queue: QueueConfig = {
      capacity: (q.capacity as number) || d.capacity,
      maxShards: (q.max_shards as number) || d.maxShards,
      minShards: (q.min_shards as number) || d.minShards,
      maxSamplesPerSend: (q.max_samples_per_send as number) || d.maxSamplesPerSend,
      batchSendDeadline: (q.batch_send_deadline as number) || d.batchSendDeadline,
      minBackoff: (q.min_backoff as number) || d.minBackoff,
      maxBackoff: (q.max_backoff as number) || d.maxBackoff,
      retryOnRateLimit: (q.retry_on_http_429 as boolean) ?? false,
    };
    const ba = o.basic_auth as Record<string, string> | undefined;
    const az = o.authorization as Record<string, string> | undefined;
    const bearer = (o.bearer_token as string) ?? "", bearerFile = (o.bearer_token_file as string) ?? "";
    const nAuth = (ba ? 1 : 0) + (az ? 1 : 0) + (bearer || bearerFile ? 1 : 0);
    if (nAuth > 1) throw new CodedError("bad_data", `remote_write[${i}]: at most one of basic_auth, bearer_token & bearer_token_file, authorization must be configured`);
    if (ba && ba.password && ba.password_file) throw new CodedError("bad_data", `remote_write[${i}]: at most one of basic_auth password & password_file must be configured`);
    if (az && az.credentials && az.credentials_file) throw new CodedError("bad_data", `remote_write[${i}]: at most one of authorization credentials & credentials_file must be configured`);
    const unsupported = ["oauth2", "tls_config", "proxy_url", "sigv4"].filter((k) => o![k] !== undefined && o![k] !== "");
    const name = (o.name as string | undefined) ?? "";
    if (name !== "" && names.has(name)) throw new CodedError("bad_data", `found multiple remote write configs with job name ${JSON.stringify(name)}`);
    if (urls.has(url)) throw new CodedError("bad_data", `duplicate remote write configs are not allowed, found duplicate for URL: ${url}`);
    names.add(name); urls.add(url);
    out.push({
      url,
      name: name || url.replace(/^https?:\/\//, ""),
      remoteTimeout: (o.remote_timeout as number) || 30_000,
      headers,
      writeRelabelConfigs: relabels,
      queue,
      auth: {
        basicAuth: ba ? { username: ba.username ?? "", password: ba.password ?? "", passwordFile: ba.password_file ?? "" } : null,
        authorization: az
          ? { type: az.type || "Bearer", credentials: az.credentials ?? "", credentialsFile: az.credentials_file ?? "" }
          : bearer || bearerFile ? { type: "Bearer", credentials: bearer, credentialsFile: bearerFile } : null,
        unsupported,
      },
    });
  });
  return out;
}

// ---- the queue ----

/** The part of fetch the queue needs (the agent passes globalThis.fetch, with auth added). */
export type WriteFetch = (url: string, init: { method: "POST"; headers: Record<string, string>; body: Uint8Array; signal: AbortSignal }) =>
  Promise<{ status: number; statusText?: string; headers?: { get(name: string): string | null }; text?: () => Promise<string> }>;

/** prometheus_remote_storage_* values of one queue. */
export interface QueueMetrics {
  samplesTotal: number;
  samplesFailed: number;
  samplesRetried: number;
  /** Dropped because the queue was full (the oldest go first). */
  samplesDropped: number;
  samplesPending: number;
  requests: number;
  requestFailures: number;
  bytesSent: number;
  /** Seconds: newest sample timestamp handed to the queue / acknowledged by the receiver. */
  highestTimestamp: number;
  highestSentTimestamp: number;
  sendSeconds: { sum: number; count: number };
}

interface Pending { labels: Labels; t: number; v: number; stale: boolean }

export class RemoteWriteQueue {
  readonly metrics: QueueMetrics = {
    samplesTotal: 0, samplesFailed: 0, samplesRetried: 0, samplesDropped: 0, samplesPending: 0,
    requests: 0, requestFailures: 0, bytesSent: 0, highestTimestamp: 0, highestSentTimestamp: 0, sendSeconds: { sum: 0, count: 0 },
  };
  readonly limit: number;
  private buf: Pending[] = [];
  private head = 0;
  /** The send loop waiting for anything (empty queue) or for a full batch (partial batch). */
  private wake: (() => void) | null = null;
  private wakeFull: (() => void) | null = null;
  private readonly stopCtl = new AbortController();
  private loop: Promise<void> | null = null;
  private draining = false;

  constructor(
    readonly cfg: RemoteWriteConfig,
    private readonly fetch: WriteFetch,
    private readonly opts: { warn?: (msg: string, kv: Record<string, unknown>) => void; clock?: Clock } = {},
  ) {
    this.limit = Math.max(cfg.queue.maxSamplesPerSend, cfg.queue.capacity * Math.max(1, cfg.queue.maxShards));
  }

  get pending(): number {
    return this.buf.length - this.head;
  }

  /** Queue samples (never waits). */
  push(samples: readonly Pending[]): void {
    if (samples.length === 0 || this.stopCtl.signal.aborted) return;
    for (const s of samples) {
      this.buf.push(s);
      if (s.t / 1000 > this.metrics.highestTimestamp) this.metrics.highestTimestamp = s.t / 1000;
    }
    const over = this.pending - this.limit;
    if (over > 0) {
      this.head += over;
      this.metrics.samplesDropped += over;
      this.opts.warn?.("remote write queue full: dropped the oldest samples", { remote_name: this.cfg.name, url: this.cfg.url, dropped: over });
    }
    this.compact();
    this.metrics.samplesPending = this.pending;
    this.poke(this.pending >= this.cfg.queue.maxSamplesPerSend);
  }

  private compact(): void {
    if (this.head > 4096 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
  }

  private poke(full = true): void {
    const w = this.wake;
    this.wake = null;
    w?.();
    if (full) {
      const f = this.wakeFull;
      this.wakeFull = null;
      f?.();
    }
  }

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Stop: try to send what is queued for up to `flushMs` (Prometheus' flush deadline), then abandon
   * the rest (counted as failed).
   */
  async stop(flushMs = 0): Promise<void> {
    this.draining = true;
    this.poke();
    if (flushMs > 0 && this.loop) {
      const clock = this.opts.clock ?? systemClock;
      const deadline = clock.now() + flushMs;
      while (this.pending > 0 && clock.now() < deadline) await clock.sleep(Math.min(50, deadline - clock.now()));
    }
    this.stopCtl.abort(new CodedError("canceled", "remote write queue stopped"));
    this.poke();
    await this.loop;
    this.metrics.samplesFailed += this.pending;
    this.head = this.buf.length;
    this.compact();
    this.metrics.samplesPending = 0;
  }

  private async run(): Promise<void> {
    const clock = this.opts.clock ?? systemClock;
    const signal = this.stopCtl.signal;
    const q = this.cfg.queue;
    while (!signal.aborted) {
      if (this.pending === 0) {
        let onStop = () => {};
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          onStop = () => resolve();
          signal.addEventListener("abort", onStop, { once: true });
        });
        signal.removeEventListener("abort", onStop);
        continue;
      }
      if (this.pending < q.maxSamplesPerSend && !this.draining) {
        // Give a partial batch until the deadline to fill up (Prometheus' batch_send_deadline).
        const wait = new Promise<void>((resolve) => { this.wakeFull = resolve; });
        const ctl = new AbortController();
        const onStop = () => ctl.abort();
        signal.addEventListener("abort", onStop, { once: true });
        await Promise.race([wait, clock.sleep(q.batchSendDeadline, ctl.signal)]);
        ctl.abort(); // ends the sleep's timer when the batch filled first
        signal.removeEventListener("abort", onStop);
        this.wakeFull = null;
        if (signal.aborted) break;
      }
      const n = Math.min(this.pending, q.maxSamplesPerSend);
      const batch = this.buf.slice(this.head, this.head + n);
      this.head += n;
      this.compact();
      this.metrics.samplesPending = this.pending;
      await this.sendBatch(batch, clock, signal);
    }
  }

  private async sendBatch(batch: Pending[], clock: Clock, signal: AbortSignal): Promise<void> {
    // Group by series, keeping time order within each.
    const bySeries = new Map<string, WriteSeries>();
    let newest = 0;
    for (const p of batch) {
      const k = labelsKey(p.labels);
      let s = bySeries.get(k);
      if (!s) bySeries.set(k, (s = { labels: p.labels, samples: [] }));
      s.samples.push({ t: p.t, v: p.v, stale: p.stale });
      if (p.t > newest) newest = p.t;
    }
    const body = snappyEncode(encodeWriteRequest([...bySeries.values()]));
    let backoff = this.cfg.queue.minBackoff;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) { this.metrics.samplesFailed += batch.length; return; }
      if (attempt > 0) this.metrics.samplesRetried += batch.length;
      const start = clock.now();
      let retryAfter: number | null = null;
      let err: string;
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(new CodedError("timeout", `remote write to ${this.cfg.url}: no answer in ${this.cfg.remoteTimeout} ms`)), this.cfg.remoteTimeout);
      const onStop = () => ctl.abort(signal.reason);
      signal.addEventListener("abort", onStop, { once: true });
      this.metrics.requests++;
      try {
        const res = await this.fetch(this.cfg.url, {
          method: "POST",
          headers: {
            ...this.cfg.headers,
            "Content-Encoding": "snappy",
            "Content-Type": "application/x-protobuf",
            "User-Agent": "thanots-rule",
            "X-Prometheus-Remote-Write-Version": "0.1.0",
          },
          body,
          signal: ctl.signal,
        });
        let text = "";
        try { text = (await res.text?.()) ?? ""; } catch { /* body lost: the status decides */ }
        if (Math.floor(res.status / 100) === 2) {
          this.metrics.samplesTotal += batch.length;
          this.metrics.bytesSent += body.length;
          this.metrics.sendSeconds.sum += (clock.now() - start) / 1000;
          this.metrics.sendSeconds.count++;
          if (newest / 1000 > this.metrics.highestSentTimestamp) this.metrics.highestSentTimestamp = newest / 1000;
          return;
        }
        err = `server returned HTTP status ${res.status}${res.statusText ? " " + res.statusText : ""}: ${text.split("\n")[0]!.slice(0, 256)}`;
        const recoverable = Math.floor(res.status / 100) === 5 || (res.status === 429 && this.cfg.queue.retryOnRateLimit);
        if (!recoverable) {
          this.metrics.requestFailures++;
          this.metrics.samplesFailed += batch.length;
          this.opts.warn?.("remote write: non-recoverable error; dropping the batch", { remote_name: this.cfg.name, url: this.cfg.url, samples: batch.length, err });
          return;
        }
        if (res.status === 429) retryAfter = retryAfterMs(res.headers?.get("Retry-After") ?? null, clock.now());
      } catch (e) {
        err = errorMessage(e);
      } finally {
        clearTimeout(timer);
        signal.removeEventListener("abort", onStop);
      }
      this.metrics.requestFailures++;
      if (signal.aborted) { this.metrics.samplesFailed += batch.length; return; }
      const wait = retryAfter ?? backoff;
      this.opts.warn?.("remote write failed; retrying", { remote_name: this.cfg.name, url: this.cfg.url, samples: batch.length, attempt: attempt + 1, backoff_ms: wait, err });
      await clock.sleep(wait, signal);
      backoff = Math.min(backoff * 2, this.cfg.queue.maxBackoff);
    }
  }
}

/** Retry-After: seconds, or an HTTP date; null when absent or unreadable (use the backoff). */
function retryAfterMs(h: string | null, now: number): number | null {
  if (h === null || h === "") return null;
  if (/^\d+$/.test(h)) return Number(h) * 1000;
  const d = Date.parse(h);
  return Number.isNaN(d) ? null : Math.max(0, d - now);
}

// ---- the storage: an Appendable for the rules engine ----

/**
 * Remote write as the rules engine's storage (stateless mode): samples are checked like a head
 * appender (a sample older than the series' newest is refused as out of order, another value at the
 * same time as a duplicate: the rules engine relies on those errors for staleness markers), and at
 * commit() handed to every queue. A series' newest timestamp is forgotten after its staleness marker.
 */
export class RemoteWriteStorage {
  private readonly last = new Map<string, { t: number; v: number; stale: boolean }>();
  private readonly addExternal: Labels;

  constructor(readonly queues: RemoteWriteQueue[], externalLabels: Labels = []) {
    this.addExternal = externalLabels;
  }

  /** External labels the series lacks, then the queue's write relabelling; null = not sent there. */
  private seriesFor(ls: Labels, cfgs: readonly RelabelConfig[]): Labels | null {
    let out: Labels = ls;
    if (this.addExternal.length > 0) {
      const have = new Set(ls.map((l) => l.name));
      const add = this.addExternal.filter((l) => !have.has(l.name));
      if (add.length > 0) out = [...ls, ...add].sort((a: Label, b: Label) => compareStrings(a.name, b.name));
    }
    return cfgs.length > 0 ? relabel(out, cfgs) : out;
  }

  appender(): { append(labels: Labels, t: number, v: number, stale?: boolean): void; commit(): Promise<void>; rollback(): void } {
    /** With the series key of its (original) labels, computed once at append. */
    let pend: (Pending & { key: string })[] = [];
    const mine = new Map<string, { t: number; v: number; stale: boolean }>();
    return {
      append: (labels, t, v, stale = false) => {
        const k = labelsKey(labels);
        const prev = mine.get(k) ?? this.last.get(k);
        if (prev) {
          if (t < prev.t) throw new CodedError("bad_data", `out of order sample: series ${seriesText(labels)} at ${t} is older than its newest at ${prev.t}`);
          if (t === prev.t) {
            const same = stale ? prev.stale : !prev.stale && (Object.is(prev.v, v) || (Number.isNaN(prev.v) && Number.isNaN(v)));
            if (same) return;
            throw new CodedError("bad_data", `duplicate sample for timestamp: series ${seriesText(labels)} at ${t}`);
          }
        }
        mine.set(k, { t, v, stale });
        pend.push({ labels, t, v, stale, key: k });
      },
      commit: async () => {
        for (const [k, s] of mine) {
          if (s.stale) this.last.delete(k);
          else this.last.set(k, s);
        }
        for (const q of this.queues) {
          const out: Pending[] = [];
          const cache = new Map<string, Labels | null>();
          for (const p of pend) {
            let ls = cache.get(p.key);
            if (ls === undefined) cache.set(p.key, (ls = this.seriesFor(p.labels, q.cfg.writeRelabelConfigs)));
            if (ls !== null) out.push({ labels: ls, t: p.t, v: p.v, stale: p.stale });
          }
          q.push(out);
        }
        pend = [];
        mine.clear();
      },
      rollback: () => { pend = []; mine.clear(); },
    };
  }
}

function seriesText(ls: Labels): string {
  return "{" + ls.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(", ") + "}";
}
