// Proof against the real thing: samples backfilled into a real Prometheus 2.42 (promtool) and read back
// through its remote read as STREAMED_XOR_CHUNKS. For every chunk Prometheus sends:
//   - our decoder yields exactly the samples we wrote (timestamps, and value bits compared as bits);
//   - our appender, fed those samples, produces the same bytes Prometheus stored.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempDir } from "../lib/proc.ts";
import { promtoolBackfill, startPrometheus, type Prometheus } from "../lib/prometheus.ts";
import { remoteRead, ResponseType } from "../../shared/remote/read.ts";
import { LabelMatcher_Type } from "../../shared/gen/prometheus/types_pb.ts";
import { createServer } from "node:http";
import { XorAppender, XorIterator, decodeXorInto, xorNumSamples } from "../../shared/chunkenc/xor.ts";
import { Encoding } from "../../shared/chunkenc/chunk.ts";

interface Series { name: string; ts: number[]; text: string[] }

// Go's strconv.ParseFloat("NaN") is math.NaN(), bits 0x7ff8000000000001: what Prometheus stores.
function expectedBits(text: string): bigint {
  if (text === "NaN") return 0x7ff8000000000001n;
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, text === "+Inf" ? Infinity : text === "-Inf" ? -Infinity : Number(text));
  return dv.getBigUint64(0);
}

function makeSeries(): Series[] {
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) | 0) >>> 0) / 4294967296;
  const t0 = 1_700_000_000_000; // ms, 2023-11-14
  const out: Series[] = [];
  const add = (name: string, n: number, step: (i: number) => number, val: (i: number) => string, start = t0) => {
    const ts: number[] = [], text: string[] = [];
    let t = start;
    for (let i = 0; i < n; i++) { ts.push(t); text.push(val(i)); t += step(i); }
    out.push({ name, ts, text });
  };
  let c = 0;
  add("chunkenc_counter", 500, () => 15_000, () => String((c += Math.floor(rnd() * 100))));
  add("chunkenc_gauge_jitter", 300, () => 15_000 + Math.floor(rnd() * 21) - 10, () => String(50 + rnd() * 10));
  add("chunkenc_constant", 240, () => 30_000, () => "42");
  add("chunkenc_one_sample", 1, () => 0, () => "3.25");
  add("chunkenc_two_samples", 2, () => 1, () => "-7");
  add("chunkenc_exact_120", 120, () => 10_000, (i) => String(i * 0.5));
  const specials = ["NaN", "+Inf", "-Inf", "-0", "0", "1e-300", "1.7976931348623157e+308", "5e-324", "-1.5", "NaN", "NaN", "1"];
  add("chunkenc_specials", 96, () => 15_000, (i) => specials[i % specials.length]!);
  // Irregular steps inside one 2h block: 1 ms, 15 s, 1 h, back to 1 ms: every delta-of-delta class,
  // including the 64-bit one.
  const steps = [1, 15_000, 3_600_000, 1, 2, 65_537, 524_289, 1, 8_193, 100];
  add("chunkenc_jumps", 30, (i) => steps[i % steps.length]!, (i) => String(i), t0 - 30 * 60_000);
  // Random float bit patterns (finite), so windows of every width appear.
  add("chunkenc_random_bits", 200, () => 15_000, () => {
    const dv = new DataView(new ArrayBuffer(8));
    do { dv.setUint32(0, (rnd() * 2 ** 32) >>> 0); dv.setUint32(4, (rnd() * 2 ** 32) >>> 0); } while (!Number.isFinite(dv.getFloat64(0)));
    return String(dv.getFloat64(0));
  });
  // Mixed series: random lengths, steps and value kinds, for many chunk shapes and endings.
  const stepSet = [1, 7, 1000, 15_000, 15_001, 14_999, 60_000, 600_000];
  for (let k = 0; k < 30; k++) {
    let v = Math.floor(rnd() * 1000);
    add(`chunkenc_mixed_${k}`, 1 + Math.floor(rnd() * 300), () => stepSet[Math.floor(rnd() * stepSet.length)]!, () => {
      const r = rnd();
      if (r < 0.3) return String(v);
      if (r < 0.6) return String((v += Math.floor(rnd() * 256)));
      if (r < 0.8) return String(v + rnd());
      return String(Math.floor(rnd() * 65536) / 256);
    }, t0 + Math.floor(rnd() * 3_600_000));
  }
  return out;
}

function openMetrics(series: Series[]): string {
  let s = "";
  for (const ser of series) {
    s += `# TYPE ${ser.name} gauge\n`;
    ser.ts.forEach((t, i) => {
      // OpenMetrics timestamps are seconds; ms precision as a decimal fraction.
      const sec = `${Math.floor(t / 1000)}.${String(t % 1000).padStart(3, "0")}`;
      s += `${ser.name} ${ser.text[i]} ${sec}\n`;
    });
  }
  return s + "# EOF\n";
}

test("real Prometheus 2.42: chunk bytes from remote read equal ours for the same samples; every sample bit-exact", async () => {
  const series = makeSeries();
  const dir = tempDir("chunkenc-prom-");
  await promtoolBackfill(openMetrics(series), dir.path);
  const prom = await startPrometheus({ dataDir: dir.path });
  try {
    const res = await remoteRead(fetch as any, `${prom.url}/api/v1/read`, {
      queries: [{
        startTimestampMs: 0n,
        endTimestampMs: 4_000_000_000_000n,
        matchers: [{ type: LabelMatcher_Type.RE, name: "__name__", value: "chunkenc_.*" }],
      }],
      acceptedResponseTypes: [ResponseType.STREAMED_XOR_CHUNKS],
    });
    assert.is(res.type, "chunked");
    if (res.type !== "chunked") return;

    const byName = new Map(series.map((s) => [s.name, s]));
    const got = new Map<string, { ts: number[]; bits: bigint[] }>();
    let chunks = 0, exact = 0, padOnly = 0, goPadded = 0;
    const app = new XorAppender();
    const noPad = new XorAppender({ goPad: false });
    const it = new XorIterator();
    for await (const frame of res.frames) {
      for (const cs of frame.chunkedSeries) {
        const name = cs.labels.find((l) => l.name === "__name__")!.value;
        const acc = got.get(name) ?? { ts: [], bits: [] };
        got.set(name, acc);
        for (const ch of cs.chunks) {
          chunks++;
          assert.is(ch.type as number, Encoding.XOR, `${name}: chunk encoding`);
          const what = `${name} chunk ${chunks}`;
          const n = xorNumSamples(ch.data, what);
          const ts = new Float64Array(n), vs = new Float64Array(n);
          assert.is(decodeXorInto(ch.data, ts, vs, what), n);
          const dv = new DataView(vs.buffer);
          app.reset(); noPad.reset();
          for (let i = 0; i < n; i++) {
            acc.ts.push(ts[i]!);
            acc.bits.push(dv.getBigUint64(i * 8, true));
            app.appendBits(ts[i]!, dv.getUint32(i * 8 + 4, true), dv.getUint32(i * 8, true));
            noPad.appendBits(ts[i]!, dv.getUint32(i * 8 + 4, true), dv.getUint32(i * 8, true));
          }
          if (noPad.bytes().length !== ch.data.length) goPadded++;
          assert.is(Number(ch.minTimeMs), ts[0]);
          assert.is(Number(ch.maxTimeMs), ts[n - 1]);
          // The iterator sees the same samples.
          it.reset(ch.data, what);
          for (let i = 0; i < n; i++) { assert.ok(it.next()); assert.is(it.at(), ts[i]); }
          assert.not.ok(it.next());
          assert.is(it.err(), null);

          const ours = app.bytes();
          const theirs = ch.data;
          if (Buffer.compare(ours, theirs) === 0) exact++;
          else {
            // TOOLCHAIN: some Prometheus writers end a byte-aligned chunk with one 0x00 pad; allow only that.
            const short = ours.length < theirs.length ? ours : theirs, long = ours.length < theirs.length ? theirs : ours;
            assert.is(long.length, short.length + 1, `${what}: lengths ${ours.length} (ours) vs ${theirs.length}`);
            assert.is(long[long.length - 1], 0, `${what}: extra byte is a pad`);
            assert.is(Buffer.compare(long.subarray(0, short.length), short), 0, `${what}: bytes differ`);
            padOnly++;
          }
        }
      }
    }
    console.log(`  ${chunks} chunks from Prometheus: ${exact} byte-identical, ${padOnly} equal up to a trailing pad byte; ${goPadded} carry Go's trailing 0x00`);
    assert.ok(chunks >= series.length);
    assert.ok(goPadded >= 1, "the 1-sample series ends byte-aligned after a whole-byte write");
    assert.is(padOnly, 0, "our default (goPad) layout should match 2.42 exactly");

    assert.equal([...got.keys()].sort(), [...byName.keys()].sort());
    for (const [name, g] of got) {
      const want = byName.get(name)!;
      assert.equal(g.ts, want.ts, `${name}: timestamps`);
      assert.equal(g.bits.map((b) => b.toString(16)), want.text.map((x) => expectedBits(x).toString(16)), `${name}: value bits`);
    }
  } finally {
    await prom.stop();
    dir.remove();
  }
});

// Staleness markers cannot be backfilled, but a scrape writes one: a series that disappears from the
// target gets value.StaleNaN (0x7ff0000000000002) at the next scrape. Read the head chunk back.
test("real Prometheus 2.42: a scrape-written staleness marker decodes bit-exact and re-encodes to the same bytes", async () => {
  let scrapes = 0;
  const server = createServer((req, res) => {
    scrapes++;
    let body = `chunkenc_scraped{k="a"} ${scrapes * 1.25}\n`;
    if (scrapes <= 3) body += `chunkenc_scraped{k="b"} ${scrapes === 2 ? "NaN" : -scrapes}\n`;
    res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  let prom: Prometheus | null = null;
  try {
    prom = await startPrometheus({
      config: `global:\n  scrape_interval: 500ms\nscrape_configs:\n  - job_name: t\n    static_configs:\n      - targets: ["127.0.0.1:${port}"]\n`,
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      assert.ok(Date.now() < deadline, `no staleness marker after ${scrapes} scrapes`);
      await new Promise((r) => setTimeout(r, 250));
      if (scrapes < 4) continue;
      const res = await remoteRead(fetch as any, `${prom.url}/api/v1/read`, {
        queries: [{
          startTimestampMs: 0n, endTimestampMs: BigInt(Date.now() + 60_000),
          matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "chunkenc_scraped" }, { type: LabelMatcher_Type.EQ, name: "k", value: "b" }],
        }],
        acceptedResponseTypes: [ResponseType.STREAMED_XOR_CHUNKS],
      });
      if (res.type !== "chunked") { assert.unreachable("expected a streamed answer"); return; }
      const chunks: Uint8Array[] = [];
      for await (const f of res.frames) for (const cs of f.chunkedSeries) for (const c of cs.chunks) chunks.push(c.data.slice());
      if (chunks.length === 0) continue;
      assert.is(chunks.length, 1);
      const data = chunks[0]!;
      const it = new XorIterator(data, "head chunk of b");
      const seen: string[] = [];
      const app = new XorAppender();
      while (it.next()) {
        seen.push(it.isStale() ? "stale" : `${it.valueHi().toString(16)}:${it.valueLo().toString(16)}`);
        app.appendBits(it.at(), it.valueHi(), it.valueLo());
      }
      assert.is(it.err(), null);
      if (!seen.includes("stale")) continue;
      // -1, Go's NaN (0x7ff8000000000001), -3, then the marker.
      assert.equal(seen, ["bff00000:0", "7ff80000:1", "c0080000:0", "stale"]);
      assert.is(Array.from(app.bytes()).join(","), Array.from(data).join(","));
      break;
    }
  } finally {
    await prom?.stop();
    await new Promise((r) => server.close(() => r(undefined)));
  }
});

test.run();
