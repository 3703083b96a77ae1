// Every component's HTTP port with `--http.config` (config.ts): the fetch handler wrapped with the
// config's headers, rate limit and basic auth, served over TLS when the config says so.
//
// TLS: the node:tls listener of agent/tls/server.ts (client-auth policy, reload) in front of the
// plaintext server. Under Node the HTTP server takes the TLS socket directly; under Bun, whose HTTP
// server (Bun.serve) cannot adopt a socket, each connection is piped to a Bun.serve listening on a unix
// socket in a private directory (mode 0700), so nothing plaintext is reachable from the network.

import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Listening, listenHttp } from "../http.ts";
import type { Logger } from "../log.ts";
import { tlsServer } from "../tls/server.ts";
import { WebConfigSource, withWebConfig } from "./config.ts";

type FetchFn = (r: Request) => Response | Promise<Response>;

/** listenHttp, or with `webConfigPath` (--http.config) its auth, headers, limit and TLS. */
export async function listenWeb(fetchFn: FetchFn, hostname: string, port: number, webConfigPath?: string, log?: Logger): Promise<Listening & { tls: boolean }> {
  if (!webConfigPath) return { ...(await listenHttp(fetchFn, hostname, port)), tls: false };
  const src = new WebConfigSource(webConfigPath, log);
  const wrapped = withWebConfig(fetchFn, src);
  const first = src.current();
  if (!first.tls) return { ...(await listenHttp(wrapped, hostname, port)), tls: false };
  const tlsCfg = () => src.current().tls ?? first.tls!;

  const bun = (globalThis as { Bun?: { serve(o: unknown): { stop(force?: boolean): void } } }).Bun;
  let closeInner: () => Promise<void>;
  let onSecure: (sock: net.Socket) => void;
  if (bun) {
    const dir = mkdtempSync(join(tmpdir(), "thanots-web-"));
    const unix = join(dir, "http.sock");
    const inner = bun.serve({ unix, fetch: wrapped, idleTimeout: 0 });
    onSecure = (sock) => {
      const up = net.connect(unix);
      sock.pipe(up).pipe(sock);
      const end = () => { sock.destroy(); up.destroy(); };
      sock.on("error", end); up.on("error", end);
      sock.on("close", end); up.on("close", end);
    };
    closeInner = async () => { inner.stop(true); rmSync(dir, { recursive: true, force: true }); };
  } else {
    const { createAdaptorServer } = await import("@hono/node-server");
    const inner = createAdaptorServer({ fetch: wrapped });
    onSecure = (sock) => inner.emit("connection", sock);
    closeInner = () => new Promise<void>((r) => {
      (inner as unknown as { closeAllConnections?(): void }).closeAllConnections?.();
      inner.close(() => r());
    });
  }
  const l = tlsServer(tlsCfg, onSecure, log);
  const bound = await l.listen(port, hostname);
  const sockets = new Set<net.Socket>();
  l.server.on("connection", (s: net.Socket) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  return {
    port: bound,
    tls: true,
    close: async () => {
      const closed = l.close();
      for (const s of sockets) s.destroy();
      await closed;
      await closeInner();
    },
  };
}
