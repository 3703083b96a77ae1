// The blocks page app (shared/ui/blocks) in memory through app.request, on Node, Bun and Deno: the pages
// and assets (strict CSP, ETags, a script that parses), /api/v1/blocks in Thanos' shape with our marks,
// partial uploads and backlog, the mark endpoint's refusals with Thanos' texts and its marking, and
// GlobalBlocks over a memory bucket. In Chromium: test/integration/ui-blocks.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { gatherNoCompactMarks, gatherNoDownsampleMarks, ignoreDeletionMarkFilter } from "../../shared/block/fetcher.ts";
import { markBlock, readMarker, type MarkerKind } from "../../shared/block/markers.ts";
import { MemoryBucket } from "../../shared/objstore/memory.ts";
import { encodeBlockMeta, type BlockMeta } from "../../shared/tsdb/meta.ts";
import { blocksApp } from "../../shared/ui/blocks/app.ts";
import { GlobalBlocks } from "../../shared/ui/blocks/api.ts";
import { BLOCKS_SCRIPT } from "../../shared/ui/blocks/script.ts";

const H = 3600e3;
const U = (i: number) => `01H0000000000000000000${String(i).padStart(4, "0")}`;
const NOW = 1_700_000_000_000;

function meta(id: string, minTime: number, maxTime: number, level = 1, labels: Record<string, string> = { cluster: "eu1" }): BlockMeta {
  return {
    ulid: id, minTime, maxTime, version: 1, stats: { numSamples: 10, numSeries: 1, numChunks: 1 },
    compaction: { level, sources: [id] }, thanos: { labels, downsample: { resolution: 0 }, source: "sidecar", upload_time: "2023-11-01T00:00:00Z" },
  };
}

async function bucket(): Promise<MemoryBucket> {
  const b = new MemoryBucket();
  const put = (m: BlockMeta) => b.upload(`${m.ulid}/meta.json`, encodeBlockMeta(m));
  // Four 2h blocks of eu1 (a compaction is due), one of us1 marked for deletion, a partial upload.
  for (let i = 0; i < 4; i++) await put(meta(U(i + 1), i * 2 * H, (i + 1) * 2 * H));
  await put(meta(U(9), 0, 2 * H, 1, { cluster: "us1" }));
  await markBlock(b, U(9), "deletion", { details: "x", now: NOW });
  await markBlock(b, U(2), "no-downsample", { details: "keep", now: NOW });
  await b.upload(`${U(20)}/index`, new Uint8Array(8));
  return b;
}

async function setup(o: { admin?: boolean } = {}) {
  const bkt = await bucket();
  const global = new GlobalBlocks(bkt, [ignoreDeletionMarkFilter(Number.POSITIVE_INFINITY), gatherNoCompactMarks(), gatherNoDownsampleMarks()], { now: () => NOW });
  await global.refresh();
  const marked: [string, MarkerKind, string][] = [];
  const app = blocksApp({
    label: "cluster", flags: { "disable-admin-operations": String(o.admin === false) }, disableAdminOperations: o.admin === false,
    views: { global: () => global.view() },
    mark: async (id, kind, detail) => { marked.push([id, kind, detail]); await markBlock(bkt, id, kind, { details: detail }); },
  });
  return { app, bkt, marked };
}

test("pages and assets: a strict CSP, no inline script or style, a script that parses", async () => {
  const { app } = await setup();
  for (const p of ["/", "/blocks"]) {
    const r = await app.request(p);
    assert.is(r.status, 200, p);
    assert.match(r.headers.get("content-security-policy") ?? "", /default-src 'none'.*script-src 'self'/);
    const html = await r.text();
    assert.ok(html.includes('<script src="static/blocks.js" defer></script>'));
    assert.not.match(html, /<script>|<style|style="/);
  }
  assert.is((await app.request("/loaded")).status, 404, "no loaded view without one");
  const js = await app.request("/static/blocks.js");
  assert.is(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.is(await js.text(), BLOCKS_SCRIPT);
  assert.is((await app.request("/static/blocks.js", { headers: { "If-None-Match": js.headers.get("etag")! } })).status, 304);
  new Function(BLOCKS_SCRIPT); // parses
  assert.not.match(BLOCKS_SCRIPT.slice(BLOCKS_SCRIPT.indexOf("(() =>")), /`/, "no template literals inside the String.raw script");
});

test("GET /api/v1/blocks: Thanos' BlocksInfo (label, blocks as metadata.Meta, refreshedAt, err) plus marks, partial uploads, backlog", async () => {
  const { app } = await setup();
  const j = await (await app.request("/api/v1/blocks")).json() as { status: string; data: Record<string, unknown> & { blocks: BlockMeta[] } };
  assert.is(j.status, "success");
  assert.equal(Object.keys(j.data).slice(0, 4), ["label", "blocks", "refreshedAt", "err"]);
  assert.is(j.data.label, "cluster");
  assert.is(j.data.refreshedAt, "2023-11-14T22:13:20Z");
  assert.is(j.data.err, null);
  assert.equal(j.data.blocks.map((b) => b.ulid), [U(1), U(2), U(3), U(4), U(9)]);
  assert.equal(Object.keys(j.data.blocks[0]!.thanos!), ["labels", "downsample", "source", "index_stats", "upload_time"]);
  assert.equal(j.data.marks, {
    [U(9)]: { deletion: { id: U(9), version: 1, details: "x", deletion_time: NOW / 1000 } },
    [U(2)]: { noDownsample: { id: U(2), version: 1, details: "keep", no_downsample_time: NOW / 1000, reason: "manual" } },
  });
  assert.equal(j.data.partial, [U(20)]);
  // eu1's 2h blocks [0, 8h): the planner leaves out the newest, so nothing spans 8h yet: no compaction.
  // The deletion-marked us1 block is not counted.
  assert.equal(j.data.groups, [{ key: (j.data.groups as { key: string }[])[0]!.key, labels: { cluster: "eu1" }, resolution: 0, blocks: 4, compactions: 0, compactionBlocks: 0, downsample: 0 }]);
  const loaded = await (await app.request("/api/v1/blocks?view=loaded")).json() as { data: { blocks: unknown[]; refreshedAt: string } };
  assert.equal(loaded.data.blocks, []);
  assert.is(loaded.data.refreshedAt, "0001-01-01T00:00:00Z");
});

test("POST /api/v1/blocks/mark: Thanos' refusals; DELETION, NO_COMPACTION and NO_DOWNSAMPLE mark", async () => {
  const { app, bkt, marked } = await setup();
  const post = async (form: Record<string, string>) => {
    const r = await app.request("/api/v1/blocks/mark", { method: "POST", body: new URLSearchParams(form) });
    return { status: r.status, body: await r.json() as Record<string, string> };
  };
  assert.equal(await post({ action: "DELETION" }), { status: 400, body: { status: "error", errorType: "bad_data", error: "ID cannot be empty" } });
  assert.equal((await post({ id: U(1) })).body.error, "Action cannot be empty");
  assert.equal((await post({ id: "x", action: "DELETION" })).body.error, `ULID "x" is not valid: ulid: bad data size when unmarshaling`);
  assert.equal((await post({ id: U(1), action: "NOPE" })).body.error, "not supported marker NOPE");
  assert.equal(await post({ id: U(1), action: "NO_COMPACTION", detail: "big" }), { status: 200, body: { status: "success" } });
  assert.is((await readMarker(bkt, U(1), "no-compact"))!.details, "big");
  assert.equal(marked, [[U(1), "no-compact", "big"]]);
  const off = await setup({ admin: false });
  const r = await off.app.request("/api/v1/blocks/mark", { method: "POST", body: new URLSearchParams({ id: U(1), action: "DELETION" }) });
  assert.equal(await r.json(), { status: "error", errorType: "bad_data", error: "Admin operations are disabled" });
  assert.equal(off.marked, []);
  const flags = await (await off.app.request("/api/v1/status/flags")).json();
  assert.equal(flags, { status: "success", data: { "disable-admin-operations": "true" } });
});

test("backlog: with the compactor's replica labels, the replicas of a stream are one group", async () => {
  const { viewGroups } = await import("../../shared/ui/blocks/api.ts");
  const blocks = [0, 1, 2, 3].flatMap((i) => ["a", "b"].map((r, k) => meta(U(10 * i + k + 10), i * 2 * H, (i + 1) * 2 * H, 1, { cluster: "eu1", replica: r })));
  const view = { blocks, deletionMarks: new Map(), noCompactMarks: new Map(), noDownsampleMarks: new Map(), partial: [], refreshedAt: NOW, err: null };
  const per = viewGroups(view) as { labels: Record<string, string>; blocks: number; compactions: number }[];
  assert.equal(per.map((g) => [g.labels.replica, g.blocks]).sort(), [["a", 4], ["b", 4]]);
  const one = viewGroups(view, undefined, ["replica"]) as { labels: Record<string, string>; blocks: number; compactions: number }[];
  assert.equal(one.map((g) => [g.labels, g.blocks]), [[{ cluster: "eu1" }, 8]]);
  // The replicas overlap: Thanos' planner makes them one vertical compaction per 2h window (4 of them).
  assert.is(one[0]!.compactions, 4);
});

test("GlobalBlocks: a failed refresh keeps the last view and shows the error", async () => {
  const bkt = await bucket();
  let fail = false;
  const flaky = new Proxy(bkt, { get: (t, p) => (p === "iter" && fail ? () => { throw new Error("bucket down"); } : (t as never)[p]) });
  const g = new GlobalBlocks(flaky as MemoryBucket, []);
  await g.refresh();
  assert.is(g.view().blocks.length, 5);
  fail = true;
  try { await g.refresh(); assert.unreachable(); } catch (e) { assert.match((e as Error).message, /bucket down/); }
  assert.is(g.view().blocks.length, 5);
  assert.match(g.view().err ?? "", /bucket down/);
});

test.run();
