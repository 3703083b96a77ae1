// Real Prometheus 2.42 and promtool (Debian packages) for oracle tests.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, requireBinary, startProcess, tempDir, waitForHttp, type Proc } from "./proc.ts";

const run = promisify(execFile);

export interface Prometheus {
  url: string;
  port: number;
  dataDir: string;
  proc: Proc;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** TSDB dir (e.g. with backfilled blocks); a temp dir if not given. */
  dataDir?: string;
  /** prometheus.yml contents; a config with no scrape jobs if not given. */
  config?: string;
  /** Extra flags, e.g. ["--storage.tsdb.min-block-duration=5m"]. */
  args?: string[];
}

export async function startPrometheus(opts: PrometheusOptions = {}): Promise<Prometheus> {
  const bin = requireBinary("prometheus");
  const port = await freePort();
  const dataDir = opts.dataDir ?? tempDir("prom-data-").path;
  const cfgDir = tempDir("prom-cfg-").path;
  const cfg = join(cfgDir, "prometheus.yml");
  writeFileSync(cfg, opts.config ?? "global:\n  scrape_interval: 15s\n");
  const proc = startProcess(bin, [
    `--config.file=${cfg}`,
    `--storage.tsdb.path=${dataDir}`,
    "--storage.tsdb.retention.time=100y",
    `--web.listen-address=127.0.0.1:${port}`,
    "--web.enable-admin-api",
    "--log.level=warn",
    ...(opts.args ?? []),
  ]);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/-/ready`, proc, 60_000);
    await checkVersion(bin, url);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return { url, port, dataDir, proc, stop: () => proc.stop() };
}

/** The version every oracle test is written against: Debian 12's Prometheus 2.42. */
export const PROMETHEUS_VERSION = /^2\.42\./;

/** The oracle must be the Prometheus we claim: its /api/v1/status/buildinfo says 2.42.x, or no test runs. */
async function checkVersion(bin: string, url: string): Promise<void> {
  const r = await promApi(url, "/api/v1/status/buildinfo");
  const v = r?.data?.version;
  if (typeof v !== "string" || !PROMETHEUS_VERSION.test(v)) {
    throw new Error(`${bin} is Prometheus ${typeof v === "string" ? v : `of unknown version (buildinfo: ${JSON.stringify(r).slice(0, 300)})`}; ` +
      "the oracle tests are written against Prometheus 2.42.x (Debian 12: apt-get install -y prometheus)");
  }
}

let promtoolChecked: Promise<string> | null = null;
/** promtool on PATH, once checked to be 2.42.x like the server. */
function promtoolBinary(): Promise<string> {
  const bin = requireBinary("promtool");
  return (promtoolChecked ??= (async () => {
    const { stdout, stderr } = await run(bin, ["--version"]);
    const m = /version (\S+)/.exec(stdout + stderr);
    if (!m || !PROMETHEUS_VERSION.test(m[1]!)) {
      throw new Error(`${bin} is promtool ${m ? m[1] : `of unknown version (${(stdout + stderr).slice(0, 200)})`}; the tests are written against 2.42.x (Debian 12: apt-get install -y prometheus)`);
    }
    return bin;
  })());
}

/** `promtool tsdb create-blocks-from openmetrics` on the given text (timestamps in seconds, ends "# EOF"). */
export async function promtoolBackfill(openmetrics: string, outDir: string, extraArgs: string[] = []): Promise<string> {
  const bin = await promtoolBinary();
  const dir = tempDir("om-").path;
  const file = join(dir, "data.om");
  writeFileSync(file, openmetrics);
  const { stdout, stderr } = await run(bin, ["tsdb", "create-blocks-from", ...extraArgs, "openmetrics", file, outDir], { maxBuffer: 1 << 28 });
  return stdout + stderr;
}

export async function promtool(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const bin = await promtoolBinary();
  return await run(bin, args, { maxBuffer: 1 << 30 });
}

/** GET a Prometheus JSON API path and return the parsed body (throws on a non-JSON answer). */
export async function promApi(base: string, path: string, params: Record<string, string> = {}): Promise<any> {
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  const r = await fetch(u);
  const text = await r.text();
  try {
    return { httpStatus: r.status, ...JSON.parse(text) };
  } catch {
    throw new Error(`${u}: HTTP ${r.status}, not JSON: ${text.slice(0, 500)}`);
  }
}
