// fixedChunks: the re-chunking behind every multipart upload (S3 and R2 want equal parts but the last).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { concatBytes, fixedChunks } from "../../../shared/objstore/bucket.ts";

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const p of it) out.push(p);
  return out;
}
async function* from(parts: number[]): AsyncGenerator<Uint8Array> {
  let v = 0;
  for (const n of parts) { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = v++ & 0xff; yield b; }
}

test("parts are exactly `size` bytes but the last, whatever the incoming chunking", async () => {
  const shapes = [[10], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [3, 0, 7, 25], [4, 4, 4], [25], [0], [], [9, 1, 0, 1]];
  for (const shape of shapes) {
    const total = shape.reduce((a, b) => a + b, 0);
    const parts = await collect(fixedChunks(from(shape), 4));
    const sizes = parts.map((p) => p.length);
    const want = total === 0 ? [0] : [...Array(Math.floor(total / 4)).fill(4), ...(total % 4 ? [total % 4] : [])];
    assert.equal(sizes, want, `shape ${JSON.stringify(shape)}`);
    assert.equal(concatBytes(parts), concatBytes(await collect(from(shape))), `bytes for ${JSON.stringify(shape)}`);
  }
  // Byte arrays are cut as views.
  const b = new Uint8Array(10);
  assert.equal((await collect(fixedChunks(b, 4))).map((p) => p.length), [4, 4, 2]);
  assert.equal((await collect(fixedChunks(new Uint8Array(0), 4))).map((p) => p.length), [0]);
});

test.run();
