// Our error codes <-> gRPC status codes (the numbers are the gRPC wire standard, shared by Connect
// and gRPC-Web), in one place for servers and clients.
import { CodedError, type ErrorCode } from "../encoding/errors.ts";

export const GrpcStatus = {
  OK: 0, Canceled: 1, Unknown: 2, InvalidArgument: 3, DeadlineExceeded: 4, NotFound: 5,
  AlreadyExists: 6, PermissionDenied: 7, ResourceExhausted: 8, FailedPrecondition: 9, Aborted: 10,
  OutOfRange: 11, Unimplemented: 12, Internal: 13, Unavailable: 14, DataLoss: 15, Unauthenticated: 16,
} as const;

export function codeToGrpcStatus(code: ErrorCode | undefined): number {
  switch (code) {
    case "bad_data": return GrpcStatus.InvalidArgument;
    case "not_found": return GrpcStatus.NotFound;
    case "timeout": return GrpcStatus.DeadlineExceeded;
    case "canceled": return GrpcStatus.Canceled;
    case "resource_exhausted": return GrpcStatus.ResourceExhausted;
    case "unavailable": return GrpcStatus.Unavailable;
    case "unauthenticated": return GrpcStatus.Unauthenticated;
    case "corrupt": return GrpcStatus.DataLoss;
    default: return GrpcStatus.Internal; // execution, internal, unknown
  }
}

export function grpcStatusToCode(status: number): ErrorCode {
  switch (status) {
    case GrpcStatus.InvalidArgument: case GrpcStatus.OutOfRange: case GrpcStatus.FailedPrecondition: return "bad_data";
    case GrpcStatus.NotFound: return "not_found";
    case GrpcStatus.DeadlineExceeded: return "timeout";
    case GrpcStatus.Canceled: return "canceled";
    case GrpcStatus.ResourceExhausted: return "resource_exhausted";
    case GrpcStatus.Unavailable: return "unavailable";
    case GrpcStatus.Unauthenticated: case GrpcStatus.PermissionDenied: return "unauthenticated";
    case GrpcStatus.DataLoss: return "corrupt";
    default: return "internal";
  }
}

/** A client-side RPC failure as a CodedError naming the peer and method. */
export function rpcError(status: number, message: string, peer: string, method: string, cause?: unknown): CodedError {
  return new CodedError(grpcStatusToCode(status), `${method} on ${peer}: ${message}`, { cause });
}
