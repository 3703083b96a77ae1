// Serving a fetch handler on whichever runtime the agent runs on: Bun.serve under Bun (the default),
// @hono/node-server under Node (tests under tsx). One copy for every component.

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
