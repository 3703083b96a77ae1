// Our remote-read client against a real Prometheus 2.42 serving promtool-backfilled blocks: both
// answer types (SAMPLES and STREAMED_XOR_CHUNKS) give back exactly the samples we backfilled, with
// Prometheus' external labels added, sorted, and one query_index per query.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempDir } from "../lib/proc.ts";
import { promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { remoteRead, ResponseType } from "../../shared/remote/read.ts";
import { LabelMatcher_Type, Chunk_Encoding, type Label } from "../../shared/gen/prometheus/types_pb.ts";
import { decodeXorInto } from "../../shared/chunkenc/xor.ts";

// Seconds with millisecond fractions, as OpenMetrics writes them; the truth for both answer types.
const T0 = 1_700_000_000;
const N = 400; // > 120 samples per series: several chunks each
type Sample = [number, number];
const series: { labels: Record<string, string>; samples: Sample[] }[] = [];
{
  const odd = [0.1, -0, 1e300, -2.5e-300, Infinity, -Infinity, NaN, 42];
  const a: Sample[] = [], b: Sample[] = [], c: Sample[] = [];
  for (let i = 0; i < N; i++) {
    const ms = (T0 + i * 15) * 1000 + (i % 7) * 3; // jittered, like real scrapes
    a.push([ms, i]);
    b.push([ms, odd[i % odd.length]!]);
    if (i % 3 === 0) c.push([ms + 1000, i * 0.25 - 7]);
  }
  series.push({ labels: { __name__: "rr_demo", job: "a", k: "x" }, samples: a });
  series.push({ labels: { __name__: "rr_demo", job: "b", k: "x" }, samples: b });
  series.push({ labels: { __name__: "rr_other", job: "a" }, samples: c });
}

function omValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

function openMetrics(): string {
  let s = "";
  for (const name of ["rr_demo", "rr_other"]) {
    s += `# TYPE ${name} gauge\n`;
    for (const sr of series.filter((x) => x.labels.__name__ === name)) {
      const ls = Object.entries(sr.labels).filter(([k]) => k !== "__name__").map(([k, v]) => `${k}="${v}"`).join(",");
      for (const [t, v] of sr.samples) s += `${name}{${ls}} ${omValue(v)} ${(t / 1000).toFixed(3)}\n`;
    }
  }
  return s + "# EOF\n";
}

const EXT = { replica: "r1" };
let prom: Prometheus;
let url: string;

function want(name: RegExp, mint: number, maxt: number): { labels: Record<string, string>; samples: Sample[] }[] {
  return series
    .filter((s) => name.test(s.labels.__name__!))
    .map((s) => ({ labels: { ...s.labels, ...EXT }, samples: s.samples.filter(([t]) => t >= mint && t <= maxt) }))
    .sort((x, y) => cmpLabels(x.labels, y.labels));
}

function cmpLabels(a: Record<string, string>, b: Record<string, string>): number {
  const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
    if (a[ka[i]!] !== b[kb[i]!]) return a[ka[i]!]! < b[kb[i]!]! ? -1 : 1;
  }
  return ka.length - kb.length;
}

const rec = (ls: Label[]) => Object.fromEntries(ls.map((l) => [l.name, l.value]));

// SAMPLES travels as proto3 doubles, and Prometheus' (gogo) encoder omits a value that == 0, so -0
// arrives as +0. Chunks keep the float bits, -0 included.
function samplesWire(exp: Sample[]): Sample[] {
  return exp.map(([t, v]) => [t, Object.is(v, -0) ? 0 : v]);
}

function sameSamples(got: Sample[], exp: Sample[], what: string): void {
  assert.is(got.length, exp.length, `${what}: sample count`);
  for (let i = 0; i < exp.length; i++) {
    const [t, v] = got[i]!, [et, ev] = exp[i]!;
    assert.ok(t === et && (Object.is(v, ev) || (Number.isNaN(v) && Number.isNaN(ev))),
      `${what}: sample ${i}: got ${t} ${v}, want ${et} ${ev}`);
  }
}

test.before(async () => {
  const dir = tempDir("rr-tsdb-").path;
  await promtoolBackfill(openMetrics(), dir);
  prom = await startPrometheus({ dataDir: dir, config: `global:\n  scrape_interval: 15s\n  external_labels:\n    replica: r1\n` });
  url = `${prom.url}/api/v1/read`;
});

test.after(async () => { await prom?.stop(); });

const mint = T0 * 1000, maxt = (T0 + N * 15) * 1000;
const match = [{ type: LabelMatcher_Type.RE, name: "__name__", value: "rr_.*" }];

test("SAMPLES: every backfilled sample back exactly, external labels added, sorted", async () => {
  const r = await remoteRead(fetch, url, { queries: [{ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(maxt), matchers: match }] });
  assert.is(r.type, "samples");
  if (r.type !== "samples") return;
  assert.is(r.response.results.length, 1);
  const got = r.response.results[0]!.timeseries;
  const exp = want(/^rr_/, mint, maxt);
  assert.equal(got.map((s) => rec(s.labels)), exp.map((s) => s.labels));
  got.forEach((s, i) => sameSamples(s.samples.map((x) => [Number(x.timestamp), x.value]), samplesWire(exp[i]!.samples), `series ${i}`));
});

test("SAMPLES through the direct typed-array decoder: the same", async () => {
  const r = await remoteRead(fetch, url, { queries: [{ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(maxt), matchers: match }] }, { samples: "raw" });
  if (r.type !== "rawSamples") throw new Error(`want rawSamples, got ${r.type}`);
  const exp = want(/^rr_/, mint, maxt);
  assert.equal(r.results[0]!.series.map((s) => rec(s.labels as Label[])), exp.map((s) => s.labels));
  r.results[0]!.series.forEach((s, i) => sameSamples(Array.from(s.ts, (t, k) => [t, s.vals[k]!] as Sample), samplesWire(exp[i]!.samples), `series ${i}`));
});

test("STREAMED_XOR_CHUNKS: chunks decode to the same samples; frames sorted, series whole", async () => {
  const r = await remoteRead(fetch, url, {
    queries: [{ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(maxt), matchers: match }],
    acceptedResponseTypes: [ResponseType.STREAMED_XOR_CHUNKS, ResponseType.SAMPLES],
  });
  assert.is(r.type, "chunked");
  if (r.type !== "chunked") return;
  const got: { labels: Record<string, string>; samples: Sample[] }[] = [];
  let chunks = 0;
  const ts = new Float64Array(200), vs = new Float64Array(200);
  for await (const f of r.frames) {
    assert.is(f.queryIndex, 0n);
    for (const cs of f.chunkedSeries) {
      const labels = rec(cs.labels);
      const last = got[got.length - 1];
      const cur = last && cmpLabels(last.labels, labels) === 0 ? last : (got.push({ labels, samples: [] }), got[got.length - 1]!);
      for (const c of cs.chunks) {
        assert.is(c.type, Chunk_Encoding.XOR);
        const n = decodeXorInto(c.data, ts, vs, "chunk from Prometheus");
        assert.is(Number(c.minTimeMs), ts[0]);
        assert.is(Number(c.maxTimeMs), ts[n - 1]);
        for (let i = 0; i < n; i++) cur.samples.push([ts[i]!, vs[i]!]);
        chunks++;
      }
    }
  }
  const exp = want(/^rr_/, mint, maxt);
  assert.equal(got.map((s) => s.labels), exp.map((s) => s.labels), "series, in order, each once");
  got.forEach((s, i) => sameSamples(s.samples, exp[i]!.samples, `series ${i}`));
  assert.ok(chunks >= 7, `expected several chunks per series, got ${chunks}`);
});

test("two queries: one query_index each; SAMPLES trims to the range, chunks cover it", async () => {
  const lo = mint + 600_000, hi = mint + 1_800_000;
  const queries = [
    { startTimestampMs: BigInt(lo), endTimestampMs: BigInt(hi), matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "rr_other" }] },
    { startTimestampMs: BigInt(lo), endTimestampMs: BigInt(hi), matchers: [{ type: LabelMatcher_Type.EQ, name: "job", value: "b" }] },
  ];
  const s = await remoteRead(fetch, url, { queries });
  if (s.type !== "samples") throw new Error("want samples");
  assert.is(s.response.results.length, 2);
  const e0 = want(/^rr_other$/, lo, hi), e1 = want(/^rr_demo$/, lo, hi).filter((x) => x.labels.job === "b");
  assert.equal(s.response.results.map((q) => q.timeseries.map((t) => rec(t.labels))), [e0.map((x) => x.labels), e1.map((x) => x.labels)]);
  sameSamples(s.response.results[0]!.timeseries[0]!.samples.map((x) => [Number(x.timestamp), x.value]), samplesWire(e0[0]!.samples), "query 0");
  sameSamples(s.response.results[1]!.timeseries[0]!.samples.map((x) => [Number(x.timestamp), x.value]), samplesWire(e1[0]!.samples), "query 1");

  const c = await remoteRead(fetch, url, { queries, acceptedResponseTypes: [ResponseType.STREAMED_XOR_CHUNKS] });
  if (c.type !== "chunked") throw new Error("want chunked");
  const byQuery = new Map<bigint, Sample[]>();
  const ts = new Float64Array(200), vs = new Float64Array(200);
  for await (const f of c.frames) {
    for (const cs of f.chunkedSeries) for (const ch of cs.chunks) {
      const n = decodeXorInto(ch.data, ts, vs);
      const acc = byQuery.get(f.queryIndex) ?? [];
      for (let i = 0; i < n; i++) acc.push([ts[i]!, vs[i]!]);
      byQuery.set(f.queryIndex, acc);
    }
  }
  assert.equal([...byQuery.keys()], [0n, 1n]);
  sameSamples(byQuery.get(0n)!.filter(([t]) => t >= lo && t <= hi), e0[0]!.samples, "query 0 chunks");
  sameSamples(byQuery.get(1n)!.filter(([t]) => t >= lo && t <= hi), e1[0]!.samples, "query 1 chunks");
});

// Prometheus 2.42 answers a bad regex in remote read with HTTP 500 (not 400): an upstream failure.
test("a bad regex is Prometheus' HTTP 500, surfaced as unavailable with its message", async () => {
  try {
    await remoteRead(fetch, url, { queries: [{ startTimestampMs: 0n, endTimestampMs: 1n, matchers: [{ type: LabelMatcher_Type.RE, name: "a", value: "(" }] }] });
    assert.unreachable("want an error");
  } catch (e) {
    assert.is((e as { code?: string }).code, "unavailable");
    assert.is((e as Error).message, `remote read ${url}: HTTP 500: error parsing regexp: missing closing ): \`^(?:()$\``);
  }
});

test.run();
