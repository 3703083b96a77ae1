// Byte sources: what block readers read through, so one reader serves a file in memory, a local file,
// or ranged GETs on a bucket object (shared/objstore/source.ts).
//
// Contract: `read(offset, length)` returns exactly `length` bytes. A range that does not lie inside the
// source is a CodedError "corrupt" naming the source and the range: offsets come from the data being
// decoded, so an out-of-range read means that data is damaged, and it must not be silently short.

import { CodedError } from "../encoding/errors.ts";

export interface ByteSource {
  readonly name: string;
  size(): Promise<number>;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function checkSourceRange(name: string, offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new CodedError("corrupt", `read ${name}: range [${offset}, ${offset + length}) is outside the object (size ${size})`);
  }
}

/** A source over bytes already in memory; reads are views, not copies. */
export function memorySource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: async () => bytes.length,
    read: async (offset, length) => {
      checkSourceRange(name, offset, length, bytes.length);
      return bytes.subarray(offset, offset + length);
    },
  };
}
