// Our HTTP/2 client, for gRPC calls to stores (ours and Go Thanos'): a Connect `UniversalClientFn` over
// one HTTP/2 connection per target (h2c with prior knowledge, or TLS with ALPN h2), made on first use,
// made again after it fails or the server sends GOAWAY, and closed after a while without calls. The
// connection machinery is h2conn.ts.
//
// Why not node:http2: on Bun it is a JavaScript layer over a native frame parser, and our querier read
// a store's answers over it slower than over Connect on fetch (the store bench: O+O over gRPC 1.25-1.53x
// Thanos', over Connect 0.99-1.23x). Here a DATA frame is one slice of the socket's bytes handed to the
// reader.
//
// Windows: 4 MiB per stream and 16 MiB per connection, so a store streams a broad answer without
// waiting for our credit on a local network; a stream's credit is given back as the caller reads, so a
// slow reader holds at most its window. When the server's SETTINGS_MAX_CONCURRENT_STREAMS is reached,
// calls wait for a stream to end.

import * as net from "node:net";
import * as tls from "node:tls";
import { Code, ConnectError } from "@connectrpc/connect";
import type { UniversalClientFn, UniversalClientRequest, UniversalClientResponse } from "@connectrpc/connect/protocol";
import type { HeaderField } from "../../shared/h2/hpack.ts";
import {
  CANCEL, ConnError, ENHANCE_YOUR_CALM, H2Session, type H2SessionOptions, H2Stream, NO_ERROR, PREFACE, PROTOCOL_ERROR, REFUSED_STREAM,
  S_ENABLE_PUSH, S_INITIAL_WINDOW_SIZE, S_MAX_CONCURRENT_STREAMS, StreamError, END_STREAM,
} from "./h2conn.ts";

const STREAM_WINDOW = 4 << 20;
const CONN_WINDOW = 16 << 20;
const MAX_STREAM_ID = 0x7fffffff;

class ClientStream extends H2Stream {
  status = 0;
  header = new Headers();
  readonly trailer = new Headers();
  gotHead = false;
  private headWaiters: ((err?: unknown) => void)[] = [];

  /** Resolves when the response headers arrived; rejects with the stream's end reason if it ends first. */
  head(): Promise<void> {
    if (this.gotHead) return Promise.resolve();
    if (this.closed) return Promise.reject(this.abort.signal.reason);
    return new Promise<void>((resolve, reject) => this.headWaiters.push((e) => (e === undefined ? resolve() : reject(e))));
  }

  setHead(): void {
    this.gotHead = true;
    for (const w of this.headWaiters.splice(0)) w();
  }

  override close(reason: unknown): void {
    super.close(reason);
    if (!this.gotHead) for (const w of this.headWaiters.splice(0)) w(this.abort.signal.reason ?? reason);
  }
}

/** One client connection. */
class ClientSession extends H2Session {
  readonly streamWindow = STREAM_WINDOW;
  maxStreams = Number.POSITIVE_INFINITY;
  private nextId = 1;
  goneAway = false;
  private slotWaiters: (() => void)[] = [];
  /** Called when the last open stream ends (for the idle timer). */
  onIdle: () => void = () => {};

  constructor(sock: net.Socket, opts: H2SessionOptions) {
    super(sock, CONN_WINDOW, opts);
    this.write(PREFACE);
    this.start([[S_ENABLE_PUSH, 0], [S_INITIAL_WINDOW_SIZE, STREAM_WINDOW]]);
  }

  get usable(): boolean { return !this.dead && !this.goneAway && this.nextId < MAX_STREAM_ID; }
  get active(): number { return this.streams.size; }

  /** A new stream, once the server's concurrency limit leaves room. */
  async open(signal?: AbortSignal): Promise<ClientStream> {
    while (this.streams.size >= this.maxStreams && this.usable) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    if (!this.usable) throw new ConnectError(`HTTP/2 connection with ${this.remote} is closing`, Code.Unavailable);
    const s = new ClientStream(this.nextId, this);
    this.lastStreamId = this.nextId;
    this.nextId += 2;
    this.streams.set(s.id, s);
    return s;
  }

  protected override forget(s: H2Stream, reason: unknown): void {
    const had = this.streams.has(s.id);
    super.forget(s, reason);
    if (!had) return;
    const w = this.slotWaiters.shift();
    w?.();
    if (this.streams.size === 0) this.onIdle();
  }

  protected resetReason(code: number): ConnectError {
    const why = `stream reset by ${this.remote} with HTTP/2 error code ${code}`;
    if (code === REFUSED_STREAM) return new ConnectError(why, Code.Unavailable);
    if (code === CANCEL) return new ConnectError(why, Code.Canceled);
    if (code === ENHANCE_YOUR_CALM) return new ConnectError(why, Code.ResourceExhausted);
    return new ConnectError(why, Code.Internal);
  }

  protected onGoAway(last: number, code: number): void {
    this.goneAway = true;
    // Streams the server never processed may be retried elsewhere; the others run to their end.
    for (const s of [...this.streams.values()]) {
      if (s.id > last) this.forget(s, new ConnectError(`${this.remote} is going away (HTTP/2 GOAWAY code ${code})`, Code.Unavailable));
    }
    for (const w of this.slotWaiters.splice(0)) w();
    if (this.streams.size === 0) this.goAway(NO_ERROR, "the server is going away");
  }

  protected override onSetting(key: number, value: number): void {
    if (key !== S_MAX_CONCURRENT_STREAMS) return;
    this.maxStreams = value;
    for (const w of this.slotWaiters.splice(0)) w();
  }

  protected onLocalEnd(s: H2Stream): void {
    if (s.remoteEnded) this.forget(s, undefined);
  }

  protected override onRemoteEnd(s: H2Stream): void {
    if (s.localEnded) this.forget(s, undefined);
  }

  protected override teardown(err: unknown): void {
    super.teardown(err);
    for (const w of this.slotWaiters.splice(0)) w();
  }

  protected onHeaderBlock(id: number, flags: number, fields: HeaderField[] | null): void {
    const s = this.streams.get(id) as ClientStream | undefined;
    if (s === undefined) {
      if (id > this.lastStreamId) throw new ConnError(PROTOCOL_ERROR, `HEADERS on stream ${id}, which we did not open`);
      return; // a stream we reset: in flight
    }
    if (fields === null) throw new StreamError(ENHANCE_YOUR_CALM, "response header list above 64 KiB");
    if (!s.gotHead) {
      const header = new Headers();
      let status = 0;
      for (const [name, value] of fields) {
        if (name === ":status") status = Number(value);
        else if (name.charCodeAt(0) !== 58) header.append(name, value);
      }
      if (status >= 100 && status < 200) return; // informational: the real head follows
      if (status === 0) throw new StreamError(PROTOCOL_ERROR, "response headers without :status");
      s.status = status;
      s.header = header;
      s.setHead();
    } else {
      if (!(flags & END_STREAM)) throw new StreamError(PROTOCOL_ERROR, "a second response header block without END_STREAM");
      for (const [name, value] of fields) if (name.charCodeAt(0) !== 58) s.trailer.append(name, value);
    }
    if (flags & END_STREAM) {
      s.push(new Uint8Array(0), true);
      this.onRemoteEnd(s);
    }
  }
}

export interface H2ClientOptions {
  /** TLS connect options (certificates, servername, verification), read at each new connection; plaintext when absent. */
  tls?: () => tls.ConnectionOptions;
  /** Close the connection after this long without calls; default 60 s. */
  idleMs?: number;
  onError?(err: Error): void;
}

export interface H2Client {
  fetch: UniversalClientFn;
  /** Ends the connection (calls in flight fail). */
  close(): void;
}

/** An HTTP/2 client for one target (`baseUrl`'s host and port). */
export function createH2Client(baseUrl: string, opts: H2ClientOptions = {}): H2Client {
  const u = new URL(baseUrl);
  const secure = u.protocol === "https:";
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(u.port || (secure ? 443 : 80));
  const idleMs = opts.idleMs ?? 60_000;
  let session: ClientSession | null = null;
  let connecting: Promise<ClientSession> | null = null;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const connect = (): Promise<ClientSession> => new Promise<ClientSession>((resolve, reject) => {
    const onFail = (e: Error) => reject(new ConnectError(`connecting to ${u.host}: ${e.message}`, Code.Unavailable));
    let sock: net.Socket;
    if (secure) {
      const t = opts.tls?.() ?? {};
      sock = tls.connect({ ...t, host, port, servername: t.servername ?? (net.isIP(host) ? undefined : host), ALPNProtocols: ["h2"] });
      sock.once("secureConnect", () => {
        sock.off("error", onFail);
        const alpn = (sock as tls.TLSSocket).alpnProtocol;
        if (alpn !== "h2") {
          sock.destroy();
          reject(new ConnectError(`connecting to ${u.host}: the server did not agree to HTTP/2 over TLS (ALPN ${alpn || "none"})`, Code.Unavailable));
          return;
        }
        resolve(new ClientSession(sock, { onError: opts.onError }));
      });
    } else {
      sock = net.connect({ host, port });
      sock.once("connect", () => {
        sock.off("error", onFail);
        resolve(new ClientSession(sock, { onError: opts.onError }));
      });
    }
    sock.once("error", onFail);
  });

  const get = async (): Promise<ClientSession> => {
    if (closed) throw new ConnectError(`client for ${u.host} closed`, Code.Unavailable);
    if (session?.usable) return session;
    if (connecting === null) {
      connecting = connect().then((s) => {
        session = s;
        s.onIdle = () => {
          if (idleTimer !== undefined) clearTimeout(idleTimer);
          idleTimer = setTimeout(() => { if (s.active === 0) s.goAway(NO_ERROR, "idle"); }, idleMs);
          (idleTimer as { unref?: () => void }).unref?.();
          if (!s.usable && s.active === 0) s.goAway(NO_ERROR, "replaced");
        };
        if (closed) s.goAway(NO_ERROR, "client closed");
        return s;
      }).finally(() => { connecting = null; });
    }
    return connecting;
  };

  const fetch: UniversalClientFn = async (req: UniversalClientRequest): Promise<UniversalClientResponse> => {
    const signal = req.signal;
    signal?.throwIfAborted();
    const sess = await get();
    const s = await sess.open(signal);
    const url = new URL(req.url);
    const fields: HeaderField[] = [[":method", req.method], [":scheme", secure ? "https" : "http"], [":authority", url.host], [":path", url.pathname + url.search]];
    req.header.forEach((v, k) => { fields.push([k, v]); });
    const onAbort = () => sess.reset(s, CANCEL, signal?.reason ?? new ConnectError("the call was cancelled", Code.Canceled));
    signal?.addEventListener("abort", onAbort, { once: true });
    s.abort.signal.addEventListener("abort", () => signal?.removeEventListener("abort", onAbort), { once: true });
    if (req.body === undefined) {
      s.localEnded = true;
      s.endWith = null;
      sess.sendHeaders(s.id, fields, true);
    } else {
      sess.sendHeaders(s.id, fields, false);
      const body = req.body;
      void (async () => {
        try {
          for await (const chunk of body) if (!(await s.send(chunk))) return;
          s.finish();
        } catch (e) {
          sess.reset(s, CANCEL, ConnectError.from(e));
        }
      })();
    }
    await s.head();
    return { status: s.status, header: s.header, body: s.readBody(), trailer: s.trailer };
  };

  return {
    fetch,
    close: () => {
      closed = true;
      if (idleTimer !== undefined) clearTimeout(idleTimer);
      session?.goAway(NO_ERROR, "client closed");
    },
  };
}
