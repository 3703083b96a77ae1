// TLS in front of our servers (gRPC and HTTP), configured as Thanos' and exporter-toolkit's users
// configure it, with certificates reloaded when their files change.
//
// One listener shape for both: a node:tls server terminates TLS and hands each verified connection to
// the plaintext server behind (our HTTP/2 connection for gRPC, agent/grpc/h2server.ts; an HTTP server
// through a local pipe, agent/web/listen.ts). Checked on Bun 1.4.5
// and Node 20: ALPN h2, requestCert, rejection of clients without a certificate or with one from another
// CA, and setSecureContext (the reload) all work through node:tls; Bun's node:https and node:http2
// secure servers do not expose what is needed (no setSecureContext on https, no peer certificates).
//
// Reload (Thanos re-reads cert and key when their modification times change, at each handshake): the
// files' mtimes are checked before each new connection and every 2 s; a change installs a new secure
// context. On Node it serves the very connection that noticed it; on Bun, whose tls server picks the
// context before its 'connection' event, from the next one (so within the 2 s poll at worst).

import { readFileSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";
import type { Logger } from "../log.ts";

/** exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType). */
export type ClientAuth = "NoClientCert" | "RequestClientCert" | "RequireAnyClientCert" | "VerifyClientCertIfGiven" | "RequireAndVerifyClientCert";
export const CLIENT_AUTH_TYPES: readonly ClientAuth[] = ["NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"];

export type TlsVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

export interface ServerTlsConfig {
  /** Certificate (chain) and key files; "" when given inline (certPem, keyPem). */
  certFile: string;
  keyFile: string;
  certPem?: string;
  keyPem?: string;
  /** CA bundle client certificates must chain to (file or inline PEM). */
  clientCaFile?: string;
  clientCaPem?: string;
  clientAuth: ClientAuth;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** OpenSSL cipher list (TLS 1.2 and below). */
  ciphers?: string;
  /** OpenSSL curve list, e.g. "P-256:X25519". */
  ecdhCurve?: string;
  /** Client SANs one of which a client certificate must carry (exporter-toolkit's client_allowed_sans). */
  clientAllowedSans?: string[];
  /** ALPN protocols offered, e.g. ["h2"] for gRPC. */
  alpn: string[];
  /** For errors and logs: "gRPC" or "HTTP". */
  what: string;
}

/** Thanos' gRPC server TLS flags -> config (null: plaintext). Errors as Thanos words them. */
export function grpcServerTls(flags: { cert?: string; key?: string; clientCa?: string; minVersion?: string }): ServerTlsConfig | null {
  const cert = flags.cert || undefined, key = flags.key || undefined, ca = flags.clientCa || undefined;
  if (!cert && !key) {
    if (ca) throw new CodedError("bad_data", "--grpc-server-tls-client-ca: when a client CA is used a server key and certificate must also be provided");
    return null;
  }
  if (!cert || !key) throw new CodedError("bad_data", "--grpc-server-tls-cert, --grpc-server-tls-key: both server key and certificate must be provided");
  const versions: Record<string, TlsVersion> = { "1.0": "TLSv1", "1.1": "TLSv1.1", "1.2": "TLSv1.2", "1.3": "TLSv1.3" };
  const mv = flags.minVersion ?? "1.3";
  const minVersion = versions[mv];
  if (!minVersion) throw new CodedError("bad_data", `--grpc-server-tls-min-version: ${JSON.stringify(mv)}: want one of 1.0, 1.1, 1.2, 1.3`);
  return { certFile: cert, keyFile: key, clientCaFile: ca, clientAuth: ca ? "RequireAndVerifyClientCert" : "NoClientCert", minVersion, alpn: ["h2"], what: "gRPC" };
}

/** A TLS file's bytes; a failure names `what` (e.g. "gRPC TLS key") and the path. */
export function readTlsFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CodedError("bad_data", `${what}: reading ${path}: ${errorMessage(e)}`);
  }
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

/** The secure-context part of a config, read from the files now. Throws naming the file. */
export function secureContextOptions(c: ServerTlsConfig): tls.SecureContextOptions {
  const o: tls.SecureContextOptions = {
    cert: c.certFile ? readTlsFile(c.certFile, `${c.what} TLS certificate`) : c.certPem,
    key: c.keyFile ? readTlsFile(c.keyFile, `${c.what} TLS key`) : c.keyPem,
    minVersion: c.minVersion,
    maxVersion: c.maxVersion,
  };
  if (c.clientCaFile) o.ca = readTlsFile(c.clientCaFile, `${c.what} TLS client CA`);
  else if (c.clientCaPem) o.ca = c.clientCaPem;
  if (c.ciphers) o.ciphers = c.ciphers;
  if (c.ecdhCurve) o.ecdhCurve = c.ecdhCurve;
  try {
    tls.createSecureContext(o); // a key not matching its certificate, a PEM that does not parse: now, not at the first client
  } catch (e) {
    throw new CodedError("bad_data", `${c.what} TLS: certificate ${c.certFile || "(inline)"} / key ${c.keyFile || "(inline)"}: ${errorMessage(e)}`);
  }
  return o;
}

export interface TlsListener {
  server: tls.Server;
  /** Re-read the files now if their mtimes changed; true when a new context was installed. */
  reloadIfChanged(): boolean;
  /** Listens on host:port (0: any free port); resolves with the port bound. */
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * A TLS server that hands each connection that passed the client-auth policy to `onSecure`; listening
 * is the caller's (listen). Handshake failures close the connection; nothing is answered.
 */
export function tlsServer(config: ServerTlsConfig | (() => ServerTlsConfig), onSecure: (sock: tls.TLSSocket) => void, log?: Logger): TlsListener {
  const get = typeof config === "function" ? config : () => config;
  const first = get();
  // What the context was built from: the config's files with their mtimes, and the inline PEMs.
  const stampOf = (c: ServerTlsConfig) => JSON.stringify([c.certFile, c.keyFile, c.clientCaFile ?? "", c.certPem ?? "", c.keyPem ?? "", c.clientCaPem ?? "",
    c.minVersion ?? "", c.maxVersion ?? "", c.ciphers ?? "", c.ecdhCurve ?? "", ...[c.certFile, c.keyFile, c.clientCaFile ?? ""].map((f) => (f ? mtime(f) : 0))]);
  let stamp = stampOf(first);
  const server = tls.createServer({
    ...secureContextOptions(first),
    requestCert: first.clientAuth !== "NoClientCert",
    rejectUnauthorized: first.clientAuth === "RequireAndVerifyClientCert",
    ALPNProtocols: first.alpn,
  });
  let warnedPolicy = false;
  let failed = "";
  const reloadIfChanged = (): boolean => {
    const c = get();
    const now = stampOf(c);
    if (now === stamp) return false;
    if (c.clientAuth !== first.clientAuth && !warnedPolicy) {
      warnedPolicy = true;
      log?.warn("the TLS client_auth_type changed: restart to apply it (certificates are reloaded meanwhile)", { protocol: c.what });
    }
    try {
      server.setSecureContext(secureContextOptions(c));
      stamp = now;
      log?.info("TLS certificates reloaded", { protocol: c.what, cert: c.certFile || "(inline)" });
      return true;
    } catch (e) {
      // Keep serving with the old ones (a half-written pair is read again at the next check).
      if (failed !== now) log?.warn("TLS certificates changed but do not load; keeping the previous ones", { protocol: c.what, err: errorMessage(e) });
      failed = now;
      return false;
    }
  };
  server.prependListener("connection", () => { reloadIfChanged(); });
  const timer = setInterval(reloadIfChanged, 2000);
  timer.unref?.();
  server.on("tlsClientError", (e: Error & { code?: string }) => log?.debug("TLS handshake refused", { protocol: first.what, err: e.code ?? e.message }));
  server.on("secureConnection", (sock: tls.TLSSocket) => {
    const why = refuse({ ...get(), clientAuth: first.clientAuth }, sock);
    if (why) {
      log?.debug("TLS client refused", { protocol: first.what, reason: why });
      sock.destroy();
      return;
    }
    onSecure(sock);
  });
  return {
    server,
    reloadIfChanged,
    listen: (port, host) => new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve((server.address() as AddressInfo).port);
      });
    }),
    close: () => new Promise<void>((resolve) => {
      clearInterval(timer);
      server.close(() => resolve());
    }),
  };
}

/** Why a handshaken connection must still be refused under the policy (null: accept). */
function refuse(c: ServerTlsConfig, sock: tls.TLSSocket): string | null {
  if (c.clientAuth === "NoClientCert" || c.clientAuth === "RequestClientCert") return null;
  const peer = sock.getPeerCertificate();
  const has = peer !== null && peer !== undefined && Object.keys(peer).length > 0;
  if (!has) return c.clientAuth === "VerifyClientCertIfGiven" ? null : "no client certificate";
  if ((c.clientAuth === "VerifyClientCertIfGiven" || c.clientAuth === "RequireAndVerifyClientCert") && !sock.authorized) {
    return `client certificate not verified: ${String(sock.authorizationError)}`;
  }
  if (c.clientAllowedSans && c.clientAllowedSans.length > 0) {
    const sans = (peer.subjectaltname ?? "").split(/,\s*/).map((s) => s.replace(/^(DNS|email|IP Address|URI):/, ""));
    if (!sans.some((s) => c.clientAllowedSans!.includes(s))) return "client certificate has none of the allowed SANs";
  }
  return null;
}
