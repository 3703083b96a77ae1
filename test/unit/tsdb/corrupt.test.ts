// Corrupt blocks: every damaged section is reported as CodedError "corrupt" (or "not_found") naming
// the block ULID, the file and the byte offset; nothing is misread and nothing crashes.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode } from "../../../shared/encoding/errors.ts";
import { BlocksQuerier } from "../../../shared/tsdb/querier.ts";
import { parseTombstones } from "../../../shared/tsdb/tombstones.ts";
import { parseBlockMeta } from "../../../shared/tsdb/meta.ts";
import type { Toc } from "../../../shared/tsdb/index.ts";
import { makeSeries, memoryBlock, openFiles } from "./helpers.ts";

const ULID = "01HQ0000000000000000000000";
let base: Awaited<ReturnType<typeof memoryBlock>>;
let toc: Toc;
test.before(async () => {
  base = await memoryBlock(makeSeries(40, 300), { ulid: ULID, segmentSize: 8192 });
  toc = base.block.index.toc;
});

function damaged(file: string, f: (b: Uint8Array) => Uint8Array): Map<string, Uint8Array> {
  const m = new Map(base.files);
  m.set(file, f(base.files.get(file)!.slice()));
  return m;
}
const flip = (at: number) => (b: Uint8Array) => { b[at]! ^= 0x40; return b; };

async function readAll(files: Map<string, Uint8Array>): Promise<void> {
  const b = await openFiles(files);
  const r = await new BlocksQuerier([b]).select({ start: -Infinity, end: Infinity }, []);
  for (const s of r.series) {
    const it = s.iterator();
    while (it.next()) { /* drain */ }
    if (it.err()) throw it.err();
  }
}

async function expectError(files: Map<string, Uint8Array>, code: string, ...parts: RegExp[]): Promise<string> {
  try {
    await readAll(files);
  } catch (e) {
    const msg = (e as Error).message;
    assert.is(errorCode(e), code, msg);
    assert.ok(msg.includes(ULID), `no block ULID in: ${msg}`);
    for (const p of parts) assert.match(msg, p);
    return msg;
  }
  assert.unreachable("no error");
  return "";
}

test("undamaged block reads fine", async () => { await readAll(base.files); });

test("TOC crc", async () => {
  const n = base.files.get("index")!.length;
  await expectError(damaged("index", flip(n - 52 + 7)), "corrupt", /index TOC: crc mismatch/, new RegExp(`at offset ${n - 4}`));
});

test("truncated index", async () => {
  await expectError(damaged("index", (b) => b.subarray(0, Math.floor(b.length / 2))), "corrupt", /index/, /offset \d+/);
  await expectError(damaged("index", (b) => b.subarray(0, 20)), "corrupt", /index of 20 bytes is too short/);
});

test("symbol table crc", async () => {
  await expectError(damaged("index", flip(toc.symbols + 10)), "corrupt", /index symbol table: crc mismatch/, /at offset \d+/);
});

test("series crc", async () => {
  const first = Math.ceil(toc.series / 16) * 16;
  await expectError(damaged("index", flip(first + 3)), "corrupt", new RegExp(`index series ${first / 16}: crc mismatch`), /at offset \d+/);
});

test("postings list crc", async () => {
  const at = Math.ceil(toc.postings / 4) * 4;
  await expectError(damaged("index", flip(at + 9)), "corrupt", /index postings list: crc mismatch/, /at offset \d+/);
});

test("postings offset table crc", async () => {
  await expectError(damaged("index", flip(toc.postingsTable + 12)), "corrupt", /index postings offset table: crc mismatch/, /at offset \d+/);
});

test("chunk crc", async () => {
  await expectError(damaged("chunks/000001", flip(8 + 5)), "corrupt", /chunks\/000001: chunk crc mismatch/, /at offset \d+/);
});

test("chunk segment magic", async () => {
  await expectError(damaged("chunks/000002", flip(0)), "corrupt", /chunks\/000002: bad magic/, /at offset 0/);
});

test("missing chunk segment", async () => {
  const m = new Map(base.files);
  assert.ok(m.has("chunks/000003"));
  m.delete("chunks/000003");
  await expectError(m, "not_found", /chunks\/000003: reading segment header at offset 0/);
});

test("truncated chunk segment", async () => {
  const n = base.files.get("chunks/000001")!.length;
  await expectError(damaged("chunks/000001", (b) => b.subarray(0, n - 30)), "corrupt", /chunks\/000001/, /offset \d+/);
});

test("tombstones crc and meta.json", async () => {
  const t = new Uint8Array([0x01, 0x30, 0xba, 0x30, 0x01, 0x02, 0x02, 0x04, 0, 0, 0, 0]);
  try { parseTombstones(t, `block ${ULID} tombstones`); assert.unreachable(); } catch (e) {
    assert.is(errorCode(e), "corrupt");
    assert.match((e as Error).message, new RegExp(`block ${ULID} tombstones: crc mismatch .* at offset 8`));
  }
  const m = new Map(base.files);
  m.set("tombstones", t);
  await expectError(m, "corrupt", /tombstones: crc mismatch/);
  try { parseBlockMeta(new TextEncoder().encode('{"ulid":"x"'), "block dir d"); assert.unreachable(); } catch (e) {
    assert.is(errorCode(e), "corrupt");
    assert.match((e as Error).message, /block dir d: meta.json is not valid JSON/);
  }
});

test("verify(): checks label indices, postings and series the queries never touch", async () => {
  const ok = await base.block.index.verify();
  assert.equal(ok, { series: 40, labelIndices: 4, postingsLists: 1 + base.block.index.labelNames().reduce((n, l) => n + base.block.index.labelValues(l).length, 0) });
  const at = Math.ceil(toc.labelIndices / 4) * 4 + 9;
  const b = await openFiles(damaged("index", flip(at)));
  try { await b.index.verify(); assert.unreachable(); } catch (e) {
    assert.is(errorCode(e), "corrupt", (e as Error).message);
    assert.match((e as Error).message, new RegExp(`block ${ULID} index label index: crc mismatch .* at offset \\d+`));
  }
  const lot = await openFiles(damaged("index", flip(toc.labelIndicesTable + 6)));
  try { await lot.index.verify(); assert.unreachable(); } catch (e) {
    assert.match((e as Error).message, /index label offset table: crc mismatch/);
  }
});

test("every single-byte flip of the index is an error or a correct read, never a crash or wrong data", async () => {
  const idx = base.files.get("index")!;
  const want = JSON.stringify(await dumpAll(base.files));
  let errors = 0;
  for (let at = 0; at < idx.length; at += 11) {
    try {
      const got = JSON.stringify(await dumpAll(damaged("index", flip(at))));
      // Unchecked bytes: padding and the label indices (not read by this reader).
      if (got !== want) assert.unreachable(`flip at ${at} changed the data silently`);
    } catch (e) {
      if ((e as Error).name === "Assertion") throw e;
      assert.ok(errorCode(e) === "corrupt", `flip at ${at}: ${(e as Error).stack}`);
      errors++;
    }
  }
  assert.ok(errors > 0);
});

test("every single-byte flip of a chunk segment is an error or a correct read", async () => {
  const seg = base.files.get("chunks/000001")!;
  const want = JSON.stringify(await dumpAll(base.files));
  let errors = 0;
  for (let at = 0; at < seg.length; at += 9) {
    try {
      const got = JSON.stringify(await dumpAll(damaged("chunks/000001", flip(at))));
      // Only the 3 padding bytes of the segment header are unchecked.
      if (got !== want) assert.unreachable(`flip at ${at} changed the data silently`);
      assert.ok(at >= 5 && at < 8, `flip at ${at} went unnoticed`);
    } catch (e) {
      if ((e as Error).name === "Assertion") throw e;
      assert.ok(errorCode(e) === "corrupt", `flip at ${at}: ${(e as Error).stack}`);
      assert.match((e as Error).message, /chunks\/000001/);
      errors++;
    }
  }
  assert.ok(errors > seg.length / 9 - 2);
});

async function dumpAll(files: Map<string, Uint8Array>) {
  const b = await openFiles(files);
  const r = await new BlocksQuerier([b]).select({ start: -Infinity, end: Infinity }, []);
  return r.series.map((s) => {
    const it = s.iterator();
    const out: number[] = [];
    while (it.next()) out.push(it.at(), it.value());
    if (it.err()) throw it.err();
    return [s.labels, out];
  });
}

test.run();
