// The whole system on one machine: demo target, two Prometheus servers as an HA pair, a sidecar beside
// each (StoreAPI + block shipping), the store gateway over the bucket, and the querier (Bun, or workerd
// through `wrangler dev`) fanning out to all of them with replica deduplication. `npm start` and the e2e
// test both run this; only ports, intervals and the amount of seeded history differ.
//
//   demo target ─┬─ scrape ─ prometheus-a ── sidecar-a ─┬─ ship blocks ─▶ bucket (filesystem) ◀─ store
//                └─ scrape ─ prometheus-b ── sidecar-b ─┘                 ▲ seeded history           │
//   query (UI + API) ─── StoreAPI (Connect over HTTP) ──▶ sidecar-a, sidecar-b, store ◀───────────────┘

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { FilesystemBucket } from "../objstore/fs.ts";
import { removeSeeded, seedHistory } from "./seed.ts";
import { startDemoTarget, type DemoTarget } from "./target.ts";
import { pickPort, startChild, waitReady, type Child, type LineSink } from "./proc.ts";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export const CLUSTER = "demo";
export const REPLICAS = ["a", "b"] as const;
export const REPLICA_LABEL = "replica";

/** Preferred ports for `npm start` (Thanos' and Prometheus' usual ones where they don't collide). */
export const DEFAULT_PORTS = {
  target: 8080,
  "prometheus-a": 9090,
  "prometheus-b": 9091,
  "sidecar-a-http": 10902,
  "sidecar-a-grpc": 10901,
  "sidecar-b-http": 10912,
  "sidecar-b-grpc": 10911,
  "store-http": 10906,
  "store-grpc": 10905,
  query: 10904,
  "query-inspector": 9229,
} as const;
export type PortName = keyof typeof DEFAULT_PORTS;

export interface StackOptions {
  /** Everything lives here: bucket.yml, bucket/, prometheus-{a,b}/ and their .yml, seed.json. */
  dataDir: string;
  /** Run the querier under `wrangler dev` (workerd) instead of Bun. */
  edge?: boolean;
  /** "defaults": DEFAULT_PORTS with a free-port fallback; "free": any free ports (tests). */
  ports?: "defaults" | "free";
  scrapeInterval?: string;
  /** Prometheus' block length (min = max, which the sidecar requires for uploads). */
  blockDuration?: string;
  /** How often sidecars look for new blocks to ship. */
  shipInterval?: string;
  /** How often the store gateway re-lists the bucket for new blocks. */
  storeSyncInterval?: string;
  /** History to seed into the bucket when dataDir has none yet; false: none. */
  seed?: { durationMs: number; stepMs: number; replicaOffsetMs?: number } | false;
  /** Output of every component, line by line; default: printed with a name prefix. */
  onLine?: LineSink;
  /** Run sidecars, store and querier from this single binary (`bun build --compile`) instead of `bun agent/main.ts`. */
  agentBin?: string;
  /** Progress messages of the launcher itself. */
  onStatus?: (msg: string) => void;
  /** Aborting during startup stops what already runs; startStack then rejects with code "canceled". */
  signal?: AbortSignal;
}

export interface SeedInfo { startMs: number; endMs: number; stepMs: number; replicaOffsetMs: number; blocks: string[] }

export interface StackUrls {
  ui: string;
  api: string;
  target: string;
  prometheus: Record<string, string>;
  sidecars: Record<string, string>;
  store: string | null;
  /** component -> its /metrics URL */
  metrics: Record<string, string>;
}

export interface Stack {
  urls: StackUrls;
  ports: Record<PortName, number>;
  dataDir: string;
  seed: SeedInfo | null;
  /** Components that could not start because they have not landed yet, with the reason. */
  missing: Record<string, string>;
  children: Record<string, Child>;
  /** Stop one component (SIGKILL by default: a crash) and wait until it is gone. */
  kill(name: string, signal?: NodeJS.Signals): Promise<void>;
  /** Stop everything (reverse start order); safe to call twice. */
  stop(): Promise<void>;
}

const DEFAULT_PRINT: LineSink = (() => {
  const width = 12;
  return (c, line) => { process.stdout.write(`${c.padEnd(width)}| ${line}\n`); };
})();

/** How to run `bun agent/main.ts`: this Bun when we are Bun, else the one installed in node_modules. */
export function bunCommand(): string {
  if ((process.versions as Record<string, string | undefined>).bun) return process.execPath;
  const local = join(REPO_ROOT, "node_modules", ".bin", "bun");
  return existsSync(local) ? local : "bun";
}

export function which(bin: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return null;
}

/** Whether an agent component exists in this checkout (a placeholder answers its --help with "not implemented"). */
export function componentAvailable(name: string, agentBin?: string): { ok: boolean; why: string } {
  const r = agentBin
    ? spawnSync(resolve(agentBin), [name, "--help"], { encoding: "utf8", timeout: 30_000 })
    : spawnSync(bunCommand(), [join(REPO_ROOT, "agent/main.ts"), name, "--help"], { encoding: "utf8", timeout: 30_000 });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  if (r.status === 0) return { ok: true, why: "" };
  return { ok: false, why: out.split("\n")[0] || `exit ${r.status}` };
}

export function bucketYaml(dir: string): string {
  // Thanos' objstore format; the path is absolute so every component finds it whatever its cwd.
  return `type: FILESYSTEM\nconfig:\n  directory: ${JSON.stringify(dir)}\n`;
}

export function prometheusYaml(o: { replica: string; scrapeInterval: string; target: string; self: Record<string, string> }): string {
  const self = Object.entries(o.self)
    .map(([component, addr]) => `      - targets: [${JSON.stringify(addr)}]\n        labels: {component: ${JSON.stringify(component)}}`)
    .join("\n");
  return `# Written by agent/demo on every start (edits are overwritten).
global:
  scrape_interval: ${o.scrapeInterval}
  evaluation_interval: ${o.scrapeInterval}
  external_labels:
    cluster: ${CLUSTER}
    ${REPLICA_LABEL}: ${o.replica}
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: [${JSON.stringify(o.target)}]
    relabel_configs:
      # A fixed instance name, so live series continue the seeded history whatever port the target got.
      - target_label: instance
        replacement: demo-app
  - job_name: thanots
    static_configs:
${self}
`;
}

const PIDS_FILE = "pids.json";

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/**
 * Components of an earlier run on this data dir that outlived their launcher (it was SIGKILLed): they hold
 * the TSDB locks and ports, so the new run would fail. Only processes whose command line is still the one
 * recorded are stopped, so a recycled pid is left alone. Returns "name (pid)" of each one stopped.
 */
async function stopLeftovers(dataDir: string): Promise<string[]> {
  const file = join(dataDir, PIDS_FILE);
  if (!existsSync(file)) return [];
  let pids: Record<string, { pid: number; args: string }> = {};
  try { pids = JSON.parse(readFileSync(file, "utf8")) as typeof pids; } catch { /* torn write: nothing to do */ }
  const stopped: string[] = [];
  for (const [name, { pid, args }] of Object.entries(pids)) {
    if (!Number.isInteger(pid) || !alive(pid)) continue;
    let cmd = "";
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(1).join(" ").trim(); } catch { continue; }
    if (!args || cmd !== args) continue;
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, "SIGKILL");
    stopped.push(`${name} (pid ${pid})`);
  }
  rmSync(file, { force: true });
  return stopped;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const dataDir = resolve(opts.dataDir);
  const host = "127.0.0.1";
  const onLine = opts.onLine ?? DEFAULT_PRINT;
  const status = opts.onStatus ?? ((m: string) => onLine("demo", m));
  const scrapeInterval = opts.scrapeInterval ?? "5s";
  const blockDuration = opts.blockDuration ?? "2m";
  const shipInterval = opts.shipInterval ?? "10s";
  const storeSync = opts.storeSyncInterval ?? "30s";

  const prom = which("prometheus");
  if (!prom) {
    throw Object.assign(new Error("prometheus is not on PATH. Install Prometheus 2.42 from Debian (as root, or with sudo):\n\n  apt-get install -y prometheus\n\n(the demo runs two real Prometheus servers as an HA pair; the package also brings promtool, which the tests use)"), { code: "missing_prometheus" });
  }

  // Leftovers of a killed earlier run hold ports and the TSDB locks: gone before ports are picked.
  mkdirSync(dataDir, { recursive: true });
  const leftovers = await stopLeftovers(dataDir);
  if (leftovers.length > 0) status(`stopped components an earlier run left behind: ${leftovers.join(", ")}`);

  // Ports next: a clash should be settled before anything starts.
  const taken = new Set<number>();
  const ports = {} as Record<PortName, number>;
  for (const [name, def] of Object.entries(DEFAULT_PORTS) as [PortName, number][]) {
    ports[name] = await pickPort(host, opts.ports === "free" ? 0 : def, taken);
    if (opts.ports !== "free" && ports[name] !== def) status(`port ${def} (${name}) is taken; using ${ports[name]}`);
  }
  const addr = (p: PortName) => `${host}:${ports[p]}`;
  const url = (p: PortName) => `http://${addr(p)}`;

  const bucketDir = join(dataDir, "bucket");
  mkdirSync(bucketDir, { recursive: true });
  const bucketFile = join(dataDir, "bucket.yml");
  writeFileSync(bucketFile, bucketYaml(bucketDir));

  const children: Record<string, Child> = {};
  const missing: Record<string, string> = {};
  let target: DemoTarget | null = null;
  let stopped = false;
  const order: string[] = [];

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const name of [...order].reverse()) {
      const c = children[name];
      if (c?.running()) status(`stopping ${name}`);
      await c?.stop();
    }
    await target?.close();
    rmSync(join(dataDir, PIDS_FILE), { force: true });
  };
  // Written after every start, so a launcher killed without cleanup leaves a record for the next run.
  const recordPids = () => {
    const pids: Record<string, { pid: number; args: string }> = {};
    for (const [n, c] of Object.entries(children)) if (c.proc.pid !== undefined) pids[n] = { pid: c.proc.pid, args: c.proc.spawnargs.slice(1).join(" ") };
    writeFileSync(join(dataDir, PIDS_FILE), JSON.stringify(pids) + "\n");
  };

  // A signal during startup (Ctrl-C while seeding or waiting) must not leave Prometheus servers behind.
  const canceled = () => Object.assign(new Error("demo start canceled"), { code: "canceled" });
  const checkAborted = () => { if (opts.signal?.aborted || stopped) throw canceled(); };
  opts.signal?.addEventListener("abort", () => { void stop(); }, { once: true });

  const bun = bunCommand();
  const agent = (name: string, component: string, args: string[]) => {
    checkAborted();
    const c = opts.agentBin
      ? startChild(name, resolve(opts.agentBin), [component, ...args], { cwd: REPO_ROOT, onLine })
      : startChild(name, bun, [join(REPO_ROOT, "agent/main.ts"), component, ...args], { cwd: REPO_ROOT, onLine });
    children[name] = c;
    order.push(name);
    recordPids();
    return c;
  };

  try {
    target = await startDemoTarget(host, ports.target);

    // Seed before Prometheus starts, so history ends where live data begins.
    let seed: SeedInfo | null = null;
    const seedFile = join(dataDir, "seed.json");
    if (existsSync(seedFile)) {
      seed = JSON.parse(readFileSync(seedFile, "utf8")) as SeedInfo;
      status(`history already seeded (${new Date(seed.startMs).toISOString()} .. ${new Date(seed.endMs).toISOString()}, ${seed.blocks.length} blocks); reusing ${dataDir}`);
    } else if (opts.seed !== false) {
      const s = opts.seed ?? { durationMs: 3 * 86_400_000, stepMs: 30_000 };
      const endMs = Math.floor(Date.now() / 1000) * 1000;
      const startMs = endMs - s.durationMs;
      const off = s.replicaOffsetMs ?? Math.min(7000, Math.floor(s.stepMs / 3));
      const t0 = Date.now();
      status(`seeding ${(s.durationMs / 3_600_000).toFixed(1)} h of history at ${s.stepMs / 1000} s steps into ${bucketDir} ...`);
      const bkt = new FilesystemBucket(bucketDir);
      const stale = await removeSeeded(bkt);
      if (stale.length > 0) status(`removed ${stale.length} blocks of an interrupted earlier seeding`);
      const metas = await seedHistory(bkt, {
        startMs, endMs, stepMs: s.stepMs,
        replicas: REPLICAS.map((r, i) => ({ labels: { cluster: CLUSTER, [REPLICA_LABEL]: r }, offsetMs: i * off })),
      });
      seed = { startMs, endMs, stepMs: s.stepMs, replicaOffsetMs: off, blocks: metas.map((m) => m.ulid) };
      writeFileSync(seedFile, JSON.stringify(seed, null, 2) + "\n");
      const samples = metas.reduce((n, m) => n + m.stats.numSamples, 0);
      status(`seeded ${metas.length} blocks, ${samples} samples in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }

    const selfTargets: Record<string, string> = {
      "prometheus-a": addr("prometheus-a"), "prometheus-b": addr("prometheus-b"),
      "sidecar-a": addr("sidecar-a-http"), "sidecar-b": addr("sidecar-b-http"),
      store: addr("store-http"),
    };
    if (!opts.edge) selfTargets.query = addr("query");

    // Prometheus pair.
    checkAborted();
    for (const r of REPLICAS) {
      const name = `prometheus-${r}` as const;
      const dir = join(dataDir, name);
      mkdirSync(dir, { recursive: true });
      const cfg = join(dataDir, `${name}.yml`);
      writeFileSync(cfg, prometheusYaml({ replica: r, scrapeInterval, target: `${host}:${target.port}`, self: selfTargets }));
      const c = startChild(name, prom, [
        `--config.file=${cfg}`,
        `--storage.tsdb.path=${dir}`,
        `--web.listen-address=${addr(name)}`,
        // Equal min and max: Prometheus never compacts, the sidecar ships every block (Thanos' rule).
        `--storage.tsdb.min-block-duration=${blockDuration}`,
        `--storage.tsdb.max-block-duration=${blockDuration}`,
        "--storage.tsdb.retention.time=2d",
        "--web.enable-lifecycle",
        "--log.level=warn",
      ], { onLine });
      children[name] = c;
      order.push(name);
      recordPids();
    }
    await Promise.all(REPLICAS.map((r) => waitReady(`${url(`prometheus-${r}`)}/-/ready`, children[`prometheus-${r}`]!, `prometheus-${r}`)));
    status("prometheus-a and prometheus-b ready");

    for (const r of REPLICAS) {
      agent(`sidecar-${r}`, "sidecar", [
        `--prometheus.url=${url(`prometheus-${r}`)}`,
        `--tsdb.path=${join(dataDir, `prometheus-${r}`)}`,
        `--objstore.config-file=${bucketFile}`,
        `--shipper.sync-interval=${shipInterval}`,
        "--prometheus.get_config_interval=10s",
        `--grpc-address=${addr(`sidecar-${r}-grpc`)}`,
        `--http-address=${addr(`sidecar-${r}-http`)}`,
      ]);
    }

    const storeAvail = componentAvailable("store", opts.agentBin);
    if (storeAvail.ok) {
      agent("store", "store", [
        `--objstore.config-file=${bucketFile}`,
        `--grpc-address=${addr("store-grpc")}`,
        `--http-address=${addr("store-http")}`,
        `--sync-block-duration=${storeSync}`,
      ]);
    } else {
      missing.store = storeAvail.why;
      status(`store gateway not started: ${storeAvail.why}. Seeded and shipped blocks are in ${bucketDir} but nothing serves them until it lands.`);
    }

    await Promise.all([
      ...REPLICAS.map((r) => waitReady(`${url(`sidecar-${r}-http`)}/-/ready`, children[`sidecar-${r}`]!, `sidecar-${r}`)),
      ...(children.store ? [waitReady(`${url("store-http")}/-/ready`, children.store, "store", 120_000)] : []),
    ]);
    status(`sidecars${children.store ? " and store gateway" : ""} ready`);

    checkAborted();
    const endpoints = [url("sidecar-a-http"), url("sidecar-b-http"), ...(children.store ? [url("store-http")] : [])];
    if (opts.edge) {
      // wrangler refuses to run under Bun; it wants Node (which npm itself needs anyway).
      const node = (process.versions as Record<string, string | undefined>).bun ? which("node") ?? "node" : process.execPath;
      const c = startChild("query-edge", node, [
        join(REPO_ROOT, "node_modules", "wrangler", "bin", "wrangler.js"), "dev",
        "--ip", host, "--port", String(ports.query), "--inspector-port", String(ports["query-inspector"]),
        "--persist-to", join(dataDir, "wrangler"),
        "--var", `STORE_ENDPOINTS:${endpoints.join(" ")}`,
        "--var", `REPLICA_LABELS:${REPLICA_LABEL}`,
      ], { cwd: REPO_ROOT, onLine, env: { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" } });
      children["query-edge"] = c;
      order.push("query-edge");
      recordPids();
      await waitReady(`${url("query")}/-/healthy`, c, "querier under wrangler dev", 120_000);
    } else {
      const c = agent("query", "query", [
        `--http-address=${addr("query")}`,
        ...endpoints.map((e) => `--endpoint=${e}`),
        `--query.replica-label=${REPLICA_LABEL}`,
        "--store.response-timeout=30s",
      ]);
      await waitReady(`${url("query")}/-/ready`, c, "query");
    }
    checkAborted();
    status("querier ready");

    const metrics: Record<string, string> = {
      target: `${target.url}/metrics`,
      "prometheus-a": `${url("prometheus-a")}/metrics`,
      "prometheus-b": `${url("prometheus-b")}/metrics`,
      "sidecar-a": `${url("sidecar-a-http")}/metrics`,
      "sidecar-b": `${url("sidecar-b-http")}/metrics`,
    };
    if (children.store) metrics.store = `${url("store-http")}/metrics`;
    if (!opts.edge) metrics.query = `${url("query")}/metrics`;
    return {
      urls: {
        ui: `${url("query")}/`,
        api: `${url("query")}/api/v1`,
        target: target.url,
        prometheus: { a: url("prometheus-a"), b: url("prometheus-b") },
        sidecars: { a: url("sidecar-a-http"), b: url("sidecar-b-http") },
        store: children.store ? url("store-http") : null,
        metrics,
      },
      ports, dataDir, seed, missing, children,
      async kill(name, signal = "SIGKILL") {
        const c = children[name];
        if (!c) throw new Error(`no component ${name} in the stack (have ${Object.keys(children).join(", ")})`);
        await c.kill(signal);
      },
      stop,
    };
  } catch (e) {
    const aborted = opts.signal?.aborted ?? false;
    await stop();
    throw aborted ? canceled() : e;
  }
}
