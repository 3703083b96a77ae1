// The security and transport flags every Thanos component shares, as flag specs and parsers, so each
// component adds them with one line: gRPC server TLS, gRPC client TLS and compression, --http.config.
import type { FlagSpec, ParsedFlags } from "../flags.ts";
import { FlagError } from "../flags.ts";
import { errorMessage } from "../../shared/encoding/errors.ts";
import { type ClientTlsConfig, grpcClientTls } from "./client.ts";
import { grpcServerTls, type ServerTlsConfig } from "./server.ts";

export const GRPC_SERVER_TLS_FLAGS: FlagSpec[] = [
  { name: "grpc-server-tls-cert", help: "TLS certificate for the gRPC server; leave blank to disable TLS (reloaded when the file changes)" },
  { name: "grpc-server-tls-key", help: "TLS key for the gRPC server; leave blank to disable TLS" },
  { name: "grpc-server-tls-client-ca", help: "TLS CA to verify clients against; when set, clients must present a certificate it signed (mTLS)" },
  { name: "grpc-server-tls-min-version", help: "lowest TLS version the gRPC server accepts: 1.0, 1.1, 1.2 or 1.3", default: "1.3" },
];

export const GRPC_CLIENT_FLAGS: FlagSpec[] = [
  { name: "grpc-client-tls-secure", help: "use TLS when talking to gRPC servers", boolean: true },
  { name: "grpc-client-tls-skip-verify", help: "do not verify the servers' certificates (self-signed, unknown CA)", boolean: true },
  { name: "grpc-client-tls-cert", help: "TLS certificate identifying this client to gRPC servers (mTLS; re-read when it changes)" },
  { name: "grpc-client-tls-key", help: "TLS key of the client certificate" },
  { name: "grpc-client-tls-ca", help: "TLS CA certificates to verify gRPC servers with (default: the system's)" },
  { name: "grpc-client-server-name", help: "server name to verify in the servers' certificates (and to send as SNI)" },
  { name: "grpc-compression", help: "compression of gRPC requests to other components: snappy or none", default: "none" },
];

export const HTTP_CONFIG_FLAG: FlagSpec = {
  name: "http.config",
  help: "exporter-toolkit web config file enabling TLS and/or basic auth on every HTTP endpoint (tls_server_config, basic_auth_users, http_server_config.headers, rate_limit)",
};

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof FlagError) throw e;
    throw new FlagError(errorMessage(e));
  }
}

export function serverTlsFromFlags(f: ParsedFlags): ServerTlsConfig | null {
  return wrap(() => grpcServerTls({ cert: f.get("grpc-server-tls-cert"), key: f.get("grpc-server-tls-key"), clientCa: f.get("grpc-server-tls-client-ca"), minVersion: f.get("grpc-server-tls-min-version") }));
}

export function clientTlsFromFlags(f: ParsedFlags): ClientTlsConfig | null {
  return wrap(() => grpcClientTls({
    secure: f.bool("grpc-client-tls-secure"), skipVerify: f.bool("grpc-client-tls-skip-verify"), ca: f.get("grpc-client-tls-ca"),
    cert: f.get("grpc-client-tls-cert"), key: f.get("grpc-client-tls-key"), serverName: f.get("grpc-client-server-name"),
  }));
}

export function compressionFromFlags(f: ParsedFlags): "snappy" | "none" {
  const v = f.get("grpc-compression") ?? "none";
  if (v !== "snappy" && v !== "none") throw new FlagError(`--grpc-compression: ${JSON.stringify(v)}: want snappy or none`);
  return v;
}
