// The demo scrape target: a pretend web shop's /metrics, computed from model.ts at the moment of each
// scrape (nothing is counted, so any number of scrapers see the same curve). node:http so it runs in-process
// under Bun (npm start) and Node (the e2e test).

import { createServer, type Server } from "node:http";
import { demoSamples, type DemoSample } from "./model.ts";

const HELP: Record<string, [string, string]> = {
  http_requests_total: ["counter", "HTTP requests served, by handler, method and status code."],
  http_request_duration_seconds: ["histogram", "HTTP request latency in seconds, by handler."],
  process_resident_memory_bytes: ["gauge", "Resident memory size in bytes."],
  process_virtual_memory_bytes: ["gauge", "Virtual memory size in bytes."],
};

function family(name: string): string {
  return name in HELP ? name : name.replace(/_(bucket|sum|count)$/, "");
}

function escapeValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** Prometheus text format 0.0.4 for the demo series at time t. */
export function exposition(tMs: number): string {
  const byFamily = new Map<string, DemoSample[]>();
  for (const s of demoSamples(tMs)) {
    const f = family(s.name);
    let l = byFamily.get(f);
    if (!l) byFamily.set(f, (l = []));
    l.push(s);
  }
  let out = "";
  for (const [f, samples] of byFamily) {
    const [type, help] = HELP[f]!;
    out += `# HELP ${f} ${help}\n# TYPE ${f} ${type}\n`;
    for (const s of samples) {
      const ls = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeValue(v)}"`).join(",");
      out += `${s.name}${ls ? `{${ls}}` : ""} ${s.value}\n`;
    }
  }
  return out;
}

export interface DemoTarget { port: number; url: string; close(): Promise<void> }

/** Serve /metrics on host:port (port 0: any free port). `now` is injectable for tests. */
export async function startDemoTarget(host: string, port: number, now: () => number = Date.now): Promise<DemoTarget> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/metrics") {
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(exposition(now()));
    } else if (path === "/-/healthy" || path === "/") {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("demo target: metrics at /metrics\n");
    } else {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end(`no ${path} here: metrics are at /metrics\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => reject(new Error(`demo target: listen on ${host}:${port}: ${(e as Error).message}`)));
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as { port: number }).port;
  return {
    port: actual,
    url: `http://${host}:${actual}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
