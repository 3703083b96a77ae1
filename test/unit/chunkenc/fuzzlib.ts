// Chunk decoder fuzzing, shared by the quick slice in fuzz.test.ts and bench/fuzz-chunks.ts.
// Feeds random bytes and mutated valid chunks (bit flips, byte overwrites, truncations, extensions,
// inserted/deleted bytes, forged sample counts) to every decoder and checks that each either decodes or
// throws a CodedError "corrupt" naming the input, never anything else, never slowly; that the batch
// decoder and the iterator agree; and that valid chunks round-trip to identical bytes.
import { XorAppender, XorIterator, decodeXorAtJs, decodeXorInto, xorNumSamples } from "../../../shared/chunkenc/xor.ts";
import { decodeAggrChunk, encodeAggrChunk, aggrIterator, type AggrType } from "../../../shared/chunkenc/aggr.ts";
import { chunkIterator } from "../../../shared/chunkenc/chunk.ts";
import { errorCode, errorMessage } from "../../../shared/encoding/errors.ts";

export interface FuzzSummary {
  cases: number;
  decoded: number;
  corrupt: number;
  roundTrips: number;
  maxCaseMs: number;
  /** Problems found: each names the case and the input (hex). Empty when all is well. */
  violations: string[];
  byMessage: Map<string, number>;
}

const hex = (b: Uint8Array) => Array.from(b.subarray(0, 96), (x) => x.toString(16).padStart(2, "0")).join("") + (b.length > 96 ? "…" : "");

export function fuzzChunks(opts: { cases: number; seed?: number; maxViolations?: number }): FuzzSummary {
  let seed = (opts.seed ?? 1) | 0 || 1;
  const rnd = (): number => {
    seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  const ri = (n: number) => Math.floor(rnd() * n);
  const s: FuzzSummary = { cases: 0, decoded: 0, corrupt: 0, roundTrips: 0, maxCaseMs: 0, violations: [], byMessage: new Map() };
  const maxV = opts.maxViolations ?? 20;
  const violation = (msg: string) => { if (s.violations.length < maxV) s.violations.push(msg); };

  const app = new XorAppender();
  const it = new XorIterator();
  let ts = new Float64Array(256), vs = new Float64Array(256);
  let jt = new Float64Array(256), jb = new Uint32Array(512);
  const f64 = new Float64Array(1), u32 = new Uint32Array(f64.buffer);

  const validChunk = (): Uint8Array => {
    app.reset();
    const n = 1 + ri(rnd() < 0.7 ? 130 : 400);
    let t = (rnd() < 0.2 ? -1 : 1) * ri(2 ** 41);
    let v = rnd() * 1000;
    let step = [1, 15_000, 60_000, ri(1e9)][ri(4)]!;
    for (let i = 0; i < n; i++) {
      const k = rnd();
      if (k < 0.05) app.appendStale(t);
      else if (k < 0.1) app.appendBits(t, ri(2 ** 32), ri(2 ** 32));
      else app.append(t, v);
      const j = rnd();
      t += j < 0.6 ? step : j < 0.8 ? step + ri(41) - 20 : j < 0.9 ? ri(2 ** 36) : -ri(1000);
      if (rnd() < 0.05) step = ri(1e7);
      const m = rnd();
      v = m < 0.4 ? v : m < 0.7 ? v + ri(100) : m < 0.9 ? rnd() * 1e6 : [NaN, Infinity, -Infinity, -0, 0, 1e-310][ri(6)]!;
    }
    return app.bytes();
  };

  const mutate = (b: Uint8Array): Uint8Array => {
    let c = b.slice();
    const times = 1 + ri(3);
    for (let k = 0; k < times; k++) {
      const m = ri(7);
      if (m === 0 && c.length > 0) { const i = ri(c.length); c[i]! ^= 1 << ri(8); }
      else if (m === 1 && c.length > 0) c[ri(c.length)] = ri(256);
      else if (m === 2) c = c.subarray(0, ri(c.length + 1));
      else if (m === 3) { const e = new Uint8Array(c.length + 1 + ri(16)); e.set(c); for (let i = c.length; i < e.length; i++) e[i] = ri(256); c = e; }
      else if (m === 4 && c.length > 2) { const i = ri(c.length); c = Uint8Array.from([...c.subarray(0, i), ri(256), ...c.subarray(i)]); }
      else if (m === 5 && c.length > 3) { const i = ri(c.length); c = Uint8Array.from([...c.subarray(0, i), ...c.subarray(i + 1)]); }
      else if (m === 6 && c.length >= 2) { const n = [0, 1, 2, 0xffff, ri(65536), ((c[0]! << 8) | c[1]!) + 1][ri(6)]!; c[0] = n >>> 8; c[1] = n & 0xff; }
    }
    return c;
  };

  const randomBytes = (): Uint8Array => {
    const b = new Uint8Array(ri(rnd() < 0.5 ? 24 : 300));
    for (let i = 0; i < b.length; i++) b[i] = ri(256);
    if (b.length >= 2 && rnd() < 0.7) { b[0] = 0; b[1] = ri(rnd() < 0.5 ? 4 : 200); }
    return b;
  };

  const note = (e: unknown, what: string, input: Uint8Array): boolean => {
    if (errorCode(e) !== "corrupt") { violation(`${what}: non-corrupt error ${String(e)} on ${hex(input)}`); return false; }
    const msg = errorMessage(e);
    // An unsupported encoding is named instead of located: the encoding byte sits outside the data.
    if (!msg.startsWith("fuzz input") || !(/offset \d+/.test(msg) || /unsupported chunk encoding/.test(msg))) violation(`${what}: message lacks input name or offset: ${msg}`);
    const key = msg.replace(/^fuzz input(, \w+ aggregate)?: /, "").replace(/\d+/g, "N");
    s.byMessage.set(key, (s.byMessage.get(key) ?? 0) + 1);
    return true;
  };

  // Decode one XOR input both ways; returns the decoded samples' count or -1 on a corrupt error.
  const checkXor = (b: Uint8Array): number => {
    let n: number;
    try { n = xorNumSamples(b, "fuzz input"); } catch (e) { note(e, "xorNumSamples", b); return -1; }
    if (ts.length < n) { ts = new Float64Array(n); vs = new Float64Array(n); }
    let count = -1, err: unknown = null;
    try { count = decodeXorInto(b, ts, vs, "fuzz input"); } catch (e) { err = e; }
    // decodeXorInto takes the WebAssembly path where it runs: the JavaScript decoder alone must give
    // the same samples, bit for bit, or the same error.
    if (jt.length < n) { jt = new Float64Array(n); jb = new Uint32Array(2 * n); }
    let jc = -1, jerr: unknown = null;
    try { jc = decodeXorAtJs(b, jt, jb, 0, "fuzz input"); } catch (e) { jerr = e; }
    if ((err === null) !== (jerr === null) || (err !== null && errorMessage(err) !== errorMessage(jerr))) {
      violation(`decodeXorInto (${err === null ? "ok" : errorMessage(err)}) != JavaScript decoder (${jerr === null ? "ok" : errorMessage(jerr)}) on ${hex(b)}`);
    } else if (err === null) {
      const vb = new Uint32Array(vs.buffer);
      if (jc !== count) violation(`decodeXorInto decoded ${count}, the JavaScript decoder ${jc} on ${hex(b)}`);
      else for (let i = 0; i < count; i++) {
        if (ts[i] !== jt[i] || vb[2 * i] !== jb[2 * i] || vb[2 * i + 1] !== jb[2 * i + 1]) { violation(`sample ${i} differs from the JavaScript decoder's on ${hex(b)}`); break; }
      }
    }
    // The iterator must yield the same prefix and report the same error, without throwing.
    let k = 0;
    try {
      it.reset(b, "fuzz input");
      while (it.next()) {
        if (it.at() !== ts[k]) { violation(`iterator t ${it.at()} != batch ${ts[k]} at ${k} on ${hex(b)}`); break; }
        k++;
      }
      const ie = it.err();
      if (err === null && (ie !== null || k !== count)) violation(`iterator disagrees (k=${k}, count=${count}, err=${ie}) on ${hex(b)}`);
      if (err !== null && (ie === null || errorMessage(ie) !== errorMessage(err))) violation(`iterator error "${ie}" != batch "${errorMessage(err)}" on ${hex(b)}`);
    } catch (e) {
      violation(`iterator threw ${String(e)} on ${hex(b)}`);
    }
    if (err !== null) { note(err, "decodeXorInto", b); return -1; }
    if (count !== n) violation(`decoded ${count} of ${n} declared samples without an error on ${hex(b)}`);
    for (let i = 0; i < count; i++) if (!Number.isSafeInteger(ts[i]!)) { violation(`unsafe timestamp ${ts[i]} on ${hex(b)}`); break; }
    return count;
  };

  // Re-encoding decoded samples and decoding again must give the same samples (and for chunks that
  // came from our appender, the same bytes).
  const roundTrip = (b: Uint8Array, count: number, exactBytes: boolean): void => {
    const bits = new Uint32Array(vs.buffer);
    app.reset();
    for (let i = 0; i < count; i++) app.appendBits(ts[i]!, bits[2 * i + 1]!, bits[2 * i]!);
    const again = app.bytes();
    if (exactBytes && (again.length !== b.length || again.some((x, i) => x !== b[i]))) violation(`re-encode differs: ${hex(b)} -> ${hex(again)}`);
    // Continuing the chunk keeps its bytes (a chunk we wrote) or at least its samples (anything else).
    const cont = XorAppender.fromChunk(b, "fuzz input").bytes();
    if (exactBytes && (cont.length !== b.length || cont.some((x, i) => x !== b[i]))) violation(`fromChunk changed bytes: ${hex(b)} -> ${hex(cont)}`);
    const t3 = new Float64Array(count), v3 = new Float64Array(count);
    decodeXorInto(cont, t3, v3, "fuzz continued");
    const b3 = new Uint32Array(v3.buffer);
    for (let i = 0; i < count; i++) {
      if (t3[i] !== ts[i] || b3[2 * i] !== bits[2 * i] || b3[2 * i + 1] !== bits[2 * i + 1]) { violation(`fromChunk sample ${i} differs on ${hex(b)}`); break; }
    }
    const t2 = new Float64Array(count), v2 = new Float64Array(count);
    decodeXorInto(again, t2, v2, "fuzz re-encode");
    const b2 = new Uint32Array(v2.buffer);
    for (let i = 0; i < count; i++) {
      if (t2[i] !== ts[i] || b2[2 * i] !== bits[2 * i] || b2[2 * i + 1] !== bits[2 * i + 1]) { violation(`round trip sample ${i} differs on ${hex(b)}`); break; }
    }
    s.roundTrips++;
  };

  for (let c = 0; c < opts.cases; c++) {
    const start = performance.now();
    const kind = ri(10);
    if (kind < 2) {
      const b = validChunk();
      const n = checkXor(b);
      if (n < 0) violation(`valid chunk rejected: ${hex(b)}`);
      else { s.decoded++; roundTrip(b, n, true); }
    } else if (kind < 7) {
      const b = kind < 4 ? randomBytes() : mutate(validChunk());
      const n = checkXor(b);
      if (n >= 0) { s.decoded++; if (n <= 2000) roundTrip(b, n, false); } else s.corrupt++;
      // Any encoding byte: XOR or a clear rejection.
      const enc = [0, 1, 2, 3, 4, 0xff, ri(256)][ri(7)]!;
      try { const i2 = chunkIterator(enc, b, "fuzz input"); while (i2.next()) { /* drain */ } }
      catch (e) { note(e, `chunkIterator(${enc})`, b); }
    } else {
      // Aggregate chunks: valid, mutated, random.
      const subs = [0, 1, 2, 3, 4].map(() => (rnd() < 0.8 ? validChunk() : null));
      const good = encodeAggrChunk(subs);
      const b = kind === 7 ? good : kind === 8 ? mutate(good) : randomBytes();
      try {
        const parts = decodeAggrChunk(b, "fuzz input");
        if (b === good && parts.some((p, i) => (p === null) !== (subs[i] === null))) violation(`aggr round trip lost entries`);
        for (let t = 0; t < 5; t++) {
          try {
            const ai = aggrIterator(b, t as AggrType, "fuzz input");
            if (ai) { while (ai.next()) { /* drain */ } const e = ai.err(); if (e) note(e, "aggr sub-chunk", b); }
          } catch (e) { note(e, "aggrIterator", b); }
        }
        s.decoded++;
      } catch (e) {
        if (b === good) violation(`valid aggr chunk rejected: ${String(e)}`);
        note(e, "decodeAggrChunk", b);
        s.corrupt++;
      }
    }
    const el = performance.now() - start;
    if (el > s.maxCaseMs) s.maxCaseMs = el;
    s.cases++;
  }
  void f64; void u32;
  return s;
}
