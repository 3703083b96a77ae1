// Snappy block format (Prometheus remote read/write bodies) with coded errors and a size limit.
import { compress, uncompress } from "snappyjs";
import { CodedError, errorMessage } from "../encoding/errors.ts";

export function snappyEncode(b: Uint8Array): Uint8Array {
  return compress(b);
}

/**
 * Decompress a snappy block. The uncompressed length is declared up front in the stream, so it is
 * checked against `maxBytes` before anything is allocated.
 */
export function snappyDecode(b: Uint8Array, maxBytes: number, what: string): Uint8Array {
  let declared: number;
  try {
    declared = snappyLength(b);
  } catch (e) {
    throw new CodedError("corrupt", `${what}: snappy block: ${errorMessage(e)}`);
  }
  if (declared > maxBytes) {
    throw new CodedError("resource_exhausted",
      `${what}: snappy block declares ${declared} uncompressed bytes, over the limit of ${maxBytes}`);
  }
  try {
    return uncompress(b, maxBytes);
  } catch (e) {
    throw new CodedError("corrupt", `${what}: snappy block of ${b.length} bytes: ${errorMessage(e)}`);
  }
}

/** The uncompressed length a snappy block declares: a uvarint of at most 5 bytes (32 bits). */
function snappyLength(b: Uint8Array): number {
  let v = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= b.length) throw new Error(`truncated length header at offset ${i}`);
    const c = b[i]!;
    v += (c & 0x7f) * 2 ** (7 * i);
    if (c < 0x80) {
      if (v > 0xffffffff) throw new Error("length header exceeds 32 bits at offset 0");
      return v;
    }
  }
  throw new Error("length header longer than 5 bytes at offset 0");
}
