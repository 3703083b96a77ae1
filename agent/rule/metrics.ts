// The ruler's /metrics: the rules engine's prometheus_rule_* family (label `strategy`, as Thanos
// registers it), Thanos' thanos_rule_* gauges and counters, the alert queue and sender
// (thanos_alert_*), the TSDB (prometheus_tsdb_*) in stateful mode and the remote write queues
// (prometheus_remote_storage_*) in stateless mode. All read from the components at scrape time.

import type { AlertQueue, AlertSender } from "../../shared/alert/notifier.ts";
import type { RemoteWriteQueue } from "../../shared/remote/write.ts";
import type { Manager } from "../../shared/rules/manager.ts";
import type { FamilyData, Registry } from "../metrics.ts";
import type { Tsdb } from "../tsdb/db.ts";

export interface RuleMetricSources {
  manager: Manager;
  db: Tsdb | null;
  queue: AlertQueue;
  sender: AlertSender;
  queues: RemoteWriteQueue[];
  /** thanos_rule_evaluation_with_warnings_total by strategy. */
  warnings: { WARN: number; ABORT: number };
}

type Samples = FamilyData["samples"];
const one = (value: number, labels: Record<string, string> = {}): Samples => [{ labels, value }];

export function registerRuleMetrics(reg: Registry, s: RuleMetricSources): void {
  reg.addSource(() => s.manager.metrics.families() as FamilyData[]);

  reg.addSource(() => {
    const m = s.manager;
    const out: FamilyData[] = [
      { name: "thanos_rule_config_last_reload_successful", help: "Whether the last configuration reload attempt was successful.", type: "gauge", samples: one(m.reloadStatus.successful ? 1 : 0) },
      { name: "thanos_rule_config_last_reload_success_timestamp_seconds", help: "Timestamp of the last successful configuration reload.", type: "gauge", samples: one(m.reloadStatus.lastSuccessMs / 1000) },
      {
        name: "thanos_rule_loaded_rules", help: "Loaded rules partitioned by file and group.", type: "gauge",
        samples: m.loadedRules().map((r) => ({ labels: { strategy: r.strategy, file: r.file, group: r.group }, value: r.rules })),
      },
      {
        name: "thanos_rule_evaluation_with_warnings_total", help: "The total number of rule evaluation that were successful but had non PromQL warnings which can indicate partial error.", type: "counter",
        samples: [{ labels: { strategy: "abort" }, value: s.warnings.ABORT }, { labels: { strategy: "warn" }, value: s.warnings.WARN }],
      },
    ];
    const q = s.queue.metrics;
    out.push(
      { name: "thanos_alert_queue_alerts_pushed_total", help: "Total number of alerts pushed to the queue.", type: "counter", samples: one(q.pushed) },
      { name: "thanos_alert_queue_alerts_popped_total", help: "Total number of alerts popped from the queue.", type: "counter", samples: one(q.popped) },
      { name: "thanos_alert_queue_alerts_dropped_total", help: "Total number of alerts that were dropped from the queue.", type: "counter", samples: one(q.dropped) },
      { name: "thanos_alert_queue_capacity", help: "Capacity of the alert queue.", type: "gauge", samples: one(s.queue.capacity) },
      { name: "thanos_alert_queue_length", help: "Length of the alert queue.", type: "gauge", samples: one(s.queue.length) },
      { name: "thanos_alert_queue_max_batch_size", help: "Maximum number of alerts sent in a single batch.", type: "gauge", samples: one(s.queue.maxBatchSize) },
    );
    const sm = s.sender.metrics;
    out.push(
      { name: "thanos_alert_sender_alerts_sent_total", help: "Total number of alerts sent by alertmanager.", type: "counter", samples: [...sm.sent].map(([am, v]) => ({ labels: { alertmanager: am }, value: v })) },
      { name: "thanos_alert_sender_errors_total", help: "Total number of errors while sending alerts to alertmanager.", type: "counter", samples: [...sm.errors].map(([am, v]) => ({ labels: { alertmanager: am }, value: v })) },
      { name: "thanos_alert_sender_alerts_dropped_total", help: "Total number of alerts dropped in case of all sends to alertmanagers failed.", type: "counter", samples: one(sm.dropped) },
      {
        name: "thanos_alert_sender_latency_seconds", help: "Latency for sending alert notifications (sum and count only).", type: "summary",
        samples: [...sm.latencySeconds].flatMap(([am, l]) => [
          { labels: { alertmanager: am }, value: l.sum, suffix: "_sum" },
          { labels: { alertmanager: am }, value: l.count, suffix: "_count" },
        ]),
      },
    );
    return out;
  });

  if (s.db) {
    const db = s.db;
    reg.addSource(() => {
      const st = db.stats();
      const h = st.head;
      const c = (name: string, help: string, v: number): FamilyData => ({ name, help, type: "counter", samples: one(v) });
      const g = (name: string, help: string, v: number): FamilyData => ({ name, help, type: "gauge", samples: one(v) });
      return [
        g("prometheus_tsdb_head_series", "Total number of series in the head block.", h.series),
        c("prometheus_tsdb_head_series_created_total", "Total number of series created in the head", h.seriesCreated),
        c("prometheus_tsdb_head_series_removed_total", "Total number of series removed in the head", h.seriesRemoved),
        c("prometheus_tsdb_head_samples_appended_total", "Total number of appended samples.", h.samplesAppended),
        c("prometheus_tsdb_out_of_order_samples_total", "Total number of out of order samples ingestion failed attempts.", h.outOfOrder),
        c("prometheus_tsdb_out_of_bound_samples_total", "Total number of out of bound samples ingestion failed attempts.", h.outOfBounds),
        g("prometheus_tsdb_head_min_time", "Minimum time bound of the head block. The unit is decided by the library consumer.", Number.isFinite(h.minTime) ? h.minTime : 0),
        g("prometheus_tsdb_head_max_time", "Maximum timestamp of the head block. The unit is decided by the library consumer.", Number.isFinite(h.maxTime) ? h.maxTime : 0),
        g("prometheus_tsdb_blocks_loaded", "Number of currently loaded data blocks", st.blocks),
        c("prometheus_tsdb_compactions_total", "Total number of compactions that were executed for the partition.", st.blocksCut),
        c("prometheus_tsdb_compactions_failed_total", "Total number of compactions that failed for the partition.", st.compactionFailures),
        c("prometheus_tsdb_checkpoint_creations_total", "Total number of checkpoint creations attempted.", st.checkpoints),
        c("prometheus_tsdb_time_retentions_total", "The number of times that blocks were deleted because the maximum time limit was exceeded.", st.blocksDeleted),
        g("prometheus_tsdb_wal_segment_current", "WAL segment index that TSDB is currently writing to.", st.wal.segment),
        c("prometheus_tsdb_wal_fsync_total", "Number of fsyncs of the WAL.", st.wal.fsyncs),
        c("prometheus_tsdb_wal_written_bytes_total", "Bytes written to the WAL.", st.wal.bytesWritten),
      ];
    });
  }

  if (s.queues.length > 0) {
    reg.addSource(() => {
      const per = (name: string, help: string, type: "counter" | "gauge", pick: (q: RemoteWriteQueue) => number): FamilyData => ({
        name, help, type, samples: s.queues.map((q) => ({ labels: { remote_name: q.cfg.name, url: q.cfg.url }, value: pick(q) })),
      });
      return [
        per("prometheus_remote_storage_samples_total", "Total number of samples sent to remote storage.", "counter", (q) => q.metrics.samplesTotal),
        per("prometheus_remote_storage_samples_failed_total", "Total number of samples which failed on send to remote storage, non-recoverable errors.", "counter", (q) => q.metrics.samplesFailed),
        per("prometheus_remote_storage_samples_retried_total", "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.", "counter", (q) => q.metrics.samplesRetried),
        per("prometheus_remote_storage_samples_dropped_total", "Total number of samples dropped because the queue was full (bounded memory).", "counter", (q) => q.metrics.samplesDropped),
        per("prometheus_remote_storage_samples_pending", "The number of samples pending in the queues shards to be sent to the remote storage.", "gauge", (q) => q.metrics.samplesPending),
        per("prometheus_remote_storage_bytes_total", "The total number of bytes of data (not metadata) sent by the queue after compression.", "counter", (q) => q.metrics.bytesSent),
        per("prometheus_remote_storage_requests_total", "Remote write requests made.", "counter", (q) => q.metrics.requests),
        per("prometheus_remote_storage_request_failures_total", "Remote write requests that failed (each retry counts).", "counter", (q) => q.metrics.requestFailures),
        per("prometheus_remote_storage_highest_timestamp_in_seconds", "Highest timestamp that has come into the remote storage via the Appender interface, in seconds since epoch.", "gauge", (q) => q.metrics.highestTimestamp),
        per("prometheus_remote_storage_queue_highest_sent_timestamp_seconds", "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.", "gauge", (q) => q.metrics.highestSentTimestamp),
        {
          name: "prometheus_remote_storage_sent_batch_duration_seconds", help: "Duration of send calls to the remote storage (sum and count only).", type: "summary",
          samples: s.queues.flatMap((q) => [
            { labels: { remote_name: q.cfg.name, url: q.cfg.url }, value: q.metrics.sendSeconds.sum, suffix: "_sum" },
            { labels: { remote_name: q.cfg.name, url: q.cfg.url }, value: q.metrics.sendSeconds.count, suffix: "_count" },
          ]),
        },
      ];
    });
  }
}
