// The planner against Thanos' own planner tests: pkg/compact/planner_test.go of Thanos v0.41.0 is read
// from the Go module cache at test time and its cases (blocks in, expected plan and mark counts out) run
// against ours. Their expectations are the oracle; nothing here is copied from our own output.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compactionRanges, newPlanner, planCompaction, planWithIndexSizeLimit } from "../../../shared/compact/planner.ts";
import { groupBlocks } from "../../../shared/compact/group.ts";
import type { BlockMeta } from "../../../shared/tsdb/meta.ts";

function thanosDir(): string {
  const out = execFileSync("go", ["mod", "download", "-json", "github.com/thanos-io/thanos@v0.41.0"], {
    encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" }, cwd: "/tmp",
  });
  return JSON.parse(out).Dir as string;
}

const SRC = readFileSync(join(thanosDir(), "pkg/compact/planner_test.go"), "utf8");

/** Index of the brace matching the one at `open`. */
function matching(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === '"') { i++; while (s[i] !== '"') { if (s[i] === "\\") i++; i++; } continue; }
    if (c === "`") { i = s.indexOf("`", i + 1); continue; }
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  throw new Error(`unbalanced brace at ${open}`);
}

/** Top-level `{...}` elements of the literal starting at the brace `open`. */
function elements(s: string, open: number): string[] {
  const end = matching(s, open);
  const out: string[] = [];
  for (let i = open + 1; i < end; i++) {
    if (s[i] === "/" && s[i + 1] === "/") { i = s.indexOf("\n", i); continue; }
    if (s[i] === "{") { const e = matching(s, i); out.push(s.slice(i, e + 1)); i = e; }
  }
  return out;
}

/** The body of `func name(` up to the next top-level func. */
function funcBody(name: string): string {
  const a = SRC.indexOf(`func ${name}(`);
  if (a < 0) throw new Error(`${name} not found in planner_test.go`);
  const b = SRC.indexOf("\nfunc ", a + 1);
  return SRC.slice(a, b < 0 ? undefined : b);
}

function ulidOf(n: number): string {
  const A = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let s = "";
  for (let k = 0, t = n; k < 10; k++, t = Math.floor(t / 32)) s = A[t % 32]! + s;
  return s + "0".repeat(16);
}

function num(el: string, field: string): number | undefined {
  const m = new RegExp(`\\b${field}:\\s*(-?\\d+)`).exec(el);
  return m ? Number(m[1]) : undefined;
}

function parseMeta(el: string): BlockMeta {
  const id = /ulid\.MustNew\((\d+), nil\)/.exec(el);
  if (!id) throw new Error(`no ULID in ${el}`);
  const size = num(el, "SizeBytes");
  return {
    ulid: ulidOf(Number(id[1])), minTime: num(el, "MinTime") ?? 0, maxTime: num(el, "MaxTime") ?? 0, version: 1,
    stats: { numSamples: 0, numSeries: num(el, "NumSeries") ?? 0, numChunks: 0, numTombstones: num(el, "NumTombstones") ?? 0 },
    compaction: { level: 1, sources: [] },
    thanos: { labels: {}, downsample: { resolution: 0 }, source: "", ...(size !== undefined ? { files: [{ rel_path: "index", size_bytes: size }] } : {}) },
  };
}

/** A list literal `field: []*metadata.Meta{...}` inside a case, or undefined. */
function metaList(c: string, field: string): BlockMeta[] | undefined {
  const i = c.indexOf(`${field}: []*metadata.Meta{`);
  if (i < 0) return undefined;
  return elements(c, c.indexOf("{", i)).map(parseMeta);
}

interface Case { name: string; metas: BlockMeta[]; expected: BlockMeta[]; noCompact: string[]; expectedMarks?: number }

function cases(fn: string): Case[] {
  const body = funcBody(fn);
  const start = body.indexOf("}{", body.indexOf("range []struct {")) + 1;
  return elements(body, start).map((c) => {
    const nm = /name:\s*("(?:[^"\\]|\\.)*"|`[^`]*`)/.exec(c);
    const nc = c.indexOf("noCompactMarks:");
    let noCompact: string[] = [];
    if (nc >= 0) {
      const open = c.indexOf("{", nc);
      noCompact = [...c.slice(open, matching(c, open)).matchAll(/ulid\.MustNew\((\d+), nil\):/g)].map((m) => ulidOf(Number(m[1])));
    }
    return {
      name: nm ? nm[1]!.slice(1, -1).replace(/\s+/g, " ") : "(unnamed)",
      metas: metaList(c, "metas")!,
      expected: metaList(c, "expected") ?? [],
      noCompact,
      expectedMarks: num(c, "expectedMarks"),
    };
  });
}

const RANGES = [20, 60, 180, 540, 1620];
const sorted = (ms: BlockMeta[]) => [...ms].sort((a, b) => a.minTime - b.minTime);
const ids = (ms: readonly BlockMeta[]) => ms.map((m) => m.ulid);

test("TestPlanners_Plan_Compatibility: every case plans as Thanos expects", () => {
  const cs = cases("TestPlanners_Plan_Compatibility");
  assert.ok(cs.length >= 20, `parsed ${cs.length} cases`);
  for (const c of cs) assert.equal(ids(planCompaction(RANGES, new Map(), sorted(c.metas))), ids(c.expected), c.name);
});

test("TestRangeWithFailedCompactionWontGetSelected: a window with a failed block is never selected", () => {
  const cs = cases("TestRangeWithFailedCompactionWontGetSelected");
  assert.is(cs.length, 3);
  for (const c of cs) {
    c.metas[1]!.compaction.failed = true;
    assert.equal(planCompaction(RANGES, new Map(), c.metas), []);
  }
});

test("TestTSDBBasedPlanner_PlanWithNoCompactMarks: no-compact marks split windows without gaps", () => {
  const cs = cases("TestTSDBBasedPlanner_PlanWithNoCompactMarks");
  assert.ok(cs.length >= 10, `parsed ${cs.length} cases`);
  for (const c of cs) {
    assert.ok(c.noCompact.length > 0, `${c.name}: marks parsed`);
    const marks = new Map(c.noCompact.map((id) => [id, true]));
    assert.equal(ids(planCompaction(RANGES, marks, sorted(c.metas))), ids(c.expected), c.name);
  }
});

test("TestLargeTotalIndexSizeFilter_Plan: sizes from meta and from the bucket, the largest input marked", async () => {
  const cs = cases("TestLargeTotalIndexSizeFilter_Plan");
  assert.ok(cs.length >= 7, `parsed ${cs.length} cases`);
  for (const fromBucket of [false, true]) {
    for (const c of cs) {
      const marked: string[] = [];
      const sizes = new Map(c.metas.map((m) => [m.ulid, m.thanos!.files![0]!.size_bytes!]));
      const metas = sorted(c.metas).map((m) => (fromBucket ? { ...m, thanos: { ...m.thanos!, files: undefined } } : m));
      const plan = await planWithIndexSizeLimit(RANGES, new Map(), metas, 100, {
        markNoCompact: async (id, reason) => { assert.is(reason, "index-size-exceeding"); marked.push(id); },
        indexSize: async (id) => sizes.get(id)!,
      });
      const what = `${c.name} (${fromBucket ? "from bucket" : "from meta"})`;
      assert.equal(ids(plan), ids(c.expected), what);
      assert.is(marked.length, c.expectedMarks ?? 0, what);
    }
  }
});

test("vertical compaction: downsampled blocks in an overlapping plan are marked no-compact and left out", async () => {
  const m = (id: number, min: number, max: number, res: number): BlockMeta => ({
    ulid: ulidOf(id), minTime: min, maxTime: max, version: 1, stats: { numSamples: 1, numSeries: 1, numChunks: 1 },
    compaction: { level: 1, sources: [ulidOf(id)] }, thanos: { labels: {}, downsample: { resolution: res }, source: "", files: [{ rel_path: "index", size_bytes: 1 }] },
  });
  const marked: string[] = [];
  const p = newPlanner({
    ranges: RANGES, noCompactMarks: () => new Map(), maxIndexBytes: 1e12, verticalCompaction: true,
    hooks: { markNoCompact: async (id, reason) => { assert.is(reason, "downsample-vertical-compaction"); marked.push(id); }, indexSize: async () => 1 },
  });
  const plan = await p.plan([m(1, 0, 20, 300000), m(2, 10, 30, 300000), m(3, 40, 60, 300000)]);
  assert.equal(marked, [ulidOf(1), ulidOf(2)]);
  assert.equal(ids(plan), []);
  assert.equal(ids(await p.plan([m(1, 0, 20, 0), m(2, 10, 30, 0)])), [ulidOf(1), ulidOf(2)], "raw blocks: a vertical compaction");
});

test("Thanos levels: 2h blocks go to 8h, then 2d, then 14d; the newest block is set aside", () => {
  const H = 3600e3;
  const ranges = compactionRanges();
  assert.equal(ranges, [1, 2, 8, 48, 336].map((h) => h * H));
  const block = (i: number, min: number, max: number): BlockMeta => ({
    ulid: ulidOf(i), minTime: min, maxTime: max, version: 1, stats: { numSamples: 1, numSeries: 1, numChunks: 1 },
    compaction: { level: 1, sources: [ulidOf(i)] }, thanos: { labels: { a: "1" }, downsample: { resolution: 0 }, source: "" },
  });
  const twoH = Array.from({ length: 12 }, (_, i) => block(i + 1, i * 2 * H, (i + 1) * 2 * H));
  assert.equal(ids(planCompaction(ranges, new Map(), twoH)), ids(twoH.slice(0, 4)), "first 8h window");
  const eight = [block(20, 0, 8 * H), block(21, 8 * H, 16 * H), block(22, 16 * H, 24 * H), block(23, 24 * H, 32 * H), block(24, 32 * H, 40 * H), block(25, 40 * H, 48 * H), block(26, 48 * H, 50 * H)];
  assert.equal(ids(planCompaction(ranges, new Map(), eight)), ids(eight.slice(0, 6)), "six 8h blocks fill a 2d window");
  const [g] = groupBlocks([...twoH].reverse());
  assert.equal(ids(g!.metas), ids(twoH), "groups sort by minTime");
});

test.run();
