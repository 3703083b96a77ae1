// TLS for our gRPC clients, from Thanos' client flags (cmd/thanos/config.go grpcClientConfig,
// pkg/tls NewClientConfig): --grpc-client-tls-secure turns TLS on; -ca verifies the server (else the
// runtime's trust store); -cert/-key present a client certificate (mTLS; both or neither); -server-name
// is the name checked in the server's certificate (and sent as SNI); -skip-verify trusts anything.
// Like Thanos, the client certificate is re-read when its files change (checked at most once a second,
// before a call: the next connection uses the new pair).

import { readFileSync, statSync } from "node:fs";
import type { SecureClientSessionOptions } from "node:http2";
import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";

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

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CodedError("bad_data", `gRPC client TLS ${what}: reading ${path}: ${errorMessage(e)}`);
  }
}

/** node:http2 connect options for a config, files read now. */
export function clientSessionOptions(c: ClientTlsConfig): SecureClientSessionOptions {
  const o: SecureClientSessionOptions = { rejectUnauthorized: !c.skipVerify };
  if (c.caFile) o.ca = read(c.caFile, "CA");
  if (c.certFile) o.cert = read(c.certFile, "certificate");
  if (c.keyFile) o.key = read(c.keyFile, "key");
  if (c.serverName) o.servername = c.serverName;
  return o;
}

/** A stamp of the files' modification times: it changes when a file is rewritten. */
export function clientTlsStamp(c: ClientTlsConfig): string {
  return [c.caFile, c.certFile, c.keyFile].map((p) => {
    if (!p) return "";
    try { return String(statSync(p).mtimeMs); } catch { return "missing"; }
  }).join("|");
}
