// Millisecond timestamps between the engine (JS numbers) and the wire (int64 as bigint, because
// protobuf-es 2.x ignores [jstype = JS_NUMBER]; see proto/prometheus/types.proto).
//
// Go peers use math.MinInt64 / math.MaxInt64 as "no bound" (e.g. a store with no data, or a query
// over all time). As numbers those become -2^63 / 2^63 (the latter is out of int64 range), so going
// back to the wire is clamped rather than thrown.

export const MIN_INT64 = -(1n << 63n);
export const MAX_INT64 = (1n << 63n) - 1n;

/** A wire int64 (ms) as a number; exact below 2^53, the nearest double beyond (only for bounds). */
export function msFromProto(v: bigint): number {
  return Number(v);
}

/** A ms number as a wire int64: truncated toward zero, NaN as 0, ±Infinity and overflow clamped. */
export function msToProto(v: number): bigint {
  if (Number.isNaN(v)) return 0n;
  if (v >= 9223372036854775807) return MAX_INT64; // the double nearest MaxInt64 is 2^63
  if (v <= -9223372036854775808) return MIN_INT64;
  return BigInt(Math.trunc(v));
}
