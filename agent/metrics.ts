// A tiny Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4 (what every Prometheus scrapes). No dependency, no global default registry:
// each component owns one and serves `registry.render()` at /metrics.
//
//   const reg = new Registry();
//   const reqs = reg.counter("thanos_sidecar_requests_total", "StoreAPI requests.", ["method", "code"]);
//   reqs.inc({ method: "Series", code: "OK" });

export type LabelValues = Record<string, string>;

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

function escHelp(s: string): string { return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n"); }
function escValue(s: string): string { return s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"'); }

/** Go strconv.FormatFloat(v, 'g', -1, 64) closely enough for the exposition format. */
export function formatMetricValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Metric {
  protected readonly series = new Map<string, { labels: string[]; v: number }>();
  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {
    if (!NAME_RE.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not valid`);
    for (const l of labelNames) if (!LABEL_RE.test(l) || l.startsWith("__")) throw new Error(`metric ${name}: label name ${JSON.stringify(l)} is not valid`);
  }
  abstract readonly type: string;

  protected values(lv: LabelValues | undefined): string[] {
    const out: string[] = [];
    for (const n of this.labelNames) out.push(lv?.[n] ?? "");
    return out;
  }

  protected cell(lv: LabelValues | undefined): { labels: string[]; v: number } {
    const vals = this.values(lv);
    const key = vals.join("\xff");
    let c = this.series.get(key);
    if (!c) { c = { labels: vals, v: 0 }; this.series.set(key, c); }
    return c;
  }

  protected labelStr(vals: readonly string[], extra?: [string, string]): string {
    const parts: string[] = [];
    for (let i = 0; i < this.labelNames.length; i++) parts.push(`${this.labelNames[i]}="${escValue(vals[i]!)}"`);
    if (extra) parts.push(`${extra[0]}="${escValue(extra[1])}"`);
    return parts.length ? `{${parts.join(",")}}` : "";
  }

  render(): string {
    let s = `# HELP ${this.name} ${escHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    // An unlabelled metric is exposed as 0 before its first use, as client_golang does.
    if (this.labelNames.length === 0 && this.series.size === 0) this.cell(undefined);
    s += this.renderSeries();
    return s;
  }

  protected renderSeries(): string {
    let s = "";
    for (const c of this.series.values()) s += `${this.name}${this.labelStr(c.labels)} ${formatMetricValue(c.v)}\n`;
    return s;
  }
}

export class Counter extends Metric {
  readonly type = "counter";
  inc(lv?: LabelValues, by = 1): void {
    if (!(by >= 0)) throw new Error(`counter ${this.name}: cannot add ${by}`);
    this.cell(lv).v += by;
  }
  get(lv?: LabelValues): number { return this.series.get(this.values(lv).join("\xff"))?.v ?? 0; }
}

export class Gauge extends Metric {
  readonly type = "gauge";
  set(v: number, lv?: LabelValues): void { this.cell(lv).v = v; }
  inc(lv?: LabelValues, by = 1): void { this.cell(lv).v += by; }
  dec(lv?: LabelValues, by = 1): void { this.cell(lv).v -= by; }
  get(lv?: LabelValues): number { return this.series.get(this.values(lv).join("\xff"))?.v ?? 0; }
}

export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Histogram extends Metric {
  readonly type = "histogram";
  private readonly hs = new Map<string, { labels: string[]; counts: number[]; sum: number; count: number }>();
  readonly buckets: readonly number[];
  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[] = DEFAULT_BUCKETS) {
    super(name, help, labelNames);
    if (labelNames.includes("le")) throw new Error(`histogram ${name}: "le" is reserved`);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }
  observe(v: number, lv?: LabelValues): void {
    const vals = this.values(lv);
    const key = vals.join("\xff");
    let h = this.hs.get(key);
    if (!h) { h = { labels: vals, counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 }; this.hs.set(key, h); }
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) h.counts[i]!++;
    h.sum += v;
    h.count++;
  }
  /** Starts a timer; call the result to observe the elapsed seconds. */
  startTimer(lv?: LabelValues): () => number {
    const t0 = performance.now();
    return () => { const s = (performance.now() - t0) / 1000; this.observe(s, lv); return s; };
  }
  count(lv?: LabelValues): number { return this.hs.get(this.values(lv).join("\xff"))?.count ?? 0; }
  override render(): string {
    if (this.labelNames.length === 0 && this.hs.size === 0) {
      this.hs.set("", { labels: [], counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 });
    }
    return `# HELP ${this.name} ${escHelp(this.help)}\n# TYPE ${this.name} histogram\n` + this.renderSeries();
  }
  protected override renderSeries(): string {
    let s = "";
    for (const h of this.hs.values()) {
      for (let i = 0; i < this.buckets.length; i++) {
        s += `${this.name}_bucket${this.labelStr(h.labels, ["le", formatMetricValue(this.buckets[i]!)])} ${h.counts[i]}\n`;
      }
      s += `${this.name}_bucket${this.labelStr(h.labels, ["le", "+Inf"])} ${h.count}\n`;
      s += `${this.name}_sum${this.labelStr(h.labels)} ${formatMetricValue(h.sum)}\n`;
      s += `${this.name}_count${this.labelStr(h.labels)} ${h.count}\n`;
    }
    return s;
  }
}

/** A metric family given as data at collection time (e.g. the rules engine's, shared/rules/metrics.ts). */
export interface FamilyData {
  name: string;
  help: string;
  type: "counter" | "gauge" | "summary" | "histogram";
  samples: { labels: Record<string, string>; value: number; suffix?: string }[];
}

function renderFamily(f: FamilyData): string {
  let s = `# HELP ${f.name} ${escHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
  for (const x of f.samples) {
    const ls = Object.entries(x.labels).map(([k, v]) => `${k}="${escValue(v)}"`);
    s += `${f.name}${x.suffix ?? ""}${ls.length ? `{${ls.join(",")}}` : ""} ${formatMetricValue(x.value)}\n`;
  }
  return s;
}

export class Registry {
  private readonly metrics = new Map<string, Metric>();
  private readonly collectors: (() => void)[] = [];
  private readonly sources: (() => FamilyData[])[] = [];

  private add<M extends Metric>(m: M): M {
    if (this.metrics.has(m.name)) throw new Error(`metric ${m.name} registered twice`);
    this.metrics.set(m.name, m);
    return m;
  }
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter { return this.add(new Counter(name, help, labelNames)); }
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge { return this.add(new Gauge(name, help, labelNames)); }
  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets?: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }
  /** Runs before every render (e.g. to set process gauges). */
  onCollect(fn: () => void): void { this.collectors.push(fn); }
  /** Families produced as data at every render, merged with the registered metrics by name. */
  addSource(fn: () => FamilyData[]): void { this.sources.push(fn); }

  render(): string {
    for (const c of this.collectors) { try { c(); } catch { /* a broken collector must not break /metrics */ } }
    const parts: { name: string; text: () => string }[] = [];
    for (const m of this.metrics.values()) parts.push({ name: m.name, text: () => m.render() });
    const seen = new Set(this.metrics.keys());
    for (const src of this.sources) {
      let fams: FamilyData[];
      try { fams = src(); } catch { continue; }
      for (const f of fams) {
        if (seen.has(f.name)) continue; // registered twice: the first one is kept
        seen.add(f.name);
        parts.push({ name: f.name, text: () => renderFamily(f) });
      }
    }
    let s = "";
    for (const p of parts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) s += p.text();
    return s;
  }
}
