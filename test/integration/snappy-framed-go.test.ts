// shared/encoding/snappyframed.ts against the snappy framing Thanos' gRPC `snappy` codec uses
// (klauspost/compress/snappy v1.18.1, Thanos v0.41.0's: test/lib/go/snappy-framed.go): each side
// decodes what the other wrote, byte for byte, across the 64 KiB chunk boundary, for incompressible and
// repetitive data; corrupt streams are errors naming the offset. Needs `go` (built once, cached).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { errorCode, errorMessage } from "../../shared/encoding/errors.ts";
import { snappyFramedDecode, snappyFramedEncode } from "../../shared/encoding/snappyframed.ts";
import { buildGo } from "../lib/gobuild.ts";

const GO_MOD = `module thanots/snappyframed

go 1.25.0

require github.com/klauspost/compress v1.18.1
`;

let bin = "";
async function goFilter(mode: "encode" | "decode", input: Uint8Array): Promise<{ out: Uint8Array; code: number; err: string }> {
  bin ||= await buildGo("snappy-framed", GO_MOD, readFileSync(fileURLToPath(new URL("../lib/go/snappy-framed.go", import.meta.url)), "utf8"));
  return await new Promise((resolve, reject) => {
    const p = spawn(bin, [mode]);
    const out: Buffer[] = [], err: Buffer[] = [];
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => err.push(d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ out: new Uint8Array(Buffer.concat(out)), code: code ?? -1, err: Buffer.concat(err).toString() }));
    p.stdin.end(Buffer.from(input));
  });
}

function data(n: number, kind: "random" | "text"): Uint8Array {
  const b = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = kind === "random" ? x >>> 24 : "up{job=\"node\",instance=\"a\"} 1\n".charCodeAt(i % 32);
  }
  return b;
}

const CASES: [number, "random" | "text"][] = [[0, "text"], [1, "random"], [100, "text"], [65535, "random"], [65536, "text"], [65537, "random"], [300_000, "text"], [200_000, "random"]];

test("Thanos' codec decodes ours, byte for byte", async () => {
  for (const [n, kind] of CASES) {
    const d = data(n, kind);
    const enc = snappyFramedEncode(d);
    if (kind === "text" && n > 1000) assert.ok(enc.length < n / 4, `text of ${n} bytes compressed to ${enc.length}`);
    const r = await goFilter("decode", enc);
    assert.is(r.code, 0, r.err);
    assert.ok(Buffer.from(r.out).equals(Buffer.from(d)), `${kind} ${n} bytes`);
  }
});

test("we decode Thanos' codec, byte for byte", async () => {
  for (const [n, kind] of CASES) {
    const d = data(n, kind);
    const r = await goFilter("encode", d);
    assert.is(r.code, 0, r.err);
    const dec = snappyFramedDecode(r.out, 1 << 30);
    assert.ok(Buffer.from(dec).equals(Buffer.from(d)), `${kind} ${n} bytes (framed ${r.out.length})`);
  }
});

test("corruption, truncation and size limits are errors; Go agrees the corrupt one is corrupt", async () => {
  const enc = snappyFramedEncode(data(1000, "text"));
  const bad = enc.slice();
  bad[bad.length - 3]! ^= 0x40;
  for (const [b, re, code] of [
    [bad, /offset 10: (checksum mismatch|compressed chunk does not decode)/, "corrupt"],
    [enc.subarray(0, enc.length - 2), /offset 10: chunk of \d+ bytes runs past the end/, "corrupt"],
    [enc.subarray(10), /offset 0: missing stream identifier/, "corrupt"],
    [new Uint8Array([...enc.subarray(0, 10), 0x02, 0, 0, 0]), /reserved unskippable chunk type 0x2/, "corrupt"],
  ] as const) {
    try {
      snappyFramedDecode(b, 1 << 20, "Series request");
      assert.unreachable();
    } catch (e) {
      assert.is(errorCode(e), code);
      assert.match(errorMessage(e), /^Series request: snappy framed stream at /);
      assert.match(errorMessage(e), re);
    }
  }
  assert.is.not((await goFilter("decode", bad)).code, 0);
  try {
    snappyFramedDecode(enc, 999);
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "resource_exhausted");
  }
  // Padding (0xfe) and skippable chunks are skipped.
  const padded = new Uint8Array([...enc.subarray(0, 10), 0xfe, 2, 0, 0, 9, 9, ...enc.subarray(10)]);
  assert.is(snappyFramedDecode(padded, 1 << 20).length, 1000);
});

test.run();
