// Markers, relabel sharding and Thanos' meta filters, with expected values from Thanos' and Prometheus'
// own tests (pkg/block/fetcher_test.go, model/relabel/relabel_test.go) where they exist.
import { createHash } from "node:crypto";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { md5 } from "../../../shared/encoding/md5.ts";
import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { FaultyBucket } from "../../../shared/objstore/faulty.ts";
import { encodeMarker, markBlock, parseMarker, readMarker, unmarkBlock } from "../../../shared/block/markers.ts";
import { parseSelectorRelabelConfig } from "../../../shared/block/fetcher.ts";
import { hashmod, relabel } from "../../../shared/labels/relabel.ts";
import {
  consistencyDelayFilter, deduplicateFilter, gatherNoCompactMarks, groupKey, ignoreDeletionMarkFilter, labelShardFilter,
  MetaFetcher, replicaLabelRemover, runFilters, timePartitionFilter,
} from "../../../shared/block/fetcher.ts";
import type { Discovered } from "../../../shared/block/listing.ts";
import { encodeBlockMeta, type BlockMeta } from "../../../shared/tsdb/meta.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const NOW = Date.UTC(2026, 0, 10);

/** Thanos' test helper ULID(i): time i ms, zero entropy. */
function ULID(i: number): string {
  const A = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  let s = "";
  for (let k = 0, t = i; k < 10; k++, t = Math.floor(t / 32)) s = A[t % 32]! + s;
  return s + "0".repeat(16);
}

function meta(id: string, o: { labels?: Record<string, string>; sources?: string[]; res?: number; min?: number; max?: number; source?: string; upload?: string } = {}): BlockMeta {
  return {
    ulid: id, minTime: o.min ?? 0, maxTime: o.max ?? 7200e3, version: 1, stats: { numSamples: 1, numSeries: 1, numChunks: 1 },
    compaction: { level: 1, sources: o.sources ?? [id] },
    thanos: { labels: o.labels ?? {}, downsample: { resolution: o.res ?? 0 }, source: o.source ?? "sidecar", ...(o.upload ? { upload_time: o.upload } : {}) },
  };
}

const emptyDiscovered = (metas: BlockMeta[], marksKnown = false): Discovered => ({
  metas, marks: new Map(), marksKnown, source: "listing", partial: new Map(), problems: [], incomplete: [],
});

test("md5 equals node:crypto's for every length around the block boundaries", () => {
  for (let n = 0; n < 200; n++) {
    const b = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff);
    assert.is(Buffer.from(md5(b)).toString("hex"), createHash("md5").update(b).digest("hex"), `length ${n}`);
  }
});

test("hashmod: Prometheus' relabel_test vectors", () => {
  assert.is(hashmod("baz", 1000n), 976n);
  assert.is(hashmod("foo\nbar", 1000n), 734n);
});

test("label sharding: Thanos' TestLabelShardedMetaFilter_Filter_Hashmod expectations", async () => {
  const want: Record<number, number[]> = { 0: [2, 6, 11, 13], 1: [5, 7, 10, 12, 14, 15], 2: [1, 3, 4, 8, 9] };
  const labels: Record<number, Record<string, string>> = {
    1: { cluster: "B", message: "keepme" }, 2: { something: "A", message: "keepme" }, 3: { cluster: "A", message: "keepme" },
    4: { cluster: "A", something: "B", message: "keepme" }, 5: { cluster: "B" }, 6: { cluster: "B", message: "keepme" },
  };
  for (const i of [0, 1, 2]) {
    const rules = parseSelectorRelabelConfig(`
    - action: hashmod
      source_labels: ["__block_id"]
      target_label: shard
      modulus: 3
    - action: keep
      source_labels: ["shard"]
      regex: ${i}
`);
    const metas = Array.from({ length: 15 }, (_, k) => meta(ULID(k + 1), { labels: labels[k + 1] }));
    const r = await runFilters(new MemoryBucket(), emptyDiscovered(metas), [labelShardFilter(rules)], { now: NOW });
    assert.equal([...r.metas.keys()].sort(), want[i]!.map(ULID).sort(), `shard ${i}`);
    assert.is(r.ctx.synced.get("label-excluded"), 15 - want[i]!.length);
  }
});

test("relabel config: only keep/drop/hashmod; Prometheus' validation messages", () => {
  assert.equal(parseSelectorRelabelConfig(""), []);
  assert.throws(() => parseSelectorRelabelConfig("- action: replace\n  target_label: x"), /unsupported relabel action: replace/);
  assert.throws(() => parseSelectorRelabelConfig("- source_labels: [a]"), /validate relabel config: relabel configuration for replace action requires 'target_label' value/, "default action is replace, validated before the action check (as Thanos)");
  assert.throws(() => parseSelectorRelabelConfig("- action: hashmod\n  target_label: s"), /requires non-zero modulus/);
  assert.throws(() => parseSelectorRelabelConfig("- action: bogus"), /unknown relabel action/);
  const [k] = parseSelectorRelabelConfig("- action: KEEP\n  source_labels: [cluster]\n  regex: a|b");
  assert.is(k!.action, "keep", "actions are case-insensitive");
  const keeps = (v: string) => relabel([{ name: "cluster", value: v }], [k!]) !== null;
  assert.ok(keeps("a") && !keeps("ab"), "regexes are anchored");
});

test("markers: written byte for byte as Thanos' json.Marshal; idempotent; parse checks version and id", async () => {
  const id = ULID(5);
  assert.is(dec.decode(encodeMarker("deletion", { id, version: 1, details: "source of compacted block", deletion_time: 1700000000 })),
    `{"id":"${id}","version":1,"details":"source of compacted block","deletion_time":1700000000}`);
  assert.is(dec.decode(encodeMarker("no-compact", { id, version: 1, no_compact_time: 5, reason: "index-size-exceeding" })),
    `{"id":"${id}","version":1,"no_compact_time":5,"reason":"index-size-exceeding"}`);
  assert.is(dec.decode(encodeMarker("no-downsample", { id, version: 1, details: "d", no_downsample_time: 7, reason: "manual" })),
    `{"id":"${id}","version":1,"details":"d","no_downsample_time":7,"reason":"manual"}`);
  const b = new MemoryBucket();
  const m = await markBlock(b, id, "deletion", { details: "x", now: NOW + 999 });
  assert.equal(m, { id, version: 1, details: "x", deletion_time: NOW / 1000 });
  assert.is(await markBlock(b, id, "deletion", { now: NOW + 60e3 }), null, "an existing mark is kept");
  assert.is((await readMarker(b, id, "deletion"))!.deletion_time, NOW / 1000);
  assert.is(await readMarker(b, id, "no-compact"), null);
  await unmarkBlock(b, id, "deletion");
  assert.is(await readMarker(b, id, "deletion"), null);
  assert.throws(() => parseMarker("deletion", enc.encode(`{"id":"${id}","version":2,"deletion_time":1}`)), /unexpected version 2/);
  assert.throws(() => parseMarker("deletion", enc.encode(`{"id":"x","version":1}`)), /not a block ULID/);
  assert.throws(() => parseMarker("no-compact", enc.encode(`not json`)), /not valid JSON/);
});

test("deletion-mark filter: Thanos' TestIgnoreDeletionMarkFilter_Filter (48h delay, marks 15h and 60h old, a broken mark)", async () => {
  const b = new MemoryBucket();
  await b.upload(`${ULID(1)}/deletion-mark.json`, encodeMarker("deletion", { id: ULID(1), version: 1, deletion_time: (NOW - 15 * 3600e3) / 1000 }));
  await b.upload(`${ULID(2)}/deletion-mark.json`, encodeMarker("deletion", { id: ULID(2), version: 1, deletion_time: (NOW - 60 * 3600e3) / 1000 }));
  await b.upload(`${ULID(3)}/deletion-mark.json`, enc.encode("not a valid deletion-mark.json"));
  const r = await runFilters(b, emptyDiscovered([1, 2, 3, 4].map((i) => meta(ULID(i)))), [ignoreDeletionMarkFilter(48 * 3600e3)], { now: NOW });
  assert.equal([...r.metas.keys()].sort(), [ULID(1), ULID(3), ULID(4)]);
  assert.is(r.ctx.synced.get("marked-for-deletion"), 1);
  assert.equal([...r.ctx.deletionMarks.keys()].sort(), [ULID(1), ULID(2)], "every mark is gathered, also of blocks kept");
  assert.is(r.ctx.warnings.length, 1);
});

test("deduplicate filter: Thanos' TestDeduplicateFilter_Filter cases", async () => {
  const cases: [string, [number, number[], number?][], number[]][] = [
    ["3 non compacted blocks", [[1, [1]], [2, [2]], [3, [3]]], [1, 2, 3]],
    ["compacted block with sources", [[6, [6]], [4, [1, 3, 2]], [5, [5]]], [4, 5, 6]],
    ["two compacted blocks with same sources", [[5, [5]], [6, [6]], [3, [1, 2]], [4, [1, 2]]], [3, 5, 6]],
    ["two compacted blocks with overlapping sources", [[4, [1, 2]], [6, [6]], [5, [1, 3, 2]]], [5, 6]],
    ["level 2 block covering three", [[6, [6]], [1, [1]], [2, [2]], [3, [3]], [4, [2, 1, 3]]], [4, 6]],
    ["different resolutions are different groups", [[1, [1], 0], [2, [1], 300000]], [1, 2]],
  ];
  for (const [name, input, want] of cases) {
    const metas = input.map(([i, s, res]) => meta(ULID(i), { sources: s.map(ULID), res }));
    const r = await runFilters(new MemoryBucket(), emptyDiscovered(metas), [deduplicateFilter()], { now: NOW });
    assert.equal([...r.metas.keys()].sort(), want.map(ULID).sort(), name);
    assert.is(r.ctx.duplicates.length, input.length - want.length, name);
  }
});

test("consistency delay: upload_time wins over the ULID time; compactor output exempt", async () => {
  const fresh = "01KEJG0000AAAAAAAAAAAAAAAA"; // ULID time after NOW
  const metas = [
    meta(ULID(1), { upload: new Date(NOW - 60e3).toISOString() }), // old ULID, uploaded a minute ago: too fresh
    meta(ULID(2), { upload: "0001-01-01T00:00:00Z" }), // Go's zero time: falls back to the (old) ULID time
    meta(fresh, { source: "compactor" }),
    meta(ULID(3), { upload: new Date(NOW - 3600e3).toISOString() }),
  ];
  const r = await runFilters(new MemoryBucket(), emptyDiscovered(metas), [consistencyDelayFilter(30 * 60e3)], { now: NOW });
  assert.equal([...r.metas.keys()].sort(), [ULID(2), ULID(3), fresh].sort());
  assert.is(r.ctx.synced.get("too-fresh"), 1);
});

test("replica label remover: replicas fall into one group; a block left without labels gets <label>=deduped", async () => {
  const a = meta(ULID(1), { labels: { cluster: "x", replica: "a" } });
  const b = meta(ULID(2), { labels: { cluster: "x", replica: "b" } });
  const c = meta(ULID(3), { labels: { replica: "c" } });
  const r = await runFilters(new MemoryBucket(), emptyDiscovered([a, b, c]), [replicaLabelRemover(["replica"])], { now: NOW });
  assert.is(groupKey(r.metas.get(ULID(1))!), groupKey(r.metas.get(ULID(2))!));
  assert.equal(r.metas.get(ULID(3))!.thanos!.labels, { replica: "deduped" });
  assert.equal(a.thanos!.labels, { cluster: "x", replica: "a" }, "the original meta is not modified");
  assert.is(r.ctx.modified.get("replica-label-removed"), 3);
});

test("group key: <resolution>@<Prometheus labels.Hash as uint64>", () => {
  // labels.FromStrings("a","1").Hash() in Go = xxhash64("a\xff1\xff").
  assert.match(groupKey(meta(ULID(1), { labels: { a: "1" }, res: 300000 })), /^300000@\d+$/);
  assert.is(groupKey(meta(ULID(1), { labels: {} })), "0@17241709254077376921", "the hash of no labels is xxhash64 of nothing");
});

test("time partition: Thanos keeps blocks with maxTime >= min and minTime <= max", async () => {
  const metas = [meta(ULID(1), { min: 0, max: 100 }), meta(ULID(2), { min: 100, max: 200 }), meta(ULID(3), { min: 201, max: 300 })];
  const r = await runFilters(new MemoryBucket(), emptyDiscovered(metas), [timePartitionFilter(100, 200)], { now: NOW });
  assert.equal([...r.metas.keys()].sort(), [ULID(1), ULID(2)]);
});

test("MetaFetcher: partial uploads, no-compact marks, a re-sync HEADs known blocks instead of GETting, an incomplete view", async () => {
  const b = new MemoryBucket();
  for (const i of [1, 2, 3]) {
    await b.upload(`${ULID(i)}/index`, new Uint8Array(4));
    await b.upload(`${ULID(i)}/meta.json`, encodeBlockMeta(meta(ULID(i))));
  }
  await b.upload(`${ULID(4)}/index`, new Uint8Array(4)); // partial
  await b.upload(`${ULID(5)}/meta.json`, enc.encode("{broken")); // corrupted
  await markBlock(b, ULID(2), "no-compact", { reason: "manual", now: NOW });
  let gets = 0, markGets = 0, heads = 0;
  const counting = new Proxy(b, {
    get(t, p) {
      if (p === "get") return (k: string) => { if (k.endsWith("meta.json")) gets++; if (k.endsWith("mark.json")) markGets++; return t.get(k); };
      if (p === "exists") return (k: string) => { heads++; return t.exists(k); };
      const v = (t as unknown as Record<string | symbol, unknown>)[p];
      return typeof v === "function" ? (v as Function).bind(t) : v;
    },
  });
  const f = new MetaFetcher(counting, { filters: [gatherNoCompactMarks()], now: () => NOW });
  const r = await f.fetch();
  assert.equal([...r.metas.keys()].sort(), [ULID(1), ULID(2), ULID(3)]);
  assert.equal([...r.partial.keys()].sort(), [ULID(4), ULID(5)]);
  assert.match(r.partial.get(ULID(5))!, /corrupted meta.json/);
  assert.equal([...r.noCompactMarks.keys()], [ULID(2)]);
  assert.is(r.synced.get("no-meta-json"), 1);
  assert.is(r.synced.get("corrupted-meta-json"), 1);
  assert.is(r.synced.get("loaded"), 3);
  assert.is(markGets, 1, "block folder listings say which markers exist: only ULID(2)'s is fetched");
  const g1 = gets;
  await f.fetch();
  assert.is(gets - g1, 1, "a re-sync fetches only the corrupted meta.json again (known blocks: one LIST each)");
  assert.is(heads, 0);
  // A bucket failing every meta.json GET: the view is incomplete and says which blocks.
  const faulty = new FaultyBucket(b, { failEvery: 1, ops: ["get"], keys: (k) => k.endsWith("meta.json") });
  const r2 = await new MetaFetcher(faulty, { filters: [], now: () => NOW }).fetch();
  assert.equal(r2.incomplete.sort(), [1, 2, 3, 5].map(ULID), "the partial block is known partial from its folder listing");
});

test.run();

test("selector relabel config: Thanos v0.41's texts and Prometheus 3.x semantics (checked against thanos tools bucket ls)", () => {
  const err = (yaml: string) => { try { parseSelectorRelabelConfig(yaml, "f.yml"); return ""; } catch (e) { return (e as Error).message; } };
  assert.is(err("- action: replace\n  target_label: x"), "f.yml: unsupported relabel action: replace");
  assert.is(err("- action: hashmod\n  target_label: s"), "f.yml: validate relabel config: relabel configuration for hashmod requires non-zero modulus");
  assert.is(err("- action: bogus"), `f.yml: parsing relabel configuration: unknown relabel action "bogus"`);
  assert.is(err(`- action: ""`), `f.yml: parsing relabel configuration: unknown relabel action ""`);
  assert.match(err(`- action: keep\n  regex: "(a"`), /^f\.yml: parsing relabel configuration: error parsing regexp: /);
  assert.is(err("- action: keep\n  foo: 1"), "", "yaml.v2 Unmarshal, not UnmarshalStrict: unknown fields are ignored");
  // Prometheus 3.x: `.` matches a newline; label names are UTF-8.
  const [k] = parseSelectorRelabelConfig("- action: keep\n  source_labels: [\"région\"]\n  regex: a.b");
  assert.ok(relabel([{ name: "région", value: "a\nb" }], [k!]) !== null, "(?s): . matches \\n");
  const [h] = parseSelectorRelabelConfig("- action: hashmod\n  source_labels: [x]\n  target_label: \"shard-é\"\n  modulus: 1000");
  assert.equal(relabel([{ name: "x", value: "baz" }], [h!]), [{ name: "shard-é", value: "976" }, { name: "x", value: "baz" }]);
});
