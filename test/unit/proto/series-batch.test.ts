// batchSeries / flattenSeries: order kept, warnings flush pending batches, sizes bounded.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create } from "@bufbuild/protobuf";
import { SeriesResponseSchema, type SeriesResponse } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { batchSeries, flattenSeries, MAX_RESPONSE_BATCH_SIZE } from "../../../shared/rpc/series.ts";
import type { SeriesResponseInit } from "../../../shared/rpc/store.ts";

const ser = (i: number): SeriesResponseInit => ({ result: { case: "series", value: { labels: [{ name: "i", value: String(i) }] } } });
const warn = (w: string): SeriesResponseInit => ({ result: { case: "warning", value: w } });
async function* from(xs: SeriesResponseInit[]) { yield* xs; }
async function all<T>(it: AsyncIterable<T>): Promise<T[]> { const o: T[] = []; for await (const x of it) o.push(x); return o; }

function shape(rs: SeriesResponseInit[]): string[] {
  return rs.map((r) => r.result?.case === "batch" ? `b[${(r.result.value.series ?? []).map((s) => s.labels![0]!.value).join(",")}]`
    : r.result?.case === "series" ? `s${r.result.value.labels![0]!.value}` : `w:${(r.result as { value: string }).value}`);
}

test("batches of n, warnings flush the pending batch, tail batch at the end", async () => {
  const src = [ser(1), ser(2), ser(3), warn("x"), ser(4), ser(5), ser(6), ser(7)];
  assert.equal(shape(await all(batchSeries(from(src), 3))), ["b[1,2,3]", "w:x", "b[4,5,6]", "b[7]"]);
  assert.equal(shape(await all(batchSeries(from(src), 1))), ["s1", "s2", "s3", "w:x", "s4", "s5", "s6", "s7"]);
  assert.equal(shape(await all(batchSeries(from(src), 0))), ["s1", "s2", "s3", "w:x", "s4", "s5", "s6", "s7"]);
  const many = Array.from({ length: MAX_RESPONSE_BATCH_SIZE + 5 }, (_, i) => ser(i));
  const b = await all(batchSeries(from(many), 1e12));
  assert.is(b.length, 2, "a huge requested size is capped");
});

test("flattenSeries undoes batching exactly", async () => {
  const src = [ser(1), ser(2), warn("x"), ser(3), ser(4), ser(5)];
  const batched = (await all(batchSeries(from(src), 2))).map((r) => create(SeriesResponseSchema, r));
  const flat = await all(flattenSeries(from(batched) as AsyncIterable<SeriesResponse>));
  assert.equal(shape(flat as SeriesResponseInit[]), ["s1", "s2", "w:x", "s3", "s4", "s5"]);
});

test.run();
