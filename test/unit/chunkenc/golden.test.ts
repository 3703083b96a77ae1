// Our XOR codec against chunks written by Prometheus' own Go code (golden/README.md): Prometheus 2.42's
// layout by default, 3.x's with { goPad: false }; every sample decodes bit-exact.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { XorAppender, XorIterator, decodeXorInto } from "../../../shared/chunkenc/xor.ts";

interface Golden { ts: number[]; bits: string[]; reopen?: number[]; v0_42: string; v0_316: string }
const cases: Golden[] = JSON.parse(readFileSync(new URL("./golden/golden.json", import.meta.url), "utf8"));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => Uint8Array.from(s.match(/../g) ?? [], (x) => parseInt(x, 16));
const hiLo = (h: string): [number, number] => {
  const p = h.padStart(16, "0");
  return [parseInt(p.slice(0, 8), 16), parseInt(p.slice(8), 16)];
};

function encode(c: Golden, goPad: boolean): string {
  let a = new XorAppender({ goPad });
  c.ts.forEach((t, i) => {
    // Re-create the writer from the bytes so far, as the Go side did with XORChunk.Appender().
    if (c.reopen?.includes(i)) a = XorAppender.fromChunk(a.bytes(), "golden", { goPad });
    const [h, l] = hiLo(c.bits[i]!);
    a.appendBits(t, h, l);
  });
  return hex(a.bytes());
}

test("the golden set covers what it claims", () => {
  assert.is(cases.length, 85);
  assert.ok(cases.some((c) => c.v0_42 !== c.v0_316), "some chunks carry 2.42's pad");
  assert.ok(cases.some((c) => c.bits.includes("7ff0000000000002")), "staleness markers");
  assert.ok(cases.some((c) => c.reopen));
});

test("encoder output equals Prometheus 2.42 (v0.42.0) chunks byte for byte", () => {
  for (const [i, c] of cases.entries()) assert.is(encode(c, true), c.v0_42, `case ${i}`);
});

test("with { goPad: false } it equals Prometheus 3.x (v0.316.0) chunks byte for byte", () => {
  for (const [i, c] of cases.entries()) assert.is(encode(c, false), c.v0_316, `case ${i}`);
});

test("Go's chunks from both versions decode to the exact timestamps and value bits", () => {
  for (const [i, c] of cases.entries()) {
    for (const data of [unhex(c.v0_42), unhex(c.v0_316)]) {
      const n = c.ts.length;
      const ts = new Float64Array(n), vs = new Float64Array(n);
      assert.is(decodeXorInto(data, ts, vs, `golden case ${i}`), n);
      assert.equal([...ts], c.ts, `case ${i} timestamps`);
      const dv = new DataView(vs.buffer);
      const bits = c.bits.map((_, j) => dv.getBigUint64(j * 8, true).toString(16));
      assert.equal(bits, c.bits.map((b) => BigInt("0x" + b).toString(16)), `case ${i} value bits`);
      const it = new XorIterator(data);
      let j = 0;
      while (it.next()) {
        assert.is(it.isStale(), c.bits[j] === "7ff0000000000002");
        j++;
      }
      assert.is(j, n);
    }
  }
});

test.run();
