// Our HTTP/2 server connection, for the gRPC listeners (plaintext h2c with prior knowledge, or behind
// our TLS listener). The connection machinery is h2conn.ts; here is what a server does with it: check
// the client preface, open a stream per request HEADERS, hand the handler a request (headers, body,
// signal) and a response (headers, data, trailers).
//
// Why not node:http2: on Bun it is a JavaScript layer over a native frame parser, and a broad Series
// answer (28 MB over 6 h of 10k series) spent 27% of the store's CPU there: ours took 260 ms where our
// core builds the answer in 147 ms and Thanos' store answers in 196 ms. Bun's server also ignored a
// client's change of SETTINGS_INITIAL_WINDOW_SIZE on open streams, which grpc-go (every Go Thanos
// querier) makes, and a shim had to rewrite the client's frames.
//
// Limits: 256 concurrent streams per connection (more are refused with REFUSED_STREAM, which gRPC
// clients retry), 64 KiB of header list (more: the stream is reset with ENHANCE_YOUR_CALM), 256 KiB of
// window per stream, 1 MiB per connection. No server push; priorities are ignored, as the RFC allows.

import type { Socket } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import type { HeaderField } from "../../shared/h2/hpack.ts";
import {
  CANCEL, ConnError, ENHANCE_YOUR_CALM, H2Session, type H2SessionOptions, H2Stream, INTERNAL_ERROR, MAX_HEADER_LIST, NO_ERROR, PREFACE,
  PROTOCOL_ERROR, REFUSED_STREAM, S_ENABLE_PUSH, S_INITIAL_WINDOW_SIZE, S_MAX_CONCURRENT_STREAMS, S_MAX_HEADER_LIST_SIZE, STREAM_CLOSED,
  StreamError, END_STREAM,
} from "./h2conn.ts";

const MAX_STREAMS = 256;
const STREAM_WINDOW = 256 << 10;
const CONN_WINDOW = 1 << 20;

export interface H2Request {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  /** Regular headers by lowercase name; a repeated header's values joined with ", ". */
  readonly headers: Record<string, string>;
  /** The request body; reading it credits the client's window. */
  readonly body: AsyncIterable<Uint8Array>;
  /** Aborted when the stream ends: answered, reset by the client, connection lost, or server closed. */
  readonly signal: AbortSignal;
  /** The connection's remote address, for logs. */
  readonly remote: string;
}

export interface H2Response {
  /** Sends the response headers (once; later calls are ignored). */
  respond(status: number, headers?: Iterable<HeaderField>): void;
  /**
   * Queues `data` on the stream (sending headers 200 first if not sent). Resolves once every byte has
   * been framed and handed to the socket, and the socket takes more: the caller may then reuse the
   * buffer, and this wait is the back-pressure. Resolves false when the stream is gone.
   */
  write(data: Uint8Array): Promise<boolean>;
  /** Ends the answer after the data queued, with trailers when given. */
  end(trailers?: Iterable<HeaderField>): void;
  readonly headersSent: boolean;
  /** Ended by us, reset, or its connection lost. */
  readonly finished: boolean;
}

export type H2Handler = (req: H2Request, res: H2Response) => void;

class ServerStream extends H2Stream implements H2Request, H2Response {
  method = ""; path = ""; authority = ""; scheme = "http";
  headers: Record<string, string> = Object.create(null) as Record<string, string>;
  headersSent = false;

  get signal(): AbortSignal { return this.abort.signal; }
  get remote(): string { return this.session.remote; }
  get finished(): boolean { return this.closed || this.endWith !== undefined; }
  get body(): AsyncIterable<Uint8Array> { return this.readBody(); }

  respond(status: number, headers?: Iterable<HeaderField>): void {
    if (this.headersSent || this.closed) return;
    this.headersSent = true;
    const fields: HeaderField[] = [[":status", String(status)]];
    if (headers) for (const h of headers) fields.push(h);
    this.session.sendHeaders(this.id, fields, false);
  }

  write(data: Uint8Array): Promise<boolean> {
    if (!this.headersSent && !this.finished) this.respond(200);
    return this.send(data);
  }

  end(trailers?: Iterable<HeaderField>): void {
    if (!this.headersSent && !this.finished) this.respond(200);
    this.finish(trailers ? [...trailers] : undefined);
  }
}

/** Serves HTTP/2 on `sock` (already connected; TLS or not) with `handler` for each request. */
export class Connection extends H2Session {
  readonly streamWindow = STREAM_WINDOW;
  private goingAway = false;

  constructor(sock: Socket, private readonly handler: H2Handler, opts: H2SessionOptions = {}) {
    super(sock, CONN_WINDOW, opts);
    this.prefaceLeft = PREFACE.length;
    this.start([[S_MAX_CONCURRENT_STREAMS, MAX_STREAMS], [S_INITIAL_WINDOW_SIZE, STREAM_WINDOW], [S_MAX_HEADER_LIST_SIZE, MAX_HEADER_LIST], [S_ENABLE_PUSH, 0]]);
  }

  /** Ends the connection: GOAWAY (no error), then the socket; open streams are cut. */
  close(): void {
    this.goAway(NO_ERROR, "server shutting down");
  }

  protected resetReason(code: number): ConnectError {
    return code === CANCEL || code === NO_ERROR
      ? new ConnectError("the client cancelled the call", Code.Canceled)
      : new ConnectError(`stream reset by the client with HTTP/2 error code ${code}`, Code.Canceled);
  }

  protected override lostReason(): ConnectError {
    return new ConnectError("the client went away", Code.Canceled);
  }

  protected onGoAway(): void {
    this.goingAway = true; // the client opens no more streams; those open run to their end
  }

  protected onLocalEnd(s: H2Stream): void {
    // The answer is complete: a client still sending is told to stop (§8.1), and the stream is done.
    if (!s.remoteEnded) this.rst(s.id, NO_ERROR);
    this.forget(s, undefined);
  }

  protected onHeaderBlock(id: number, flags: number, fields: HeaderField[] | null): void {
    const existing = this.streams.get(id);
    if (existing !== undefined) { // trailers
      if (!(flags & END_STREAM)) throw new StreamError(PROTOCOL_ERROR, "a second header block without END_STREAM");
      if (existing.remoteEnded) throw new StreamError(STREAM_CLOSED, "headers after the end of the request");
      existing.push(new Uint8Array(0), true);
      return;
    }
    if (id <= this.lastStreamId) return; // trailers of a stream we already closed
    if (id % 2 === 0) throw new ConnError(PROTOCOL_ERROR, `client opened even-numbered stream ${id}`);
    this.lastStreamId = id;
    if (fields === null) { this.rst(id, ENHANCE_YOUR_CALM); return; }
    if (this.goingAway || this.streams.size >= MAX_STREAMS) { this.rst(id, REFUSED_STREAM); return; }
    const s = new ServerStream(id, this);
    for (const [name, value] of fields) {
      if (name.charCodeAt(0) === 58 /* : */) {
        if (name === ":method") s.method = value;
        else if (name === ":path") s.path = value;
        else if (name === ":authority") s.authority = value;
        else if (name === ":scheme") s.scheme = value;
        continue;
      }
      const prev = s.headers[name];
      s.headers[name] = prev === undefined ? value : `${prev}, ${value}`;
    }
    if (s.authority === "" && s.headers["host"] !== undefined) s.authority = s.headers["host"];
    if (s.method === "" || s.path === "") { this.rst(id, PROTOCOL_ERROR); return; }
    this.streams.set(id, s);
    if (flags & END_STREAM) s.remoteEnded = true;
    try {
      this.handler(s, s);
    } catch (e) {
      this.opts.onError?.(new Error(`HTTP/2 handler for ${s.path} from ${this.remote}: ${(e as Error).message}`));
      if (!s.headersSent) { s.respond(500); s.end(); } else if (!s.finished) this.reset(s, INTERNAL_ERROR, e);
    }
  }
}
