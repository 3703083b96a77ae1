// StoreAPI clients over Connect or gRPC-Web on fetch (connect-web): work on Bun, Deno, Node and
// workerd. For gRPC over HTTP/2 (Go Thanos peers) see agent/grpc/client.ts.
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import type { CodedError } from "../encoding/errors.ts";
import type { InfoImpl, StoreImpl } from "./store.ts";
import { rpcError } from "./errors.ts";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { Store } from "../gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../gen/thanos/infopb/rpc_pb.ts";
import { Rules } from "../gen/thanos/rulespb/rpc_pb.ts";

/** Just the call signature of fetch (Bun's `typeof fetch` also carries `preconnect`). */
export type FetchFn = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export type StoreClient = Client<typeof Store>;
export type InfoClient = Client<typeof Info>;
export type RulesClient = Client<typeof Rules>;

export interface ClientOptions {
  /** Sent as `authorization: Bearer <token>`. */
  token?: string;
  /** "connect" (default; binary protobuf) or "grpc-web". */
  protocol?: "connect" | "grpc-web";
  /** A fetch to use instead of the global one (e.g. a Worker service binding, or app.fetch in tests). */
  fetch?: FetchFn;
  /** Extra interceptors (logging, tenant headers). */
  interceptors?: Interceptor[];
  /** Deadline for every call unless the call passes its own timeoutMs (sent to the server too). */
  timeoutMs?: number;
  /**
   * Largest single response message accepted (default 64 MiB): a peer announcing more fails the
   * call with ResourceExhausted before it is buffered. connect-web has no such limit of its own.
   */
  readMaxBytes?: number;
}

export const DEFAULT_CLIENT_READ_MAX_BYTES = 64 << 20;

export function storeApiTransport(baseUrl: string, opts: ClientOptions = {}): Transport {
  const interceptors: Interceptor[] = [...(opts.interceptors ?? [])];
  if (opts.token) {
    const value = `Bearer ${opts.token}`;
    interceptors.push((next) => (req) => { req.header.set("authorization", value); return next(req); });
  }
  const base: FetchFn = opts.fetch ?? ((i, init) => globalThis.fetch(i, init));
  // connect-web asks for redirect: "error", which workerd rejects; "manual" gives the same outcome
  // for an RPC (a 3xx is not a valid answer and fails the call) on every runtime.
  const max = opts.readMaxBytes ?? DEFAULT_CLIENT_READ_MAX_BYTES;
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) =>
    limitResponse(await base(input, { ...init, redirect: "manual" }), max, baseUrl)) as typeof globalThis.fetch;
  const common = { baseUrl, useBinaryFormat: true, interceptors, fetch: fetchFn, defaultTimeoutMs: opts.timeoutMs };
  return opts.protocol === "grpc-web" ? createGrpcWebTransport(common) : createConnectTransport(common);
}

/** A thanos.Store client. */
export function createStoreClient(baseUrl: string, opts: ClientOptions = {}): StoreClient {
  return createClient(Store, storeApiTransport(baseUrl, opts));
}

/** Store, Info and Rules clients over one transport. */
export function createStoreApiClients(baseUrl: string, opts: ClientOptions = {}): { store: StoreClient; info: InfoClient; rules: RulesClient } {
  const t = storeApiTransport(baseUrl, opts);
  return { store: createClient(Store, t), info: createClient(Info, t), rules: createClient(Rules, t) };
}

/**
 * A failed call as a CodedError saying which peer and method failed (for partial-response warnings
 * and logs): "thanos.Store/Series on http://10.0.0.1:10902: [unavailable] ...". Works for errors from
 * every client here (Connect, gRPC-Web, gRPC), which are all ConnectErrors.
 */
export function callError(e: unknown, peer: string, method: string): CodedError {
  const ce = ConnectError.from(e);
  return rpcError(ce.code, ce.rawMessage, peer, method, e);
}

/**
 * Enforce a per-message size limit on a response body as it streams. Connect streaming and gRPC-Web
 * bodies are envelopes (1 flag byte, big-endian uint32 length, message), so each declared length is
 * checked when its header arrives; a unary Connect body is one bare message, so its total is counted.
 */
function limitResponse(res: Response, max: number, peer: string): Response {
  if (!res.body) return res;
  const ct = (res.headers.get("content-type") ?? "").toLowerCase();
  const enveloped = ct.startsWith("application/connect+") || ct.startsWith("application/grpc-web");
  const tooBig = (n: number) => new ConnectError(`response message from ${peer} of ${n} bytes exceeds the limit of ${max} bytes`, Code.ResourceExhausted);
  let total = 0, need = 0, hdrLen = 0;
  const hdr = new Uint8Array(5);
  const limiter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctrl) {
      if (!enveloped) {
        total += chunk.length;
        if (total > max) throw tooBig(total);
      } else {
        for (let i = 0; i < chunk.length;) {
          if (need > 0) { const k = Math.min(need, chunk.length - i); need -= k; i += k; continue; }
          hdr[hdrLen++] = chunk[i++]!;
          if (hdrLen === 5) {
            const len = ((hdr[1]! << 24) | (hdr[2]! << 16) | (hdr[3]! << 8) | hdr[4]!) >>> 0;
            if (len > max) throw tooBig(len);
            need = len;
            hdrLen = 0;
          }
        }
      }
      ctrl.enqueue(chunk);
    },
  });
  return new Response(res.body.pipeThrough(limiter), { status: res.status, statusText: res.statusText, headers: res.headers });
}

/**
 * Serve a remote StoreAPI as our own (a querier behind a querier, a Worker fronting a store): calls
 * are forwarded with the caller's cancellation; failures come back as CodedErrors naming the peer,
 * so their status survives the extra hop.
 */
export function proxyStoreApi(c: { store: StoreClient; info: InfoClient }, peer: string): { store: StoreImpl; info: InfoImpl } {
  return {
    store: {
      async *series(req, ctx) {
        try {
          yield* c.store.series(req, { signal: ctx.signal });
        } catch (e) {
          throw callError(e, peer, "thanos.Store/Series");
        }
      },
      labelNames: (req, ctx) => c.store.labelNames(req, { signal: ctx.signal }).catch((e) => { throw callError(e, peer, "thanos.Store/LabelNames"); }),
      labelValues: (req, ctx) => c.store.labelValues(req, { signal: ctx.signal }).catch((e) => { throw callError(e, peer, "thanos.Store/LabelValues"); }),
    },
    info: {
      info: (req, ctx) => c.info.info(req, { signal: ctx.signal }).catch((e) => { throw callError(e, peer, "thanos.info.Info/Info"); }),
    },
  };
}
