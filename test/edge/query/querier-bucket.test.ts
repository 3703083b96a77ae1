// The bucket store embedded in the querier (shared/query/bucket.ts): blocks uploaded to a bucket answer
// through the fan-out exactly as the block reader answers over the same blocks, next to a remote store.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { uploadBlock } from "../../../shared/objstore/block.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";
import { BlocksQuerier } from "../../../shared/tsdb/querier.ts";
import { Engine } from "../../../shared/promql/engine.ts";
import { ProxyStore } from "../../../shared/query/proxy.ts";
import { FanoutQuerier } from "../../../shared/query/querier.ts";
import { bucketStoreEndpoint } from "../../../shared/query/bucket.ts";
import { makeSeries, memoryBlock } from "../../unit/tsdb/helpers.ts";

const T0 = 1_700_000_000_000;

test("blocks in a bucket answer through the querier as the block reader answers", async () => {
  const bkt = new MemoryBucket("blocks");
  const ulid = newUlid(T0);
  const { block, files } = await memoryBlock(makeSeries(40, 300, T0), { ulid });
  await uploadBlock(bkt, ulid, [...files].map(([path, data]) => ({ path, data })));
  const q = new FanoutQuerier(new ProxyStore([bucketStoreEndpoint(bkt)]));
  const direct = new BlocksQuerier([block]);
  const e = new Engine();
  for (const query of ["up", "sum by (job) (rate(metric[5m]))", 'count(metric{env="dev"})']) {
    assert.equal((await e.rangeQuery(q, query, T0, T0 + 299 * 15_000, 60_000)).value, (await e.rangeQuery(direct, query, T0, T0 + 299 * 15_000, 60_000)).value, query);
  }
  assert.equal((await q.labelValues("job", T0, T0 + 3600_000, [])).values, ["a", "b", "c"]);
});

test.run();
