// StoreAPI clients over Connect or gRPC-Web on fetch (connect-web): work on Bun, Deno, Node and
// workerd. For gRPC over HTTP/2 (Go Thanos peers) see agent/grpc/client.ts.
import { ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import type { CodedError } from "../../shared/encoding/errors.ts";
import { rpcError } from "../../shared/rpc/errors.ts";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { Rules } from "../../shared/gen/thanos/rulespb/rpc_pb.ts";

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
}

export function storeApiTransport(baseUrl: string, opts: ClientOptions = {}): Transport {
  const interceptors: Interceptor[] = [...(opts.interceptors ?? [])];
  if (opts.token) {
    const value = `Bearer ${opts.token}`;
    interceptors.push((next) => (req) => { req.header.set("authorization", value); return next(req); });
  }
  const base: FetchFn = opts.fetch ?? ((i, init) => globalThis.fetch(i, init));
  // connect-web asks for redirect: "error", which workerd rejects; "manual" gives the same outcome
  // for an RPC (a 3xx is not a valid answer and fails the call) on every runtime.
  const fetchFn = ((input: RequestInfo | URL, init?: RequestInit) => base(input, { ...init, redirect: "manual" })) as typeof globalThis.fetch;
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
