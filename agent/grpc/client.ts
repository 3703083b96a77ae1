// StoreAPI clients over gRPC (plaintext HTTP/2), for talking to Go Thanos components and to our own
// agent/grpc servers. Node, Bun and Deno (node:http2 underneath).
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { DEFAULT_CLIENT_READ_MAX_BYTES, type InfoClient, type StoreClient } from "../../shared/rpc/client.ts";

export interface GrpcClientOptions {
  token?: string;
  interceptors?: Interceptor[];
  /** Largest single response message accepted; default 64 MiB (ResourceExhausted beyond). */
  readMaxBytes?: number;
  /** Deadline for every call unless the call passes its own timeoutMs (sent as grpc-timeout). */
  timeoutMs?: number;
  /** Close the HTTP/2 connection after this long without calls; default 60 s. */
  idleMs?: number;
}

export interface GrpcClients {
  store: StoreClient;
  info: InfoClient;
  /** Drop the HTTP/2 connection (in-flight calls fail). */
  close(): void;
}

/** `target` is "host:port" (Thanos --store style) or a URL "http://host:port". */
export function createGrpcClients(target: string, opts: GrpcClientOptions = {}): GrpcClients {
  const baseUrl = /^[a-z]+:\/\//i.test(target) ? target : `http://${target}`;
  const interceptors: Interceptor[] = [...(opts.interceptors ?? [])];
  if (opts.token) {
    const value = `Bearer ${opts.token}`;
    interceptors.push((next) => (req) => { req.header.set("authorization", value); return next(req); });
  }
  const sessionManager = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: opts.idleMs ?? 60_000 });
  const t = createGrpcTransport({ baseUrl, sessionManager, interceptors, useBinaryFormat: true, defaultTimeoutMs: opts.timeoutMs,
    readMaxBytes: opts.readMaxBytes ?? DEFAULT_CLIENT_READ_MAX_BYTES });
  return {
    store: createClient(Store, t),
    info: createClient(Info, t),
    close: () => sessionManager.abort(),
  };
}
