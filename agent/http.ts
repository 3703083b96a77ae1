// Serving a fetch handler on whichever runtime the agent runs on: Bun.serve under Bun (the default),
// @hono/node-server under Node (tests under tsx). One copy for every component.

import type { BodyWriter } from "../shared/rpc/fastseries.ts";
import type { FlagSpec } from "./flags.ts";

/** Thanos' extkingpin.RegisterHTTPFlags (without the TLS config). */
export const HTTP_FLAGS: FlagSpec[] = [
  { name: "http-address", help: "Listen host:port for HTTP endpoints.", default: "0.0.0.0:10902" },
  { name: "http-grace-period", help: "Time to wait after an interrupt received for HTTP Server.", default: "2m" },
];

/** The web UI flags Thanos' compactor and `tools bucket web` share. */
export const WEB_FLAGS: FlagSpec[] = [
  { name: "web.route-prefix", help: "Prefix for API and UI endpoints. Defaults to the value of --web.external-prefix.", default: "" },
  { name: "web.external-prefix", help: "Static prefix for all HTML links and redirect URLs in the bucket web UI interface.", default: "" },
  { name: "web.prefix-header", help: "Name of HTTP request header used for dynamic prefixing of UI links and redirects (accepted; the page's links are relative).", default: "" },
  { name: "web.disable-cors", boolean: true, help: "Whether to disable CORS headers to be set by Thanos. By default Thanos sets CORS headers to be allowed by all." },
  { name: "disable-admin-operations", boolean: true, help: "Disable UI/API admin operations like marking blocks for deletion and no compaction." },
];

export interface Listening {
  port: number;
  close(): Promise<void>;
}

/** Serves a fetch handler with Bun.serve under Bun, @hono/node-server under Node. */
export async function listenHttp(fetchFn: (r: Request) => Response | Promise<Response>, hostname: string, port: number): Promise<Listening> {
  const bun = (globalThis as { Bun?: { serve(o: unknown): { port: number; stop(force?: boolean): void } } }).Bun;
  if (bun) {
    const s = bun.serve({ fetch: fetchFn, hostname, port, idleTimeout: 0 });
    return { port: s.port, close: async () => { s.stop(true); } };
  }
  const { serve } = await import("@hono/node-server");
  return await new Promise<Listening>((resolve) => {
    const s = serve({ fetch: fetchFn, hostname, port }, (info) => {
      resolve({
        port: info.port,
        close: () => new Promise<void>((r) => {
          (s as unknown as { closeAllConnections?(): void }).closeAllConnections?.();
          s.close(() => r());
        }),
      });
    });
  });
}

/**
 * Bun's `type: "direct"` ReadableStream as a fast-path body writer (shared/rpc/fastseries.ts): write()
 * copies what it is given into the response (checked by test/unit/sidecar/fastpath.test.ts), so the
 * store's output buffers are recycled, and awaiting flush() is the back-pressure. Null elsewhere.
 */
export function directBodyWriter(): BodyWriter | null {
  if (typeof (globalThis as { Bun?: unknown }).Bun === "undefined") return null;
  return {
    copies: true,
    body(pieces, end, cancel) {
      let source: AsyncGenerator<Uint8Array> | null = pieces;
      return new ReadableStream({
        type: "direct",
        async pull(ctl: DirectController) {
          if (!source) return;
          try {
            for await (const b of source) {
              const w = ctl.write(b);
              if (typeof w !== "number") await w;
              await ctl.flush();
            }
            ctl.write(end(undefined));
          } catch (e) {
            ctl.write(end(e));
          }
          source = null;
          ctl.close();
        },
        cancel,
      } as unknown as UnderlyingDefaultSource<Uint8Array>);
    },
  };
}

/** Bun's direct stream controller (write straight into the response, copying). */
interface DirectController { write(b: Uint8Array): number | Promise<number>; flush(): number | Promise<number>; close(): void }
