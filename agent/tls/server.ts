// TLS in front of our servers (gRPC and HTTP), configured as Thanos' and exporter-toolkit's users
// configure it, with certificates reloaded when their files change.
//
// One listener shape for both: a node:tls server terminates TLS and hands each verified connection to
// the plaintext server behind (an HTTP/2 server through `h2.emit("connection")`, through the flow-
// control shim on Bun; an HTTP server through a local pipe, agent/web/listen.ts). Checked on Bun 1.4.5
// and Node 20: ALPN h2, requestCert, rejection of clients without a certificate or with one from another
// CA, and setSecureContext (the reload) all work through node:tls; Bun's node:https and node:http2
// secure servers do not expose what is needed (no setSecureContext on https, no peer certificates).
//
// Reload (Thanos re-reads cert and key when their modification times change, at each handshake): the
// files' mtimes are checked before each new connection and every 2 s; a change installs a new secure
// context. On Node it serves the very connection that noticed it; on Bun, whose tls server picks the
// context before its 'connection' event, from the next one (so within the 2 s poll at worst).

import { readFileSync, statSync } from "node:fs";
import * as tls from "node:tls";
import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";
import type { Logger } from "../log.ts";

/** exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType). */
export type ClientAuth = "NoClientCert" | "RequestClientCert" | "RequireAnyClientCert" | "VerifyClientCertIfGiven" | "RequireAndVerifyClientCert";
export const CLIENT_AUTH_TYPES: readonly ClientAuth[] = ["NoClientCert", "RequestClientCert", "RequireAnyClientCert", "VerifyClientCertIfGiven", "RequireAndVerifyClientCert"];

export type TlsVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

export interface ServerTlsConfig {
  certFile: string;
  keyFile: string;
  /** CA bundle client certificates must chain to. */
  clientCaFile?: string;
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

function read(path: string, what: string): Buffer {
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
    cert: read(c.certFile, `${c.what} TLS certificate`),
    key: read(c.keyFile, `${c.what} TLS key`),
    minVersion: c.minVersion,
    maxVersion: c.maxVersion,
  };
  if (c.clientCaFile) o.ca = read(c.clientCaFile, `${c.what} TLS client CA`);
  if (c.ciphers) o.ciphers = c.ciphers;
  if (c.ecdhCurve) o.ecdhCurve = c.ecdhCurve;
  try {
    tls.createSecureContext(o); // a key not matching its certificate, a PEM that does not parse: now, not at the first client
  } catch (e) {
    throw new CodedError("bad_data", `${c.what} TLS: certificate ${c.certFile} / key ${c.keyFile}: ${errorMessage(e)}`);
  }
  return o;
}

export interface TlsListener {
  server: tls.Server;
  /** Re-read the files now if their mtimes changed; true when a new context was installed. */
  reloadIfChanged(): boolean;
  close(): Promise<void>;
}

/**
 * A TLS server that hands each connection that passed the client-auth policy to `onSecure`; listening
 * is the caller's (server.listen). Handshake failures close the connection; nothing is answered.
 */
export function tlsServer(c: ServerTlsConfig, onSecure: (sock: tls.TLSSocket) => void, log?: Logger): TlsListener {
  const files = [c.certFile, c.keyFile, ...(c.clientCaFile ? [c.clientCaFile] : [])];
  let stamps = files.map(mtime);
  const request = c.clientAuth !== "NoClientCert";
  const server = tls.createServer({
    ...secureContextOptions(c),
    requestCert: request,
    rejectUnauthorized: c.clientAuth === "RequireAndVerifyClientCert",
    ALPNProtocols: c.alpn,
  });
  const reloadIfChanged = (): boolean => {
    const now = files.map(mtime);
    if (now.every((t, i) => t === stamps[i])) return false;
    try {
      server.setSecureContext(secureContextOptions(c));
      stamps = now;
      log?.info("TLS certificates reloaded", { protocol: c.what, cert: c.certFile });
      return true;
    } catch (e) {
      // Keep serving with the old ones (a half-written pair is read again at the next check).
      log?.warn("TLS certificates changed but do not load; keeping the previous ones", { protocol: c.what, err: errorMessage(e) });
      return false;
    }
  };
  server.prependListener("connection", () => { reloadIfChanged(); });
  const timer = setInterval(reloadIfChanged, 2000);
  timer.unref?.();
  server.on("tlsClientError", (e: Error & { code?: string }) => log?.debug("TLS handshake refused", { protocol: c.what, err: e.code ?? e.message }));
  server.on("secureConnection", (sock: tls.TLSSocket) => {
    const why = refuse(c, sock);
    if (why) {
      log?.debug("TLS client refused", { protocol: c.what, reason: why });
      sock.destroy();
      return;
    }
    onSecure(sock);
  });
  return {
    server,
    reloadIfChanged,
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
