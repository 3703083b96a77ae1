// The querier on Deno: `deno task querier --endpoint http://sidecar:10902 --query.replica-label replica`
// or the same settings from the environment (names in edge/querier/config.ts; flags win).
import { createQuerierApp } from "../shared/query/app.ts";
import { configFromEnv } from "../shared/query/config.ts";
import { envWithFlags, parseHostPort } from "./querier/flags.ts";
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
  const env = envWithFlags(Deno.env.toObject(), Deno.args);
  const cfg = configFromEnv(env);
  const app = createQuerierApp({ ...cfg.app, proxy: cfg.proxy, buildInfo: { version: "0.1.0", branch: "main", goVersion: `deno${Deno.version.deno}` } });
  const { hostname, port } = parseHostPort(env.HTTP_ADDRESS || "0.0.0.0:10902");
  const srv = Deno.serve({
    hostname, port,
    onListen: (a) => console.log(`level=info component=query msg="listening for HTTP" address=${a.hostname}:${a.port} stores=${cfg.endpoints.map((e) => e.name).join(",")}`),
  }, app.fetch);
  const stop = () => { srv.shutdown().then(() => Deno.exit(0)); };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
} catch (e) {
  console.error(`level=error component=query msg="cannot start" err=${JSON.stringify(errorMessage(e))}`);
  Deno.exit(2);
}
