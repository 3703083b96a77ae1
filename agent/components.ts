// The agent's components: one line of help each, loaded on demand so `--help` stays instant.
// A component module exports `run(argv: string[]): Promise<number | void>` (and prints its own --help).

export interface Component {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number | void> }>;
}

export const components: Record<string, Component> = {
  sidecar: { summary: "StoreAPI beside a Prometheus (remote read) and shipping its blocks to the bucket", load: () => import("./sidecar/main.ts") },
  store: { summary: "store gateway: StoreAPI over every block in the bucket", load: () => import("./store/main.ts") },
  query: { summary: "querier: Prometheus HTTP API and PromQL over local blocks and a fan-out of StoreAPIs", load: () => import("./query/main.ts") },
  rule: { summary: "ruler: recording and alerting rules over the queriers, its own TSDB (or remote write), alerts to Alertmanager", load: () => import("./rule/main.ts") },
  compact: { summary: "compactor: compaction, deduplication, downsampling and retention of bucket blocks", load: () => import("./compact/main.ts") },
  tools: { summary: "tools: tsdb dump/analyze/create-blocks-from, rules check/test, bucket verify/inspect/ls/mark/cleanup/retention/downsample/web/index", load: () => import("./tools/main.ts") },
};
