// What a component implements to serve the Thanos StoreAPI (thanos.Store), Info (thanos.info.Info)
// and Rules (thanos.Rules). Runtime-neutral: no Connect types here. An object of these types is
// registered as is by shared/rpc/server.ts (Connect + gRPC-Web on hono) and agent/grpc/server.ts
// (gRPC over node:http2); both map thrown CodedErrors to RPC status codes.
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
  series(req: SeriesRequest, ctx: CallContext): AsyncIterable<SeriesResponseInit>;
  labelNames(req: LabelNamesRequest, ctx: CallContext): Promise<LabelNamesResponseInit>;
  labelValues(req: LabelValuesRequest, ctx: CallContext): Promise<LabelValuesResponseInit>;
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

export interface ServeOptions {
  /**
   * Bearer token: when set, every call must carry `authorization: Bearer <token>` or is refused with
   * Unauthenticated. Compared in constant time; never logged.
   */
  token?: string;
  /** Largest request message accepted (bytes); default 16 MiB. */
  readMaxBytes?: number;
}
