// StoreAPI clients over gRPC (HTTP/2, plaintext or TLS), for talking to Go Thanos components and to our
// own agent/grpc servers. Node and Bun, over our HTTP/2 client (h2client.ts). Thanos' client options: TLS and
// mTLS (agent/tls/client.ts, the client certificate re-read when its files change) and
// --grpc-compression=snappy (requests compressed with Thanos' snappy codec, shared/rpc/snappy.ts).
import { createClient, type Interceptor, type Transport } from "@connectrpc/connect";
import { createTransport } from "@connectrpc/connect/protocol-grpc";
import { type UniversalClientFn, validateReadWriteMaxBytes } from "@connectrpc/connect/protocol";
import { createH2Client, type H2Client } from "./h2client.ts";
import { Store } from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import { Rules } from "../../shared/gen/thanos/rulespb/rpc_pb.ts";
import { compressionSnappy } from "../../shared/rpc/snappy.ts";
import { type ClientTlsConfig, clientTlsOptions } from "../tls/client.ts";
import { DEFAULT_CLIENT_READ_MAX_BYTES, type InfoClient, type RulesClient, type StoreClient } from "../../shared/rpc/client.ts";

export interface GrpcClientOptions {
  token?: string;
  interceptors?: Interceptor[];
  /** Largest single response message accepted; default 64 MiB (ResourceExhausted beyond). */
  readMaxBytes?: number;
  /** Deadline for every call unless the call passes its own timeoutMs (sent as grpc-timeout). */
  timeoutMs?: number;
  /** Close the HTTP/2 connection after this long without calls; default 60 s. */
  idleMs?: number;
  /** TLS (Thanos' --grpc-client-tls-* flags); plaintext when absent. */
  tls?: ClientTlsConfig | null;
  /** Thanos' --grpc-compression: "snappy" compresses requests; answers in snappy are accepted always. */
  compression?: "snappy" | "none";
}

export interface GrpcClients {
  store: StoreClient;
  info: InfoClient;
  /** thanos.Rules (rulers, queriers, sidecars of Thanos). */
  rules: RulesClient;
  /** The HTTP/2 client underneath (for direct calls such as agent/grpc/series.ts), and its base URL. */
  call: UniversalClientFn;
  baseUrl: string;
  /** Drop the HTTP/2 connection (in-flight calls fail). */
  close(): void;
}

/** `target` is "host:port" (Thanos --endpoint style) or a URL "http://host:port" / "https://host:port". */
export function createGrpcClients(target: string, opts: GrpcClientOptions = {}): GrpcClients {
  const tls = opts.tls ?? null;
  let baseUrl = /^[a-z]+:\/\//i.test(target) ? target : `http://${target}`;
  if (tls) baseUrl = baseUrl.replace(/^http:/i, "https:");
  const interceptors: Interceptor[] = [...(opts.interceptors ?? [])];
  if (opts.token) {
    const value = `Bearer ${opts.token}`;
    interceptors.push((next) => (req) => { req.header.set("authorization", value); return next(req); });
  }
  const clients = new Set<H2Client>();
  let client: H2Client;
  let built = tls ? clientTlsOptions(tls) : null;
  const make = (): Transport => {
    const options = built?.options;
    client = createH2Client(baseUrl, { idleMs: opts.idleMs ?? 60_000, tls: options ? () => options : undefined });
    clients.add(client);
    return createTransport({ httpClient: client.fetch, baseUrl, interceptors, useBinaryFormat: true, defaultTimeoutMs: opts.timeoutMs,
      ...validateReadWriteMaxBytes(opts.readMaxBytes ?? DEFAULT_CLIENT_READ_MAX_BYTES, undefined, undefined),
      sendCompression: opts.compression === "snappy" ? compressionSnappy : null,
      acceptCompression: [compressionSnappy] });
  };
  let transport = make();
  // New certificate files (clientTlsOptions checks them at most once a second for all clients of the
  // config; a pair that does not load yet is tried again a second later): later calls go over a new
  // connection made with them; the old one ends by itself once idle (its calls run on).
  const current = (): Transport => {
    if (!tls) return transport;
    const now = clientTlsOptions(tls);
    if (now === built) return transport;
    const old = client;
    built = now;
    transport = make();
    setTimeout(() => { old.close(); clients.delete(old); }, opts.idleMs ?? 60_000).unref?.();
    return transport;
  };
  const t: Transport = {
    unary: (...a) => current().unary(...a),
    stream: (...a) => current().stream(...a),
  };
  return {
    store: createClient(Store, t),
    info: createClient(Info, t),
    rules: createClient(Rules, t),
    call: (req) => { current(); return client.fetch(req); },
    baseUrl,
    close: () => { for (const c of clients) c.close(); clients.clear(); },
  };
}
