// The blocks page (shared/ui/blocks/) in headless Chromium over a real bucket: an HA pair of raw blocks
// with an 8 h hole, written by our block writer and compacted and deduplicated by our compactor, a
// second cluster, then a late raw block overlapping a compacted one, a block marked no-compact and one
// marked for deletion (with `tools bucket mark`). The bucket listing is the oracle: every block must be
// drawn in its stream's row for its resolution and level, at the place its time range gives on the
// shared time axis; the hole must show as a gap and the late block as an overlap, at their times; marked
// blocks must look marked; a click must show the block's meta and marks; marking from the page must put
// the marker in the bucket. Served by `tools bucket web` and by the compactor (--wait, its own view
// empty through --min-time). Screenshots go to test/output/.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { listBucketBlocks } from "../../shared/block/listing.ts";
import type { BlockMeta } from "../../shared/tsdb/meta.ts";
import { generateHABucket, HOUR } from "../lib/blockgen.ts";
import { bucketConfig } from "../lib/bucketcmp.ts";
import { freePort, requireBinary, startProcess, tempDir, waitForHttp, type Proc } from "../lib/proc.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const OUT = join(ROOT, "test", "output");
const START = Math.floor((Date.now() - 4 * 24 * HOUR) / (48 * HOUR)) * 48 * HOUR;
const run = promisify(execFile);

let dir = "";
let web: Proc;
let base = "";
let ctx: BrowserContext;
let page: Page;
const errors: string[] = [];
const ids: Record<string, string> = {};

async function tool(...args: string[]): Promise<void> {
  await run(BUN, [join(ROOT, "agent/main.ts"), ...args], { cwd: ROOT });
}

async function blocks(): Promise<{ metas: BlockMeta[]; marks: Map<string, unknown> }> {
  const d = await listBucketBlocks(new FilesystemBucket(dir));
  return { metas: d.metas, marks: d.marks };
}

function streamKey(ls: Record<string, string>): string {
  return "{" + Object.keys(ls).sort().map((k) => `${k}=${JSON.stringify(ls[k])}`).join(", ") + "}";
}

test.before(async () => {
  requireBinary("chromium");
  dir = join(tempDir("ui-blocks-").path, "bucket");
  // eu1: 24 h of an HA pair with blocks 4..7 (8 h to 16 h) missing; us1: 12 h.
  await generateHABucket({ dir, start: START, blocks: 12, series: 20, step: 60000, skip: [4, 5, 6, 7] });
  await generateHABucket({ dir, start: START, blocks: 6, series: 10, step: 60000, cluster: "us1", seed: 7 });
  await tool("compact", `--objstore.config-file=${bucketConfig(dir)}`, `--data-dir=${join(dir, "..", "data")}`,
    "--deduplication.replica-label=replica", "--deduplication.func=penalty", "--delete-delay=0s", "--downsampling.disable");
  const compacted = (await blocks()).metas;
  assert.ok(compacted.every((m) => m.thanos?.source === "compactor"), "our compactor compacted every block");
  // A late raw upload of eu1 over [2h, 4h): overlaps the compacted [0, 8h) block.
  const late = await generateHABucket({ dir, start: START + 2 * HOUR, blocks: 1, series: 20, step: 60000, replicas: ["late"], externalLabels: () => ({ cluster: "eu1" }), seed: 9 });
  ids.late = late.ulids[0]!;
  ids.big = compacted.find((m) => m.thanos?.labels.cluster === "eu1" && m.minTime === START && m.maxTime === START + 8 * HOUR)!.ulid;
  ids.noCompact = compacted.find((m) => m.thanos?.labels.cluster === "us1" && m.maxTime - m.minTime === 8 * HOUR)!.ulid;
  ids.deleted = compacted.find((m) => m.thanos?.labels.cluster === "us1" && m.minTime === START + 8 * HOUR)!.ulid;
  await tool("tools", "bucket", "mark", `--objstore.config-file=${bucketConfig(dir)}`, `--id=${ids.noCompact}`, "--marker=no-compact-mark.json", "--details=too big to compact");
  await tool("tools", "bucket", "mark", `--objstore.config-file=${bucketConfig(dir)}`, `--id=${ids.deleted}`, "--marker=deletion-mark.json", "--details=bad data");

  const port = await freePort();
  web = startProcess(BUN, [join(ROOT, "agent/main.ts"), "tools", "bucket", "web", `--objstore.config-file=${bucketConfig(dir)}`, `--http-address=127.0.0.1:${port}`, "--refresh=1h", "--label=cluster"], { cwd: ROOT });
  base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/-/ready`, web);
  mkdirSync(OUT, { recursive: true });
  ctx = await chromium.launchPersistentContext(tempDir("ui-blocks-chromium-").path, {
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 900 },
  });
  ctx.setDefaultTimeout(15_000);
  page = ctx.pages()[0] ?? await ctx.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
});

test.after(async () => {
  await ctx?.close();
  await web?.stop();
});

/** The page's geometry for a time range in a row: where its left and right edges must be. */
async function expectPlaced(sel: string, from: number, to: number, gmin: number, gmax: number, what: string): Promise<void> {
  const box = await page.$eval(sel, (e) => {
    const t = e.closest(".track")!.getBoundingClientRect(), b = e.getBoundingClientRect();
    return { tl: t.left, tw: t.width, bl: b.left, bw: b.width };
  });
  const left = box.tl + ((from - gmin) / (gmax - gmin)) * box.tw;
  const width = ((to - from) / (gmax - gmin)) * box.tw;
  assert.ok(Math.abs(box.bl - left) < 1.5, `${what}: left edge at ${box.bl}, want ${left}`);
  assert.ok(Math.abs(box.bw - Math.max(width, 2)) < 1.5, `${what}: width ${box.bw}, want ${width}`);
}

test("timeline: every block of the bucket in its stream, resolution and level row, at its time range", async () => {
  await page.goto(`${base}/`);
  const { metas, marks } = await blocks();
  await page.waitForFunction((n) => document.querySelectorAll(".block").length === n, metas.length);
  const gmin = Math.min(...metas.map((m) => m.minTime)), gmax = Math.max(...metas.map((m) => m.maxTime));
  for (const m of metas) {
    const sel = `.block[data-ulid="${m.ulid}"]`;
    const where = await page.$eval(sel, (e) => {
      const row = e.closest(".row") as HTMLElement, st = e.closest(".stream") as HTMLElement;
      return { res: row.dataset.resolution, level: row.dataset.level, stream: st.dataset.stream, title: st.querySelector(".stream-title")!.textContent, cls: e.className };
    });
    assert.is(where.stream, streamKey(m.thanos!.labels), `${m.ulid}: stream`);
    assert.is(where.title, m.thanos!.labels.cluster, "--label=cluster titles the stream");
    assert.is(where.res, String(m.thanos!.downsample.resolution), `${m.ulid}: resolution row`);
    assert.is(where.level, String(m.compaction.level), `${m.ulid}: level row`);
    assert.is(where.cls.includes("marked-deletion"), marks.has(m.ulid), `${m.ulid}: deletion mark shown iff marked`);
    await expectPlaced(sel, m.minTime, m.maxTime, gmin, gmax, m.ulid);
  }
  // Blocks of one stream, resolution and level that overlap sit on separate rows; others share one.
  const rows = await page.$$eval(".stream", (ss) => ss.map((s) => [...s.querySelectorAll(".row:not(.coverage)")].map((r) => (r as HTMLElement).dataset.level + "/" + (r as HTMLElement).dataset.sub)));
  for (const r of rows) assert.is(new Set(r).size, r.length, "one row per level and overlap depth");

  // The 8 h hole of eu1 is a gap, at its times; the late block's overlap with the compacted one too.
  const eu1 = `.stream[data-stream='{cluster="eu1"}']`;
  const gaps = await page.$$eval(`${eu1} .gap`, (gs) => gs.map((g) => [Number((g as HTMLElement).dataset.from), Number((g as HTMLElement).dataset.to)]));
  assert.equal(gaps, [[START + 8 * HOUR, START + 16 * HOUR]], "the hole is the one gap of eu1");
  await expectPlaced(`${eu1} .gap`, START + 8 * HOUR, START + 16 * HOUR, gmin, gmax, "gap");
  const overlaps = await page.$$eval(`${eu1} .overlap`, (os) => os.map((o) => [Number((o as HTMLElement).dataset.from), Number((o as HTMLElement).dataset.to)]));
  assert.equal(overlaps, [[START + 2 * HOUR, START + 4 * HOUR]], "the late block's overlap");
  await expectPlaced(`${eu1} .overlap`, START + 2 * HOUR, START + 4 * HOUR, gmin, gmax, "overlap");
  for (const id of [ids.late, ids.big]) assert.ok((await page.getAttribute(`.block[data-ulid="${id}"]`, "class"))!.includes("overlapping"), `${id} is drawn as overlapping`);
  // us1's block marked for deletion is going away: its range shows as a gap of us1.
  const us1Gaps = await page.$$eval(`.stream[data-stream='{cluster="us1"}'] .gap`, (gs) => gs.length);
  assert.is(us1Gaps, 1);
  assert.ok((await page.getAttribute(`.block[data-ulid="${ids.noCompact}"]`, "class"))!.includes("marked-no-compact"));
  assert.match(await page.textContent(`${eu1} .stream-head`) ?? "", /1 gap.*1 overlap/);
  assert.match(await page.textContent("#summary") ?? "", new RegExp(`^${metas.length} blocks in 2 streams .* 2 gaps · 1 overlap · 2 marked`));
  await page.screenshot({ path: join(OUT, "ui-blocks.png"), fullPage: true });
  assert.equal(errors, [], "no errors in the page");
});

test("a click shows the block's meta.json and marks; marking from the page writes the marker", async () => {
  const { metas } = await blocks();
  const m = metas.find((x) => x.ulid === ids.noCompact)!;
  await page.click(`.block[data-ulid="${m.ulid}"]`);
  await page.waitForSelector("#details:not([hidden])");
  assert.is(await page.textContent("#details-ulid"), m.ulid);
  const field = (k: string) => page.textContent(`#details dd[data-field="${k}"]`);
  assert.is(await field("Series"), String(m.stats.numSeries));
  assert.is(await field("Samples"), String(m.stats.numSamples));
  assert.is(await field("Level"), String(m.compaction.level));
  assert.is(await field("Source"), "compactor");
  assert.match(await page.textContent("#details .mark.no-compact") ?? "", /No compaction .* reason: manual · too big to compact/);
  assert.is(await page.$$eval("#details-body ul:first-of-type li", (ls) => ls.length), m.compaction.sources.length, "its sources listed");
  await page.screenshot({ path: join(OUT, "ui-blocks-details.png"), fullPage: true });

  // Mark the overlapping late block no-downsample from the page.
  await page.click(`.block[data-ulid="${ids.late}"]`);
  await page.fill("#mark-detail", "late upload");
  await page.click('#admin button[data-action="NO_DOWNSAMPLE"]');
  await page.waitForFunction((id) => document.querySelector(`.block[data-ulid="${id}"]`)?.classList.contains("marked-no-downsample"), ids.late);
  const mk = JSON.parse(readFileSync(join(dir, ids.late, "no-downsample-mark.json"), "utf8"));
  assert.equal({ ...mk, no_downsample_time: 0 }, { id: ids.late, version: 1, details: "late upload", no_downsample_time: 0, reason: "manual" });
  assert.equal(errors, []);
});

test("zoom: dragging across the timeline shows that range only, and the blocks are placed on it", async () => {
  await page.goto(`${base}/?min-time=${START}&max-time=${START + 8 * HOUR}`);
  await page.waitForSelector(".block");
  await expectPlaced(`.block[data-ulid="${ids.big}"]`, START, START + 8 * HOUR, START, START + 8 * HOUR, "the 8h block fills the zoomed track");
  assert.ok(await page.isVisible("#zoom-reset"));
  await page.click("#zoom-reset");
  await page.waitForFunction(() => !location.search.includes("min-time"));
});

test("the compactor serves the page under --web.route-prefix: the bucket at /blocks, its own (filtered) view at /loaded", async () => {
  const port = await freePort();
  const c = startProcess(BUN, [join(ROOT, "agent/main.ts"), "compact", `--objstore.config-file=${bucketConfig(dir)}`, `--data-dir=${join(dir, "..", "data2")}`,
    "--wait", "--wait-interval=1h", `--http-address=127.0.0.1:${port}`, "--min-time=9000-01-01T00:00:00Z", "--block-viewer.global.sync-block-interval=1h", "--disable-admin-operations", "--web.route-prefix=/thanos"], { cwd: ROOT });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/-/ready`, c);
    const home = await fetch(`http://127.0.0.1:${port}/`, { redirect: "manual" });
    assert.is(home.status, 302);
    assert.is(home.headers.get("location"), "/thanos/");
    assert.is((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200, "/metrics stays at the root");
    const base = `http://127.0.0.1:${port}/thanos`;
    const { metas } = await blocks();
    await page.goto(`${base}/blocks`);
    await page.waitForFunction((n) => document.querySelectorAll(".block").length === n, metas.length);
    await page.click(`.block[data-ulid="${ids.big}"]`);
    assert.ok(await page.isHidden("#admin"), "no marking with --disable-admin-operations");
    const refused = await (await fetch(`${base}/api/v1/blocks/mark`, { method: "POST", body: new URLSearchParams({ id: ids.big, action: "DELETION" }) })).json();
    assert.equal(refused, { status: "error", errorType: "bad_data", error: "Admin operations are disabled" });
    assert.not.ok(existsSync(join(dir, ids.big, "deletion-mark.json")));
    // Its own view: nothing passes --min-time in the year 9000; the page says so once it has synced.
    for (let i = 0; i < 100; i++) {
      const j = await (await fetch(`${base}/api/v1/blocks?view=loaded`)).json() as { data: { blocks: unknown[]; refreshedAt: string } };
      if (!j.data.refreshedAt.startsWith("0001")) { assert.equal(j.data.blocks, []); break; }
      await new Promise((r) => setTimeout(r, 200));
    }
    await page.goto(`${base}/loaded`);
    await page.waitForFunction(() => document.getElementById("summary")?.textContent === "No blocks found.");
    assert.equal(errors, []);
  } finally {
    await c.stop();
  }
});

test.run();
