// Staleness against the real thing. Backfilled blocks cannot hold staleness markers, so here a real
// Prometheus 2.42 scrapes two tiny targets every second: on one, series come and go between scrapes;
// the other target is shut down midway (Prometheus then marks all its series stale). The raw samples,
// markers included (exact NaN bits through remote read's SAMPLES answer), are loaded into a
// MemoryQuerier, and a set of queries runs through Prometheus' HTTP API and our engine at many
// instants and as range queries over the scraped window.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import { freePort } from "../lib/proc.ts";
import { startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { Engine } from "../../shared/promql/engine.ts";
import { MemoryQuerier, type MemorySeries } from "../../shared/storage/memory.ts";
import { remoteRead } from "../../shared/remote/read.ts";
import { floatBitsAt } from "../../shared/remote/samples.ts";
import { LabelMatcher_Type } from "../../shared/gen/prometheus/types_pb.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import { diff, modeLabel, ourQuery, promQuery, type Mode } from "../promql/compare.ts";

const QUERIES = [
  "stale_gauge", "up", "stale_counter_total", "{job=\"dying\"}", "count({job=\"dying\"})", "sum(stale_gauge)",
  "rate(stale_counter_total[5s])", "increase(stale_counter_total[3s])", "count_over_time(stale_gauge[3s])",
  "last_over_time(stale_gauge[5s])", "present_over_time(stale_gauge[2s])", "absent(stale_gauge{id=\"flap\"})",
  "absent_over_time(stale_gauge{id=\"flap\"}[2s])", "timestamp(stale_gauge)", "stale_gauge offset 2s", "changes(stale_gauge[10s])",
  "max_over_time(stale_gauge[4s:500ms])", "stale_gauge{id=\"flap\"} * on(job) group_left stale_gauge{id=\"always\"}",
  "stale_gauge unless stale_gauge{id=\"flap\"}", "scalar(stale_gauge{id=\"flap\"})", "count_over_time({job=\"dying\"}[10s])",
];

let prom: Prometheus | null = null;
const servers: Server[] = [];
let scrapes = 0;

function serve(port: number, body: () => string): Promise<Server> {
  const s = createServer((_req, res) => { res.setHeader("content-type", "text/plain; version=0.0.4"); res.end(body()); });
  servers.push(s);
  return new Promise((resolve) => s.listen(port, "127.0.0.1", () => resolve(s)));
}

test.before(async () => {
  const livePort = await freePort(), dyingPort = await freePort();
  await serve(livePort, () => {
    const n = scrapes++;
    let out = `stale_gauge{id="always"} ${n % 7}\nstale_counter_total ${n * 3 + (n > 8 ? 100 : 0)}\n`;
    if (Math.floor(n / 2) % 2 === 0) out += `stale_gauge{id="flap"} ${n}\n`;
    if (n >= 6) out += `stale_gauge{id="late"} ${-n}\n`;
    return out;
  });
  const dying = await serve(dyingPort, () => `dying_gauge{k="a"} 1\ndying_gauge{k="b"} 2\n`);
  prom = await startPrometheus({
    config: `global:\n  scrape_interval: 1s\n  scrape_timeout: 500ms\nscrape_configs:\n` +
      `  - job_name: live\n    static_configs: [{targets: ["127.0.0.1:${livePort}"]}]\n` +
      `  - job_name: dying\n    static_configs: [{targets: ["127.0.0.1:${dyingPort}"]}]\n`,
  });
  const deadline = Date.now() + 60_000;
  const until = async (n: number) => {
    while (scrapes < n) {
      if (Date.now() > deadline) throw new Error(`Prometheus scraped the targets ${scrapes} times in 60 s, want ${n}:\n${prom!.proc.output().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  await until(10);
  await new Promise<void>((r) => { dying.close(() => r()); dying.closeAllConnections?.(); });
  await until(20);
});

test.after(async () => {
  await prom?.stop();
  for (const s of servers) s.close();
});

test("staleness markers from live scrapes: our engine answers what Prometheus answers", async () => {
  const now = Date.now();
  const r = await remoteRead(fetch as never, `${prom!.url}/api/v1/read`, {
    queries: [{ startTimestampMs: 0n, endTimestampMs: BigInt(now), matchers: [{ type: LabelMatcher_Type.RE, name: "__name__", value: ".+" }] }],
  }, { samples: "raw" });
  if (r.type !== "rawSamples") throw new Error(`want raw samples, got ${r.type}`);
  const series: MemorySeries[] = [];
  let markers = 0, first = Infinity, last = -Infinity;
  for (const s of r.results[0]!.series) {
    const ts: number[] = [], vs: number[] = [], stale: boolean[] = [];
    for (let i = 0; i < s.ts.length; i++) {
      const [hi, lo] = floatBitsAt(s.vals, i);
      const st = hi === 0x7ff00000 && lo === 2;
      if (st) markers++;
      ts.push(s.ts[i]!); vs.push(s.vals[i]!); stale.push(st);
      first = Math.min(first, s.ts[i]!); last = Math.max(last, s.ts[i]!);
    }
    series.push({ labels: labelsFrom(s.labels), ts, vs, stale });
  }
  assert.ok(markers >= 4, `expected staleness markers in the scraped data, found ${markers}`);
  const q = new MemoryQuerier(series);
  const engine = new Engine();
  // Stay clear of scrapes still in flight when the read was taken.
  const end = Math.min(last, now - 2_000);
  const modes: Mode[] = [];
  for (let t = first - 500; t <= end; t += 250) modes.push({ kind: "instant", time: Math.round(t) });
  for (const step of [333, 500, 1000]) modes.push({ kind: "range", start: Math.round(first), end: Math.round(end), step });
  const failures: string[] = [];
  let runs = 0;
  for (const query of QUERIES) {
    for (const m of modes) {
      const [want, got] = [await promQuery(prom!.url, query, m), await ourQuery(engine, q, query, m)];
      runs++;
      const d = diff(query, want, got);
      if (d !== null) { failures.push(`${query} ${modeLabel(m)}: ${d}`); break; }
    }
  }
  console.log(`${QUERIES.length} queries x ${modes.length} modes over ${Math.round((end - first) / 1000)} s of live scrapes with ${markers} staleness markers: ${runs} evaluations, ${failures.length} queries differ`);
  for (const f of failures) console.log(`MISMATCH ${f}`);
  assert.equal(failures, []);
});

test.run();
