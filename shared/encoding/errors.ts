// Errors recognised by code, not instanceof (a bundle may hold two copies of this module).
// Codes map to gRPC statuses, HTTP statuses and Prometheus API error types in one place: ERROR_TABLE.

export type ErrorCode =
  | "corrupt" // bytes that do not decode: CRC mismatch, truncation, bad varint, unknown encoding
  | "not_found" // object, block or file missing
  | "bad_data" // invalid user input (query, matcher, flag, config)
  | "execution" // query could not be evaluated
  | "timeout"
  | "canceled"
  | "resource_exhausted" // a limit was hit
  | "unavailable" // a dependency (store, Prometheus, bucket) did not answer
  | "overloaded" // this server refuses more work now (its admission queue is full); retry later
  | "unauthenticated"
  | "internal";

export class CodedError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = "CodedError";
  }
}

export function errorCode(e: unknown): ErrorCode | undefined {
  if (typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string") {
    const c = (e as { code: string }).code;
    if (CODES.has(c)) return c as ErrorCode;
  }
  return undefined;
}

const CODES = new Set<string>([
  "corrupt", "not_found", "bad_data", "execution", "timeout", "canceled",
  "resource_exhausted", "unavailable", "overloaded", "unauthenticated", "internal",
]);

/** gRPC status codes (the wire standard, doc/statuscodes.md; Connect and gRPC-Web use the same numbers). */
export const GrpcStatus = {
  OK: 0, Canceled: 1, Unknown: 2, InvalidArgument: 3, DeadlineExceeded: 4, NotFound: 5,
  AlreadyExists: 6, PermissionDenied: 7, ResourceExhausted: 8, FailedPrecondition: 9, Aborted: 10,
  OutOfRange: 11, Unimplemented: 12, Internal: 13, Unavailable: 14, DataLoss: 15, Unauthenticated: 16,
} as const;

export interface ErrorStatus {
  /** What a StoreAPI server answers (gRPC, gRPC-Web and Connect alike). */
  grpc: number;
  /** HTTP status of an HTTP API answer (Prometheus' web/api/v1 respondError for its error types). */
  http: number;
  /** `errorType` of a Prometheus API error body. */
  errorType: string;
}

/**
 * The one table: every server and API maps a CodedError through it (test/unit/encoding.test.ts pins it).
 *
 * HTTP and errorType are what Prometheus 2.42 (web/api/v1/api.go: returnAPIError + respondError) and
 * Thanos v0.41 (pkg/api/api.go RespondError, pkg/api/query/v1.go) answer for the same case: bad input
 * 400 bad_data; a query that fails while evaluating, for whatever reason (a sample limit, a corrupt chunk,
 * a store that fails under partial_response=false), 422 execution, since neither sees storage errors as
 * anything else; timeout and canceled 503; not_found 404; internal 500. unauthenticated (401
 * "unauthorized") is ours: Prometheus and Thanos have no bearer tokens on this API.
 *
 * gRPC: what Thanos' stores answer: InvalidArgument for bad requests, ResourceExhausted for limits,
 * Unknown for a failure in the source behind a sidecar; DataLoss (the gRPC status for corruption) for
 * a chunk or index that does not decode, where Thanos' store gateway says Aborted.
 *
 * overloaded (a full admission queue: "too many queries") is ours too: Thanos' query gate queues
 * without a bound. It answers what Prometheus' API answers for errorUnavailable, 503 "unavailable",
 * the status clients and proxies retry with a back-off; over gRPC Unavailable, for the same reason.
 */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorStatus>> = {
  bad_data: { grpc: GrpcStatus.InvalidArgument, http: 400, errorType: "bad_data" },
  execution: { grpc: GrpcStatus.Unknown, http: 422, errorType: "execution" },
  resource_exhausted: { grpc: GrpcStatus.ResourceExhausted, http: 422, errorType: "execution" },
  corrupt: { grpc: GrpcStatus.DataLoss, http: 422, errorType: "execution" },
  unavailable: { grpc: GrpcStatus.Unavailable, http: 422, errorType: "execution" },
  overloaded: { grpc: GrpcStatus.Unavailable, http: 503, errorType: "unavailable" },
  timeout: { grpc: GrpcStatus.DeadlineExceeded, http: 503, errorType: "timeout" },
  canceled: { grpc: GrpcStatus.Canceled, http: 503, errorType: "canceled" },
  not_found: { grpc: GrpcStatus.NotFound, http: 404, errorType: "not_found" },
  unauthenticated: { grpc: GrpcStatus.Unauthenticated, http: 401, errorType: "unauthorized" },
  internal: { grpc: GrpcStatus.Internal, http: 500, errorType: "internal" },
};

/** The statuses of an error (any thrown value): by its code, `internal` when it has none. */
export function errorStatus(e: unknown): ErrorStatus {
  return ERROR_TABLE[errorCode(e) ?? "internal"];
}

/** A gRPC status from a peer as our code (the table read backwards, plus the statuses it does not use). */
export function codeFromGrpcStatus(status: number): ErrorCode {
  switch (status) {
    case GrpcStatus.InvalidArgument: case GrpcStatus.OutOfRange: case GrpcStatus.FailedPrecondition: case GrpcStatus.AlreadyExists: return "bad_data";
    case GrpcStatus.NotFound: return "not_found";
    case GrpcStatus.DeadlineExceeded: return "timeout";
    case GrpcStatus.Canceled: return "canceled";
    case GrpcStatus.ResourceExhausted: return "resource_exhausted";
    // Aborted: what Thanos' store gateway answers when it cannot read its blocks.
    case GrpcStatus.Unavailable: case GrpcStatus.Aborted: return "unavailable";
    case GrpcStatus.Unauthenticated: case GrpcStatus.PermissionDenied: return "unauthenticated";
    case GrpcStatus.DataLoss: return "corrupt";
    default: return "internal"; // Unknown, Internal, Unimplemented
  }
}

/**
 * An HTTP answer from a dependency (Prometheus' APIs, remote read) as our code: the caller's mistake
 * stays bad_data; an overloaded or failing dependency is unavailable; anything else it refused is
 * execution. (The dependency's own timeout or cancel is not ours: unavailable, not timeout/canceled.)
 */
export function codeFromDependencyHttp(status: number, errorType?: string): ErrorCode {
  if (errorType === "bad_data" || status === 400) return "bad_data";
  if (status >= 500 || status === 429) return "unavailable";
  return "execution";
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
