// DNS service discovery as Thanos does it (pkg/discovery/dns), over a resolver interface: the agents
// pass the system resolver (agent/discovery/dns.ts), tests a fake or a tiny local DNS server. The edge (Workers,
// Deno deploy) has no resolver here: DNS forms are refused there at configuration time.
//
// Semantics kept from Thanos:
// - dns+host:port: A/AAAA lookup; each address with the given port.
// - dnssrv+name: SRV lookup, then A/AAAA of each target, port from the record unless one was given.
// - dnssrvnoa+name: SRV lookup, targets as they are (trailing dot removed), same port rule.
// - A name that does not exist (NXDOMAIN) is an empty answer, not an error (miekgdns' behaviour).
// - DnsProvider.resolve: names that fail keep their previous answer; answers of names no longer asked
//   for are dropped only when every lookup of the round succeeded (Thanos' flushOld).

import { errorMessage } from "../encoding/errors.ts";
import { joinHostPort, type Lookup } from "./endpoint.ts";

export interface SrvRecord {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface Resolver {
  /** IPv4 and IPv6 addresses of host; [] when the name does not exist. */
  lookupIP(host: string, signal?: AbortSignal): Promise<string[]>;
  /** SRV records of name; [] when the name does not exist. */
  lookupSRV(name: string, signal?: AbortSignal): Promise<SrvRecord[]>;
}

/** host:port addresses a lookup gives, in answer order, duplicates dropped. */
export async function resolveLookup(r: Resolver, l: Lookup, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  const add = (host: string, port: number) => {
    const a = joinHostPort(host, port);
    if (!out.includes(a)) out.push(a);
  };
  if (l.qtype === "dns") {
    for (const ip of await r.lookupIP(l.name, signal)) add(ip, l.port!);
    return out;
  }
  const recs = await r.lookupSRV(l.name, signal);
  for (const rec of recs) {
    const port = l.port ?? rec.port;
    if (l.qtype === "dnssrvnoa") {
      add(rec.target.replace(/\.+$/, ""), port);
      continue;
    }
    for (const ip of await r.lookupIP(rec.target, signal)) add(ip, port);
  }
  return out;
}

export interface ResolveRound {
  /** Lookups that failed this round, with the reason (their previous answer was kept). */
  errors: { key: string; error: string }[];
}

/** Keeps the latest answer per lookup (keyed by the text the user wrote, e.g. "dnssrv+_grpc._tcp.x"). */
export class DnsProvider {
  private resolved = new Map<string, string[]>();

  constructor(private readonly resolver: Resolver) {}

  async resolve(lookups: ReadonlyMap<string, Lookup>, signal?: AbortSignal): Promise<ResolveRound> {
    const fresh = new Map<string, string[]>();
    const errors: ResolveRound["errors"] = [];
    await Promise.all([...lookups].map(async ([key, l]) => {
      try {
        fresh.set(key, await resolveLookup(this.resolver, l, signal));
      } catch (e) {
        errors.push({ key, error: `lookup ${key}: ${errorMessage(e)}` });
      }
    }));
    if (errors.length === 0) this.resolved = new Map();
    for (const [k, v] of fresh) this.resolved.set(k, v);
    return { errors };
  }

  /** The last answer for one lookup ([] when never resolved). */
  addressesFor(key: string): string[] {
    return [...(this.resolved.get(key) ?? [])];
  }

  /** Every address known, per lookup key. */
  entries(): [string, string[]][] {
    return [...this.resolved].map(([k, v]) => [k, [...v]]);
  }
}
