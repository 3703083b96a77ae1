// The generated descriptors carry upstream's wire identity: message and service names, field
// numbers and types, RPC paths. The tables below were taken from the upstream .proto files in the Go
// module sources (thanos-io/thanos v0.42.5 pkg/store/storepb, pkg/info/infopb, pkg/rules/rulespb;
// prometheus/prometheus v0.42.0 and v0.316.0 prompb), so an accidental edit of proto/ fails here
// even though it would still generate.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { ScalarType, create, type DescMessage } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import * as storeRpc from "../../../shared/gen/thanos/storepb/rpc_pb.ts";
import * as storeTypes from "../../../shared/gen/thanos/storepb/types_pb.ts";
import * as info from "../../../shared/gen/thanos/infopb/rpc_pb.ts";
import * as rules from "../../../shared/gen/thanos/rulespb/rpc_pb.ts";
import * as hints from "../../../shared/gen/thanos/hintspb/hints_pb.ts";
import * as promTypes from "../../../shared/gen/prometheus/types_pb.ts";
import * as promRemote from "../../../shared/gen/prometheus/remote_pb.ts";

// "name:number:type" with type a scalar name, "enum", "msg" or "Type.Name" for messages.
function fields(m: DescMessage): string[] {
  return m.fields.map((f) => {
    let t: string;
    if (f.fieldKind === "scalar" || (f.fieldKind === "list" && f.listKind === "scalar")) t = ScalarType[f.scalar!].toLowerCase();
    else if (f.fieldKind === "enum" || (f.fieldKind === "list" && f.listKind === "enum")) t = f.enum!.typeName;
    else t = f.message!.typeName;
    return `${f.name}:${f.number}:${f.fieldKind === "list" ? "repeated " : ""}${t}`;
  });
}

const sorted = (xs: string[]) => [...xs].sort((a, b) => Number(a.split(":")[1]) - Number(b.split(":")[1]));

test("thanos.SeriesRequest fields 1-16, SeriesResponse oneof series|warning|hints|batch", () => {
  assert.is(storeRpc.SeriesRequestSchema.typeName, "thanos.SeriesRequest");
  assert.equal(sorted(fields(storeRpc.SeriesRequestSchema)), [
    "min_time:1:int64", "max_time:2:int64", "matchers:3:repeated thanos.LabelMatcher", "max_resolution_window:4:int64",
    "aggregates:5:repeated thanos.Aggr", "partial_response_disabled:6:bool", "partial_response_strategy:7:thanos.PartialResponseStrategy",
    "skip_chunks:8:bool", "hints:9:google.protobuf.Any", "step:10:int64", "range:11:int64", "query_hints:12:thanos.QueryHints",
    "shard_info:13:thanos.ShardInfo", "without_replica_labels:14:repeated string", "limit:15:int64", "response_batch_size:16:int64",
  ]);
  assert.equal(fields(storeRpc.SeriesResponseSchema), ["series:1:thanos.Series", "warning:2:string", "hints:3:google.protobuf.Any", "batch:4:thanos.SeriesBatch"]);
  assert.equal(storeRpc.SeriesResponseSchema.oneofs.map((o) => o.name), ["result"]);
  assert.equal(fields(storeRpc.QueryHintsSchema), [
    "step_millis:1:int64", "func:2:thanos.Func", "grouping:4:thanos.Grouping", "range:5:thanos.Range",
    "projection_labels:6:repeated string", "projection_include:7:bool",
  ]);
  assert.equal(fields(storeRpc.ShardInfoSchema), ["shard_index:1:int64", "total_shards:2:int64", "by:3:bool", "labels:4:repeated string"]);
  assert.equal(fields(storeRpc.GroupingSchema), ["by:1:bool", "labels:3:repeated string"]);
  assert.equal(fields(storeRpc.LabelNamesRequestSchema), [
    "partial_response_disabled:1:bool", "partial_response_strategy:2:thanos.PartialResponseStrategy", "start:3:int64", "end:4:int64",
    "hints:5:google.protobuf.Any", "matchers:6:repeated thanos.LabelMatcher", "without_replica_labels:7:repeated string", "limit:8:int64",
  ]);
  assert.equal(fields(storeRpc.LabelValuesRequestSchema), [
    "label:1:string", "partial_response_disabled:2:bool", "partial_response_strategy:3:thanos.PartialResponseStrategy", "start:4:int64", "end:5:int64",
    "hints:6:google.protobuf.Any", "matchers:7:repeated thanos.LabelMatcher", "without_replica_labels:8:repeated string", "limit:9:int64",
  ]);
  assert.equal(fields(storeRpc.LabelNamesResponseSchema), ["names:1:repeated string", "warnings:2:repeated string", "hints:3:google.protobuf.Any"]);
  assert.equal(fields(storeRpc.LabelValuesResponseSchema), ["values:1:repeated string", "warnings:2:repeated string", "hints:3:google.protobuf.Any"]);
  assert.equal(storeRpc.AggrSchema.values.map((v) => `${v.name}=${v.number}`), ["RAW=0", "COUNT=1", "SUM=2", "MIN=3", "MAX=4", "COUNTER=5"]);
});

test("thanos data types: Series, AggrChunk, Chunk (uint64 hash), LabelMatcher, PartialResponseStrategy", () => {
  assert.equal(fields(storeTypes.SeriesSchema), ["labels:1:repeated thanos.Label", "chunks:2:repeated thanos.AggrChunk"]);
  assert.equal(fields(storeTypes.SeriesBatchSchema), ["series:1:repeated thanos.Series"]);
  assert.equal(fields(storeTypes.AggrChunkSchema), [
    "min_time:1:int64", "max_time:2:int64", "raw:3:thanos.Chunk", "count:4:thanos.Chunk", "sum:5:thanos.Chunk",
    "min:6:thanos.Chunk", "max:7:thanos.Chunk", "counter:8:thanos.Chunk",
  ]);
  assert.equal(fields(storeTypes.ChunkSchema), ["type:1:thanos.Chunk.Encoding", "data:2:bytes", "hash:3:uint64"]);
  assert.equal(storeTypes.Chunk_EncodingSchema.values.map((v) => `${v.name}=${v.number}`), ["XOR=0", "HISTOGRAM=1", "FLOAT_HISTOGRAM=2"]);
  assert.equal(fields(storeTypes.LabelMatcherSchema), ["type:1:thanos.LabelMatcher.Type", "name:2:string", "value:3:string"]);
  assert.equal(storeTypes.LabelMatcher_TypeSchema.values.map((v) => `${v.name}=${v.number}`), ["EQ=0", "NEQ=1", "RE=2", "NRE=3"]);
  assert.equal(storeTypes.PartialResponseStrategySchema.values.map((v) => `${v.name}=${v.number}`), ["WARN=0", "ABORT=1"]);
});

test("thanos.info.Info, thanos.Rules, hintspb", () => {
  assert.equal(fields(info.InfoResponseSchema), [
    "label_sets:1:repeated thanos.LabelSet", "ComponentType:2:string", "store:3:thanos.info.StoreInfo", "rules:4:thanos.info.RulesInfo",
    "metric_metadata:5:thanos.info.MetricMetadataInfo", "targets:6:thanos.info.TargetsInfo", "exemplars:7:thanos.info.ExemplarsInfo",
    "query:8:thanos.info.QueryAPIInfo", "status:9:thanos.info.StatusInfo",
  ]);
  assert.equal(fields(info.StoreInfoSchema), [
    "min_time:1:int64", "max_time:2:int64", "supports_sharding:3:bool", "supports_without_replica_labels:5:bool", "tsdb_infos:6:repeated thanos.info.TSDBInfo",
  ]);
  assert.equal(fields(rules.RulesRequestSchema), [
    "type:1:thanos.RulesRequest.Type", "partial_response_strategy:2:thanos.PartialResponseStrategy", "matcher_string:3:repeated string",
    "rule_name:4:repeated string", "rule_group:5:repeated string", "file:6:repeated string",
  ]);
  assert.equal(sorted(fields(rules.RuleGroupSchema)), [
    "name:1:string", "file:2:string", "rules:3:repeated thanos.Rule", "interval:4:double", "evaluation_duration_seconds:5:double",
    "last_evaluation:6:google.protobuf.Timestamp", "PartialResponseStrategy:8:thanos.PartialResponseStrategy", "limit:9:int64",
  ]);
  assert.equal(rules.AlertStateSchema.values.map((v) => `${v.name}=${v.number}`), ["UNKNOWN=0", "INACTIVE=1", "PENDING=2", "FIRING=3"]);
  assert.equal(fields(hints.SeriesRequestHintsSchema), ["block_matchers:1:repeated thanos.LabelMatcher", "enable_query_stats:2:bool"]);
  assert.is(hints.SeriesResponseHintsSchema.typeName, "hintspb.SeriesResponseHints");
});

test("hints travel in google.protobuf.Any under Go's type URL", () => {
  // Go Thanos packs with types.MarshalAny: "type.googleapis.com/" + the full message name.
  const any = anyPack(hints.SeriesRequestHintsSchema, create(hints.SeriesRequestHintsSchema, { enableQueryStats: true }));
  assert.is(any.typeUrl, "type.googleapis.com/hintspb.SeriesRequestHints");
  const req = create(storeRpc.SeriesRequestSchema, { hints: any });
  assert.is(anyUnpack(req.hints!, hints.SeriesRequestHintsSchema)!.enableQueryStats, true);
  assert.is(anyUnpack(req.hints!, hints.LabelNamesRequestHintsSchema), undefined);
});

test("services and their RPC paths", () => {
  const paths = (s: { typeName: string; methods: { name: string; methodKind: string }[] }) =>
    s.methods.map((m) => `/${s.typeName}/${m.name} ${m.methodKind}`);
  assert.equal(paths(storeRpc.Store), ["/thanos.Store/Series server_streaming", "/thanos.Store/LabelNames unary", "/thanos.Store/LabelValues unary"]);
  assert.equal(paths(info.Info), ["/thanos.info.Info/Info unary"]);
  assert.equal(paths(rules.Rules), ["/thanos.Rules/Rules server_streaming"]);
});

test("prometheus remote read/write messages", () => {
  assert.equal(fields(promRemote.ReadRequestSchema), ["queries:1:repeated prometheus.Query", "accepted_response_types:2:repeated prometheus.ReadRequest.ResponseType"]);
  assert.equal(promRemote.ReadRequest_ResponseTypeSchema.values.map((v) => `${v.name}=${v.number}`), ["SAMPLES=0", "STREAMED_XOR_CHUNKS=1"]);
  assert.equal(fields(promRemote.QuerySchema), ["start_timestamp_ms:1:int64", "end_timestamp_ms:2:int64", "matchers:3:repeated prometheus.LabelMatcher", "hints:4:prometheus.ReadHints"]);
  assert.equal(fields(promRemote.ChunkedReadResponseSchema), ["chunked_series:1:repeated prometheus.ChunkedSeries", "query_index:2:int64"]);
  assert.equal(fields(promRemote.WriteRequestSchema), ["timeseries:1:repeated prometheus.TimeSeries", "metadata:3:repeated prometheus.MetricMetadata"]);
  assert.equal(fields(promTypes.ReadHintsSchema), [
    "step_ms:1:int64", "func:2:string", "start_ms:3:int64", "end_ms:4:int64", "grouping:5:repeated string", "by:6:bool", "range_ms:7:int64",
  ]);
  assert.equal(fields(promTypes.ChunkSchema), ["min_time_ms:1:int64", "max_time_ms:2:int64", "type:3:prometheus.Chunk.Encoding", "data:4:bytes"]);
  assert.equal(promTypes.Chunk_EncodingSchema.values.map((v) => `${v.name}=${v.number}`),
    ["UNKNOWN=0", "XOR=1", "HISTOGRAM=2", "FLOAT_HISTOGRAM=3", "XOR2=4", "HISTOGRAM_ST=5", "FLOAT_HISTOGRAM_ST=6"]);
  assert.is(promTypes.HistogramSchema.fields.at(-1)!.name + ":" + promTypes.HistogramSchema.fields.at(-1)!.number, "custom_values:16");
  assert.equal(fields(promTypes.SampleSchema), ["value:1:double", "timestamp:2:int64"]);
  assert.equal(fields(promTypes.TimeSeriesSchema), [
    "labels:1:repeated prometheus.Label", "samples:2:repeated prometheus.Sample", "exemplars:3:repeated prometheus.Exemplar", "histograms:4:repeated prometheus.Histogram",
  ]);
});

test.run();
