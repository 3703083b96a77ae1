// Local blocks as one more store (shared/query/blocks.ts): answers through the fan-out equal the
// block reader's own (BlocksQuerier, checked against promtool elsewhere); external labels attach and
// select; a remote-like store next to it merges in.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { labelsFrom } from "../../../shared/labels/labels.ts";
import { Engine } from "../../../shared/promql/engine.ts";
import { BlocksQuerier } from "../../../shared/tsdb/querier.ts";
import { blocksEndpoint } from "../../../shared/query/blocks.ts";
import { ProxyStore } from "../../../shared/query/proxy.ts";
import { FanoutQuerier } from "../../../shared/query/querier.ts";
import { makeSeries, memoryBlock } from "../tsdb/helpers.ts";
import { FixStore, sampled } from "./fixture.ts";

const T0 = 1_700_000_000_000;

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

test.run();
