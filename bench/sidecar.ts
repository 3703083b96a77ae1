// Series through the sidecar vs a direct remote read from the same Prometheus, same run.
//
//   npx tsx bench/sidecar.ts [series=10000] [interval_s=15] [rounds=3]
//
// Data: promtool-backfilled `bench_metric{i="…", job="bench"}`, `series` series over 2h at `interval_s`.
// Modes, in pairs (each sidecar mode against the direct read done the same way), alternating in each round:
// - direct: POST /api/v1/read (STREAMED_XOR_CHUNKS), every frame CRC-checked and decoded, with protobuf-es
//   or with the hand decoder (shared/store/wire.ts);
// - the real `bun agent/main.ts sidecar` process: Series over gRPC / Connect decoded with protobuf-es
//   (connect-node clients), and over Connect with response_batch_size=256 through the querier's own client
//   and decoder (shared/rpc/connect-series.ts), the read path our querier uses;
// - a light client on both paths: frames cut, series and samples counted from the bytes, nothing decoded;
// - curl (its own transfer time) on both paths: the client that costs nothing, so the pair shows what the
//   sidecar itself adds.
// - SIDECAR_GO=1: Go clients built from bench/go/sidecar-client.go (the Go toolchain, first run fetches
//   modules): the direct read with Prometheus' own ChunkedReader, and Series over gRPC with upstream
//   storepb + grpc-go, as a Thanos querier reads a sidecar. With THANOS_BIN=/path/to/thanos also a real
//   Thanos sidecar (same Prometheus) read by the same Go client: the peer.
// Per mode: median wall time, its ratio to the direct read decoded the same way, and the CPU per call of
// Prometheus, the sidecar and the client (on a 2-core machine the three share two cores, so the sum
// bounds the wall time). The sidecar's peak RSS is VmHWM from /proc, reset before every call, so each
// mode shows the peak its own calls reached.
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { freePort, startProcess, tempDir, waitForHttp } from "../test/lib/proc.ts";
import { buildGo } from "../test/lib/gobuild.ts";
import { promtool, startPrometheus } from "../test/lib/prometheus.ts";
import { create, toBinary } from "@bufbuild/protobuf";
import { encodeReadRequest, REMOTE_READ_HEADERS, ResponseType } from "../shared/remote/read.ts";
import { SeriesRequestSchema, Store } from "../shared/gen/thanos/storepb/rpc_pb.ts";
import { connectSeries } from "../shared/query/connect-series.ts";
import { LabelMatcher_Type } from "../shared/gen/thanos/storepb/types_pb.ts";
import { LabelMatcher_Type as PromType } from "../shared/gen/prometheus/types_pb.ts";
import { PromClient } from "../agent/prom/client.ts";
import { chunkSampleCount } from "../shared/store/limits.ts";
import { decodeChunkedReadResponse } from "../shared/store/wire.ts";

const nSeries = Number(process.argv[2] ?? 10_000);
const interval = Number(process.argv[3] ?? 15);
const rounds = Number(process.argv[4] ?? 3);
const root = process.cwd();

const end = Math.floor(Date.now() / 1000) - 3 * 3600;
const start = end - 7200 + interval;

async function writeData(file: string): Promise<void> {
  const out = createWriteStream(file);
  const write = (s: string) => new Promise<void>((r) => { if (out.write(s)) r(); else out.once("drain", () => r()); });
  await write("# TYPE bench_metric gauge\n");
  for (let s = 0; s < nSeries; s++) {
    let buf = "";
    for (let t = start; t <= end; t += interval) buf += `bench_metric{i="${s}",job="bench"} ${((t * 7 + s) % 1000) / 10} ${t}\n`;
    await write(buf);
  }
  await write("# EOF\n");
  await new Promise<void>((r) => out.end(() => r()));
}

// Field paths from a frame's message down to a chunk's data: ChunkedReadResponse.chunked_series(1)
// .chunks(2).data(4); SeriesResponse.batch(4).series(1).chunks(2).raw(3).data(2). The level above the
// chunk counts series.
const RR_PATH = { fields: [1, 2, 4], seriesLevel: 0 };
const CONNECT_PATH = { fields: [4, 1, 2, 3, 2], seriesLevel: 1 };

/** Walk b[s, e) along `path`, counting series and (from XOR chunk headers) samples. */
function walk(b: Uint8Array, s: number, e: number, path: { fields: number[]; seriesLevel: number }, depth: number, count: { series: number; samples: number }): void {
  const want = path.fields[depth]!, last = depth === path.fields.length - 1;
  let p = s;
  while (p < e) {
    let tag = 0, shift = 0, x: number;
    do { x = b[p++]!; tag += (x & 0x7f) * 2 ** shift; shift += 7; } while (x >= 0x80);
    const wt = tag & 7;
    if (wt === 1) { p += 8; continue; }
    if (wt === 5) { p += 4; continue; }
    let n = 0; shift = 0;
    do { x = b[p++]!; n += (x & 0x7f) * 2 ** shift; shift += 7; } while (x >= 0x80);
    if (wt === 0) continue; // the varint just read was the value
    if (wt !== 2) throw new Error(`wire type ${wt} at ${p}`);
    if (tag >>> 3 === want) {
      if (last) count.samples += (b[p]! << 8) | b[p + 1]!;
      else {
        if (depth === path.seriesLevel) count.series++;
        walk(b, p, p + n, path, depth + 1, count);
      }
    }
    p += n;
  }
}

/** User+system CPU (ms) a process used so far, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Resets the kernel's peak-RSS mark of pid (clear_refs 5), so VmHWM then shows the peak since now. */
function resetHWM(pid: number): void {
  try { writeFileSync(`/proc/${pid}/clear_refs`, "5"); } catch { /* not permitted: the peak stays cumulative */ }
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

const GO_MOD = "module thanots/benchgo\n\ngo 1.25.0\n\nrequire github.com/thanos-io/thanos v0.41.0\n";

/** Builds bench/go/sidecar-client.go once (cached under the OS temp dir by a hash of its source). */
const goClient = () => buildGo("bench-go-client", GO_MOD, readFileSync(join(root, "bench/go/sidecar-client.go"), "utf8"));

const dir = tempDir("bench-sidecar-").path;
const om = join(dir, "data.om");
const t0 = performance.now();
await writeData(om);
await promtool(["tsdb", "create-blocks-from", "openmetrics", om, join(dir, "tsdb")]);
console.log(`data: ${nSeries} series x 2h at ${interval}s, backfilled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const prom = await startPrometheus({
  dataDir: join(dir, "tsdb"),
  config: "global:\n  external_labels:\n    cluster: bench\n    replica: r1\n",
  args: ["--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h"],
});
const gp = await freePort(), hp = await freePort();
// SIDECAR_HOLD=1 starts Prometheus and the sidecar, prints their URLs and waits (probing by hand).
// SIDECAR_RUNTIME=node runs the same sidecar under Node (tsx) for comparison.
const runtime = process.env.SIDECAR_RUNTIME === "node" ? [join(root, "node_modules/.bin/tsx")] : [join(root, "node_modules/.bin/bun")];
// SIDECAR_RUNTIME_FLAGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof" profiles the sidecar.
const rtFlags = (process.env.SIDECAR_RUNTIME_FLAGS ?? "").split(" ").filter(Boolean);
const sc = startProcess(runtime[0]!, [...rtFlags, join(root, "agent/main.ts"), "sidecar", `--prometheus.url=${prom.url}`,
  `--tsdb.path=${join(dir, "tsdb")}`, `--grpc-address=127.0.0.1:${gp}`, `--http-address=127.0.0.1:${hp}`, "--log.level=warn"]);
let thanos: ReturnType<typeof startProcess> | null = null;
const thanosStop = async () => { await thanos?.stop(); };
try {
  await waitForHttp(`http://127.0.0.1:${hp}/-/ready`, sc, 30_000);
  const rssIdle = vmHWM(sc.child.pid!);
  if (process.env.SIDECAR_HOLD) {
    // Keep Prometheus and the sidecar up for probing by hand; SIGINT/SIGTERM tears them down.
    console.log(`holding: prometheus ${prom.url}; sidecar http://127.0.0.1:${hp} grpc 127.0.0.1:${gp} pid ${sc.child.pid}; mint=${start * 1000} maxt=${end * 1000}`);
    await new Promise<void>((r) => { process.once("SIGINT", () => r()); process.once("SIGTERM", () => r()); });
    await sc.stop(); await prom.stop();
    process.exit(0);
  }
  const client = createClient(Store, createGrpcTransport({ baseUrl: `http://127.0.0.1:${gp}` }));
  const connectClient = createClient(Store, createConnectTransport({ baseUrl: `http://127.0.0.1:${hp}`, httpVersion: "1.1" }));
  const mint = start * 1000, maxt = end * 1000;

  let chunkBytes = 0;
  async function direct(): Promise<{ series: number; samples: number }> {
    const res = await new PromClient(prom.url).remoteRead(({ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(maxt), matchers: [{ type: PromType.EQ, name: "__name__", value: "bench_metric" }] }));
    if (res.type !== "chunked") throw new Error("expected a streamed answer");
    let series = 0, samples = 0;
    for await (const f of res.frames) for (const s of f.chunkedSeries) { series++; for (const c of s.chunks) { samples += chunkSampleCount(c.type, c.data); chunkBytes += c.data.length; } }
    return { series, samples };
  }
  async function viaSidecar(c = client, responseBatchSize = 0n): Promise<{ series: number; samples: number }> {
    let series = 0, samples = 0;
    for await (const r of c.series({ minTime: BigInt(mint), maxTime: BigInt(maxt), responseBatchSize, matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "bench_metric" }] })) {
      const list = r.result.case === "series" ? [r.result.value] : r.result.case === "batch" ? r.result.value.series : [];
      for (const x of list) {
        series++;
        for (const c of x.chunks) samples += chunkSampleCount(c.raw!.type + 1, c.raw!.data);
      }
    }
    return { series, samples };
  }
  /** What the querier does: Connect with response_batch_size=256, decoded by its direct decoder. */
  async function viaQuerierClient(): Promise<{ series: number; samples: number }> {
    let series = 0, samples = 0;
    const req = create(SeriesRequestSchema, { minTime: BigInt(mint), maxTime: BigInt(maxt), responseBatchSize: 256n, matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "bench_metric" }] });
    for await (const r of connectSeries(`http://127.0.0.1:${hp}`, req, new AbortController().signal, { name: "sidecar" })) {
      const list = r.kind === "series" ? [r] : r.kind === "batch" ? r.series : [];
      for (const x of list) {
        series++;
        for (const c of x.chunks) samples += chunkSampleCount(c.raw!.encoding, c.raw!.data);
      }
    }
    return { series, samples };
  }

  /** The direct read decoded by hand (shared/store/wire.ts), the counterpart of the querier's decoder. */
  async function directHand(): Promise<{ series: number; samples: number }> {
    const res = await new PromClient(prom.url).remoteRead(({ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(maxt), matchers: [{ type: PromType.EQ, name: "__name__", value: "bench_metric" }] }));
    if (res.type !== "chunked") throw new Error("expected a streamed answer");
    let series = 0, samples = 0;
    for await (const g of res.payloadBatches) for (const p of g) for (const s of decodeChunkedReadResponse(p).series) { series++; for (const c of s.chunks) samples += chunkSampleCount(c.encoding, c.data); }
    return { series, samples };
  }

  // The light client, the same for both paths: one fetch, the body's frames cut as they arrive, series
  // and samples counted from the messages (sample counts from chunk headers), nothing decoded into
  // objects and no CRC check. It isolates what the sidecar costs from what a client spends on decoding,
  // which on this 2-core machine competes with Prometheus and the sidecar for the same cores.
  const rrBody = encodeReadRequest({ queries: [({ startTimestampMs: BigInt(mint), endTimestampMs: BigInt(maxt), matchers: [{ type: PromType.EQ, name: "__name__", value: "bench_metric" }] })], acceptedResponseTypes: [ResponseType.STREAMED_XOR_CHUNKS] });
  const seriesReq = toBinary(SeriesRequestSchema, create(SeriesRequestSchema, { minTime: BigInt(mint), maxTime: BigInt(maxt), responseBatchSize: 256n, matchers: [{ type: LabelMatcher_Type.EQ, name: "__name__", value: "bench_metric" }] }));
  const connectBody = new Uint8Array(5 + seriesReq.length);
  new DataView(connectBody.buffer).setUint32(1, seriesReq.length);
  connectBody.set(seriesReq, 5);
  async function light(url: string, init: RequestInit, kind: "rr" | "connect"): Promise<{ series: number; samples: number }> {
    const res = await fetch(url, init);
    if (res.status !== 200 || !res.body) throw new Error(`${url}: HTTP ${res.status}`);
    const count = { series: 0, samples: 0 };
    let buf: Uint8Array = new Uint8Array(0);
    let pos = 0;
    // Reads held back until the frame they complete is whole (then joined once, not once per read).
    const held: Uint8Array[] = [];
    let heldLen = 0, need = 0;
    const rd = res.body.getReader();
    for (;;) {
      const r = await rd.read();
      if (r.done) break;
      if (pos >= buf.length) { buf = r.value; pos = 0; }
      else {
        held.push(r.value);
        heldLen += r.value.length;
        if (buf.length - pos + heldLen < need) continue;
        const joined = new Uint8Array(buf.length - pos + heldLen);
        joined.set(buf.subarray(pos), 0);
        let o = buf.length - pos;
        for (const h of held) { joined.set(h, o); o += h.length; }
        held.length = 0; heldLen = 0; buf = joined; pos = 0;
      }
      for (;;) {
        // A frame: uvarint length + CRC32 + message (remote read), or flags + u32 length + message (Connect).
        let s: number, len: number;
        if (kind === "rr") {
          let v = 0, shift = 0, i = pos;
          for (; i < buf.length && i < pos + 5; i++) { v += (buf[i]! & 0x7f) * 2 ** shift; shift += 7; if (buf[i]! < 0x80) break; }
          if (i >= buf.length) { need = 10; break; }
          s = i + 1 + 4; len = v;
        } else {
          if (buf.length - pos < 5) { need = 5; break; }
          if (buf[pos]! & 2) { pos = buf.length; break; } // end of stream (checked by the other modes)
          s = pos + 5; len = ((buf[pos + 1]! << 24) >>> 0) + (buf[pos + 2]! << 16) + (buf[pos + 3]! << 8) + buf[pos + 4]!;
        }
        if (s + len > buf.length) { need = s + len - pos; break; }
        walk(buf, s, s + len, kind === "rr" ? RR_PATH : CONNECT_PATH, 0, count);
        pos = s + len;
      }
    }
    return count;
  }
  const lightDirect = () => light(`${prom.url}/api/v1/read`, { method: "POST", headers: REMOTE_READ_HEADERS as Record<string, string>, body: rrBody as BodyInit }, "rr");
  const lightSidecar = () => light(`http://127.0.0.1:${hp}/thanos.Store/Series`, { method: "POST", headers: { "content-type": "application/connect+proto", "connect-protocol-version": "1" }, body: connectBody }, "connect");

  // curl, the lightest client there is: it reads the answer to /dev/null and times the transfer itself
  // (%{time_total}, so its own start-up is not counted). Both paths pay the same nothing, so this pair
  // shows what the sidecar adds to the wall time. Its answer is checked by size: every call must
  // bring the same number of bytes as the first.
  const curlBytes = new Map<string, number>();
  const curlWall = new Map<string, number>();
  /** A request body in a file for curl, written once. */
  const bodyFile = (name: string, body: Uint8Array) => { const f = join(dir, name); writeFileSync(f, body); return f; };
  async function curl(url: string, headers: Record<string, string>, bodyFile: string): Promise<null> {
    const args = ["-s", "-S", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", "-X", "POST", "--data-binary", `@${bodyFile}`];
    for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
    const out = await new Promise<string>((res, rej) => execFile("curl", [...args, url], (e, so) => (e ? rej(e) : res(so))));
    const [code, size, secs] = out.trim().split(" ");
    if (code !== "200") throw new Error(`curl ${url}: HTTP ${code}`);
    const want = curlBytes.get(url);
    if (want === undefined) curlBytes.set(url, Number(size));
    else if (want !== Number(size)) throw new Error(`curl ${url}: ${size} bytes, an earlier call brought ${want}`);
    curlWall.set(url, Number(secs) * 1000);
    return null;
  }
  const rrUrl = `${prom.url}/api/v1/read`, seriesUrl = `http://127.0.0.1:${hp}/thanos.Store/Series`;
  const rrFile = bodyFile("read-request.bin", rrBody), seriesFile = bodyFile("series-request.bin", connectBody);
  const curlDirect = () => curl(rrUrl, REMOTE_READ_HEADERS as Record<string, string>, rrFile);
  const curlSidecar = () => curl(seriesUrl, { "content-type": "application/connect+proto", "connect-protocol-version": "1" }, seriesFile);

  // Go clients (SIDECAR_GO=1) and the Thanos sidecar peer (THANOS_BIN): Go times each call itself and
  // reports its own CPU; the "sidecar" CPU of a Thanos mode is the Thanos process's.
  const goWall = new Map<string, number>(), goCpu = new Map<string, number>();
  let goBin = "", thanosGrpc = "";
  if (process.env.SIDECAR_GO) {
    goBin = await goClient();
    if (process.env.THANOS_BIN) {
      const tg = await freePort(), th = await freePort();
      thanos = startProcess(process.env.THANOS_BIN, ["sidecar", `--prometheus.url=${prom.url}`, `--tsdb.path=${join(dir, "tsdb")}`,
        `--grpc-address=127.0.0.1:${tg}`, `--http-address=127.0.0.1:${th}`, "--log.level=warn"]);
      await waitForHttp(`http://127.0.0.1:${th}/-/ready`, thanos, 30_000);
      thanosGrpc = `127.0.0.1:${tg}`;
      const v = await new Promise<string>((res) => execFile(process.env.THANOS_BIN!, ["--version"], (_e, so, se) => res(String(so || se))));
      console.log(`peer: ${v.split("\n")[0]}`);
    }
  }
  async function go(key: string, args: string[]): Promise<Counts> {
    const out = await new Promise<string>((res, rej) => execFile(goBin, [...args.slice(0, 4), "1", ...args.slice(4)], (e, so, se) => (e ? rej(new Error(`${goBin} ${args.join(" ")}: ${se || e.message}`)) : res(so))));
    const r = JSON.parse(out.trim()) as { ms: number; cpu: number; series: number; samples: number };
    goWall.set(key, r.ms);
    goCpu.set(key, r.cpu);
    return { series: r.series, samples: r.samples };
  }

  type Counts = { series: number; samples: number };
  /** run() gives counts to check against the first mode, or null when it checks its answer itself (curl). */
  interface Mode {
    name: string; run(): Promise<Counts | null>; wall: number[]; sidecar: number; client: number; prom: number; rss: number;
    /** Wall time / client CPU as the client measured them (curl, Go), instead of this process's. */
    wallOf?: () => number; clientCpuOf?: () => number;
    /** The sidecar process this mode reads through (default: ours). */
    pid?: number;
  }
  const mode = (name: string, run: Mode["run"], wallOf?: () => number, clientCpuOf?: () => number, pid?: number): Mode =>
    ({ name, run, wall: [], sidecar: 0, client: 0, prom: 0, rss: 0, wallOf, clientCpuOf, pid });
  const goMode = (name: string, key: string, args: string[], pid?: number) =>
    mode(name, () => go(key, args), () => goWall.get(key)!, () => goCpu.get(key)!, pid);
  const modes: Mode[] = [
    mode("direct remote read (protobuf-es decode)", direct),
    mode("sidecar, gRPC (protobuf-es decode)", () => viaSidecar()),
    mode("sidecar, Connect (protobuf-es decode)", () => viaSidecar(connectClient)),
    mode("sidecar, gRPC, batch 256 (protobuf-es)", () => viaSidecar(client, 256n)),
    mode("direct remote read (hand decoder)", directHand),
    mode("sidecar, Connect, batch 256 (querier's decoder)", viaQuerierClient),
    mode("direct remote read (light client)", lightDirect),
    mode("sidecar, Connect, batch 256 (light client)", lightSidecar),
    mode("direct remote read (curl)", curlDirect, () => curlWall.get(rrUrl)!),
    mode("sidecar, Connect, batch 256 (curl)", curlSidecar, () => curlWall.get(seriesUrl)!),
  ];
  const pairs = [0, 4, 6, 8]; // index of each group's direct mode
  if (goBin) {
    pairs.push(modes.length);
    modes.push(goMode("direct remote read (Go ChunkedReader)", "direct", ["direct", prom.url, String(mint), String(maxt)]));
    modes.push(goMode("sidecar, gRPC, batch 64 (Go Thanos client)", "ours", ["grpc", `127.0.0.1:${gp}`, String(mint), String(maxt), "64"]));
    if (thanos) modes.push(goMode("Thanos sidecar, gRPC, batch 64 (Go client)", "thanos", ["grpc", thanosGrpc, String(mint), String(maxt), "64"], thanos.child.pid!));
  }
  for (const m of modes) await m.run(); // warm-up (JIT, page cache)
  const clientCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const promPid = prom.proc.child.pid!, scPid = sc.child.pid!;
  let counts = { series: 0, samples: 0 };
  for (let r = 0; r < rounds; r++) {
    for (const m of modes) {
      const sPid = m.pid ?? scPid;
      resetHWM(sPid);
      const k0 = clientCpu(), s0 = cpuMs(sPid), p0 = cpuMs(promPid);
      const a = performance.now();
      const got = await m.run();
      m.wall.push(m.wallOf ? m.wallOf() : performance.now() - a);
      m.client += m.clientCpuOf ? m.clientCpuOf() : clientCpu() - k0; m.sidecar += cpuMs(sPid) - s0; m.prom += cpuMs(promPid) - p0;
      m.rss = Math.max(m.rss, vmHWM(sPid));
      if (got === null) continue;
      if (m === modes[0]) counts = got;
      else if (got.series !== counts.series || got.samples !== counts.samples) throw new Error(`${m.name}: ${JSON.stringify(got)} vs direct ${JSON.stringify(counts)}`);
    }
  }
  const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!;

  console.log(`series=${counts.series} samples=${counts.samples} chunk bytes=${(chunkBytes / (rounds + 1) / 1e6).toFixed(1)} MB rounds=${rounds} (median wall; CPU per call from /proc and process.cpuUsage)`);
  console.log(`${"".padEnd(48)} ${"wall ms".padStart(8)} ${"x direct".padStart(9)} ${"series/s".padStart(9)} ${"samples/s".padStart(10)} ${"CPU ms: prom".padStart(13)} ${"sidecar".padStart(8)} ${"client".padStart(7)} ${"sidecar peak RSS".padStart(17)}`);
  for (const [i, m] of modes.entries()) {
    const w = med(m.wall);
    const base = med(modes[Math.max(...pairs.filter((p) => p <= i))]!.wall);
    const client = m.wallOf && !m.clientCpuOf ? "-" : (m.client / rounds).toFixed(0);
    console.log(`${m.name.padEnd(48)} ${w.toFixed(0).padStart(8)} ${(w / base).toFixed(2).padStart(8)}x ${(counts.series / (w / 1000)).toFixed(0).padStart(9)} ${((counts.samples / (w / 1000)) / 1e6).toFixed(2).padStart(8)} M ${(m.prom / rounds).toFixed(0).padStart(13)} ${(m.sidecar / rounds).toFixed(0).padStart(8)} ${client.padStart(7)} ${(m.rss.toFixed(0) + " MB").padStart(17)}`);
  }
  console.log("(x direct: each group against its own direct read: protobuf-es rows, hand-decoder rows, light-client rows, curl rows, Go rows;");
  console.log(" curl rows: wall time as curl measured the transfer, its CPU is not counted; Go rows: wall and CPU as the Go client measured them;");
  console.log(" the Thanos row's sidecar CPU and RSS are the Thanos process's)");
  console.log(`sidecar runtime: ${process.env.SIDECAR_RUNTIME === "node" ? "node (tsx)" : "bun"}; load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
  console.log(`sidecar peak RSS (VmHWM, the highest of the modes through ours): ${Math.max(...modes.filter((m) => !m.pid).map((m) => m.rss)).toFixed(0)} MB (after startup: ${rssIdle.toFixed(0)} MB)`);
} finally {
  if (process.env.SIDECAR_SHOW_LOG) console.log(sc.output());
  await thanosStop();
  await sc.stop();
  await prom.stop();
}
