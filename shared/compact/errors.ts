// The compactor's three kinds of errors (Thanos pkg/compact/compact.go HaltError, RetryError, plain):
//
// - halt: something is wrong with the data (overlapping blocks without vertical compaction, a corrupt
//   input index, a compaction that failed). With --debug.halt-on-error (the default) a --wait compactor
//   stops working but stays up, thanos_compact_halted = 1, the reason logged at error level, so a human
//   looks before anything is made worse; without it the process exits.
// - retry: the bucket or the network failed (downloads, uploads, syncs, marks): the next iteration tries
//   again, thanos_compact_retries_total counts it.
// - anything else ends the process.
//
// Errors are recognised by a field, not instanceof (STYLE: bundles may hold two copies of a module).

import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";

export type CompactErrorKind = "halt" | "retry";

export interface CompactError extends Error { compactKind: CompactErrorKind }

function kindOf(e: unknown): CompactErrorKind | undefined {
  const k = (e as { compactKind?: unknown } | null)?.compactKind;
  return k === "halt" || k === "retry" ? k : undefined;
}

/** A halt error: `msg` says what was being done; the cause's message is appended. */
export function haltError(msg: string, cause?: unknown): CompactError {
  const e = new CodedError(errorCode(cause) ?? "internal", cause === undefined ? msg : `${msg}: ${errorMessage(cause)}`, { cause }) as unknown as CompactError;
  e.compactKind = "halt";
  return e;
}

/** A retry error, unless the cause is already a halt (Thanos' retry() keeps halts). */
export function retryError(msg: string, cause?: unknown): CompactError {
  if (kindOf(cause) === "halt") return wrap(msg, cause, "halt");
  return wrap(msg, cause, "retry");
}

/** Prefix an error's message with what was being done, keeping its kind. */
export function wrapError(msg: string, cause: unknown): Error {
  const k = kindOf(cause);
  if (k) return wrap(msg, cause, k);
  return new CodedError(errorCode(cause) ?? "internal", `${msg}: ${errorMessage(cause)}`, { cause });
}

function wrap(msg: string, cause: unknown, kind: CompactErrorKind): CompactError {
  const e = new CodedError(errorCode(cause) ?? "internal", cause === undefined ? msg : `${msg}: ${errorMessage(cause)}`, { cause }) as unknown as CompactError;
  e.compactKind = kind;
  return e;
}

export function isHaltError(e: unknown): boolean { return kindOf(e) === "halt"; }

/**
 * Retry errors, and bucket failures that were never classified (a transient "unavailable" or "timeout"
 * from the bucket): the next iteration may well succeed.
 */
export function isRetryError(e: unknown): boolean {
  const k = kindOf(e);
  if (k) return k === "retry";
  const c = errorCode(e);
  return c === "unavailable" || c === "timeout";
}

/** Several group errors as one: a halt if any is, a retry if all are (Thanos' multi-error rules). */
export function combineErrors(errs: Error[]): Error {
  if (errs.length === 1) return errs[0]!;
  const msg = `${errs.length} errors: ${errs.map((e) => e.message).join("; ")}`;
  if (errs.some(isHaltError)) return wrap(msg, undefined, "halt");
  if (errs.every(isRetryError)) return wrap(msg, undefined, "retry");
  return new CodedError("internal", msg);
}
