// gRPC over TLS: an HTTP/2 server (the same plaintext one agent/grpc/server.ts builds) behind the TLS
// listener of server.ts; on Bun through the flow-control shim (h2window.ts) as plaintext gRPC is.
import type { Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { attachWithWindowFix } from "../grpc/h2window.ts";
import type { Logger } from "../log.ts";
import { type ServerTlsConfig, tlsServer } from "./server.ts";

const BUN = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

export interface TlsH2Listener {
  port: number;
  close(): Promise<void>;
  /** Check the certificate files now (tests). */
  reloadIfChanged(): boolean;
}

export async function listenH2Tls(h2: Http2Server, host: string, port: number, cfg: ServerTlsConfig, log?: Logger): Promise<TlsH2Listener> {
  const l = tlsServer(cfg, (sock) => {
    if (BUN) attachWithWindowFix(h2, sock);
    else h2.emit("connection", sock);
  }, log);
  await new Promise<void>((resolve, reject) => {
    l.server.once("error", reject);
    l.server.listen(port, host, () => { l.server.off("error", reject); resolve(); });
  });
  return { port: (l.server.address() as AddressInfo).port, close: () => l.close(), reloadIfChanged: l.reloadIfChanged };
}
