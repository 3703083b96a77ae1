// A fetch handler served by agent/web/listen.ts (--http.config) in its own process, for tests that need
// the Bun code path: `bun test/lib/web-serve.ts CONFIG` prints "PORT <n>" once listening.
import { listenWeb } from "../../agent/web/listen.ts";
import { newLogger } from "../../agent/log.ts";

const cfg = process.argv[2];
const l = await listenWeb((r) => new Response(`secret series for ${new URL(r.url).pathname}\n`), "127.0.0.1", 0, cfg, newLogger({ level: "debug" }));
console.log(`PORT ${l.port}`);
process.on("SIGTERM", () => { void l.close().then(() => process.exit(0)); });
