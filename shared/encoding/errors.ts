// Errors recognised by code, not instanceof (a bundle may hold two copies of this module).
// Codes map to HTTP and RPC statuses in one place (see codeToHttp / codeToRpc).

export type ErrorCode =
  | "corrupt" // bytes that do not decode: CRC mismatch, truncation, bad varint, unknown encoding
  | "not_found" // object, block or file missing
  | "bad_data" // invalid user input (query, matcher, flag, config)
  | "execution" // query could not be evaluated
  | "timeout"
  | "canceled"
  | "resource_exhausted" // a limit was hit
  | "unavailable" // a dependency (store, Prometheus, bucket) did not answer
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
  "resource_exhausted", "unavailable", "unauthenticated", "internal",
]);

/** HTTP status as Prometheus' API uses them (400 bad_data, 422 execution, 503 timeout). */
export function codeToHttp(code: ErrorCode | undefined): number {
  switch (code) {
    case "bad_data": return 400;
    case "unauthenticated": return 401;
    case "not_found": return 404;
    case "execution": case "resource_exhausted": case "corrupt": return 422;
    case "timeout": case "unavailable": return 503;
    case "canceled": return 499;
    default: return 500;
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
