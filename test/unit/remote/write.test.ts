// Remote write (shared/remote/write.ts): the hand-written WriteRequest encoder against protobuf-es'
// generated decoder (the reference), staleness markers' exact bits, the queue's batching, retries with
// backoff, non-recoverable drops, bounded memory, and the storage's head-appender rules. A real
// Prometheus receiving it is test/integration/rule-stateless.test.ts.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { fromBinary } from "@bufbuild/protobuf";
import { WriteRequestSchema } from "../../../shared/gen/prometheus/remote_pb.ts";
import { snappyDecode } from "../../../shared/remote/snappy.ts";
import {
  DEFAULT_QUEUE_CONFIG, encodeWriteRequest, parseRemoteWriteConfig, RemoteWriteQueue, RemoteWriteStorage,
  type RemoteWriteConfig, type WriteFetch,
} from "../../../shared/remote/write.ts";
import type { Labels } from "../../../shared/labels/labels.ts";

const lbl = (o: Record<string, string>): Labels => Object.entries(o).map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

test("encodeWriteRequest decodes with the generated WriteRequest decoder, values, negative times and unicode intact", () => {
  const series = [
    { labels: lbl({ __name__: "job:x:sum", job: "a", "é": "ü✓" }), samples: [{ t: 1_700_000_000_123, v: 1.5 }, { t: 1_700_000_001_123, v: -0 }, { t: 5, v: Infinity }] },
    { labels: lbl({ __name__: "y" }), samples: [{ t: -1000, v: NaN }, { t: 0, v: 1e300 }, { t: 2 ** 52, v: 2 }] },
    { labels: [], samples: [] },
  ];
  const bytes = encodeWriteRequest(series);
  const got = fromBinary(WriteRequestSchema, bytes);
  assert.is(got.timeseries.length, 3);
  series.forEach((s, i) => {
    const ts = got.timeseries[i]!;
    assert.equal(ts.labels.map((l) => [l.name, l.value]), s.labels.map((l) => [l.name, l.value]));
    assert.equal(ts.samples.map((x) => Number(x.timestamp)), s.samples.map((x) => x.t));
    ts.samples.forEach((x, j) => assert.ok(Object.is(x.value, s.samples[j]!.v) || (Number.isNaN(x.value) && Number.isNaN(s.samples[j]!.v)), `value ${j}`));
  });
});

test("a staleness marker is written with the StaleNaN bits 0x7ff0000000000002", () => {
  const bytes = encodeWriteRequest([{ labels: lbl({ __name__: "a" }), samples: [{ t: 1000, v: 0, stale: true }] }]);
  // The sample's double follows its field tag 0x09.
  const i = bytes.lastIndexOf(0x09);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + i + 1, 8);
  assert.is(dv.getUint32(4, true).toString(16), "7ff00000");
  assert.is(dv.getUint32(0, true), 2);
});

function cfg(over: Partial<RemoteWriteConfig> = {}, queue: Partial<RemoteWriteConfig["queue"]> = {}): RemoteWriteConfig {
  return { url: "http://rw/api/v1/write", name: "rw", remoteTimeout: 1000, headers: {}, writeRelabelConfigs: [], queue: { ...DEFAULT_QUEUE_CONFIG, batchSendDeadline: 5, minBackoff: 1, maxBackoff: 8, ...queue }, ...over };
}

interface Req { headers: Record<string, string>; samples: { name: string; t: number; v: number }[] }

function recorder(statuses: (number | Error)[] = []): { fetch: WriteFetch; reqs: Req[] } {
  const reqs: Req[] = [];
  const fetch: WriteFetch = async (_url, init) => {
    const st = statuses.length > 0 ? statuses.shift()! : 200;
    if (st instanceof Error) throw st;
    const wr = fromBinary(WriteRequestSchema, snappyDecode(init.body, 1 << 24, "test"));
    if (st === 200) {
      reqs.push({
        headers: init.headers,
        samples: wr.timeseries.flatMap((ts) => ts.samples.map((s) => ({ name: ts.labels.find((l) => l.name === "__name__")!.value, t: Number(s.timestamp), v: s.value }))),
      });
    }
    return { status: st, text: async () => (st === 200 ? "" : "boom") };
  };
  return { fetch, reqs };
}

const until = async (f: () => boolean, ms = 2000) => {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 2));
  }
};

test("queue: batches of max_samples_per_send, Prometheus' headers, time order kept per series", async () => {
  const { fetch, reqs } = recorder();
  const q = new RemoteWriteQueue(cfg({ headers: { "X-Scope-OrgID": "t1" } }, { maxSamplesPerSend: 3 }), fetch);
  q.start();
  q.push(Array.from({ length: 7 }, (_, i) => ({ labels: lbl({ __name__: "m" }), t: i, v: i, stale: false })));
  await until(() => q.metrics.samplesTotal === 7);
  await q.stop();
  assert.equal(reqs.map((r) => r.samples.length), [3, 3, 1]);
  assert.equal(reqs.flatMap((r) => r.samples.map((s) => s.t)), [0, 1, 2, 3, 4, 5, 6]);
  const h = reqs[0]!.headers;
  assert.is(h["Content-Encoding"], "snappy");
  assert.is(h["Content-Type"], "application/x-protobuf");
  assert.is(h["X-Prometheus-Remote-Write-Version"], "0.1.0");
  assert.is(h["X-Scope-OrgID"], "t1");
});

test("queue: 5xx and network errors are retried with backoff until they succeed; 4xx drops the batch", async () => {
  const { fetch, reqs } = recorder([503, new Error("ECONNREFUSED"), 500, 200, 400]);
  const q = new RemoteWriteQueue(cfg({}, { maxSamplesPerSend: 2 }), fetch);
  q.start();
  q.push([{ labels: lbl({ __name__: "a" }), t: 1, v: 1, stale: false }, { labels: lbl({ __name__: "a" }), t: 2, v: 2, stale: false }]);
  await until(() => q.metrics.samplesTotal === 2);
  assert.is(q.metrics.samplesRetried, 6); // 3 retries of 2 samples
  assert.is(q.metrics.requestFailures, 3);
  q.push([{ labels: lbl({ __name__: "b" }), t: 3, v: 3, stale: false }, { labels: lbl({ __name__: "b" }), t: 4, v: 4, stale: false }]);
  await until(() => q.metrics.samplesFailed === 2);
  await q.stop();
  assert.is(reqs.length, 1);
  assert.is(q.metrics.samplesTotal, 2);
});

test("queue: 429 is retried only with retry_on_http_429", async () => {
  const a = recorder([429]);
  const q1 = new RemoteWriteQueue(cfg({}, { maxSamplesPerSend: 1 }), a.fetch);
  q1.start();
  q1.push([{ labels: lbl({ __name__: "a" }), t: 1, v: 1, stale: false }]);
  await until(() => q1.metrics.samplesFailed === 1);
  await q1.stop();
  const b = recorder([429]);
  const q2 = new RemoteWriteQueue(cfg({}, { maxSamplesPerSend: 1, retryOnRateLimit: true }), b.fetch);
  q2.start();
  q2.push([{ labels: lbl({ __name__: "a" }), t: 1, v: 1, stale: false }]);
  await until(() => q2.metrics.samplesTotal === 1);
  await q2.stop();
  assert.is(q2.metrics.samplesFailed, 0);
});

test("queue: bounded memory, the oldest samples dropped and counted; push never waits on a hung receiver", async () => {
  let calls = 0;
  const hung: WriteFetch = (_u, init) => { calls++; return new Promise((_r, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason))); };
  const q = new RemoteWriteQueue(cfg({ remoteTimeout: 60_000 }, { capacity: 5, maxShards: 2, maxSamplesPerSend: 2 }), hung);
  q.start();
  const t0 = Date.now();
  for (let i = 0; i < 100; i++) q.push([{ labels: lbl({ __name__: "a" }), t: i, v: i, stale: false }]);
  assert.ok(Date.now() - t0 < 200, "push waited");
  await until(() => calls === 1);
  assert.is(q.limit, 10);
  assert.ok(q.pending <= 10);
  assert.is(q.metrics.samplesDropped, 100 - 2 - q.pending);
  await q.stop();
  assert.is(q.metrics.samplesPending, 0);
});

test("storage: head appender rules (out of order, duplicate), external labels the series lacks, write relabelling", async () => {
  const { fetch, reqs } = recorder();
  const [rw] = parseRemoteWriteConfig(`remote_write:
  - url: http://rw/api/v1/write
    write_relabel_configs:
      - source_labels: [__name__]
        regex: dropme
        action: drop
    queue_config: {max_samples_per_send: 100, batch_send_deadline: 5ms}
`);
  const q = new RemoteWriteQueue(rw!, fetch);
  q.start();
  const st = new RemoteWriteStorage([q], lbl({ cluster: "c1", job: "ext" }));
  const app = st.appender();
  app.append(lbl({ __name__: "a", job: "own" }), 2000, 1);
  app.append(lbl({ __name__: "a", job: "own" }), 2000, 1); // same value: accepted, dropped
  assert.throws(() => app.append(lbl({ __name__: "a", job: "own" }), 1000, 1), /out of order/);
  assert.throws(() => app.append(lbl({ __name__: "a", job: "own" }), 2000, 7), /duplicate sample/);
  app.append(lbl({ __name__: "dropme" }), 2000, 1);
  await app.commit();
  const app2 = st.appender();
  assert.throws(() => app2.append(lbl({ __name__: "a", job: "own" }), 1500, 1), /out of order/);
  app2.append(lbl({ __name__: "a", job: "own" }), 3000, 0, true);
  await app2.commit();
  // After a staleness marker the series starts over.
  const app3 = st.appender();
  app3.append(lbl({ __name__: "a", job: "own" }), 2500, 5);
  await app3.commit();
  await until(() => q.metrics.samplesTotal === 3);
  await q.stop();
  const all = reqs.flatMap((r) => r.samples);
  assert.equal(all.map((s) => [s.name, s.t]), [["a", 2000], ["a", 3000], ["a", 2500]]);
  assert.ok(Number.isNaN(all[1]!.v));
});

test("parseRemoteWriteConfig: Prometheus' defaults and checks", () => {
  const [c] = parseRemoteWriteConfig("global: {scrape_interval: 1s}\nremote_write:\n  - url: http://x:9090/api/v1/write\n    name: one\n    bearer_token: tok\n");
  assert.is(c!.remoteTimeout, 30_000);
  assert.equal(c!.queue, DEFAULT_QUEUE_CONFIG);
  assert.equal(c!.auth.authorization, { type: "Bearer", credentials: "tok", credentialsFile: "" });
  assert.throws(() => parseRemoteWriteConfig("remote_write:\n  - name: x\n"), /url for remote_write is empty/);
  assert.throws(() => parseRemoteWriteConfig("remote_write:\n  - url: http://x\n    headers: {Content-Type: a}\n"), /Content-Type is a reserved header/);
  assert.throws(() => parseRemoteWriteConfig("remote_write:\n  - url: http://x\n    headers: {authorization: a}\n"), /authorization header must be changed/);
  assert.throws(() => parseRemoteWriteConfig("remote_write:\n  - url: http://x\n  - url: http://x\n"), /duplicate remote write configs/);
  assert.throws(() => parseRemoteWriteConfig("remote_write:\n  - url: http://x\n    remote_timeout: 5\n"), /not a valid duration/);
  assert.equal(parseRemoteWriteConfig(""), []);
});

test.run();
