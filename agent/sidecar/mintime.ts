// The oldest time a Prometheus holds, as Thanos' sidecar learns it (pkg/promclient LowestTimestamp,
// refreshed every --prometheus.get_config_interval): the gauge prometheus_tsdb_lowest_timestamp_seconds
// from Prometheus' /metrics, which is its oldest block's min time, or the head's while no block exists.
// Retention raises it as old blocks go, so a querier stops asking this sidecar for ranges it no longer
// has. A TSDB with nothing yet reports MaxInt64: then -inf (Thanos answers MinInt64 so the sidecar is
// always asked). null when the gauge is missing (not a Prometheus TSDB: agent mode, another server).
// PromClient.lowestTimestamp (agent/prom/client.ts) fetches /metrics and reads it here.

const GAUGE = "prometheus_tsdb_lowest_timestamp_seconds";

/** The gauge's value from a text exposition, or null when absent. */
export function lowestTimestampFromMetrics(text: string): number | null {
  for (const line of text.split("\n")) {
    if (!line.startsWith(GAUGE)) continue;
    const rest = line.slice(GAUGE.length);
    if (rest[0] !== " " && rest[0] !== "{") continue; // another metric with this prefix
    const value = rest.replace(/^\{[^}]*\}/, "").trim().split(/\s+/)[0]!;
    const v = Number(value);
    if (Number.isNaN(v)) return null;
    const ms = v * 1000;
    // MaxInt64 ms as float seconds (9.223372036854776e15 s): nothing stored yet.
    if (ms >= 9.2e18) return Number.NEGATIVE_INFINITY;
    return Math.trunc(ms);
  }
  return null;
}
