// Random-access bytes: a local file, an object in a bucket, or memory. Block readers only ever ask for
// ranges, so the same reader serves a disk (positional reads) and R2/S3 (ranged GETs).

import { CodedError } from "../encoding/errors.ts";

export interface ByteSource {
  /** For error messages, e.g. "01H…/index". */
  readonly name: string;
  size(): Promise<number>;
  /** Exactly `length` bytes at `offset`; a short read is an error ("corrupt", naming the range). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function memorySource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: async () => bytes.length,
    read: async (offset, length) => {
      if (offset < 0 || length < 0 || offset + length > bytes.length) {
        throw new CodedError("corrupt", `${name}: read of ${length} bytes at offset ${offset} is past the end (size ${bytes.length})`);
      }
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** Counts reads and bytes (benchmarks, tests asserting that open() is lazy). */
export class CountingSource implements ByteSource {
  reads = 0;
  bytes = 0;
  constructor(readonly inner: ByteSource) {}
  get name(): string { return this.inner.name; }
  size(): Promise<number> { return this.inner.size(); }
  read(offset: number, length: number): Promise<Uint8Array> {
    this.reads++;
    this.bytes += length;
    return this.inner.read(offset, length);
  }
}
