// Every address form Thanos users write for a peer, parsed in one place (pure; resolution is dns.ts).
//
// Querier `--endpoint` / `--endpoint-strict` / `--endpoint-group` (and file-SD targets): StoreAPI peers.
//   host:port                     gRPC (HTTP/2), as Thanos: e.g. thanos-store:10901, [::1]:10901
//   dns+host:port                 A/AAAA lookup of host; every address becomes a gRPC endpoint (port required)
//   dnssrv+_grpc._tcp.name        SRV lookup, then A/AAAA of each target; the port is the record's
//   dnssrvnoa+_grpc._tcp.name     SRV lookup, targets used as they are (no A/AAAA lookup)
//   grpc://host:port              gRPC, our explicit form (same as bare host:port)
//   http(s)://host:port[/path]    Connect / gRPC-Web over HTTP (a sidecar's or querier's HTTP port, a Worker)
//   dns+grpc://host:port, dns+http://host:port[/path], dnssrv+http://_svc._tcp.name[/path], ...
//                                 a lookup whose results keep the scheme and path (as Thanos' resolver
//                                 keeps a scheme written after the prefix)
//
// Ruler `--query` and `--alertmanagers.url` (parseHttpTarget below): HTTP base URLs, where the DNS
// prefix may stand before the scheme or before the host, as Thanos accepts them:
//   http://querier:9090/prefix            static
//   querier:9090                          static, http:// assumed (`--query` only; Alertmanager URLs need a scheme)
//   dns+http://querier:9090/prefix        A/AAAA lookup of querier, results http://<ip>:9090/prefix
//   dnssrv+https://_http._tcp.querier     SRV lookup, port from the records
//   http://dns+querier:9090, dns+querier:9090   (Thanos' `--query` form: the prefix inside the host)
//   Alertmanagers: a missing port with dns+ defaults to 9093 (`ALERTMANAGER_PORT`, Thanos' default);
//   user:password@ in the URL is basic auth.
// Usage for the ruler:
//   const t = parseHttpTarget(flag, { flag: "alertmanagers.url", defaultPort: ALERTMANAGER_PORT, requireScheme: true });
//   const urls = t.lookup ? await resolveLookup(resolver, t.lookup).then((hs) => hs.map(t.urlFor)) : [t.urlFor(t.host)];
//   (or keep it re-resolved every --*.sd-dns-interval with DnsProvider / EndpointSet from this folder).

import { CodedError } from "../encoding/errors.ts";

/** Thanos' DNS query types, named by their prefix. */
export type QType = "dns" | "dnssrv" | "dnssrvnoa";
const QTYPES: readonly QType[] = ["dns", "dnssrv", "dnssrvnoa"];

/** What a DNS form asks the resolver. */
export interface Lookup {
  qtype: QType;
  /** Host to look up (dns) or SRV name such as _grpc._tcp.store.monitoring.svc (dnssrv, dnssrvnoa). */
  name: string;
  /**
   * The port given after the name: required for `dns`; for SRV forms it overrides the records' port
   * (as Thanos does). Undefined: from the records.
   */
  port?: number;
}

/** How a StoreAPI endpoint is spoken to. */
export type EndpointTransport = "grpc" | "http";

export interface EndpointSpec {
  /** The text as given (also the name of a group and of a static endpoint in /api/v1/stores). */
  raw: string;
  transport: EndpointTransport;
  /** http or https for the http transport; absent for gRPC. */
  scheme?: "http" | "https";
  /** Static endpoints: host:port (IPv6 in brackets). Absent for DNS forms. */
  address?: string;
  /** Path prefix of an http endpoint, no trailing slash ("" for none). */
  path: string;
  /** DNS forms: what to look up; the results are addresses (host:port) turned into endpoints by `resolved`. */
  lookup?: Lookup;
}

/** A resolved StoreAPI target: the name it goes by (address or URL) and how to reach it. */
export interface EndpointTarget {
  /** gRPC: host:port (Thanos' name for it); http: the base URL. */
  name: string;
  transport: EndpointTransport;
  /** gRPC: host:port; http: base URL without trailing slash. */
  target: string;
}

function bad(flag: string, raw: string, why: string): CodedError {
  return new CodedError("bad_data", `--${flag}: ${JSON.stringify(raw)}: ${why}`);
}

/** Go's net.SplitHostPort, roughly: "[v6]:port" or "host:port" (exactly one colon). */
export function splitHostPort(s: string): { host: string; port: string } | null {
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end < 0 || s[end + 1] !== ":") return null;
    return { host: s.slice(1, end), port: s.slice(end + 2) };
  }
  const i = s.lastIndexOf(":");
  if (i < 0 || s.indexOf(":") !== i) return null;
  return { host: s.slice(0, i), port: s.slice(i + 1) };
}

/** host:port as Go's net.JoinHostPort writes it (IPv6 in brackets). */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function portOf(flag: string, raw: string, p: string): number {
  const n = Number(p);
  if (p === "" || !/^\d+$/.test(p) || n > 65535) throw bad(flag, raw, `port ${JSON.stringify(p)} is not a number from 0 to 65535`);
  return n;
}

function qtypeOf(s: string): { qtype: QType; rest: string } | null {
  const plus = s.indexOf("+");
  if (plus < 0) return null;
  const q = s.slice(0, plus).toLowerCase();
  return (QTYPES as readonly string[]).includes(q) ? { qtype: q as QType, rest: s.slice(plus + 1) } : null;
}

/** "host:port" (port required) or, for SRV forms, "name" or "name:port". */
function lookupOf(flag: string, raw: string, qtype: QType, hostPort: string): Lookup {
  const hp = splitHostPort(hostPort);
  if (qtype === "dns") {
    if (!hp || hp.host === "") throw bad(flag, raw, "a dns+ lookup needs host:port (the port is not looked up)");
    return { qtype, name: hp.host, port: portOf(flag, raw, hp.port) };
  }
  if (hp) {
    if (hp.host === "") throw bad(flag, raw, "empty SRV name");
    return { qtype, name: hp.host, port: portOf(flag, raw, hp.port) };
  }
  if (hostPort === "") throw bad(flag, raw, "empty SRV name");
  return { qtype, name: hostPort };
}

/** Splits "scheme://host[:port][/path]" without URL's normalisation (SRV names keep their underscores). */
function splitUrl(s: string): { scheme: string; authority: string; path: string } | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)$/i.exec(s);
  if (!m) return null;
  return { scheme: m[1]!.toLowerCase(), authority: m[2]!, path: m[3]!.replace(/\/+$/, "") };
}

/**
 * One `--endpoint` (or `--endpoint-strict`, `--endpoint-group`, file-SD target) value. Errors are
 * bad_data naming the flag and the value.
 */
export function parseEndpoint(raw: string, flag = "endpoint"): EndpointSpec {
  const s = raw.trim();
  if (s === "") throw bad(flag, raw, "empty address");
  const q = qtypeOf(s);
  const body = q ? q.rest : s;
  const u = splitUrl(body);
  if (u) {
    if (u.authority.includes("@")) throw bad(flag, raw, "credentials in a StoreAPI address are not supported (use --endpoint.tokens-file or TLS client certificates)");
    let transport: EndpointTransport, scheme: "http" | "https" | undefined;
    if (u.scheme === "grpc") transport = "grpc";
    else if (u.scheme === "http" || u.scheme === "https") { transport = "http"; scheme = u.scheme; }
    else throw bad(flag, raw, `scheme ${JSON.stringify(u.scheme)} is not one of grpc, http, https`);
    if (transport === "grpc" && u.path !== "") throw bad(flag, raw, "a gRPC address has no path");
    if (q) return { raw: s, transport, scheme, path: u.path, lookup: lookupOf(flag, raw, q.qtype, u.authority) };
    const hp = splitHostPort(u.authority);
    if (transport === "grpc" && (!hp || hp.host === "")) throw bad(flag, raw, "want grpc://host:port");
    if (hp) portOf(flag, raw, hp.port);
    else if (u.authority === "") throw bad(flag, raw, "no host");
    return { raw: s, transport, scheme, path: u.path, address: u.authority };
  }
  if (body.includes("/")) throw bad(flag, raw, "not host:port, a dns+/dnssrv+/dnssrvnoa+ name, or a grpc:// or http(s):// URL");
  if (q) return { raw: s, transport: "grpc", path: "", lookup: lookupOf(flag, raw, q.qtype, body) };
  const hp = splitHostPort(body);
  if (!hp || hp.host === "") {
    throw bad(flag, raw, "not host:port, a dns+/dnssrv+/dnssrvnoa+ name, or a grpc:// or http(s):// URL");
  }
  portOf(flag, raw, hp.port);
  return { raw: s, transport: "grpc", path: "", address: body };
}

/** Whether the spec needs DNS (Thanos' dns.IsDynamicNode). */
export function isDynamic(spec: EndpointSpec): boolean {
  return spec.lookup !== undefined;
}

/** The target for one address (host:port) of a spec: a static spec's own, or one a lookup gave. */
export function endpointTarget(spec: EndpointSpec, address: string): EndpointTarget {
  if (spec.transport === "grpc") return { name: address, transport: "grpc", target: address };
  const url = `${spec.scheme}://${address}${spec.path}`;
  return { name: url, transport: "http", target: url };
}

/** A static spec's target (null for DNS forms). */
export function staticTarget(spec: EndpointSpec): EndpointTarget | null {
  if (spec.address === undefined) return null;
  // Static gRPC endpoints keep the name they were given (grpc://x:1 stays so: tokens and storeMatch[]
  // refer to it); bare host:port is named as Thanos names it.
  if (spec.transport === "grpc") return { name: spec.raw, transport: "grpc", target: spec.address };
  const url = `${spec.scheme}://${spec.address}${spec.path}`;
  return { name: spec.raw.replace(/\/+$/, ""), transport: "http", target: url };
}

// ---- HTTP targets: the ruler's --query and --alertmanagers.url ----

/** Thanos' default Alertmanager port, used when a dns+ Alertmanager URL has none. */
export const ALERTMANAGER_PORT = 9093;

export interface HttpTarget {
  raw: string;
  scheme: "http" | "https";
  /** Static host:port (or host alone: the scheme's port). Absent for DNS forms. */
  host?: string;
  lookup?: Lookup;
  /** Path prefix, no trailing slash. */
  path: string;
  basicAuth?: { username: string; password: string };
  /** Base URL for one host:port (a static host or a resolved address). */
  urlFor(hostPort: string): string;
}

export interface HttpTargetOptions {
  /** Flag named in errors. */
  flag: string;
  /** Port for a dns+ lookup written without one (Alertmanagers: 9093); without it a dns+ port is required. */
  defaultPort?: number;
  /** A URL without a scheme is an error (Alertmanagers) instead of http:// (queriers). */
  requireScheme?: boolean;
}

/** One ruler `--query` or `--alertmanagers.url` value (forms in the header). */
export function parseHttpTarget(raw: string, o: HttpTargetOptions): HttpTarget {
  const flag = o.flag;
  let s = raw.trim();
  if (s === "") throw bad(flag, raw, "empty address");
  if (!s.includes("://")) {
    if (o.requireScheme) throw bad(flag, raw, "the URL has no scheme (want e.g. http://alertmanager:9093)");
    s = `http://${s}`;
  }
  const outer = qtypeOf(s);
  const u = splitUrl(outer ? outer.rest : s);
  if (!u) throw bad(flag, raw, "not a URL");
  if (u.scheme !== "http" && u.scheme !== "https") throw bad(flag, raw, `scheme ${JSON.stringify(u.scheme)} is not http or https`);
  let authority = u.authority, basicAuth: HttpTarget["basicAuth"];
  const at = authority.lastIndexOf("@");
  if (at >= 0) {
    const cred = authority.slice(0, at);
    authority = authority.slice(at + 1);
    const c = cred.indexOf(":");
    basicAuth = { username: decodeURIComponent(c < 0 ? cred : cred.slice(0, c)), password: c < 0 ? "" : decodeURIComponent(cred.slice(c + 1)) };
  }
  if (authority === "") throw bad(flag, raw, "the URL has no host");
  const inner = outer ? null : qtypeOf(authority);
  const q = outer ?? inner;
  const scheme = u.scheme as "http" | "https";
  const path = u.path;
  const urlFor = (hostPort: string) => `${scheme}://${hostPort}${path}`;
  if (!q) {
    const hp = splitHostPort(authority);
    if (hp) portOf(flag, raw, hp.port);
    return { raw, scheme, host: authority, path, basicAuth, urlFor };
  }
  let hostPort = inner ? inner.rest : authority;
  if (q.qtype === "dns" && !splitHostPort(hostPort)) {
    if (o.defaultPort === undefined) throw bad(flag, raw, "a dns+ lookup needs host:port (the port is not looked up)");
    hostPort = joinHostPort(hostPort, o.defaultPort);
  }
  return { raw, scheme, lookup: lookupOf(flag, raw, q.qtype, hostPort), path, basicAuth, urlFor };
}
