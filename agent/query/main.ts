// `bun run agent query`: the Prometheus HTTP API and PromQL over local blocks (read-only).
// Flags follow Thanos' `thanos query` where they exist there.
import { type FlagSpec, flagsHelp, parseAddress, parseFlags, FlagError } from "../flags.ts";
import { newLogger, parseLevel } from "../log.ts";
import { parseDuration } from "../../shared/promql/parser.ts";
import { startQueryServer } from "./server.ts";

export const FLAGS: FlagSpec[] = [
  { name: "http-address", help: "listen host:port for the HTTP API", default: "0.0.0.0:10902" },
  { name: "tsdb.path", help: "TSDB directory whose blocks to serve read-only (e.g. a Prometheus --storage.tsdb.path)" },
  { name: "query.lookback-delta", help: "how far back to look for a sample of an instant vector selector", default: "5m" },
  { name: "query.max-samples", help: "most samples a single query may hold in memory", default: "50000000" },
  { name: "query.timeout", help: "longest a query may run", default: "2m" },
  { name: "log.level", help: "debug, info, warn or error", default: "info" },
  { name: "help", help: "show this help", boolean: true },
];

function durationFlag(name: string, v: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new FlagError(`query: --${name}: ${(e as Error).message}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("query", FLAGS, argv);
  if (f.bool("help")) {
    console.log(`usage: bun run agent query [flags]\n\n${flagsHelp(FLAGS)}`);
    return 0;
  }
  const log = newLogger({ level: parseLevel(f.get("log.level")!) }).with({ component: "query" });
  const addr = parseAddress("http-address", f.get("http-address")!);
  const maxSamples = Number(f.get("query.max-samples"));
  if (!Number.isInteger(maxSamples) || maxSamples <= 0) throw new FlagError(`query: --query.max-samples: ${JSON.stringify(f.get("query.max-samples"))} is not a positive integer`);
  const tsdbPath = f.get("tsdb.path");
  if (tsdbPath === undefined) throw new FlagError("query: no data source: give --tsdb.path");
  const srv = await startQueryServer({
    hostname: addr.hostname,
    port: addr.port,
    tsdbPath,
    lookbackDeltaMs: durationFlag("query.lookback-delta", f.get("query.lookback-delta")!),
    maxSamples,
    timeoutMs: durationFlag("query.timeout", f.get("query.timeout")!),
    log,
  });
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  log.info("shutting down");
  await srv.close();
  return 0;
}
