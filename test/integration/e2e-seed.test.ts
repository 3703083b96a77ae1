// The demo's own inputs, checked by Prometheus' tools: the history the demo seeds into the bucket is read
// back by promtool (every sample is the workload's closed form at its timestamp, every block passes
// `promtool tsdb analyze`), and the demo target's exposition passes `promtool check metrics`.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { requireBinary, tempDir } from "../lib/proc.ts";
import { promtool } from "../lib/prometheus.ts";
import { FilesystemBucket } from "../../agent/objstore/fs.ts";
import { removeSeeded, seedHistory, SEED_SOURCE } from "../../agent/demo/seed.ts";
import { startDemoTarget } from "../../agent/demo/target.ts";
import { demoSamples } from "../../agent/demo/model.ts";
import { listBlocks } from "../../shared/objstore/block.ts";

const DAY = 86_400_000;
// 30 hours across a UTC midnight, so each replica gets two blocks cut at the day boundary.
const start = Date.UTC(2026, 10, 20, 6, 0, 0) + 17_000;
const end = start + 30 * 3600_000;
const step = 60_000;
const offsets = { a: 0, b: 23_000 };

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!.replace(/\\(.)/g, "$1");
  return out;
}

test("seeded blocks: promtool reads every sample back as the closed form at its time", async () => {
  const dir = tempDir("e2e-seed-").path;
  const bkt = new FilesystemBucket(dir);
  const metas = await seedHistory(bkt, {
    startMs: start, endMs: end, stepMs: step,
    replicas: Object.entries(offsets).map(([r, o]) => ({ labels: { cluster: "demo", replica: r }, offsetMs: o })),
  });
  assert.is(metas.length, 4, "two blocks per replica");
  for (const m of metas) {
    assert.is(m.thanos?.source, SEED_SOURCE);
    assert.ok(m.minTime === start || m.minTime % DAY === 0, `block starts at the range start or a UTC midnight: ${m.minTime}`);
    const json = JSON.parse(readFileSync(join(dir, m.ulid, "meta.json"), "utf8"));
    assert.equal(json.thanos.labels.cluster, "demo");
  }

  // promtool opens the bucket directory as a TSDB (it wants a wal/ directory to exist).
  mkdirSync(join(dir, "wal"));
  const list = (await promtool(["tsdb", "list", dir])).stdout;
  for (const m of metas) assert.ok(list.includes(m.ulid), `promtool lists ${m.ulid}`);
  for (const m of metas) {
    const { stdout } = await promtool(["tsdb", "analyze", dir, m.ulid]);
    assert.match(stdout, new RegExp(`Block ID: ${m.ulid}`));
  }

  const perSeries = demoSamples(start).length;
  const dump = (await promtool(["tsdb", "dump", dir])).stdout;
  const at = new Map<number, Map<string, number>>();
  const key = (name: string, ls: Record<string, string>) => name + JSON.stringify(Object.entries(ls).sort());
  const expected = (t: number) => {
    let m = at.get(t);
    if (!m) { m = new Map(demoSamples(t).map((s) => [key(s.name, s.labels), s.value])); at.set(t, m); }
    return m;
  };
  let n = 0;
  const times = new Set<number>();
  for (const line of dump.split("\n")) {
    if (!line) continue;
    const m = /^\{(.*)\} (\S+) (\d+)$/.exec(line);
    assert.ok(m, `dump line ${line}`);
    const ls = parseLabels(m![1]!);
    const t = Number(m![3]), v = Number(m![2]);
    const { __name__: name, job, instance, ...rest } = ls;
    assert.is(job, "demo");
    assert.is(instance, "demo-app");
    const expect = expected(t).get(key(name!, rest));
    assert.ok(expect !== undefined, `a demo series: ${line}`);
    assert.is(v, expect, `${line}: value at ${t}`);
    assert.ok(t >= start && t < end && ((t % step) === offsets.a || (t % step) === offsets.b), `${t} on a replica's grid within the range`);
    times.add(t);
    n++;
  }
  // Both replicas' grids (offset from each other), every series at every grid time.
  const grid = (o: number) => { let c = 0; for (let t = Math.ceil((start - o) / step) * step + o; t < end; t += step) c++; return c; };
  assert.is(times.size, grid(offsets.a) + grid(offsets.b));
  assert.is(n, perSeries * (grid(offsets.a) + grid(offsets.b)));
  assert.is(metas.reduce((s, m) => s + m.stats.numSamples, 0), n, "meta.json sample counts add up to what promtool reads");

  // An interrupted seeding's blocks are found and removed (only seeded ones).
  const removed = await removeSeeded(bkt);
  assert.equal(removed.sort(), metas.map((m) => m.ulid).sort());
  assert.equal(await listBlocks(bkt), []);
});

test("demo target: promtool check metrics accepts its exposition, and it follows the closed form", async () => {
  let now = Date.UTC(2026, 10, 21, 12, 0, 0);
  const t = await startDemoTarget("127.0.0.1", 0, () => now);
  try {
    const body = await (await fetch(`${t.url}/metrics`)).text();
    const r = spawnSync(requireBinary("promtool"), ["check", "metrics"], { input: body, encoding: "utf8" });
    assert.is(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
    assert.match(body, /^# TYPE http_request_duration_seconds histogram$/m);
    const line = body.split("\n").find((l) => l.startsWith('http_requests_total{code="200",handler="/",method="GET"}'))!;
    assert.is(Number(line.split(" ")[1]), demoSamples(now).find((s) => s.name === "http_requests_total" && s.labels.handler === "/" && s.labels.code === "200")!.value);
    now += 10_000;
    const later = await (await fetch(`${t.url}/metrics`)).text();
    assert.is.not(later, body, "values move with time");
    assert.is((await fetch(`${t.url}/nope`)).status, 404);
  } finally {
    await t.close();
  }
});

test.run();
