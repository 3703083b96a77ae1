// TLS for our gRPC clients, from Thanos' client flags (cmd/thanos/config.go grpcClientConfig,
// pkg/tls NewClientConfig): --grpc-client-tls-secure turns TLS on; -ca verifies the server (else the
// runtime's trust store); -cert/-key present a client certificate (mTLS; both or neither); -server-name
// is the name checked in the server's certificate (and sent as SNI); -skip-verify trusts anything.
// Like Thanos, the client certificate is re-read when its files change (checked at most once a second,
// before a call: the next connection uses the new pair).

import { statSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { CodedError } from "../../shared/encoding/errors.ts";
import { readTlsFile } from "./server.ts";

export interface ClientTlsConfig {
  skipVerify: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  serverName?: string;
}

/** Thanos' client flags -> config; null when --grpc-client-tls-secure is off (plaintext). */
export function grpcClientTls(f: { secure: boolean; skipVerify?: boolean; ca?: string; cert?: string; key?: string; serverName?: string }): ClientTlsConfig | null {
  if (!f.secure) return null;
  if (!!f.cert !== !!f.key) throw new CodedError("bad_data", "--grpc-client-tls-cert, --grpc-client-tls-key: both client key and certificate must be provided");
  return { skipVerify: f.skipVerify ?? false, caFile: f.ca || undefined, certFile: f.cert || undefined, keyFile: f.key || undefined, serverName: f.serverName || undefined };
}

/** TLS connect options for a config, files read now. */
function clientSessionOptions(c: ClientTlsConfig): ConnectionOptions {
  const o: ConnectionOptions = { rejectUnauthorized: !c.skipVerify };
  if (c.caFile) o.ca = readTlsFile(c.caFile, "gRPC client TLS CA");
  if (c.certFile) o.cert = readTlsFile(c.certFile, "gRPC client TLS certificate");
  if (c.keyFile) o.key = readTlsFile(c.keyFile, "gRPC client TLS key");
  if (c.serverName) o.servername = c.serverName;
  return o;
}

/** A stamp of the files' modification times: it changes when a file is rewritten. */
function clientTlsStamp(c: ClientTlsConfig): string {
  return [c.caFile, c.certFile, c.keyFile].map((p) => {
    if (!p) return "";
    try { return String(statSync(p).mtimeMs); } catch { return "missing"; }
  }).join("|");
}

/** Connect options as last read, and the stamp of the files they were read from. */
export interface ClientTlsOptions {
  readonly stamp: string;
  readonly options: ConnectionOptions;
}

// Per config (the querier passes one to every client): one stat per second however many clients.
const current = new WeakMap<ClientTlsConfig, { checkedAt: number; built: ClientTlsOptions }>();

/**
 * The connect options for a config now: read at the first call (throws naming the file), then the files'
 * mtimes are checked at most once a second and the files re-read when they changed. A new pair that does
 * not load keeps the previous options (tried again a second later). A new object means new options.
 */
export function clientTlsOptions(c: ClientTlsConfig): ClientTlsOptions {
  let s = current.get(c);
  if (!s) {
    const options = clientSessionOptions(c);
    s = { checkedAt: Date.now(), built: { stamp: clientTlsStamp(c), options } };
    current.set(c, s);
    return s.built;
  }
  if (Date.now() - s.checkedAt < 1000) return s.built;
  s.checkedAt = Date.now();
  const stamp = clientTlsStamp(c);
  if (stamp === s.built.stamp) return s.built;
  try {
    s.built = { stamp, options: clientSessionOptions(c) };
  } catch { /* keep the previous pair */ }
  return s.built;
}
