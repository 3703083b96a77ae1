// Real processes for the ruler's integration tests: Alertmanager 0.25, our sidecar, querier and ruler
// (`bun agent/main.ts ...`), a Prometheus on a fixed port (so it can be restarted behind a sidecar),
// a metrics target the test drives, and readers for what they hold.
import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { freePort, requireBinary, startProcess, tempDir, waitForHealthyStores, waitForHttp, type Proc } from "./proc.ts";
import { PROMETHEUS_VERSION } from "./prometheus.ts";

const root = process.cwd();
export const BUN = join(root, "node_modules/.bin/bun");
export const AGENT = join(root, "agent/main.ts");

export interface Alertmanager { url: string; proc: Proc }

/** Alertmanager 0.25 on loopback, no cluster, a receiver that drops everything. */
export async function startAlertmanager(): Promise<Alertmanager> {
  const dir = tempDir("am-").path;
  const port = await freePort();
  writeFileSync(join(dir, "am.yml"), "route:\n  receiver: 'null'\n  group_wait: 1h\nreceivers:\n  - name: 'null'\n");
  const proc = startProcess(requireBinary("prometheus-alertmanager"), [
    `--config.file=${join(dir, "am.yml")}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`,
    "--cluster.listen-address=", "--log.level=warn",
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 30_000);
  return { url, proc };
}

export interface AmAlert { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; generatorURL: string; status: { state: string } }

export async function amAlerts(url: string): Promise<AmAlert[]> {
  const r = await fetch(`${url}/api/v2/alerts`);
  if (r.status !== 200) throw new Error(`${url}/api/v2/alerts: HTTP ${r.status}`);
  return (await r.json()) as AmAlert[];
}

export async function amGroups(url: string): Promise<{ labels: Record<string, string>; alerts: AmAlert[] }[]> {
  const r = await fetch(`${url}/api/v2/alerts/groups`);
  return (await r.json()) as { labels: Record<string, string>; alerts: AmAlert[] }[];
}

/** Prometheus 2.42 on a given port and data dir, restartable (same URL for the sidecar). */
export class RestartablePrometheus {
  proc: Proc | null = null;
  readonly url: string;
  constructor(readonly port: number, readonly dataDir: string, readonly configFile: string, readonly args: string[] = []) {
    this.url = `http://127.0.0.1:${port}`;
  }
  async start(): Promise<void> {
    this.proc = startProcess(requireBinary("prometheus"), [
      `--config.file=${this.configFile}`, `--storage.tsdb.path=${this.dataDir}`, "--storage.tsdb.retention.time=100y",
      `--web.listen-address=127.0.0.1:${this.port}`, "--log.level=warn", ...this.args,
    ]);
    await waitForHttp(`${this.url}/-/ready`, this.proc, 60_000);
    const b = await (await fetch(`${this.url}/api/v1/status/buildinfo`)).json() as { data?: { version?: string } };
    if (!PROMETHEUS_VERSION.test(b.data?.version ?? "")) throw new Error(`prometheus is ${b.data?.version}, want 2.42`);
  }
  async stop(): Promise<void> {
    await this.proc?.stop();
    this.proc = null;
  }
}

export interface Agent { url: string; grpc?: string; proc: Proc; port: number }

export async function startSidecar(promURL: string, dataDir: string, extra: string[] = []): Promise<Agent> {
  const hp = await freePort(), gp = await freePort();
  const proc = startProcess(BUN, [AGENT, "sidecar", `--prometheus.url=${promURL}`, `--tsdb.path=${dataDir}`,
    `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, "--prometheus.ready_timeout=60s", "--prometheus.get_config_interval=2s", "--log.level=warn", ...extra]);
  const url = `http://127.0.0.1:${hp}`;
  await waitForHttp(`${url}/-/ready`, proc, 60_000);
  return { url, grpc: `127.0.0.1:${gp}`, proc, port: hp };
}

export async function startQuerier(endpoints: string[], extra: string[] = []): Promise<Agent> {
  const port = await freePort();
  const proc = startProcess(BUN, [AGENT, "query", ...endpoints.map((e) => `--endpoint=${e}`), "--store.info-ttl=1s",
    `--http-address=127.0.0.1:${port}`, "--log.level=warn", ...extra]);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, proc, 60_000);
  await waitForHealthyStores(url, endpoints.length, 60_000);
  return { url, proc, port };
}

export interface Ruler extends Agent { dataDir: string; args: string[] }

/** `bun agent/main.ts rule` with free ports; `args` are the rest of its flags. Ready when /-/ready is. */
export async function startRuler(args: string[], opts: { dataDir?: string; httpPort?: number; grpcPort?: number } = {}): Promise<Ruler> {
  const hp = opts.httpPort ?? await freePort(), gp = opts.grpcPort ?? await freePort();
  const dataDir = opts.dataDir ?? tempDir("ruler-data-").path;
  const full = [`--data-dir=${dataDir}`, `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, ...args];
  const proc = startProcess(BUN, [AGENT, "rule", ...full]);
  const url = `http://127.0.0.1:${hp}`;
  await waitForHttp(`${url}/-/ready`, proc, 60_000);
  return { url, grpc: `127.0.0.1:${gp}`, proc, port: hp, dataDir, args };
}

/** The same ruler again (same ports, data dir and flags). */
export function restartRuler(r: Ruler): Promise<Ruler> {
  return startRuler(r.args, { dataDir: r.dataDir, httpPort: r.port, grpcPort: Number(r.grpc!.split(":")[1]) });
}

/** A metrics endpoint whose series the test sets: `set("demo_temp{instance=\"i1\"}", 60)`. */
export class Target {
  private readonly values = new Map<string, number>();
  private server: Server | null = null;
  port = 0;
  set(series: string, v: number): void { this.values.set(series, v); }
  delete(series: string): void { this.values.delete(series); }
  async start(): Promise<void> {
    this.server = createServer((_req, res) => {
      let body = "";
      for (const [s, v] of this.values) body += `${s} ${v}\n`;
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      res.end(body);
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", () => r()));
    this.port = (this.server.address() as { port: number }).port;
  }
  async stop(): Promise<void> {
    await new Promise<void>((r) => { this.server?.closeAllConnections(); this.server?.close(() => r()); });
  }
}

export interface RawSeries { metric: Record<string, string>; values: [number, string][] }

/** Raw samples of a selector through a Prometheus HTTP API: an instant query of `sel[range]`. */
export async function rawSamples(base: string, selector: string, rangeS: number, atS: number, extra: Record<string, string> = {}, complete = false): Promise<RawSeries[]> {
  const u = new URL("/api/v1/query", base);
  u.searchParams.set("query", `${selector}[${rangeS}s]`);
  u.searchParams.set("time", String(atS));
  for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
  const j = await (await fetch(u)).json() as { status: string; error?: string; warnings?: string[]; data: { resultType: string; result: RawSeries[] } };
  if (j.status !== "success") throw new Error(`${u}: ${j.error}`);
  if (complete && j.warnings?.length) throw new Error(`${u}: partial answer: ${j.warnings.join("; ")}`);
  return j.data.result;
}

/** rawSamples, but a partial answer (a store not read: a warning) throws instead of passing for the data. */
export function rawSamplesComplete(base: string, selector: string, rangeS: number, atS: number): Promise<RawSeries[]> {
  return rawSamples(base, selector, rangeS, atS, {}, true);
}

export async function instantQuery(base: string, query: string, atS: number): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const u = new URL("/api/v1/query", base);
  u.searchParams.set("query", query);
  u.searchParams.set("time", String(atS));
  const j = await (await fetch(u)).json() as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  if (j.status !== "success") throw new Error(`${u}: ${j.error}`);
  return j.data.result;
}

/** Prometheus-style text of /metrics: the value of one series (labels as written), or undefined. */
export async function metricValue(base: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls: Record<string, string> = {};
    for (const p of (m[2] ?? "").slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) ls[p[1]!] = p[2]!;
    if (Object.entries(labels).every(([k, v]) => ls[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until f() is truthy (returns it) or throw with the last value. */
export async function eventually<T>(what: string, f: () => Promise<T>, timeoutMs = 30_000, everyMs = 250): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not after ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500)})`);
    await sleep(everyMs);
  }
}
