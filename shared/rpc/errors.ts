// Errors crossing the RPC boundary, both ways, through the one table of shared/encoding/errors.ts.
import { CodedError, codeFromGrpcStatus, errorCode, ERROR_TABLE, type ErrorCode, GrpcStatus } from "../encoding/errors.ts";

/** The gRPC status a server answers for an error code (no code: Internal). */
export function codeToGrpcStatus(code: ErrorCode | undefined): number {
  return ERROR_TABLE[code ?? "internal"].grpc;
}

/** The gRPC status for any thrown value. */
export function grpcStatusOf(e: unknown): number {
  return codeToGrpcStatus(errorCode(e));
}

/** A client-side RPC failure as a CodedError naming the peer and method. */
export function rpcError(status: number, message: string, peer: string, method: string, cause?: unknown): CodedError {
  return new CodedError(codeFromGrpcStatus(status), `${method} on ${peer}: ${message}`, { cause });
}

// The Connect protocol names statuses in snake_case ("invalid_argument"): the gRPC names, reworded.
const CONNECT_NAMES = new Map<number, string>(
  Object.entries(GrpcStatus).map(([k, v]) => [v, k.replace(/[A-Z]/g, (c, i) => (i ? "_" : "") + c.toLowerCase())]),
);
const FROM_CONNECT_NAME = new Map([...CONNECT_NAMES].map(([v, k]) => [k, v]));

/** A gRPC status as the Connect protocol's error code string. */
export function connectCodeName(status: number): string {
  return CONNECT_NAMES.get(status) ?? "unknown";
}

/** A Connect error code string from a peer as our code (unknown names: internal). */
export function codeFromConnectName(name: string): ErrorCode {
  return codeFromGrpcStatus(FROM_CONNECT_NAME.get(name) ?? GrpcStatus.Unknown);
}
