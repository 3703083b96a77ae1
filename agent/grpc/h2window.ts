// A shim in front of Bun's node:http2 server. It makes the server honour a client that raises
// SETTINGS_INITIAL_WINDOW_SIZE while streams are open. grpc-go does that, and so every Go Thanos
// querier does.
//
// The bug (Bun 1.4.5):
// - RFC 9113 §6.9.2 says a change of SETTINGS_INITIAL_WINDOW_SIZE adjusts the send window of every open
//   stream by the difference.
// - Bun does not. It applies the new value to streams opened later, and to open streams only in some
//   states, by setting rather than adding.
// - grpc-go, with the default dial options the Thanos querier uses, measures the bandwidth-delay product
//   of a connection and raises its windows with a SETTINGS frame. It raises the connection window with a
//   WINDOW_UPDATE, but for open streams it counts on the RFC rule.
// - After that, grpc-go credits a stream again only once a quarter of the new, larger window has
//   arrived.
// - Measured here (`SIDECAR_GO=1 npx tsx bench/sidecar.ts`, 10k series x 2 h): a Series answer to a Go
//   client hung about 1 call in 10, with both ends waiting for ever. Passing the SETTINGS frame on and
//   adding the difference on top for open streams, at times, gave credit twice. The client then reset
//   the stream with FLOW_CONTROL_ERROR.
//
// What the shim does. It sits between the TCP socket and the HTTP/2 server, and Bun never sees a change
// of the initial window while a stream is open:
// - Before any stream has opened, SETTINGS frames pass unchanged. Bun gives the value to the streams
//   opened later, which is correct.
// - Once a stream has opened, the INITIAL_WINDOW_SIZE entry is taken out of each SETTINGS frame. The
//   frame itself still goes on, so it is still acknowledged. The credit is then given as WINDOW_UPDATE
//   frames instead:
//   - for each open stream, the raise, right after the SETTINGS frame;
//   - for each stream opened later, the client's window less the one Bun believes in, right after the
//     stream's header block.
// - So Bun's window per stream is always the RFC's: the initial value it knows, plus every WINDOW_UPDATE.
// - A lowered initial window while streams are open cannot be taken back with WINDOW_UPDATE. grpc-go
//   never sends one. It passes on unchanged, and Bun then keeps its own, larger, windows.
//
// The client's frames are cut and re-emitted whole (they are small: requests, window updates, pings).
// The server's bytes pass through untouched; only their frame headers are read, to learn which streams
// ended. Used on Bun only (agent/grpc/server.ts, every gRPC listener); Node's HTTP/2 follows the RFC.

import * as net from "node:net";
import { Duplex } from "node:stream";
import type { Http2Server } from "node:http2";

const PREFACE_LEN = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
const HEADER_LEN = 9;
const DATA = 0x0, HEADERS = 0x1, RST_STREAM = 0x3, SETTINGS = 0x4, WINDOW_UPDATE = 0x8, CONTINUATION = 0x9;
const END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const DEFAULT_WINDOW = 65535;
/** A client frame larger than this is not buffered: the connection is cut (the server accepts 16 KiB frames). */
const MAX_CLIENT_FRAME = 1 << 20;

function frameOf(type: number, flags: number, stream: number, payload: Uint8Array): Uint8Array {
  const f = new Uint8Array(HEADER_LEN + payload.length);
  f[0] = payload.length >>> 16; f[1] = (payload.length >>> 8) & 0xff; f[2] = payload.length & 0xff;
  f[3] = type; f[4] = flags;
  new DataView(f.buffer).setUint32(5, stream);
  f.set(payload, HEADER_LEN);
  return f;
}

function windowUpdate(stream: number, increment: number): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint32(0, increment);
  return frameOf(WINDOW_UPDATE, 0, stream, p);
}

/** The client-to-server direction: whole frames in, whole frames out, SETTINGS rewritten as described. */
export class ClientFrames {
  private preface = PREFACE_LEN;
  private buf = new Uint8Array(0);
  /** Streams the client opened that the server has not ended. */
  readonly open = new Set<number>();
  /** The initial window the client set, and the one Bun was told. */
  clientWindow = DEFAULT_WINDOW;
  bunWindow = DEFAULT_WINDOW;
  /**
   * The highest stream id the client has opened (0: none yet). Ids only grow (RFC 9113 §5.1.1), so an
   * older one never reopens.
   */
  private lastStream = 0;
  /** A stream whose header block is still open (HEADERS without END_HEADERS): credit it at its end. */
  private headerBlock = 0;

  /** Feeds bytes from the client; returns what to pass to the server now. */
  push(b: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.preface > 0) {
      const n = Math.min(this.preface, b.length);
      out.push(b.slice(0, n));
      this.preface -= n;
      b = b.subarray(n);
    }
    let data: Uint8Array;
    if (this.buf.length === 0) data = b;
    else {
      data = new Uint8Array(this.buf.length + b.length);
      data.set(this.buf);
      data.set(b, this.buf.length);
    }
    let p = 0;
    while (data.length - p >= HEADER_LEN) {
      const len = (data[p]! << 16) | (data[p + 1]! << 8) | data[p + 2]!;
      if (len > MAX_CLIENT_FRAME) throw new Error(`HTTP/2 frame of ${len} bytes from the client`);
      if (data.length - p < HEADER_LEN + len) break;
      const type = data[p + 3]!, flags = data[p + 4]!;
      const stream = ((data[p + 5]! & 0x7f) << 24) | (data[p + 6]! << 16) | (data[p + 7]! << 8) | data[p + 8]!;
      const whole = data.slice(p, p + HEADER_LEN + len); // a copy: the socket's buffer is not ours to keep
      this.frame(type, flags, stream, whole, out);
      p += HEADER_LEN + len;
    }
    // Copied: the caller's buffer is not ours to keep.
    this.buf = p === data.length ? new Uint8Array(0) : data.slice(p);
    return out;
  }

  private frame(type: number, flags: number, stream: number, whole: Uint8Array, out: Uint8Array[]): void {
    if (type === SETTINGS && !(flags & ACK) && this.lastStream > 0) {
      const payload = whole.subarray(HEADER_LEN);
      const kept: Uint8Array[] = [];
      let raised = 0, lowered = false;
      for (let i = 0; i + 6 <= payload.length; i += 6) {
        const entry = payload.subarray(i, i + 6);
        if (((entry[0]! << 8) | entry[1]!) !== SETTINGS_INITIAL_WINDOW_SIZE) { kept.push(entry); continue; }
        const v = new DataView(entry.buffer, entry.byteOffset, 6).getUint32(2);
        if (v < this.clientWindow) { lowered = true; this.clientWindow = this.bunWindow = v; kept.push(entry); continue; }
        raised += v - this.clientWindow;
        this.clientWindow = v;
      }
      if (lowered) { out.push(whole); return; }
      const body = new Uint8Array(kept.length * 6);
      kept.forEach((e, i) => body.set(e, i * 6));
      out.push(frameOf(SETTINGS, flags, 0, body));
      if (raised > 0) for (const id of this.open) out.push(windowUpdate(id, raised));
      return;
    }
    if (type === SETTINGS && !(flags & ACK)) {
      // No stream yet: Bun applies the value to the streams to come.
      const payload = whole.subarray(HEADER_LEN);
      for (let i = 0; i + 6 <= payload.length; i += 6) {
        if (((payload[i]! << 8) | payload[i + 1]!) === SETTINGS_INITIAL_WINDOW_SIZE) {
          this.clientWindow = this.bunWindow = new DataView(payload.buffer, payload.byteOffset + i, 6).getUint32(2);
        }
      }
    }
    out.push(whole);
    if (type === HEADERS && stream > this.lastStream) {
      this.lastStream = stream;
      this.open.add(stream);
      this.headerBlock = stream;
    }
    if ((type === HEADERS || type === CONTINUATION) && flags & END_HEADERS && this.headerBlock !== 0) {
      if (this.clientWindow > this.bunWindow) out.push(windowUpdate(this.headerBlock, this.clientWindow - this.bunWindow));
      this.headerBlock = 0;
    }
    if (type === RST_STREAM) this.open.delete(stream);
  }
}

/** The server-to-client direction: reads frame headers across chunks, to see streams end. */
export class ServerFrames {
  private head = new Uint8Array(HEADER_LEN);
  private headLen = 0;
  private left = 0;

  constructor(private readonly ended: (stream: number) => void) {}

  scan(b: Uint8Array): void {
    let p = 0;
    while (p < b.length) {
      if (this.left > 0) {
        const n = Math.min(this.left, b.length - p);
        this.left -= n;
        p += n;
        continue;
      }
      const n = Math.min(HEADER_LEN - this.headLen, b.length - p);
      this.head.set(b.subarray(p, p + n), this.headLen);
      this.headLen += n;
      p += n;
      if (this.headLen < HEADER_LEN) return;
      this.headLen = 0;
      const h = this.head;
      this.left = (h[0]! << 16) | (h[1]! << 8) | h[2]!;
      const type = h[3]!, flags = h[4]!;
      const stream = ((h[5]! & 0x7f) << 24) | (h[6]! << 16) | (h[7]! << 8) | h[8]!;
      if (stream !== 0 && (type === RST_STREAM || ((type === HEADERS || type === DATA) && flags & END_STREAM))) this.ended(stream);
    }
  }
}

/**
 * Hands one connection (a TCP socket, or a TLS socket whose handshake is done) to `h2` through the
 * shim.
 */
export function attachWithWindowFix(h2: Http2Server, sock: net.Socket): void {
  sock.setNoDelay(true);
  const client = new ClientFrames();
  const server = new ServerFrames((id) => client.open.delete(id));
  const inner = new Duplex({
    read() { sock.resume(); },
    write(chunk: Uint8Array, _enc, cb) {
      server.scan(chunk);
      if (sock.write(chunk)) cb();
      else sock.once("drain", () => cb());
    },
    final(cb) { sock.end(); cb(); },
    destroy(err, cb) { sock.destroy(); cb(err); },
  });
  // What the HTTP/2 server may ask of its socket.
  Object.assign(inner, {
    remoteAddress: sock.remoteAddress, remotePort: sock.remotePort, remoteFamily: sock.remoteFamily,
    localAddress: sock.localAddress, localPort: sock.localPort, encrypted: false,
    setNoDelay: () => inner, setKeepAlive: () => inner, setTimeout: (ms: number, cb?: () => void) => { sock.setTimeout(ms, cb); return inner; },
    ref: () => inner, unref: () => inner,
  });
  sock.on("data", (d: Buffer) => {
    let parts: Uint8Array[];
    try {
      parts = client.push(d);
    } catch {
      sock.destroy(); // a frame too large to be one a gRPC client sends
      return;
    }
    let more = true;
    for (const x of parts) if (x.length) more = inner.push(x);
    if (!more) sock.pause();
  });
  sock.on("end", () => inner.push(null));
  sock.on("error", () => inner.destroy());
  sock.on("close", () => inner.destroy());
  h2.emit("connection", inner);
}

/**
 * Listens on host:port and hands every connection to `h2` through the shim. The result is the plain
 * net.Server (close() stops accepting; open connections end with their HTTP/2 sessions).
 */
export async function listenWithWindowFix(h2: Http2Server, host: string, port: number): Promise<net.Server> {
  const tcp = net.createServer((sock) => attachWithWindowFix(h2, sock));
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, host, () => { tcp.off("error", reject); resolve(); });
  });
  return tcp;
}
