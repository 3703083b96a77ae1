// The ruler's HTTP peers at run time, queriers and Alertmanagers alike, as Thanos' clientconfig
// HTTPClient resolves them: each group (a --query, a --query.config entry, the --query.sd-files, an
// Alertmanager URL or config entry) has address forms parsed by the one endpoint parser
// (shared/discovery/endpoint.ts: static host:port, dns+, dnssrv+, dnssrvnoa+, in front of the scheme or
// of the host) and file-SD files (agent/discovery/files.ts); DNS forms are resolved at start and every
// --query.sd-dns-interval / --alertmanagers.sd-dns-interval (a failed lookup keeps its last answer),
// file SD is re-read on change and every refresh interval. urls(i) is group i's base URLs now.

import { parseHttpTarget, type HttpTarget, type Lookup } from "../../shared/discovery/endpoint.ts";
import { DnsProvider, type Resolver } from "../../shared/discovery/dns.ts";
import { endpointURL, type HttpEndpointsConfig } from "../../shared/clientconfig/config.ts";
import { errorMessage } from "../../shared/encoding/errors.ts";
import { FileSd } from "../discovery/files.ts";
import type { Logger } from "../log.ts";

export interface TargetGroupSpec {
  /** What the group is, for logs (the flag value or "query.config[0]"). */
  name: string;
  targets: HttpTarget[];
  /** File SD: the files' targets are addresses under this endpoints config's scheme and path prefix. */
  fileSd?: { files: string[]; refreshMs: number; endpoints: HttpEndpointsConfig };
}

interface Group {
  spec: TargetGroupSpec;
  fileTargets: HttpTarget[];
  files: FileSd | null;
}

export class HttpTargets {
  private readonly groups: Group[];
  private readonly dns: DnsProvider | null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(specs: TargetGroupSpec[], private readonly o: { flag: string; resolver: Resolver | null; dnsIntervalMs: number; log: Logger; defaultPort?: number }) {
    this.groups = specs.map((spec) => ({ spec, fileTargets: [], files: null }));
    this.dns = o.resolver ? new DnsProvider(o.resolver) : null;
  }

  /** True when some address needs DNS. */
  get dynamic(): boolean {
    return this.groups.some((g) => g.spec.targets.some((t) => t.lookup) || g.spec.fileSd !== undefined);
  }

  private lookups(): Map<string, Lookup> {
    const m = new Map<string, Lookup>();
    for (const g of this.groups) for (const t of [...g.spec.targets, ...g.fileTargets]) if (t.lookup) m.set(t.raw, t.lookup);
    return m;
  }

  /** One DNS round now (bounded by the interval); errors are logged, the last answers kept. */
  async resolve(): Promise<void> {
    const lookups = this.lookups();
    if (!this.dns || lookups.size === 0) return;
    const ctl = new AbortController();
    const t = setTimeout(() => ctl.abort(), this.o.dnsIntervalMs);
    try {
      const r = await this.dns.resolve(lookups, ctl.signal);
      for (const e of r.errors) this.o.log.error("failed to resolve addresses", { for: this.o.flag, err: e.error });
    } finally {
      clearTimeout(t);
    }
  }

  async start(): Promise<void> {
    for (const g of this.groups) {
      const sd = g.spec.fileSd;
      if (!sd) continue;
      const apply = (targets: readonly string[]) => {
        const next: HttpTarget[] = [];
        for (const addr of targets) {
          try {
            next.push(parseHttpTarget(endpointURL(sd.endpoints, addr), { flag: this.o.flag, defaultPort: this.o.defaultPort }));
          } catch (e) {
            this.o.log.error("file SD: target skipped", { for: this.o.flag, target: addr, err: errorMessage(e) });
          }
        }
        g.fileTargets = next;
      };
      g.files = new FileSd(sd.files, sd.refreshMs, (u) => { apply(u.targets); void this.resolve(); }, this.o.log, this.o.flag);
      // The first read is applied here and resolved by the one round below, not by a round per file.
      apply(g.files.start().targets);
    }
    await this.resolve();
    if (this.dynamic) {
      this.timer = setInterval(() => { void this.resolve(); }, this.o.dnsIntervalMs);
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Base URLs of group i now (static addresses, resolved DNS answers, file-SD targets), deduplicated. */
  urls(i: number): string[] {
    const g = this.groups[i]!;
    const out: string[] = [];
    for (const t of [...g.spec.targets, ...g.fileTargets]) {
      if (t.host !== undefined) out.push(t.urlFor(t.host));
      else if (this.dns) for (const a of this.dns.addressesFor(t.raw)) out.push(t.urlFor(a));
    }
    return [...new Set(out)];
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const g of this.groups) g.files?.stop();
  }
}
