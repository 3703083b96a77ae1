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
        // And demo:duplicate has met both of its series (its error needs demo_other beside demo_up): until
        // then a ruler reports it healthy and the tests that read the rules see a state still settling.
        const rj = await (await fetch(`${r.http}/api/v1/rules`)).json() as { data?: Record<string, { rules?: { name: string; health: string }[] }[] | null> };
        const groups = rj.data?.groups ?? rj.data?.Groups ?? [];
        const dup = groups.flatMap((g) => g.rules ?? []).find((x) => x.name === "demo:duplicate");
        if (list.some((a) => a.state === "firing") && list.some((a) => a.state === "pending") && dup?.health === "err") break;
        last = `${JSON.stringify(j).slice(0, 500)} demo:duplicate ${dup?.health}`;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`ruler ${r.replica}: no firing and pending alerts and failing demo:duplicate after ${timeoutMs} ms: ${last}\n${r.proc.output().slice(-2000)}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }
}

/** The rulers' own view (every rule's timings): unchanged before and after = no evaluation in between. */
export async function rulerState(rulers: RulerHa["rulers"]): Promise<string> {
  return (await Promise.all(rulers.map(async (r) => await (await fetch(`${r.http}/api/v1/rules`)).text()))).join("\n");
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const r = await fetch(url);
  const text = await r.text();
  try {
    return { status: r.status, body: JSON.parse(text) };
  } catch {
    throw new Error(`${url}: HTTP ${r.status}, not JSON: ${text.slice(0, 300)}`);
  }
}

/**
 * The answers of `urls`, fetched together while no ruler evaluated (checked through the rulers' own
 * API before and after; retried when one did), so that queriers asked at once saw the same rulers.
 */
export async function fetchQuiet(rulers: RulerHa["rulers"], urls: string[]): Promise<{ answers: { status: number; body: any }[]; tries: number }> {
  for (let tries = 1; tries <= 30; tries++) {
    const before = await rulerState(rulers);
    const answers = await Promise.all(urls.map(getJson));
    if (await rulerState(rulers) === before) return { answers, tries };
  }
  throw new Error(`${urls.join(", ")}: the rulers evaluated during every one of 30 attempts`);
}

const byLabels = (a: any, b: any) => { const x = JSON.stringify(a.labels), y = JSON.stringify(b.labels); return x < y ? -1 : x > y ? 1 : 0; };

/**
 * A rules/alerts answer with what may legitimately differ between two queriers over the same rulers
 * made equal: each group's own `evaluationTime` and `lastEvaluation` (Thanos' querier keeps the first
 * arriving replica's, ours the first endpoint's) and the order of alert instances (a Thanos ruler sends
 * them in Go map order, different at every call). Thanos' `"alerts":null` reads as [].
 */
export function normaliseRules(body: any, opts: { groupTimings?: boolean } = {}): string {
  const b = structuredClone(body);
  for (const g of b?.data?.groups ?? []) {
    if (opts.groupTimings !== false) { g.evaluationTime = "(group timing)"; g.lastEvaluation = "(group timing)"; }
    for (const r of g.rules) r.alerts?.sort(byLabels);
  }
  if (b?.data && "alerts" in b.data && b.data.alerts === null) b.data.alerts = [];
  b?.data?.alerts?.sort(byLabels);
  return JSON.stringify(b, null, 1);
}
