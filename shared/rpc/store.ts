// What a component implements to serve the Thanos StoreAPI (thanos.Store), Info (thanos.info.Info)
// and Rules (thanos.Rules): the one seam every data-serving component plugs into (sidecar, store
// gateway, querier fan-out; the ruler next). Runtime-neutral: no Connect types here. An object of these
// types is served as is by shared/rpc/server.ts (Connect + gRPC-Web on hono) and agent/grpc/server.ts
// (gRPC over HTTP/2, agent/grpc/), which share the routes, auth, call observation and CodedError -> status
// mapping of shared/rpc/routes.ts.
//
// Series contract (see proto/thanos/storepb/rpc.proto): yield series sorted by labels, each whole
// (time slices of one series only back to back), warnings anywhere; honour ctx.signal.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type {
  LabelNamesRequest, LabelNamesResponseSchema, LabelValuesRequest, LabelValuesResponseSchema,
  SeriesRequest, SeriesResponse, SeriesResponseSchema,
} from "../gen/thanos/storepb/rpc_pb.ts";
import type { InfoRequest, InfoResponseSchema } from "../gen/thanos/infopb/rpc_pb.ts";
import type { RulesRequest, RulesResponseSchema } from "../gen/thanos/rulespb/rpc_pb.ts";

export interface CallContext {
  /** Aborted when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
}

export type SeriesResponseInit = SeriesResponse | MessageInitShape<typeof SeriesResponseSchema>;
export type LabelNamesResponseInit = MessageInitShape<typeof LabelNamesResponseSchema>;
export type LabelValuesResponseInit = MessageInitShape<typeof LabelValuesResponseSchema>;
export type InfoResponseInit = MessageInitShape<typeof InfoResponseSchema>;
export type RulesResponseInit = MessageInitShape<typeof RulesResponseSchema>;

/** thanos.Store. */
export interface StoreImpl {
  /**
   * A message may carry its series or batch pre-encoded as an unknown field (field 1 or 4, the bytes
   * written once; the binary wire is the same): the stack decodes those for JSON calls
   * (shared/rpc/series.ts decodeCarried), and in-process readers (shared/query/wire.ts frameOf) do too.
   */
  series(req: SeriesRequest, ctx: CallContext): AsyncIterable<SeriesResponseInit>;
  labelNames(req: LabelNamesRequest, ctx: CallContext): Promise<LabelNamesResponseInit>;
  labelValues(req: LabelValuesRequest, ctx: CallContext): Promise<LabelValuesResponseInit>;
  /**
   * Optional fast path: the same answer as series(), as SeriesResponse messages already enveloped
   * (flags | big-endian uint32 length | message: the framing gRPC, gRPC-Web and Connect streaming share),
   * response_batch_size honoured, in pieces of any size. The server stack writes these pieces to the
   * socket as they are for every uncompressed binary Series call, after the same auth, call observation
   * and error mapping as any other call (shared/rpc/fastseries.ts, agent/grpc/fastseries.ts). series()
   * stays the reference and serves everything else (compressed or JSON calls, in-process callers).
   *
   * Why: a Series answer is thousands of small messages; through Connect's generic pipeline each passes
   * several async-iterator stages and its own write, which in profiles cost more than the data.
   *
   * With `reuse`, a yielded piece is valid only until the generator is resumed (the caller has written
   * or copied it by then), so the implementation may recycle its output buffers.
   */
  seriesEnveloped?(req: SeriesRequest, ctx: CallContext, opts: { reuse: boolean }): AsyncIterable<Uint8Array>;
}

/** thanos.info.Info. */
export interface InfoImpl {
  info(req: InfoRequest, ctx: CallContext): Promise<InfoResponseInit>;
}

/** thanos.Rules. */
export interface RulesImpl {
  rules(req: RulesRequest, ctx: CallContext): AsyncIterable<RulesResponseInit>;
}

/** The services one endpoint serves; absent ones answer Unimplemented. */
export interface StoreApiServices {
  store?: StoreImpl;
  info?: InfoImpl;
  rules?: RulesImpl;
}

/** How one call ended, as the server stack reports it to ServeOptions.observe. */
export interface CallOutcome {
  /** "thanos.Store", "thanos.info.Info", "thanos.Rules". */
  service: string;
  /** "Series", "LabelNames", "Info", ... */
  method: string;
  /** gRPC status code it ended with: 0 OK (see GrpcStatus in shared/encoding/errors.ts). */
  status: number;
  /** The status message, when not OK. */
  message?: string;
}

export interface ServeOptions {
  /**
   * Bearer token: when set, every call must carry `authorization: Bearer <token>` or is refused with
   * Unauthenticated. Compared in constant time; never logged.
   */
  token?: string;
  /** Largest request message accepted (bytes); default 16 MiB. */
  readMaxBytes?: number;
  /**
   * Called once for every call when it ends, refused ones included, with the status clients see
   * (metrics, logs). Fast-path Series calls are reported the same way.
   */
  observe?: (call: CallOutcome) => void;
}
