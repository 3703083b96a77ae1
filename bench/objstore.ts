// Object storage benchmark: what the store gateway and the shipper do to a bucket.
//   bun bench/objstore.ts        npx tsx bench/objstore.ts
// - upload of a 64 MiB object streamed in 1 MiB chunks (the shipper sending a chunk segment)
// - whole-object get
// - 16 KiB ranged reads at random offsets (store gateway reading postings/series/chunks), through
//   bucketSource, sequentially (latency) and 16 at a time (throughput)
// - listing 2000 keys non-recursively and recursively
// Memory and filesystem buckets (the filesystem one on the machine's temp dir, so the OS page cache is
// warm after the upload: these are software-overhead figures, not disk figures).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FilesystemBucket } from "../agent/objstore/fs.ts";
import type { Bucket } from "../shared/objstore/bucket.ts";
import { listAll } from "../shared/objstore/bucket.ts";
import { MemoryBucket } from "../shared/objstore/memory.ts";
import { bucketSource } from "../shared/objstore/source.ts";

const MiB = 1 << 20;
const SIZE = 64 * MiB;
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? `bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}` : `node ${process.version}`;

function data(n: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i += 4) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x & 0xff; b[i + 1] = (x >>> 8) & 0xff; b[i + 2] = (x >>> 16) & 0xff; b[i + 3] = x >>> 24; }
  return b;
}

async function* chunks(b: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < b.length; o += size) yield b.subarray(o, Math.min(b.length, o + size));
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))]!;
}

async function bench(label: string, b: Bucket): Promise<void> {
  const body = data(SIZE);
  let t = performance.now();
  await b.upload("bench/segment", chunks(body, MiB));
  const up = performance.now() - t;
  t = performance.now();
  const got = await b.get("bench/segment");
  const get = performance.now() - t;
  if (got.length !== SIZE) throw new Error("short read");

  const src = bucketSource(b, "bench/segment", { size: SIZE });
  const N = 5000, R = 16 * 1024;
  const offs = Array.from({ length: N }, (_, i) => ((i * 2654435761) >>> 0) % (SIZE - R));
  const lat: number[] = [];
  for (const o of offs.slice(0, 200)) await src.read(o, R); // warm-up
  t = performance.now();
  for (const o of offs) { const s = performance.now(); await src.read(o, R); lat.push(performance.now() - s); }
  const seq = performance.now() - t;
  t = performance.now();
  let i = 0;
  await Promise.all(Array.from({ length: 16 }, async () => { while (i < N) await src.read(offs[i++]!, R); }));
  const par = performance.now() - t;

  for (let k = 0; k < 1000; k++) await b.upload(`list/d${String(k).padStart(4, "0")}/o`, new Uint8Array(1));
  for (let k = 0; k < 1000; k++) await b.upload(`list/f${String(k).padStart(4, "0")}`, new Uint8Array(1));
  t = performance.now();
  const flat = await listAll(b, "list");
  const lflat = performance.now() - t;
  t = performance.now();
  const deep = await listAll(b, "list", { recursive: true });
  const ldeep = performance.now() - t;
  if (flat.length !== 2000 || deep.length !== 2000) throw new Error("listing size");

  const mbs = (ms: number) => (SIZE / MiB / (ms / 1000)).toFixed(0);
  console.log(`${label.padEnd(11)} upload 64 MiB streamed ${up.toFixed(0).padStart(5)} ms (${mbs(up).padStart(5)} MiB/s)   get whole ${get.toFixed(0).padStart(4)} ms (${mbs(get).padStart(5)} MiB/s)`);
  console.log(`${"".padEnd(11)} 16 KiB ranged reads: sequential ${(N / (seq / 1000)).toFixed(0).padStart(6)}/s (p50 ${(pct(lat, 0.5) * 1000).toFixed(0)} µs, p99 ${(pct(lat, 0.99) * 1000).toFixed(0)} µs), 16 in flight ${(N / (par / 1000)).toFixed(0).padStart(6)}/s`);
  console.log(`${"".padEnd(11)} list 2000 entries: flat ${lflat.toFixed(1)} ms, recursive ${ldeep.toFixed(1)} ms`);
}

console.log(`# objstore benchmark on ${runtime}`);
await bench("memory", new MemoryBucket());
const dir = mkdtempSync(join(tmpdir(), "bench-objstore-"));
try {
  await bench("filesystem", new FilesystemBucket(dir));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
