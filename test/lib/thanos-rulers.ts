// An HA pair of real Thanos rulers (v0.41.0) on one rule file, labelled replica="a" / replica="b",
// evaluating against a real Prometheus 2.42 that scrapes a small target served from this process, so
// the rule set has a firing alert, a pending one, an inactive one, recording rules and a rule that
// fails. Used by the querier's rules/alerts tests (API vs Thanos' querier, UI in Chromium).
import { createServer, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForHttp, type Proc } from "./proc.ts";
import { startPrometheus, type Prometheus } from "./prometheus.ts";
import { thanosBinary } from "./thanos.ts";

/** The rule file both rulers load (groups evaluated every 2 s). */
export const RULES_YAML = `groups:
  - name: demo-alerts
    interval: 2s
    partial_response_strategy: warn
    rules:
      - alert: DemoInstanceUp
        expr: demo_up == 1
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} is up (value {{ $value }})"
      - alert: DemoInstanceDown
        expr: demo_up == 0
        for: 1h
        labels:
          severity: ticket
        annotations:
          summary: "{{ $labels.instance }} is down"
          description: "for an hour, <b>really</b>"
      - alert: DemoNeverFires
        expr: demo_up > 5
  - name: demo-records
    interval: 2s
    rules:
      - record: job:demo_up:sum
        expr: sum by (job) (demo_up)
      - record: demo:duplicate
        expr: '{__name__=~"demo_up|demo_other"}'
        labels:
          kind: broken
`;

export interface RulerHa {
  prometheus: Prometheus;
  /** Thanos rulers: gRPC address host:port (StoreAPI, Info, Rules) and HTTP base URL. */
  rulers: { grpc: string; http: string; proc: Proc; replica: string }[];
  ruleFile: string;
  stop(): Promise<void>;
}

/** The scrape target: demo_up for three instances (one down) and a second metric sharing labels. */
function startTarget(): Promise<{ server: Server; port: number }> {
  const body = [
    "# TYPE demo_up gauge",
    'demo_up{instance="host-1"} 1', 'demo_up{instance="host-2"} 0', 'demo_up{instance="host-3"} 1',
    "# TYPE demo_other gauge",
    'demo_other{instance="host-1"} 5',
    "",
  ].join("\n");
  return new Promise((resolve) => {
    const server = createServer((_req, res) => { res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" }); res.end(body); });
    server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

export async function startRulerHa(): Promise<RulerHa> {
  const bin = await thanosBinary();
  const target = await startTarget();
  const prometheus = await startPrometheus({
    config: [
      "global:", "  scrape_interval: 1s", "scrape_configs:", "  - job_name: demo", "    honor_labels: true",
      "    static_configs:", `      - targets: ["127.0.0.1:${target.port}"]`, "",
    ].join("\n"),
  });
  const dir = tempDir("thanos-rulers-").path;
  const ruleFile = join(dir, "demo-rules.yml");
  writeFileSync(ruleFile, RULES_YAML);
  const rulers: RulerHa["rulers"] = [];
  try {
    for (const replica of ["a", "b"]) {
      const grpc = await freePort(), http = await freePort();
      const proc = startProcess(bin, [
        "rule", `--data-dir=${join(dir, `data-${replica}`)}`, `--rule-file=${ruleFile}`, "--eval-interval=2s",
        `--query=${prometheus.url.replace(/^http:\/\//, "")}`, `--label=replica="${replica}"`, '--label=cluster="demo"',
        `--grpc-address=127.0.0.1:${grpc}`, `--http-address=127.0.0.1:${http}`, "--log.level=warn",
      ]);
      rulers.push({ grpc: `127.0.0.1:${grpc}`, http: `http://127.0.0.1:${http}`, proc, replica });
    }
    for (const r of rulers) await waitForHttp(`${r.http}/-/ready`, r.proc, 60_000);
  } catch (e) {
    await Promise.all(rulers.map((r) => r.proc.stop()));
    await prometheus.stop();
    target.server.close();
    throw e;
  }
  return {
    prometheus, rulers, ruleFile,
    async stop() {
      await Promise.all(rulers.map((r) => r.proc.stop()));
      await prometheus.stop();
      target.server.close();
    },
  };
}

/**
 * Until every ruler's own /api/v1/alerts shows the firing and the pending alert (their groups have
 * evaluated against scraped data).
 */
export async function waitForAlerts(rulers: RulerHa["rulers"], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (const r of rulers) {
    for (;;) {
      try {
        const j = await (await fetch(`${r.http}/api/v1/alerts`)).json() as { data?: Record<string, { state: string }[] | null> };
        // Thanos' own ruler names the list "Alerts" (thanos#5534 fixed only its querier).
        const list = j.data?.alerts ?? j.data?.Alerts ?? [];
        if (list.some((a) => a.state === "firing") && list.some((a) => a.state === "pending")) break;
        last = JSON.stringify(j).slice(0, 500);
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`ruler ${r.replica}: no firing and pending alerts after ${timeoutMs} ms: ${last}\n${r.proc.output().slice(-2000)}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }
}
