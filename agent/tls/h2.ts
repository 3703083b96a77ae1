// gRPC over TLS: an HTTP/2 server (the same plaintext one agent/grpc/server.ts builds) behind the TLS
// listener of server.ts; on Bun through the flow-control shim (h2window.ts) as plaintext gRPC is.
import type { Http2Server } from "node:http2";
import { attachWithWindowFix } from "../grpc/h2window.ts";
import type { Logger } from "../log.ts";
import { type ServerTlsConfig, tlsServer } from "./server.ts";

const BUN = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export interface TlsH2Listener {
  port: number;
  close(): Promise<void>;
}

export async function listenH2Tls(h2: Http2Server, host: string, port: number, cfg: ServerTlsConfig, log?: Logger): Promise<TlsH2Listener> {
  const l = tlsServer(cfg, (sock) => {
    if (BUN) attachWithWindowFix(h2, sock);
    else h2.emit("connection", sock);
  }, log);
  return { port: await l.listen(port, host), close: () => l.close() };
}
