// `--http.config`: the Prometheus exporter-toolkit web configuration file that Thanos components take
// for their HTTP port (github.com/prometheus/exporter-toolkit web/tls_config.go, handler.go, v0.15.0):
//
//   tls_server_config:            # absent or empty: plain HTTP
//     cert_file: server.crt       # or cert: <PEM>; relative paths are relative to this file
//     key_file: server.key        # or key: <PEM>
//     client_auth_type: RequireAndVerifyClientCert   # NoClientCert (default), RequestClientCert,
//                                 # RequireAnyClientCert, VerifyClientCertIfGiven
//     client_ca_file: ca.crt      # or client_ca: <PEM>
//     client_allowed_sans: [...]  # a client certificate must carry one of them
//     min_version: TLS12          # TLS10..TLS13 (default TLS12), max_version (default TLS13)
//     cipher_suites: [...]        # Go names; curve_preferences: [CurveP256, X25519, ...]
//   http_server_config:
//     http2: true                 # accepted; our TLS port offers HTTP/1.1 only (ALPN)
//     headers: {X-Frame-Options: deny, ...}   # only the headers exporter-toolkit allows
//   basic_auth_users:             # user: bcrypt hash (htpasswd -B); every request must authenticate
//     alice: $2y$10$...
//   rate_limit: {interval: 1s, burst: 5}
//
// As in exporter-toolkit: unknown keys are errors; bad hashes, ciphers, curves, versions, client-auth
// types and a client CA without a verifying policy are refused at start; the file is read again while
// serving (users and headers change without a restart; certificate files are reloaded when they change).
// An unknown user is checked against a fixed hash so timing does not tell which users exist.

import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parseDocument } from "yaml";
import { bcryptVerify, parseBcrypt } from "../../shared/encoding/bcrypt.ts";
import { CodedError, errorMessage } from "../../shared/encoding/errors.ts";
import { parseDuration } from "../../shared/promql/parser.ts";
import type { Logger } from "../log.ts";
import { CLIENT_AUTH_TYPES, type ClientAuth, secureContextOptions, type ServerTlsConfig, type TlsVersion } from "../tls/server.ts";

export interface WebConfig {
  path: string;
  /** null: plain HTTP. */
  tls: ServerTlsConfig | null;
  /** user -> bcrypt hash; empty: no authentication. */
  users: Map<string, string>;
  headers: Record<string, string>;
  rateLimit: { intervalMs: number; burst: number } | null;
}

// exporter-toolkit's extraHTTPHeaders: the only headers that may be set, and their allowed values.
const HEADERS: Record<string, string[] | null> = {
  "Strict-Transport-Security": null,
  "X-Content-Type-Options": ["nosniff"],
  "X-Frame-Options": ["deny", "sameorigin"],
  "X-XSS-Protection": null,
  "Content-Security-Policy": null,
};

const VERSIONS: Record<string, TlsVersion> = { TLS10: "TLSv1", TLS11: "TLSv1.1", TLS12: "TLSv1.2", TLS13: "TLSv1.3" };

// Go's tls.CipherSuites() (the secure list exporter-toolkit accepts) -> OpenSSL names. TLS 1.3 suites
// are not configurable in Go; they are accepted and left to OpenSSL's defaults here too.
const CIPHERS: Record<string, string | null> = {
  TLS_AES_128_GCM_SHA256: null,
  TLS_AES_256_GCM_SHA384: null,
  TLS_CHACHA20_POLY1305_SHA256: null,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: "ECDHE-ECDSA-AES128-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: "ECDHE-ECDSA-AES256-SHA",
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: "ECDHE-RSA-AES128-SHA",
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: "ECDHE-RSA-AES256-SHA",
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
};

const CURVES: Record<string, string> = { CurveP256: "P-256", CurveP384: "P-384", CurveP521: "P-521", X25519: "X25519" };

/** The hash exporter-toolkit checks unknown users against ("fakepassword"). */
const FAKE_HASH = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

function bad(path: string, why: string): CodedError {
  return new CodedError("bad_data", `--http.config ${path}: ${why}`);
}

type Obj = Record<string, unknown>;

function mapping(path: string, v: unknown, where: string, keys: string[]): Obj {
  if (v === null || v === undefined) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw bad(path, `${where} is not a mapping`);
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw bad(path, `unknown field ${JSON.stringify(k)} in ${where}`);
  return v as Obj;
}

function str(path: string, v: unknown, where: string): string {
  if (v === null || v === undefined) return "";
  if (typeof v !== "string") throw bad(path, `${where} is not a string`);
  return v;
}

function list(path: string, v: unknown, where: string): string[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw bad(path, `${where} is not a list`);
  return v.map((x, i) => str(path, x, `${where}[${i}]`));
}

/** Parses a web config's text; `path` resolves relative file names and names the file in errors. Files it names are read. */
function parseWebConfig(text: string, path: string): WebConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) throw bad(path, `not YAML: ${doc.errors[0]!.message}`);
  const root = mapping(path, doc.toJS(), "the file", ["tls_server_config", "http_server_config", "basic_auth_users", "rate_limit"]);
  const dir = dirname(path);
  const resolve = (p: string) => (p === "" || isAbsolute(p) ? p : join(dir, p));

  // TLS
  const t = mapping(path, root.tls_server_config, "tls_server_config", ["cert", "key", "client_ca", "cert_file", "key_file", "client_auth_type",
    "client_ca_file", "cipher_suites", "curve_preferences", "min_version", "max_version", "prefer_server_cipher_suites", "client_allowed_sans"]);
  let tls: ServerTlsConfig | null = null;
  const certFile = resolve(str(path, t.cert_file, "cert_file")), keyFile = resolve(str(path, t.key_file, "key_file"));
  const cert = str(path, t.cert, "cert"), key = str(path, t.key, "key");
  const caFile = resolve(str(path, t.client_ca_file, "client_ca_file")), ca = str(path, t.client_ca, "client_ca");
  const authType = str(path, t.client_auth_type, "client_auth_type");
  const anyTls = certFile || keyFile || cert || key || caFile || ca || authType;
  if (anyTls) {
    if (!certFile && !cert) throw bad(path, "missing one of cert or cert_file");
    if (!keyFile && !key) throw bad(path, "missing one of key or key_file");
    let clientAuth: ClientAuth;
    if (authType === "" ) clientAuth = "NoClientCert";
    else if (authType === "RequireClientCert") clientAuth = "RequireAnyClientCert"; // kept by exporter-toolkit for compatibility
    else if ((CLIENT_AUTH_TYPES as readonly string[]).includes(authType)) clientAuth = authType as ClientAuth;
    else throw bad(path, `invalid ClientAuth: ${authType}`);
    if ((caFile || ca) && clientAuth === "NoClientCert") throw bad(path, "client CA's have been configured without a Client Auth Policy");
    const version = (k: string, dflt: TlsVersion): TlsVersion => {
      const v = str(path, t[k], k);
      if (v === "") return dflt;
      const x = VERSIONS[v];
      if (!x) throw bad(path, `unknown TLS version: ${v}`);
      return x;
    };
    const ciphers = list(path, t.cipher_suites, "cipher_suites").map((c) => {
      if (!(c in CIPHERS)) throw bad(path, `unknown cipher: ${c}`);
      return CIPHERS[c];
    }).filter((c): c is string => c !== null);
    const curves = list(path, t.curve_preferences, "curve_preferences").map((c) => {
      const x = CURVES[c];
      if (!x) throw bad(path, `unknown curve: ${c}`);
      return x;
    });
    tls = {
      certFile, keyFile, certPem: cert || undefined, keyPem: key || undefined,
      clientCaFile: caFile || undefined, clientCaPem: ca || undefined,
      clientAuth, minVersion: version("min_version", "TLSv1.2"), maxVersion: version("max_version", "TLSv1.3"),
      ciphers: ciphers.length > 0 ? ciphers.join(":") : undefined,
      ecdhCurve: curves.length > 0 ? curves.join(":") : undefined,
      clientAllowedSans: t.client_allowed_sans !== undefined && t.client_allowed_sans !== null ? list(path, t.client_allowed_sans, "client_allowed_sans") : undefined,
      alpn: ["http/1.1"], what: "HTTP",
    };
  }

  // http_server_config
  const h = mapping(path, root.http_server_config, "http_server_config", ["http2", "headers"]);
  if (h.http2 !== undefined && h.http2 !== null && typeof h.http2 !== "boolean") throw bad(path, "http2 is not a boolean");
  const headers: Record<string, string> = {};
  const hv = h.headers;
  if (hv !== undefined && hv !== null) {
    if (typeof hv !== "object" || Array.isArray(hv)) throw bad(path, "headers is not a mapping");
    for (const [k, v] of Object.entries(hv as Obj)) {
      const val = typeof v === "number" || typeof v === "boolean" ? String(v) : str(path, v, `headers.${k}`);
      if (!(k in HEADERS)) throw bad(path, `HTTP header ${JSON.stringify(k)} can not be configured`);
      const allowed = HEADERS[k];
      if (allowed && !allowed.includes(val)) throw bad(path, `invalid value for ${k}. Expected one of: ${JSON.stringify(allowed)}, but got: ${JSON.stringify(val)}`);
      headers[k] = val;
    }
  }

  // users
  const users = new Map<string, string>();
  const u = root.basic_auth_users;
  if (u !== undefined && u !== null) {
    if (typeof u !== "object" || Array.isArray(u)) throw bad(path, "basic_auth_users is not a mapping");
    for (const [name, hash] of Object.entries(u as Obj)) {
      const hs = str(path, hash, `basic_auth_users.${name}`);
      try {
        parseBcrypt(hs);
      } catch (e) {
        throw bad(path, `basic_auth_users.${name}: ${errorMessage(e)}`);
      }
      users.set(name, hs);
    }
  }

  // rate_limit
  const r = mapping(path, root.rate_limit, "rate_limit", ["burst", "interval"]);
  let rateLimit: WebConfig["rateLimit"] = null;
  if (r.interval !== undefined && r.interval !== null) {
    let intervalMs: number;
    try {
      intervalMs = parseDuration(str(path, r.interval, "rate_limit.interval"));
    } catch (e) {
      throw bad(path, `rate_limit.interval: ${errorMessage(e)}`);
    }
    const burst = r.burst ?? 0;
    if (typeof burst !== "number" || !Number.isInteger(burst) || burst < 0) throw bad(path, "rate_limit.burst is not a non-negative integer");
    if (intervalMs > 0) rateLimit = { intervalMs, burst };
  }
  return { path, tls, users, headers, rateLimit };
}

/** Reads and parses the file (and checks the TLS files load, as exporter-toolkit validates at start). */
export function loadWebConfig(path: string): WebConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw bad(path, `reading it: ${errorMessage(e)}`);
  }
  const c = parseWebConfig(text, path);
  if (c.tls) {
    try {
      secureContextOptions(c.tls);
    } catch (e) {
      throw bad(path, errorMessage(e));
    }
  }
  return c;
}

/**
 * The config as it is now: the file is read again when its modification time changes (checked at most
 * every `checkMs`); a file that stops parsing keeps the last good config and is reported once.
 */
export class WebConfigSource {
  private cfg: WebConfig;
  private stamp: number;
  private checkedAt = 0;
  private reported = "";

  constructor(readonly path: string, private readonly log?: Logger, private readonly checkMs = 1000) {
    this.cfg = loadWebConfig(path);
    this.stamp = this.mtime();
  }

  private mtime(): number {
    try { return statSync(this.path).mtimeMs; } catch { return -1; }
  }

  current(): WebConfig {
    const now = Date.now();
    if (now - this.checkedAt < this.checkMs) return this.cfg;
    this.checkedAt = now;
    const m = this.mtime();
    if (m === this.stamp) return this.cfg;
    try {
      this.cfg = loadWebConfig(this.path);
      this.stamp = m;
      this.reported = "";
      this.log?.info("reloaded --http.config", { path: this.path });
    } catch (e) {
      const msg = errorMessage(e);
      if (msg !== this.reported) this.log?.error("--http.config changed but does not load; keeping the previous one", { err: msg });
      this.reported = msg;
    }
    return this.cfg;
  }
}

type FetchFn = (r: Request) => Response | Promise<Response>;

/** Go's http.Error body and headers. */
function plainError(status: number, text: string, extra: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, { status, headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff", ...extra } });
}

/**
 * Wraps a fetch handler with the config's headers, rate limit and basic auth (exporter-toolkit's
 * webHandler). Outcomes of password checks are cached (keyed by a hash of user, stored hash and
 * password), as exporter-toolkit caches them, so a client repeating its credentials costs one bcrypt.
 */
export function withWebConfig(fetchFn: FetchFn, src: WebConfigSource): FetchFn {
  const cache = new Map<string, boolean>();
  let tokens = -1, refilledAt = 0;
  return async (req) => {
    const c = src.current();
    if (c.rateLimit) {
      // Token bucket as golang.org/x/time/rate: one token per interval, at most `burst` saved.
      const now = Date.now();
      if (tokens < 0) { tokens = c.rateLimit.burst; refilledAt = now; }
      tokens = Math.min(c.rateLimit.burst, tokens + (now - refilledAt) / c.rateLimit.intervalMs);
      refilledAt = now;
      if (tokens < 1) return withHeaders(plainError(429, "Too Many Requests"), c.headers);
      tokens -= 1;
    }
    if (c.users.size > 0) {
      const cred = basicCredentials(req.headers.get("authorization"));
      let ok = false;
      if (cred) {
        const stored = c.users.get(cred.user);
        const hash = stored ?? FAKE_HASH;
        const key = createHash("sha256").update(`${cred.user}\0${hash}\0${cred.pass}`).digest("hex");
        // The cache answers "does this password match this hash"; whether the user exists is checked
        // on every request (a user removed by a reload whose hash was FAKE_HASH is not let in).
        let r = cache.get(key);
        if (r === undefined) {
          r = bcryptVerify(cred.pass, hash);
          if (cache.size >= 1024) cache.delete(cache.keys().next().value!);
          cache.set(key, r);
        }
        ok = r && stored !== undefined;
      }
      if (!ok) return withHeaders(plainError(401, "Unauthorized", { "WWW-Authenticate": "Basic" }), c.headers);
    }
    const res = await fetchFn(req);
    return Object.keys(c.headers).length > 0 ? withHeaders(res, c.headers) : res;
  };
}

function withHeaders(res: Response, headers: Record<string, string>): Response {
  if (Object.keys(headers).length === 0) return res;
  try {
    for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
    return res;
  } catch {
    // Immutable headers (a fetched Response): copy.
    const h = new Headers(res.headers);
    for (const [k, v] of Object.entries(headers)) h.set(k, v);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers: h });
  }
}

/** user and password of an `Authorization: Basic` header (Go's Request.BasicAuth), null if absent or malformed. */
function basicCredentials(h: string | null): { user: string; pass: string } | null {
  if (!h || h.length < 6 || h.slice(0, 6).toLowerCase() !== "basic ") return null;
  let s: string;
  try {
    s = Buffer.from(h.slice(6), "base64").toString("utf8");
  } catch {
    return null;
  }
  const i = s.indexOf(":");
  if (i < 0) return null;
  return { user: s.slice(0, i), pass: s.slice(i + 1) };
}
