// A tiny HTTP protocol exposing a Bucket, so tests can drive buckets that only exist inside a Worker (an
// R2 binding, the S3 SDK running in workerd) with the same contract suite as everything else.
// Test-only: no auth. Every call is `<METHOD> <base>/<op>?key=...`; errors come back as
// {"code","message"} with the HTTP status of the code, and the client rethrows the same CodedError.
//
//   GET    get?key=K[&off=N&len=N]  -> bytes        PUT    put?key=K   (body: frames, see below)
//   GET    attr?key=K -> {size,lastModified}        DELETE del?key=K
//   GET    exists?key=K -> true|false               GET    list?prefix=P[&recursive=1] -> ["k", ...]
//   POST   seed (body: JSON ["k", ...]) stores each key with its own name as content, from inside the
//          server: filling a bucket with >1000 keys one HTTP request at a time is what makes tests slow.

// Upload bodies are framed (4-byte big-endian length, then that many bytes; a zero length ends the body).
// Without the end frame the upload is abandoned: an HTTP body cut short by a failing client otherwise
// arrives as a complete, shorter body through wrangler dev's proxy, and would be stored truncated.

import { CodedError, errorCode, errorMessage, errorStatus } from "../../shared/encoding/errors.ts";
import type { Bucket, IterOptions, ObjectAttributes, UploadData } from "../../shared/objstore/bucket.ts";

export function bucketHandler(bucket: Bucket): (req: Request) => Promise<Response> {
  return async (req) => {
    const url = new URL(req.url);
    const op = url.pathname.slice(url.pathname.lastIndexOf("/") + 1);
    const key = url.searchParams.get("key") ?? "";
    try {
      switch (`${req.method} ${op}`) {
        case "GET get": {
          const off = url.searchParams.get("off");
          const b = off === null ? await bucket.get(key) : await bucket.getRange(key, Number(off), Number(url.searchParams.get("len") ?? -1));
          return new Response(b as Uint8Array<ArrayBuffer>, { headers: { "content-type": "application/octet-stream" } });
        }
        case "GET attr": {
          const a = await bucket.attributes(key);
          return Response.json({ size: a.size, lastModified: a.lastModified.getTime() });
        }
        case "GET exists":
          return Response.json(await bucket.exists(key));
        case "GET list": {
          const out: string[] = [];
          for await (const k of bucket.iter(url.searchParams.get("prefix") ?? "", { recursive: url.searchParams.get("recursive") === "1" })) out.push(k);
          return Response.json(out);
        }
        case "PUT put":
          await bucket.upload(key, unframe(req.body, key));
          return new Response(null, { status: 204 });
        case "POST seed": {
          const keys = (await req.json()) as string[];
          const enc = new TextEncoder();
          const queue = [...keys];
          await Promise.all(Array.from({ length: 16 }, async () => {
            for (let k = queue.shift(); k !== undefined; k = queue.shift()) await bucket.upload(k, enc.encode(k));
          }));
          return new Response(null, { status: 204 });
        }
        case "DELETE del":
          await bucket.delete(key);
          return new Response(null, { status: 204 });
        default:
          return Response.json({ code: "bad_data", message: `no such bucket operation: ${req.method} ${url.pathname}` }, { status: 404 });
      }
    } catch (e) {
      const code = errorCode(e) ?? "internal";
      return Response.json({ code, message: errorMessage(e) }, { status: errorStatus(e).http });
    }
  };
}

/** Chunks of a framed upload body; throws (so the bucket abandons the upload) unless the end frame came. */
async function* unframe(body: ReadableStream<Uint8Array> | null, key: string): AsyncGenerator<Uint8Array> {
  if (!body) throw new CodedError("bad_data", `upload ${key}: no body`);
  const r = body.getReader();
  let buf = new Uint8Array(0);
  const need = async (n: number): Promise<boolean> => {
    while (buf.length < n) {
      const { done, value } = await r.read();
      if (done) return false;
      const nb = new Uint8Array(buf.length + value.length);
      nb.set(buf);
      nb.set(value, buf.length);
      buf = nb;
    }
    return true;
  };
  try {
    for (;;) {
      if (!(await need(4))) break;
      const len = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
      buf = buf.subarray(4);
      if (len === 0) return;
      if (!(await need(len))) break;
      yield buf.slice(0, len);
      buf = buf.subarray(len);
    }
    throw new CodedError("unavailable", `upload ${key}: body ended before its end frame (client failed midway)`);
  } finally {
    r.releaseLock();
  }
}

function frame(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + b.length);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b, 4);
  return out;
}

type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/** The client side: a Bucket whose operations are calls to a bucketHandler at `base`. */
export class HttpBucket implements Bucket {
  readonly name: string;
  private readonly fetch: Fetch;

  constructor(private readonly base: string, opts: { name?: string; fetch?: Fetch } = {}) {
    this.name = opts.name ?? `http:${base}`;
    this.fetch = opts.fetch ?? ((u, i) => fetch(u, i));
  }

  private async call(op: string, params: Record<string, string>, init: RequestInit = {}): Promise<Response> {
    const u = `${this.base}/${op}?${new URLSearchParams(params)}`;
    let r: Response;
    try {
      r = await this.fetch(u, init);
    } catch (e) {
      throw new CodedError("unavailable", `${op} ${params.key ?? params.prefix ?? ""} via ${this.base}: ${errorMessage(e)}`, { cause: e });
    }
    if (r.ok) return r;
    let body: { code?: string; message?: string } = {};
    try { body = await r.json(); } catch { /* not ours */ }
    const code = (errorCode(body) ?? (r.status >= 500 ? "unavailable" : "internal"));
    throw new CodedError(code, body.message ?? `${op} via ${this.base}: HTTP ${r.status}`);
  }

  async get(key: string): Promise<Uint8Array> {
    return new Uint8Array(await (await this.call("get", { key })).arrayBuffer());
  }
  async getRange(key: string, off: number, len: number): Promise<Uint8Array> {
    return new Uint8Array(await (await this.call("get", { key, off: String(off), len: String(len) })).arrayBuffer());
  }
  async exists(key: string): Promise<boolean> {
    return (await (await this.call("exists", { key })).json()) as boolean;
  }
  async attributes(key: string): Promise<ObjectAttributes> {
    const a = (await (await this.call("attr", { key })).json()) as { size: number; lastModified: number };
    return { size: a.size, lastModified: new Date(a.lastModified) };
  }
  async *iter(prefix: string, opts?: IterOptions): AsyncIterable<string> {
    const params: Record<string, string> = { prefix };
    if (opts?.recursive) params.recursive = "1";
    yield* (await (await this.call("list", params)).json()) as string[];
  }
  async upload(key: string, data: UploadData): Promise<void> {
    const it: AsyncIterator<Uint8Array> = data instanceof Uint8Array
      ? (async function* () { if (data.length > 0) yield data; })()
      : data[Symbol.asyncIterator]();
    let ended = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (ended) { c.close(); return; }
        const r = await it.next();
        if (r.done) { ended = true; c.enqueue(new Uint8Array(4)); }
        else if (r.value.length > 0) c.enqueue(frame(r.value));
      },
      async cancel() { await it.return?.(); },
    });
    // duplex "half" is what Node's fetch requires for a streamed request body.
    await this.call("put", { key }, { method: "PUT", body, duplex: "half" } as RequestInit);
  }
  async delete(key: string): Promise<void> {
    await this.call("del", { key }, { method: "DELETE" });
  }
  /** Test-only bulk upload: each key with its own name as content (see "seed" above). */
  async seed(keys: string[]): Promise<void> {
    await this.call("seed", {}, { method: "POST", body: JSON.stringify(keys), headers: { "content-type": "application/json" } });
  }
}
