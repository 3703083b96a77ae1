// Thanos' HTTP client configurations (pkg/clientconfig, pkg/alert/config.go): how the ruler reaches its
// queriers (--query, --query.config[-file]) and Alertmanagers (--alertmanagers.url,
// --alertmanagers.config[-file]). Parsed as Thanos parses them (yaml.v2 UnmarshalStrict, its defaults
// and error texts); resolving addresses (dns+, file SD) and reading credential files is the agent's job.
//
//   --query.config:        - http_config: {basic_auth: {username, password, password_file},
//                                          bearer_token, bearer_token_file, proxy_url, tls_config}
//                            static_configs: [host:port, dns+host:port, ...]
//                            file_sd_configs: [{files: [...], refresh_interval: 5m}]
//                            scheme: http
//                            path_prefix: /prefix
//                            grpc_config: {endpoint_addresses: [...]}
//   --alertmanagers.config: alertmanagers: [{http_config, static_configs, file_sd_configs, scheme,
//                                            path_prefix, timeout: 10s, api_version: v1|v2}]
// The address forms themselves (`--query`, `--alertmanagers.url`, static_configs entries) are parsed by
// shared/discovery/endpoint.ts, the one endpoint parser.

import { CodedError } from "../encoding/errors.ts";
import { decodeGoYaml, goBool, goSlice, goString, goStruct, type GoType } from "../encoding/goyaml.ts";
import { goDuration } from "../rules/rulefmt.ts";

export interface BasicAuth {
  username: string;
  password: string;
  passwordFile: string;
}

export interface TlsConfig {
  caFile: string;
  certFile: string;
  keyFile: string;
  serverName: string;
  insecureSkipVerify: boolean;
}

/** clientconfig.HTTPClientConfig. */
export interface HttpClientConfig {
  basicAuth: BasicAuth | null;
  bearerToken: string;
  bearerTokenFile: string;
  proxyURL: string;
  tls: TlsConfig | null;
}

export interface FileSdConfig {
  files: string[];
  /** ms; Prometheus' default 5m. */
  refreshInterval: number;
}

/** clientconfig.HTTPEndpointsConfig. */
export interface HttpEndpointsConfig {
  /** host:port, possibly with a dns+ / dnssrv+ / dnssrvnoa+ prefix. */
  staticAddresses: string[];
  fileSD: FileSdConfig[];
  scheme: string;
  pathPrefix: string;
}

/** One `--query.config` entry (clientconfig.Config). */
export interface QueryClientConfig {
  http: { client: HttpClientConfig; endpoints: HttpEndpointsConfig } | null;
  grpcEndpoints: string[];
}

/** One `alertmanagers` entry (alert.AlertmanagerConfig). */
export interface AlertmanagerClientConfig {
  client: HttpClientConfig;
  endpoints: HttpEndpointsConfig;
  /** ms; default 10s. */
  timeout: number;
  apiVersion: "v1" | "v2";
}

export const EMPTY_CLIENT: HttpClientConfig = { basicAuth: null, bearerToken: "", bearerTokenFile: "", proxyURL: "", tls: null };

const basicAuthType = goStruct("clientconfig.BasicAuth", { username: goString, password: goString, password_file: goString });
const tlsType = goStruct("clientconfig.TLSConfig", { ca_file: goString, cert_file: goString, key_file: goString, server_name: goString, insecure_skip_verify: goBool });
const transportType = goStruct("clientconfig.TransportConfig", {
  max_idle_conns: { kind: "int" }, max_idle_conns_per_host: { kind: "int" }, idle_conn_timeout: { kind: "int" },
  response_header_timeout: { kind: "int" }, expect_continue_timeout: { kind: "int" }, max_conns_per_host: { kind: "int" },
  disable_compression: goBool, tls_handshake_timeout: { kind: "int" }, dialer_timeout: { kind: "int" },
});
const httpClientType = goStruct("clientconfig.HTTPClientConfig", {
  basic_auth: basicAuthType, bearer_token: goString, bearer_token_file: goString, proxy_url: goString,
  tls_config: tlsType, transport_config: transportType,
});
const fileSdType = goStruct("clientconfig.HTTPFileSDConfig", { files: goSlice(goString), refresh_interval: goDuration });
const endpointFields: Record<string, GoType> = {
  static_configs: goSlice(goString), file_sd_configs: goSlice(fileSdType), scheme: goString, path_prefix: goString,
};
const queryConfigType = goStruct("clientconfig.Config", {
  http_config: httpClientType, ...endpointFields, grpc_config: goStruct("clientconfig.GRPCConfig", { endpoint_addresses: goSlice(goString) }),
});
const alertingType = goStruct("alert.AlertingConfig", {
  alertmanagers: goSlice(goStruct("alert.AlertmanagerConfig", { http_config: httpClientType, ...endpointFields, timeout: goDuration, api_version: goString })),
});

type Obj = Record<string, unknown>;

function clientFrom(o: Obj | undefined): HttpClientConfig {
  if (!o) return { ...EMPTY_CLIENT };
  const ba = o.basic_auth as Obj | undefined;
  const tls = o.tls_config as Obj | undefined;
  return {
    basicAuth: ba && (ba.username || ba.password || ba.password_file)
      ? { username: (ba.username as string) ?? "", password: (ba.password as string) ?? "", passwordFile: (ba.password_file as string) ?? "" }
      : null,
    bearerToken: (o.bearer_token as string) ?? "",
    bearerTokenFile: (o.bearer_token_file as string) ?? "",
    proxyURL: (o.proxy_url as string) ?? "",
    tls: tls
      ? { caFile: (tls.ca_file as string) ?? "", certFile: (tls.cert_file as string) ?? "", keyFile: (tls.key_file as string) ?? "", serverName: (tls.server_name as string) ?? "", insecureSkipVerify: (tls.insecure_skip_verify as boolean) ?? false }
      : null,
  };
}

function endpointsFrom(o: Obj): HttpEndpointsConfig {
  return {
    staticAddresses: (o.static_configs as string[] | null) ?? [],
    fileSD: ((o.file_sd_configs as Obj[] | null) ?? []).map((f) => ({
      files: (f?.files as string[] | null) ?? [],
      refreshInterval: (f?.refresh_interval as number | undefined) || 5 * 60_000,
    })),
    scheme: "scheme" in o ? (o.scheme as string) : "http",
    pathPrefix: (o.path_prefix as string) ?? "",
  };
}

function decode(text: string, type: GoType, what: string): unknown {
  const r = decodeGoYaml(text, type, { version: 2, strict: true });
  if (r.error !== null) throw new CodedError("bad_data", `${what}: ${r.error}`);
  return r.value;
}

/** clientconfig.LoadConfigs: the `--query.config` YAML, a list of client configs. */
export function parseQueryConfig(text: string): QueryClientConfig[] {
  const list = (decode(text, goSlice(queryConfigType), "query configuration") as (Obj | null)[] | null) ?? [];
  return list.map((o) => {
    o ??= {};
    const ep = endpointsFrom(o);
    const hasHttp = ep.staticAddresses.length > 0 || ep.fileSD.length > 0;
    return {
      http: hasHttp ? { client: clientFrom(o.http_config as Obj | undefined), endpoints: ep } : null,
      grpcEndpoints: ((o.grpc_config as Obj | undefined)?.endpoint_addresses as string[] | null) ?? [],
    };
  });
}

/** alert.LoadAlertingConfig: the `--alertmanagers.config` YAML. */
export function parseAlertingConfig(text: string): AlertmanagerClientConfig[] {
  const v = decode(text, alertingType, "alerting configuration") as Obj | null;
  const list = ((v?.alertmanagers as (Obj | null)[] | null) ?? []);
  return list.map((o) => {
    o ??= {};
    const api = "api_version" in o ? (o.api_version as string) : "v2";
    if (api !== "v1" && api !== "v2") throw new CodedError("bad_data", `alerting configuration: expected Alertmanager API version to be one of [v1 v2] but got ${JSON.stringify(api)}`);
    return {
      client: clientFrom(o.http_config as Obj | undefined),
      endpoints: endpointsFrom(o),
      timeout: "timeout" in o ? (o.timeout as number) : 10_000,
      apiVersion: api,
    };
  });
}

/**
 * The address forms of one endpoints config, as URLs for shared/discovery/endpoint.ts' parseHttpTarget:
 * `<scheme>://<static address><path_prefix>` (the address may carry a dns+ / dnssrv+ prefix).
 */
export function endpointURLs(ep: HttpEndpointsConfig): string[] {
  return ep.staticAddresses.map((a) => endpointURL(ep, a));
}

/** One address (static, resolved, or from file SD) of an endpoints config as a URL. */
export function endpointURL(ep: HttpEndpointsConfig, address: string): string {
  const prefix = ep.pathPrefix === "" || ep.pathPrefix === "/" ? "" : "/" + ep.pathPrefix.replace(/^\/+|\/+$/g, "");
  return `${ep.scheme}://${address}${prefix}`;
}
