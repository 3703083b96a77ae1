// The querier's set of StoreAPI endpoints as Thanos builds it (cmd/thanos/endpointset.go,
// pkg/query/endpointset.go): static `--endpoint`s, `--endpoint-strict`s, `--endpoint-group`s, DNS
// forms re-resolved every `--store.sd-dns-interval`, and file-SD targets. Pure: the agent runs the
// timers and file watches and hands the results in; `DiscoveredStores` turns the desired set into
// StoreEndpoints for the fan-out, keeping the ones that stay (and so their cached Info).
//
// Thanos' rules kept here:
// - strict endpoints must be static (a DNS form under strict is a configuration error);
// - file-SD targets may themselves be DNS forms, resolved with the rest;
// - a group is one StoreAPI over the addresses its name resolves to, called round-robin, a call retried
//   on the next address when one is unavailable (Thanos' service config: 3 attempts, UNAVAILABLE);
// - the same address from two sources is one endpoint (strict wins).
// One difference: every endpoint, strict or not, is asked while it is configured, and a down one is a
// partial-response warning (ProxyStore), where Thanos stops asking a non-strict endpoint whose health
// check failed. `strict` then means what it means in Thanos for the set: never dropped, shown down.

import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import type { StoreEndpoint } from "../query/store.ts";
import { DnsProvider, type Resolver } from "./dns.ts";
import { type EndpointSpec, type EndpointTarget, endpointTarget, isDynamic, type Lookup, parseEndpoint, staticTarget } from "./endpoint.ts";

export interface EndpointFlags {
  endpoints?: string[];
  strict?: string[];
  groups?: string[];
  strictGroups?: string[];
}

interface Configured {
  spec: EndpointSpec;
  strict: boolean;
  group: boolean;
}

/** One endpoint the fan-out should have. */
export interface DesiredStore extends EndpointTarget {
  /** The flag value or file-SD target it came from (token lookup, logs). */
  source: string;
  strict: boolean;
  /** For a group: its members now (the name and target are the group's address). */
  members?: EndpointTarget[];
}

export class EndpointSet {
  private readonly configured: Configured[] = [];
  private fileSpecs: EndpointSpec[] = [];
  private readonly dns: DnsProvider | null;

  constructor(flags: EndpointFlags, resolver: Resolver | null) {
    const add = (list: string[] | undefined, flag: string, strict: boolean, group: boolean) => {
      for (const raw of list ?? []) {
        const spec = parseEndpoint(raw, flag);
        if (strict && isDynamic(spec)) {
          throw new CodedError("bad_data", `--${flag}: ${raw} is a dynamically specified endpoint i.e. it uses SD and that is not permitted under strict mode`);
        }
        if (group && spec.transport !== "grpc") throw new CodedError("bad_data", `--${flag}: ${raw}: a group is a gRPC address (host:port or a dns+ form)`);
        this.configured.push({ spec, strict, group });
      }
    };
    add(flags.endpoints, "endpoint", false, false);
    add(flags.strict, "endpoint-strict", true, false);
    add(flags.groups, "endpoint-group", false, true);
    add(flags.strictGroups, "endpoint-group-strict", true, true);
    this.dns = resolver ? new DnsProvider(resolver) : null;
    if (!this.dns) {
      const dyn = this.configured.find((c) => isDynamic(c.spec));
      if (dyn) throw new CodedError("bad_data", `${dyn.spec.raw}: DNS discovery is not available on this runtime`);
    }
  }

  /** Whether any lookups need re-running (DNS forms configured or found in file SD). */
  get dynamic(): boolean {
    return this.configured.some((c) => isDynamic(c.spec)) || this.fileSpecs.some(isDynamic);
  }

  /** Replace the file-SD targets; returns the errors of targets that do not parse (they are skipped). */
  setFileTargets(targets: readonly string[]): string[] {
    const errors: string[] = [];
    const specs: EndpointSpec[] = [];
    for (const t of targets) {
      try {
        const s = parseEndpoint(t, "store.sd-files");
        if (isDynamic(s) && !this.dns) throw new CodedError("bad_data", `${t}: DNS discovery is not available on this runtime`);
        specs.push(s);
      } catch (e) {
        errors.push(errorMessage(e));
      }
    }
    this.fileSpecs = specs;
    return errors;
  }

  private lookups(): Map<string, Lookup> {
    const m = new Map<string, Lookup>();
    for (const c of this.configured) if (c.spec.lookup) m.set(c.spec.raw, c.spec.lookup);
    for (const s of this.fileSpecs) if (s.lookup) m.set(s.raw, s.lookup);
    return m;
  }

  /** One DNS round over every DNS form (see DnsProvider for what a failure keeps). */
  async refresh(signal?: AbortSignal): Promise<{ errors: string[] }> {
    if (!this.dns) return { errors: [] };
    const l = this.lookups();
    if (l.size === 0) return { errors: [] };
    const r = await this.dns.resolve(l, signal);
    return { errors: r.errors.map((e) => e.error) };
  }

  private targetsOf(spec: EndpointSpec): EndpointTarget[] {
    const st = staticTarget(spec);
    if (st) return [st];
    return (this.dns?.addressesFor(spec.raw) ?? []).map((a) => endpointTarget(spec, a));
  }

  /** The endpoints wanted now, in a stable order (configuration order, then file SD). */
  desired(): DesiredStore[] {
    const out = new Map<string, DesiredStore>();
    const put = (d: DesiredStore) => {
      const had = out.get(d.name);
      if (had) { had.strict ||= d.strict; return; }
      out.set(d.name, d);
    };
    for (const c of this.configured) {
      if (c.group) {
        const members = this.targetsOf(c.spec);
        put({ name: c.spec.raw, transport: "grpc", target: c.spec.raw, source: c.spec.raw, strict: c.strict, members });
        continue;
      }
      for (const t of this.targetsOf(c.spec)) put({ ...t, source: c.spec.raw, strict: c.strict });
    }
    for (const s of this.fileSpecs) for (const t of this.targetsOf(s)) put({ ...t, source: s.raw, strict: false });
    return [...out.values()];
  }
}

/** Makes the StoreEndpoint for one target; close() releases its connection. */
export type StoreFactory = (t: EndpointTarget & { source: string }) => { endpoint: StoreEndpoint; close(): void };

interface Held {
  key: string;
  endpoint: StoreEndpoint;
  close(): void;
  group?: GroupEndpoint;
}

/**
 * Keeps StoreEndpoints in step with an EndpointSet: sync() creates endpoints for new targets, closes
 * those gone, and calls `apply` with the full list (fixed stores first) when anything changed.
 */
export class DiscoveredStores {
  private held = new Map<string, Held>();
  private order: string[] = [];

  constructor(
    // Only its desired() is read: a worker thread hands in the list its main thread resolved.
    private readonly set: Pick<EndpointSet, "desired">,
    private readonly factory: StoreFactory,
    /** Gets the endpoints and the desired list they were made from (for copies elsewhere, e.g. workers). */
    private readonly apply: (endpoints: StoreEndpoint[], desired: DesiredStore[]) => void,
    private readonly fixed: StoreEndpoint[] = [],
  ) {}

  /** Reconcile; true when the set of endpoints changed. */
  sync(): boolean {
    const want = this.set.desired();
    let changed = want.length !== this.order.length || want.some((d, i) => this.order[i] !== keyOf(d));
    const next = new Map<string, Held>();
    for (const d of want) {
      const key = keyOf(d);
      const h = this.held.get(key);
      if (h) {
        if (h.group && d.members) h.group.setMembers(d.members, this.factory, d.source);
        next.set(key, h);
        continue;
      }
      changed = true;
      if (d.members) {
        const g = new GroupEndpoint(d.name);
        g.setMembers(d.members, this.factory, d.source);
        next.set(key, { key, endpoint: g, close: () => g.close(), group: g });
      } else {
        const made = this.factory({ name: d.name, transport: d.transport, target: d.target, source: d.source });
        next.set(key, { key, ...made });
      }
    }
    for (const [k, h] of this.held) if (!next.has(k)) h.close();
    this.held = next;
    this.order = want.map(keyOf);
    if (changed) this.apply([...this.fixed, ...this.order.map((k) => next.get(k)!.endpoint)], want);
    return changed;
  }

  /** Names of the discovered endpoints now. */
  names(): string[] {
    return this.order.map((k) => this.held.get(k)!.endpoint.name);
  }

  close(): void {
    for (const h of this.held.values()) h.close();
    this.held.clear();
    this.order = [];
  }
}

function keyOf(d: DesiredStore): string {
  return `${d.members ? "group" : d.transport} ${d.name}`;
}

/** Thanos' endpoint-group retry policy: 3 attempts, on UNAVAILABLE. */
const GROUP_ATTEMPTS = 3;

function retryable(e: unknown): boolean {
  return errorCode(e) === "unavailable";
}

/**
 * An `--endpoint-group`: one StoreAPI over its members, each call to the next member round-robin and
 * retried on another when the member is unavailable (before any data of a Series stream arrived).
 */
export class GroupEndpoint implements StoreEndpoint {
  private members: { target: EndpointTarget; endpoint: StoreEndpoint; close(): void }[] = [];
  private next = 0;

  constructor(readonly name: string) {}

  setMembers(targets: readonly EndpointTarget[], factory: StoreFactory, source: string): void {
    const old = new Map(this.members.map((m) => [`${m.target.transport} ${m.target.name}`, m]));
    this.members = targets.map((t) => {
      const k = `${t.transport} ${t.name}`;
      const m = old.get(k);
      if (m) { old.delete(k); return m; }
      return { target: t, ...factory({ ...t, source }) };
    });
    for (const m of old.values()) m.close();
  }

  close(): void {
    for (const m of this.members) m.close();
    this.members = [];
  }

  private pick(): StoreEndpoint[] {
    const n = this.members.length;
    if (n === 0) throw new CodedError("unavailable", `endpoint group ${this.name}: no address resolved`);
    const start = this.next++ % n;
    const order: StoreEndpoint[] = [];
    for (let i = 0; i < Math.min(n, GROUP_ATTEMPTS); i++) order.push(this.members[(start + i) % n]!.endpoint);
    return order;
  }

  private async unary<T>(f: (ep: StoreEndpoint) => Promise<T>): Promise<T> {
    let last: unknown;
    for (const ep of this.pick()) {
      try {
        return await f(ep);
      } catch (e) {
        last = e;
        if (!retryable(e)) break;
      }
    }
    throw last;
  }

  info: StoreEndpoint["info"] = (signal) => this.unary((ep) => ep.info(signal));
  labelNames: StoreEndpoint["labelNames"] = (req, signal) => this.unary((ep) => ep.labelNames(req, signal));
  labelValues: StoreEndpoint["labelValues"] = (req, signal) => this.unary((ep) => ep.labelValues(req, signal));

  series: StoreEndpoint["series"] = (req, signal) => this.stream((ep) => ep.series(req, signal));

  /** The members' Rules (a group of rulers, or of queriers); members that cannot serve rules fail the call. */
  rules: NonNullable<StoreEndpoint["rules"]> = (req, signal) => this.stream((ep) => {
    if (!ep.rules) throw new CodedError("unavailable", `endpoint ${ep.name} does not serve thanos.Rules`);
    return ep.rules(req, signal);
  });

  /** A streaming call on the next member, retried on another when unavailable before anything arrived. */
  private stream<T>(call: (ep: StoreEndpoint) => AsyncIterable<T>): AsyncIterable<T> {
    const self = this;
    return (async function* (): AsyncGenerator<T> {
      let last: unknown;
      for (const ep of self.pick()) {
        let sent = false;
        try {
          for await (const m of call(ep)) { sent = true; yield m; }
          return;
        } catch (e) {
          last = e;
          if (sent || !retryable(e)) break;
        }
      }
      throw last;
    })();
  }
}
