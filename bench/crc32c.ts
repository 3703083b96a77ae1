// CRC-32C throughput: the WebAssembly slicing-by-16 path `crc32c` takes for inputs of 128 bytes and more,
// against the JavaScript slicing-by-8 fallback, over 34.5 MB (what the sidecar checks for a Series of
// 10k series x 2 h) cut into pieces the size of remote-read frames and network reads.
//
//   bun bench/crc32c.ts | npx tsx bench/crc32c.ts | deno run bench/crc32c.ts
import { crc32c, crc32cImpl, crc32cJs } from "../shared/encoding/crc32c.ts";

const data = new Uint8Array(34_500_000);
for (let i = 0; i < data.length; i++) data[i] = Math.imul(i, 0x9e3779b1) >>> 24;
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
console.log(`${runtime}: crc32c uses ${crc32cImpl}; best of 7, ms per 34.5 MB`);
for (const size of [64, 128, 300, 3400, 65536]) {
  const best = (f: typeof crc32c) => {
    let ms = Infinity, x = 0;
    for (let r = 0; r < 7; r++) {
      const t = performance.now();
      for (let o = 0; o + size <= data.length; o += size) x ^= f(data, o, o + size);
      ms = Math.min(ms, performance.now() - t);
    }
    return { ms, x };
  };
  const js = best(crc32cJs), fast = best(crc32c);
  if (js.x !== fast.x) throw new Error(`pieces of ${size}: the two implementations disagree`);
  const gbs = (ms: number) => (data.length / ms / 1e6).toFixed(2);
  console.log(`pieces of ${String(size).padStart(5)} B: js ${js.ms.toFixed(1).padStart(5)} ms (${gbs(js.ms)} GB/s)  crc32c ${fast.ms.toFixed(1).padStart(5)} ms (${gbs(fast.ms)} GB/s)  ${(js.ms / fast.ms).toFixed(2)}x`);
}
