// The sidecar's shipper: promtool-backfilled Prometheus blocks uploaded to a filesystem bucket and to S3
// (s3rver), byte-identical, meta.json last with the thanos section, state in thanos.shipper.json; a
// faulty bucket, an upload that never finishes (a crash) and a SIGKILLed sidecar never leave a visible
// partial block, and the next run completes it. Also the startup refusals against a real Prometheus.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForHttp } from "../lib/proc.ts";
import { promtoolBackfill, startPrometheus } from "../lib/prometheus.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import type { Bucket, UploadData } from "../../shared/objstore/bucket.ts";
import { FaultyBucket } from "../../shared/objstore/faulty.ts";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { S3Bucket } from "../../shared/objstore/s3.ts";
import { Shipper, SHIPPER_STATE_FILE } from "../../agent/shipper/shipper.ts";
import { nopLogger } from "../../agent/log.ts";
import { Registry } from "../../agent/metrics.ts";
import { newUlid } from "../../shared/tsdb/ulid.ts";
import { startS3rver } from "../unit/objstore/s3rver.ts";

const root = process.cwd();
const ext = labelsFrom({ cluster: "eu-1", replica: "r1" });
const noRetry = { attempts: 1 };

// 12h of 30s samples for 20 series: promtool cuts it into 2h level-1 blocks (7 blocks).
const t0 = 1_700_000_000 - (1_700_000_000 % 7200);
let om = "# TYPE ship_gauge gauge\n";
for (let s = 0; s < 20; s++) for (let t = t0; t < t0 + 12 * 3600; t += 30) om += `ship_gauge{s="${s}"} ${(t % 977) * s} ${t}\n`;
om += "# EOF\n";
const source = tempDir("ship-src-").path;
let blockIds: string[] = [];

/** A fresh copy of the backfilled TSDB dir (the shipper writes state and upload dirs into it). */
function tsdbCopy(): string {
  const d = tempDir("ship-tsdb-").path;
  cpSync(source, d, { recursive: true });
  return d;
}

function filesOf(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesOf(dir, r)); else out.push(r);
  }
  return out.sort();
}

/** Every block whose meta.json is visible is complete and byte-identical; returns the visible ULIDs. */
async function assertNoPartialVisible(bkt: Bucket, tsdb: string): Promise<string[]> {
  const visible: string[] = [];
  for (const id of blockIds) {
    if (!(await bkt.exists(`${id}/meta.json`))) continue;
    visible.push(id);
    for (const f of filesOf(join(tsdb, id))) {
      if (f === "meta.json" || f === "tombstones") continue;
      const got = await bkt.get(`${id}/${f}`);
      assert.ok(Buffer.from(got).equals(readFileSync(join(tsdb, id, f))), `${id}/${f} byte-identical`);
    }
    const meta = JSON.parse(new TextDecoder().decode(await bkt.get(`${id}/meta.json`)));
    const local = JSON.parse(readFileSync(join(tsdb, id, "meta.json"), "utf8"));
    assert.equal({ ...meta, thanos: undefined }, { ...local, thanos: undefined }, `${id}: meta.json is the local one plus thanos`);
    assert.equal(meta.thanos.labels, { cluster: "eu-1", replica: "r1" });
    assert.equal(meta.thanos.downsample, { resolution: 0 });
    assert.is(meta.thanos.source, "sidecar");
    assert.equal(meta.thanos.segment_files, readdirSync(join(tsdb, id, "chunks")).sort());
  }
  return visible;
}

function state(tsdb: string): { version: number; uploaded: string[] } {
  return JSON.parse(readFileSync(join(tsdb, SHIPPER_STATE_FILE), "utf8"));
}

function shipper(tsdb: string, bucket: Bucket, extra: Partial<ConstructorParameters<typeof Shipper>[0]> = {}): Shipper {
  return new Shipper({ dir: tsdb, bucket, externalLabels: () => ext, source: "sidecar", log: nopLogger, retry: noRetry, ...extra });
}

test.before(async () => {
  await promtoolBackfill(om, source);
  blockIds = readdirSync(source).filter((d) => /^[0-9A-Z]{26}$/.test(d)).sort();
  assert.ok(blockIds.length >= 6, `backfill made ${blockIds.length} blocks`);
});

test("filesystem bucket: every block uploaded byte-identical with the thanos section; state recorded; nothing twice", async () => {
  const tsdb = tsdbCopy();
  const bkt = new FilesystemBucket(tempDir("ship-bkt-").path);
  const reg = new Registry();
  const sh = shipper(tsdb, bkt, { registry: reg });
  const r = await sh.sync();
  assert.equal(r, { uploaded: blockIds.length, failed: 0, skipped: 0 });
  assert.equal(await assertNoPartialVisible(bkt, tsdb), blockIds);
  assert.equal(state(tsdb), { version: 1, uploaded: blockIds });
  // Thanos' file layout: tab-indented JSON.
  assert.match(readFileSync(join(tsdb, SHIPPER_STATE_FILE), "utf8"), /^\{\n\t"version": 1,\n\t"uploaded": \[\n\t\t"/);
  assert.equal(await sh.sync(), { uploaded: 0, failed: 0, skipped: 0 });
  assert.match(reg.render(), new RegExp(`thanos_shipper_uploads_total ${blockIds.length}\n`));
  assert.ok(!existsSync(join(tsdb, "thanos", "upload", blockIds[0]!)), "upload hard-link dir cleaned up");
});

test("another component's shipper (the ruler's): its source and its own labels in meta.json", async () => {
  const tsdb = tsdbCopy();
  const bkt = new FilesystemBucket(tempDir("ship-bkt-").path);
  const sh = shipper(tsdb, bkt, { source: "ruler", externalLabels: () => labelsFrom({ cluster: "eu-1", rule_replica: "0" }) });
  assert.equal(await sh.sync(), { uploaded: blockIds.length, failed: 0, skipped: 0 });
  const meta = JSON.parse(new TextDecoder().decode(await bkt.get(`${blockIds[0]}/meta.json`)));
  assert.is(meta.thanos.source, "ruler");
  assert.equal(meta.thanos.labels, { cluster: "eu-1", rule_replica: "0" });
});

test("faulty bucket (every 4th upload fails): no visible partial block after any sync; later syncs finish", async () => {
  const tsdb = tsdbCopy();
  const inner = new FilesystemBucket(tempDir("ship-bkt-").path);
  // Not 3: a block is 3 uploads (chunks/000001, index, meta.json), so every 3rd would always hit meta.json.
  const bkt = new FaultyBucket(inner, { failEvery: 4, ops: ["upload"] });
  const sh = shipper(tsdb, bkt);
  let done = 0;
  for (let i = 0; i < 20 && done < blockIds.length; i++) {
    const r = await sh.sync();
    assert.ok(r.failed > 0 || r.uploaded > 0 || i > 0);
    done = (await assertNoPartialVisible(inner, tsdb)).length;
  }
  assert.ok(bkt.failures > 0, "faults were injected");
  assert.is(done, blockIds.length);
  assert.equal(state(tsdb).uploaded, blockIds);
});

test("a crash mid-upload (an upload that never returns) leaves no visible block; a restart completes it", async () => {
  const tsdb = tsdbCopy();
  const inner = new FilesystemBucket(tempDir("ship-bkt-").path);
  const victim = blockIds[2]!;
  // Hangs forever on the victim's index, after its chunks went up: the process "dies" here.
  const hanging: Bucket = new Proxy(inner, {
    get(target, prop, recv) {
      if (prop === "upload") {
        return (key: string, data: UploadData) => (key === `${victim}/index` ? new Promise<void>(() => {}) : target.upload(key, data));
      }
      const v = Reflect.get(target, prop, recv);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  void shipper(tsdb, hanging).sync();
  for (let i = 0; i < 100 && !(await inner.exists(`${victim}/chunks/000001`)); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(await inner.exists(`${victim}/chunks/000001`), "the victim's chunks were uploaded");
  assert.is(await inner.exists(`${victim}/meta.json`), false);
  assert.equal(await assertNoPartialVisible(inner, tsdb), blockIds.slice(0, 2));
  assert.equal(state(tsdb).uploaded, blockIds.slice(0, 2), "state written after each block");
  // "Restart": a new shipper over the same dir and bucket.
  rmSync(join(tsdb, "thanos", "upload"), { recursive: true, force: true });
  const r = await shipper(tsdb, inner).sync();
  assert.is(r.uploaded, blockIds.length - 2);
  assert.equal(await assertNoPartialVisible(inner, tsdb), blockIds);
});

test("a block deleted by retention mid-upload still uploads whole (hard links), and a vanished block is skipped", async () => {
  const tsdb = tsdbCopy();
  const inner = new FilesystemBucket(tempDir("ship-bkt-").path);
  const victim = blockIds[0]!;
  let deleted = false;
  const deleting: Bucket = new Proxy(inner, {
    get(target, prop, recv) {
      if (prop === "upload") {
        return async (key: string, data: UploadData) => {
          if (!deleted && key.startsWith(victim + "/")) { deleted = true; rmSync(join(tsdb, victim), { recursive: true }); }
          return target.upload(key, data);
        };
      }
      const v = Reflect.get(target, prop, recv);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
  const keep = join(tempDir().path, victim);
  cpSync(join(tsdb, victim), keep, { recursive: true });
  const r = await shipper(tsdb, deleting).sync();
  assert.ok(deleted);
  assert.is(r.failed, 0);
  assert.is(r.uploaded, blockIds.length);
  assert.ok(Buffer.from(await inner.get(`${victim}/index`)).equals(readFileSync(join(keep, "index"))));
});

test("compacted blocks are skipped unless upload-compacted; unreadable meta.json is skipped with a warning", async () => {
  const tsdb = tsdbCopy();
  const id = newUlid();
  cpSync(join(tsdb, blockIds[0]!), join(tsdb, id), { recursive: true });
  const meta = JSON.parse(readFileSync(join(tsdb, id, "meta.json"), "utf8"));
  writeFileSync(join(tsdb, id, "meta.json"), JSON.stringify({ ...meta, ulid: id, compaction: { level: 2, sources: [blockIds[0]] } }));
  const bad = newUlid();
  cpSync(join(tsdb, blockIds[1]!), join(tsdb, bad), { recursive: true });
  writeFileSync(join(tsdb, bad, "meta.json"), "{not json");
  const bkt = new FilesystemBucket(tempDir("ship-bkt-").path);
  const r1 = await shipper(tsdb, bkt).sync();
  assert.equal(r1, { uploaded: blockIds.length, failed: 0, skipped: 2 });
  assert.is(await bkt.exists(`${id}/meta.json`), false);
  const r2 = await shipper(tsdb, bkt, { uploadCompacted: true }).sync();
  assert.equal(r2, { uploaded: 1, failed: 0, skipped: 1 });
  assert.is(JSON.parse(new TextDecoder().decode(await bkt.get(`${id}/meta.json`))).compaction.level, 2);
});

test("S3 (s3rver): byte-identical upload through the S3 bucket", async () => {
  const server = await startS3rver(["thanos"]);
  const b = new S3Bucket({ bucket: "thanos", endpoint: server.endpoint, region: "us-east-1", credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }, forcePathStyle: true });
  try {
    const tsdb = tsdbCopy();
    const r = await shipper(tsdb, b).sync();
    assert.equal(r, { uploaded: blockIds.length, failed: 0, skipped: 0 });
    assert.equal(await assertNoPartialVisible(b, tsdb), blockIds);
  } finally {
    b.destroy();
    await server.stop();
  }
});

test("the real sidecar: SIGKILLed while shipping, restarted, every block ends up uploaded and none is ever partial", async () => {
  const tsdb = tsdbCopy();
  const bdir = tempDir("ship-bkt-").path;
  const cfg = join(tempDir().path, "bucket.yml");
  writeFileSync(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${bdir}\n`);
  const prom = await startPrometheus({
    config: "global:\n  scrape_interval: 15s\n  external_labels:\n    cluster: eu-1\n    replica: r1\n",
    args: ["--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h"],
  });
  const bkt = new FilesystemBucket(bdir);
  try {
    let logs = "";
    const kills: number[] = [];
    const run = async (kill: number) => {
      const hp = await freePort(), gp = await freePort();
      const p = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "sidecar",
        `--prometheus.url=${prom.url}`, `--tsdb.path=${tsdb}`, `--objstore.config-file=${cfg}`,
        `--http-address=127.0.0.1:${hp}`, `--grpc-address=127.0.0.1:${gp}`, "--shipper.sync-interval=200ms", "--log.level=info"]);
      if (kill > 0) {
        // SIGKILL as soon as `kill` more objects landed in the bucket: most likely in the middle of a block.
        const before = filesOf(bdir).length;
        const all = blockIds.length * 3;
        for (let i = 0; i < 20_000 && before < all && filesOf(bdir).length < Math.min(all, before + kill) && p.child.exitCode === null; i++) {
          await new Promise((r) => setImmediate(r));
        }
        p.child.kill("SIGKILL");
        await p.exited;
        kills.push((await assertNoPartialVisible(bkt, tsdb)).length);
      } else {
        await waitForHttp(`http://127.0.0.1:${hp}/-/ready`, p, 30_000);
        for (let i = 0; i < 100 && (await assertNoPartialVisible(bkt, tsdb)).length < blockIds.length; i++) await new Promise((r) => setTimeout(r, 100));
        await p.stop();
      }
      logs += p.output();
    };
    for (const k of [1, 1, 2]) await run(k);
    await run(0);
    assert.match(logs, /msg="shipper: uploaded block"/);
    console.log("visible blocks after each SIGKILL:", kills.join(", "));
    assert.equal(await assertNoPartialVisible(bkt, tsdb), blockIds);
    assert.equal(state(tsdb).uploaded, blockIds);
  } finally {
    await prom.stop();
  }
});

test("startup refusals: no external labels with uploads; unequal min/max block durations; both say what to change", async () => {
  const cfg = join(tempDir().path, "bucket.yml");
  writeFileSync(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${tempDir().path}\n`);
  const sidecar = async (url: string) => {
    const p = startProcess(join(root, "node_modules/.bin/bun"), [join(root, "agent/main.ts"), "sidecar", `--prometheus.url=${url}`,
      `--tsdb.path=${tempDir().path}`, `--objstore.config-file=${cfg}`, `--http-address=127.0.0.1:${await freePort()}`, `--grpc-address=127.0.0.1:${await freePort()}`]);
    const code = await p.exited;
    return { code, out: p.output() };
  };
  const noLabels = await startPrometheus({ args: ["--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h"] });
  const compacting = await startPrometheus({ config: "global:\n  external_labels:\n    cluster: a\n", args: ["--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=6h"] });
  try {
    const a = await sidecar(noLabels.url);
    assert.is(a.code, 2, a.out);
    assert.match(a.out, /has no external labels.*Set global\.external_labels/);
    const b = await sidecar(compacting.url);
    assert.is(b.code, 2, b.out);
    assert.match(b.out, /min-block-duration=2h and --storage\.tsdb\.max-block-duration=6h.*max-block-duration=2h/);
  } finally {
    await Promise.all([noLabels.stop(), compacting.stop()]);
  }
});

test.run();
