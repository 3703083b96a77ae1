// The querier's discovered stores at run time: shared/discovery's EndpointSet and DiscoveredStores
// driven by timers and file watches, as Thanos' setupEndpointSet drives its endpoint set:
// - DNS forms (flags and file-SD targets) are resolved at start (bounded by the interval) and every
//   --store.sd-dns-interval;
// - --store.sd-files are read at start, on every change (watch) and every --store.sd-interval;
// - after each round, the fan-out's store list is updated when it changed (stores that stay keep their
//   connection and cached Info), so /api/v1/stores and queries see the change at once.
import { type DesiredStore, DiscoveredStores, type EndpointFlags, EndpointSet, type StoreFactory } from "../../shared/discovery/endpointset.ts";
import type { Resolver } from "../../shared/discovery/dns.ts";
import type { StoreEndpoint } from "../../shared/query/store.ts";
import type { Logger } from "../log.ts";
import { FileSd } from "./files.ts";

export interface DiscoveryOptions {
  flags: EndpointFlags;
  sdFiles?: string[];
  sdIntervalMs?: number;
  dnsIntervalMs?: number;
  resolver: Resolver | null;
  factory: StoreFactory;
  /** Receives the full store list (fixed stores first) whenever it changes, and the targets it was made from. */
  apply: (endpoints: StoreEndpoint[], desired: DesiredStore[]) => void;
  fixed?: StoreEndpoint[];
  log?: Logger;
}

export interface RunningDiscovery {
  set: EndpointSet;
  stores: DiscoveredStores;
  /** One DNS round and reconcile now (tests, and after a file-SD change). */
  refresh(): Promise<void>;
  stop(): void;
}

export async function startDiscovery(o: DiscoveryOptions): Promise<RunningDiscovery> {
  const set = new EndpointSet(o.flags, o.resolver);
  const stores = new DiscoveredStores(set, o.factory, o.apply, o.fixed ?? []);
  const dnsMs = o.dnsIntervalMs ?? 30_000;
  let running: Promise<void> | null = null;
  let again = false;
  const round = async (): Promise<void> => {
    if (set.dynamic) {
      const ctl = new AbortController();
      const t = setTimeout(() => ctl.abort(), dnsMs);
      try {
        const r = await set.refresh(ctl.signal);
        for (const e of r.errors) o.log?.error("failed to resolve addresses for endpoints", { err: e });
      } finally {
        clearTimeout(t);
      }
    }
    if (stores.sync()) o.log?.info("endpoints updated", { endpoints: stores.names().join(",") });
  };
  // One round at a time; a request during a round runs one more after it (new file targets get resolved).
  const refresh = (): Promise<void> => {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        do { again = false; await round(); } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
  let files: FileSd | null = null;
  if (o.sdFiles && o.sdFiles.length > 0) {
    const setTargets = (targets: string[]) => {
      for (const e of set.setFileTargets(targets)) o.log?.error("file SD: target skipped", { err: e });
    };
    files = new FileSd(o.sdFiles, o.sdIntervalMs ?? 300_000, (u) => { setTargets(u.targets); void refresh(); }, o.log);
    // The first read is applied here, so start-up runs one round (below), not two.
    setTargets(files.start().targets);
  }
  await refresh();
  const timer = setInterval(() => { void refresh(); }, dnsMs);
  (timer as { unref?: () => void }).unref?.();
  return {
    set,
    stores,
    refresh,
    stop: () => {
      clearInterval(timer);
      files?.stop();
      stores.close();
    },
  };
}
