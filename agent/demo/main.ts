// `npm start` (= bun agent/demo/main.ts) and `npm run start:edge` (--edge): the demo stack in the
// foreground until Ctrl-C / SIGTERM.

import { resolve } from "node:path";
import { flagsHelp, parseFlags, type FlagSpec } from "../flags.ts";
import { startStack, type Stack } from "./stack.ts";
import { ensure } from "../../scripts/setup.ts";

const FLAGS: FlagSpec[] = [
  { name: "data-dir", help: "where the bucket, both Prometheus TSDBs and the configs live; reused by the next start", default: "./data" },
  { name: "edge", help: "run the querier under `wrangler dev` (workerd, as on Cloudflare Workers) instead of Bun", boolean: true },
  { name: "scrape-interval", help: "Prometheus scrape interval", default: "5s" },
  { name: "block-duration", help: "Prometheus block length (min = max); each completed block is shipped to the bucket", default: "2m" },
  { name: "seed-days", help: "days of history written into the bucket on the first start (0: none)", default: "3" },
  { name: "agent-bin", help: "run the components from this single binary (bun build --compile agent/main.ts --outfile dist/thanots) instead of `bun agent/main.ts`" },
  { name: "help", help: "show this help", boolean: true },
];

const HELP = `usage: npm start [-- flags]     (or: bun agent/demo/main.ts [flags])

Runs the whole system on this machine: a demo target, two Prometheus servers (an HA pair, external labels
cluster/replica), a sidecar beside each shipping blocks to a filesystem bucket, the store gateway, and the
querier with its UI. Ctrl-C stops everything; the next start reuses --data-dir.

flags:
${flagsHelp(FLAGS)}`;

/** Each component's /metrics URL, marked when it does not answer (a component that has no /metrics yet). */
async function metricsLines(s: Stack): Promise<string> {
  const lines = await Promise.all(Object.entries(s.urls.metrics).map(async ([k, v]) => {
    let note = "";
    try {
      const r = await fetch(v, { signal: AbortSignal.timeout(3000) });
      await r.arrayBuffer();
      if (!r.ok) note = `   (HTTP ${r.status}: not served by this build yet)`;
    } catch (e) {
      note = `   (${(e as Error).message})`;
    }
    return `    ${k.padEnd(13)} ${v}${note}`;
  }));
  return lines.join("\n");
}

function banner(s: Stack, edge: boolean, m: string): string {
  const missing = Object.entries(s.missing).map(([k, v]) => `  NOT RUNNING   ${k}: ${v}`).join("\n");
  return `
  thanots demo is up (querier on ${edge ? "workerd via wrangler dev" : "Bun"}).

  UI            ${s.urls.ui}
  API           ${s.urls.api}/query?query=sum+by+(code)+(rate(http_requests_total[5m]))
  Prometheus    ${s.urls.prometheus.a} (replica a), ${s.urls.prometheus.b} (replica b)
  StoreAPIs     sidecar-a ${s.urls.sidecars.a}, sidecar-b ${s.urls.sidecars.b}${s.urls.store ? `, store ${s.urls.store}` : ""}
  Demo target   ${s.urls.target}/metrics
  /metrics
${m}
${missing ? missing + "\n" : ""}  Data          ${s.dataDir} (bucket: ${s.dataDir}/bucket, config ${s.dataDir}/bucket.yml)
${s.seed ? `  History       ${new Date(s.seed.startMs).toISOString()} .. ${new Date(s.seed.endMs).toISOString()} (seeded blocks)\n` : ""}
  Ctrl-C stops everything.
`;
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("demo", FLAGS, argv);
  if (f.bool("help")) { console.log(HELP); return 0; }
  const edge = f.bool("edge");
  const days = Number(f.get("seed-days"));
  if (!(days >= 0 && days <= 60)) { console.error(`demo: --seed-days ${JSON.stringify(f.get("seed-days"))}: want a number of days from 0 to 60`); return 2; }
  // Debian's Prometheus: installed now when apt-get is usable, else the command to run (scripts/setup.ts).
  if (!ensure("demo")) return 3;

  let stack: Stack | null = null;
  let stopping = false;
  const starting = new AbortController();
  const onSignal = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${sig}: stopping the demo stack ...`);
    // Still starting: startStack stops what it started and rejects; run() returns from there.
    if (!stack) { starting.abort(); return; }
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void onSignal("SIGINT"));
  process.on("SIGTERM", () => void onSignal("SIGTERM"));

  try {
    stack = await startStack({
      dataDir: resolve(f.get("data-dir")!),
      edge,
      ports: "defaults",
      scrapeInterval: f.get("scrape-interval"),
      blockDuration: f.get("block-duration"),
      agentBin: f.get("agent-bin"),
      signal: starting.signal,
      seed: days > 0 ? { durationMs: days * 86_400_000, stepMs: 30_000 } : false,
    });
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === "canceled") return 0;
    console.error(`\ndemo: ${err.message ?? String(e)}`);
    return err.code === "missing_prometheus" ? 3 : 1;
  }
  if (stopping) return 0;
  console.log(banner(stack, edge, await metricsLines(stack)));
  // A component that dies on its own is reported; the rest keeps running (Ctrl-C still stops all).
  for (const [name, c] of Object.entries(stack.children)) {
    void c.exited.then((code) => { if (!stopping) console.error(`demo: ${name} exited with ${code ?? c.proc.signalCode}; the rest keeps running`); });
  }
  await new Promise<void>(() => {});
  return 0;
}

if (import.meta.main) process.exitCode = await run(process.argv.slice(2));
