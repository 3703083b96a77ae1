// XOR chunk codec throughput on one core: encode, batch decode, iterator.
// Run: bun bench/xor.ts   |   npx tsx bench/xor.ts   |   deno run bench/xor.ts   (optional arg: seconds per figure, default 1.5)
// Data: 120-sample chunks (Prometheus' target size) of realistic series: counters with integer steps
// and occasional resets, gauges with float jitter, 15 s scrapes with a few ms of timestamp jitter,
// plus some constant series. Figures are samples per second (best of 5 rounds).
import { XorAppender, XorIterator, decodeXorAtJs, decodeXorInto, xorDecoderImpl } from "../shared/chunkenc/xor.ts";

const SERIES = 2000, N = 120;
let seed = 42;
const rnd = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) | 0) >>> 0) / 4294967296;

const ts: Float64Array[] = [], vs: Float64Array[] = [];
for (let s = 0; s < SERIES; s++) {
  const t = new Float64Array(N), v = new Float64Array(N);
  let tt = 1_700_000_000_000 + Math.floor(rnd() * 15000);
  const kind = s % 4;
  let val = kind === 0 ? Math.floor(rnd() * 1e6) : rnd() * 100;
  for (let i = 0; i < N; i++) {
    t[i] = tt + (rnd() < 0.3 ? Math.floor(rnd() * 5) : 0);
    v[i] = val;
    tt += 15000;
    if (kind === 0) val += rnd() < 0.001 ? -val : Math.floor(rnd() * 50); // counter
    else if (kind === 1) val = 50 + rnd() * 10; // gauge with jitter
    else if (kind === 2) val += (rnd() - 0.5) * 0.25; // slowly moving gauge
    // kind 3: constant
  }
  ts.push(t); vs.push(v);
}

const secs = Number(process.argv[2] ?? 1.5);

// Rates are per second of this process' CPU time (process.cpuUsage), so a machine shared with other
// work does not halve them the way wall time would; wall-clock rates are printed alongside.
const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
function measure(name: string, fn: () => number): void {
  let best = 0, bestWall = 0;
  for (let round = 0; round < 5; round++) {
    let samples = 0;
    const start = performance.now(), c0 = cpuMs();
    let el = 0;
    do { samples += fn(); el = performance.now() - start; } while (el < (secs * 1000) / 5);
    best = Math.max(best, samples / ((cpuMs() - c0) / 1000));
    bestWall = Math.max(bestWall, samples / (el / 1000));
  }
  console.log(`${name.padEnd(34)} ${(best / 1e6).toFixed(1).padStart(6)} M samples/s per CPU s (${(bestWall / 1e6).toFixed(1)} M/s wall)`);
}

const app = new XorAppender();
const chunks: Uint8Array[] = [];
let bytes = 0;
for (let s = 0; s < SERIES; s++) {
  app.reset();
  for (let i = 0; i < N; i++) app.append(ts[s]![i]!, vs[s]![i]!);
  const b = app.bytes();
  chunks.push(b);
  bytes += b.length;
}
const g = globalThis as any;
const rt = g.Bun ? `bun ${g.Bun.version}` : g.Deno ? `deno ${g.Deno.version.deno}` : `node ${process.version}`;
console.log(`runtime ${rt}; ${SERIES} chunks x ${N} samples, ${(bytes / (SERIES * N)).toFixed(2)} bytes/sample`);

measure("encode (XorAppender.append)", () => {
  let n = 0;
  for (let s = 0; s < SERIES; s++) {
    app.reset();
    const t = ts[s]!, v = vs[s]!;
    for (let i = 0; i < N; i++) app.append(t[i]!, v[i]!);
    app.bytes();
    n += N;
  }
  return n;
});

const ot = new Float64Array(N), ov = new Float64Array(N);
let sink = 0;
measure(`decode (decodeXorInto, ${xorDecoderImpl})`, () => {
  let n = 0;
  for (let s = 0; s < SERIES; s++) n += decodeXorInto(chunks[s]!, ot, ov);
  sink += ov[N - 1]!;
  return n;
});

// The JavaScript decoder alone: what the WebAssembly path (shared/chunkenc/xorwasm.ts) is measured against.
const ob = new Uint32Array(ov.buffer);
measure("decode (JavaScript only)", () => {
  let n = 0;
  for (let s = 0; s < SERIES; s++) n += decodeXorAtJs(chunks[s]!, ot, ob, 0);
  sink += ov[N - 1]!;
  return n;
});

const it = new XorIterator();
measure("iterate (XorIterator next/at/value)", () => {
  let n = 0, acc = 0;
  for (let s = 0; s < SERIES; s++) {
    it.reset(chunks[s]!);
    while (it.next()) { acc += it.at() + it.value(); n++; }
  }
  sink += acc;
  return n;
});
if (sink === 42) console.log("");
