// A minimal HTTP/1.1 POST client on Bun's TCP sockets, for the sidecar's remote read only.
//
// Why: Prometheus flushes its streamed remote-read answer once per series, so a 10 MB answer arrives as
// thousands of small HTTP chunks, in small reads whenever Prometheus is the slower side (it is for most
// queries: a window starting inside a chunk makes it re-encode that chunk). Bun's fetch pays per read:
// `bun bench/rrclient.ts` (10 000 series, remote read + frame split + CRC) measured 92 ms of CPU per
// call with fetch and 77 ms here for such a window, with 8-12 % less wall time; for a window over whole
// chunks (Prometheus faster, larger reads) fetch used ~8 % less CPU but more wall time. The sidecar's
// CPU per Series call is the price of every query, and the first case is the common one.
//
// Scope, on purpose: plain http:// (https://, any other URL, and any URL an http_proxy applies to go
// through fetch; credentials in the URL become Basic auth, as with fetch), one request per
// connection (`Connection: close`: nothing pooled, no state across calls), responses framed by
// chunked transfer coding, Content-Length, or the connection's end. The body comes out as one piece
// per network read (the payload of every HTTP chunk in it, joined), in buffers owned by the caller.
// Flow control: past HIGH_WATER unread bytes the socket is paused (TCP pushes back on Prometheus) and
// resumed when the reader has drained to LOW_WATER, so memory stays bounded whatever the reader's pace.

import type { FetchLike } from "../../shared/remote/read.ts";

/** The parts of a fetch Response that remoteRead uses. */
export interface HttpResponse {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  body: (AsyncIterable<Uint8Array> & { cancel(): Promise<void> }) | null;
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A FetchLike of the remote-read client (shared/remote/read.ts), with the richer response above. */
export type HttpPost = (url: string, init: Parameters<FetchLike>[1]) => Promise<HttpResponse>;

const HIGH_WATER = 1 << 20;
const LOW_WATER = 256 << 10;
const MAX_HEAD = 64 << 10;

interface BunSocket {
  write(d: Uint8Array | string): number;
  end(): void;
  terminate?(): void;
  pause(): void;
  resume(): void;
}

interface BunLike {
  connect(o: { hostname: string; port: number; socket: Record<string, (...a: never[]) => void> }): Promise<BunSocket>;
}

/** fetch as an HttpPost (what the raw client is measured against, and its fallback). */
export const fetchPost: HttpPost = (url, init) => fetch(url, init as RequestInit) as unknown as Promise<HttpResponse>;

/** The raw client when running on Bun with socket pause/resume, else null (use fetch). */
export function rawHttpPost(): HttpPost | null {
  const bun = (globalThis as { Bun?: BunLike }).Bun;
  if (!bun || typeof bun.connect !== "function") return null;
  return (url, init) => {
    const u = new URL(url);
    if (u.protocol !== "http:" || proxied(u)) return fetchPost(url, init);
    let headers = init.headers;
    if ((u.username || u.password) && !Object.keys(headers).some((k) => k.toLowerCase() === "authorization")) {
      // Credentials in --prometheus.url, as fetch would send them.
      const cred = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
      headers = { ...headers, Authorization: `Basic ${btoa(String.fromCharCode(...enc.encode(cred)))}` };
    }
    return new RawExchange(bun, u, { ...init, headers }).start();
  };
}

/** An HTTP proxy configured for this URL (http_proxy / HTTP_PROXY, minus no_proxy): fetch knows proxies. */
export function proxied(u: URL, env: Record<string, string | undefined> = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {}): boolean {
  if (!(env.http_proxy || env.HTTP_PROXY)) return false;
  const no = (env.no_proxy ?? env.NO_PROXY ?? "").split(",").map((x) => x.trim().toLowerCase()).filter(Boolean);
  const host = u.hostname.toLowerCase();
  return !no.some((n) => n === "*" || host === n.replace(/^\./, "") || host.endsWith(n.startsWith(".") ? n : `.${n}`));
}

const enc = new TextEncoder();
const dec = new TextDecoder();

class HttpError extends Error {}

/** One request and its response on a fresh connection. */
class RawExchange {
  private sock: BunSocket | null = null;
  private pending: Uint8Array | null; // request bytes not yet accepted by the socket
  private head: Uint8Array[] = [];
  private headLen = 0;
  private phase: "head" | "size" | "data" | "crlf" | "trailer" | "length" | "close" | "done" = "head";
  private line = ""; // a chunk-size or trailer line cut by a read
  private left = 0; // bytes left in the current chunk (data), of the CRLF after it (crlf), or of the body (length)
  private received = 0;
  private readonly pieces: Uint8Array[] = [];
  private queued = 0;
  private paused = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private resolveHead!: (r: HttpResponse) => void;
  private rejectHead!: (e: Error) => void;
  private status = 0;
  private onAbort: (() => void) | null = null;
  private readonly hdrs = new Map<string, string>();

  constructor(private readonly bun: BunLike, private readonly u: URL, private readonly init: { headers: Record<string, string>; body: Uint8Array; signal?: AbortSignal }) {
    const lines = [`POST ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, "Connection: close", `Content-Length: ${init.body.length}`];
    for (const [k, v] of Object.entries(init.headers)) {
      if (/[\r\n]/.test(k + v)) throw new TypeError(`header ${JSON.stringify(k)}: line breaks are not allowed`);
      const lk = k.toLowerCase();
      if (lk !== "host" && lk !== "connection" && lk !== "content-length") lines.push(`${k}: ${v}`);
    }
    const h = enc.encode(lines.join("\r\n") + "\r\n\r\n");
    const req = new Uint8Array(h.length + init.body.length);
    req.set(h, 0);
    req.set(init.body, h.length);
    this.pending = req;
  }

  start(): Promise<HttpResponse> {
    const signal = this.init.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const p = new Promise<HttpResponse>((res, rej) => { this.resolveHead = res; this.rejectHead = rej; });
    if (signal) {
      this.onAbort = () => this.fail(abortError(signal));
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
    this.bun.connect({
      hostname: this.u.hostname.replace(/^\[|\]$/g, ""),
      port: Number(this.u.port || 80),
      socket: {
        open: ((s: BunSocket) => { this.sock = s; this.flushRequest(); }) as never,
        drain: (() => this.flushRequest()) as never,
        data: ((_s: BunSocket, d: Uint8Array) => this.onData(d)) as never,
        end: (() => this.onClose()) as never,
        close: (() => this.onClose()) as never,
        error: ((_s: BunSocket, e: Error) => this.fail(e)) as never,
        connectError: ((_s: BunSocket, e: Error) => this.fail(e)) as never,
      },
    }).then((s) => {
      this.sock = s;
      if (this.failure) this.closeSocket();
      else this.flushRequest();
    }, (e: Error) => this.fail(e));
    return p;
  }

  private flushRequest(): void {
    if (!this.sock || !this.pending) return;
    const n = this.sock.write(this.pending);
    this.pending = n >= this.pending.length ? null : this.pending.subarray(Math.max(0, n));
  }

  private onData(d: Uint8Array): void {
    if (this.failure || this.phase === "done") return;
    try {
      if (this.phase === "head") this.readHead(d);
      else this.readBody(d, 0);
    } catch (e) {
      this.fail(e as Error);
    }
  }

  /** Collect the response head; once whole, resolve the response and feed the rest of the read to the body. */
  private readHead(d: Uint8Array): void {
    this.head.push(d);
    this.headLen += d.length;
    const all = this.head.length === 1 ? d : join(this.head, this.headLen);
    let end = -1;
    for (let i = 3; i < all.length; i++) {
      if (all[i] === 10 && all[i - 1] === 13 && all[i - 2] === 10 && all[i - 3] === 13) { end = i + 1; break; }
    }
    if (end < 0) {
      if (this.headLen > MAX_HEAD) throw new HttpError(`response head longer than ${MAX_HEAD} bytes`);
      this.head = [all === d ? d.slice() : all]; // the socket's buffer is not ours to keep
      return;
    }
    const lines = dec.decode(all.subarray(0, end - 4)).split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
    if (!m) throw new HttpError(`not an HTTP/1.x response: ${JSON.stringify((lines[0] ?? "").slice(0, 100))}`);
    const status = Number(m[1]);
    const hdrs = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const c = l.indexOf(":");
      if (c <= 0) continue;
      const k = l.slice(0, c).trim().toLowerCase(), v = l.slice(c + 1).trim();
      hdrs.set(k, hdrs.has(k) ? `${hdrs.get(k)}, ${v}` : v);
    }
    const rest = all.subarray(end);
    this.head = [];
    this.headLen = 0;
    if (status >= 100 && status < 200) {
      // An interim answer (100 Continue): the real head follows.
      if (rest.length > 0) this.readHead(rest.slice());
      return;
    }
    this.status = status;
    for (const [k, v] of hdrs) this.hdrs.set(k, v);
    const te = hdrs.get("transfer-encoding");
    const cl = hdrs.get("content-length");
    if (te !== undefined) {
      if (te.toLowerCase().split(",").map((s) => s.trim()).pop() !== "chunked") throw new HttpError(`unsupported transfer-encoding ${JSON.stringify(te)}`);
      this.phase = "size";
    } else if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) throw new HttpError(`bad content-length ${JSON.stringify(cl)}`);
      this.left = Number(cl);
      this.phase = this.left === 0 ? "done" : "length";
    } else this.phase = "close";
    this.resolveHead(this.response());
    // The rest of this read is body: feed it from `all` (d may not hold the whole head).
    if (rest.length > 0) this.readBody(rest, 0);
    else if (this.phase === "done") this.finish();
  }

  /** De-chunk b[pos..] into one piece (a copy: the socket's buffer is not ours to keep). */
  private readBody(b: Uint8Array, pos: number): void {
    if (this.phase === "done") return;
    const out = new Uint8Array(b.length - pos);
    let o = 0;
    while (pos < b.length && this.phase !== "done") {
      switch (this.phase) {
        case "close":
        case "length":
        case "data": {
          const n = this.phase === "close" ? b.length - pos : Math.min(this.left, b.length - pos);
          out.set(b.subarray(pos, pos + n), o);
          o += n;
          pos += n;
          if (this.phase === "close") break;
          this.left -= n;
          if (this.left === 0) {
            if (this.phase === "length") this.phase = "done";
            else { this.phase = "crlf"; this.left = 2; }
          }
          break;
        }
        case "crlf": {
          const c = b[pos++]!;
          if (c !== (this.left === 2 ? 13 : 10)) throw new HttpError(`chunked body: no CRLF after a chunk (byte ${c} at body offset ${this.received + o})`);
          if (--this.left === 0) this.phase = "size";
          break;
        }
        case "size":
          if (this.line === "") {
            // The usual case, the whole size line in this read: parsed from the bytes.
            let n = 0, i = pos, digits = 0;
            for (; i < b.length; i++) {
              const c = b[i]!;
              const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
              if (v < 0) break;
              n = n * 16 + v;
              digits++;
            }
            if (i + 1 < b.length && b[i] === 13 && b[i + 1] === 10 && digits > 0 && digits <= 12) {
              pos = i + 2;
              if (n === 0) this.phase = "trailer";
              else { this.phase = "data"; this.left = n; }
              break;
            }
          }
          pos = this.textLine(b, pos);
          break;
        case "trailer":
          pos = this.textLine(b, pos);
          break;
      }
    }
    if (o > 0) {
      this.received += o;
      this.pieces.push(o === out.length ? out : out.subarray(0, o));
      this.queued += o;
      if (this.queued > HIGH_WATER && !this.paused && this.sock) { this.paused = true; this.sock.pause(); }
    }
    if (this.phase === "done") this.finish();
    this.notify();
  }

  /** A chunk-size or trailer line as text (cut across reads, or with extensions); returns the new pos. */
  private textLine(b: Uint8Array, pos: number): number {
    let i = pos;
    while (i < b.length && b[i] !== 10) i++;
    if (this.line.length + (i - pos) > 4096) throw new HttpError("chunked body: line longer than 4096 bytes");
    this.line += dec.decode(b.subarray(pos, i));
    if (i >= b.length) return i;
    const line = this.line.replace(/\r$/, "");
    this.line = "";
    if (this.phase === "trailer") { if (line === "") this.phase = "done"; return i + 1; }
    const hex = line.split(";")[0]!.trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new HttpError(`chunked body: bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
    const n = parseInt(hex, 16);
    if (n === 0) this.phase = "trailer";
    else { this.phase = "data"; this.left = n; }
    return i + 1;
  }

  private finish(): void {
    this.phase = "done";
    this.end();
    this.notify();
  }

  private onClose(): void {
    if (this.phase === "done" || this.failure) return;
    if (this.phase === "close") { this.finish(); return; }
    this.fail(new HttpError(this.phase !== "head"
      ? `connection closed inside the body (${this.received} bytes received)`
      : "connection closed before a response"));
  }

  private fail(e: Error): void {
    if (this.failure || this.phase === "done") return;
    this.failure = e;
    this.end();
    if (this.phase === "head") this.rejectHead(e);
    this.notify();
  }

  /** The exchange is over (done or failed): release the socket and the caller's signal. */
  private end(): void {
    if (this.onAbort) this.init.signal?.removeEventListener("abort", this.onAbort);
    this.onAbort = null;
    this.closeSocket();
  }

  private closeSocket(): void {
    const s = this.sock;
    if (!s) return;
    try { s.terminate ? s.terminate() : s.end(); } catch { /* already closed */ }
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** The next piece, or null at the end; throws the failure. */
  private async next(): Promise<Uint8Array | null> {
    for (;;) {
      const p = this.pieces.shift();
      if (p) {
        this.queued -= p.length;
        if (this.paused && this.queued <= LOW_WATER && this.sock) { this.paused = false; this.sock.resume(); }
        return p;
      }
      if (this.failure) throw this.failure;
      if (this.phase === "done") return null;
      await new Promise<void>((r) => { this.wake = r; });
    }
  }

  private response(): HttpResponse {
    const self = this;
    const body = {
      async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
        try {
          for (;;) {
            const p = await self.next();
            if (p === null) return;
            yield p;
          }
        } finally {
          if (self.phase !== "done" && !self.failure) self.fail(new HttpError("body canceled by the reader"));
        }
      },
      cancel: async () => { if (self.phase !== "done") self.fail(new HttpError("body canceled by the reader")); },
    };
    const all = async (): Promise<Uint8Array> => {
      const parts: Uint8Array[] = [];
      let n = 0;
      for (let p = await self.next(); p !== null; p = await self.next()) { parts.push(p); n += p.length; }
      return join(parts, n);
    };
    return {
      ok: this.status >= 200 && this.status < 300,
      status: this.status,
      headers: { get: (k: string) => this.hdrs.get(k.toLowerCase()) ?? null },
      body,
      text: async () => dec.decode(await all()),
      arrayBuffer: async () => { const b = await all(); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer; },
    };
  }
}

function abortError(signal: AbortSignal): Error {
  const r = signal.reason;
  return r instanceof Error ? r : new Error("aborted");
}

function join(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1 && parts[0]!.length === n) return parts[0]!;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
