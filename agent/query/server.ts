// The querier's HTTP side: the Prometheus query API (edge/api) over a set of data sources, served on
// Bun (Bun.serve) or Node (@hono/node-server). Today the only source is a local TSDB directory
// (read-only); StoreAPI endpoints (--endpoint fan-out) plug in as further sources of the same kind.

import { Engine } from "../../shared/promql/engine.ts";
import type { Querier } from "../../shared/storage/types.ts";
import { createQueryApi, type RequestContext } from "../../edge/api/query-api.ts";
import { mountUi } from "../../edge/ui/app.ts";
import { openLocalBlocks } from "../tsdb/local.ts";
import type { Logger } from "../log.ts";

export interface QueryConfig {
  hostname: string;
  port: number;
  /** Prometheus-style TSDB dir (block dirs; WAL/head ignored). */
  tsdbPath?: string;
  lookbackDeltaMs: number;
  maxSamples: number;
  timeoutMs: number;
  log: Logger;
}

/** A source of data for queries: something that can hand out a Querier per request. */
export interface QuerySource {
  name: string;
  querier(ctx: RequestContext): Querier | Promise<Querier>;
  close(): Promise<void>;
}

export interface RunningQuery {
  port: number;
  close(): Promise<void>;
}

export async function localTsdbSource(dir: string): Promise<QuerySource & { blocks: number }> {
  const local = await openLocalBlocks(dir);
  return { name: `tsdb ${dir}`, blocks: local.blocks.length, querier: () => local.querier, close: () => local.close() };
}

export async function startQueryServer(cfg: QueryConfig): Promise<RunningQuery> {
  const sources: QuerySource[] = [];
  if (cfg.tsdbPath !== undefined) {
    const src = await localTsdbSource(cfg.tsdbPath);
    cfg.log.info("opened local blocks", { path: cfg.tsdbPath, blocks: src.blocks });
    sources.push(src);
  }
  if (sources.length !== 1) {
    throw Object.assign(new Error("query: exactly one data source is supported so far (give --tsdb.path)"), { code: "bad_data" });
  }
  const engine = new Engine({ lookbackDelta: cfg.lookbackDeltaMs, maxSamples: cfg.maxSamples, timeoutMs: cfg.timeoutMs });
  const api = createQueryApi({
    engine,
    querier: (ctx) => sources[0]!.querier(ctx),
    buildInfo: { version: "0.1.0", branch: "main", goVersion: runtimeVersion() },
  });
  mountUi(api); // the query page at `/` (edge/ui)
  const listening = await listenHttp(api.fetch, cfg.hostname, cfg.port);
  cfg.log.info("listening for HTTP", { address: `${cfg.hostname}:${listening.port}` });
  return {
    port: listening.port,
    close: async () => {
      await listening.close();
      await Promise.all(sources.map((s) => s.close()));
    },
  };
}

function runtimeVersion(): string {
  const g = globalThis as { Bun?: { version: string }; process?: { version?: string } };
  return g.Bun ? `bun${g.Bun.version}` : `node${g.process?.version ?? ""}`;
}

interface Listening {
  port: number;
  close(): Promise<void>;
}

async function listenHttp(fetchFn: (r: Request) => Response | Promise<Response>, hostname: string, port: number): Promise<Listening> {
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
