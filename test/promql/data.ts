// Deterministic test data for the PromQL differential test and benchmark: the same samples go to
// promtool (as OpenMetrics text) and to a MemoryQuerier, so both engines see identical data.
// Shapes chosen to hit the engine's corners: counters with resets, gauges crossing zero, classic
// histograms, series that stop and restart (gaps longer and shorter than the 5m lookback), NaN/±Inf
// values, millisecond scrape jitter, HA-replica duplicates that differ only in `replica`.

import type { MemorySeries } from "../../shared/storage/memory.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";

/** mulberry32: small, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Dataset {
  series: MemorySeries[];
  /** First and last sample time (ms). */
  start: number;
  end: number;
}

/** Start of the test data: a fixed time on a 2h block boundary (ms). */
export const T0 = 1_699_999_200_000;

export interface GenOptions {
  hours?: number;
  seed?: number;
}

export function generateDataset(opts: GenOptions = {}): Dataset {
  const hours = opts.hours ?? 4;
  const r = rng(opts.seed ?? 42);
  const end = T0 + hours * 3600_000;
  const out: MemorySeries[] = [];
  const add = (labels: Record<string, string>, ts: number[], vs: number[]) => {
    if (ts.length > 0) out.push({ labels: labelsFrom(labels), ts, vs });
  };
  /** Scrape times every `step` ms with up to ±jitter ms, within [from, to). */
  const times = (step: number, jitter: number, from = T0, to = end): number[] => {
    const ts: number[] = [];
    let last = -Infinity;
    for (let t = from; t < to; t += step) {
      const x = t + Math.round((r() * 2 - 1) * jitter);
      if (x > last) { ts.push(x); last = x; }
    }
    return ts;
  };

  // Counters with resets.
  for (const job of ["api", "web"]) {
    for (let i = 0; i < 4; i++) {
      for (const method of ["GET", "POST"]) {
        for (const code of ["200", "404", "500"]) {
          const ts = times(15_000, 300);
          const vs: number[] = [];
          let v = Math.floor(r() * 1000);
          const rate = (code === "200" ? 20 : code === "404" ? 2 : 0.5) * (method === "GET" ? 3 : 1);
          for (let k = 0; k < ts.length; k++) {
            if (r() < 0.004) v = Math.floor(r() * 5); // process restart
            else v += Math.floor(r() * rate * 2);
            vs.push(v);
          }
          add({ __name__: "http_requests_total", job, instance: `${job}-${i}:8080`, method, code }, ts, vs);
        }
      }
    }
  }
  // Fractional counters at 30s.
  for (let i = 0; i < 3; i++) {
    for (const cpu of ["0", "1"]) {
      for (const mode of ["idle", "user", "system"]) {
        const ts = times(30_000, 100);
        let v = r() * 1e5;
        const vs = ts.map(() => (v += r() * (mode === "idle" ? 29 : 3)));
        add({ __name__: "node_cpu_seconds_total", instance: `node-${i}`, cpu, mode, job: "node" }, ts, vs);
      }
    }
  }
  // Gauges crossing zero at 60s, some negative.
  for (let i = 0; i < 10; i++) {
    const ts = times(60_000, 0);
    let v = (r() - 0.5) * 40;
    const vs = ts.map(() => (v += (r() - 0.5) * 3));
    add({ __name__: "temperature", room: `room${i % 5}`, sensor: `s${i}`, job: "sensors" }, ts, vs);
  }
  // HA pairs: the same target scraped by two replicas, slightly offset in time and value.
  for (let i = 0; i < 4; i++) {
    const base = times(15_000, 0);
    let v = 1e9 + r() * 1e8;
    const va = base.map(() => (v += (r() - 0.5) * 1e6));
    add({ __name__: "memory_bytes", instance: `db-${i}`, replica: "a", job: "db" }, base, va);
    add({ __name__: "memory_bytes", instance: `db-${i}`, replica: "b", job: "db" }, base.map((t) => t + 1234), va.map((x) => x + 4096));
  }
  // Classic histograms (cumulative buckets, _sum, _count), occasionally with a reset.
  const les = ["0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"];
  for (const job of ["api", "web"]) {
    for (let i = 0; i < 3; i++) {
      const ts = times(15_000, 200);
      const counts = les.map(() => 0);
      const bucketVals: number[][] = les.map(() => []);
      const sums: number[] = [], cnts: number[] = [];
      let sum = 0;
      for (let k = 0; k < ts.length; k++) {
        if (r() < 0.003) { counts.fill(0); sum = 0; }
        const n = Math.floor(r() * 20);
        for (let o = 0; o < n; o++) {
          const d = -Math.log(1 - r()) * (job === "api" ? 0.3 : 1.2);
          sum += d;
          for (let b = 0; b < les.length; b++) if (b === les.length - 1 || d <= Number(les[b])) counts[b]!++;
        }
        for (let b = 0; b < les.length; b++) bucketVals[b]!.push(counts[b]!);
        sums.push(sum);
        cnts.push(counts[les.length - 1]!);
      }
      const inst = `${job}-${i}:8080`;
      les.forEach((le, b) => add({ __name__: "request_duration_seconds_bucket", job, instance: inst, le }, ts, bucketVals[b]!));
      add({ __name__: "request_duration_seconds_sum", job, instance: inst }, ts, sums);
      add({ __name__: "request_duration_seconds_count", job, instance: inst }, ts, cnts);
    }
  }
  // Series that stop and restart: gaps shorter and longer than the 5m lookback.
  for (let i = 0; i < 8; i++) {
    const ts: number[] = [], vs: number[] = [];
    let t = T0 + i * 7_000;
    let v = r() * 10;
    while (t < end) {
      const on = (20 + Math.floor(r() * 40)) * 60_000;
      for (const x of times(20_000, 0, t, Math.min(end, t + on))) { ts.push(x); vs.push((v += r() - 0.3)); }
      t += on + (r() < 0.5 ? 2 + Math.floor(r() * 3) : 6 + Math.floor(r() * 30)) * 60_000;
    }
    add({ __name__: "flappy", id: String(i), job: "batch" }, ts, vs);
  }
  // Specials: NaN and ±Inf among ordinary values.
  for (let i = 0; i < 4; i++) {
    const ts = times(30_000, 0);
    const vs = ts.map(() => {
      const x = r();
      return x < 0.05 ? NaN : x < 0.07 ? Infinity : x < 0.09 ? -Infinity : (x - 0.5) * 100;
    });
    add({ __name__: "odd_values", id: String(i), job: "odd" }, ts, vs);
  }
  // up, info-style constants, label values for label_replace/label_join.
  for (const job of ["api", "web"]) {
    for (let i = 0; i < 4; i++) {
      const ts = times(15_000, 0);
      add({ __name__: "up", job, instance: `${job}-${i}:8080` }, ts, ts.map(() => (r() < 0.05 ? 0 : 1)));
      add({ __name__: "build_info", job, instance: `${job}-${i}:8080`, version: i % 2 ? "1.2.3" : "1.3.0", path: `/srv/${job}/v${i}` }, ts.filter((_, k) => k % 4 === 0), ts.filter((_, k) => k % 4 === 0).map(() => 1));
    }
  }
  // Small integer gauges: ties for topk/bottomk/sort, count_values, equality comparisons.
  for (let i = 0; i < 12; i++) {
    const ts = times(60_000, 0);
    add({ __name__: "queue_depth", queue: `q${i}`, shard: String(i % 3), job: "worker" }, ts, ts.map(() => Math.floor(r() * 5)));
  }
  // A sparse series (samples 7m apart: always beyond lookback between scrapes at some steps).
  add({ __name__: "sparse", job: "batch" }, times(7 * 60_000, 0), times(7 * 60_000, 0).map((_, k) => k));
  // Timestamp-valued gauge for date functions.
  {
    const ts = times(60_000, 0);
    add({ __name__: "last_seen_seconds", job: "batch" }, ts, ts.map((t, k) => Math.floor(t / 1000) - k * 86400 * 3 + k * 3671));
  }
  return { series: out, start: T0, end };
}

/** A bench dataset: `n` counter series at 15s over `hours`. */
export function generateBenchDataset(n: number, hours: number, seed = 7): Dataset {
  const r = rng(seed);
  const end = T0 + hours * 3600_000;
  const series: MemorySeries[] = [];
  for (let i = 0; i < n; i++) {
    const ts: number[] = [], vs: number[] = [];
    let v = Math.floor(r() * 1000);
    for (let t = T0; t < end; t += 15_000) {
      ts.push(t);
      if (r() < 0.001) v = 0; else v += Math.floor(r() * 10);
      vs.push(v);
    }
    series.push({
      labels: labelsFrom({ __name__: "bench_requests_total", job: `job${i % 10}`, instance: `host-${Math.floor(i / 10) % 100}`, shard: String(i % 7), id: String(i) }),
      ts, vs,
    });
  }
  return { series, start: T0, end };
}

function fmtValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function fmtTime(ms: number): string {
  const s = Math.floor(ms / 1000), f = ms - s * 1000;
  return f === 0 ? String(s) : `${s}.${String(f).padStart(3, "0")}`;
}

/** OpenMetrics text for promtool (seconds timestamps, grouped by metric family, `# EOF` last). */
export function* openMetricsChunks(ds: Dataset): Generator<string> {
  const byName = new Map<string, MemorySeries[]>();
  for (const s of ds.series) {
    const name = s.labels.find((l) => l.name === "__name__")!.value;
    let g = byName.get(name);
    if (!g) byName.set(name, (g = []));
    g.push(s);
  }
  for (const [name, group] of byName) {
    yield `# TYPE ${name} unknown\n`;
    for (const s of group) {
      const lbls = s.labels.filter((l) => l.name !== "__name__").map((l) => `${l.name}="${l.value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",");
      const prefix = `${name}{${lbls}} `;
      let chunk = "";
      for (let i = 0; i < s.ts.length; i++) {
        chunk += prefix + fmtValue(s.vs[i]!) + " " + fmtTime(s.ts[i]!) + "\n";
        if (chunk.length > 1 << 16) { yield chunk; chunk = ""; }
      }
      if (chunk) yield chunk;
    }
  }
  yield "# EOF\n";
}

export function openMetrics(ds: Dataset): string {
  let s = "";
  for (const c of openMetricsChunks(ds)) s += c;
  return s;
}
