// The WebAssembly XOR decoder (shared/chunkenc/xorwasm.ts) against the JavaScript one: it must give the
// same samples bit for bit, or decline (-1) so that the JavaScript decoder decides. The fuzz slice
// (fuzz.test.ts) compares the two on mutated and random chunks too, and the golden test decodes real
// Prometheus chunks through it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { XorAppender, decodeXorAt, decodeXorAtJs, xorDecoderImpl } from "../../../shared/chunkenc/xor.ts";
import { xorWasm } from "../../../shared/chunkenc/xorwasm.ts";

const rt = (globalThis as { Bun?: unknown; Deno?: unknown }).Bun ? "bun" : (globalThis as { Deno?: unknown }).Deno ? "deno" : "node";

test("the WebAssembly decoder is in use on this runtime (Node, Bun and Deno compile it)", () => {
  assert.ok(xorWasm !== null, `no WebAssembly decoder on ${rt}`);
  assert.is(xorDecoderImpl, "wasm");
});

let seed = 7;
const rnd = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) | 0) >>> 0) / 4294967296;
const ri = (n: number) => Math.floor(rnd() * n);

function chunk(kind: number, n: number): Uint8Array {
  const a = new XorAppender();
  let t = kind === 5 ? -ri(2 ** 40) : 1_700_000_000_000 + ri(15_000);
  let v = ri(1e6);
  for (let i = 0; i < n; i++) {
    if (kind === 4 && rnd() < 0.1) a.appendStale(t);
    else if (kind === 3) a.appendBits(t, ri(2 ** 32), ri(2 ** 32));
    else a.append(t, kind === 1 ? rnd() * 100 : kind === 2 ? 42 : v);
    v += ri(50);
    // dod classes: 0, 14, 17, 20 bits, and (kind 6) 64 bits both ways (a jump of 2^40 ms, then back)
    const j = rnd();
    t += kind === 6 && j < 0.05 ? 2 ** 40 : 15_000 + (j < 0.5 ? 0 : j < 0.7 ? ri(17) - 8 : j < 0.85 ? ri(60_000) : ri(500_000));
  }
  return a.bytes();
}

test("same samples, bit for bit, as the JavaScript decoder over every kind of series and size", () => {
  let taken = 0, declined = 0, taken64 = 0;
  for (let k = 0; k < 3000; k++) {
    const kind = k % 7, n = 1 + ri(k % 10 === 0 ? 2100 : 200);
    const c = chunk(kind, n);
    const n0 = (c[0]! << 8) | c[1]!;
    const t1 = new Float64Array(n0 + 5), b1 = new Uint32Array(2 * (n0 + 5));
    const t2 = new Float64Array(n0 + 5), b2 = new Uint32Array(2 * (n0 + 5));
    assert.is(decodeXorAtJs(c, t1, b1, 0), n0);
    const got = xorWasm!.decodeAt(c, n0, t2, b2, 0);
    if (got === -1) { declined++; continue; }
    taken++;
    if (kind === 6 && n0 > 40) taken64++;
    assert.is(got, n0);
    for (let i = 0; i < n0; i++) {
      if (t1[i] !== t2[i] || b1[2 * i] !== b2[2 * i] || b1[2 * i + 1] !== b2[2 * i + 1]) assert.unreachable(`kind ${kind}, ${n0} samples: sample ${i} differs`);
    }
  }
  assert.ok(taken > 2000, `taken ${taken}`);
  assert.ok(declined > 0, `declined ${declined} (chunks over ${2048} samples)`);
  assert.ok(taken64 > 100, `64-bit deltas-of-delta taken: ${taken64}`);
});

test("at an offset into the output, and decodeXorAt's answer is the JavaScript decoder's", () => {
  const c = chunk(0, 120);
  const t1 = new Float64Array(300), b1 = new Uint32Array(600), t2 = new Float64Array(300), b2 = new Uint32Array(600);
  t2.fill(-1); b2.fill(7);
  assert.is(decodeXorAtJs(c, t1, b1, 37), 120);
  assert.is(decodeXorAt(c, t2, b2, 37), 120);
  assert.equal(Array.from(t2.subarray(0, 37)), new Array(37).fill(-1), "nothing written before the offset");
  assert.equal(Array.from(t2.subarray(37, 157)), Array.from(t1.subarray(37, 157)));
  assert.equal(Array.from(b2.subarray(74, 314)), Array.from(b1.subarray(74, 314)));
});

test("every truncation and every single bit flip: the same answer or the same error as the JavaScript decoder", () => {
  const c = chunk(1, 60);
  const n = (c[0]! << 8) | c[1]!;
  const t1 = new Float64Array(70000), b1 = new Uint32Array(140000), t2 = new Float64Array(70000), b2 = new Uint32Array(140000);
  const inputs: Uint8Array[] = [];
  for (let len = 0; len < c.length; len++) inputs.push(c.slice(0, len));
  for (let bit = 16; bit < c.length * 8; bit++) { const x = c.slice(); x[bit >> 3]! ^= 0x80 >> (bit & 7); inputs.push(x); }
  let errors = 0;
  for (const x of inputs) {
    let e1 = "", e2 = "", g1 = -1, g2 = -1;
    try { g1 = decodeXorAtJs(x, t1, b1, 0); } catch (e) { e1 = (e as Error).message; }
    try { g2 = decodeXorAt(x, t2, b2, 0); } catch (e) { e2 = (e as Error).message; }
    assert.is(e2, e1);
    assert.is(g2, g1);
    if (e1) { errors++; continue; }
    for (let i = 0; i < g1; i++) if (t1[i] !== t2[i] || b1[2 * i] !== b2[2 * i] || b1[2 * i + 1] !== b2[2 * i + 1]) assert.unreachable(`sample ${i} differs`);
  }
  assert.ok(errors > c.length, `errors ${errors} of ${inputs.length}`);
  assert.ok(n === 60);
});

test.run();
