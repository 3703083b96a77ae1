// The direct SeriesResponse decoder against protobuf-es (the generated code is the reference):
// series, batches, warnings, hints, every aggregate, non-ASCII labels, negative times; truncations
// and bad lengths are "corrupt" errors naming the offset, never a crash.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { SeriesResponseSchema, SeriesRequestSchema } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { decodeSeriesResponse } from "../../../shared/query/wire.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

const series = (i: number) => ({
  labels: [{ name: "__name__", value: "up" }, { name: "job", value: `j${i}` }, { name: "zone", value: "ünïcode-" + "x".repeat(40) }],
  chunks: [
    { minTime: 1_700_000_000_000n + BigInt(i), maxTime: 1_700_000_999_999n, raw: { type: 0, data: new Uint8Array([0, 1, 2, 3, i]), hash: 12345678901234567890n } },
    { minTime: -5n, maxTime: 0n, count: { type: 0, data: new Uint8Array([9]) }, sum: { type: 0, data: new Uint8Array([8, 8]) }, min: { type: 0, data: new Uint8Array([7]) }, max: { type: 0, data: new Uint8Array([6]) }, counter: { type: 2, data: new Uint8Array([5]) } },
  ],
});

function expectSeries(got: { labels: { name: string; value: string }[]; chunks: any[] }, want: ReturnType<typeof series>) {
  assert.equal(got.labels, want.labels);
  assert.is(got.chunks.length, want.chunks.length);
  for (let k = 0; k < want.chunks.length; k++) {
    const w = want.chunks[k]! as any, g = got.chunks[k]!;
    assert.is(g.minTime, Number(w.minTime));
    assert.is(g.maxTime, Number(w.maxTime));
    for (const a of ["raw", "count", "sum", "min", "max", "counter"]) {
      if (!w[a]) { assert.is(g[a], undefined, a); continue; }
      assert.is(g[a].encoding, w[a].type + 1, a); // storepb numbers from XOR = 0, ours (Prometheus') from 1
      assert.equal([...g[a].data], [...w[a].data], a);
    }
  }
}

test("series, batch, warning and hints decode as protobuf-es encodes them", () => {
  const one = toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "series", value: series(1) } }));
  const d = decodeSeriesResponse(one);
  assert.is(d.kind, "series");
  if (d.kind === "series") expectSeries(d, series(1));

  const batch = toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "batch", value: { series: [series(1), series(2), series(3)] } } }));
  const b = decodeSeriesResponse(batch);
  assert.is(b.kind, "batch");
  if (b.kind === "batch") b.series.forEach((s, i) => expectSeries(s, series(i + 1)));

  const w = decodeSeriesResponse(toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "warning", value: "store x: down ✗" } })));
  assert.equal(w, { kind: "warning", warning: "store x: down ✗" });

  const h = decodeSeriesResponse(toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "hints", value: anyPack(SeriesRequestSchema, create(SeriesRequestSchema, { minTime: 5n })) } })));
  assert.equal(h, { kind: "hints" });
});

test("every truncation of a message is a corrupt error or a shorter valid prefix, never a crash", () => {
  const full = toBinary(SeriesResponseSchema, create(SeriesResponseSchema, { result: { case: "series", value: series(7) } }));
  let errors = 0;
  for (let n = 1; n < full.length; n++) {
    try {
      decodeSeriesResponse(full, 0, n, "test message");
    } catch (e) {
      errors++;
      assert.is(errorCode(e), "corrupt");
      assert.match(String((e as Error).message), /^test message: .* at byte \d+$/);
    }
  }
  assert.ok(errors > full.length / 2, `${errors} of ${full.length} truncations rejected`);
  assert.throws(() => decodeSeriesResponse(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f])), /runs past the end/);
});

test.run();
