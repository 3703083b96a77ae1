// The HTTP/2 connection machinery (RFC 9113) both our gRPC server (h2server.ts) and client
// (h2client.ts) are built on: framing, HPACK header blocks (shared/h2/hpack.ts), flow control both ways,
// resets, PING, SETTINGS and GOAWAY. What differs by role (who opens streams, what a header block
// means, what ends a stream) is the subclass's.
//
// Flow control. Sending: a write is framed (one copy of the caller's bytes) as far as the connection
// and stream windows allow, in one socket write; the rest waits for WINDOW_UPDATE or a raised
// SETTINGS_INITIAL_WINDOW_SIZE, which moves every open stream's window by the difference (§6.9.2).
// Receiving: the connection window is credited as data arrives, a stream's as its reader takes the
// data, so a stream buffers at most its window.
//
// Bad input: a malformed frame or header block ends the connection with GOAWAY and the error code the
// RFC names (every stream on it aborted); a bad stream-level frame resets that stream only.

import type { Socket } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeHeaders, HeaderListTooLarge, HpackDecoder, type HeaderField, HpackError } from "../../shared/h2/hpack.ts";

export const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
const HEADER_LEN = 9;
export const DATA = 0x0, HEADERS = 0x1, PRIORITY = 0x2, RST_STREAM = 0x3, SETTINGS = 0x4, PUSH_PROMISE = 0x5, PING = 0x6,
  GOAWAY = 0x7, WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;
export const END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY_FLAG = 0x20;
// Error codes (§7).
export const NO_ERROR = 0x0, PROTOCOL_ERROR = 0x1, INTERNAL_ERROR = 0x2, FLOW_CONTROL_ERROR = 0x3, STREAM_CLOSED = 0x5,
  FRAME_SIZE_ERROR = 0x6, REFUSED_STREAM = 0x7, CANCEL = 0x8, COMPRESSION_ERROR = 0x9, ENHANCE_YOUR_CALM = 0xb;
// Settings (§6.5.2).
export const S_ENABLE_PUSH = 0x2, S_MAX_CONCURRENT_STREAMS = 0x3, S_INITIAL_WINDOW_SIZE = 0x4, S_MAX_FRAME_SIZE = 0x5,
  S_MAX_HEADER_LIST_SIZE = 0x6;

const MAX_WINDOW = 0x7fffffff;
export const DEFAULT_WINDOW = 65535;
/** The largest frame we accept (the default SETTINGS_MAX_FRAME_SIZE; we never raise it). */
const OUR_MAX_FRAME = 16384;
/** A header block (HEADERS + CONTINUATION) larger than this ends the connection. */
const MAX_HEADER_BLOCK = 256 << 10;
export const MAX_HEADER_LIST = 64 << 10;
// DATA is framed into buffers from a small pool, returned when the socket has written them: a broad
// Series answer (28 MB) otherwise leaves its whole size behind as garbage, once per answer.
const POOL_BUF = (256 << 10) + 32 * HEADER_LEN;
const POOL_MAX = 16;
const framePool: Uint8Array[] = [];

export class StreamError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}
export class ConnError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

export function settingsPayload(entries: [number, number][]): Uint8Array {
  const s = new Uint8Array(6 * entries.length);
  const dv = new DataView(s.buffer);
  entries.forEach(([k, v], i) => { dv.setUint16(6 * i, k); dv.setUint32(6 * i + 2, v); });
  return s;
}

interface Pending { data: Uint8Array; off: number; resolve: (ok: boolean) => void }

/** One stream: its body as it arrives (read as an async iterable), and what we send on it. */
export class H2Stream {
  readonly abort = new AbortController();
  sendWindow: number;
  recvWindow: number;
  private recvConsumed = 0;
  private chunks: Uint8Array[] = [];
  private waiter: (() => void) | null = null;
  remoteEnded = false;
  pending: Pending[] = [];
  /** undefined: not ended; null: end without trailers (an empty DATA with END_STREAM). */
  endWith: HeaderField[] | null | undefined = undefined;
  localEnded = false;
  closed = false;

  constructor(readonly id: number, protected readonly session: H2Session) {
    this.sendWindow = session.peerInitialWindow;
    this.recvWindow = session.streamWindow;
  }

  /** The data received, as the peer sent it; reading credits the peer's window. */
  readBody(): AsyncIterable<Uint8Array> {
    // return/throw: the reader stopped early (Connect's pipelines need both): the peer is told to stop.
    const it: AsyncIterableIterator<Uint8Array> = {
      next: () => this.read(),
      return: () => { this.stopReading(); return Promise.resolve({ value: undefined, done: true }); },
      throw: (e?: unknown) => { this.stopReading(); return Promise.reject(e); },
      [Symbol.asyncIterator]: () => it,
    };
    return { [Symbol.asyncIterator]: () => it };
  }

  private stopReading(): void {
    if (!this.remoteEnded && !this.closed) this.session.reset(this, CANCEL, new ConnectError("the reader stopped", Code.Canceled));
  }

  private async read(): Promise<IteratorResult<Uint8Array>> {
    for (;;) {
      const c = this.chunks.shift();
      if (c !== undefined) {
        this.consumed(c.length);
        return { value: c, done: false };
      }
      if (this.remoteEnded) return { value: undefined, done: true };
      if (this.closed) throw this.abort.signal.reason ?? new ConnectError("HTTP/2 stream closed", Code.Canceled);
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
  }

  private consumed(n: number): void {
    this.recvConsumed += n;
    if (this.remoteEnded || this.closed || this.recvConsumed < this.session.streamWindow / 2) return;
    this.session.windowUpdate(this.id, this.recvConsumed);
    this.recvWindow += this.recvConsumed;
    this.recvConsumed = 0;
  }

  /** Incoming DATA (already counted against recvWindow). */
  push(data: Uint8Array, end: boolean): void {
    if (data.length > 0) this.chunks.push(data);
    if (end) this.remoteEnded = true;
    this.wake();
  }

  protected wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** Queues data (see H2Response.write). */
  send(data: Uint8Array): Promise<boolean> {
    if (this.closed || this.endWith !== undefined) return Promise.resolve(false);
    if (data.length === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      this.pending.push({ data, off: 0, resolve });
      this.session.flush(this);
    });
  }

  /** Ends our side after the data queued, with trailers when given. */
  finish(trailers?: HeaderField[]): void {
    if (this.closed || this.endWith !== undefined) return;
    this.endWith = trailers ?? null;
    this.session.flush(this);
  }

  /** The stream is gone (ended, reset either way, or connection lost): wake readers and writers, abort. */
  close(reason: unknown): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending) p.resolve(false);
    this.pending = [];
    if (!this.abort.signal.aborted) this.abort.abort(reason);
    this.wake();
  }
}

export interface H2SessionOptions {
  /** Called with a connection-level error (protocol violation, socket error), for logs. */
  onError?(err: Error): void;
}

export abstract class H2Session {
  readonly remote: string;
  peerInitialWindow = DEFAULT_WINDOW;
  /** Our initial window per stream (advertised in our SETTINGS by the subclass). */
  abstract readonly streamWindow: number;
  protected peerMaxFrame = 16384;
  private connWindow = DEFAULT_WINDOW;
  private connRecv: number;
  protected readonly streams = new Map<number, H2Stream>();
  /** Streams with data or an end waiting for window. */
  private readonly waiting = new Set<H2Stream>();
  /** The highest stream id opened on this connection (by either side). */
  protected lastStreamId = 0;
  private readonly decoder = new HpackDecoder();
  private block: { id: number; flags: number; parts: Uint8Array[]; size: number } | null = null;
  private inbuf: Uint8Array[] = [];
  private inbufLen = 0;
  private need = 0;
  /** Bytes of the client preface still to check (servers only). */
  protected prefaceLeft = 0;
  private blocked = false;
  private drainWaiters: ((ok: boolean) => void)[] = [];
  protected dead = false;

  constructor(protected readonly sock: Socket, private readonly connWindowSize: number, protected readonly opts: H2SessionOptions = {}) {
    this.remote = `${sock.remoteAddress ?? "?"}:${sock.remotePort ?? "?"}`;
    this.connRecv = connWindowSize;
    sock.setNoDelay?.(true);
    sock.on("data", (chunk: Uint8Array) => this.onData(chunk));
    sock.on("drain", () => this.onDrain());
    sock.on("error", (e: Error) => { this.opts.onError?.(new Error(`HTTP/2 connection with ${this.remote}: ${e.message}`)); this.teardown(e); });
    sock.on("close", () => this.teardown(undefined));
  }

  /** Our settings and connection window: the first frames we send (after the client preface, for clients). */
  protected start(settings: [number, number][]): void {
    this.frame(SETTINGS, 0, 0, settingsPayload(settings));
    if (this.connWindowSize > DEFAULT_WINDOW) this.windowUpdate(0, this.connWindowSize - DEFAULT_WINDOW);
  }

  /** A header block arrived complete on stream `id` (fields null: above our header list limit). */
  protected abstract onHeaderBlock(id: number, flags: number, fields: HeaderField[] | null): void;
  /** Our side of `s` has ended (its END_STREAM sent). */
  protected abstract onLocalEnd(s: H2Stream): void;
  /** The peer sent GOAWAY. */
  protected abstract onGoAway(lastStreamId: number, code: number): void;

  get isDead(): boolean { return this.dead; }

  // ---- output

  /** `written`: called once the socket is done with `buf` (it may then be reused). */
  protected write(buf: Uint8Array, written?: () => void): void {
    if (this.dead) return;
    if (!(written ? this.sock.write(buf, written) : this.sock.write(buf))) this.blocked = true;
  }

  protected frame(type: number, flags: number, id: number, payload: Uint8Array): void {
    const f = new Uint8Array(HEADER_LEN + payload.length);
    f[0] = payload.length >>> 16; f[1] = (payload.length >>> 8) & 0xff; f[2] = payload.length & 0xff;
    f[3] = type; f[4] = flags;
    f[5] = (id >>> 24) & 0x7f; f[6] = (id >>> 16) & 0xff; f[7] = (id >>> 8) & 0xff; f[8] = id & 0xff;
    f.set(payload, HEADER_LEN);
    this.write(f);
  }

  windowUpdate(id: number, increment: number): void {
    const p = new Uint8Array(4);
    new DataView(p.buffer).setUint32(0, increment);
    this.frame(WINDOW_UPDATE, 0, id, p);
  }

  protected rst(id: number, code: number): void {
    const p = new Uint8Array(4);
    new DataView(p.buffer).setUint32(0, code);
    this.frame(RST_STREAM, 0, id, p);
  }

  sendHeaders(id: number, fields: HeaderField[], endStream: boolean): void {
    const block = encodeHeaders(fields);
    const max = this.peerMaxFrame;
    if (block.length <= max) {
      this.frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), id, block);
      return;
    }
    this.frame(HEADERS, endStream ? END_STREAM : 0, id, block.subarray(0, max));
    for (let off = max; off < block.length; off += max) {
      const end = Math.min(off + max, block.length);
      this.frame(CONTINUATION, end === block.length ? END_HEADERS : 0, id, block.subarray(off, end));
    }
  }

  /** Sends what the windows allow of `s`'s queued data, then its end once the queue is empty. */
  flush(s: H2Stream): void {
    if (this.dead || s.closed) return;
    if (s.pending.length > 0) {
      const allowed = Math.min(this.connWindow, s.sendWindow);
      let queued = 0;
      for (const p of s.pending) queued += p.data.length - p.off;
      const n = Math.min(allowed, queued);
      if (n > 0) {
        const max = this.peerMaxFrame;
        const size = n + Math.ceil(n / max) * HEADER_LEN;
        const pooled = size <= POOL_BUF ? framePool.pop() ?? new Uint8Array(POOL_BUF) : null;
        const out = pooled ?? new Uint8Array(size);
        const done: ((ok: boolean) => void)[] = [];
        let o = 0, left = n, fLeft = 0;
        while (left > 0) {
          if (fLeft === 0) {
            const len = Math.min(max, left);
            out[o] = len >>> 16; out[o + 1] = (len >>> 8) & 0xff; out[o + 2] = len & 0xff;
            out[o + 3] = DATA; out[o + 4] = 0;
            out[o + 5] = (s.id >>> 24) & 0x7f; out[o + 6] = (s.id >>> 16) & 0xff; out[o + 7] = (s.id >>> 8) & 0xff; out[o + 8] = s.id & 0xff;
            o += HEADER_LEN;
            fLeft = len;
          }
          const p = s.pending[0]!;
          const take = Math.min(fLeft, p.data.length - p.off);
          out.set(p.data.subarray(p.off, p.off + take), o);
          o += take; p.off += take; fLeft -= take; left -= take;
          if (p.off === p.data.length) { s.pending.shift(); done.push(p.resolve); }
        }
        this.connWindow -= n;
        s.sendWindow -= n;
        if (pooled === null) this.write(out);
        else this.write(out.subarray(0, size), () => { if (framePool.length < POOL_MAX) framePool.push(pooled); });
        if (this.blocked) this.drainWaiters.push(...done);
        else for (const r of done) r(true);
      }
    }
    if (s.pending.length > 0) { this.waiting.add(s); return; }
    this.waiting.delete(s);
    if (s.endWith !== undefined && !s.localEnded) {
      s.localEnded = true;
      if (s.endWith === null) this.frame(DATA, END_STREAM, s.id, new Uint8Array(0));
      else this.sendHeaders(s.id, s.endWith, true);
      this.onLocalEnd(s);
    }
  }

  private flushWaiting(): void {
    for (const s of [...this.waiting]) {
      if (this.connWindow <= 0) break;
      this.flush(s);
    }
  }

  private onDrain(): void {
    this.blocked = false;
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f(true); // each resumes its writer later (a promise), not here
  }

  /** Drops `s` from the connection and closes it with `reason`. */
  protected forget(s: H2Stream, reason: unknown): void {
    this.streams.delete(s.id);
    this.waiting.delete(s);
    s.close(reason ?? new ConnectError("HTTP/2 stream closed", Code.Canceled));
  }

  /** Resets `s` with `code` and drops it. */
  reset(s: H2Stream, code: number, reason: unknown): void {
    if (!s.closed && !this.dead) this.rst(s.id, code);
    this.forget(s, reason);
  }

  // ---- input

  private onData(chunk: Uint8Array): void {
    if (this.dead) return;
    let buf = chunk;
    if (this.inbufLen > 0) {
      this.inbuf.push(chunk);
      this.inbufLen += chunk.length;
      if (this.inbufLen < this.need) return; // a frame arriving in pieces: joined once it is whole
      buf = new Uint8Array(this.inbufLen);
      let o = 0;
      for (const c of this.inbuf) { buf.set(c, o); o += c.length; }
      this.inbuf = [];
      this.inbufLen = 0;
    }
    let off = 0;
    try {
      if (this.prefaceLeft > 0) {
        const start = PREFACE.length - this.prefaceLeft;
        const n = Math.min(this.prefaceLeft, buf.length);
        for (let i = 0; i < n; i++) {
          if (buf[i] !== PREFACE[start + i]) throw new ConnError(PROTOCOL_ERROR, "not an HTTP/2 connection preface (this port speaks gRPC over HTTP/2)");
        }
        this.prefaceLeft -= n;
        off = n;
      }
      this.need = HEADER_LEN;
      while (!this.dead && buf.length - off >= HEADER_LEN) {
        const len = (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!;
        if (len > OUR_MAX_FRAME) throw new ConnError(FRAME_SIZE_ERROR, `frame of ${len} bytes, above SETTINGS_MAX_FRAME_SIZE ${OUR_MAX_FRAME}`);
        if (buf.length - off < HEADER_LEN + len) { this.need = HEADER_LEN + len; break; }
        const type = buf[off + 3]!, flags = buf[off + 4]!;
        const id = ((buf[off + 5]! & 0x7f) << 24 | buf[off + 6]! << 16 | buf[off + 7]! << 8 | buf[off + 8]!) >>> 0;
        const payload = buf.subarray(off + HEADER_LEN, off + HEADER_LEN + len);
        off += HEADER_LEN + len;
        this.onFrame(type, flags, id, payload);
      }
    } catch (e) {
      if (e instanceof ConnError) this.goAway(e.code, e.message);
      else this.goAway(INTERNAL_ERROR, `internal error: ${(e as Error).message}`);
      return;
    }
    if (off < buf.length && !this.dead) {
      this.inbuf = [buf.slice(off)];
      this.inbufLen = buf.length - off;
    }
  }

  private onFrame(type: number, flags: number, id: number, p: Uint8Array): void {
    if (this.block !== null && type !== CONTINUATION) throw new ConnError(PROTOCOL_ERROR, `frame type ${type} inside a header block of stream ${this.block.id}`);
    try {
      switch (type) {
        case DATA: return this.onDataFrame(flags, id, p);
        case HEADERS: return this.onHeaders(flags, id, p);
        case CONTINUATION: return this.onContinuation(flags, id, p);
        case PRIORITY:
          if (id === 0) throw new ConnError(PROTOCOL_ERROR, "PRIORITY on stream 0");
          if (p.length !== 5) throw new StreamError(FRAME_SIZE_ERROR, "PRIORITY frame not 5 bytes");
          return;
        case RST_STREAM: return this.onRst(id, p);
        case SETTINGS: return this.onSettings(flags, id, p);
        case PUSH_PROMISE: throw new ConnError(PROTOCOL_ERROR, "PUSH_PROMISE, which we disabled");
        case PING:
          if (id !== 0) throw new ConnError(PROTOCOL_ERROR, "PING on a stream");
          if (p.length !== 8) throw new ConnError(FRAME_SIZE_ERROR, "PING frame not 8 bytes");
          if (!(flags & ACK)) this.frame(PING, ACK, 0, p);
          return;
        case GOAWAY: {
          if (id !== 0) throw new ConnError(PROTOCOL_ERROR, "GOAWAY on a stream");
          if (p.length < 8) throw new ConnError(FRAME_SIZE_ERROR, "GOAWAY frame shorter than 8 bytes");
          const dv = new DataView(p.buffer, p.byteOffset, 8);
          return this.onGoAway(dv.getUint32(0) & MAX_WINDOW, dv.getUint32(4));
        }
        case WINDOW_UPDATE: return this.onWindowUpdate(id, p);
        default: return; // unknown frame types are ignored (§4.1)
      }
    } catch (e) {
      if (!(e instanceof StreamError)) throw e;
      const s = this.streams.get(id);
      this.rst(id, e.code);
      if (s) this.forget(s, new ConnectError(`HTTP/2 stream ${id} with ${this.remote}: ${e.message}`, Code.Internal));
    }
  }

  private stripPadding(flags: number, p: Uint8Array, what: string): { off: number; end: number } {
    if (!(flags & PADDED)) return { off: 0, end: p.length };
    if (p.length < 1) throw new ConnError(FRAME_SIZE_ERROR, `padded ${what} frame without a pad length`);
    const pad = p[0]!;
    if (pad >= p.length) throw new ConnError(PROTOCOL_ERROR, `${what} padding of ${pad} bytes longer than the frame`);
    return { off: 1, end: p.length - pad };
  }

  private onDataFrame(flags: number, id: number, p: Uint8Array): void {
    if (id === 0) throw new ConnError(PROTOCOL_ERROR, "DATA on stream 0");
    // Connection flow control counts the whole frame, padding included; credited on receipt.
    this.connRecv -= p.length;
    if (this.connRecv < 0) throw new ConnError(FLOW_CONTROL_ERROR, "the peer overran the connection window");
    if (this.connRecv < this.connWindowSize / 2) {
      this.windowUpdate(0, this.connWindowSize - this.connRecv);
      this.connRecv = this.connWindowSize;
    }
    const { off, end } = this.stripPadding(flags, p, "DATA");
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStreamId) throw new ConnError(PROTOCOL_ERROR, `DATA on idle stream ${id}`);
      return; // a stream we closed: frames in flight are ignored (§5.1)
    }
    if (s.remoteEnded) throw new StreamError(STREAM_CLOSED, "DATA after the end of the stream");
    s.recvWindow -= p.length;
    if (s.recvWindow < 0) throw new StreamError(FLOW_CONTROL_ERROR, "the peer overran the stream window");
    const pad = p.length - (end - off);
    if (pad > 0) s.recvWindow += pad; // padding is never read: credit it back with the data
    const ended = (flags & END_STREAM) !== 0;
    s.push(p.slice(off, end), ended);
    if (ended) this.onRemoteEnd(s);
  }

  /** The peer ended its side of `s` (END_STREAM on DATA or trailers). */
  protected onRemoteEnd(_s: H2Stream): void {}

  private onHeaders(flags: number, id: number, p: Uint8Array): void {
    if (id === 0) throw new ConnError(PROTOCOL_ERROR, "HEADERS on stream 0");
    let { off, end } = this.stripPadding(flags, p, "HEADERS");
    if (flags & PRIORITY_FLAG) off += 5;
    if (off > end) throw new ConnError(FRAME_SIZE_ERROR, "HEADERS frame shorter than its priority fields");
    const frag = p.subarray(off, end);
    if (flags & END_HEADERS) return this.decodeBlock(id, flags, frag);
    this.block = { id, flags, parts: [frag.slice()], size: frag.length };
  }

  private onContinuation(flags: number, id: number, p: Uint8Array): void {
    const b = this.block;
    if (b === null || b.id !== id) throw new ConnError(PROTOCOL_ERROR, `CONTINUATION on stream ${id} outside a header block`);
    b.size += p.length;
    if (b.size > MAX_HEADER_BLOCK) throw new ConnError(ENHANCE_YOUR_CALM, `header block of stream ${id} above ${MAX_HEADER_BLOCK} bytes`);
    b.parts.push(p.slice());
    if (!(flags & END_HEADERS)) return;
    this.block = null;
    const all = new Uint8Array(b.size);
    let o = 0;
    for (const part of b.parts) { all.set(part, o); o += part.length; }
    this.decodeBlock(id, b.flags, all);
  }

  private decodeBlock(id: number, flags: number, block: Uint8Array): void {
    let fields: HeaderField[] | null;
    try {
      fields = this.decoder.decode(block, MAX_HEADER_LIST);
    } catch (e) {
      if (!(e instanceof HeaderListTooLarge)) {
        throw new ConnError(COMPRESSION_ERROR, e instanceof HpackError ? e.message : String(e));
      }
      fields = null;
    }
    this.onHeaderBlock(id, flags, fields);
  }

  private onRst(id: number, p: Uint8Array): void {
    if (id === 0) throw new ConnError(PROTOCOL_ERROR, "RST_STREAM on stream 0");
    if (p.length !== 4) throw new ConnError(FRAME_SIZE_ERROR, "RST_STREAM frame not 4 bytes");
    if (id > this.lastStreamId) throw new ConnError(PROTOCOL_ERROR, `RST_STREAM on idle stream ${id}`);
    const s = this.streams.get(id);
    if (s) this.forget(s, this.resetReason(new DataView(p.buffer, p.byteOffset, 4).getUint32(0)));
  }

  /** Why a stream the peer reset ended, as the error its reader or writer sees. */
  protected abstract resetReason(code: number): ConnectError;

  private onSettings(flags: number, id: number, p: Uint8Array): void {
    if (id !== 0) throw new ConnError(PROTOCOL_ERROR, "SETTINGS on a stream");
    if (flags & ACK) {
      if (p.length !== 0) throw new ConnError(FRAME_SIZE_ERROR, "SETTINGS ACK with a payload");
      return;
    }
    if (p.length % 6 !== 0) throw new ConnError(FRAME_SIZE_ERROR, `SETTINGS frame of ${p.length} bytes, not a multiple of 6`);
    const dv = new DataView(p.buffer, p.byteOffset, p.length);
    for (let o = 0; o < p.length; o += 6) {
      const key = dv.getUint16(o), v = dv.getUint32(o + 2);
      if (key === S_ENABLE_PUSH && v > 1) throw new ConnError(PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${v}`);
      if (key === S_INITIAL_WINDOW_SIZE) {
        if (v > MAX_WINDOW) throw new ConnError(FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${v}`);
        const delta = v - this.peerInitialWindow; // §6.9.2: every open stream's window moves by the change
        this.peerInitialWindow = v;
        for (const s of this.streams.values()) {
          s.sendWindow += delta;
          if (s.sendWindow > MAX_WINDOW) throw new ConnError(FLOW_CONTROL_ERROR, `stream ${s.id} window above 2^31-1`);
        }
      } else if (key === S_MAX_FRAME_SIZE) {
        if (v < 16384 || v > 16777215) throw new ConnError(PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${v}`);
        this.peerMaxFrame = v;
      } else {
        this.onSetting(key, v);
      }
      // HEADER_TABLE_SIZE: our encoder keeps no dynamic table, so any size suits it.
    }
    this.frame(SETTINGS, ACK, 0, new Uint8Array(0));
    this.flushWaiting();
  }

  /** What the streams of a connection that was lost (closed or failed under us) end with. */
  protected lostReason(err: unknown): ConnectError {
    return new ConnectError(`HTTP/2 connection with ${this.remote} lost${err instanceof Error ? `: ${err.message}` : ""}`, Code.Unavailable);
  }

  /** Any other setting of the peer's (MAX_CONCURRENT_STREAMS matters to clients). */
  protected onSetting(_key: number, _value: number): void {}

  private onWindowUpdate(id: number, p: Uint8Array): void {
    if (p.length !== 4) throw new ConnError(FRAME_SIZE_ERROR, "WINDOW_UPDATE frame not 4 bytes");
    const inc = new DataView(p.buffer, p.byteOffset, 4).getUint32(0) & MAX_WINDOW;
    if (id === 0) {
      if (inc === 0) throw new ConnError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0 on the connection");
      this.connWindow += inc;
      if (this.connWindow > MAX_WINDOW) throw new ConnError(FLOW_CONTROL_ERROR, "connection window above 2^31-1");
      this.flushWaiting();
      return;
    }
    const s = this.streams.get(id);
    if (s === undefined) {
      if (id > this.lastStreamId) throw new ConnError(PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      return;
    }
    if (inc === 0) throw new StreamError(PROTOCOL_ERROR, "WINDOW_UPDATE of 0");
    s.sendWindow += inc;
    if (s.sendWindow > MAX_WINDOW) throw new StreamError(FLOW_CONTROL_ERROR, "stream window above 2^31-1");
    this.flush(s);
  }

  // ---- end

  /** Sends GOAWAY with `code` and ends the connection; open streams are aborted. */
  goAway(code: number, message: string): void {
    if (this.dead) return;
    if (code !== NO_ERROR) this.opts.onError?.(new Error(`HTTP/2 connection with ${this.remote}: ${message}`));
    const debug = new TextEncoder().encode(message.slice(0, 256));
    const p = new Uint8Array(8 + debug.length);
    const dv = new DataView(p.buffer);
    dv.setUint32(0, this.lastStreamId);
    dv.setUint32(4, code);
    p.set(debug, 8);
    this.frame(GOAWAY, 0, 0, p);
    this.dead = true;
    this.sock.end();
    const t = setTimeout(() => this.sock.destroy(), 1000);
    (t as { unref?: () => void }).unref?.();
    this.teardown(new ConnectError(`HTTP/2 connection with ${this.remote} closed: ${message}`, Code.Unavailable));
  }

  protected teardown(err: unknown): void {
    this.dead = true;
    this.block = null;
    this.inbuf = [];
    this.inbufLen = 0;
    const reason = err instanceof ConnectError ? err : this.lostReason(err);
    for (const s of [...this.streams.values()]) this.forget(s, reason);
    const w = this.drainWaiters;
    this.drainWaiters = [];
    for (const f of w) f(false);
  }
}
