// The querier on Deno: `deno task querier --endpoint http://sidecar:10902 --query.replica-label replica`
// or the same settings from the environment (names in edge/querier/env.ts; flags win).
import { createQuerierApp } from "../shared/query/app.ts";
import { buildQuerier } from "../shared/query/config.ts";
import { settingsFromEnv } from "./querier/env.ts";
import { parseHostPort, settingsWithFlags } from "./querier/flags.ts";
import { errorMessage } from "../shared/encoding/errors.ts";

interface DenoLike {
  args: string[];
  env: { toObject(): Record<string, string> };
  version: { deno: string };
  exit(code: number): never;
  addSignalListener(sig: string, f: () => void): void;
  serve(o: { hostname: string; port: number; onListen?: (a: { hostname: string; port: number }) => void }, h: (r: Request) => Response | Promise<Response>): { shutdown(): Promise<void> };
}

const Deno = (globalThis as unknown as { Deno: DenoLike }).Deno;

try {
  const env = Deno.env.toObject();
  const { settings, httpAddress } = settingsWithFlags(settingsFromEnv(env), Deno.args, env.HTTP_ADDRESS || undefined);
  const q = buildQuerier(settings);
  const app = createQuerierApp({ ...q.app, proxy: q.proxy, buildInfo: { version: "0.1.0", branch: "main", goVersion: `deno${Deno.version.deno}` } });
  const { hostname, port } = parseHostPort(httpAddress);
  const srv = Deno.serve({
    hostname, port,
    onListen: (a) => console.log(`level=info component=query msg="listening for HTTP" address=${a.hostname}:${a.port} stores=${q.endpoints.map((e) => e.name).join(",")}`),
  }, app.fetch);
  const stop = () => { srv.shutdown().then(() => Deno.exit(0)); };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
} catch (e) {
  console.error(`level=error component=query msg="cannot start" err=${JSON.stringify(errorMessage(e))}`);
  Deno.exit(2);
}
