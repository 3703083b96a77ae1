// The demo workload as closed-form functions of time, so three things agree without talking to each other:
// the live demo target Prometheus scrapes (target.ts), the history seeded into the bucket as blocks
// (seed.ts), and the end-to-end test's expectations (test/integration/e2e-stack.test.ts).
//
// Every counter is floor(base * work(t)), where work(t) integrates a daily traffic curve
// 1 + 0.5·sin(2π·(t − EPOCH)/day) since EPOCH. A PromQL rate over a window [t−w, t] therefore comes out as
// base · (work(t) − work(t−w)) / w (up to the floor and Prometheus' extrapolation at the window edges,
// both well under 1% for the bases here), whichever replica, block or live head the samples came from.
// Pure TS (no runtime APIs) so the test can import it under Node.

/** Counters count from here (ms). Any fixed instant works; this keeps values small enough to read. */
export const EPOCH_MS = Date.UTC(2026, 0, 1);
const DAY_MS = 86_400_000;
const AMPLITUDE = 0.5;

/** Seconds of "work" since EPOCH: ∫ (1 + A·sin(2πs/day)) ds, in seconds. */
export function work(tMs: number): number {
  const s = (tMs - EPOCH_MS) / 1000;
  const daySec = DAY_MS / 1000;
  return s + (AMPLITUDE * daySec) / (2 * Math.PI) * (1 - Math.cos((2 * Math.PI * s) / daySec));
}

/** Relative traffic at time t (the derivative of work). */
export function traffic(tMs: number): number {
  return 1 + AMPLITUDE * Math.sin((2 * Math.PI * (tMs - EPOCH_MS)) / DAY_MS);
}

export interface RequestSeries { handler: string; method: string; code: string; base: number }

/** http_requests_total{handler,method,code}: base requests per second at traffic 1. */
export const REQUESTS: readonly RequestSeries[] = [
  { handler: "/", method: "GET", code: "200", base: 12 },
  { handler: "/", method: "GET", code: "304", base: 3 },
  { handler: "/api/products", method: "GET", code: "200", base: 8 },
  { handler: "/api/products", method: "GET", code: "404", base: 0.4 },
  { handler: "/api/cart", method: "GET", code: "200", base: 2.5 },
  { handler: "/api/cart", method: "POST", code: "200", base: 1.5 },
  { handler: "/api/cart", method: "POST", code: "500", base: 0.05 },
  { handler: "/api/checkout", method: "POST", code: "200", base: 0.6 },
  { handler: "/api/checkout", method: "POST", code: "503", base: 0.02 },
];

/** Latency histogram buckets (seconds), as Prometheus client defaults minus the extremes. */
export const LE: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** http_request_duration_seconds{handler}: latency ~ exponential with this mean (s). */
export const LATENCY_MEAN: Readonly<Record<string, number>> = {
  "/": 0.02, "/api/products": 0.045, "/api/cart": 0.08, "/api/checkout": 0.3,
};

export function latencyCdf(handler: string, le: number): number {
  return 1 - Math.exp(-le / LATENCY_MEAN[handler]!);
}

/** Requests per second of one handler (all methods and codes) at traffic 1. */
export function handlerBase(handler: string): number {
  let b = 0;
  for (const r of REQUESTS) if (r.handler === handler) b += r.base;
  return b;
}

export const HANDLERS: readonly string[] = Object.keys(LATENCY_MEAN);

const MiB = 1024 * 1024;
/** Resident memory: 180 MiB plus a 10-minute sawtooth of up to 48 MiB (allocation, then a GC), page-aligned. */
export function residentBytes(tMs: number): number {
  const phase = (((tMs - EPOCH_MS) % 600_000) + 600_000) % 600_000 / 600_000;
  return Math.floor((180 * MiB + 48 * MiB * phase) / 4096) * 4096;
}
export const VIRTUAL_BYTES = 1536 * MiB;

/** Labels every scraped/seeded demo series carries besides its own (set by relabelling in the demo config). */
export const DEMO_JOB = "demo";
export const DEMO_INSTANCE = "demo-app";

export interface DemoSample { name: string; labels: Record<string, string>; value: number }

/** Every demo series with its value at t (what the target exposes, and what the seeder writes). */
export function demoSamples(tMs: number): DemoSample[] {
  const w = work(tMs);
  const out: DemoSample[] = [];
  for (const r of REQUESTS) {
    out.push({ name: "http_requests_total", labels: { code: r.code, handler: r.handler, method: r.method }, value: Math.floor(r.base * w) });
  }
  for (const h of HANDLERS) {
    const n = handlerBase(h) * w;
    for (const le of LE) {
      out.push({ name: "http_request_duration_seconds_bucket", labels: { handler: h, le: String(le) }, value: Math.floor(n * latencyCdf(h, le)) });
    }
    out.push({ name: "http_request_duration_seconds_bucket", labels: { handler: h, le: "+Inf" }, value: Math.floor(n) });
    out.push({ name: "http_request_duration_seconds_count", labels: { handler: h }, value: Math.floor(n) });
    // Sum of an exponential's samples ≈ count · mean; rounded to the millisecond as a client would show it.
    out.push({ name: "http_request_duration_seconds_sum", labels: { handler: h }, value: Math.round(n * LATENCY_MEAN[h]! * 1000) / 1000 });
  }
  out.push({ name: "process_resident_memory_bytes", labels: {}, value: residentBytes(tMs) });
  out.push({ name: "process_virtual_memory_bytes", labels: {}, value: VIRTUAL_BYTES });
  return out;
}

/** Expected rate(http_requests_total{...}[w]) at t (requests/s), before floor/extrapolation effects. */
export function expectedRate(base: number, tMs: number, windowMs: number): number {
  return (base * (work(tMs) - work(tMs - windowMs))) / (windowMs / 1000);
}
