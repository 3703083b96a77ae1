// The agents' DNS resolver for shared/discovery (dns+, dnssrv+, dnssrvnoa+), on node:dns.
//
// Thanos has two (hidden flag --store.sd-dns-resolver): "golang" (Go's resolver: /etc/hosts, then DNS)
// and "miekgdns" (its default: queries the servers of /etc/resolv.conf directly, no hosts file). Here:
// - golang (our default): A/AAAA through getaddrinfo (dns.lookup: hosts file, then DNS), SRV by query;
// - miekgdns: A/AAAA and SRV by query to the configured servers.
// $THANOTS_DNS_SERVERS (comma-separated host:port) points the queries at other servers (tests use a small
// DNS server on loopback) and implies miekgdns. A name that does not exist is an empty answer.

import { promises as dns } from "node:dns";
import type { Resolver, SrvRecord } from "../../shared/discovery/dns.ts";
import { CodedError } from "../../shared/encoding/errors.ts";

export type ResolverType = "golang" | "miekgdns";

const NOT_FOUND = new Set(["ENOTFOUND", "ENODATA", "NXDOMAIN", "ENONAME"]);

function notFound(e: unknown): boolean {
  return NOT_FOUND.has((e as { code?: string }).code ?? "");
}

export function nodeResolver(type: ResolverType = "golang", servers = process.env.THANOTS_DNS_SERVERS): Resolver {
  const r = new dns.Resolver({ timeout: 5000, tries: 2 });
  const list = (servers ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (list.length > 0) r.setServers(list);
  const direct = type === "miekgdns" || list.length > 0;
  const guard = async <T>(what: string, name: string, f: () => Promise<T[]>): Promise<T[]> => {
    try {
      return await f();
    } catch (e) {
      if (notFound(e)) return [];
      throw new CodedError("unavailable", `${what} lookup of ${name}: ${(e as Error).message}`);
    }
  };
  return {
    lookupIP: async (host) => {
      if (!direct) return guard("A/AAAA", host, async () => (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address));
      const [v4, v6] = await Promise.all([guard("A", host, () => r.resolve4(host)), guard("AAAA", host, () => r.resolve6(host))]);
      return [...v4, ...v6];
    },
    lookupSRV: async (name) => guard("SRV", name, async (): Promise<SrvRecord[]> =>
      (await r.resolveSrv(name)).map((s) => ({ target: s.name, port: s.port, priority: s.priority, weight: s.weight }))),
  };
}

export function parseResolverType(v: string): ResolverType {
  if (v === "golang" || v === "miekgdns") return v;
  throw new CodedError("bad_data", `--store.sd-dns-resolver: ${JSON.stringify(v)}: want golang or miekgdns`);
}
