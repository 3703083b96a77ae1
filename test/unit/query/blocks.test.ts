// Local blocks as one more store (shared/query/blocks.ts): answers through the fan-out equal the
// block reader's own (BlocksQuerier, checked against promtool elsewhere); external labels attach and
// select; a remote-like store next to it merges in.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compareLabels, type Labels, labelsFrom, labelsString } from "../../../shared/labels/labels.ts";
import { Engine } from "../../../shared/promql/engine.ts";
import { BlocksQuerier } from "../../../shared/tsdb/querier.ts";
import { blocksEndpoint } from "../../../shared/query/blocks.ts";
import { labelNamesRequest, ProxyStore, seriesRequest } from "../../../shared/query/proxy.ts";
import { FanoutQuerier } from "../../../shared/query/querier.ts";
import { makeSeries, memoryBlock, openFiles } from "../tsdb/helpers.ts";
import { encodeTombstones } from "../../../shared/tsdb/tombstones.ts";
import { expandPostings } from "../../../shared/tsdb/postings.ts";
import { FixStore, sampled } from "./fixture.ts";

const T0 = 1_700_000_000_000;

/** `{a="1", b="2"}` (labelsString's form) back to labels. */
function parseLabels(s: string): Labels {
  return labelsFrom(Object.fromEntries([...s.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!])));
}

test("queries over local blocks through the fan-out equal the block reader's answers", async () => {
  const { block } = await memoryBlock(makeSeries(60, 400, T0));
  const direct = new BlocksQuerier([block]);
  const viaFanout = new FanoutQuerier(new ProxyStore([blocksEndpoint("local", direct)]));
  const e = new Engine();
  for (const q of ["up", 'sum by (job) (rate(metric[5m]))', 'metric{env="prod"}', "count(metric)", "max_over_time(up[10m])"]) {
    const a = await e.rangeQuery(direct, q, T0, T0 + 399 * 15_000, 60_000);
    const b = await e.rangeQuery(viaFanout, q, T0, T0 + 399 * 15_000, 60_000);
    assert.equal(b.value, a.value, q);
  }
  const names = await viaFanout.labelNames(T0, T0 + 3600_000, []);
  assert.equal(names.names, (await direct.labelNames(T0, T0 + 3600_000, [])).names);
});

test("external labels of the local store attach, select it, and merge with another store", async () => {
  const { block } = await memoryBlock(makeSeries(10, 100, T0));
  const local = blocksEndpoint("local", new BlocksQuerier([block]), labelsFrom({ site: "here" }));
  const other = new FixStore("other", [sampled({ __name__: "up", job: "a", instance: "remote" }, T0, T0 + 99 * 15_000, 15_000, () => 7)], { ext: { site: "there" } });
  const q = new FanoutQuerier(new ProxyStore([local, other]));
  const e = new Engine();
  const all = await e.instantQuery(q, "count by (site) (up)", T0 + 50 * 15_000);
  assert.equal((all.value as unknown as { samples: { metric: { value: string }[]; v: number }[] }).samples.map((s) => [s.metric[0]!.value, s.v]), [["here", 2], ["there", 1]]);
  const here = await e.instantQuery(q, 'up{site="here"}', T0 + 50 * 15_000);
  assert.is((here.value as { samples: unknown[] }).samples.length, 2);
  assert.is(other.calls.series.length, 1, "the other store is not asked for site=here");
  assert.equal((await q.labelValues("site", T0, T0 + 3600_000, [])).values, ["here", "there"]);
});

test("tombstones: the fan-out over local blocks answers as the block reader does", async () => {
  const { files } = await memoryBlock(makeSeries(12, 400, T0));
  const refs = expandPostings(await (await openFiles(files)).index.allPostings());
  const T = (i: number) => T0 + i * 15_000;
  files.set("tombstones", encodeTombstones(new Map([
    [refs[0]!, [{ minTime: T(10), maxTime: T(30) }]], // inside a chunk: re-encoded without those samples
    [refs[1]!, [{ minTime: -1e15, maxTime: 1e15 }]], // the whole series
    [refs[2]!, [{ minTime: T(0), maxTime: T(119) }, { minTime: T(300), maxTime: T(305) }]], // a whole chunk, and a few
  ])));
  const direct = new BlocksQuerier([await openFiles(files)]);
  const viaFanout = new FanoutQuerier(new ProxyStore([blocksEndpoint("local", direct)]));
  const e = new Engine();
  for (const q of ["metric", "up", "count_over_time(metric[1h])", "count(up)"]) {
    const a = await e.rangeQuery(direct, q, T0, T(399), 15_000);
    const b = await e.rangeQuery(viaFanout, q, T0, T(399), 15_000);
    assert.equal(b.value, a.value, q);
  }
  // The deletions took effect (not both answers equally blind to them): 400 samples per series, 21
  // and 126 deleted in two of them, one series gone.
  const counts = await e.instantQuery(viaFanout, 'count_over_time({__name__=~".+"}[2h])', T(399));
  const got = (counts.value as { samples: { v: number }[] }).samples.map((s) => s.v).sort((x, y) => x - y);
  assert.equal(got, [274, 379, ...Array(9).fill(400)]);
});

test("as a store: sorted once external labels attach, without_replica_labels honoured, skip_chunks without chunks", async () => {
  // {a="1"} sorts before {a="1", b="2"} in the block; with replica="r" attached, after it.
  const ls = ([{ a: "1" }, { a: "1", b: "2" }, { a: "1", b: "2", zone: "x" }, { a: "2" }, { a: "2", b: "3" }] as Record<string, string>[])
    .map((l) => labelsFrom({ __name__: "g", ...l })).sort(compareLabels);
  const ts = Array.from({ length: 10 }, (_, i) => T0 + i * 15_000);
  const { block } = await memoryBlock(ls.map((labels, k) => ({ labels, ts, vs: ts.map((_, i) => k * 100 + i) })));
  const ep = blocksEndpoint("local", new BlocksQuerier([block]), labelsFrom({ cluster: "c", replica: "r" }));
  const ask = async (init: Parameters<typeof seriesRequest>[0]) => {
    const out: { labels: string; chunks: number }[] = [];
    for await (const f of ep.series(seriesRequest({ minTime: BigInt(T0), maxTime: BigInt(T0 + 3600_000), matchers: [{ name: "__name__", value: "g" }], ...init }), new AbortController().signal)) {
      if (f.kind === "series") out.push({ labels: labelsString(f.labels), chunks: f.chunks.length });
    }
    return out;
  };
  const sorted = (xs: string[]) => [...xs].sort((x, y) => compareLabels(parseLabels(x), parseLabels(y)));
  const all = await ask({});
  assert.is(all.length, ls.length);
  assert.equal(all.map((x) => x.labels), sorted(ls.map((l) => labelsString(labelsFrom({ ...Object.fromEntries(l.map((x) => [x.name, x.value])), cluster: "c", replica: "r" })))));
  assert.ok(all.every((x) => x.chunks === 1));
  const without = await ask({ withoutReplicaLabels: ["replica"] });
  assert.equal(without.map((x) => x.labels), sorted(ls.map((l) => labelsString(labelsFrom({ ...Object.fromEntries(l.map((x) => [x.name, x.value])), cluster: "c" })))));
  assert.ok((await ep.info(new AbortController().signal)).supportsWithoutReplicaLabels);
  const skip = await ask({ skipChunks: true });
  assert.equal(skip.map((x) => x.labels), all.map((x) => x.labels));
  assert.ok(skip.every((x) => x.chunks === 0), "skip_chunks: no chunks");
  const ln = await ep.labelNames(labelNamesRequest({ start: BigInt(T0), end: BigInt(T0 + 3600_000), withoutReplicaLabels: ["replica"] }), new AbortController().signal);
  assert.equal(ln.names, ["__name__", "a", "b", "cluster", "zone"]);
});

test.run();
