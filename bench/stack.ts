// Pieces the benches that run a Prometheus stack share: the bench dataset written as OpenMetrics for
// promtool's backfill, and our sidecar started beside a Prometheus.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { freePort, startProcess, waitForHttp, type Proc } from "../test/lib/proc.ts";
import type { Prometheus } from "../test/lib/prometheus.ts";
import { generateBenchDataset, openMetricsChunks } from "../test/promql/data.ts";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");

/** generateBenchDataset(series, hours) as OpenMetrics in `path`, streamed; the number of samples. */
export async function writeBenchOpenMetrics(path: string, series: number, hours: number): Promise<number> {
  const ds = generateBenchDataset(series, hours);
  const out = createWriteStream(path);
  for (const chunk of openMetricsChunks(ds)) if (!out.write(chunk)) await once(out, "drain");
  out.end();
  await once(out, "finish");
  return ds.series.reduce((n, s) => n + s.ts.length, 0);
}

/** `bun agent/main.ts sidecar` over a Prometheus and its data dir, on free ports; ready when it says so. */
export async function startBenchSidecar(prom: Prometheus): Promise<{ proc: Proc; url: string }> {
  const hp = await freePort(), gp = await freePort();
  const proc = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "sidecar",
    `--prometheus.url=${prom.url}`, `--tsdb.path=${prom.dataDir}`, `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, "--log.level=warn"]);
  const url = `http://127.0.0.1:${hp}`;
  await waitForHttp(`${url}/-/ready`, proc, 60_000);
  return { proc, url };
}
