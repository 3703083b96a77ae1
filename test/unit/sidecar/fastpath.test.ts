// The sidecar's Series fast path end to end without Prometheus: a local HTTP server plays remote read
// (frames written in odd-sized pieces), SidecarStore + the shared fast path (shared/rpc/fastseries.ts) answer a Connect request, and a
// slow reader checks every byte against protobuf-es. Several megabytes of answer pass through the
// recycled output buffers (under Bun: its direct stream) while the reader applies back-pressure; labels
// take both the verbatim path (Prometheus already attached the external labels) and the re-encoded
// one (a series without them), with the batched and unbatched encodings. Also: the after-large-answer
// hook (a garbage collection on Bun) runs once per answer over its threshold and not under it.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SidecarStore } from "../../../agent/sidecar/store.ts";
import { PromClient } from "../../../agent/prom/client.ts";
import { fetchFastSeries } from "../../../shared/rpc/fastseries.ts";
import { callGuard } from "../../../shared/rpc/routes.ts";
import { directBodyWriter } from "../../../agent/http.ts";
import { nopLogger } from "../../../agent/log.ts";
import { labelsFrom } from "../../../shared/labels/labels.ts";
import { crc32c } from "../../../shared/encoding/crc32c.ts";
import { ChunkedReadResponseSchema } from "../../../shared/gen/prometheus/remote_pb.ts";
import { SeriesRequestSchema, SeriesResponseSchema } from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import { LabelMatcher_Type } from "../../../shared/gen/thanos/storepb/types_pb.ts";

const N = 3000;
const chunkData = (i: number, k: number) => Uint8Array.from({ length: 700 + ((i * 13 + k) % 500) }, (_, j) => (i * 31 + k * 7 + j) & 0xff);
// Series i: sorted labels; every 97th lacks the external labels (re-encoded on the way out).
function storedLabels(i: number, withExt: boolean) {
  const ls = [{ name: "__name__", value: "m" }];
  if (withExt) ls.push({ name: "cluster", value: "eu" });
  ls.push({ name: "i", value: String(i).padStart(5, "0") });
  if (withExt) ls.push({ name: "replica", value: "r1" });
  return ls;
}

function frames(): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    const body = toBinary(ChunkedReadResponseSchema, create(ChunkedReadResponseSchema, {
      chunkedSeries: [{
        labels: storedLabels(i, i % 97 !== 0),
        chunks: [0, 1].map((k) => ({ minTimeMs: BigInt(1_700_000_000_000 + k * 1000), maxTimeMs: BigInt(1_700_000_000_999 + k * 1000), type: 1, data: chunkData(i, k) })),
      }],
    }));
    const hdr: number[] = [];
    for (let v = body.length; ; v >>>= 7) { if (v < 0x80) { hdr.push(v); break; } hdr.push((v & 0x7f) | 0x80); }
    const f = new Uint8Array(hdr.length + 4 + body.length);
    f.set(hdr);
    new DataView(f.buffer).setUint32(hdr.length, crc32c(body));
    f.set(body, hdr.length + 4);
    parts.push(f);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return all;
}

const stream = frames();
let server: Server;

async function fakePrometheus(): Promise<string> {
  server = createServer(async (req, res) => {
    for await (const _ of req) { /* drain the request */ }
    res.writeHead(200, { "Content-Type": "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse" });
    // Odd-sized writes, so frames straddle network reads.
    for (let o = 0, k = 0; o < stream.length; k++) {
      const n = 1000 + ((k * 7919) % 30_000);
      if (!res.write(stream.subarray(o, o + n))) await new Promise((r) => res.once("drain", r));
      o += n;
    }
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function envelope(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + b.length);
  new DataView(out.buffer).setUint32(1, b.length);
  out.set(b, 5);
  return out;
}

test("Connect Series through the fast path, read slowly: every series and chunk byte arrives intact", async () => {
  const base = await fakePrometheus();
  try {
    let large = 0;
    const store = new SidecarStore({
      prom: new PromClient(base), externalLabels: () => labelsFrom({ cluster: "eu", replica: "r1" }), minTime: () => 0, log: nopLogger,
      // The answer's payloads are the stream less each frame's length and CRC (a few bytes per frame).
      afterLargeAnswer: () => large++, largeAnswerBytes: Math.floor(stream.length * 0.9),
    });
    const observed: number[] = [];
    const fast = fetchFastSeries(store, { guard: callGuard({ observe: (c) => observed.push(c.status) }), readMaxBytes: 1 << 20, writer: directBodyWriter() ?? undefined });
    for (const batch of [0n, 64n]) {
      const req = create(SeriesRequestSchema, { minTime: 0n, maxTime: 2_000_000_000_000n, responseBatchSize: batch, matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "m" }] });
      const res = await fast(new Request("http://sidecar/thanos.Store/Series", {
        method: "POST", headers: { "content-type": "application/connect+proto" }, body: envelope(toBinary(SeriesRequestSchema, req)) as Uint8Array<ArrayBuffer>,
      }));
      assert.ok(res, "the fast path takes Connect streaming");
      const reader = res!.body!.getReader();
      let buf = new Uint8Array(0);
      let seen = 0, endFrame: unknown = null, reads = 0;
      for (;;) {
        const r = await reader.read();
        if (r.done) break;
        if (++reads % 4 === 0) await new Promise((t) => setTimeout(t, 1)); // a slow reader: back-pressure
        const nb = new Uint8Array(buf.length + r.value.length);
        nb.set(buf); nb.set(r.value, buf.length);
        buf = nb;
        let p = 0;
        while (p + 5 <= buf.length) {
          const len = new DataView(buf.buffer, buf.byteOffset + p).getUint32(1);
          if (p + 5 + len > buf.length) break;
          const msg = buf.subarray(p + 5, p + 5 + len);
          if (buf[p] === 2) { endFrame = JSON.parse(new TextDecoder().decode(msg)); p += 5 + len; continue; }
          const m = fromBinary(SeriesResponseSchema, msg);
          const list = m.result.case === "series" ? [m.result.value] : m.result.case === "batch" ? m.result.value.series : [];
          assert.ok(list.length > 0, `unexpected message ${m.result.case}`);
          if (batch > 0n) assert.ok(m.result.case === "batch");
          for (const s of list) {
            const i = seen++;
            assert.equal(s.labels.map((l) => [l.name, l.value]), storedLabels(i, true).map((l) => [l.name, l.value]), `series ${i} labels`);
            assert.is(s.chunks.length, 2);
            for (const [k, c] of s.chunks.entries()) {
              assert.is(c.minTime, BigInt(1_700_000_000_000 + k * 1000));
              assert.is(c.raw!.type, 0); // storepb XOR
              const want = chunkData(i, k);
              assert.ok(c.raw!.data.length === want.length && c.raw!.data.every((x, j) => x === want[j]), `series ${i} chunk ${k} bytes`);
            }
          }
          p += 5 + len;
        }
        buf = buf.slice(p);
      }
      assert.equal(endFrame, {}, "the stream ends with an OK end-of-stream frame");
      assert.is(seen, N);
      assert.is(buf.length, 0);
    }
    assert.is(large, 2, "afterLargeAnswer: once per answer over the threshold");
    assert.equal(observed, [0, 0], "each call observed once, OK");
    // Over the threshold by nothing: a call that streamed less than it is not large.
    let calls = 0;
    const strict = new SidecarStore({
      prom: new PromClient(base), externalLabels: () => labelsFrom({ cluster: "eu", replica: "r1" }), minTime: () => 0, log: nopLogger,
      afterLargeAnswer: () => calls++, largeAnswerBytes: stream.length,
    });
    let n = 0;
    for await (const _ of strict.series(create(SeriesRequestSchema, { minTime: 0n, maxTime: 2_000_000_000_000n, matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "m" }] }), { signal: new AbortController().signal })) n++;
    assert.is(n, N);
    assert.is(calls, 0, "afterLargeAnswer: not for an answer under the threshold");
  } finally {
    server.close();
  }
});

test.run();
